package rules

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"standing"
)

// repeat returns n events made by mk(i), for i from 0.
func repeat(n int, mk func(i int) Event) []Event {
	out := make([]Event, n)
	for i := range out {
		out[i] = mk(i)
	}
	return out
}

// evaluateStory applies the events to a fresh account and evaluates the last one, at its
// own time, with the facts.
func evaluateStory(e *Engine, role standing.Role, events []Event, facts Facts) Evaluation {
	s := applyAll(events)
	last := events[len(events)-1]
	acc := standing.Account{ID: "acc_1", Role: role, Lifecycle: standing.LifecycleActive, Country: "DE", CreatedAt: ago(60 * 24 * time.Hour)}
	if facts.AccountCreatedAt.IsZero() {
		facts.AccountCreatedAt = acc.CreatedAt
	}
	return e.Evaluate(NewInput(last, acc, FeaturesAt(s, facts, last.Time)))
}

func firedRule(ev Evaluation, id string) (Fired, bool) {
	i := slices.IndexFunc(ev.Active, func(f Fired) bool { return f.RuleID == id })
	if i < 0 {
		return Fired{}, false
	}
	return ev.Active[i], true
}

func TestDefaultRulesFireAndNearlyFire(t *testing.T) {
	p := standing.DefaultPolicy()
	p.Risk.RecipientWatchList = []string{"Mickey Mouse"}
	e := mustEngine(t, p, DefaultRules(p))
	r := p.Risk
	h := time.Hour
	day := 24 * h
	buyer, seller := standing.RoleBuyer, standing.RoleSeller

	logins := func(n int, spacing time.Duration, ipOf func(i int) string, devOf func(i int) string) []Event {
		return repeat(n, func(i int) Event {
			return ev(fmt.Sprint("login", i), EventLoginSucceeded, ago(time.Duration(n-1-i)*spacing+time.Minute),
				fromIP(ipOf(i)), fromDevice(devOf(i)))
		})
	}
	distinctIP := func(i int) string { return fmt.Sprintf("198.51.100.%d", i+1) }
	sameIP := func(int) string { return "198.51.100.200" }
	distinctDevice := func(i int) string { return fmt.Sprint("device-", i) }
	sameDevice := func(int) string { return "device-home" }
	declines := func(n int, lastDevice string) []Event {
		return repeat(n, func(i int) Event {
			dev := "device-home"
			if i == n-1 {
				dev = lastDevice
			}
			return ev(fmt.Sprint("decline", i), EventPaymentDeclined, ago(time.Duration(n-i)*h), fromIP("198.51.100.7"), fromDevice(dev))
		})
	}
	timesOf := func(typ string, n int, spacing time.Duration) []Event {
		return repeat(n, func(i int) Event { return ev(fmt.Sprint(typ, i), typ, ago(time.Duration(n-1-i)*spacing+time.Minute)) })
	}
	oneEvent := func(typ string) []Event {
		return []Event{ev("only", typ, ago(time.Minute), fromIP("198.51.100.9"), fromDevice("device-home"))}
	}
	// withOldest moves the first event of events back to at.
	withOldest := func(events []Event, at time.Time) []Event {
		events[0].Time = at
		return events
	}

	tests := []struct {
		rule     string
		story    string
		role     standing.Role
		events   []Event
		facts    Facts
		fires    bool
		explains string
	}{
		{RuleAnonymizerCheckout, "order from a VPN", buyer, oneEvent(EventOrderPlaced), Facts{IP: IPFlags{VPN: true}}, true, "features.ip_vpn = true"},
		{RuleAnonymizerCheckout, "payment from a Tor exit", buyer, oneEvent(EventPaymentSucceeded), Facts{IP: IPFlags{Tor: true}}, true, "features.ip_tor = true"},
		{RuleAnonymizerCheckout, "declined payment from a hosting provider", buyer, oneEvent(EventPaymentDeclined), Facts{IP: IPFlags{Hosting: true}}, true, "features.ip_hosting = true"},
		{RuleAnonymizerCheckout, "near miss: sign-in from a VPN is not a checkout", buyer, oneEvent(EventLoginSucceeded), Facts{IP: IPFlags{VPN: true}}, false, ""},
		{RuleAnonymizerCheckout, "near miss: order from a plain address", buyer, oneEvent(EventOrderPlaced), Facts{}, false, ""},

		{RuleIPChurn, fmt.Sprintf("%d addresses in a day", r.IPChurn24h), buyer, logins(r.IPChurn24h, h, distinctIP, sameDevice), Facts{}, true, fmt.Sprintf("features.ips_24h = %d", r.IPChurn24h)},
		{RuleIPChurn, fmt.Sprintf("near miss: %d addresses", r.IPChurn24h-1), buyer, logins(r.IPChurn24h-1, h, distinctIP, sameDevice), Facts{}, false, ""},
		{RuleIPChurn, "near miss: the first address was 25 hours ago", buyer, withOldest(logins(r.IPChurn24h, h, distinctIP, sameDevice), ago(25*h)), Facts{}, false, ""},

		{RuleDeviceChurn, fmt.Sprintf("%d devices in a day", r.DeviceChurn24h), buyer, logins(r.DeviceChurn24h, h, sameIP, distinctDevice), Facts{}, true, fmt.Sprintf("features.devices_24h = %d", r.DeviceChurn24h)},
		{RuleDeviceChurn, fmt.Sprintf("near miss: %d devices", r.DeviceChurn24h-1), buyer, logins(r.DeviceChurn24h-1, h, sameIP, distinctDevice), Facts{}, false, ""},
		{RuleDeviceChurn, "near miss: spread over more than a day", buyer, logins(r.DeviceChurn24h, 13*h, sameIP, distinctDevice), Facts{}, false, ""},

		{RuleProfileChurn, fmt.Sprintf("%d profile changes in a month", r.ProfileChanges30d), buyer, timesOf(EventProfileChanged, r.ProfileChanges30d, 5*day), Facts{}, true, fmt.Sprintf("features.profile_changes_30d = %d", r.ProfileChanges30d)},
		{RuleProfileChurn, fmt.Sprintf("near miss: %d changes", r.ProfileChanges30d-1), buyer, timesOf(EventProfileChanged, r.ProfileChanges30d-1, 5*day), Facts{}, false, ""},
		{RuleProfileChurn, "near miss: the first change was 31 days ago", buyer, withOldest(timesOf(EventProfileChanged, r.ProfileChanges30d, day), ago(31*day)), Facts{}, false, ""},

		{RuleDeclinedPayments, fmt.Sprintf("%d declines in a day", r.DeclinedPayments24h), buyer, declines(r.DeclinedPayments24h, "device-home"), Facts{}, true, fmt.Sprintf("features.declined_payments_24h = %d", r.DeclinedPayments24h)},
		{RuleDeclinedPayments, fmt.Sprintf("near miss: %d declines", r.DeclinedPayments24h-1), buyer, declines(r.DeclinedPayments24h-1, "device-home"), Facts{}, false, ""},
		{RuleDeclinedPayments, "near miss: a seller", seller, declines(r.DeclinedPayments24h, "device-home"), Facts{}, false, ""},
		{RuleDeclinedPayments, "near miss: a success after the declines", buyer, append(declines(r.DeclinedPayments24h, "device-home"), ev("ok", EventPaymentSucceeded, ago(time.Minute))), Facts{}, false, ""},

		{RuleDeclinedPaymentsRisky, "declines, the last from a new device", buyer, declines(r.DeclinedPayments24h, "device-new"), Facts{}, true, "features.new_device = true"},
		{RuleDeclinedPaymentsRisky, fmt.Sprintf("%d declines from the usual device", 2*r.DeclinedPayments24h), buyer, declines(2*r.DeclinedPayments24h, "device-home"), Facts{}, true, fmt.Sprintf("features.declined_payments_24h = %d", 2*r.DeclinedPayments24h)},
		{RuleDeclinedPaymentsRisky, "near miss: declines from the usual device", buyer, declines(2*r.DeclinedPayments24h-1, "device-home"), Facts{}, false, ""},
		{RuleDeclinedPaymentsRisky, "near miss: one decline too few with a new device", buyer, declines(r.DeclinedPayments24h-1, "device-new"), Facts{}, false, ""},

		{RuleCheckoutBurst, fmt.Sprintf("%d orders in an hour", r.CheckoutBurst1h), buyer, timesOf(EventOrderPlaced, r.CheckoutBurst1h, 5*time.Minute), Facts{}, true, fmt.Sprintf("features.orders_1h = %d", r.CheckoutBurst1h)},
		{RuleCheckoutBurst, fmt.Sprintf("near miss: %d orders", r.CheckoutBurst1h-1), buyer, timesOf(EventOrderPlaced, r.CheckoutBurst1h-1, 5*time.Minute), Facts{}, false, ""},
		{RuleCheckoutBurst, "near miss: the first order 61 minutes ago", buyer, withOldest(timesOf(EventOrderPlaced, r.CheckoutBurst1h, time.Minute), ago(61*time.Minute)), Facts{}, false, ""},

		{RuleDisputeAbuse, "3 of 4 active orders disputed", buyer, oneEvent(EventDisputeOpened), Facts{ActiveOrders: r.DisputeAbuseMinActive, OpenDisputes: r.DisputeAbuseMinActive - 1}, true, "features.dispute_ratio = 0.75"},
		{RuleDisputeAbuse, "near miss: exactly half disputed", buyer, oneEvent(EventDisputeOpened), Facts{ActiveOrders: r.DisputeAbuseMinActive, OpenDisputes: int(float64(r.DisputeAbuseMinActive) * r.DisputeAbuseRatio)}, false, ""},
		{RuleDisputeAbuse, "near miss: too few active orders", buyer, oneEvent(EventDisputeOpened), Facts{ActiveOrders: r.DisputeAbuseMinActive - 1, OpenDisputes: r.DisputeAbuseMinActive - 1}, false, ""},
		{RuleDisputeAbuse, "near miss: a seller", seller, oneEvent(EventDisputeOpened), Facts{ActiveOrders: r.DisputeAbuseMinActive, OpenDisputes: r.DisputeAbuseMinActive}, false, ""},

		{RuleBuyerComplaints, fmt.Sprintf("%d complaints", r.Complaints90d), buyer, timesOf(EventComplaintReceived, r.Complaints90d, 20*day), Facts{}, true, fmt.Sprintf("features.complaints_90d = %d", r.Complaints90d)},
		{RuleBuyerComplaints, fmt.Sprintf("near miss: %d complaints", r.Complaints90d-1), buyer, timesOf(EventComplaintReceived, r.Complaints90d-1, 20*day), Facts{}, false, ""},
		{RuleBuyerComplaints, "near miss: the first complaint 91 days ago", buyer, withOldest(timesOf(EventComplaintReceived, r.Complaints90d, day), ago(91*day)), Facts{}, false, ""},
		{RuleBuyerComplaints, "near miss: a seller", seller, timesOf(EventComplaintReceived, r.Complaints90d, day), Facts{}, false, ""},

		{RuleDuplicateIdentity, "linked to a restricted account", buyer, oneEvent(EventLoginSucceeded), Facts{LinkedAccounts: 1, LinkedRestricted: 1}, true, "features.linked_restricted = 1"},
		{RuleDuplicateIdentity, "near miss: linked accounts in good standing", buyer, oneEvent(EventLoginSucceeded), Facts{LinkedAccounts: 2}, false, ""},

		{RuleLinkedAccounts, "sign-up linked to another account", buyer, oneEvent(EventSignup), Facts{LinkedAccounts: 1}, true, "features.linked_accounts = 1"},
		{RuleLinkedAccounts, "checkout linked to another account", seller, oneEvent(EventOrderPlaced), Facts{LinkedAccounts: 1}, true, "features.linked_accounts = 1"},
		{RuleLinkedAccounts, "near miss: a sign-in", buyer, oneEvent(EventLoginSucceeded), Facts{LinkedAccounts: 1}, false, ""},
		{RuleLinkedAccounts, "near miss: the link is restricted (duplicate_identity instead)", buyer, oneEvent(EventSignup), Facts{LinkedAccounts: 1, LinkedRestricted: 1}, false, ""},

		{RuleFlaggedRecipient, "order to a watched name", buyer, oneEvent(EventOrderPlaced), Facts{RecipientFlagged: RecipientFlagged(p, "mickey  MOUSE")}, true, "features.recipient_flagged = true"},
		{RuleFlaggedRecipient, "near miss: a similar name", buyer, oneEvent(EventOrderPlaced), Facts{RecipientFlagged: RecipientFlagged(p, "Minnie Mouse")}, false, ""},
		{RuleFlaggedRecipient, "near miss: not an order", buyer, oneEvent(EventPaymentSucceeded), Facts{RecipientFlagged: true}, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.rule+"/"+tt.story, func(t *testing.T) {
			ev := evaluateStory(e, tt.role, tt.events, tt.facts)
			f, fired := firedRule(ev, tt.rule)
			if fired != tt.fires {
				t.Fatalf("%s fired = %v, want %v (active: %v, errors: %v)", tt.rule, fired, tt.fires, ev.Active, ev.Errors)
			}
			if fired && !strings.Contains(f.Explanation.String(), tt.explains) {
				t.Errorf("explanation %q does not say %q", f.Explanation, tt.explains)
			}
			if len(ev.Errors) > 0 {
				t.Errorf("errors: %+v", ev.Errors)
			}
		})
	}
}

func TestDefaultRuleOutcomes(t *testing.T) {
	p := standing.DefaultPolicy()
	p.Risk.RiskReviewDuration = standing.Duration(14 * 24 * time.Hour)
	type want struct {
		reason        string
		closeAll      bool
		closeOne      bool
		verifyPayment bool
		review        bool
	}
	wants := map[string]want{
		RuleAnonymizerCheckout:    {reason: standing.ReasonRiskReview, closeAll: true},
		RuleIPChurn:               {reason: standing.ReasonRiskReview, closeAll: true},
		RuleDeviceChurn:           {reason: standing.ReasonRiskReview, closeAll: true},
		RuleProfileChurn:          {reason: standing.ReasonRiskReview, closeAll: true},
		RuleDeclinedPayments:      {verifyPayment: true},
		RuleDeclinedPaymentsRisky: {reason: standing.ReasonRiskReview, closeAll: true},
		RuleCheckoutBurst:         {reason: standing.ReasonRiskReview, closeAll: true},
		RuleDisputeAbuse:          {reason: standing.ReasonDisputeAbuse},
		RuleBuyerComplaints:       {reason: standing.ReasonBuyerComplaints},
		RuleDuplicateIdentity:     {reason: standing.ReasonDuplicateIdentity, review: true},
		RuleLinkedAccounts:        {review: true},
		RuleFlaggedRecipient:      {reason: standing.ReasonFlaggedRecipient, closeOne: true},
	}
	rules := DefaultRules(p)
	if len(rules) != len(wants) {
		t.Errorf("DefaultRules gives %d rules, want %d", len(rules), len(wants))
	}
	for _, r := range rules {
		w, ok := wants[r.ID]
		if !ok {
			t.Errorf("unexpected default rule %q", r.ID)
			continue
		}
		o := r.Outcome
		got := want{o.ReasonCode, o.CloseOpenOrders, o.CloseEventOrder, o.RequirePaymentVerification, o.Review}
		if got != w {
			t.Errorf("%s outcome = %+v, want %+v", r.ID, got, w)
		}
		if o.Score <= 0 {
			t.Errorf("%s adds no score", r.ID)
		}
		wantDuration := standing.Duration(0)
		if o.ReasonCode == standing.ReasonRiskReview {
			wantDuration = p.Risk.RiskReviewDuration
		}
		if o.Duration != wantDuration {
			t.Errorf("%s duration = %s, want %s", r.ID, o.Duration, wantDuration)
		}
		if err := r.Validate(p); err != nil {
			t.Errorf("%s: %v", r.ID, err)
		}
		if r.Mode != ModeActive || !r.Enabled || r.Version != 1 || r.Name == "" || len(r.Description) < 40 {
			t.Errorf("%s: mode %s, enabled %v, version %d, name %q, description %q", r.ID, r.Mode, r.Enabled, r.Version, r.Name, r.Description)
		}
	}
}

func TestDefaultRulesCoverTheCatalog(t *testing.T) {
	p := standing.DefaultPolicy()
	covered := map[string]bool{}
	for _, r := range DefaultRules(p) {
		if r.Outcome.ReasonCode != "" {
			covered[r.Outcome.ReasonCode] = true
		}
		if r.Outcome.RequirePaymentVerification {
			covered[standing.ReasonPaymentVerification] = true
		}
	}
	for _, code := range p.ReasonCodes() {
		_, refused := ruleReasonsRefused[code]
		if refused == covered[code] {
			t.Errorf("reason %q: covered by a default rule = %v, applied by rules at all = %v", code, covered[code], !refused)
		}
	}
}

func TestDefaultRulesReadThePolicy(t *testing.T) {
	p := standing.DefaultPolicy()
	p.Risk.IPChurn24h = 7
	p.Risk.DeviceChurn24h = 0 // turned off
	p.Risk.DeclinedPayments24h = 4
	p.Risk.DisputeAbuseRatio = 0.6
	p.Risk.DisputeAbuseMinActive = 10
	p.Risk.CheckoutBurst1h = 25
	p.Risk.Complaints90d = 9
	p.Risk.ProfileChanges30d = 11
	p.Risk.RiskReviewDuration = standing.Duration(72 * time.Hour)
	rules := DefaultRules(p)
	byID := map[string]Rule{}
	for _, r := range rules {
		byID[r.ID] = r
	}
	for id, wants := range map[string][]string{
		RuleIPChurn:               {"features.ips_24h >= 7"},
		RuleDeclinedPayments:      {"features.declined_payments_24h >= 4"},
		RuleDeclinedPaymentsRisky: {"features.declined_payments_24h >= 8", "features.declined_payments_24h >= 4"},
		RuleDisputeAbuse:          {"features.active_orders >= 10", "features.dispute_ratio > 0.6"},
		RuleCheckoutBurst:         {"features.orders_1h >= 25"},
		RuleBuyerComplaints:       {"features.complaints_90d >= 9"},
		RuleProfileChurn:          {"features.profile_changes_30d >= 11"},
	} {
		for _, w := range wants {
			if !strings.Contains(byID[id].Expression, w) {
				t.Errorf("%s expression %q does not hold %q", id, byID[id].Expression, w)
			}
		}
		if strings.Contains(byID[id].Description, "%!") {
			t.Errorf("%s description is mis-formatted: %s", id, byID[id].Description)
		}
	}
	if !strings.Contains(byID[RuleIPChurn].Description, "7 or more") || !strings.Contains(byID[RuleDisputeAbuse].Description, "60 %") {
		t.Errorf("descriptions do not carry the policy's numbers: %q, %q", byID[RuleIPChurn].Description, byID[RuleDisputeAbuse].Description)
	}
	if byID[RuleDeviceChurn].Enabled {
		t.Error("device churn is enabled with a threshold of 0")
	}
	if byID[RuleIPChurn].Outcome.Duration != p.Risk.RiskReviewDuration {
		t.Errorf("risk review duration = %s, want %s", byID[RuleIPChurn].Outcome.Duration, p.Risk.RiskReviewDuration)
	}
	e := mustEngine(t, p, rules)
	// Just below the moved threshold does not fire; at it, it does.
	for n, want := range map[int]bool{6: false, 7: true} {
		in := sampleInput()
		in.Features["ips_24h"] = n
		_, fired := firedRule(e.Evaluate(in), RuleIPChurn)
		if fired != want {
			t.Errorf("ip churn with %d addresses fired = %v, want %v", n, fired, want)
		}
	}
	// A whole-number ratio is still written as a double.
	p.Risk.DisputeAbuseRatio = 1
	if expr := DefaultRules(p)[7].Expression; !strings.Contains(expr, "> 1.0") {
		t.Errorf("dispute abuse expression %q", expr)
	}
}

// TestStoryDeclinesFromVPNOnNewDevice is the example: three declined payments from
// a VPN address, the last from a new device.
func TestStoryDeclinesFromVPNOnNewDevice(t *testing.T) {
	p := standing.DefaultPolicy()
	e := mustEngine(t, p, DefaultRules(p))
	events := []Event{
		ev("1", EventLoginSucceeded, ago(3*time.Hour), fromIP("192.0.2.10"), fromDevice("phone"), inCountry("DE")),
		ev("2", EventPaymentDeclined, ago(2*time.Hour), fromIP("203.0.113.66"), fromDevice("phone"), inCountry("NL")),
		ev("3", EventPaymentDeclined, ago(time.Hour), fromIP("203.0.113.66"), fromDevice("phone"), inCountry("NL")),
		ev("4", EventPaymentDeclined, ago(time.Minute), fromIP("203.0.113.66"), fromDevice("laptop"), inCountry("NL")),
	}
	got := evaluateStory(e, standing.RoleBuyer, events, Facts{IP: IPFlags{VPN: true}})
	var ids []string
	for _, f := range got.Active {
		ids = append(ids, f.RuleID)
	}
	if want := []string{RuleAnonymizerCheckout, RuleDeclinedPayments, RuleDeclinedPaymentsRisky}; !slices.Equal(ids, want) {
		t.Errorf("fired %v, want %v", ids, want)
	}
	if got.Score != 50+20+40 {
		t.Errorf("score = %d, want 110", got.Score)
	}
	var reasons []string
	for _, r := range got.Actions.Restrictions {
		reasons = append(reasons, r.ReasonCode)
	}
	if want := []string{standing.ReasonRiskReview, standing.ReasonPaymentVerification}; !slices.Equal(reasons, want) || !got.Actions.CloseOpenOrders {
		t.Errorf("actions = %+v, want restrictions %v and open orders closed", got.Actions, want)
	}
}
