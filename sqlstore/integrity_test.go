package sqlstore_test

import (
	"context"
	"strings"
	"testing"

	"standing"
	"standing/jobs"
	"standing/rules"
	"standing/sqlstore"
)

// TestSeedThatFailsCountsNothing: a seed whose transaction rolls back reports no rules
// stored, and stores none.
func TestSeedThatFailsCountsNothing(t *testing.T) {
	onBothDialects(t, func(t *testing.T, s *sqlstore.Store, clock *standing.OffsetClock) {
		ctx := context.Background()
		defaults := rules.DefaultRules(s.Policy())
		last := defaults[len(defaults)-1].ID
		// The last rule's version cannot be written, after the others were.
		var ddl []string
		if s.Dialect() == sqlstore.Postgres {
			ddl = []string{
				`CREATE FUNCTION refuse_rule() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$`,
				`CREATE TRIGGER refuse BEFORE INSERT ON rule_versions FOR EACH ROW WHEN (NEW.rule_id = '` + last + `') EXECUTE FUNCTION refuse_rule()`,
			}
		} else {
			ddl = []string{`CREATE TRIGGER refuse BEFORE INSERT ON rule_versions WHEN NEW.rule_id = '` + last + `' BEGIN SELECT RAISE(ABORT, 'refused'); END`}
		}
		for _, q := range ddl {
			if err := s.ExecRaw(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		risk := sqlstore.NewRisk(s, sqlstore.RiskOptions{})
		n, err := risk.SeedDefaultRules(ctx)
		if err == nil || n != 0 {
			t.Fatalf("SeedDefaultRules = %d, %v; want 0 and the error", n, err)
		}
		if list, err := risk.Rules(ctx); err != nil || len(list) != 0 {
			t.Fatalf("after a failed seed: %d rules, %v", len(list), err)
		}
	})
}

// TestDuplicateJobWakesNoWorker: a job whose dedupe key is taken is not written, so the
// commit does not wake the workers for it.
func TestDuplicateJobWakesNoWorker(t *testing.T) {
	onBothDialects(t, func(t *testing.T, s *sqlstore.Store, clock *standing.OffsetClock) {
		ctx := context.Background()
		woken := 0
		s.OnCommit(func() { woken++ })
		for range 2 {
			if err := s.EnqueueJob(ctx, jobs.Job{Kind: "test", DedupeKey: "once"}); err != nil {
				t.Fatal(err)
			}
		}
		if woken != 1 {
			t.Errorf("the workers were woken %d times, want 1", woken)
		}
	})
}

// TestMissingReviewerIsNotFound: a key bound to a console user that does not exist is
// ENOTFOUND naming the user, not an internal error.
func TestMissingReviewerIsNotFound(t *testing.T) {
	onBothDialects(t, func(t *testing.T, s *sqlstore.Store, clock *standing.OffsetClock) {
		k := standing.APIKey{ID: "key_1", Name: "ops", Prefix: "sk_1234567", Scopes: []string{standing.ScopeAppealsDecide}, ReviewerID: "stf_gone", CreatedAt: clock.Now()}
		err := s.CreateAPIKey(context.Background(), k, "hash-1")
		if got := standing.ErrorCode(err); got != standing.ENOTFOUND {
			t.Fatalf("code = %q (%v), want %q", got, err, standing.ENOTFOUND)
		}
		if msg := standing.ErrorMessage(err); !strings.Contains(msg, `console user "stf_gone"`) {
			t.Errorf("message %q does not name the reviewer", msg)
		}
	})
}

// TestApplyRulesAllOrNone: a list with a rule that does not validate saves nothing and
// names the rule's position and field.
func TestApplyRulesAllOrNone(t *testing.T) {
	onBothDialects(t, func(t *testing.T, s *sqlstore.Store, clock *standing.OffsetClock) {
		ctx := context.Background()
		risk := sqlstore.NewRisk(s, sqlstore.RiskOptions{})
		good := rules.Rule{ID: "good", Name: "Good", Expression: "features.orders_1h > 3", Outcome: rules.Outcome{Score: 1}, Mode: rules.ModeActive, Enabled: true}
		bad := good
		bad.ID, bad.Expression = "bad", "features.orders_1h >"
		_, _, err := risk.ApplyRules(ctx, []rules.Rule{good, bad}, "test")
		if standing.ErrorField(err) != "rules[1].expression" || !strings.Contains(standing.ErrorMessage(err), `rule "bad"`) {
			t.Fatalf("ApplyRules = %v, want rules[1].expression naming the rule", err)
		}
		if list, err := risk.Rules(ctx); err != nil || len(list) != 0 {
			t.Fatalf("after a refused list: %d rules, %v", len(list), err)
		}
		revs, changed, err := risk.ApplyRules(ctx, []rules.Rule{good}, "test")
		if err != nil || len(revs) != 1 || !changed[0] || revs[0].Version != 1 {
			t.Fatalf("ApplyRules = %v, %v, %v", revs, changed, err)
		}
		if list, _ := risk.Rules(ctx); len(list) != len(rules.DefaultRules(s.Policy()))+1 {
			t.Errorf("%d rules, want the default pack and good", len(list))
		}
	})
}
