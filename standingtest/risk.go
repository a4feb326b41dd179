package standingtest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"standing"
	"standing/rules"
)

// RiskStore is what a store offers the risk area: the ledger, webhooks, links, and the
// risk engine's events and rules.
type RiskStore interface {
	standing.LedgerReader
	standing.LedgerWriter
	standing.WebhookStore
	standing.LinkReader
	standing.ProfileWriter
}

// RiskEngine decides on events and keeps rules, over a RiskStore.
type RiskEngine interface {
	ProcessEvents(ctx context.Context, in []standing.EventInput) ([]standing.EventResult, error)
	SaveRule(ctx context.Context, r rules.Rule, actor string, mode rules.SaveMode, baseVersion int) (rules.Revision, bool, error)
	RuleVersions(ctx context.Context, id string) ([]rules.Revision, error)
	TestRule(ctx context.Context, r rules.Rule, sample standing.EventInput, overrides map[string]any) (rules.TestResult, error)
	Backtest(ctx context.Context, r rules.Rule, since, until time.Time, maxEvents int) (rules.BacktestReport, error)
}

// RiskBackend is a store under test with its risk engine.
type RiskBackend struct {
	Backend
	Risk   RiskStore
	Engine RiskEngine
}

// RiskFactory opens a fresh, migrated, empty store with its risk engine (the default rule
// pack seeded), whose clock is clock.
type RiskFactory func(t *testing.T, clock standing.Clock) RiskBackend

// TestRisk runs the risk area's storage contract against stores made by open.
func TestRisk(t *testing.T, open RiskFactory) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open RiskFactory)
	}{
		{"IdempotentLedgerWrites", testIdempotentLedger},
		{"ConcurrentEventsOfOneAccount", testConcurrentEvents},
		{"RepeatedEventIDAtOnce", testRepeatedEventAtOnce},
		{"OutboxWrittenWithTheChange", testOutbox},
		{"LinksFromSharedDetails", testLinks},
		{"ProfileChange", testProfileChange},
		{"RuleVersions", testRuleVersions},
		{"ClosedOrdersStopCountingForTheSeller", testClosedOrdersSeller},
		{"StandingChangedOutsideTheEngine", testStandingChangedOutside},
		{"LinksMadeByAnOrder", testLinksMadeByAnOrder},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

func hashed(kind standing.IdentityKind, v string) standing.IdentityAttribute {
	return standing.IdentityAttribute{Kind: kind, Hash: fmt.Sprintf("%064x", len(v)) + v, Display: v[:2] + "…"}
}

// testIdempotentLedger: a retried write returns the first answer; the same key with
// another body is a conflict; concurrent retries make one order.
func testIdempotentLedger(t *testing.T, open RiskFactory) {
	ctx := context.Background()
	b := open(t, standing.NewTestClock(Start))
	buyer := MustCreateAccount(t, b.Store, standing.RoleBuyer, "buyer@example.com")
	seller := MustCreateAccount(t, b.Store, standing.RoleSeller, "seller@example.com")
	n := standing.NewOrder{BuyerID: buyer.ID, SellerID: seller.ID, Amount: 100, Currency: "EUR", Status: standing.OrderPendingPayment, PlacedAt: Start}
	idem := &standing.Idempotency{Key: "k1", Caller: "key_1", Route: "POST /v1/orders", Fingerprint: "f1"}
	var wg sync.WaitGroup
	ids := make([]string, 8)
	errs := make([]error, 8)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o, _, err := b.Risk.CreateOrder(ctx, n, idem)
			ids[i], errs[i] = o.ID, err
		}()
	}
	wg.Wait()
	for i := range ids {
		if errs[i] != nil && standing.ErrorCode(errs[i]) != standing.ECONFLICT {
			t.Fatalf("concurrent retry %d: %v", i, errs[i])
		}
		if errs[i] == nil && ids[i] != ids[0] && ids[0] != "" {
			t.Fatalf("concurrent retries made orders %s and %s", ids[0], ids[i])
		}
	}
	orders, err := b.Risk.Orders(ctx, buyer.ID, 10)
	if err != nil || len(orders) != 1 {
		t.Fatalf("orders = %v, %v; want one", orders, err)
	}
	o, replayed, err := b.Risk.CreateOrder(ctx, n, idem)
	if err != nil || !replayed || o.ID != orders[0].ID {
		t.Fatalf("replay = %v %v %v", o.ID, replayed, err)
	}
	other := *idem
	other.Fingerprint = "f2"
	_, _, err = b.Risk.CreateOrder(ctx, n, &other)
	WantCode(t, err, standing.ECONFLICT, "Idempotency-Key")
	// A key is the caller's own: another caller's same key is a new request.
	theirs := *idem
	theirs.Caller = "key_2"
	if o2, replayed, err := b.Risk.CreateOrder(ctx, n, &theirs); err != nil || replayed || o2.ID == o.ID {
		t.Fatalf("another caller's key: %v %v %v", o2.ID, replayed, err)
	}
	// The status moves and what it records.
	paid := standing.OrderPaid
	up, _, err := b.Risk.UpdateOrder(ctx, o.ID, standing.OrderPatch{Status: &paid, At: Start}, nil)
	if err != nil || up.Status != standing.OrderPaid || up.PaidAt == nil {
		t.Fatalf("pay: %+v %v", up, err)
	}
	done := standing.OrderCompleted
	_, _, err = b.Risk.UpdateOrder(ctx, o.ID, standing.OrderPatch{Status: &done, At: Start}, nil)
	WantCode(t, err, standing.ECONFLICT, "status")
}

// fires posts one event and reports whether the rule fired on it.
func fires(t *testing.T, e RiskEngine, ev standing.EventInput, ruleID string) bool {
	t.Helper()
	res, err := e.ProcessEvents(context.Background(), []standing.EventInput{ev})
	if err != nil || res[0].Err != nil {
		t.Fatal(err, res)
	}
	for _, f := range res[0].Decision.Fired {
		if f.RuleID == ruleID {
			return true
		}
	}
	return false
}

func login(id, account string, at time.Time) standing.EventInput {
	return standing.EventInput{Event: standing.Event{ID: id, AccountID: account, Type: "login_succeeded", Time: at, IP: "192.0.2.1"}}
}

// eventsTotal returns the account's stored events_total, through a rule test.
func eventsTotal(t *testing.T, e RiskEngine, account string) int {
	t.Helper()
	res, err := e.TestRule(context.Background(), rules.Rule{ID: "probe", Name: "probe", Expression: "features.events_total > 0",
		Outcome: rules.Outcome{Score: 1}, Mode: rules.ModeActive, Enabled: true},
		standing.EventInput{Event: standing.Event{AccountID: account, Type: "probe", Time: Start}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return int(res.Features[rules.FeatureEventsTotal].(int)) - 1
}

// testConcurrentEvents: events of one account from many goroutines at once all count:
// the store serialises updates of an account's features.
func testConcurrentEvents(t *testing.T, open RiskFactory) {
	b := open(t, standing.NewTestClock(Start))
	acc := MustCreateAccount(t, b.Store, standing.RoleBuyer, "busy@example.com")
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				res, err := b.Engine.ProcessEvents(context.Background(), []standing.EventInput{login(fmt.Sprintf("c-%d-%d", g, i), acc.ID, Start)})
				if err != nil || res[0].Err != nil {
					t.Errorf("event: %v %v", err, res)
					return
				}
			}
		}()
	}
	wg.Wait()
	if n := eventsTotal(t, b.Engine, acc.ID); n != 80 {
		t.Fatalf("events_total = %d after 80 concurrent events", n)
	}
}

// testRepeatedEventAtOnce: one event id sent by several goroutines at once, and twice in
// one batch, is decided once.
func testRepeatedEventAtOnce(t *testing.T, open RiskFactory) {
	ctx := context.Background()
	b := open(t, standing.NewTestClock(Start))
	acc := MustCreateAccount(t, b.Store, standing.RoleBuyer, "again@example.com")
	var wg sync.WaitGroup
	dups := make([]bool, 6)
	for g := range dups {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := b.Engine.ProcessEvents(ctx, []standing.EventInput{login("same", acc.ID, Start)})
			if err != nil || res[0].Err != nil {
				t.Errorf("event: %v %v", err, res)
				return
			}
			dups[g] = res[0].Decision.Duplicate
		}()
	}
	wg.Wait()
	firsts := 0
	for _, d := range dups {
		if !d {
			firsts++
		}
	}
	if firsts != 1 {
		t.Fatalf("%d of 6 concurrent copies were decided as new", firsts)
	}
	res, err := b.Engine.ProcessEvents(ctx, []standing.EventInput{login("twice", acc.ID, Start), login("twice", acc.ID, Start), login("nobody", "acc_nobody", Start)})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Decision == nil || res[0].Decision.Duplicate || res[1].Decision == nil || !res[1].Decision.Duplicate {
		t.Fatalf("twice in one batch: %+v", res)
	}
	WantCode(t, res[2].Err, standing.ENOTFOUND, "account_id")
	if n := eventsTotal(t, b.Engine, acc.ID); n != 2 {
		t.Fatalf("events_total = %d, want 2", n)
	}
}

// testOutbox: a restriction writes its webhook message and, for each subscribed endpoint,
// a delivery and its job, in the same transaction.
func testOutbox(t *testing.T, open RiskFactory) {
	ctx := context.Background()
	clock := standing.NewTestClock(Start)
	b := open(t, clock)
	all, err := b.Risk.CreateWebhookEndpoint(ctx, standing.NewWebhookEndpoint{URL: "https://a.example/hooks"}, "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	if err != nil {
		t.Fatal(err)
	}
	orders, err := b.Risk.CreateWebhookEndpoint(ctx, standing.NewWebhookEndpoint{URL: "https://b.example/hooks", EventTypes: []string{standing.WebhookOrderClosed}}, "whsec_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB")
	if err != nil {
		t.Fatal(err)
	}
	acc := MustCreateAccount(t, b.Store, standing.RoleBuyer, "hooked@example.com")
	r := MustRestrict(t, b.Store, acc.ID, standing.NewRestriction{ReasonCode: standing.ReasonRiskReview})
	jobs, err := b.Store.ClaimJobs(ctx, clock.Now(), 100, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	webhookJobs := 0
	for _, j := range jobs {
		if j.Kind == "webhook.deliver" {
			webhookJobs++
		}
	}
	if webhookJobs != 1 {
		t.Fatalf("webhook jobs = %d, want 1 (the order endpoint does not subscribe to account.restricted)", webhookJobs)
	}
	ds, err := b.Risk.WebhookDeliveries(ctx, all.ID, "", 10)
	if err != nil || len(ds) != 1 || ds[0].EventType != standing.WebhookAccountRestricted || ds[0].State != standing.DeliveryPending {
		t.Fatalf("deliveries = %+v, %v", ds, err)
	}
	if ds, _ := b.Risk.WebhookDeliveries(ctx, orders.ID, "", 10); len(ds) != 0 {
		t.Fatalf("the order endpoint got %+v", ds)
	}
	if _, err := b.Store.Lift(ctx, r.ID, standing.LiftRequest{Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	if ds, _ := b.Risk.WebhookDeliveries(ctx, all.ID, "", 10); len(ds) != 2 || ds[0].EventType != standing.WebhookRestrictionLifted {
		t.Fatalf("after the lift: %+v", ds)
	}
	// Disabling cancels what is pending.
	off := false
	if _, err := b.Risk.UpdateWebhookEndpoint(ctx, all.ID, standing.WebhookEndpointPatch{Enabled: &off}); err != nil {
		t.Fatal(err)
	}
	if ds, _ := b.Risk.WebhookDeliveries(ctx, all.ID, standing.DeliveryPending, 10); len(ds) != 0 {
		t.Fatalf("pending after disabling: %+v", ds)
	}
	// A failed write sends nothing: the restriction of an unknown reason rolls back.
	if _, err := b.Store.Restrict(ctx, acc.ID, standing.NewRestriction{ReasonCode: "nope"}); err == nil {
		t.Fatal("restricted with an unknown reason")
	}
	if ds, _ := b.Risk.WebhookDeliveries(ctx, orders.ID, "", 10); len(ds) != 0 {
		t.Fatalf("deliveries after a failed write: %+v", ds)
	}
}

// testLinks: two accounts sharing strong details are linked both ways with each detail
// explained; a shared name alone links nobody.
func testLinks(t *testing.T, open RiskFactory) {
	ctx := context.Background()
	b := open(t, standing.NewTestClock(Start))
	a := MustCreateAccount(t, b.Store, standing.RoleBuyer, "a@example.com")
	c := MustCreateAccount(t, b.Store, standing.RoleBuyer, "c@example.com")
	d := MustCreateAccount(t, b.Store, standing.RoleBuyer, "d@example.com")
	card, phone, name := hashed(standing.IdentityCardFingerprint, "fp_card"), hashed(standing.IdentityPhone, "+4911"), hashed(standing.IdentityName, "jane")
	for i, acc := range []string{a.ID, c.ID} {
		ev := login(fmt.Sprint("l", i), acc, Start)
		ev.Identity = []standing.IdentityAttribute{card, phone, name}
		if res, err := b.Engine.ProcessEvents(ctx, []standing.EventInput{ev}); err != nil || res[0].Err != nil {
			t.Fatal(err, res)
		}
	}
	ev := login("l3", d.ID, Start)
	ev.Identity = []standing.IdentityAttribute{name}
	if _, err := b.Engine.ProcessEvents(ctx, []standing.EventInput{ev}); err != nil {
		t.Fatal(err)
	}
	for _, pair := range [][2]string{{a.ID, c.ID}, {c.ID, a.ID}} {
		links, err := b.Risk.Links(ctx, pair[0])
		if err != nil || len(links) != 1 || links[0].AccountID != pair[1] || len(links[0].Shared) != 3 {
			t.Fatalf("links of %s = %+v, %v", pair[0], links, err)
		}
		if !strings.Contains(links[0].Because, "payment card") {
			t.Errorf("because = %q", links[0].Because)
		}
	}
	if links, _ := b.Risk.Links(ctx, d.ID); len(links) != 0 {
		t.Fatalf("a shared name linked: %+v", links)
	}
	_, err := b.Risk.Links(ctx, "acc_nobody")
	WantCode(t, err, standing.ENOTFOUND, "")
}

// testProfileChange: a person's profile change writes the account, an audit entry with
// the values before and after as personal data, and a profile_changed event that backtests
// see and the features count; the new phone links the account to another that has it. A
// change to the same values writes nothing.
func testProfileChange(t *testing.T, open RiskFactory) {
	ctx := context.Background()
	clock := standing.NewTestClock(Start)
	b := open(t, clock)
	ana := MustCreateAccount(t, b.Store, standing.RoleBuyer, "ana@example.com")
	twin := MustCreateAccount(t, b.Store, standing.RoleBuyer, "twin@example.com")
	const phone = "+4915100000002"
	ev := login("twin-login", twin.ID, Start)
	ev.Identity = []standing.IdentityAttribute{hashed(standing.IdentityPhone, phone)}
	if res, err := b.Engine.ProcessEvents(ctx, []standing.EventInput{ev}); err != nil || res[0].Err != nil {
		t.Fatal(err, res)
	}
	identity := func(a standing.Account) []standing.IdentityAttribute {
		var out []standing.IdentityAttribute
		if a.Phone != "" {
			out = append(out, hashed(standing.IdentityPhone, a.Phone))
		}
		if a.Name != "" {
			out = append(out, hashed(standing.IdentityName, a.Name))
		}
		return out
	}
	str := func(s string) *string { return &s }
	clock.Advance(time.Minute)
	change := standing.ProfileChange{Name: str("Ana Lima"), Phone: str(phone), Country: str("PT")}
	got, err := b.Risk.ChangeProfile(ctx, ana.ID, change, "192.0.2.9", identity)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "Ana Lima" || got.Phone != phone || got.Country != "PT" || !got.UpdatedAt.Equal(clock.Now()) {
		t.Fatalf("changed account = %+v", got)
	}
	if stored, err := b.Store.Account(ctx, ana.ID); err != nil || stored.Name != got.Name || stored.Phone != phone || stored.Country != "PT" {
		t.Fatalf("stored account = %+v, %v", stored, err)
	}

	entries, err := b.Store.Timeline(ctx, ana.ID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	last := entries[len(entries)-1]
	if last.Action != standing.AuditProfileChanged || last.Actor != "self" || last.Reason != "changed name, phone, country" {
		t.Fatalf("audit entry = %+v", last)
	}
	var personal map[string]map[string]string
	if err := json.Unmarshal([]byte(last.Personal), &personal); err != nil {
		t.Fatalf("personal data %q: %v", last.Personal, err)
	}
	if personal["before"]["phone"] != "" || personal["after"]["phone"] != phone || personal["after"]["name"] != "Ana Lima" {
		t.Errorf("personal data = %v", personal)
	}
	if strings.Contains(last.Before+last.After+last.Reason, phone) {
		t.Errorf("the phone is outside the entry's personal data, where an erasure cannot clear it: %+v", last)
	}

	links, err := b.Risk.Links(ctx, ana.ID)
	if err != nil || len(links) != 1 || links[0].AccountID != twin.ID || len(links[0].Shared) != 1 || links[0].Shared[0].Kind != standing.IdentityPhone {
		t.Fatalf("links after the new phone = %+v, %v", links, err)
	}

	profileEvents := func() int {
		t.Helper()
		rep, err := b.Engine.Backtest(ctx, rules.Rule{ID: "profile", Name: "profile", Expression: `event.type == "profile_changed"`,
			Outcome: rules.Outcome{Score: 1}, Mode: rules.ModeActive, Enabled: true}, Start, clock.Now().Add(time.Hour), 1000)
		if err != nil {
			t.Fatal(err)
		}
		return rep.Fired
	}
	profileFeature := func() int {
		t.Helper()
		res, err := b.Engine.TestRule(ctx, rules.Rule{ID: "probe", Name: "probe", Expression: "features.profile_changes_30d > 0",
			Outcome: rules.Outcome{Score: 1}, Mode: rules.ModeActive, Enabled: true},
			standing.EventInput{Event: standing.Event{AccountID: ana.ID, Type: "probe", Time: clock.Now()}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return res.Features[rules.FeatureProfileChanges30d].(int)
	}
	if n, f := profileEvents(), profileFeature(); n != 1 || f != 1 {
		t.Fatalf("profile_changed events stored %d, counted in the features %d; want 1 and 1", n, f)
	}

	// The same values again change nothing and record nothing.
	same := standing.ProfileChange{Name: str("Ana Lima"), Country: str("PT")}
	if again, err := b.Risk.ChangeProfile(ctx, ana.ID, same, "192.0.2.9", identity); err != nil ||
		again.Name != got.Name || again.Phone != got.Phone || again.Country != got.Country || !again.UpdatedAt.Equal(got.UpdatedAt) {
		t.Fatalf("an unchanged profile = %+v, %v; want %+v", again, err, got)
	}
	if after, _ := b.Store.Timeline(ctx, ana.ID, 0, 100); len(after) != len(entries) {
		t.Errorf("an unchanged profile added %d audit entries", len(after)-len(entries))
	}
	if n, f := profileEvents(), profileFeature(); n != 1 || f != 1 {
		t.Errorf("after an unchanged profile: %d events, feature %d; want 1 and 1", n, f)
	}

	// Clearing the phone keeps the link: the account was seen with the phone.
	if cleared, err := b.Risk.ChangeProfile(ctx, ana.ID, standing.ProfileChange{Phone: str("")}, "", identity); err != nil || cleared.Phone != "" || cleared.Name != "Ana Lima" {
		t.Fatalf("clearing the phone = %+v, %v", cleared, err)
	}
	if links, _ := b.Risk.Links(ctx, ana.ID); len(links) != 1 {
		t.Errorf("links after clearing the phone = %+v", links)
	}
	if f := profileFeature(); f != 2 {
		t.Errorf("profile_changes_30d after two changes = %d", f)
	}
	_, err = b.Risk.ChangeProfile(ctx, "acc_nobody", change, "", identity)
	WantCode(t, err, standing.ENOTFOUND, "")
}

// testRuleVersions: saving keeps every version; an unchanged save keeps the version; a
// stale base version is a conflict.
func testRuleVersions(t *testing.T, open RiskFactory) {
	ctx := context.Background()
	b := open(t, standing.NewTestClock(Start))
	r := rules.Rule{ID: "v", Name: "V", Expression: "features.orders_1h > 1", Outcome: rules.Outcome{Score: 1}, Mode: rules.ModeActive, Enabled: true}
	if rev, changed, err := b.Engine.SaveRule(ctx, r, "t", rules.SaveCreate, 0); err != nil || !changed || rev.Version != 1 {
		t.Fatalf("create: %+v %v %v", rev, changed, err)
	}
	_, _, err := b.Engine.SaveRule(ctx, r, "t", rules.SaveCreate, 0)
	WantCode(t, err, standing.ECONFLICT, "id")
	r.Mode = rules.ModeShadow
	if rev, changed, err := b.Engine.SaveRule(ctx, r, "t", rules.SaveUpdate, 1); err != nil || !changed || rev.Version != 2 {
		t.Fatalf("update: %+v %v %v", rev, changed, err)
	}
	if rev, changed, err := b.Engine.SaveRule(ctx, r, "t", rules.SaveUpdate, 0); err != nil || changed || rev.Version != 2 {
		t.Fatalf("unchanged: %+v %v %v", rev, changed, err)
	}
	r.Expression = "features.orders_1h > 2"
	_, _, err = b.Engine.SaveRule(ctx, r, "t", rules.SaveUpdate, 1)
	WantCode(t, err, standing.ECONFLICT, "version")
	r.Expression = "features.orders_1h >"
	_, _, err = b.Engine.SaveRule(ctx, r, "t", rules.SaveUpdate, 0)
	WantCode(t, err, standing.EINVALID, "expression")
	vs, err := b.Engine.RuleVersions(ctx, "v")
	if err != nil || len(vs) != 2 || vs[0].Version != 2 || vs[1].Mode != rules.ModeActive {
		t.Fatalf("versions = %+v, %v", vs, err)
	}
}

// testClosedOrdersSeller: when a rule closes a buyer's orders, they stop counting as
// active orders of their seller too, whose risk side the engine already holds.
func testClosedOrdersSeller(t *testing.T, open RiskFactory) {
	ctx := context.Background()
	b := open(t, standing.NewTestClock(Start))
	buyer := MustCreateAccount(t, b.Store, standing.RoleBuyer, "closed-buyer@example.com")
	seller := MustCreateAccount(t, b.Store, standing.RoleSeller, "closed-seller@example.com")
	for _, r := range []rules.Rule{
		{ID: "seller_busy", Name: "Seller has active orders", Expression: `account.role == "seller" && features.active_orders > 0`,
			Outcome: rules.Outcome{Score: 1}, Mode: rules.ModeActive, Enabled: true},
		{ID: "close_on_chargeback", Name: "Close the orders of a buyer with a chargeback", Expression: `event.type == "chargeback_probe"`,
			Outcome: rules.Outcome{CloseOpenOrders: true}, Mode: rules.ModeActive, Enabled: true},
	} {
		if _, _, err := b.Engine.SaveRule(ctx, r, "test", rules.SaveCreate, 0); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := b.Risk.CreateOrder(ctx, standing.NewOrder{BuyerID: buyer.ID, SellerID: seller.ID, Amount: 100, Currency: "EUR",
		Status: standing.OrderPaid, PlacedAt: Start}, nil); err != nil {
		t.Fatal(err)
	}
	busy := func(ev standing.EventInput) bool { t.Helper(); return fires(t, b.Engine, ev, "seller_busy") }
	if !busy(login("seller-1", seller.ID, Start)) {
		t.Fatal("the seller's paid order does not count as active")
	}
	closing := login("buyer-1", buyer.ID, Start)
	closing.Type = "chargeback_probe"
	busy(closing)
	if orders, err := b.Risk.Orders(ctx, buyer.ID, 10); err != nil || len(orders) != 1 || orders[0].Status != standing.OrderClosedByRisk {
		t.Fatalf("the rule did not close the order: %+v, %v", orders, err)
	}
	if busy(login("seller-2", seller.ID, Start)) {
		t.Fatal("the closed order still counts as an active order of the seller")
	}
}

// testStandingChangedOutside: the engine sees restrictions added, lifted and expired by
// others, and orders placed, between an account's events — whatever it keeps of the
// account in memory.
func testStandingChangedOutside(t *testing.T, open RiskFactory) {
	ctx := context.Background()
	clock := standing.NewTestClock(Start)
	b := open(t, clock)
	acc := MustCreateAccount(t, b.Store, standing.RoleBuyer, "outside@example.com")
	seller := MustCreateAccount(t, b.Store, standing.RoleSeller, "outside-seller@example.com")
	if _, _, err := b.Engine.SaveRule(ctx, rules.Rule{ID: "probe_review", Name: "Probe", Expression: `event.type == "review_probe"`,
		Outcome: rules.Outcome{ReasonCode: standing.ReasonRiskReview, CloseOpenOrders: true}, Mode: rules.ModeActive, Enabled: true},
		"test", rules.SaveCreate, 0); err != nil {
		t.Fatal(err)
	}
	n := 0
	// probe posts an event the rule fires on and returns its restrict and close actions.
	probe := func() (restrict, closeOrders standing.RiskAction) {
		t.Helper()
		n++
		ev := login(fmt.Sprintf("outside-%d", n), acc.ID, clock.Now())
		ev.Type = "review_probe"
		res, err := b.Engine.ProcessEvents(ctx, []standing.EventInput{ev})
		if err != nil || res[0].Err != nil {
			t.Fatal(err, res)
		}
		for _, a := range res[0].Decision.Actions {
			switch a.Kind {
			case standing.ActionRestrict:
				restrict = a
			case standing.ActionCloseOrders:
				closeOrders = a
			}
		}
		return restrict, closeOrders
	}
	first, closed := probe()
	if !first.Done || first.RestrictionID == "" || closed.Done {
		t.Fatalf("first firing: %+v %+v", first, closed)
	}
	if again, _ := probe(); again.Done || again.RestrictionID != first.RestrictionID {
		t.Fatalf("second firing: %+v, want the first restriction %s, already active", again, first.RestrictionID)
	}
	// Lifted by a person: the next firing restricts again.
	if _, err := b.Store.Lift(ctx, first.RestrictionID, standing.LiftRequest{Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	second, _ := probe()
	if !second.Done || second.RestrictionID == first.RestrictionID {
		t.Fatalf("after the lift: %+v, want a new restriction", second)
	}
	// Lifted, then restricted for the same reason by a person: the firing finds that one.
	if _, err := b.Store.Lift(ctx, second.RestrictionID, standing.LiftRequest{Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	end := clock.Now().Add(time.Hour)
	manual := MustRestrict(t, b.Store, acc.ID, standing.NewRestriction{ReasonCode: standing.ReasonRiskReview, EndsAt: &end})
	// An order placed meanwhile is closed.
	o, _, err := b.Risk.CreateOrder(ctx, standing.NewOrder{BuyerID: acc.ID, SellerID: seller.ID, Amount: 100, Currency: "EUR",
		Status: standing.OrderPaid, PlacedAt: clock.Now()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, closed := probe()
	if got.Done || got.RestrictionID != manual.ID {
		t.Fatalf("after a person's restriction: %+v, want %s, already active", got, manual.ID)
	}
	if !closed.Done || len(closed.OrderIDs) != 1 || closed.OrderIDs[0] != o.ID {
		t.Fatalf("the order placed between the events was not closed: %+v", closed)
	}
	// Expired: the next firing restricts again.
	if err := clock.Advance(2 * time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Store.ExpireRestrictions(ctx, clock.Now()); err != nil {
		t.Fatal(err)
	}
	if third, _ := probe(); !third.Done || third.RestrictionID == manual.ID {
		t.Fatalf("after the expiry: %+v, want a new restriction", third)
	}
}

// testLinksMadeByAnOrder: an order whose details link its buyer to another account shows in
// the buyer's next event, though the engine had seen the buyer without links.
func testLinksMadeByAnOrder(t *testing.T, open RiskFactory) {
	ctx := context.Background()
	b := open(t, standing.NewTestClock(Start))
	buyer := MustCreateAccount(t, b.Store, standing.RoleBuyer, "order-links@example.com")
	twin := MustCreateAccount(t, b.Store, standing.RoleBuyer, "order-twin@example.com")
	seller := MustCreateAccount(t, b.Store, standing.RoleSeller, "order-links-seller@example.com")
	if _, _, err := b.Engine.SaveRule(ctx, rules.Rule{ID: "linked_probe", Name: "Linked", Expression: `features.linked_accounts > 0`,
		Outcome: rules.Outcome{Score: 1}, Mode: rules.ModeActive, Enabled: true}, "test", rules.SaveCreate, 0); err != nil {
		t.Fatal(err)
	}
	details := []standing.IdentityAttribute{hashed(standing.IdentityCardFingerprint, "fp_twin"), hashed(standing.IdentityPhone, "+4915100000077")}
	linked := func(ev standing.EventInput) bool { t.Helper(); return fires(t, b.Engine, ev, "linked_probe") }
	if linked(login("links-1", buyer.ID, Start)) {
		t.Fatal("the buyer has links before any detail is shared")
	}
	tw := login("links-twin", twin.ID, Start)
	tw.Identity = details
	linked(tw)
	if _, _, err := b.Risk.CreateOrder(ctx, standing.NewOrder{BuyerID: buyer.ID, SellerID: seller.ID, Amount: 100, Currency: "EUR",
		Status: standing.OrderPaid, PlacedAt: Start, Identity: details}, nil); err != nil {
		t.Fatal(err)
	}
	if links, err := b.Risk.Links(ctx, buyer.ID); err != nil || len(links) != 1 || links[0].AccountID != twin.ID {
		t.Fatalf("links of the buyer after the order: %+v, %v", links, err)
	}
	if !linked(login("links-2", buyer.ID, Start)) {
		t.Fatal("the buyer's next event does not see the link the order made")
	}
}
