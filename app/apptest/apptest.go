// Package apptest starts a whole Standing for tests: the real store (SQLite in a temporary
// folder, or a fresh PostgreSQL schema), the real router on an httptest server, a test
// clock the test moves, and an API key with every scope.
package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"standing"
	"standing/app"
	"standing/config"
	"standing/httpapi"
	"standing/standingtest"
)

// Env is a running Standing under test.
type Env struct {
	T      testing.TB
	App    *app.App
	Server *httptest.Server
	URL    string
	Clock  *standing.OffsetClock
	Key    string // an API key with every scope
}

// Options choose the backend and configuration.
type Options struct {
	Postgres bool
	// Configure adjusts the configuration before the app starts.
	Configure func(c *config.Config)
}

// New starts Standing for the test and stops it when the test ends. Log output goes to
// the test log at warn level and above (STANDING_TEST_LOG=debug shows everything).
func New(t testing.TB, o Options) *Env {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	cfg := &config.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), LogLevel: "warn", Dev: true,
		BaseURL: "http://" + srv.Listener.Addr().String()}
	if o.Postgres {
		cfg.DatabaseURL = standingtest.PostgresURL(t)
	}
	if o.Configure != nil {
		o.Configure(cfg)
	}
	clock := standing.NewTestClock(standingtest.Start)
	level := slog.LevelWarn
	if os.Getenv("STANDING_TEST_LOG") == "debug" {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: level}))
	a, err := app.New(context.Background(), cfg, log, app.Options{Clock: clock})
	if err != nil {
		t.Fatalf("start standing: %v", err)
	}
	srv.Config.Handler = a.Handler()
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		a.Close()
	})
	e := &Env{T: t, App: a, Server: srv, URL: srv.URL, Clock: clock}
	e.Key = e.NewKey("test", standing.ScopeAll)
	return e
}

// NewKey creates an API key with the scopes and returns its secret.
func (e *Env) NewKey(name string, scopes ...string) string {
	e.T.Helper()
	k, secret, err := httpapi.NewKey(name, scopes, e.Clock.Now())
	if err != nil {
		e.T.Fatal(err)
	}
	if err := e.App.Store.CreateAPIKey(context.Background(), k, httpapi.HashKey(secret)); err != nil {
		e.T.Fatal(err)
	}
	return secret
}

// RunJobs runs every background job and sweep due at the test clock's now.
func (e *Env) RunJobs() int {
	e.T.Helper()
	n, err := e.App.Runner.RunDue(context.Background())
	if err != nil {
		e.T.Fatalf("run jobs: %v", err)
	}
	return n
}

// Advance moves the clock and runs what became due.
func (e *Env) Advance(d string) {
	e.T.Helper()
	v, err := standing.ParseDuration(d)
	if err != nil {
		e.T.Fatal(err)
	}
	if err := e.Clock.Advance(v.D()); err != nil {
		e.T.Fatal(err)
	}
	e.RunJobs()
}

// Response is an API answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a generic map.
func (r Response) JSON() map[string]any {
	var m map[string]any
	_ = json.Unmarshal(r.Body, &m)
	return m
}

// Decode decodes the body into v.
func (r Response) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// Do sends a request with the given key ("" for none). body may be a string, []byte or a
// value marshalled to JSON.
func (e *Env) Do(method, path, key string, body any) Response {
	e.T.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.T.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.URL+path, rd)
	if err != nil {
		e.T.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := e.Server.Client().Do(req)
	if err != nil {
		e.T.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// API sends a request with the all-scopes key.
func (e *Env) API(method, path string, body any) Response {
	e.T.Helper()
	return e.Do(method, path, e.Key, body)
}

// MustAPI sends a request with the all-scopes key and fails the test unless the status
// is want; it returns the decoded body.
func (e *Env) MustAPI(method, path string, body any, want int) map[string]any {
	e.T.Helper()
	r := e.API(method, path, body)
	if r.Status != want {
		e.T.Fatalf("%s %s = %d %s, want %d", method, path, r.Status, r.Body, want)
	}
	return r.JSON()
}

// CreateAccount creates an active account through the API and returns its id.
func (e *Env) CreateAccount(role, email string) string {
	e.T.Helper()
	m := e.MustAPI("POST", "/v1/accounts", map[string]any{"role": role, "email": email, "lifecycle": "active"}, http.StatusCreated)
	return m["id"].(string)
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}
