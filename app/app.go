// Package app wires Standing together: it opens the store, loads the policy, builds the
// check cache, the job runner and the HTTP surface, and serves until its context ends.
// cmd/standing and the end-to-end tests both start Standing through it.
package app

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"standing"
	"standing/appeals"
	"standing/auth"
	"standing/blob"
	"standing/checker"
	"standing/config"
	"standing/erasure"
	"standing/httpapi"
	"standing/jobs"
	"standing/metrics"
	"standing/rules"
	"standing/sqlstore"
	"standing/web"
)

// App is a running Standing.
type App struct {
	Config   *config.Config
	Log      *slog.Logger
	Store    *sqlstore.Store
	Clock    standing.Clock
	DevClock *standing.OffsetClock // dev mode only
	Checker  *checker.Cache
	Runner   *jobs.Runner
	API      *httpapi.Server
	Metrics  *metrics.Registry
	Auth     *auth.Service
	Appeals  *appeals.Service
	Erasure  *erasure.Service
	Blobs    blob.Store

	policy    atomic.Pointer[standing.Policy]
	identity  *rules.IdentityHasher // set by wireIdentity; wireRisk uses it too
	pages     *web.Server
	sellers   web.SellerSource // set by wireSellers
	mailRoots *x509.CertPool
	getenv    func(string) string
}

// Options adjust how New builds the app; tests use them.
type Options struct {
	// Clock replaces the system clock (tests pass a test clock).
	Clock standing.Clock
	// MailRoots are extra CAs trusted by the SMTP sender (tests start their own server).
	MailRoots *x509.CertPool
	// Getenv reads the environment for settings a URL leaves out (S3 credentials).
	Getenv func(string) string
}

// New builds Standing from cfg: it loads the policy, opens and migrates the store, and
// wires every component. Close releases it.
func New(ctx context.Context, cfg *config.Config, log *slog.Logger, opts Options) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	a := &App{Config: cfg, Log: log, Metrics: metrics.New(), mailRoots: opts.MailRoots, getenv: opts.Getenv}
	if a.getenv == nil {
		a.getenv = func(string) string { return "" }
	}
	p, err := config.LoadPolicy(cfg.PolicyFile)
	if err != nil {
		return nil, err
	}
	a.policy.Store(p)
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("create the data folder: %w", err)
	}
	a.Clock = opts.Clock
	if a.Clock == nil {
		a.Clock = standing.SystemClock{}
	}
	if cfg.Dev {
		offset := readDevOffset(cfg.DataDir)
		if oc, ok := a.Clock.(*standing.OffsetClock); ok {
			a.DevClock = oc
		} else {
			a.DevClock = standing.NewOffsetClock(a.Clock, offset)
			a.Clock = a.DevClock
		}
	}
	a.Store, err = sqlstore.Open(ctx, cfg.StoreDSN(), sqlstore.Options{Clock: a.Clock, Policy: a.Policy, SendMail: cfg.SMTPURL != "", BaseURL: cfg.BaseURL, Log: log})
	if err != nil {
		return nil, err
	}
	applied, err := a.Store.Migrate(ctx)
	if err != nil {
		a.Store.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	if len(applied) > 0 {
		log.Info("migrated the database", "applied", strings.Join(applied, ", "))
	}
	a.Checker = checker.New(a.Store, a.Clock, 0)
	a.Store.OnChange(a.Checker.Invalidate)
	a.Runner = jobs.NewRunner(a.Store, a.Clock, log)
	a.Store.OnCommit(a.Runner.Wake)
	a.Runner.Every("expire restrictions", func(ctx context.Context, now time.Time) error {
		_, err := a.Store.ExpireRestrictions(ctx, now)
		return err
	})
	extra, err := a.wireAreas()
	if err == nil {
		err = a.wirePages()
	}
	if err != nil {
		a.Store.Close()
		return nil, err
	}
	a.API = httpapi.New(httpapi.Deps{
		Accounts: a.Store, AccountWriter: a.Store, Restrictions: a.Store, Enforcer: a.Store, Audit: a.Store,
		Keys: a.Store, Checker: a.Checker, Clock: a.Clock, Policy: a.Policy, Ready: a.Store.Ping,
		Metrics: a.Metrics, Log: log, DevClock: a.DevClock,
	}, extra...)
	pages := a.pages.Handler() // one page mux behind every page pattern
	for _, pattern := range a.pages.Patterns() {
		a.API.Handle(pattern, pages)
	}
	a.registerMetrics()
	return a, nil
}

// wirePages builds the pages people and reviewers use.
func (a *App) wirePages() error {
	standingOf := func(ctx context.Context, id string) (*standing.Standing, error) { return a.Checker.Standing(ctx, id) }
	pages, err := web.New(web.Deps{Auth: a.Auth, Appeals: a.Appeals, Erasure: a.Erasure, Accounts: a.Store, Restrictions: a.Store, Audit: a.Store,
		Standing: standingOf, Mails: a.Store, Sellers: a.sellers, Orders: a.Store, Explain: a.explainRule, Clock: a.Clock, Policy: a.Policy, Log: a.Log, Dev: a.Config.Dev,
		SecureCookies: strings.HasPrefix(a.Config.BaseURL, "https://")})
	if err != nil {
		return err
	}
	a.pages = pages
	return nil
}

// Policy returns the policy in effect.
func (a *App) Policy() *standing.Policy { return a.policy.Load() }

// ReloadPolicy reads the policy file again; on error the old policy stays.
func (a *App) ReloadPolicy() error {
	p, err := config.LoadPolicy(a.Config.PolicyFile)
	if err != nil {
		return err
	}
	a.policy.Store(p)
	return nil
}

func (a *App) registerMetrics() {
	a.Metrics.Gauge("standing_jobs", "Durable jobs by state.", "state", func() map[string]float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		counts, err := a.Store.JobCounts(ctx)
		if err != nil {
			return nil
		}
		out := map[string]float64{}
		for k, v := range counts {
			out[k] = float64(v)
		}
		return out
	})
	a.Metrics.Gauge("standing_check_cache_accounts", "Accounts whose standing is held in memory.", "", func() map[string]float64 {
		return map[string]float64{"": float64(a.Checker.Len())}
	})
}

// Handler returns the whole HTTP surface.
func (a *App) Handler() http.Handler { return a.API }

// Serve serves HTTP on ln and runs background jobs until ctx ends, then shuts down
// gracefully.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           a.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn),
	}
	runCtx, stopJobs := context.WithCancel(ctx)
	if a.DevClock != nil {
		// Keep the dev clock's offset on disk as soon as it moves, so deadlines that
		// passed stay passed even if the process is killed.
		go func() {
			for {
				select {
				case <-runCtx.Done():
					return
				case <-a.DevClock.Changed():
					writeDevOffset(a.Config.DataDir, a.DevClock.Offset())
				}
			}
		}()
	}
	// With several processes on one PostgreSQL database, each drops the accounts the others
	// change from its check cache.
	listening := make(chan struct{})
	go a.Store.ListenChanges(runCtx, a.Checker.Invalidate, a.Checker.Reset, listening)
	go func() {
		select {
		case <-listening:
		case <-runCtx.Done():
			return
		}
		start := time.Now()
		n, err := a.Checker.Warm(runCtx, a.Store)
		if err != nil && runCtx.Err() == nil {
			a.Log.Warn("warming the check cache stopped; accounts load on first use", "err", err)
			return
		}
		a.Log.Info("check cache warmed", "accounts", n, "took", time.Since(start).Round(time.Millisecond))
	}()
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.Runner.Run(runCtx)
	}()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdownCtx)
	stopJobs()
	<-done
	if a.DevClock != nil {
		writeDevOffset(a.Config.DataDir, a.DevClock.Offset())
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// Close releases the store.
func (a *App) Close() error { return a.Store.Close() }

// The dev clock's offset is kept in the data folder so deadlines that passed stay passed
// across restarts of a dev server.
func devOffsetPath(dataDir string) string { return filepath.Join(dataDir, "dev-clock-offset") }

func readDevOffset(dataDir string) time.Duration {
	b, err := os.ReadFile(devOffsetPath(dataDir))
	if err != nil {
		return 0
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return time.Duration(n)
}

func writeDevOffset(dataDir string, d time.Duration) {
	_ = os.WriteFile(devOffsetPath(dataDir), []byte(strconv.FormatInt(int64(d), 10)), 0o640)
}

// flagError names the flag whose value a component refused, as config.Validate does:
// "--blob-url: The S3 bucket name … is not valid". Errors that are not about the value
// pass unchanged.
func flagError(flag string, err error) error {
	var e *standing.Error
	if errors.As(err, &e) && e.Code == standing.EINVALID {
		return fmt.Errorf("%s: %s", flag, e.Message)
	}
	return err
}
