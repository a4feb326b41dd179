package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"standing"
	"standing/appeals"
	"standing/blob"
	"standing/config"
	"standing/evidence"
	"standing/httpapi"
)

// wireAppeals wires evidence storage, appeals, the reviewer console's service, review
// deadlines and the statements export.
func (a *App) wireAppeals() ([]httpapi.Route, error) {
	secret, err := a.serverSecret()
	if err != nil {
		return nil, err
	}
	blobURL := a.Config.BlobURL
	if blobURL == "" {
		// A plain path: the data folder is often relative (./standing-data), which a
		// file:// URL cannot hold.
		blobURL = filepath.Join(a.Config.DataDir, "blobs")
	}
	store, err := blob.Open(blobURL, a.getenv)
	if err != nil {
		if a.Config.BlobURL != "" {
			return nil, flagError("--blob-url", err)
		}
		return nil, fmt.Errorf("evidence store: %w", err)
	}
	a.Blobs = store
	// The limits are read at each upload, so a reloaded policy applies at once.
	inspector := &evidence.Inspector{Policy: func() standing.EvidencePolicy { return a.Policy().Evidence }}
	a.Appeals = appeals.New(a.Store, blobFiles{store}, inspector, a.Clock, a.Policy, a.Config.BaseURL, secret)
	a.Runner.Every("escalate late appeals", a.Appeals.Escalate)
	a.Runner.Every("sweep unattached evidence", a.everyHour(a.Appeals.SweepStaged))
	a.registerAppealMetrics()
	return httpapi.AppealRoutes(httpapi.AppealDeps{Appeals: a.Appeals, Statements: a.Store, Policy: a.Policy, Log: a.Log}), nil
}

// everyHour runs fn at most once an hour of the service clock.
func (a *App) everyHour(fn func(ctx context.Context, now time.Time) error) func(ctx context.Context, now time.Time) error {
	var last time.Time
	return func(ctx context.Context, now time.Time) error {
		if !last.IsZero() && now.Sub(last) < time.Hour {
			return nil
		}
		last = now
		return fn(ctx, now)
	}
}

func (a *App) registerAppealMetrics() {
	a.Metrics.Gauge("standing_appeals_open", "Appeals waiting for a decision.", "", func() map[string]float64 {
		open, _, _, err := a.Store.QueueStats(context.Background())
		if err != nil {
			return nil
		}
		return map[string]float64{"": float64(open)}
	})
	a.Metrics.Gauge("standing_appeals_oldest_age_seconds", "Age of the oldest open appeal.", "", func() map[string]float64 {
		open, oldest, _, err := a.Store.QueueStats(context.Background())
		if err != nil {
			return nil
		}
		age := 0.0
		if open > 0 {
			age = a.Clock.Now().Sub(oldest).Seconds()
		}
		return map[string]float64{"": age}
	})
	a.Metrics.Gauge("standing_appeals_breached", "Open appeals past their breach time.", "", func() map[string]float64 {
		_, _, breached, err := a.Store.QueueStats(context.Background())
		if err != nil {
			return nil
		}
		return map[string]float64{"": float64(breached)}
	})
}

// serverSecret returns the configured secret, or the one kept in the data folder (made on
// first start). It keys the reviewers' evidence links and the identity deny list.
func (a *App) serverSecret() ([]byte, error) {
	if a.Config.Secret != "" {
		return []byte(a.Config.Secret), nil
	}
	path := filepath.Join(a.Config.DataDir, "secret")
	b, err := os.ReadFile(path)
	switch kept := strings.TrimSpace(string(b)); {
	case err == nil && len(kept) >= config.MinSecretLen:
		return []byte(kept), nil
	case err == nil && kept != "":
		// Replacing it would change every keyed hash made with it (the deny list).
		return nil, fmt.Errorf("the server secret in %s is shorter than %d characters; put a longer one there or pass --secret", path, config.MinSecretLen)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("read the server secret: %w", err)
	}
	buf := make([]byte, 32)
	rand.Read(buf)
	s := hex.EncodeToString(buf)
	if err := os.WriteFile(path, []byte(s+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("keep the server secret: %w", err)
	}
	return []byte(s), nil
}

// blobFiles adapts a blob.Store to what appeals needs.
type blobFiles struct{ blob.Store }

func (b blobFiles) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	rc, _, err := b.Get(ctx, key)
	return rc, err
}

func (b blobFiles) Keys(ctx context.Context, prefix string, fn func(string, time.Time) error) error {
	return b.List(ctx, prefix, func(i blob.Info) error { return fn(i.Key, i.ModTime) })
}

// explainRule says why a rule fired for an account: the values it read in its newest
// firing ("features.declined_payments_24h = 3, features.ip_vpn = true"), for the console.
func (a *App) explainRule(ctx context.Context, ruleID, accountID string) string {
	hits, err := a.Store.RuleHits(ctx, ruleID, accountID, 1)
	if err != nil || len(hits) == 0 {
		return ""
	}
	_, d, err := a.Store.Event(ctx, hits[0].EventID)
	if err != nil || d == nil {
		return ""
	}
	for _, f := range d.Fired {
		if f.RuleID == ruleID {
			return f.Name + ": " + f.Because + " (event " + hits[0].EventID + " at " + hits[0].At.UTC().Format("2 Jan 2006, 15:04 MST") + ")"
		}
	}
	return ""
}
