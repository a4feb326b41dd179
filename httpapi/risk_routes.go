package httpapi

import (
	"context"
	"log/slog"
	"time"

	"standing"
	"standing/ipintel"
	"standing/rules"
)

// EventProcessor decides on events; see sqlstore.Risk.
type EventProcessor interface {
	// ProcessEvents decides on each event in order and returns one result per event.
	ProcessEvents(ctx context.Context, in []standing.EventInput) ([]standing.EventResult, error)
}

// EventReader reads one stored event with its decision.
type EventReader interface {
	// Event returns the event and the decision taken on it; ENOTFOUND if none.
	Event(ctx context.Context, id string) (standing.Event, *standing.EventDecision, error)
}

// RuleStore keeps the rules with their versions and runs tests and backtests of them; see
// sqlstore.Risk.
type RuleStore interface {
	// Rules returns the rules in force.
	Rules(ctx context.Context) ([]rules.Revision, error)
	// Rule returns a rule in force; ENOTFOUND if none.
	Rule(ctx context.Context, id string) (rules.Revision, error)
	// RuleVersions returns every version of a rule, newest first; ENOTFOUND if none.
	RuleVersions(ctx context.Context, id string) ([]rules.Revision, error)
	// RuleVersion returns one version; ENOTFOUND if none.
	RuleVersion(ctx context.Context, id string, version int) (rules.Revision, error)
	// SaveRule validates, compiles and stores a rule as a new version (EINVALID with the
	// expression's position, ECONFLICT, ENOTFOUND); it reports whether anything changed.
	SaveRule(ctx context.Context, r rules.Rule, actor string, mode rules.SaveMode, baseVersion int) (rules.Revision, bool, error)
	// TestRule evaluates a rule on a sample event, changing nothing.
	TestRule(ctx context.Context, r rules.Rule, sample standing.EventInput, overrides map[string]any) (rules.TestResult, error)
	// Backtest replays stored events through a rule, changing nothing.
	Backtest(ctx context.Context, r rules.Rule, since, until time.Time, maxEvents int) (rules.BacktestReport, error)
	// Skipped lists stored rules left out of the engine and why.
	Skipped(ctx context.Context) ([]string, error)
}

// RiskReader reads the records the risk engine keeps: rule firings and the review queue.
type RiskReader interface {
	// RuleHits lists the newest firings of a rule, or of every rule on an account.
	RuleHits(ctx context.Context, ruleID, accountID string, limit int) ([]standing.RuleHit, error)
	// Reviews lists the review queue in a state ("" for every state), oldest first.
	Reviews(ctx context.Context, state string, limit int) ([]standing.Review, error)
}

// RiskDeps are what the routes of the ledger, events, rules, links and webhooks need.
type RiskDeps struct {
	Accounts standing.AccountReader
	Ledger   interface {
		standing.LedgerReader
		standing.LedgerWriter
	}
	Events   EventProcessor
	Stored   EventReader
	Rules    RuleStore
	Risk     RiskReader
	Links    standing.LinkReader
	Webhooks standing.WebhookStore
	// IPIntel returns the IP intelligence in effect; nil (or a nil DB) knows nothing.
	IPIntel func() *ipintel.DB
	// Identity hashes identity details; it must be set.
	Identity *rules.IdentityHasher
	Clock    standing.Clock
	Policy   func() *standing.Policy
	Log      *slog.Logger
}
