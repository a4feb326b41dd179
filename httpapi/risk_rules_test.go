package httpapi_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"standing"
	"standing/rules"
)

// scene is one story's cast: a buyer with two open orders from a seller.
type scene struct {
	e             *riskEnv
	buyer, email  string
	seller        string
	orders        []string
	decisions     []map[string]any
	flaggedOrder  string
	other, otherE string // a second account, for identity stories
}

// dev names a device of the scene's buyer: device ids link accounts, so stories must not
// share them.
func (s *scene) dev(name string) string { return s.buyer + "/" + name }

// story is a default rule's story: the events that should make it fire (or, for a near
// miss, nearly), and what should follow.
type story struct {
	name   string
	rule   string
	setup  func(s *scene)
	events func(s *scene) []map[string]any
	// reason is the restriction that follows ("" for none), closes whether the buyer's
	// open orders are closed, denied a capability the restriction removes, review whether
	// the account goes to the reviewers' queue.
	reason string
	closes bool
	denied string
	review bool
	// fires is false for a near miss: the rule stays quiet and the account allowed.
	fires bool
}

// hours returns n events made by mk, one an hour, the last a minute ago.
func hours(n int, mk func(i int, ago time.Duration) map[string]any) []map[string]any {
	out := make([]map[string]any, n)
	for i := range out {
		out[i] = mk(i, time.Duration(n-1-i)*time.Hour+time.Minute)
	}
	return out
}

func defaultRuleStories() []story {
	p := standing.DefaultPolicy().Risk
	logins := func(n int, ip func(i int) string, dev func(s *scene, i int) string) func(s *scene) []map[string]any {
		return func(s *scene) []map[string]any {
			return hours(n, func(i int, ago time.Duration) map[string]any {
				return s.e.event("login_succeeded", s.buyer, ago, map[string]any{"ip": ip(i), "device_id": dev(s, i)})
			})
		}
	}
	distinctIP := func(i int) string { return fmt.Sprintf("192.0.2.%d", 20+i) }
	sameIP := func(int) string { return plainIP }
	distinctDevice := func(s *scene, i int) string { return s.dev(fmt.Sprint("device-", i)) }
	sameDevice := func(s *scene, _ int) string { return s.dev("home") }
	times := func(typ string, n int, spacing time.Duration) func(s *scene) []map[string]any {
		return func(s *scene) []map[string]any {
			out := make([]map[string]any, n)
			for i := range out {
				out[i] = s.e.event(typ, s.buyer, time.Duration(n-1-i)*spacing+time.Minute, map[string]any{"ip": plainIP, "device_id": s.dev("home")})
			}
			return out
		}
	}
	// declines: n declined payments an hour apart from the usual device and a plain
	// address, the last one from lastIP and lastDevice.
	declines := func(n int, lastIP, lastDevice string) func(s *scene) []map[string]any {
		return func(s *scene) []map[string]any {
			return hours(n, func(i int, ago time.Duration) map[string]any {
				ip, dev := plainIP, s.dev("home")
				if i == n-1 {
					ip, dev = lastIP, s.dev(lastDevice)
				}
				return s.e.event("payment_declined", s.buyer, ago, map[string]any{"ip": ip, "device_id": dev,
					"attributes": map[string]any{"card_fingerprint": "fp_story_card_" + s.buyer}})
			})
		}
	}
	checkouts := func(n int) func(s *scene) []map[string]any {
		return func(s *scene) []map[string]any {
			out := make([]map[string]any, n)
			for i := range out {
				out[i] = s.e.event("order_placed", s.buyer, time.Duration(n-1-i)*5*time.Minute+time.Minute, map[string]any{"ip": plainIP, "device_id": s.dev("home")})
			}
			return out
		}
	}
	disputes := func(active, open int) func(s *scene) {
		return func(s *scene) {
			for len(s.orders) < active {
				s.orders = append(s.orders, s.e.order(s.buyer, s.seller, nil))
			}
			for i := 0; i < open; i++ {
				s.e.MustAPI("POST", "/v1/disputes", map[string]any{"order_id": s.orders[i], "reason": "not_received"}, http.StatusCreated)
			}
		}
	}
	disputeEvent := func(s *scene) []map[string]any {
		return []map[string]any{s.e.event("dispute_opened", s.buyer, time.Minute, map[string]any{"ip": plainIP})}
	}
	// twin gives a second buyer the buyer's card fingerprint and phone; restricted says
	// whether a reviewer confirmed fraud on the twin first.
	twin := func(restricted bool) func(s *scene) {
		return func(s *scene) {
			s.other, s.otherE = s.e.account("buyer")
			// Each story's twins get a phone of their own, so stories do not link to each other.
			shared := map[string]any{"card_fingerprint": "fp_shared_" + s.buyer, "phone": fmt.Sprintf("+49 151 23%06d", s.e.n)}
			s.e.post(s.e.event("payment_succeeded", s.other, 2*time.Hour, map[string]any{"ip": "192.0.2.99", "device_id": s.other + "/twin", "attributes": shared}))
			s.e.post(s.e.event("payment_succeeded", s.buyer, time.Hour, map[string]any{"ip": plainIP, "device_id": s.dev("home"), "attributes": shared}))
			if restricted {
				s.e.MustAPI("POST", "/v1/accounts/"+s.other+"/restrictions", map[string]any{"reason_code": "fraud_confirmed", "note": "chargebacks confirmed"}, http.StatusCreated)
			}
		}
	}
	checkout := func(s *scene) []map[string]any {
		return []map[string]any{s.e.event("order_placed", s.buyer, 0, map[string]any{"ip": plainIP, "device_id": s.dev("home")})}
	}
	recipient := func(name string) func(s *scene) {
		return func(s *scene) {
			s.flaggedOrder = s.e.order(s.buyer, s.seller, map[string]any{"recipient_name": name})
		}
	}
	orderEvent := func(s *scene) []map[string]any {
		return []map[string]any{s.e.event("order_placed", s.buyer, 0, map[string]any{"ip": plainIP, "device_id": s.dev("home"),
			"attributes": map[string]any{"order_id": s.flaggedOrder}})}
	}

	return []story{
		{name: "order from a VPN address", rule: rules.RuleAnonymizerCheckout, fires: true, reason: "risk_review", closes: true, denied: "pay",
			events: func(s *scene) []map[string]any {
				return []map[string]any{s.e.event("order_placed", s.buyer, 0, map[string]any{"ip": vpnIP, "device_id": s.dev("home")})}
			}},
		{name: "payment from a Tor exit of a CIDR list", rule: rules.RuleAnonymizerCheckout, fires: true, reason: "risk_review", closes: true, denied: "pay",
			events: func(s *scene) []map[string]any {
				return []map[string]any{s.e.event("payment_succeeded", s.buyer, 0, map[string]any{"ip": torIP})}
			}},
		{name: "near miss: sign-in from a VPN is no checkout", rule: rules.RuleAnonymizerCheckout,
			events: func(s *scene) []map[string]any {
				return []map[string]any{s.e.event("login_succeeded", s.buyer, 0, map[string]any{"ip": vpnIP})}
			}},
		{name: "near miss: order from a plain address", rule: rules.RuleAnonymizerCheckout,
			events: func(s *scene) []map[string]any {
				return []map[string]any{s.e.event("order_placed", s.buyer, 0, map[string]any{"ip": plainIP})}
			}},

		{name: fmt.Sprintf("%d addresses in a day", p.IPChurn24h), rule: rules.RuleIPChurn, fires: true, reason: "risk_review", closes: true, denied: "place_order",
			events: logins(p.IPChurn24h, distinctIP, sameDevice)},
		{name: fmt.Sprintf("near miss: %d addresses", p.IPChurn24h-1), rule: rules.RuleIPChurn, events: logins(p.IPChurn24h-1, distinctIP, sameDevice)},

		{name: fmt.Sprintf("%d devices in a day", p.DeviceChurn24h), rule: rules.RuleDeviceChurn, fires: true, reason: "risk_review", closes: true, denied: "withdraw_funds",
			events: logins(p.DeviceChurn24h, sameIP, distinctDevice)},
		{name: fmt.Sprintf("near miss: %d devices", p.DeviceChurn24h-1), rule: rules.RuleDeviceChurn, events: logins(p.DeviceChurn24h-1, sameIP, distinctDevice)},

		{name: fmt.Sprintf("%d profile changes in a month", p.ProfileChanges30d), rule: rules.RuleProfileChurn, fires: true, reason: "risk_review", closes: true, denied: "pay",
			events: times("profile_changed", p.ProfileChanges30d, 5*24*time.Hour)},
		{name: "near miss: the oldest change is older than 30 days", rule: rules.RuleProfileChurn, events: times("profile_changed", p.ProfileChanges30d, 8*24*time.Hour)},

		{name: fmt.Sprintf("%d declines in a day", p.DeclinedPayments24h), rule: rules.RuleDeclinedPayments, fires: true, reason: "payment_verification", denied: "pay",
			events: declines(p.DeclinedPayments24h, plainIP, "home")},
		{name: fmt.Sprintf("near miss: %d declines", p.DeclinedPayments24h-1), rule: rules.RuleDeclinedPayments, events: declines(p.DeclinedPayments24h-1, plainIP, "home")},

		{name: "three declines, the last from a VPN address and a new device", rule: rules.RuleDeclinedPaymentsRisky, fires: true, reason: "risk_review", closes: true, denied: "place_order",
			events: declines(p.DeclinedPayments24h, vpnIP, "device-new")},
		{name: fmt.Sprintf("%d declines, the last from a new device on a plain address", p.DeclinedPayments24h), rule: rules.RuleDeclinedPaymentsRisky, fires: true, reason: "risk_review", closes: true, denied: "place_order",
			events: declines(p.DeclinedPayments24h, plainIP, "device-new")},
		{name: "near miss: two declines, the last from a new device", rule: rules.RuleDeclinedPaymentsRisky, events: declines(p.DeclinedPayments24h-1, plainIP, "device-new")},

		{name: fmt.Sprintf("%d orders in an hour", p.CheckoutBurst1h), rule: rules.RuleCheckoutBurst, fires: true, reason: "risk_review", closes: true, denied: "place_order",
			events: checkouts(p.CheckoutBurst1h)},
		{name: fmt.Sprintf("near miss: %d orders", p.CheckoutBurst1h-1), rule: rules.RuleCheckoutBurst, events: checkouts(p.CheckoutBurst1h - 1)},

		{name: "3 of 4 active orders in dispute", rule: rules.RuleDisputeAbuse, fires: true, reason: "dispute_abuse", denied: "open_dispute",
			setup: disputes(4, 3), events: disputeEvent},
		{name: "near miss: 2 of 4 active orders in dispute is not over half", rule: rules.RuleDisputeAbuse, setup: disputes(4, 2), events: disputeEvent},
		{name: "near miss: 3 of 3 active orders in dispute, but fewer than 4 active", rule: rules.RuleDisputeAbuse, setup: disputes(3, 3), events: disputeEvent},

		{name: fmt.Sprintf("%d complaints in 90 days", p.Complaints90d), rule: rules.RuleBuyerComplaints, fires: true, reason: "buyer_complaints", denied: "message",
			events: times("complaint_received", p.Complaints90d, 20*24*time.Hour)},
		{name: "near miss: the first complaint is older than 90 days", rule: rules.RuleBuyerComplaints, events: times("complaint_received", p.Complaints90d, 50*24*time.Hour)},

		{name: "checkout sharing card and phone with an account closed for fraud", rule: rules.RuleDuplicateIdentity, fires: true, reason: "duplicate_identity", denied: "place_order", review: true,
			setup: twin(true), events: checkout},
		{name: "near miss: the twin account is in good standing", rule: rules.RuleDuplicateIdentity, setup: twin(false), events: checkout},

		{name: "checkout sharing card and phone with an account in good standing goes to review", rule: rules.RuleLinkedAccounts, fires: true, review: true,
			setup: twin(false), events: checkout},
		{name: "near miss: no shared details", rule: rules.RuleLinkedAccounts, events: checkout},

		{name: "order to a watched recipient name", rule: rules.RuleFlaggedRecipient, fires: true, reason: "flagged_recipient",
			setup: recipient("mickey  MOUSE."), events: orderEvent},
		{name: "near miss: a name close to a watched one", rule: rules.RuleFlaggedRecipient, setup: recipient("Minnie Mouse"), events: orderEvent},
	}
}

// TestDefaultRuleStories posts the events of each default rule's story and checks what
// follows: the restriction, the check, the closed orders with the reason the buyer reads,
// the mail and the signed webhooks; and for each near miss, that nothing does.
func TestDefaultRuleStories(t *testing.T) {
	fires, misses := map[string]bool{}, map[string]bool{}
	for _, st := range defaultRuleStories() {
		if st.fires {
			fires[st.rule] = true
		} else {
			misses[st.rule] = true
		}
	}
	for _, r := range rules.DefaultRules(standing.DefaultPolicy()) {
		if !fires[r.ID] {
			t.Errorf("default rule %s has no story that makes it fire", r.ID)
		}
		if !misses[r.ID] {
			t.Errorf("default rule %s has no near miss", r.ID)
		}
	}
	riskBackends(t, func(t *testing.T, e *riskEnv) {
		for _, st := range defaultRuleStories() {
			t.Run(st.rule+"/"+st.name, func(t *testing.T) {
				e.t = t
				s := &scene{e: e}
				s.buyer, s.email = e.account("buyer")
				s.seller, _ = e.account("seller")
				s.orders = []string{e.order(s.buyer, s.seller, nil), e.order(s.buyer, s.seller, nil)}
				if st.setup != nil {
					st.setup(s)
				}
				for _, ev := range st.events(s) {
					s.decisions = append(s.decisions, e.post(ev))
				}
				e.RunJobs()
				checkStory(t, e, s, st)
			})
		}
	})
}

func checkStory(t *testing.T, e *riskEnv, s *scene, st story) {
	fired := firedAnywhere(s.decisions, st.rule)
	if fired != st.fires {
		t.Fatalf("rule %s fired = %v, want %v; decisions: %v", st.rule, fired, st.fires, s.decisions)
	}
	rs := e.restrictions(s.buyer)
	orders := s.orders
	if s.flaggedOrder != "" {
		orders = append(slices.Clone(orders), s.flaggedOrder)
	}
	if !st.fires {
		if len(rs) != 0 {
			t.Fatalf("near miss restricted the account: %v", rs)
		}
		if !e.allowed(s.buyer, "place_order") {
			t.Fatal("near miss: the buyer may not place orders")
		}
		for _, o := range orders {
			if status, _ := e.orderStatus(o); status != "pending_payment" {
				t.Errorf("near miss: order %s is %s", o, status)
			}
			if got := e.hook.find(standing.WebhookOrderClosed, "order_id", o); len(got) != 0 {
				t.Errorf("near miss sent order.closed for %s", o)
			}
		}
		if m := e.mails(s.email); len(m) != 0 {
			t.Errorf("near miss mailed %v", m)
		}
		if got := e.hook.find(standing.WebhookAccountRestricted, "account_id", s.buyer); len(got) != 0 {
			t.Errorf("near miss sent account.restricted")
		}
		if rv, ok := openReview(e, s.buyer); ok && slices.Contains(ruleIDsOf(rv), st.rule) {
			t.Errorf("near miss sent the account to review for %s: %v", st.rule, rv)
		}
		return
	}
	// The decision explains the firing with the values that made it.
	for _, d := range s.decisions {
		for _, f := range d["fired"].([]any) {
			f := f.(map[string]any)
			if f["rule_id"] == st.rule && (f["because"] == "" || len(f["explanation"].([]any)) == 0) {
				t.Errorf("firing of %s without explanation: %v", st.rule, f)
			}
		}
	}
	// The story's rule itself took each action, not only another rule that fired with it
	// (a decline from a VPN address fires anonymizer_checkout too).
	wantAction := func(kind, reason string) {
		t.Helper()
		if !actedBy(s.decisions, st.rule, kind, reason) {
			t.Errorf("no %s action (%s) by %s in the decisions: %v", kind, reason, st.rule, s.decisions)
		}
	}
	if st.review {
		wantAction(standing.ActionReview, "")
		if rv, ok := openReview(e, s.buyer); !ok || !slices.Contains(ruleIDsOf(rv), st.rule) {
			t.Errorf("the account is not in the review queue for %s: %v", st.rule, rv)
		}
	}
	if st.reason == "" {
		// A rule that only scores and sends to review: nothing else follows.
		if len(rs) != 0 {
			t.Errorf("restrictions = %v, want none", rs)
		}
		if !e.allowed(s.buyer, "place_order") {
			t.Error("a review-only rule restricted the account")
		}
		for _, o := range orders {
			if status, _ := e.orderStatus(o); status != "pending_payment" {
				t.Errorf("a review-only rule left order %s %s", o, status)
			}
		}
		if m := e.mails(s.email); len(m) != 0 {
			t.Errorf("a review-only rule mailed %v", m)
		}
		if got := e.hook.find(standing.WebhookAccountRestricted, "account_id", s.buyer); len(got) != 0 {
			t.Error("a review-only rule sent account.restricted")
		}
		return
	}
	wantAction(standing.ActionRestrict, st.reason)
	r, ok := rs[st.reason]
	if !ok {
		t.Fatalf("no %s restriction; active: %v", st.reason, rs)
	}
	if r["source"] != "rule" || r["rule_id"] == "" {
		t.Errorf("restriction source = %v, rule %v", r["source"], r["rule_id"])
	}
	if st.denied != "" && e.allowed(s.buyer, st.denied) {
		t.Errorf("the buyer may still %s under %s", st.denied, st.reason)
	}
	if !e.allowed(s.buyer, "view_orders") {
		t.Errorf("a %s restriction took away view_orders", st.reason)
	}
	// The orders: all closed by a freeze, only the flagged one for a flagged recipient.
	if st.closes {
		wantAction(standing.ActionCloseOrders, st.reason)
	}
	for _, o := range s.orders {
		status, why := e.orderStatus(o)
		switch {
		case st.closes && (status != "closed_by_risk" || why == ""):
			t.Errorf("order %s is %s (%q), want closed_by_risk with the reason", o, status, why)
		case !st.closes && status != "pending_payment":
			t.Errorf("order %s is %s, want it left open", o, status)
		}
		hooks := e.hook.find(standing.WebhookOrderClosed, "order_id", o)
		switch {
		case st.closes && (len(hooks) != 1 || hooks[0].Data["reason_code"] != st.reason || hooks[0].Data["restriction_id"] != r["id"]):
			t.Errorf("order.closed webhooks for %s = %v", o, hooks)
		case !st.closes && len(hooks) != 0:
			t.Errorf("order.closed sent for %s, which stays open", o)
		}
	}
	if s.flaggedOrder != "" {
		wantAction(standing.ActionCloseOrder, st.reason)
		status, why := e.orderStatus(s.flaggedOrder)
		reason, _ := standing.DefaultPolicy().Reason(standing.ReasonFlaggedRecipient)
		if status != "closed_by_risk" || why != reason.Message+" "+reason.Remedy {
			t.Errorf("flagged order is %s, reason %q", status, why)
		}
		if r["order_id"] != s.flaggedOrder {
			t.Errorf("flagged_recipient restriction names order %v, want %s", r["order_id"], s.flaggedOrder)
		}
		hooks := e.hook.find(standing.WebhookOrderClosed, "order_id", s.flaggedOrder)
		if len(hooks) != 1 || hooks[0].Data["reason_code"] != st.reason || hooks[0].Data["restriction_id"] != r["id"] {
			t.Errorf("order.closed webhooks for the flagged order = %v", hooks)
		}
	}
	// The mail and the webhook.
	reason, _ := standing.DefaultPolicy().Reason(st.reason)
	if m := e.mails(s.email); !slices.Contains(m, reason.Title+": what it means for your account") {
		t.Errorf("mails to %s = %v, want one about %s", s.email, m, st.reason)
	}
	hooks := e.hook.find(standing.WebhookAccountRestricted, "restriction_id", r["id"].(string))
	if len(hooks) != 1 {
		t.Fatalf("account.restricted webhooks for %s = %d, want 1", r["id"], len(hooks))
	}
	if hooks[0].Data["reason_code"] != st.reason || hooks[0].Data["account_id"] != s.buyer {
		t.Errorf("webhook data = %v", hooks[0].Data)
	}
	wantNoPersonalData(t, hooks[0], s.email, "Ana Lopez", "Mickey")
}

// actedBy reports whether one of the decisions holds an action of the kind (and reason,
// when given) that the rule took part in.
func actedBy(decs []map[string]any, rule, kind, reason string) bool {
	for _, d := range decs {
		acts, _ := d["actions"].([]any)
		for _, a := range acts {
			a := a.(map[string]any)
			if a["kind"] != kind || reason != "" && a["reason_code"] != reason {
				continue
			}
			ids, _ := a["rule_ids"].([]any)
			if slices.Contains(ids, any(rule)) {
				return true
			}
		}
	}
	return false
}

// openReview returns the account's open review, if it has one.
func openReview(e *riskEnv, account string) (map[string]any, bool) {
	e.t.Helper()
	for _, r := range e.MustAPI("GET", "/v1/reviews?state=open", nil, http.StatusOK)["reviews"].([]any) {
		if r := r.(map[string]any); r["account_id"] == account {
			return r, true
		}
	}
	return nil, false
}

// ruleIDsOf returns the rules that sent a review.
func ruleIDsOf(review map[string]any) []string {
	var ids []string
	list, _ := review["rule_ids"].([]any)
	for _, id := range list {
		ids = append(ids, id.(string))
	}
	return ids
}
