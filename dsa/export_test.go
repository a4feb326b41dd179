package dsa_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"standing"
	"standing/dsa"
	"standing/penalty"
)

// TestFactsReserveHoldsStandingsWords gives a reason the most words the policy lets
// through (standing.DSAFactsReserve) and expects decision_facts to keep all of them, in
// every variant of Standing's own sentences.
func TestFactsReserveHoldsStandingsWords(t *testing.T) {
	limit := standing.MaxDSAFactsLen - standing.DSAFactsReserve
	for _, src := range []standing.Source{standing.SourceRule, standing.SourceReviewer, standing.SourceSystem} {
		for _, ruleID := range []string{"", "rule_x"} {
			p := standing.DefaultPolicy()
			reason, _ := p.Reason(standing.ReasonRiskReview)
			r := *reason
			r.Remedy = strings.Repeat("r", 1000)
			r.Message = strings.Repeat("m", limit-len(r.Title)-len(r.Remedy))
			p.Reasons[1] = r
			if err := p.Validate(); err != nil {
				t.Fatalf("a catalog at the limit: %v", err)
			}
			rr, rsn := restrict(t, p, standing.ReasonRiskReview, standing.RoleSeller, src, "7d")
			rr.RuleID = ruleID
			s, err := dsa.FromRestriction(rr, rsn, created, standing.RoleSeller, dsa.Options{})
			if err != nil {
				t.Fatalf("%s/%q: %v", src, ruleID, err)
			}
			if !strings.Contains(s.DecisionFacts, r.Message) || !strings.Contains(s.DecisionFacts, r.Remedy) {
				t.Errorf("%s/%q: decision_facts shortened words the policy let through (reserve too small?): %d characters", src, ruleID, len(s.DecisionFacts))
			}
			if own := len([]rune(s.DecisionFacts)) - limit; own > standing.DSAFactsReserve {
				t.Errorf("%s/%q: Standing's own words take %d characters, more than the reserve %d", src, ruleID, own, standing.DSAFactsReserve)
			}
		}
	}
}

// TestPageSkipsWhatItCannotState exports a page with a statement that fails: the others
// are exported, the bad one is listed with its fields, and what is not a decision is left
// out without a word.
func TestPageSkipsWhatItCannotState(t *testing.T) {
	p := standing.DefaultPolicy()
	good, _ := restrict(t, p, standing.ReasonRiskReview, standing.RoleBuyer, standing.SourceRule, "7d")
	old, _ := restrict(t, p, standing.ReasonDisputeAbuse, standing.RoleBuyer, standing.SourceReviewer, "")
	old.ID = "rst_old"
	gone, _ := restrict(t, p, standing.ReasonBuyerComplaints, standing.RoleBuyer, standing.SourceReviewer, "")
	gone.ID, gone.ReasonCode = "rst_gone", "retired_reason"
	deleted, _ := restrict(t, p, standing.ReasonSelfDeleted, standing.RoleBuyer, standing.SourceSystem, "")
	notice, _ := restrict(t, p, standing.ReasonSellerViolation, standing.RoleSeller, standing.SourceSystem, "")
	notice.Removes = 0 // the notice of a closure to come
	closure := penalty.Sanction{Sanction: standing.Sanction{Kind: penalty.KindClosure}}.Restriction(now, "Transactions")
	closed, err := closure.Resolve(p, "acc_seller", standing.RoleSeller, now)
	if err != nil {
		t.Fatal(err)
	}
	closed.ID = "rst_closed"

	var page dsa.Page
	added := []bool{
		page.Add(p, dsa.Row{Restriction: good, AccountCreated: created, Role: standing.RoleBuyer}, dsa.Options{}),
		page.Add(p, dsa.Row{Restriction: old, AccountCreated: time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC), Role: standing.RoleBuyer}, dsa.Options{}),
		page.Add(p, dsa.Row{Restriction: gone, AccountCreated: created, Role: standing.RoleBuyer}, dsa.Options{}),
		page.Add(p, dsa.Row{Restriction: deleted, AccountCreated: created, Role: standing.RoleBuyer}, dsa.Options{}),
		page.Add(p, dsa.Row{Restriction: notice, AccountCreated: created, Role: standing.RoleSeller}, dsa.Options{}),
		page.Add(p, dsa.Row{Restriction: closed, AccountCreated: created, Role: standing.RoleSeller}, dsa.Options{}),
	}
	if want := []bool{true, false, false, false, false, true}; !slices.Equal(added, want) {
		t.Errorf("Add = %v, want %v", added, want)
	}
	var puids []string
	for _, s := range page.Statements {
		puids = append(puids, s.PUID)
		if err := dsa.Validate(s); err != nil {
			t.Errorf("%s: %v", s.PUID, err)
		}
	}
	if want := []string{good.ID, "rst_closed"}; !slices.Equal(puids, want) {
		t.Errorf("statements %v, want %v", puids, want)
	}
	if len(page.Skipped) != 2 {
		t.Fatalf("skipped = %+v, want the old account and the retired reason", page.Skipped)
	}
	if s := page.Skipped[0]; s.RestrictionID != "rst_old" || s.ReasonCode != standing.ReasonDisputeAbuse || !slices.Equal(s.Fields, []string{"content_date"}) || !strings.Contains(s.Problem, "2000-01-01") {
		t.Errorf("skipped[0] = %+v", s)
	}
	if s := page.Skipped[1]; s.RestrictionID != "rst_gone" || s.ReasonCode != "retired_reason" || !strings.Contains(s.Problem, "catalog") {
		t.Errorf("skipped[1] = %+v", s)
	}
	b, _ := json.Marshal(page.Submission())
	if !strings.HasPrefix(string(b), `{"statements":[{`) {
		t.Errorf("submission = %.80s", b)
	}
	var empty dsa.Page
	if b, _ := json.Marshal(empty.Submission()); string(b) != `{"statements":[]}` {
		t.Errorf("empty submission = %s", b)
	}
}
