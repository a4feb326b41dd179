// Package bench holds Standing's load commands: they start a real Standing on loopback,
// fill it through its API, drive it with concurrent keep-alive clients and print
// throughput and latency percentiles. Figures are for comparison on one machine in one
// run; nothing here asserts a time.
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"standing"
	"standing/app"
	"standing/config"
	"standing/httpapi"
)

// Server is a Standing started for a benchmark, with an all-scopes API key.
type Server struct {
	App    *app.App
	URL    string
	Key    string
	Client *http.Client
	stop   func()
	dir    string
}

// StartServer starts Standing on a loopback port with SQLite in a temporary folder (or on
// databaseURL) and quiet logs.
func StartServer(ctx context.Context, databaseURL string, clients int) (*Server, error) {
	dir, err := os.MkdirTemp("", "standing-bench-")
	if err != nil {
		return nil, err
	}
	cfg := &config.Config{Addr: "127.0.0.1:0", DataDir: dir, DatabaseURL: databaseURL, LogLevel: "error"}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	// A clock the benchmarks can move (the erasure bench jumps past the grace period).
	a, err := app.New(ctx, cfg, log, app.Options{Clock: standing.NewOffsetClock(standing.SystemClock{}, 0)})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		a.Close()
		os.RemoveAll(dir)
		return nil, err
	}
	k, secret, _ := httpapi.NewKey("bench", []string{standing.ScopeAll}, a.Clock.Now())
	if err := a.Store.CreateAPIKey(ctx, k, httpapi.HashKey(secret)); err != nil {
		a.Close()
		return nil, err
	}
	sctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = a.Serve(sctx, ln) }()
	tr := &http.Transport{MaxIdleConns: clients * 2, MaxIdleConnsPerHost: clients * 2, IdleConnTimeout: time.Minute}
	s := &Server{App: a, URL: "http://" + ln.Addr().String(), Key: secret, Client: &http.Client{Transport: tr, Timeout: 30 * time.Second}, dir: dir}
	s.stop = func() { cancel(); <-done; a.Close(); os.RemoveAll(dir) }
	return s, nil
}

// Close stops the server and removes its folder.
func (s *Server) Close() { s.stop() }

// Post sends a JSON body with the API key and decodes a 2xx answer into out.
func (s *Server) Post(ctx context.Context, path string, body []byte, out any) error {
	return s.Send(ctx, "POST", path, body, out)
}

// Send sends a JSON body with the API key and decodes a 2xx answer into out.
func (s *Server) Send(ctx context.Context, method, path string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, s.URL+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+s.Key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// ImportAccounts creates n accounts through POST /v1/accounts in batches of 1,000, every
// third one carrying a risk_review restriction, and returns their ids and the time taken.
func (s *Server) ImportAccounts(ctx context.Context, n int, tag string) ([]string, time.Duration, error) {
	ids := make([]string, 0, n)
	start := time.Now()
	for i := 0; i < n; i += standing.MaxBatch {
		var batch []standing.NewAccount
		for j := i; j < n && j < i+standing.MaxBatch; j++ {
			na := standing.NewAccount{Role: standing.RoleBuyer, Email: fmt.Sprintf("%s-%d@bench.example", tag, j), Lifecycle: standing.LifecycleActive, Country: "DE"}
			if j%3 == 0 {
				na.Restrictions = []standing.NewRestriction{{ReasonCode: standing.ReasonRiskReview, Source: standing.SourceRule}}
			}
			batch = append(batch, na)
		}
		body, _ := json.Marshal(map[string]any{"accounts": batch})
		var out struct {
			Failed  int `json:"failed"`
			Results []struct {
				Account *struct {
					ID string `json:"id"`
				} `json:"account"`
				Error any `json:"error"`
			} `json:"results"`
		}
		if err := s.Post(ctx, "/v1/accounts", body, &out); err != nil {
			return ids, 0, err
		}
		if out.Failed > 0 {
			return ids, 0, fmt.Errorf("import: %d accounts failed, first: %v", out.Failed, out.Results[0].Error)
		}
		for _, r := range out.Results {
			ids = append(ids, r.Account.ID)
		}
	}
	return ids, time.Since(start), nil
}

// Latencies collects request durations and reports percentiles.
type Latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

// Add merges a client's durations.
func (l *Latencies) Add(d []time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d...)
	l.mu.Unlock()
}

// Percentile returns the p-th percentile (0–100).
func (l *Latencies) Percentile(p float64) time.Duration {
	if len(l.d) == 0 {
		return 0
	}
	if !slices.IsSorted(l.d) {
		slices.Sort(l.d)
	}
	i := int(float64(len(l.d)-1) * p / 100)
	return l.d[i]
}

// Count returns the number of requests measured.
func (l *Latencies) Count() int { return len(l.d) }

// errDone stops a Drive client early.
var errDone = fmt.Errorf("done")

// Drive runs fn from clients goroutines for d (or until fn returns errDone) and returns the latencies and error count.
// fn gets a per-goroutine random source and returns an error for a failed request.
func Drive(ctx context.Context, clients int, d time.Duration, fn func(ctx context.Context, rng *rand.Rand) error) (*Latencies, int, time.Duration) {
	lat := &Latencies{}
	var errs int
	var mu sync.Mutex
	var wg sync.WaitGroup
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	start := time.Now()
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, seed*7919))
			local := make([]time.Duration, 0, 1<<16)
			nerr := 0
			for ctx.Err() == nil {
				t0 := time.Now()
				err := fn(ctx, rng)
				if ctx.Err() != nil || err == errDone {
					break
				}
				if err != nil {
					nerr++
					continue
				}
				local = append(local, time.Since(t0))
			}
			lat.Add(local)
			mu.Lock()
			errs += nerr
			mu.Unlock()
		}(uint64(c + 1))
	}
	wg.Wait()
	return lat, errs, time.Since(start)
}

// CheckOptions configure the check benchmark.
type CheckOptions struct {
	Accounts    int
	Concurrency int
	Duration    time.Duration
	DatabaseURL string
	// Profile, when set, is called with true before the measured phase and false after.
	Profile func(start bool)
}

// Check imports accounts (a third restricted) and drives POST /v1/check with keep-alive
// clients, printing the import rate, checks per second and latency percentiles.
func Check(ctx context.Context, o CheckOptions, out io.Writer) error {
	if o.Accounts <= 0 {
		o.Accounts = 100000
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 32
	}
	if o.Duration <= 0 {
		o.Duration = 20 * time.Second
	}
	s, err := StartServer(ctx, o.DatabaseURL, o.Concurrency)
	if err != nil {
		return err
	}
	defer s.Close()
	fmt.Fprintf(out, "standing bench check: %d accounts, %d clients, %s, store %s\n", o.Accounts, o.Concurrency, o.Duration, s.App.Store.Dialect())
	ids, took, err := s.ImportAccounts(ctx, o.Accounts, "check")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "import:  %d accounts in %.2fs = %.0f accounts/s (batches of %d over HTTP)\n", len(ids), took.Seconds(), float64(len(ids))/took.Seconds(), standing.MaxBatch)
	bodies := make([][]byte, len(ids))
	caps := standing.CapabilityNames()
	for i, id := range ids {
		bodies[i] = []byte(`{"account_id":"` + id + `","capability":"` + caps[i%len(caps)] + `"}`)
	}
	addr := strings.TrimPrefix(s.URL, "http://")
	clients := make(chan *rawClient, o.Concurrency)
	for i := 0; i < o.Concurrency; i++ {
		clients <- newRawClient(addr, s.Key, "/v1/check")
	}
	check := func(ctx context.Context, rng *rand.Rand) error {
		c := <-clients
		defer func() { clients <- c }()
		status, err := c.post(bodies[rng.IntN(len(bodies))])
		if err != nil {
			return err
		}
		if status != http.StatusOK {
			return fmt.Errorf("status %d", status)
		}
		return nil
	}
	// Check every account once, as a restarted server's warm-up or a day of traffic would,
	// so the measured phase is the steady state: standing served from memory.
	var next atomic.Int64
	warmStart := time.Now()
	Drive(ctx, o.Concurrency, time.Hour, func(ctx context.Context, rng *rand.Rand) error {
		i := next.Add(1) - 1
		if i >= int64(len(bodies)) {
			return errDone
		}
		req, _ := http.NewRequestWithContext(ctx, "POST", s.URL+"/v1/check", bytes.NewReader(bodies[i]))
		req.Header.Set("Authorization", "Bearer "+s.Key)
		resp, err := s.Client.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return nil
	})
	fmt.Fprintf(out, "warm-up: checked each of the %d accounts once in %.1fs (first checks load standing from the store)\n", len(bodies), time.Since(warmStart).Seconds())
	if o.Profile != nil {
		o.Profile(true)
	}
	lat, errs, took := Drive(ctx, o.Concurrency, o.Duration, check)
	if o.Profile != nil {
		o.Profile(false)
	}
	fmt.Fprintf(out, "check:   %d requests in %.1fs = %.0f checks/s, %d errors\n", lat.Count(), took.Seconds(), float64(lat.Count())/took.Seconds(), errs)
	fmt.Fprintf(out, "latency: p50 %s  p99 %s  p99.9 %s  (client-side, loopback, keep-alive; load generator on the same machine)\n",
		round(lat.Percentile(50)), round(lat.Percentile(99)), round(lat.Percentile(99.9)))
	return nil
}

func round(d time.Duration) time.Duration {
	switch {
	case d > time.Millisecond:
		return d.Round(10 * time.Microsecond)
	case d > 10*time.Microsecond:
		return d.Round(time.Microsecond)
	}
	return d
}
