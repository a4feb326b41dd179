package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"standing"
	"standing/rules"
)

// Rules returns the rules in force (the newest version of each), by id.
func (r *Risk) Rules(ctx context.Context) ([]rules.Revision, error) {
	rows, err := r.s.query(ctx, "SELECT definition, version, updated_by, updated_at FROM rules ORDER BY id")
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	out := []rules.Revision{}
	for rows.Next() {
		rev, err := scanRevision(rows)
		if err != nil {
			return nil, translate(err)
		}
		out = append(out, rev)
	}
	return out, translate(rows.Err())
}

func scanRevision(row interface{ Scan(...any) error }) (rules.Revision, error) {
	var rev rules.Revision
	var def string
	var at int64
	if err := row.Scan(&def, &rev.Version, &rev.UpdatedBy, &at); err != nil {
		return rev, err
	}
	version := rev.Version
	if err := json.Unmarshal([]byte(def), &rev.Rule); err != nil {
		return rev, fmt.Errorf("stored rule: %w", err)
	}
	rev.Version, rev.UpdatedAt = version, fromTS(at)
	return rev, nil
}

// Rule returns a rule in force; ENOTFOUND if there is none.
func (r *Risk) Rule(ctx context.Context, id string) (rules.Revision, error) {
	rev, err := scanRevision(r.s.queryRow(ctx, "SELECT definition, version, updated_by, updated_at FROM rules WHERE id = ?", id))
	if err == sql.ErrNoRows {
		return rev, standing.Errorf(standing.ENOTFOUND, "no rule %q", id)
	}
	return rev, translate(err)
}

// RuleVersions returns every version of a rule, newest first; ENOTFOUND for an unknown rule.
func (r *Risk) RuleVersions(ctx context.Context, id string) ([]rules.Revision, error) {
	rows, err := r.s.query(ctx, "SELECT definition, version, actor, created_at FROM rule_versions WHERE rule_id = ? ORDER BY version DESC", id)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	out := []rules.Revision{}
	for rows.Next() {
		rev, err := scanRevision(rows)
		if err != nil {
			return nil, translate(err)
		}
		out = append(out, rev)
	}
	if err := rows.Err(); err != nil {
		return nil, translate(err)
	}
	if len(out) == 0 {
		return nil, standing.Errorf(standing.ENOTFOUND, "no rule %q", id)
	}
	return out, nil
}

// RuleVersion returns one version of a rule; ENOTFOUND if there is none.
func (r *Risk) RuleVersion(ctx context.Context, id string, version int) (rules.Revision, error) {
	rev, err := scanRevision(r.s.queryRow(ctx, "SELECT definition, version, actor, created_at FROM rule_versions WHERE rule_id = ? AND version = ?", id, version))
	if err == sql.ErrNoRows {
		return rev, standing.Errorf(standing.ENOTFOUND, "rule %q has no version %d", id, version)
	}
	return rev, translate(err)
}

// SaveRule validates and compiles the rule against the policy in effect and stores it as
// a new version. With baseVersion above 0 the rule in force must still be at that version
// (ECONFLICT otherwise, so two editors do not overwrite each other). A rule saved unchanged
// keeps its version and reports false. Errors are EINVALID naming the field (expression
// errors give the line and column), ENOTFOUND or ECONFLICT.
func (r *Risk) SaveRule(ctx context.Context, rule rules.Rule, actor string, mode rules.SaveMode, baseVersion int) (rules.Revision, bool, error) {
	if err := checkRule(r.s.policy(), rule); err != nil {
		return rules.Revision{}, false, err
	}
	var out rules.Revision
	changed := false
	err := r.s.write(ctx, func(t *tx) error {
		var err error
		out, changed, err = t.saveRule(rule, actor, mode, baseVersion)
		return err
	})
	if err != nil {
		return rules.Revision{}, false, err
	}
	if changed {
		r.engine.Store(nil)
	}
	return out, changed, nil
}

// ApplyRules saves every rule of list as SaveRule does with rules.SaveUpsert, in one
// transaction: all or none. On a store without rules it first stores the default pack, as
// the first start would; a store with rules is never seeded after. The error of a rule
// names its position and id (field rules[2].expression, "rule \"x\": …"), whether the rule
// does not validate or could not be saved; nothing is saved then. It returns each rule's
// revision and whether it changed.
func (r *Risk) ApplyRules(ctx context.Context, list []rules.Rule, actor string) ([]rules.Revision, []bool, error) {
	p := r.s.policy()
	for i, rule := range list {
		if err := checkRule(p, rule); err != nil {
			return nil, nil, ruleError(i, rule.ID, err)
		}
	}
	out, changed := make([]rules.Revision, len(list)), make([]bool, len(list))
	reload := false
	err := r.s.write(ctx, func(t *tx) error {
		seeded, err := t.seedDefaultRules(p)
		if err != nil {
			return err
		}
		reload = seeded > 0
		for i, rule := range list {
			out[i], changed[i], err = t.saveRule(rule, actor, rules.SaveUpsert, 0)
			if err != nil {
				return ruleError(i, rule.ID, translate(err))
			}
			reload = reload || changed[i]
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if reload {
		r.engine.Store(nil)
	}
	return out, changed, nil
}

// ruleError puts the error of the i-th rule of a list under its position and id.
func ruleError(i int, id string, err error) error {
	field := fmt.Sprintf("rules[%d]", i)
	if f := standing.ErrorField(err); f != "" {
		field += "." + f
	}
	return standing.FieldErrorf(standing.ErrorCode(err), field, "rule %q: %s", id, standing.ErrorMessage(err))
}

// saveRule is SaveRule in a transaction, for a rule already checked.
func (t *tx) saveRule(rule rules.Rule, actor string, mode rules.SaveMode, baseVersion int) (rules.Revision, bool, error) {
	// Locked, so that two edits from one base version queue up and the second sees the
	// first's version (ECONFLICT), instead of both writing the same next version.
	q := "SELECT definition, version, updated_by, updated_at FROM rules WHERE id = ?"
	if t.s.dialect == Postgres {
		q += " FOR UPDATE"
	}
	cur, err := scanRevision(t.queryRow(q, rule.ID))
	exists := err == nil
	if err != nil && err != sql.ErrNoRows {
		return rules.Revision{}, false, err
	}
	switch {
	case mode == rules.SaveCreate && exists:
		return rules.Revision{}, false, standing.FieldErrorf(standing.ECONFLICT, "id", "rule %q exists (version %d); change it with PUT /v1/rules/%s", rule.ID, cur.Version, rule.ID)
	case mode == rules.SaveUpdate && !exists:
		return rules.Revision{}, false, standing.Errorf(standing.ENOTFOUND, "no rule %q", rule.ID)
	case exists && baseVersion > 0 && baseVersion != cur.Version:
		return rules.Revision{}, false, standing.FieldErrorf(standing.ECONFLICT, "version", "rule %q is at version %d, not %d: someone changed it; read it again and reapply your change", rule.ID, cur.Version, baseVersion)
	case exists && rules.SameDefinition(cur.Rule, rule):
		return cur, false, nil
	}
	rule.Version = 1
	if exists {
		rule.Version = cur.Version + 1
	}
	def, err := json.Marshal(rule)
	if err != nil {
		return rules.Revision{}, false, err
	}
	if exists {
		ok, err := changedRows(t.exec("UPDATE rules SET version = ?, definition = ?, updated_by = ?, updated_at = ? WHERE id = ? AND version = ?",
			rule.Version, string(def), actor, ts(t.now), rule.ID, cur.Version))
		if err != nil {
			return rules.Revision{}, false, err
		} else if !ok {
			return rules.Revision{}, false, standing.FieldErrorf(standing.ECONFLICT, "version", "rule %q was changed by another request at the same moment; read it again and reapply your change", rule.ID)
		}
	} else {
		_, err := t.exec("INSERT INTO rules (id, version, definition, updated_by, updated_at) VALUES (?, ?, ?, ?, ?)",
			rule.ID, rule.Version, string(def), actor, ts(t.now))
		if isUnique(err) {
			return rules.Revision{}, false, standing.FieldErrorf(standing.ECONFLICT, "id", "rule %q was created at the same moment", rule.ID)
		} else if err != nil {
			return rules.Revision{}, false, err
		}
	}
	if _, err := t.exec("INSERT INTO rule_versions (rule_id, version, definition, actor, created_at) VALUES (?, ?, ?, ?, ?)",
		rule.ID, rule.Version, string(def), actor, ts(t.now)); err != nil {
		return rules.Revision{}, false, err
	}
	return rules.Revision{Rule: rule, UpdatedBy: actor, UpdatedAt: t.now}, true, nil
}

// SeedDefaultRules stores the default rule pack for the policy when there are no rules yet
// (the first start) and returns how many it stored: 0 with the error when it stored none.
func (r *Risk) SeedDefaultRules(ctx context.Context) (int, error) {
	n := 0
	err := r.s.write(ctx, func(t *tx) error {
		var err error
		n, err = t.seedDefaultRules(r.s.policy())
		return err
	})
	if err != nil {
		return 0, err // rolled back: the rules counted were never stored
	}
	if n > 0 {
		r.engine.Store(nil)
	}
	return n, nil
}

// seedDefaultRules is SeedDefaultRules in a transaction.
func (t *tx) seedDefaultRules(p *standing.Policy) (int, error) {
	var count int
	if err := t.queryRow("SELECT COUNT(*) FROM rules").Scan(&count); err != nil || count > 0 {
		return 0, err
	}
	n := 0
	for _, rule := range rules.DefaultRules(p) {
		def, err := json.Marshal(rule)
		if err != nil {
			return 0, err
		}
		res, err := t.exec("INSERT INTO rules (id, version, definition, updated_by, updated_at) VALUES (?, ?, ?, 'system', ?) ON CONFLICT DO NOTHING",
			rule.ID, rule.Version, string(def), ts(t.now))
		if err != nil {
			return 0, err
		}
		if k, _ := res.RowsAffected(); k == 0 {
			continue
		}
		if _, err := t.exec("INSERT INTO rule_versions (rule_id, version, definition, actor, created_at) VALUES (?, ?, ?, 'system', ?)",
			rule.ID, rule.Version, string(def), ts(t.now)); err != nil {
			return 0, err
		}
		n++
	}
	return n, nil
}

// TestRule evaluates rule on a sample event without changing anything: the account's
// stored features (when the sample names an existing account) with the sample folded in,
// its ledger and links as they are now, and the overrides set last. Unknown overrides are
// EINVALID naming features.<name>.
func (r *Risk) TestRule(ctx context.Context, rule rules.Rule, sample standing.EventInput, overrides map[string]any) (rules.TestResult, error) {
	if err := checkRule(r.s.policy(), rule); err != nil {
		return rules.TestResult{}, err
	}
	prg, err := rules.Compile(rule)
	if err != nil {
		return rules.TestResult{}, err
	}
	p := r.s.policy()
	q := reader{r.s, ctx}
	ra := &riskAccount{acc: standing.Account{ID: sample.AccountID, Role: standing.RoleBuyer, Lifecycle: standing.LifecycleActive, CreatedAt: r.s.clock.Now()}}
	linked, flagged := 0, 0
	if sample.AccountID != "" {
		loaded, err := loadRiskAccount(q, r.s, sample.AccountID, false, true)
		if err != nil {
			return rules.TestResult{}, err
		}
		ra = loaded
		if linked, flagged, err = linkFacts(q, ra.acc.ID, p.Reregistration.DenyListReasons); err != nil {
			return rules.TestResult{}, translate(err)
		}
	}
	ev, err := ruleEvent(&sample)
	if err != nil {
		return rules.TestResult{}, err
	}
	ra.state.Apply(ev)
	facts := rules.Facts{AccountCreatedAt: ra.acc.CreatedAt, ActiveOrders: ra.active, OpenDisputes: ra.disputes,
		LinkedAccounts: linked, LinkedRestricted: flagged + ra.denied, IP: ruleFlags(sample.IPFlags),
		RecipientFlagged: rules.RecipientFlagged(p, sample.RecipientName)}
	features := rules.FeaturesAt(&ra.state, facts, sample.Time)
	known := rules.DefaultFeatures()
	for k, v := range overrides {
		def, ok := known[k]
		if !ok {
			return rules.TestResult{}, standing.FieldErrorf(standing.EINVALID, "features."+k, "there is no feature %q", k)
		}
		switch def.(type) {
		case bool:
			b, ok := v.(bool)
			if !ok {
				return rules.TestResult{}, standing.FieldErrorf(standing.EINVALID, "features."+k, "feature %s is true or false", k)
			}
			features[k] = b
		case float64:
			f, ok := v.(float64)
			if !ok {
				return rules.TestResult{}, standing.FieldErrorf(standing.EINVALID, "features."+k, "feature %s is a number", k)
			}
			features[k] = f
		default:
			f, ok := v.(float64)
			if !ok || f != float64(int64(f)) {
				return rules.TestResult{}, standing.FieldErrorf(standing.EINVALID, "features."+k, "feature %s is a whole number", k)
			}
			features[k] = int(f)
		}
	}
	res, evalErr := prg.Eval(rules.Input{Event: rules.EventVars(ev), Account: rules.AccountVars(ra.acc), Features: features})
	out := rules.TestResult{RuleID: rule.ID, Version: rule.Version, Fired: res.Fired, Would: rule.Outcome.Describe(), Outcome: rule.Outcome,
		Because: res.Explanation.String(), Explanation: explained(res.Explanation), Cost: res.Cost, Features: features}
	if evalErr != nil {
		out.Error = standing.ErrorMessage(evalErr)
	}
	return out, nil
}

// MaxBacktestEvents bounds one backtest's scan.
const MaxBacktestEvents = 5_000_000

// Backtest replays the stored events from since to until through rule and reports what it
// would have done, changing nothing. Each account's features are rebuilt from its events
// in the window, in time order, with the IP intelligence stored with each event; ledger
// counts and links are as they are now.
func (r *Risk) Backtest(ctx context.Context, rule rules.Rule, since, until time.Time, maxEvents int) (rules.BacktestReport, error) {
	p := r.s.policy()
	if err := checkRule(p, rule); err != nil {
		return rules.BacktestReport{}, err
	}
	prg, err := rules.Compile(rule)
	if err != nil {
		return rules.BacktestReport{}, err
	}
	if maxEvents <= 0 || maxEvents > MaxBacktestEvents {
		maxEvents = MaxBacktestEvents
	}
	q := reader{r.s, ctx}
	out := rules.BacktestReport{RuleID: rule.ID, Version: rule.Version, Since: since, Until: until, WouldRestrict: map[string]int{},
		AlreadyRestricted: map[string]int{}, Samples: []rules.BacktestHit{},
		Caveat: "Features are rebuilt from the events in the window only (history before it is not counted); " +
			"active orders, open disputes and identity links are as they are now."}
	var cur *riskAccount
	var curFired bool
	var linked, flagged int
	finish := func() error {
		if cur == nil || !curFired {
			return nil
		}
		out.AccountsHit++
		o := rule.Outcome
		reasons := []string{}
		if o.ReasonCode != "" {
			reasons = append(reasons, o.ReasonCode)
		}
		if o.RequirePaymentVerification {
			reasons = append(reasons, standing.ReasonPaymentVerification)
		}
		for _, code := range reasons {
			if reason, ok := p.Reason(code); ok && !reason.AppliesToRole(cur.acc.Role) {
				continue
			}
			out.WouldRestrict[code]++
			var one int
			err := q.queryRow("SELECT 1 FROM restrictions WHERE account_id = ? AND reason_code = ? AND state = 'active' LIMIT 1", cur.acc.ID, code).Scan(&one)
			if err == nil {
				out.AlreadyRestricted[code]++
			} else if err != sql.ErrNoRows {
				return err
			}
		}
		if o.CloseOpenOrders {
			out.WouldCloseOrdersOf++
			out.OpenOrders += cur.active
		}
		if o.Review {
			out.WouldReview++
		}
		return nil
	}
	// Accounts are walked in id order, a page at a time, and each one's events in the
	// window read through the events_account index and replayed in time order, so only
	// one account's features are in memory at once.
	afterAccount := ""
scan:
	for out.EventsScanned < maxEvents {
		ids, err := pageOfAccounts(q, afterAccount)
		if err != nil {
			return out, translate(err)
		}
		if len(ids) == 0 {
			break
		}
		afterAccount = ids[len(ids)-1]
		for _, id := range ids {
			events, err := accountEvents(q, r.s, id, since, until)
			if err != nil {
				return out, translate(err)
			}
			if len(events) == 0 {
				continue
			}
			if err := finish(); err != nil {
				return out, translate(err)
			}
			cur, curFired = nil, false
			loaded, err := loadRiskAccount(q, r.s, id, false, false)
			if standing.ErrorCode(err) == standing.ENOTFOUND {
				continue
			} else if err != nil {
				return out, translate(err)
			}
			loaded.state = rules.FeatureState{}
			cur = loaded
			out.AccountsScanned++
			if linked, flagged, err = linkFacts(q, cur.acc.ID, p.Reregistration.DenyListReasons); err != nil {
				return out, translate(err)
			}
			for i := range events {
				in := &events[i]
				if out.EventsScanned >= maxEvents {
					out.Truncated = true
					break scan
				}
				out.EventsScanned++
				ev, err := ruleEvent(in)
				if err != nil {
					continue
				}
				cur.state.Apply(ev)
				var recipient string
				if v, ok := ev.Attributes["recipient_name"].(string); ok {
					recipient = v
				}
				facts := rules.Facts{AccountCreatedAt: cur.acc.CreatedAt, ActiveOrders: cur.active, OpenDisputes: cur.disputes,
					LinkedAccounts: linked, LinkedRestricted: flagged + cur.denied, IP: ruleFlags(in.IPFlags),
					RecipientFlagged: rules.RecipientFlagged(p, recipient)}
				res, err := prg.Eval(rules.Input{Event: rules.EventVars(ev), Account: rules.AccountVars(cur.acc), Features: rules.FeaturesAt(&cur.state, facts, in.Time)})
				if err != nil {
					out.Errors++
					if out.FirstError == "" {
						out.FirstError = in.ID + ": " + standing.ErrorMessage(err)
					}
					continue
				}
				if !res.Fired {
					continue
				}
				out.Fired++
				out.ScoreAdded += rule.Outcome.Score
				curFired = true
				if len(out.Samples) < 50 {
					out.Samples = append(out.Samples, rules.BacktestHit{EventID: in.ID, AccountID: in.AccountID, Type: in.Type, Time: in.Time,
						Because: res.Explanation.String(), Explanation: explained(res.Explanation)})
				}
			}
		}
	}
	if err := finish(); err != nil {
		return out, translate(err)
	}
	sort.Slice(out.Samples, func(i, j int) bool { return out.Samples[i].Time.Before(out.Samples[j].Time) })
	return out, nil
}

// pageOfAccounts returns the next account ids after the given one, in id order.
func pageOfAccounts(q querier, after string) ([]string, error) {
	rows, err := q.query("SELECT id FROM accounts WHERE id > ? ORDER BY id LIMIT 500", after)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// accountEvents returns an account's stored events in the window, in time order.
func accountEvents(q querier, s *Store, accountID string, since, until time.Time) ([]standing.EventInput, error) {
	const cols = "id, type, occurred_at, ip, device_id, attributes, country, asn, ip_flags"
	var out []standing.EventInput
	scan := func(rows *sql.Rows) error {
		in := standing.EventInput{}
		var at, asn, flags int64
		var attrs string
		if err := rows.Scan(&in.ID, &in.Type, &at, &in.IP, &in.DeviceID, &attrs, &in.Country, &asn, &flags); err != nil {
			return err
		}
		in.AccountID, in.Time, in.ASN, in.IPFlags, in.Attributes = accountID, fromTS(at), uint(asn), standing.IPFlagsFromBits(flags), json.RawMessage(attrs)
		if !in.Time.Before(since) && in.Time.Before(until) {
			out = append(out, in)
		}
		return nil
	}
	if s.dialect == SQLite {
		from, to := ts(since), ts(until)
		rows, err := accountEventRows(q, s, accountID, "last_at >= ? AND first_at < ?", []any{from, to},
			func(ev tailEvent) bool { return ev.at >= from && ev.at < to })
		if err != nil {
			return nil, err
		}
		if err := fetchAccountEvents(q, accountID, rows, cols, scan); err != nil {
			return nil, err
		}
	} else {
		rows, err := q.query(`SELECT `+cols+` FROM events WHERE account_id = ? AND occurred_at >= ? AND occurred_at < ?`, accountID, ts(since), ts(until))
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return nil, err
			}
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Time.Equal(out[j].Time) {
			return out[i].Time.Before(out[j].Time)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}
