package httpapi

import (
	"net/http"
	"strings"
	"time"

	"standing"
	"standing/rules"
)

// ruleRequest is a rule as an operator writes it. Version is the server's to set.
type ruleRequest struct {
	ID          string        `json:"id"`
	Name        string        `json:"name"`
	Description string        `json:"description,omitempty"`
	Expression  string        `json:"expression"`
	Outcome     rules.Outcome `json:"outcome"`
	Mode        rules.Mode    `json:"mode,omitempty"`
	Enabled     *bool         `json:"enabled,omitempty"`
	// BaseVersion, on a change, is the version the editor started from; the change is
	// refused with 409 if the rule moved on since.
	BaseVersion int `json:"base_version,omitempty"`
}

func (q ruleRequest) rule() rules.Rule {
	r := rules.Rule{ID: strings.TrimSpace(q.ID), Name: strings.TrimSpace(q.Name), Description: q.Description, Expression: q.Expression,
		Outcome: q.Outcome, Mode: q.Mode, Enabled: true}
	if r.Mode == "" {
		r.Mode = rules.ModeActive
	}
	if q.Enabled != nil {
		r.Enabled = *q.Enabled
	}
	return r
}

// ruleView is a rule in force with its earlier versions.
type ruleView struct {
	rules.Revision
	Versions []rules.Revision `json:"versions,omitempty"`
}

// handleListRules serves GET /v1/rules: the rules in force, and those left out of the
// engine because they no longer compile under the policy.
func handleListRules(s RuleStore) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		list, err := s.Rules(r.Context())
		if err != nil {
			return err
		}
		skipped, err := s.Skipped(r.Context())
		if err != nil {
			return err
		}
		if skipped == nil {
			skipped = []string{}
		}
		return writeJSON(w, http.StatusOK, map[string]any{"rules": list, "skipped": skipped, "features": rules.Features()})
	}
}

// handleCreateRule serves POST /v1/rules. An expression that does not compile, names an
// unknown field or may cost too much is refused with 422, field "expression", and the line
// and column of the problem.
func handleCreateRule(s RuleStore) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in ruleRequest
		if err := decode(w, r, &in, maxBody); err != nil {
			return err
		}
		rev, _, err := s.SaveRule(r.Context(), in.rule(), actorOf(r, ""), rules.SaveCreate, 0)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusCreated, rev)
	}
}

// handleGetRule serves GET /v1/rules/{id}: the rule in force and every version of it.
func handleGetRule(s RuleStore) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		rev, err := s.Rule(r.Context(), r.PathValue("id"))
		if err != nil {
			return err
		}
		versions, err := s.RuleVersions(r.Context(), rev.ID)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, ruleView{Revision: rev, Versions: versions})
	}
}

// handleReplaceRule serves PUT /v1/rules/{id}: a new version of the rule. An unchanged
// rule keeps its version (200 with Rule-Unchanged: true).
func handleReplaceRule(s RuleStore) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in ruleRequest
		if err := decode(w, r, &in, maxBody); err != nil {
			return err
		}
		id := r.PathValue("id")
		if in.ID != "" && in.ID != id {
			return standing.FieldErrorf(standing.EINVALID, "id", "the body's id %q is not the path's %q; a rule keeps its id", in.ID, id)
		}
		in.ID = id
		rev, changed, err := s.SaveRule(r.Context(), in.rule(), actorOf(r, ""), rules.SaveUpdate, in.BaseVersion)
		if err != nil {
			return err
		}
		if !changed {
			w.Header().Set("Rule-Unchanged", "true")
		}
		return writeJSON(w, http.StatusOK, rev)
	}
}

// rulePatch switches a rule on or off, or between active and shadow.
type rulePatch struct {
	Enabled     *bool      `json:"enabled,omitempty"`
	Mode        rules.Mode `json:"mode,omitempty"`
	BaseVersion int        `json:"base_version,omitempty"`
}

// handlePatchRule serves PATCH /v1/rules/{id}: enable, disable, or change the mode; each
// change is a new version.
func handlePatchRule(s RuleStore) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in rulePatch
		if err := decode(w, r, &in, maxBody); err != nil {
			return err
		}
		if in.Enabled == nil && in.Mode == "" {
			return standing.Errorf(standing.EINVALID, "the patch changes nothing; give enabled or mode")
		}
		rev, err := s.Rule(r.Context(), r.PathValue("id"))
		if err != nil {
			return err
		}
		rule := rev.Rule
		if in.Enabled != nil {
			rule.Enabled = *in.Enabled
		}
		if in.Mode != "" {
			rule.Mode = in.Mode
		}
		base := in.BaseVersion
		if base == 0 {
			base = rev.Version
		}
		out, changed, err := s.SaveRule(r.Context(), rule, actorOf(r, ""), rules.SaveUpdate, base)
		if err != nil {
			return err
		}
		if !changed {
			w.Header().Set("Rule-Unchanged", "true")
		}
		return writeJSON(w, http.StatusOK, out)
	}
}

// draft picks the rule a test or backtest runs: a stored version, or the rule in force
// with a draft expression or outcome laid over it.
func draft(r *http.Request, s RuleStore, version int, expression *string, outcome *rules.Outcome) (rules.Rule, error) {
	id := r.PathValue("id")
	var rev rules.Revision
	var err error
	if version > 0 {
		rev, err = s.RuleVersion(r.Context(), id, version)
	} else {
		rev, err = s.Rule(r.Context(), id)
	}
	if err != nil {
		return rules.Rule{}, err
	}
	rule := rev.Rule
	if expression != nil {
		rule.Expression = *expression
	}
	if outcome != nil {
		rule.Outcome = *outcome
	}
	rule.Enabled, rule.Mode = true, rules.ModeActive
	return rule, nil
}

// ruleTestRequest is the body of POST /v1/rules/{id}/test.
type ruleTestRequest struct {
	Event      eventRequest   `json:"event"`
	Features   map[string]any `json:"features,omitempty"`
	Version    int            `json:"version,omitempty"`
	Expression *string        `json:"expression,omitempty"`
	Outcome    *rules.Outcome `json:"outcome,omitempty"`
}

// handleTestRule serves POST /v1/rules/{id}/test: the rule (in force, a version, or a draft
// expression) evaluated on a sample event, with the account's stored features when the
// event names one; features sets values over them. Nothing is stored or done.
func handleTestRule(s RuleStore, intake *eventIntake) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in ruleTestRequest
		if err := decode(w, r, &in, maxBody); err != nil {
			return err
		}
		rule, err := draft(r, s, in.Version, in.Expression, in.Outcome)
		if err != nil {
			return err
		}
		if in.Event.Type == "" {
			in.Event.Type = "test"
		}
		acc := in.Event.AccountID
		if acc == "" {
			in.Event.AccountID = "acc_sample"
		}
		sample, err := intake.accept(&in.Event, "event.", intake.clock.Now())
		if err != nil {
			return err
		}
		sample.Identity = nil // a test links nothing
		if acc == "" {
			sample.AccountID = ""
		}
		res, err := s.TestRule(r.Context(), rule, sample, in.Features)
		if err != nil {
			if standing.ErrorCode(err) == standing.ENOTFOUND {
				return standing.FieldErrorf(standing.ENOTFOUND, "event.account_id", "%s", standing.ErrorMessage(err))
			}
			return err
		}
		return writeJSON(w, http.StatusOK, res)
	}
}

// backtestRequest is the body of POST /v1/rules/{id}/backtest.
type backtestRequest struct {
	Days       int            `json:"days"`
	Version    int            `json:"version,omitempty"`
	Expression *string        `json:"expression,omitempty"`
	Outcome    *rules.Outcome `json:"outcome,omitempty"`
	MaxEvents  int            `json:"max_events,omitempty"`
}

// handleBacktest serves POST /v1/rules/{id}/backtest: the rule (in force, a version, or a
// draft) replayed over the stored events of the last days, reporting what it would have
// done. Nothing is stored or done.
func handleBacktest(s RuleStore, clock standing.Clock, policy func() *standing.Policy) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in backtestRequest
		if err := decode(w, r, &in, maxBody); err != nil {
			return err
		}
		maxDays := int(policy().Risk.EventRetention.D() / (24 * time.Hour))
		if maxDays <= 0 {
			maxDays = 3650
		}
		if in.Days < 1 || in.Days > maxDays {
			return standing.FieldErrorf(standing.EINVALID, "days", "days is from 1 to %d (the event retention), not %d", maxDays, in.Days)
		}
		rule, err := draft(r, s, in.Version, in.Expression, in.Outcome)
		if err != nil {
			return err
		}
		now := clock.Now()
		res, err := s.Backtest(r.Context(), rule, now.Add(-time.Duration(in.Days)*24*time.Hour), now.Add(time.Microsecond), in.MaxEvents)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, res)
	}
}

// handleRuleHits serves GET /v1/rules/{id}/hits: the rule's newest firings, active or
// shadow, with what each did or would have done.
func handleRuleHits(s RuleStore, rr RiskReader) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		rev, err := s.Rule(r.Context(), r.PathValue("id"))
		if err != nil {
			return err
		}
		limit, err := queryInt(r, "limit", 100, 1000)
		if err != nil {
			return err
		}
		hits, err := rr.RuleHits(r.Context(), rev.ID, "", limit)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, map[string]any{"rule_id": rev.ID, "hits": hits})
	}
}

// handleReviews serves GET /v1/reviews: the accounts rules sent to review (?state=open).
func handleReviews(rr RiskReader) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		state := r.URL.Query().Get("state")
		if state != "" && state != "open" && state != "closed" {
			return standing.FieldErrorf(standing.EINVALID, "state", "state is open or closed")
		}
		limit, err := queryInt(r, "limit", 100, 1000)
		if err != nil {
			return err
		}
		list, err := rr.Reviews(r.Context(), state, limit)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, map[string]any{"reviews": list})
	}
}
