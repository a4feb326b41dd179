package rules

import (
	"fmt"
	"strconv"
	"strings"

	"standing"
)

// The ids of the default rules.
const (
	RuleAnonymizerCheckout    = "anonymizer_checkout"
	RuleIPChurn               = "ip_churn"
	RuleDeviceChurn           = "device_churn"
	RuleProfileChurn          = "profile_churn"
	RuleDeclinedPayments      = "declined_payments"
	RuleDeclinedPaymentsRisky = "declined_payments_risky"
	RuleCheckoutBurst         = "checkout_burst"
	RuleDisputeAbuse          = "dispute_abuse"
	RuleBuyerComplaints       = "buyer_complaints"
	RuleDuplicateIdentity     = "duplicate_identity"
	RuleLinkedAccounts        = "linked_accounts"
	RuleFlaggedRecipient      = "flagged_recipient"
)

// checkoutEvents are the event types of a checkout: placing an order and paying for it.
var checkoutEvents = []string{EventOrderPlaced, EventPaymentSucceeded, EventPaymentDeclined}

// DefaultRules returns the default rule pack for the policy. It covers every reason of the
// catalog that rules apply (risk_review, payment_verification, flagged_recipient,
// dispute_abuse, buyer_complaints, duplicate_identity); the others come from elsewhere
// (email_unverified from the verification deadline, fraud_confirmed from reviewers,
// self_deleted from the person, seller_violation from penalty points).
//
// Every threshold is read from p.Risk, never written in, so an operator tunes the pack in
// the policy file and a test can sit just below a threshold. A rule whose threshold is set
// to 0 or less is returned disabled. All rules are active, version 1.
func DefaultRules(p *standing.Policy) []Rule {
	r := p.Risk
	risk := Outcome{ReasonCode: standing.ReasonRiskReview, Duration: r.RiskReviewDuration, CloseOpenOrders: true}
	withScore := func(o Outcome, score int) Outcome { o.Score = score; return o }
	rules := []Rule{
		{
			ID:   RuleAnonymizerCheckout,
			Name: "Checkout from an anonymizer IP",
			Description: "An order or payment came from an IP address that hides the person: a VPN, a public or " +
				"residential proxy, a Tor exit or a hosting provider. The account goes under risk review and its open orders are closed.",
			Expression: fmt.Sprintf("event.type in %s &&\n  (features.ip_anonymous || features.ip_vpn || features.ip_proxy ||\n   features.ip_residential_proxy || features.ip_tor || features.ip_hosting)", celList(checkoutEvents)),
			Outcome:    withScore(risk, 50),
			Enabled:    true,
		},
		{
			ID:   RuleIPChurn,
			Name: "Many IP addresses in a day",
			Description: fmt.Sprintf("The account was used from %d or more different IP addresses within 24 hours. "+
				"It goes under risk review and its open orders are closed.", r.IPChurn24h),
			Expression: fmt.Sprintf("features.ips_24h >= %d", r.IPChurn24h),
			Outcome:    withScore(risk, 30),
			Enabled:    r.IPChurn24h > 0,
		},
		{
			ID:   RuleDeviceChurn,
			Name: "Many devices in a day",
			Description: fmt.Sprintf("The account was used from %d or more different devices within 24 hours. "+
				"It goes under risk review and its open orders are closed.", r.DeviceChurn24h),
			Expression: fmt.Sprintf("features.devices_24h >= %d", r.DeviceChurn24h),
			Outcome:    withScore(risk, 30),
			Enabled:    r.DeviceChurn24h > 0,
		},
		{
			ID:   RuleProfileChurn,
			Name: "Many profile changes",
			Description: fmt.Sprintf("The profile (name, email, phone, addresses) was changed %d or more times within 30 days. "+
				"The account goes under risk review and its open orders are closed.", r.ProfileChanges30d),
			Expression: fmt.Sprintf("features.profile_changes_30d >= %d", r.ProfileChanges30d),
			Outcome:    withScore(risk, 20),
			Enabled:    r.ProfileChanges30d > 0,
		},
		{
			ID:   RuleDeclinedPayments,
			Name: "Declined payments",
			Description: fmt.Sprintf("A buyer's payment was declined, and %d or more payments were declined within 24 hours. "+
				"Ordering and paying wait until the buyer verifies the card.", r.DeclinedPayments24h),
			Expression: fmt.Sprintf("account.role == %q && event.type == %q &&\n  features.declined_payments_24h >= %d", standing.RoleBuyer, EventPaymentDeclined, r.DeclinedPayments24h),
			Outcome:    Outcome{Score: 20, RequirePaymentVerification: true},
			Enabled:    r.DeclinedPayments24h > 0,
		},
		{
			ID:   RuleDeclinedPaymentsRisky,
			Name: "Declined payments with other warning signs",
			Description: fmt.Sprintf("A payment was declined and the account had %d or more declined payments within 24 hours "+
				"while also using a new device or a new country, or %d or more declines in any case. "+
				"The account goes under risk review and its open orders are closed.", r.DeclinedPayments24h, 2*r.DeclinedPayments24h),
			Expression: fmt.Sprintf("event.type == %q && (features.declined_payments_24h >= %d ||\n  features.declined_payments_24h >= %d && (features.new_device || features.country_changed))",
				EventPaymentDeclined, 2*r.DeclinedPayments24h, r.DeclinedPayments24h),
			Outcome: withScore(risk, 40),
			Enabled: r.DeclinedPayments24h > 0,
		},
		{
			ID:   RuleCheckoutBurst,
			Name: "Unusual checkout volume",
			Description: fmt.Sprintf("The account placed %d or more orders within one hour. "+
				"It goes under risk review and its open orders are closed.", r.CheckoutBurst1h),
			Expression: fmt.Sprintf("event.type == %q && features.orders_1h >= %d", EventOrderPlaced, r.CheckoutBurst1h),
			Outcome:    withScore(risk, 40),
			Enabled:    r.CheckoutBurst1h > 0,
		},
		{
			ID:   RuleDisputeAbuse,
			Name: "Too many disputes",
			Description: fmt.Sprintf("A buyer with at least %d active orders has disputes open on more than %s of them. "+
				"New orders and new disputes are paused.", r.DisputeAbuseMinActive, percent(r.DisputeAbuseRatio)),
			Expression: fmt.Sprintf("account.role == %q && features.active_orders >= %d &&\n  features.dispute_ratio > %s", standing.RoleBuyer, r.DisputeAbuseMinActive, celDouble(r.DisputeAbuseRatio)),
			Outcome:    Outcome{Score: 30, ReasonCode: standing.ReasonDisputeAbuse},
			Enabled:    r.DisputeAbuseRatio > 0,
		},
		{
			ID:   RuleBuyerComplaints,
			Name: "Complaints from sellers",
			Description: fmt.Sprintf("Sellers complained %d or more times about this buyer within 90 days. "+
				"Ordering and messaging are paused.", r.Complaints90d),
			Expression: fmt.Sprintf("account.role == %q && features.complaints_90d >= %d", standing.RoleBuyer, r.Complaints90d),
			Outcome:    Outcome{Score: 30, ReasonCode: standing.ReasonBuyerComplaints},
			Enabled:    r.Complaints90d > 0,
		},
		{
			ID:   RuleDuplicateIdentity,
			Name: "Same identity as a restricted account",
			Description: "The account shares strong identity details (card, phone, address, device) with an account that is " +
				"restricted or closed. Everything but seeing orders is paused and a reviewer looks at it.",
			Expression: "features.linked_restricted > 0",
			Outcome:    Outcome{Score: 60, ReasonCode: standing.ReasonDuplicateIdentity, Review: true},
			Enabled:    true,
		},
		{
			ID:   RuleLinkedAccounts,
			Name: "Same identity as another account",
			Description: "At sign-up or checkout, the account shares strong identity details with another account in good standing. " +
				"Nothing is restricted: the score rises and a reviewer looks at the link.",
			Expression: fmt.Sprintf("event.type in %s && features.linked_accounts > 0 && features.linked_restricted == 0", celList([]string{EventSignup, EventOrderPlaced})),
			Outcome:    Outcome{Score: 20, Review: true},
			Enabled:    true,
		},
		{
			ID:   RuleFlaggedRecipient,
			Name: "Flagged recipient name",
			Description: "A buyer placed an order whose recipient name is on the watch list. That order is closed; " +
				"the rest of the account is not affected.",
			Expression: fmt.Sprintf("account.role == %q && event.type == %q && features.recipient_flagged", standing.RoleBuyer, EventOrderPlaced),
			Outcome:    Outcome{Score: 10, ReasonCode: standing.ReasonFlaggedRecipient, CloseEventOrder: true},
			Enabled:    true,
		},
	}
	for i := range rules {
		rules[i].Mode = ModeActive
		rules[i].Version = 1
	}
	return rules
}

// celList writes a list of strings as a CEL list literal.
func celList(items []string) string {
	quoted := make([]string, len(items))
	for i, s := range items {
		quoted[i] = strconv.Quote(s)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

// celDouble writes f as a CEL double literal (always with a decimal point).
func celDouble(f float64) string {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return s
}

func percent(f float64) string {
	return strconv.FormatFloat(f*100, 'f', -1, 64) + " %"
}
