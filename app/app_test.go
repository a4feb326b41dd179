package app_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"standing"
	"standing/app"
	"standing/app/apptest"
	"standing/config"
	"standing/standingtest"
)

// smtpSink is a real SMTP server that keeps what it receives.
type smtpSink struct {
	mu   sync.Mutex
	msgs []*mail.Message
	body []string
}

func (s *smtpSink) NewSession(c *smtp.Conn) (smtp.Session, error) { return &sinkSession{sink: s}, nil }

type sinkSession struct{ sink *smtpSink }

func (s *sinkSession) Mail(from string, opts *smtp.MailOptions) error { return nil }
func (s *sinkSession) Rcpt(to string, opts *smtp.RcptOptions) error   { return nil }
func (s *sinkSession) Data(r io.Reader) error {
	m, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	b, _ := io.ReadAll(m.Body)
	s.sink.mu.Lock()
	s.sink.msgs = append(s.sink.msgs, m)
	s.sink.body = append(s.sink.body, decodeQP(string(b)))
	s.sink.mu.Unlock()
	return nil
}
func (s *sinkSession) Reset()        {}
func (s *sinkSession) Logout() error { return nil }

func decodeQP(s string) string {
	s = strings.ReplaceAll(s, "=\r\n", "")
	s = strings.ReplaceAll(s, "=3D", "=")
	return s
}

func (s *smtpSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.msgs)
}

// serve starts the SMTP server on addr ("127.0.0.1:0" for any port) and returns the
// address and a stop function.
func (s *smtpSink) serve(t *testing.T, addr string) (string, func()) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := smtp.NewServer(s)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	go srv.Serve(ln)
	return ln.Addr().String(), func() { srv.Close() }
}

// backends runs fn on SQLite and on PostgreSQL.
func backends(t *testing.T, fn func(t *testing.T, postgres bool)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, false) })
	t.Run("postgres", func(t *testing.T) { fn(t, true) })
}

func TestMailOverSMTPWithRetries(t *testing.T) { backends(t, testMailOverSMTPWithRetries) }

func testMailOverSMTPWithRetries(t *testing.T, postgres bool) {
	sink := &smtpSink{}
	addr, stop := sink.serve(t, "127.0.0.1:0")
	e := apptest.New(t, apptest.Options{Postgres: postgres, Configure: func(c *config.Config) {
		c.SMTPURL, c.SMTPTLS, c.Dev = "smtp://"+addr, "none", false
	}})
	e.MustAPI("POST", "/v1/signup", map[string]any{"email": "smtp@example.com", "password": "a good long phrase", "role": "buyer"}, http.StatusAccepted)
	e.RunJobs()
	if sink.count() != 1 {
		t.Fatalf("the SMTP server got %d messages, want 1", sink.count())
	}
	m, body := sink.msgs[0], sink.body[0]
	if to, _ := mail.ParseAddress(m.Header.Get("To")); to == nil || to.Address != "smtp@example.com" || !strings.Contains(m.Header.Get("Subject"), "Confirm") {
		t.Fatalf("headers = %v", m.Header)
	}
	link := regexp.MustCompile(`http://\S+/verify\?token=\S+`).FindString(body)
	if link == "" || !strings.HasPrefix(link, e.URL) {
		t.Fatalf("no link to this server in %q", body)
	}
	_, token, _ := strings.Cut(link, "token=")
	e.MustAPI("POST", "/v1/verify", map[string]any{"token": token}, http.StatusOK)
	stored, _ := e.App.Store.Mails(context.Background(), "smtp@example.com", 1)
	if stored[0].State != standing.MailSent || stored[0].SentAt == nil {
		t.Fatalf("stored mail = %+v", stored[0])
	}

	// The server goes down: the mail stays queued and is retried until it is back.
	stop()
	e.MustAPI("POST", "/v1/password-reset", map[string]any{"email": "smtp@example.com"}, http.StatusAccepted)
	e.RunJobs()
	queued, _ := e.App.Store.Mails(context.Background(), "smtp@example.com", 1)
	if queued[0].State != standing.MailQueued || queued[0].Attempts != 1 || queued[0].LastError == "" {
		t.Fatalf("mail while the server is down = %+v", queued[0])
	}
	e.Advance("1m")
	if queued, _ = e.App.Store.Mails(context.Background(), "smtp@example.com", 1); queued[0].Attempts != 2 {
		t.Fatalf("not retried: %+v", queued[0])
	}
	_, stop = sink.serve(t, addr)
	defer stop()
	e.Advance("2h")
	if sink.count() != 2 {
		t.Fatalf("after the server came back it has %d messages, want 2", sink.count())
	}
	if !strings.Contains(sink.body[1], "/reset?token=") {
		t.Fatalf("the retried mail = %q", sink.body[1])
	}
	if sent, _ := e.App.Store.Mails(context.Background(), "smtp@example.com", 1); sent[0].State != standing.MailSent {
		t.Fatalf("mail after delivery = %+v", sent[0])
	}
}

// TestDeadlineJobSurvivesRestart signs up, stops the app, starts a new one on the same
// data, and watches the deadline pass there.
func TestDeadlineJobSurvivesRestart(t *testing.T) { backends(t, testDeadlineJobSurvivesRestart) }

func testDeadlineJobSurvivesRestart(t *testing.T, postgres bool) {
	ctx := context.Background()
	dir := t.TempDir()
	dsn := ""
	if postgres {
		dsn = standingtest.PostgresURL(t)
	}
	clock := standing.NewTestClock(standingtest.Start)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := func() *config.Config {
		return &config.Config{Addr: "127.0.0.1:0", DataDir: dir, DatabaseURL: dsn, BaseURL: "http://standing.test"}
	}
	a1, err := app.New(ctx, cfg(), log, app.Options{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a1.Auth.SignUp(ctx, authInput("restart@example.com")); err != nil {
		t.Fatal(err)
	}
	acc, _ := a1.Store.AccountByEmail(ctx, "restart@example.com")
	a1.Close()

	a2, err := app.New(ctx, cfg(), log, app.Options{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer a2.Close()
	clock.Advance(72*time.Hour - time.Minute)
	if _, err := a2.Runner.RunDue(ctx); err != nil {
		t.Fatal(err)
	}
	if st, err := a2.Store.Standing(ctx, acc.ID); err != nil || len(st.Restrictions) != 0 {
		t.Fatalf("standing a minute before the deadline = %+v, %v", st, err)
	}
	clock.Advance(time.Minute)
	if _, err := a2.Runner.RunDue(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := a2.Store.Standing(ctx, acc.ID)
	if err != nil || len(st.Restrictions) != 1 || st.Restrictions[0].ReasonCode != standing.ReasonEmailUnverified {
		t.Fatalf("standing after the restart and the deadline = %+v, %v", st, err)
	}
}

// TestTwoProcessesShareOnePostgres: a restriction written by one process reaches the check
// cache of another process on the same PostgreSQL database.
func TestTwoProcessesShareOnePostgres(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dsn := standingtest.PostgresURL(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	open := func() *app.App {
		a, err := app.New(ctx, &config.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), DatabaseURL: dsn, BaseURL: "http://standing.test"}, log, app.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Close() })
		return a
	}
	one, two := open(), open()
	ready := make(chan struct{})
	go two.Store.ListenChanges(ctx, two.Checker.Invalidate, two.Checker.Reset, ready)
	<-ready
	res, err := one.Store.CreateAccounts(ctx, []standing.NewAccount{{Role: standing.RoleBuyer, Email: "shared@example.com", Lifecycle: standing.LifecycleActive}}, "test")
	if err != nil || res[0].Err != nil {
		t.Fatal(err, res)
	}
	id := res[0].Account.ID
	if d, err := two.Checker.Check(ctx, id, standing.CapPay); err != nil || !d.Allowed {
		t.Fatalf("before: %+v %v", d, err)
	}
	if _, err := one.Store.Restrict(ctx, id, standing.NewRestriction{ReasonCode: standing.ReasonRiskReview}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		d, err := two.Checker.Check(ctx, id, standing.CapPay)
		if err == nil && !d.Allowed {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the other process still allows pay: %+v %v", d, err)
		}
		time.Sleep(20 * time.Millisecond) // waiting for PostgreSQL to deliver the notification
	}
}
