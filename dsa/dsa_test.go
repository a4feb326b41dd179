package dsa_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"standing"
	"standing/dsa"
	"standing/penalty"
)

var (
	created = time.Date(2024, 3, 5, 22, 30, 0, 0, time.UTC)
	now     = time.Date(2026, 11, 23, 9, 15, 0, 0, time.UTC)
)

// personal is per-person text a restriction may carry; none of it may reach a statement.
var personal = []string{
	"Jane", "Doe", "jane.doe@example.com", "203.0.113.7", "2001:db8::17", "+49 151 23456789",
	"alice@corp.example", "Alice", "acc_01personal", "Kerkstraat",
}

const personalNote = "Jane Doe (jane.doe@example.com) used 203.0.113.7 and 2001:db8::17, phone +49 151 23456789, ships to Kerkstraat 12"

// restrict resolves a restriction the way the service does, loaded with personal data in
// every free-text field.
func restrict(t *testing.T, p *standing.Policy, code string, role standing.Role, src standing.Source, duration string) (standing.Restriction, *standing.Reason) {
	t.Helper()
	n := standing.NewRestriction{
		ReasonCode: code, Source: src, Duration: duration, Note: personalNote,
		Actor: "Alice alice@corp.example", RuleID: "",
	}
	if src == standing.SourceRule {
		n.RuleID = "rule_vpn_checkout"
	}
	r, err := n.Resolve(p, "acc_01personal", role, now)
	if err != nil {
		t.Fatalf("Resolve(%s, %s): %v", code, role, err)
	}
	r.ID = standing.NewID("rst", now)
	r.EndNote = "lifted after Jane Doe called from +49 151 23456789"
	reason, _ := p.Reason(code)
	return r, reason
}

type want struct {
	account, monetary, provision string
}

func TestDefaultReasonsMapToValidStatements(t *testing.T) {
	p := standing.DefaultPolicy()
	const (
		sus   = dsa.DecisionAccountSuspended
		term  = dsa.DecisionAccountTerminated
		mSus  = dsa.DecisionMonetarySuspension
		mTerm = dsa.DecisionMonetaryTermination
		pPart = dsa.DecisionProvisionPartialSuspension
		pTerm = dsa.DecisionProvisionTotalTermination
	)
	wants := map[string]map[standing.Role]want{
		standing.ReasonEmailUnverified:     {standing.RoleBuyer: {sus, mSus, ""}, standing.RoleSeller: {sus, mSus, pPart}},
		standing.ReasonRiskReview:          {standing.RoleBuyer: {sus, mSus, ""}, standing.RoleSeller: {sus, mSus, ""}},
		standing.ReasonPaymentVerification: {standing.RoleBuyer: {sus, mSus, ""}},
		standing.ReasonFlaggedRecipient:    {standing.RoleBuyer: {"", "", pPart}},
		standing.ReasonDisputeAbuse:        {standing.RoleBuyer: {sus, "", ""}},
		standing.ReasonBuyerComplaints:     {standing.RoleBuyer: {sus, "", ""}},
		standing.ReasonDuplicateIdentity:   {standing.RoleBuyer: {sus, mSus, ""}, standing.RoleSeller: {sus, mSus, pPart}},
		standing.ReasonFraudConfirmed:      {standing.RoleBuyer: {term, mTerm, ""}, standing.RoleSeller: {term, mTerm, pTerm}},
		standing.ReasonSellerViolation:     {standing.RoleSeller: {"", "", pPart}},
	}
	for _, reason := range p.Reasons {
		for _, role := range []standing.Role{standing.RoleBuyer, standing.RoleSeller} {
			if !reason.AppliesToRole(role) {
				continue
			}
			for _, src := range []standing.Source{standing.SourceRule, standing.SourceReviewer, standing.SourceSystem} {
				for _, duration := range []string{"", "7d"} {
					name := reason.Code + "/" + string(role) + "/" + string(src) + "/" + duration
					t.Run(name, func(t *testing.T) {
						r, rsn := restrict(t, p, reason.Code, role, src, duration)
						s, err := dsa.FromRestriction(r, rsn, created, role, dsa.Options{})
						if reason.Code == standing.ReasonSelfDeleted {
							if !errors.Is(err, dsa.ErrNotADecision) {
								t.Fatalf("self_deleted: err = %v, want ErrNotADecision", err)
							}
							return
						}
						if err != nil {
							t.Fatalf("FromRestriction: %v", err)
						}
						if err := dsa.Validate(s); err != nil {
							t.Fatalf("Validate: %v", err)
						}
						w, ok := wants[reason.Code][role]
						if !ok {
							t.Fatalf("no expectation for %s", name)
						}
						got := want{s.DecisionAccount, s.DecisionMonetary, s.DecisionProvision}
						if got != w {
							t.Errorf("decisions = %+v, want %+v", got, w)
						}
						checkCommon(t, s, r, rsn, role, src)
					})
				}
			}
		}
	}
}

func checkCommon(t *testing.T, s dsa.Statement, r standing.Restriction, reason *standing.Reason, role standing.Role, src standing.Source) {
	t.Helper()
	if s.DecisionGround != dsa.DecisionGroundIncompatibleContent || s.IncompatibleContentGround != reason.DSAGround {
		t.Errorf("ground = %q %q, want incompatible content with %q", s.DecisionGround, s.IncompatibleContentGround, reason.DSAGround)
	}
	if s.IncompatibleContentExplanation == "" {
		t.Error("no incompatible_content_explanation")
	}
	if s.Category != reason.DSACategory {
		t.Errorf("category = %q, want %q", s.Category, reason.DSACategory)
	}
	if !slices.Equal(s.ContentType, []string{dsa.ContentTypeOther}) || s.ContentTypeOther != "account" {
		t.Errorf("content_type = %v %q", s.ContentType, s.ContentTypeOther)
	}
	wantType := map[standing.Role]string{standing.RoleBuyer: dsa.AccountTypePrivate, standing.RoleSeller: dsa.AccountTypeBusiness}[role]
	if s.AccountType != wantType {
		t.Errorf("account_type = %q, want %q", s.AccountType, wantType)
	}
	if s.ContentDate != "2024-03-05" || s.ApplicationDate != "2026-11-23" {
		t.Errorf("content_date %q application_date %q, want 2024-03-05 and 2026-11-23", s.ContentDate, s.ApplicationDate)
	}
	if !slices.Equal(s.TerritorialScope, dsa.EEACountries()) {
		t.Errorf("territorial_scope = %v, want the EEA", s.TerritorialScope)
	}
	if s.SourceType != dsa.SourceVoluntary {
		t.Errorf("source_type = %q", s.SourceType)
	}
	wantDetection, wantDecision := map[standing.Source][2]string{
		standing.SourceRule:     {dsa.Yes, dsa.AutomatedDecisionFully},
		standing.SourceReviewer: {dsa.No, dsa.AutomatedDecisionNotAutomated},
		standing.SourceSystem:   {dsa.Yes, dsa.AutomatedDecisionPartially},
	}[src][0], map[standing.Source][2]string{
		standing.SourceRule:     {dsa.Yes, dsa.AutomatedDecisionFully},
		standing.SourceReviewer: {dsa.No, dsa.AutomatedDecisionNotAutomated},
		standing.SourceSystem:   {dsa.Yes, dsa.AutomatedDecisionPartially},
	}[src][1]
	if s.AutomatedDetection != wantDetection || s.AutomatedDecision != wantDecision {
		t.Errorf("automation = %q %q, want %q %q", s.AutomatedDetection, s.AutomatedDecision, wantDetection, wantDecision)
	}
	if s.PUID != r.ID {
		t.Errorf("puid = %q, want the restriction id %q", s.PUID, r.ID)
	}
	// End dates: on every decision made, unless the decision terminates or is indefinite.
	wantEnd := ""
	if r.EndsAt != nil && !reason.Terminates {
		wantEnd = r.EndsAt.UTC().Format("2006-01-02")
	}
	for _, e := range []struct{ decision, end, name string }{
		{s.DecisionAccount, s.EndDateAccountRestriction, "account"},
		{s.DecisionMonetary, s.EndDateMonetaryRestriction, "monetary"},
		{s.DecisionProvision, s.EndDateServiceRestriction, "service"},
	} {
		w := ""
		if e.decision != "" {
			w = wantEnd
		}
		if e.end != w {
			t.Errorf("end_date_%s_restriction = %q, want %q", e.name, e.end, w)
		}
	}
	if !strings.Contains(s.DecisionFacts, strings.TrimSuffix(reason.Title, ".")) {
		t.Errorf("decision_facts does not name the restriction: %q", s.DecisionFacts)
	}
	if r.Appealable != strings.Contains(s.DecisionFacts, "appeal free of charge") {
		t.Errorf("decision_facts and appealable (%v) disagree: %q", r.Appealable, s.DecisionFacts)
	}
	checkRedress(t, s)
}

// checkRedress wants the remedies besides the internal complaint in decision_facts, as DSA
// Art. 17(3)(f) asks of every statement, appealable or not.
func checkRedress(t *testing.T, s dsa.Statement) {
	t.Helper()
	for _, w := range []string{"certified out-of-court dispute settlement body", "Art. 21", "take it to court"} {
		if !strings.Contains(s.DecisionFacts, w) {
			t.Errorf("decision_facts does not say %q: %q", w, s.DecisionFacts)
		}
	}
}

// TestFactsFitWithEveryRemedy gives a reason catalog words too long for decision_facts: the
// statement still fits in 5000 characters, and still names every remedy.
func TestFactsFitWithEveryRemedy(t *testing.T) {
	p := standing.DefaultPolicy()
	r, _ := restrict(t, p, standing.ReasonRiskReview, standing.RoleBuyer, standing.SourceRule, "7d")
	for _, tt := range []struct{ name, message, remedy string }{
		{"long message", strings.Repeat("Orders are paused. ", 300), "Appeal with documents."},
		{"long remedy", "Orders are paused {until}.", strings.Repeat("Send documents. ", 400)},
		{"both long", strings.Repeat("Orders are paused. ", 300), strings.Repeat("Send documents. ", 400)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			reason, _ := p.Reason(standing.ReasonRiskReview)
			long := *reason
			long.Message, long.Remedy = tt.message, tt.remedy
			s, err := dsa.FromRestriction(r, &long, created, standing.RoleBuyer, dsa.Options{})
			if err != nil {
				t.Fatalf("FromRestriction: %v", err)
			}
			if n := len([]rune(s.DecisionFacts)); n > dsa.MaxFactsLen {
				t.Errorf("decision_facts has %d characters", n)
			}
			checkRedress(t, s)
			if !strings.Contains(s.DecisionFacts, "appeal free of charge") || !strings.Contains(s.DecisionFacts, "Remedy offered: ") {
				t.Errorf("decision_facts lost the internal complaint or the remedy: %q", s.DecisionFacts)
			}
		})
	}
}

func TestNoPersonalData(t *testing.T) {
	p := standing.DefaultPolicy()
	for _, reason := range p.Reasons {
		if reason.Code == standing.ReasonSelfDeleted {
			continue
		}
		role := standing.RoleBuyer
		if reason.AppliesTo == "seller" {
			role = standing.RoleSeller
		}
		r, rsn := restrict(t, p, reason.Code, role, standing.SourceReviewer, "14d")
		// A message override written for this person, and an order id.
		r.Message = "Dear Jane Doe, your order to Kerkstraat 12 was closed. Write to jane.doe@example.com."
		r.OrderID = "ord_for_jane"
		s, err := dsa.FromRestriction(r, rsn, created, role, dsa.Options{})
		if err != nil {
			t.Fatalf("%s: %v", reason.Code, err)
		}
		b, _ := json.Marshal(s)
		for _, pd := range append(personal, "ord_for_jane", r.AccountID) {
			if strings.Contains(string(b), pd) {
				t.Errorf("%s: the statement holds %q:\n%s", reason.Code, pd, b)
			}
		}
	}
}

func TestRedactCatalogText(t *testing.T) {
	// An operator's own reason whose words carry an address, an IP and a phone number.
	p := standing.DefaultPolicy()
	custom := standing.Reason{
		Code: "manual_hold", Title: "Held by support", AppliesTo: "any",
		RemovesNames: []string{"withdraw_funds"}, Appealable: true,
		Message: "Payouts are held {until}. Questions: holds@marketplace.example or +1 (555) 010-9999; seen from 198.51.100.23.",
		// No category: falls back to STATEMENT_CATEGORY_OTHER_VIOLATION_TC.
	}
	p.Reasons = append(p.Reasons, custom)
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	r, rsn := restrict(t, p, "manual_hold", standing.RoleSeller, standing.SourceSystem, "")
	s, err := dsa.FromRestriction(r, rsn, created, standing.RoleSeller, dsa.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, pd := range []string{"holds@marketplace.example", "010-9999", "198.51.100.23"} {
		if strings.Contains(s.DecisionFacts, pd) {
			t.Errorf("decision_facts holds %q: %q", pd, s.DecisionFacts)
		}
	}
	if !strings.Contains(s.DecisionFacts, "Payouts are held until it is lifted.") {
		t.Errorf("decision_facts lost the catalog message: %q", s.DecisionFacts)
	}
	if s.Category != dsa.CategoryOtherViolationTC {
		t.Errorf("category = %q, want the fallback %q", s.Category, dsa.CategoryOtherViolationTC)
	}
	if s.IncompatibleContentGround != "Terms of service: Held by support" {
		t.Errorf("incompatible_content_ground = %q", s.IncompatibleContentGround)
	}
	if s.DecisionMonetary != dsa.DecisionMonetarySuspension || s.DecisionAccount != "" || s.DecisionProvision != "" {
		t.Errorf("decisions %q %q %q, want only a monetary suspension", s.DecisionAccount, s.DecisionMonetary, s.DecisionProvision)
	}
	// A category the policy would refuse, on a reason that did not come through it, falls
	// back too.
	bad := *rsn
	bad.DSACategory = "STATEMENT_CATEGORY_NOT_A_CATEGORY"
	if s, err := dsa.FromRestriction(r, &bad, created, standing.RoleSeller, dsa.Options{}); err != nil || s.Category != dsa.CategoryOtherViolationTC {
		t.Errorf("unknown category: %q, %v; want the fallback %q", s.Category, err, dsa.CategoryOtherViolationTC)
	}

	for in, want := range map[string]string{
		"write to a.b+c@mail.example.org now": "write to [redacted] now",
		"from 10.0.0.1 and fe80::1:2":         "from [redacted] and [redacted]",
		"card 4111 1111 1111 1111":            "card [redacted]",
		"until 2 Dec 2026, 14:00 UTC":         "until 2 Dec 2026, 14:00 UTC",
		"7 days, 120 hours, 3 MB":             "7 days, 120 hours, 3 MB",
		"call +1 (555) 010-9999 today":        "call [redacted] today",
		"from 2026-11-23 to 2026-12-01":       "from 2026-11-23 to 2026-12-01",
		"see Terms:: section":                 "see Terms:: section",
	} {
		if got := dsa.Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSellerClosureAndOptions(t *testing.T) {
	p := standing.DefaultPolicy()
	r, rsn := restrict(t, p, standing.ReasonSellerViolation, standing.RoleSeller, standing.SourceSystem, "")
	s, err := dsa.FromRestriction(r, rsn, created, standing.RoleSeller, dsa.Options{
		Closure:          true,
		TerritorialScope: []string{"DE", "AT"},
		ReferenceURL:     "https://marketplace.example/terms#sellers",
	})
	if err != nil {
		t.Fatal(err)
	}
	if s.DecisionProvision != dsa.DecisionProvisionTotalTermination || s.DecisionAccount != "" || s.EndDateServiceRestriction != "" {
		t.Errorf("closure: provision %q account %q end %q", s.DecisionProvision, s.DecisionAccount, s.EndDateServiceRestriction)
	}
	if !slices.Equal(s.TerritorialScope, []string{"DE", "AT"}) || s.DecisionGroundReferenceURL != "https://marketplace.example/terms#sellers" {
		t.Errorf("options not applied: %v %q", s.TerritorialScope, s.DecisionGroundReferenceURL)
	}
	// A reviewer acting on a rule's flag: detection automated, decision not.
	r, rsn = restrict(t, p, standing.ReasonRiskReview, standing.RoleBuyer, standing.SourceReviewer, "")
	r.RuleID = "rule_declines"
	s, err = dsa.FromRestriction(r, rsn, created, standing.RoleBuyer, dsa.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.AutomatedDetection != dsa.Yes || s.AutomatedDecision != dsa.AutomatedDecisionNotAutomated {
		t.Errorf("flagged by a rule, decided by a reviewer: %q %q", s.AutomatedDetection, s.AutomatedDecision)
	}
	if s.IncompatibleContentExplanation == "" || !strings.Contains(s.IncompatibleContentExplanation, "until it is lifted") {
		t.Errorf("incompatible_content_explanation = %q", s.IncompatibleContentExplanation)
	}
}

// TestStoreClosureIsATermination exports the restrictions seller sanctions make, the way
// the export does — with no options — and expects a closure to be reported as the
// termination it is, and a suspension as a suspension.
func TestStoreClosureIsATermination(t *testing.T) {
	p := standing.DefaultPolicy()
	sanction := func(kind string, d time.Duration) standing.Restriction {
		t.Helper()
		s := penalty.Sanction{Sanction: standing.Sanction{Kind: kind, Duration: standing.Duration(d)}, Ledger: "transaction", Trigger: penalty.TriggerThreshold, Level: 48}
		r, err := s.Restriction(now, "Transactions").Resolve(p, "acc_seller", standing.RoleSeller, now)
		if err != nil {
			t.Fatal(err)
		}
		r.ID = standing.NewID("rst", now)
		return r
	}
	reason, _ := p.Reason(standing.ReasonSellerViolation)

	closure := sanction(penalty.KindClosure, 0)
	s, err := dsa.FromRestriction(closure, reason, created, standing.RoleSeller, dsa.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := want{s.DecisionAccount, s.DecisionMonetary, s.DecisionProvision}
	if w := (want{dsa.DecisionAccountTerminated, dsa.DecisionMonetaryTermination, dsa.DecisionProvisionTotalTermination}); got != w {
		t.Errorf("closure: decisions = %+v, want %+v", got, w)
	}
	if s.EndDateAccountRestriction != "" || s.EndDateMonetaryRestriction != "" || s.EndDateServiceRestriction != "" {
		t.Errorf("closure: end dates %q %q %q, want none", s.EndDateAccountRestriction, s.EndDateMonetaryRestriction, s.EndDateServiceRestriction)
	}
	if !strings.Contains(s.IncompatibleContentExplanation, "the decision is final") || strings.Contains(s.IncompatibleContentExplanation, "until") {
		t.Errorf("closure: explanation = %q, want a final decision", s.IncompatibleContentExplanation)
	}
	if strings.Contains(s.DecisionFacts, "Everything else on the account still works") || strings.Contains(s.DecisionFacts, "paused") ||
		!strings.Contains(s.DecisionFacts, "closed for good") {
		t.Errorf("closure: decision_facts = %q, want a closure, not a pause", s.DecisionFacts)
	}
	if err := dsa.Validate(s); err != nil {
		t.Fatal(err)
	}

	suspension := sanction(penalty.KindSuspension, 30*24*time.Hour)
	s, err = dsa.FromRestriction(suspension, reason, created, standing.RoleSeller, dsa.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.DecisionAccount != "" || s.DecisionProvision != dsa.DecisionProvisionPartialSuspension || s.EndDateServiceRestriction != "2026-12-23" {
		t.Errorf("30-day suspension: account %q provision %q until %q", s.DecisionAccount, s.DecisionProvision, s.EndDateServiceRestriction)
	}
}

func TestFromRestrictionRefusesBadInput(t *testing.T) {
	p := standing.DefaultPolicy()
	r, rsn := restrict(t, p, standing.ReasonRiskReview, standing.RoleBuyer, standing.SourceRule, "")
	other, _ := p.Reason(standing.ReasonDisputeAbuse)
	tests := []struct {
		name    string
		mutate  func(*standing.Restriction)
		reason  *standing.Reason
		created time.Time
		role    standing.Role
		field   string
	}{
		{"no reason", nil, nil, created, standing.RoleBuyer, "reason"},
		{"wrong reason", nil, other, created, standing.RoleBuyer, "reason"},
		{"bad role", nil, rsn, created, "admin", "role"},
		{"no creation date", nil, rsn, time.Time{}, standing.RoleBuyer, "account_created"},
		{"no id", func(r *standing.Restriction) { r.ID = "" }, rsn, created, standing.RoleBuyer, "id"},
		{"no source", func(r *standing.Restriction) { r.Source = "" }, rsn, created, standing.RoleBuyer, "source"},
		{"account created before 2000", nil, rsn, time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC), standing.RoleBuyer, "content_date"},
		{"ground too long", nil, &standing.Reason{Code: r.ReasonCode, Title: "x", DSAGround: strings.Repeat("g", 501)}, created, standing.RoleBuyer, "incompatible_content_ground"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rr := r
			if tt.mutate != nil {
				tt.mutate(&rr)
			}
			_, err := dsa.FromRestriction(rr, tt.reason, tt.created, tt.role, dsa.Options{})
			if standing.ErrorCode(err) != standing.EINVALID || standing.ErrorField(err) != tt.field {
				t.Errorf("err = %v, want invalid %s", err, tt.field)
			}
		})
	}
}

func TestPUID(t *testing.T) {
	for in, want := range map[string]string{
		"rst_01jd5k2m3n4p5q6r7s8t9v0w1x": "rst_01jd5k2m3n4p5q6r7s8t9v0w1x",
		"legacy/42:7 é":                  "legacy-42-7---",
	} {
		got, err := dsa.PUID(in)
		if err != nil || got != want {
			t.Errorf("PUID(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := dsa.PUID(strings.Repeat("a", 501)); standing.ErrorField(err) != "id" {
		t.Errorf("PUID of 501 characters: %v", err)
	}
}

func TestBatches(t *testing.T) {
	mk := func(n int) []dsa.Statement {
		out := make([]dsa.Statement, n)
		for i := range out {
			out[i].PUID = "p" + strings.Repeat("x", i%5)
		}
		return out
	}
	tests := []struct {
		n, size int
		want    []int
	}{
		{0, 100, nil},
		{1, 100, []int{1}},
		{100, 100, []int{100}},
		{250, 100, []int{100, 100, 50}},
		{250, 0, []int{100, 100, 50}},
		{250, 150, []int{100, 100, 50}},
		{10, 3, []int{3, 3, 3, 1}},
	}
	for _, tt := range tests {
		var got []int
		batches := dsa.Batches(mk(tt.n), tt.size)
		for _, b := range batches {
			got = append(got, len(b))
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("Batches(%d, %d) sizes = %v, want %v", tt.n, tt.size, got, tt.want)
		}
		// Appending to a batch must not overwrite the next one.
		if len(batches) > 1 {
			first := batches[1][0].PUID
			_ = append(batches[0], dsa.Statement{PUID: "intruder"})
			if batches[1][0].PUID != first {
				t.Error("appending to a batch changed the next batch")
			}
		}
	}
	b, _ := json.Marshal(dsa.Submission{Statements: mk(2)})
	if !strings.HasPrefix(string(b), `{"statements":[{`) {
		t.Errorf("Submission JSON = %s", b)
	}
}
