package standing

import "time"

const day = Duration(24 * time.Hour)

// DefaultPolicy returns the built-in policy: the numbers of PRODUCT.md and the default
// reason catalog. It is validated and ready to use.
func DefaultPolicy() *Policy {
	p := &Policy{
		VerificationDeadline: Duration(72 * time.Hour),
		ErasureGrace:         Duration(24 * time.Hour),
		Appeals: AppealPolicy{
			Window:       180 * day,
			ReviewTarget: Duration(48 * time.Hour),
			Breach:       Duration(120 * time.Hour),
			EscalateAt:   0.8,
		},
		Deletion: DeletionPolicy{
			Phrase: "Deactivate my account",
			Reasons: []string{
				"I no longer use this account", "I have another account", "Privacy concerns",
				"I received too many emails", "I had a bad experience", "Other",
			},
			AllowForfeit:       true,
			BlockingOrderState: []string{"pending_payment", "paid", "shipped"},
			ConfirmationWait:   7 * day,
		},
		Evidence: EvidencePolicy{PhotoMax: 3 << 20, PDFMax: 10 << 20, VideoMax: 50 << 20, LinkTTL: Duration(10 * time.Minute)},
		Risk: RiskPolicy{
			DisputeAbuseRatio:     0.5,
			DisputeAbuseMinActive: 4,
			IPChurn24h:            5,
			DeviceChurn24h:        3,
			ProfileChanges30d:     5,
			DeclinedPayments24h:   3,
			CheckoutBurst1h:       10,
			Complaints90d:         3,
			RiskReviewDuration:    0,
			RecipientWatchList:    []string{},
			EventRetention:        400 * day,
		},
		Seller: SellerPolicy{
			PointLifetime: 365 * day,
			FeeGrace:      14 * day,
			Ledgers: []Ledger{
				{Name: "listing_quality", Title: "Listing quality", Every: 12,
					EverySanction: &Sanction{Kind: "suspension", Duration: 7 * day}},
				{Name: "transaction", Title: "Transactions", Thresholds: []Threshold{
					{Points: 12, Sanction: Sanction{Kind: "suspension", Duration: 7 * day}},
					{Points: 24, Sanction: Sanction{Kind: "suspension", Duration: 14 * day}},
					{Points: 36, Sanction: Sanction{Kind: "suspension", Duration: 30 * day}},
					{Points: 48, Sanction: Sanction{Kind: "closure"}},
				}},
				{Name: "ip_prohibited", Title: "Intellectual property and prohibited goods", DailyCap: 6,
					Thresholds: []Threshold{{Points: 48, Sanction: Sanction{Kind: "closure"}}}},
				{Name: "serious_ip", Title: "Serious IP infringement", StrikeWindow: 3 * day,
					Strikes: []Sanction{{Kind: "suspension", Duration: day}, {Kind: "suspension", Duration: 7 * day}, {Kind: "closure"}}},
			},
			ViolationTypes: []ViolationType{
				{Code: "false_description", Title: "False description", Ledger: "listing_quality", Points: 2},
				{Code: "ip_infringement", Title: "Intellectual property infringement", Ledger: "ip_prohibited", Points: 2},
				{Code: "serious_ip_infringement", Title: "Serious intellectual property infringement", Ledger: "serious_ip", Points: 1},
				{Code: "prohibited_goods", Title: "Prohibited goods", Ledger: "ip_prohibited", Points: 6},
				{Code: "quality_complaints", Title: "Quality complaints", Ledger: "transaction", Points: 2},
				{Code: "poor_after_sales", Title: "Poor after-sales service", Ledger: "transaction", Points: 3},
				{Code: "high_cancellation_rate", Title: "High cancellation rate", Ledger: "transaction", Points: 3},
				{Code: "late_shipment", Title: "Late shipment", Ledger: "transaction", Points: 2},
				{Code: "unpaid_fees", Title: "Unpaid platform fees", Ledger: "transaction", Points: 2},
			},
		},
		Performance: PerformancePolicy{
			Window: 60 * day, OrderDefectRate: 0.01, LateShipmentRate: 0.04, CancellationRate: 0.025,
			WarningGrace: 14 * day, BreachPoints: 3, MinOrders: 10,
		},
		EU:             EUPolicy{Enabled: false, ClosureNotice: 30 * day},
		Reregistration: ReregistrationPolicy{AllowErasedEmail: true, DenyListReasons: []string{ReasonFraudConfirmed, ReasonDuplicateIdentity}},
		Retention:      RetentionPolicy{Invoices: 10 * 365 * day, Mail: 90 * day},
		SignIn: SignInPolicy{
			MinPasswordLength: 10, MaxPasswordLength: 128, AccountFailures: 5, IPFailures: 20,
			FailureWindow: Duration(15 * time.Minute), Lockout: Duration(15 * time.Minute),
			SessionLifetime: 30 * day, CodeAttempts: 5, ResetLinkLifetime: Duration(time.Hour),
			VerifyLinkLifetime: 7 * day, ResendInterval: Duration(time.Minute),
			StaffSessionLifetime: Duration(12 * time.Hour),
		},
		Reasons: DefaultReasons(),
	}
	if err := p.Validate(); err != nil {
		panic("standing: the default policy is invalid: " + err.Error())
	}
	return p
}

// DefaultReasons returns the default reason catalog of PRODUCT.md.
func DefaultReasons() []Reason {
	riskDocs := []DocumentRequest{
		{Key: "card_photo", Label: "Photo of your payment card", Required: true,
			Help: "Cover every digit except the last four, and the security code on the back."},
		{Key: "id_document", Label: "Identity document", Required: true,
			Help: "An ID card, driving licence or passport, with the document number and photo covered."},
		{Key: "bank_statement", Label: "Bank statement of the last 3 months", Required: true,
			Help: "A PDF or photo; cover account numbers and unrelated transactions."},
	}
	return []Reason{
		{Code: ReasonEmailUnverified, Title: "Email address not confirmed", AppliesTo: "any",
			KeepsNames:   []string{"login", "view_orders", "open_dispute", "change_profile", "delete_account"},
			Severity:     20,
			Message:      "You haven't confirmed your email address within {verification_deadline} of signing up, so most of your account is paused.",
			Remedy:       "Press Reactivate: we send you a new confirmation link, and confirming your email lifts this at once.",
			RemedyAction: "reactivate", DSACategory: "STATEMENT_CATEGORY_OTHER_VIOLATION_TC", DSAGround: "Terms of service: accounts must have a confirmed email address."},
		{Code: ReasonRiskReview, Title: "Account under risk review", AppliesTo: "any",
			RemovesNames: []string{"place_order", "pay", "withdraw_funds", "receive_payouts"},
			Appealable:   true, Severity: 50,
			Message:      "Our risk checks noticed unusual activity on your account (for example a VPN or proxy address, many address or device changes, or declined payments), so orders, payments and payouts are paused {until}.",
			Remedy:       "Appeal with three documents: a photo of your card with all but the last four digits covered, an ID with sensitive data covered, and a bank statement of the last 3 months.",
			RemedyAction: "appeal", Documents: riskDocs,
			DSACategory: "STATEMENT_CATEGORY_SCAMS_AND_FRAUD", DSAGround: "Terms of service: protection of buyers and sellers against payment fraud."},
		{Code: ReasonPaymentVerification, Title: "Payment method needs verification", AppliesTo: "buyer",
			RemovesNames: []string{"place_order", "pay"}, Appealable: true, Severity: 40,
			Message:      "Your card or wallet payment needs to be verified before you can order or pay again.",
			Remedy:       "Submit the card documents: a photo of the card with all but the last four digits covered and a recent bank statement.",
			RemedyAction: "appeal", Documents: []DocumentRequest{riskDocs[0], riskDocs[2]},
			DSACategory: "STATEMENT_CATEGORY_SCAMS_AND_FRAUD", DSAGround: "Terms of service: verification of payment methods."},
		{Code: ReasonFlaggedRecipient, Title: "Order closed: recipient name flagged", AppliesTo: "buyer",
			RemovesNames: []string{}, Appealable: true, Severity: 10,
			Message:      "One order was closed because its recipient name matches a name our carriers cannot deliver to. The rest of your account is not affected.",
			Remedy:       "Edit the recipient name to the person's full real name and place the order again, or appeal if the name is right.",
			RemedyAction: "appeal", DSACategory: "STATEMENT_CATEGORY_SCAMS_AND_FRAUD", DSAGround: "Terms of service: delivery and sanctions screening."},
		{Code: ReasonDisputeAbuse, Title: "Too many disputes", AppliesTo: "buyer",
			RemovesNames: []string{"place_order", "open_dispute"}, Appealable: true, Severity: 60,
			Message:      "More than half of your active orders are in dispute, so new orders and new disputes are paused {until}. You can still see your orders and follow the disputes already open.",
			Remedy:       "Appeal and explain the disputes; resolved disputes count in your favour.",
			RemedyAction: "appeal", DSACategory: "STATEMENT_CATEGORY_OTHER_VIOLATION_TC", DSAGround: "Terms of service: abuse of the dispute process."},
		{Code: ReasonBuyerComplaints, Title: "Complaints from sellers", AppliesTo: "buyer",
			RemovesNames: []string{"place_order", "message"}, Appealable: true, Severity: 55,
			Message:      "Several sellers complained about your orders or messages, so ordering and messaging are paused {until}.",
			Remedy:       "Appeal and tell us your side; a reviewer reads the complaints and your answer.",
			RemedyAction: "appeal", DSACategory: "STATEMENT_CATEGORY_OTHER_VIOLATION_TC", DSAGround: "Terms of service: conduct towards sellers."},
		{Code: ReasonDuplicateIdentity, Title: "Same details as another account", AppliesTo: "any",
			KeepsNames: []string{"view_orders", "login", "appeal"}, Appealable: true, Severity: 80,
			Message:      "This account shares identity details with another account, so it is paused except for seeing your orders.",
			Remedy:       "Sign in to your original account, or appeal if this account is the only one you use.",
			RemedyAction: "sign_in", DSACategory: "STATEMENT_CATEGORY_SCAMS_AND_FRAUD", DSAGround: "Terms of service: one account per person."},
		{Code: ReasonFraudConfirmed, Title: "Fraud confirmed by a reviewer", AppliesTo: "any",
			KeepsNames: []string{"view_orders", "open_dispute", "login", "appeal"}, Appealable: true, Severity: 90, Terminates: true,
			Message:      "A reviewer confirmed fraudulent activity on this account, so it is closed. You can still see your orders and open disputes on them.",
			Remedy:       "You can appeal once with strong evidence; two reviewers must agree to reopen the account.",
			RemedyAction: "appeal", DSACategory: "STATEMENT_CATEGORY_SCAMS_AND_FRAUD", DSAGround: "Terms of service: fraudulent use of the marketplace."},
		{Code: ReasonSelfDeleted, Title: "Deletion requested", AppliesTo: "any",
			RemovesNames: []string{"all"}, Severity: 100,
			Message:      "You asked us to delete this account. Its personal data will be erased {until}.",
			Remedy:       "Changed your mind? Contact support before the erasure runs and we can restore the account.",
			RemedyAction: "none", DSACategory: "STATEMENT_CATEGORY_OTHER_VIOLATION_TC", DSAGround: "The account holder's own request."},
		{Code: ReasonSellerViolation, Title: "Store sanction for policy violations", AppliesTo: "seller",
			RemovesNames: []string{"list_products", "receive_orders"}, Appealable: true, Severity: 70,
			Message:      "Your store collected penalty points for policy violations, so selling is paused {until}.",
			Remedy:       "Appeal with evidence, and fix the cause shown on your seller dashboard.",
			RemedyAction: "appeal", DSACategory: "STATEMENT_CATEGORY_OTHER_VIOLATION_TC", DSAGround: "Seller terms: penalty points for policy violations."},
	}
}
