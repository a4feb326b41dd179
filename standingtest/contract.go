package standingtest

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"standing"
	"standing/jobs"
)

// TestStore runs the storage contract against stores made by open.
func TestStore(t *testing.T, open Factory) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open Factory)
	}{
		{"Accounts", testAccounts},
		{"BatchConflicts", testBatchConflicts},
		{"ImportWithRestrictions", testImportWithRestrictions},
		{"RestrictCheckLift", testRestrictCheckLift},
		{"RestrictRefusesBadInput", testRestrictBadInput},
		{"TimedRestrictionsExpire", testExpiry},
		{"AuditChain", testAuditChain},
		{"AuditSurvivesErasureOfPersonalData", testAuditErasure},
		{"APIKeys", testAPIKeys},
		{"Jobs", testJobs},
		{"JobsClaimedOnce", testJobsClaimedOnce},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

func testAccounts(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t, standing.NewTestClock(Start)).Store
	a := MustCreateAccount(t, s, standing.RoleBuyer, "ana@example.com")
	if !strings.HasPrefix(a.ID, "acc_") || a.Lifecycle != standing.LifecycleActive || a.EmailVerifiedAt == nil {
		t.Fatalf("created account = %+v", a)
	}
	got, err := s.Account(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Email != "ana@example.com" || got.Role != standing.RoleBuyer || !got.CreatedAt.Equal(a.CreatedAt) {
		t.Fatalf("Account = %+v, want %+v", got, a)
	}
	byEmail, err := s.AccountByEmail(ctx, "ana@example.com")
	if err != nil || byEmail.ID != a.ID {
		t.Fatalf("AccountByEmail = %+v, %v", byEmail, err)
	}
	_, err = s.Account(ctx, "acc_missing")
	WantCode(t, err, standing.ENOTFOUND, "")
	_, err = s.AccountByEmail(ctx, "nobody@example.com")
	WantCode(t, err, standing.ENOTFOUND, "")
	_, err = s.Standing(ctx, "acc_missing")
	WantCode(t, err, standing.ENOTFOUND, "")

	res, err := s.CreateAccounts(ctx, []standing.NewAccount{{Role: standing.RoleSeller, Email: "ana@example.com", Lifecycle: standing.LifecycleUnverified}}, "test")
	if err != nil {
		t.Fatal(err)
	}
	WantCode(t, res[0].Err, standing.ECONFLICT, "email")

	st, err := s.Standing(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if st.Lifecycle != standing.LifecycleActive || len(st.Restrictions) != 0 || st.Role != standing.RoleBuyer {
		t.Fatalf("Standing = %+v", st)
	}
	entries, err := s.Timeline(ctx, a.ID, 0, 10)
	if err != nil || len(entries) != 1 || entries[0].Action != standing.AuditAccountCreated {
		t.Fatalf("Timeline = %+v, %v; want one account.created entry", entries, err)
	}
}

func testBatchConflicts(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t, standing.NewTestClock(Start)).Store
	MustCreateAccount(t, s, standing.RoleBuyer, "taken@example.com")
	in := []standing.NewAccount{
		{Role: standing.RoleBuyer, Email: "one@example.com", Lifecycle: standing.LifecycleActive, ExternalID: "m-1"},
		{Role: standing.RoleBuyer, Email: "taken@example.com", Lifecycle: standing.LifecycleActive},
		{Role: standing.RoleSeller, Email: "two@example.com", Lifecycle: standing.LifecycleUnverified, ExternalID: "m-1"},
		{Role: standing.RoleSeller, Email: "three@example.com", Lifecycle: standing.LifecycleUnverified},
	}
	res, err := s.CreateAccounts(ctx, in, "import")
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Err != nil || res[3].Err != nil {
		t.Fatalf("valid items failed: %v, %v", res[0].Err, res[3].Err)
	}
	WantCode(t, res[1].Err, standing.ECONFLICT, "email")
	WantCode(t, res[2].Err, standing.ECONFLICT, "external_id")
	for _, email := range []string{"one@example.com", "three@example.com"} {
		if _, err := s.AccountByEmail(ctx, email); err != nil {
			t.Errorf("%s was not kept: %v", email, err)
		}
	}
	if _, err := s.AccountByEmail(ctx, "two@example.com"); standing.ErrorCode(err) != standing.ENOTFOUND {
		t.Errorf("the conflicting item was half-created: %v", err)
	}
}

func testImportWithRestrictions(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t, standing.NewTestClock(Start)).Store
	in := []standing.NewAccount{{Role: standing.RoleBuyer, Email: "old@example.com", Lifecycle: standing.LifecycleActive,
		CreatedAt:    Start.Add(-400 * 24 * time.Hour),
		Restrictions: []standing.NewRestriction{{ReasonCode: standing.ReasonDisputeAbuse, Duration: "30d", Source: standing.SourceSystem}}}}
	res, err := s.CreateAccounts(ctx, in, "import")
	if err != nil || res[0].Err != nil {
		t.Fatalf("import: %v %v", err, res[0].Err)
	}
	if !res[0].Account.CreatedAt.Equal(Start.Add(-400 * 24 * time.Hour)) {
		t.Errorf("CreatedAt = %s, want the imported time", res[0].Account.CreatedAt)
	}
	st, err := s.Standing(ctx, res[0].Account.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Restrictions) != 1 || st.Restrictions[0].ReasonCode != standing.ReasonDisputeAbuse || st.Restrictions[0].EndsAt == nil {
		t.Fatalf("imported standing = %+v", st)
	}
	// A seller-only reason on a buyer fails that item and writes nothing of it.
	res, err = s.CreateAccounts(ctx, []standing.NewAccount{{Role: standing.RoleBuyer, Email: "bad@example.com", Lifecycle: standing.LifecycleActive,
		Restrictions: []standing.NewRestriction{{ReasonCode: standing.ReasonSellerViolation}}}}, "import")
	if err != nil {
		t.Fatal(err)
	}
	WantCode(t, res[0].Err, standing.EINVALID, "restrictions[0].reason_code")
	if _, err := s.AccountByEmail(ctx, "bad@example.com"); standing.ErrorCode(err) != standing.ENOTFOUND {
		t.Errorf("the refused item was half-created: %v", err)
	}
	// A later restriction that fails (an end in the past) takes the earlier ones with it;
	// the other items of the batch are kept.
	entries, problem, err := s.VerifyAudit(ctx)
	if err != nil || problem != nil {
		t.Fatalf("VerifyAudit = %+v, %v", problem, err)
	}
	past := Start.Add(-time.Hour)
	res, err = s.CreateAccounts(ctx, []standing.NewAccount{
		{Role: standing.RoleSeller, Email: "late@example.com", Lifecycle: standing.LifecycleActive,
			Restrictions: []standing.NewRestriction{{ReasonCode: standing.ReasonRiskReview}, {ReasonCode: standing.ReasonSellerViolation, EndsAt: &past}}},
		{Role: standing.RoleBuyer, Email: "fine@example.com", Lifecycle: standing.LifecycleActive},
	}, "import")
	if err != nil {
		t.Fatal(err)
	}
	WantCode(t, res[0].Err, standing.EINVALID, "restrictions[1].ends_at")
	if res[1].Err != nil {
		t.Fatalf("the valid item failed: %v", res[1].Err)
	}
	if _, err := s.AccountByEmail(ctx, "late@example.com"); standing.ErrorCode(err) != standing.ENOTFOUND {
		t.Errorf("the refused item was half-created: %v", err)
	}
	if after, _, _ := s.VerifyAudit(ctx); after != entries+1 {
		t.Errorf("audit entries went from %d to %d, want one more (the valid account's)", entries, after)
	}
}

func testRestrictCheckLift(t *testing.T, open Factory) {
	ctx := context.Background()
	clock := standing.NewTestClock(Start)
	s := open(t, clock).Store
	a := MustCreateAccount(t, s, standing.RoleBuyer, "bob@example.com")
	risk := MustRestrict(t, s, a.ID, standing.NewRestriction{ReasonCode: standing.ReasonRiskReview, Note: "VPN at checkout", Actor: "rule-pack", Source: standing.SourceRule})
	dispute := MustRestrict(t, s, a.ID, standing.NewRestriction{ReasonCode: standing.ReasonDisputeAbuse, Duration: "7d"})
	p := standing.DefaultPolicy()
	reason, _ := p.Reason(standing.ReasonRiskReview)
	if risk.Message != standing.RenderUntil(reason.Message, nil) || risk.Remedy != reason.Remedy || !risk.Appealable {
		t.Fatalf("restriction words = %q / %q, want the catalog's", risk.Message, risk.Remedy)
	}
	if risk.Removes != reason.Removes || risk.State != standing.RestrictionActive {
		t.Fatalf("restriction = %+v", risk)
	}
	st, err := s.Standing(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Restrictions) != 2 || st.Restrictions[0].ID != dispute.ID {
		t.Fatalf("standing restrictions = %+v, want dispute_abuse (more severe) first", st.Restrictions)
	}
	now := clock.Now()
	cases := []struct {
		c      standing.Capability
		reason string
	}{
		{standing.CapPlaceOrder, standing.ReasonDisputeAbuse}, // both remove it: the most severe answers
		{standing.CapPay, standing.ReasonRiskReview},
		{standing.CapOpenDispute, standing.ReasonDisputeAbuse},
		{standing.CapViewOrders, ""},
		{standing.CapLogin, ""},
	}
	for _, c := range cases {
		d := st.Check(c.c, now)
		if d.Allowed != (c.reason == "") || d.ReasonCode != c.reason {
			t.Errorf("check %s = %+v, want reason %q", c.c, d, c.reason)
		}
	}
	lifted, err := s.Lift(ctx, dispute.ID, standing.LiftRequest{Note: "appeal overturned", Actor: "reviewer:kim"})
	if err != nil {
		t.Fatal(err)
	}
	if lifted.State != standing.RestrictionLifted || lifted.EndedAt == nil || lifted.EndedBy != "reviewer:kim" {
		t.Fatalf("lifted = %+v", lifted)
	}
	_, err = s.Lift(ctx, dispute.ID, standing.LiftRequest{})
	WantCode(t, err, standing.ECONFLICT, "")
	_, err = s.Lift(ctx, "rst_missing", standing.LiftRequest{})
	WantCode(t, err, standing.ENOTFOUND, "")
	st, _ = s.Standing(ctx, a.ID)
	if d := st.Check(standing.CapPlaceOrder, clock.Now()); d.ReasonCode != standing.ReasonRiskReview {
		t.Fatalf("after lifting dispute_abuse, place_order = %+v, want risk_review", d)
	}
	if d := st.Check(standing.CapOpenDispute, clock.Now()); !d.Allowed {
		t.Fatalf("after lifting dispute_abuse, open_dispute = %+v, want allowed", d)
	}
	all, err := s.Restrictions(ctx, a.ID, true)
	if err != nil || len(all) != 2 {
		t.Fatalf("Restrictions(all) = %d, %v; lifting must not delete", len(all), err)
	}
	got, err := s.Restriction(ctx, dispute.ID)
	if err != nil || got.State != standing.RestrictionLifted || got.EndNote != "appeal overturned" {
		t.Fatalf("Restriction = %+v, %v", got, err)
	}
}

func testRestrictBadInput(t *testing.T, open Factory) {
	ctx := context.Background()
	clock := standing.NewTestClock(Start)
	s := open(t, clock).Store
	buyer := MustCreateAccount(t, s, standing.RoleBuyer, "carl@example.com")
	past := clock.Now().Add(-time.Hour)
	cases := []struct {
		name, account string
		nr            standing.NewRestriction
		code, field   string
	}{
		{"unknown account", "acc_nope", standing.NewRestriction{ReasonCode: standing.ReasonRiskReview}, standing.ENOTFOUND, ""},
		{"unknown reason", buyer.ID, standing.NewRestriction{ReasonCode: "bad_vibes"}, standing.EINVALID, "reason_code"},
		{"missing reason", buyer.ID, standing.NewRestriction{}, standing.EINVALID, "reason_code"},
		{"seller reason on buyer", buyer.ID, standing.NewRestriction{ReasonCode: standing.ReasonSellerViolation}, standing.EINVALID, "reason_code"},
		{"end in the past", buyer.ID, standing.NewRestriction{ReasonCode: standing.ReasonRiskReview, EndsAt: &past}, standing.EINVALID, "ends_at"},
		{"bad duration", buyer.ID, standing.NewRestriction{ReasonCode: standing.ReasonRiskReview, Duration: "soon"}, standing.EINVALID, "duration"},
		{"long note", buyer.ID, standing.NewRestriction{ReasonCode: standing.ReasonRiskReview, Note: strings.Repeat("x", standing.MaxNoteLen+1)}, standing.EINVALID, "note"},
		{"bad source", buyer.ID, standing.NewRestriction{ReasonCode: standing.ReasonRiskReview, Source: "aliens"}, standing.EINVALID, "source"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := s.Restrict(ctx, c.account, c.nr)
			WantCode(t, err, c.code, c.field)
		})
	}
	st, _ := s.Standing(ctx, buyer.ID)
	if len(st.Restrictions) != 0 {
		t.Fatalf("refused restrictions were written: %+v", st.Restrictions)
	}
}

func testExpiry(t *testing.T, open Factory) {
	ctx := context.Background()
	clock := standing.NewTestClock(Start)
	s := open(t, clock).Store
	a := MustCreateAccount(t, s, standing.RoleSeller, "dora@example.com")
	r := MustRestrict(t, s, a.ID, standing.NewRestriction{ReasonCode: standing.ReasonSellerViolation, Duration: "7d"})
	forever := MustRestrict(t, s, a.ID, standing.NewRestriction{ReasonCode: standing.ReasonRiskReview})
	if !strings.Contains(r.Message, "until 30 Nov 2026, 10:00 UTC") {
		t.Fatalf("message %q does not say until when", r.Message)
	}
	st, _ := s.Standing(ctx, a.ID)
	if d := st.Check(standing.CapListProducts, clock.Now()); d.Allowed {
		t.Fatal("list_products allowed during the suspension")
	}
	clock.Advance(7*24*time.Hour - time.Second)
	if n, err := s.ExpireRestrictions(ctx, clock.Now()); err != nil || n != 0 {
		t.Fatalf("ExpireRestrictions before the end = %d, %v", n, err)
	}
	clock.Advance(time.Second)
	// The check goes by time: the suspension has ended even before the sweep records it.
	if d := st.Check(standing.CapListProducts, clock.Now()); !d.Allowed {
		t.Fatalf("list_products at the end of the suspension = %+v", d)
	}
	if n, err := s.ExpireRestrictions(ctx, clock.Now()); err != nil || n != 1 {
		t.Fatalf("ExpireRestrictions = %d, %v, want 1", n, err)
	}
	got, _ := s.Restriction(ctx, r.ID)
	if got.State != standing.RestrictionExpired || got.EndedAt == nil || !got.EndedAt.Equal(*r.EndsAt) {
		t.Fatalf("expired restriction = %+v", got)
	}
	if f, _ := s.Restriction(ctx, forever.ID); f.State != standing.RestrictionActive {
		t.Fatalf("a restriction without an end expired: %+v", f)
	}
	entries, _ := s.Timeline(ctx, a.ID, 0, 100)
	if last := entries[len(entries)-1]; last.Action != standing.AuditRestrictionExpired || last.SubjectID != r.ID {
		t.Fatalf("last audit entry = %+v, want the expiry", last)
	}
}

func testAuditChain(t *testing.T, open Factory) {
	ctx := context.Background()
	b := open(t, standing.NewTestClock(Start))
	s := b.Store
	a := MustCreateAccount(t, s, standing.RoleBuyer, "eve@example.com")
	r := MustRestrict(t, s, a.ID, standing.NewRestriction{ReasonCode: standing.ReasonRiskReview, Note: "proxy"})
	if _, err := s.Lift(ctx, r.ID, standing.LiftRequest{Note: "documents fine"}); err != nil {
		t.Fatal(err)
	}
	MustRestrict(t, s, a.ID, standing.NewRestriction{ReasonCode: standing.ReasonBuyerComplaints})
	n, problem, err := s.VerifyAudit(ctx)
	if err != nil || problem != nil || n != 4 {
		t.Fatalf("VerifyAudit on a clean chain = %d, %+v, %v", n, problem, err)
	}
	entries, _ := s.Timeline(ctx, a.ID, 0, 10)
	var before standing.Summary
	if err := json.Unmarshal([]byte(entries[1].After), &before); err != nil || len(before.Restrictions) != 1 || len(before.Denied) != 4 {
		t.Fatalf("restriction.added after = %s (%v)", entries[1].After, err)
	}
	if entries[1].Personal != "proxy" || entries[2].Personal != "documents fine" {
		t.Fatalf("notes not kept in the entries: %+v", entries)
	}
	// Someone edits the reason of entry 2 by hand.
	if err := b.Exec(ctx, "UPDATE audit_log SET reason = 'fraud_confirmed' WHERE seq = 2"); err != nil {
		t.Fatal(err)
	}
	_, problem, err = s.VerifyAudit(ctx)
	if err != nil || problem == nil || problem.Seq != 2 {
		t.Fatalf("VerifyAudit after an edit = %+v, %v; want entry 2 named", problem, err)
	}
	if err := b.Exec(ctx, "UPDATE audit_log SET reason = 'risk_review' WHERE seq = 2"); err != nil {
		t.Fatal(err)
	}
	if _, problem, _ = s.VerifyAudit(ctx); problem != nil {
		t.Fatalf("restored chain does not verify: %+v", problem)
	}
	// Editing the note changes nothing the chain covers directly, but the sealed hash shows it.
	if err := b.Exec(ctx, "UPDATE audit_log SET personal = 'nothing happened' WHERE seq = 3"); err != nil {
		t.Fatal(err)
	}
	if _, problem, _ = s.VerifyAudit(ctx); problem == nil || problem.Seq != 3 {
		t.Fatalf("VerifyAudit after a note edit = %+v, want entry 3", problem)
	}
	if err := b.Exec(ctx, "UPDATE audit_log SET personal = 'documents fine' WHERE seq = 3"); err != nil {
		t.Fatal(err)
	}
	// Removing the newest entry shows too.
	if err := b.Exec(ctx, "DELETE FROM audit_log WHERE seq = 4"); err != nil {
		t.Fatal(err)
	}
	if _, problem, _ = s.VerifyAudit(ctx); problem == nil || problem.Seq != 4 {
		t.Fatalf("VerifyAudit after deleting the last entry = %+v, want entry 4", problem)
	}
}

func testAuditErasure(t *testing.T, open Factory) {
	ctx := context.Background()
	b := open(t, standing.NewTestClock(Start))
	a := MustCreateAccount(t, b.Store, standing.RoleBuyer, "fay@example.com")
	MustRestrict(t, b.Store, a.ID, standing.NewRestriction{ReasonCode: standing.ReasonRiskReview, Note: "Fay Example, 12 Main St"})
	// An erasure clears the personal part of the entries; the chain must still verify.
	if err := b.Exec(ctx, "UPDATE audit_log SET personal = '', personal_salt = '' WHERE account_id = ?", a.ID); err != nil {
		t.Fatal(err)
	}
	if _, problem, err := b.Store.VerifyAudit(ctx); err != nil || problem != nil {
		t.Fatalf("chain after clearing personal data = %+v, %v", problem, err)
	}
}

func testAPIKeys(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t, standing.NewTestClock(Start)).Store
	k := standing.APIKey{ID: "key_1", Name: "checkout", Prefix: "sk_abc", Scopes: []string{standing.ScopeCheck}, CreatedAt: Start}
	if err := s.CreateAPIKey(ctx, k, "hash-1"); err != nil {
		t.Fatal(err)
	}
	got, err := s.APIKeyByHash(ctx, "hash-1")
	if err != nil || got.Name != "checkout" || !got.HasScope(standing.ScopeCheck) || got.HasScope(standing.ScopeEnforce) {
		t.Fatalf("APIKeyByHash = %+v, %v", got, err)
	}
	_, err = s.APIKeyByHash(ctx, "hash-2")
	WantCode(t, err, standing.ENOTFOUND, "")
	if err := s.RevokeAPIKey(ctx, "key_1"); err != nil {
		t.Fatal(err)
	}
	WantCode(t, s.RevokeAPIKey(ctx, "key_1"), standing.ENOTFOUND, "")
	got, _ = s.APIKeyByHash(ctx, "hash-1")
	if got.RevokedAt == nil {
		t.Fatal("revoked key has no RevokedAt")
	}
	list, err := s.APIKeys(ctx)
	if err != nil || len(list) != 1 {
		t.Fatalf("APIKeys = %+v, %v", list, err)
	}
}

func testJobs(t *testing.T, open Factory) {
	ctx := context.Background()
	clock := standing.NewTestClock(Start)
	s := open(t, clock).Store
	now := clock.Now()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.EnqueueJob(ctx, jobs.Job{Kind: "verify", DedupeKey: "verify:acc_1", RunAt: now.Add(72 * time.Hour), MaxAttempts: 3}))
	must(s.EnqueueJob(ctx, jobs.Job{Kind: "verify", DedupeKey: "verify:acc_1", RunAt: now.Add(time.Hour), MaxAttempts: 3}))
	must(s.EnqueueJob(ctx, jobs.Job{Kind: "mail", Payload: json.RawMessage(`{"to":"x"}`), MaxAttempts: 3}))
	got, err := s.ClaimJobs(ctx, now, 10, time.Minute)
	if err != nil || len(got) != 1 || got[0].Kind != "mail" || got[0].Attempts != 1 || string(got[0].Payload) != `{"to":"x"}` {
		t.Fatalf("ClaimJobs now = %+v, %v; want only the due mail job", got, err)
	}
	if again, _ := s.ClaimJobs(ctx, now, 10, time.Minute); len(again) != 0 {
		t.Fatalf("a running job was claimed twice: %+v", again)
	}
	must(s.RetryJob(ctx, got[0].ID, now.Add(10*time.Second), "smtp down"))
	if early, _ := s.ClaimJobs(ctx, now.Add(5*time.Second), 10, time.Minute); len(early) != 0 {
		t.Fatalf("a retried job ran before its backoff: %+v", early)
	}
	retried, _ := s.ClaimJobs(ctx, now.Add(10*time.Second), 10, time.Minute)
	if len(retried) != 1 || retried[0].Attempts != 2 || retried[0].LastError != "smtp down" {
		t.Fatalf("retried = %+v", retried)
	}
	// A runner that died leaves the job running; after its lease another runner takes it.
	if stale, _ := s.ClaimJobs(ctx, now.Add(10*time.Second+2*time.Minute), 10, time.Minute); len(stale) != 1 || stale[0].Attempts != 3 {
		t.Fatalf("job after an expired lease = %+v", stale)
	}
	must(s.CompleteJob(ctx, retried[0].ID))
	due, _ := s.ClaimJobs(ctx, now.Add(72*time.Hour), 10, time.Minute)
	if len(due) != 1 || due[0].Kind != "verify" || !due[0].RunAt.Equal(now.Add(72*time.Hour)) {
		t.Fatalf("deduplicated job = %+v, want the first one enqueued", due)
	}
	must(s.FailJob(ctx, due[0].ID, "gave up"))
	// Once done or failed, the dedupe key is free again.
	must(s.EnqueueJob(ctx, jobs.Job{Kind: "verify", DedupeKey: "verify:acc_1", RunAt: now, MaxAttempts: 3}))
	if again, _ := s.ClaimJobs(ctx, now.Add(73*time.Hour), 10, time.Minute); len(again) != 1 {
		t.Fatalf("re-enqueued job after failure = %+v", again)
	}
}

func testJobsClaimedOnce(t *testing.T, open Factory) {
	ctx := context.Background()
	clock := standing.NewTestClock(Start)
	s := open(t, clock).Store
	for i := 0; i < 40; i++ {
		if err := s.EnqueueJob(ctx, jobs.Job{Kind: "k", MaxAttempts: 1}); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				got, err := s.ClaimJobs(ctx, clock.Now(), 3, time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, j := range got {
					seen[j.ID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != 40 {
		t.Fatalf("claimed %d distinct jobs, want 40", len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("job %s claimed %d times", id, n)
		}
	}
}
