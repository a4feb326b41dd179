package sqlstore

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"standing"
	"standing/standingtest"
)

// refuseFirst listens on a local port and forwards connections to target, except the
// first, which it closes at once: a database that does not answer the first time.
func refuseFirst(t *testing.T, target string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	go func() {
		for n := 0; ; n++ {
			c, err := l.Accept()
			if err != nil {
				return
			}
			if n == 0 {
				c.Close()
				continue
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, up)
			mu.Unlock()
			go func() { io.Copy(up, c); up.Close() }()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()
	return l.Addr().String()
}

// syncBuffer is a bytes.Buffer for a logger written from another goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestListenChangesAfterAFailedFirstConnection: when the first connection fails, ready
// is closed by the attempt that listens, the failure is logged, and changes arrive.
func TestListenChangesAfterAFailedFirstConnection(t *testing.T) {
	dsn := standingtest.PostgresURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var logged syncBuffer
	s, err := Open(ctx, dsn, Options{Clock: standing.NewTestClock(standingtest.Start), Log: slog.New(slog.NewTextHandler(&logged, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = refuseFirst(t, u.Host)
	s.dsn, s.listenRetry = u.String(), 0

	ready := make(chan struct{})
	changes := make(chan []string, 10)
	lost := make(chan struct{}, 10)
	listenCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.ListenChanges(listenCtx, func(ids []string) { changes <- ids }, func() { lost <- struct{}{} }, ready)
	}()
	defer func() { stop(); <-done }()
	select {
	case <-ready:
	case <-ctx.Done():
		t.Fatal("ready was never closed after the first connection failed")
	}
	if len(lost) != 1 {
		t.Errorf("lost called %d times, want once", len(lost))
	}
	if !strings.Contains(logged.String(), "listening for other processes' changes failed") {
		t.Errorf("the failed connection was not logged: %q", logged.String())
	}
	res, err := s.CreateAccounts(ctx, []standing.NewAccount{{Role: standing.RoleBuyer, Email: "listen@example.com", Lifecycle: standing.LifecycleActive}}, "test")
	if err != nil || res[0].Err != nil {
		t.Fatal(err, res)
	}
	select {
	case ids := <-changes:
		if len(ids) != 1 || ids[0] != res[0].Account.ID {
			t.Fatalf("changed %v, want %s", ids, res[0].Account.ID)
		}
	case <-ctx.Done():
		t.Fatal("no change notification after listening")
	}
}
