package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"standing"
	"standing/httpapi"
	"standing/ipintel"
	"standing/jobs"
	"standing/sqlstore"
	"standing/webhook"
)

// wireRisk wires the marketplace ledger, events, the risk engine and webhooks: it seeds
// the default rule pack on the first start, loads the IP intelligence the policy names,
// registers webhook delivery and the retention sweeps, and returns the routes.
func (a *App) wireRisk() ([]httpapi.Route, error) {
	ctx := context.Background()
	intel := &ipIntel{}
	if err := intel.load(a.Policy()); err != nil {
		return nil, err
	}
	decidedTx := a.Metrics.Counter("standing_event_transactions_total", "Transactions that decided on events (on SQLite concurrent requests share one).").With()
	decided := a.Metrics.Counter("standing_events_decided_total", "Events decided, repeats included.").With()
	risk := sqlstore.NewRisk(a.Store, sqlstore.RiskOptions{Log: a.Log, Combine: true, Identity: a.identity.Account,
		IPFacts: func(in *standing.EventInput, ip netip.Addr) { intel.db().Enrich(in, ip) },
		Decided: func(events int) { decidedTx.Inc(); decided.Add(uint64(events)) }})
	if n, err := risk.SeedDefaultRules(ctx); err != nil {
		return nil, fmt.Errorf("seed the default rules: %w", err)
	} else if n > 0 {
		a.Log.Info("stored the default rule pack", "rules", n)
	}

	// The webhook-timestamp header is checked by the receiver against its own wall clock,
	// so it is the wall clock's time, not the service clock's (which a dev server moves).
	a.Runner.Handle(sqlstore.JobDeliverWebhook, deliverWebhook(a.Store, &http.Client{Timeout: 10 * time.Second}, standing.SystemClock{}))
	a.Runner.Every("risk: rules and IP intelligence in step with the store and the policy", func(ctx context.Context, now time.Time) error {
		if err := intel.load(a.Policy()); err != nil {
			a.Log.Error("the policy's IP intelligence files did not load; the previous ones stay", "err", err)
		}
		return risk.Refresh(ctx)
	})
	var lastSweep atomic.Int64
	a.Runner.Every("risk: retention of events, idempotency keys and webhook messages", func(ctx context.Context, now time.Time) error {
		// Hourly by the service clock: the sweeps are cheap but take the write lock.
		if last := lastSweep.Load(); last != 0 && now.Sub(time.Unix(0, last)) < time.Hour {
			return nil
		}
		lastSweep.Store(now.UnixNano())
		var errs []error
		if ret := a.Policy().Risk.EventRetention.D(); ret > 0 {
			if _, err := a.Store.SweepEvents(ctx, now.Add(-ret)); err != nil {
				errs = append(errs, err)
			}
		}
		if _, err := a.Store.SweepIdempotencyKeys(ctx, now.Add(-idempotencyWindow).UnixMicro()); err != nil {
			errs = append(errs, err)
		}
		if _, err := a.Store.SweepWebhooks(ctx, now.Add(-webhookRetention)); err != nil {
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	})

	return httpapi.RiskRoutes(httpapi.RiskDeps{
		Accounts: a.Store, Ledger: a.Store, Events: risk, Stored: a.Store, Rules: risk, Risk: a.Store, Links: a.Store,
		Webhooks: a.Store, IPIntel: intel.db, Identity: a.identity, Clock: a.Clock, Policy: a.Policy, Log: a.Log,
	}), nil
}

// How long idempotency keys and delivered webhook messages are kept.
const (
	idempotencyWindow = 24 * time.Hour
	webhookRetention  = 30 * 24 * time.Hour
)

// ipIntel holds the IP intelligence the policy names, loaded again when a reloaded policy
// names other files.
type ipIntel struct {
	mu     sync.Mutex
	policy *standing.Policy
	cur    atomic.Pointer[ipintel.DB]
}

func (i *ipIntel) db() *ipintel.DB { return i.cur.Load() }

// load opens the policy's files unless they were loaded for this policy already.
func (i *ipIntel) load(p *standing.Policy) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.policy == p {
		return nil
	}
	if i.policy != nil && sameStrings(i.policy.Risk.AnonymizerDatabases, p.Risk.AnonymizerDatabases) &&
		sameStrings(i.policy.Risk.AnonymizerCIDRFiles, p.Risk.AnonymizerCIDRFiles) {
		i.policy = p
		return nil
	}
	cfg := ipintel.Config{MMDB: p.Risk.AnonymizerDatabases}
	for _, spec := range p.Risk.AnonymizerCIDRFiles {
		l, err := ipintel.ParseList(spec)
		if err != nil {
			return fmt.Errorf("risk.anonymizer_cidr_files: %s", standing.ErrorMessage(err))
		}
		cfg.Lists = append(cfg.Lists, l)
	}
	if len(cfg.MMDB) == 0 && len(cfg.Lists) == 0 {
		i.cur.Store(nil)
		i.policy = p
		return nil
	}
	db, err := ipintel.Open(cfg)
	if err != nil {
		return fmt.Errorf("risk IP intelligence: %w", err)
	}
	if old := i.cur.Swap(db); old != nil {
		old.Close()
	}
	i.policy = p
	return nil
}

func sameStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if a[k] != b[k] {
			return false
		}
	}
	return true
}

// deliverWebhook is the job that sends one delivery. A failed attempt is recorded and the
// job retried with the runner's backoff until the endpoint answers 2xx; 410 Gone disables
// the endpoint, and the last allowed attempt marks the delivery failed.
func deliverWebhook(s *sqlstore.Store, client *http.Client, clock standing.Clock) jobs.Handler {
	return func(ctx context.Context, j jobs.Job) error {
		var p struct {
			DeliveryID string `json:"delivery_id"`
		}
		if err := json.Unmarshal(j.Payload, &p); err != nil || p.DeliveryID == "" {
			return jobs.Permanent{Err: fmt.Errorf("webhook job without a delivery id: %s", j.Payload)}
		}
		send, err := s.WebhookToSend(ctx, p.DeliveryID)
		if standing.ErrorCode(err) == standing.ENOTFOUND {
			return nil // swept or erased
		} else if err != nil {
			return err
		}
		if send.Skip {
			return nil
		}
		status, sendErr := webhook.Deliver(ctx, client, send.URL, send.Secrets, send.Delivery.MessageID, clock.Now(), send.Body)
		gone := errors.Is(sendErr, webhook.ErrGone)
		final := sendErr != nil && (!webhook.Retryable(sendErr) || j.Attempts >= j.MaxAttempts)
		if err := s.WebhookAttempt(ctx, p.DeliveryID, status, sendErr, gone, final); err != nil {
			return err
		}
		if sendErr == nil || final {
			return nil
		}
		return sendErr
	}
}
