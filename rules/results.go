package rules

import (
	"time"

	"standing"
)

// SaveMode says whether saving a rule creates a rule, changes one, or does either.
type SaveMode int

// The save modes.
const (
	SaveCreate SaveMode = iota // the rule must not exist (ECONFLICT)
	SaveUpdate                 // the rule must exist (ENOTFOUND)
	SaveUpsert                 // either; `standing rules apply` uses it
)

// TestResult is the result of evaluating one rule on a sample event.
type TestResult struct {
	RuleID  string `json:"rule_id"`
	Version int    `json:"version"`
	Fired   bool   `json:"fired"`
	// Would says what the rule would do if it fired; nothing is done in a test.
	Would       string                    `json:"would"`
	Outcome     Outcome                   `json:"outcome"`
	Because     string                    `json:"because"`
	Explanation []standing.ExplainedValue `json:"explanation"`
	Cost        uint64                    `json:"cost"`
	// Error says why the rule could not be evaluated on the sample (it counts as not
	// fired).
	Error string `json:"error,omitempty"`
	// Features are every feature the sample was evaluated with.
	Features map[string]any `json:"features"`
}

// BacktestReport is what a rule version would have done over stored events.
type BacktestReport struct {
	RuleID  string    `json:"rule_id"`
	Version int       `json:"version"`
	Since   time.Time `json:"since"`
	Until   time.Time `json:"until"`
	// EventsScanned and AccountsScanned count what was replayed; Truncated is set when the
	// scan stopped at the event limit.
	EventsScanned   int  `json:"events_scanned"`
	AccountsScanned int  `json:"accounts_scanned"`
	Truncated       bool `json:"truncated"`
	// Fired counts the events the rule fired on, AccountsHit the accounts.
	Fired       int `json:"fired"`
	AccountsHit int `json:"accounts_hit"`
	// WouldRestrict counts, per reason, the accounts it would have restricted; of those,
	// AlreadyRestricted had a restriction of that reason already.
	WouldRestrict     map[string]int `json:"would_restrict"`
	AlreadyRestricted map[string]int `json:"already_restricted"`
	// WouldCloseOrdersOf counts the accounts whose open orders it would have closed, and
	// OpenOrders how many orders those accounts have open now.
	WouldCloseOrdersOf int    `json:"would_close_orders_of"`
	OpenOrders         int    `json:"open_orders"`
	WouldReview        int    `json:"would_review"`
	ScoreAdded         int    `json:"score_added"`
	Errors             int    `json:"errors"`
	FirstError         string `json:"first_error,omitempty"`
	// Samples are the first firings, with the values that made them fire.
	Samples []BacktestHit `json:"samples"`
	// Caveat says what a backtest cannot know.
	Caveat string `json:"caveat"`
}

// BacktestHit is one event the rule fired on in a backtest.
type BacktestHit struct {
	EventID     string                    `json:"event_id"`
	AccountID   string                    `json:"account_id"`
	Type        string                    `json:"type"`
	Time        time.Time                 `json:"time"`
	Because     string                    `json:"because"`
	Explanation []standing.ExplainedValue `json:"explanation"`
}
