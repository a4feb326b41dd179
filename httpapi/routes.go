package httpapi

import (
	"log/slog"

	"standing"
	"standing/erasure"
	"standing/ipintel"
)

// routeTable is the core of the operator API; the feature areas below add theirs. Every
// route of the API is in this file. Each handler takes only what it needs.
func (s *Server) routeTable() []Route {
	d := s.deps
	cm := newCheckMetrics(d.Metrics)
	routes := []Route{
		{"GET /healthz", "", handleHealth()},
		{"GET /readyz", "", handleReady(d.Ready)},
		{"GET /metrics", "", handleMetrics(d.Metrics)},
		{"GET /openapi.json", "", handleOpenAPI()},

		{"POST /v1/accounts", standing.ScopeAccountsWrite, handleCreateAccounts(d.AccountWriter, d.Checker, d.Policy, d.Clock)},
		{"GET /v1/accounts/{id}", standing.ScopeAccountsRead, handleGetAccount(d.Accounts, d.Checker, d.Clock)},
		{"GET /v1/accounts/{id}/timeline", standing.ScopeAuditRead, handleTimeline(d.Accounts, d.Audit)},
		{"GET /v1/accounts/{id}/restrictions", standing.ScopeAccountsRead, handleListRestrictions(d.Accounts, d.Restrictions)},
		{"POST /v1/accounts/{id}/restrictions", standing.ScopeEnforce, handleRestrict(d.Enforcer)},
		{"GET /v1/restrictions/{id}", standing.ScopeAccountsRead, handleGetRestriction(d.Restrictions)},
		{"POST /v1/restrictions/{id}/lift", standing.ScopeEnforce, handleLift(d.Enforcer)},
		{"GET /v1/reasons", standing.ScopeAccountsRead, handleReasons(d.Policy)},

		{"POST /v1/check", standing.ScopeCheck, handleCheck(d.Checker, cm)},
	}
	if d.DevClock != nil {
		routes = append(routes,
			Route{"GET /dev/clock", "", handleGetDevClock(d.DevClock)},
			Route{"POST /dev/clock", "", handleAdvanceDevClock(d.DevClock, d.Log)},
		)
	}
	return routes
}

// The feature areas. Each takes its own dependencies; app wires them.

// IdentityRoutes are the JSON forms of the sign-up, confirmation, sign-in and reset pages,
// for marketplaces that host their own pages. They need no API key: like the pages, they
// act for the person, who proves who they are with a password, a mailed secret, or a
// session token (Authorization: Bearer ss_…).
func IdentityRoutes(d IdentityDeps) []Route {
	return []Route{
		{"POST /v1/signup", "", handleSignUp(d.Auth, d.Policy)},
		{"POST /v1/verify", "", handleVerify(d.Auth, d.Checker, d.Clock)},
		{"POST /v1/verify/resend", "", handleResend(d.Auth)},
		{"POST /v1/sessions", "", handleSignIn(d.Auth, d.Policy, d.Clock)},
		{"DELETE /v1/sessions/current", "", handleSignOut(d.Auth)},
		{"POST /v1/password-reset", "", handlePasswordReset(d.Auth)},
		{"GET /v1/me", "", handleMe(d.Auth, d.Checker, d.Clock)},
		{"PATCH /v1/me", "", handleChangeMe(d.Auth, d.Checker, d.Clock)},
	}
}

// RiskRoutes returns the routes of the marketplace ledger, events and decisions, rules,
// identity links and webhooks. The app passes them to New with the other areas' routes.
func RiskRoutes(d RiskDeps) []Route {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.IPIntel == nil {
		d.IPIntel = func() *ipintel.DB { return nil }
	}
	ev := &eventIntake{ip: d.IPIntel, hasher: d.Identity, clock: d.Clock, policy: d.Policy}
	return []Route{
		{"POST /v1/orders", standing.ScopeLedgerWrite, handleCreateOrder(d.Ledger, d.Identity, d.Clock)},
		{"GET /v1/orders/{id}", standing.ScopeAccountsRead, handleGetOrder(d.Ledger)},
		{"PATCH /v1/orders/{id}", standing.ScopeLedgerWrite, handleUpdateOrder(d.Ledger, d.Clock)},
		{"POST /v1/disputes", standing.ScopeLedgerWrite, handleCreateDispute(d.Ledger, d.Clock)},
		{"GET /v1/disputes/{id}", standing.ScopeAccountsRead, handleGetDispute(d.Ledger)},
		{"PATCH /v1/disputes/{id}", standing.ScopeLedgerWrite, handleUpdateDispute(d.Ledger, d.Clock)},
		{"POST /v1/accounts/{id}/wallet", standing.ScopeLedgerWrite, handleSetWallet(d.Ledger)},
		{"GET /v1/accounts/{id}/wallet", standing.ScopeAccountsRead, handleGetWallet(d.Accounts, d.Ledger)},
		{"GET /v1/accounts/{id}/orders", standing.ScopeAccountsRead, handleAccountOrders(d.Accounts, d.Ledger)},

		{"POST /v1/events", standing.ScopeEventsWrite, handleEvents(ev, d.Events)},
		{"GET /v1/events/{id}", standing.ScopeAuditRead, handleGetEvent(d.Stored)},

		{"GET /v1/accounts/{id}/links", standing.ScopeAccountsRead, handleLinks(d.Links)},
		{"GET /v1/reviews", standing.ScopeRulesRead, handleReviews(d.Risk)},

		{"GET /v1/rules", standing.ScopeRulesRead, handleListRules(d.Rules)},
		{"POST /v1/rules", standing.ScopeRulesWrite, handleCreateRule(d.Rules)},
		{"GET /v1/rules/{id}", standing.ScopeRulesRead, handleGetRule(d.Rules)},
		{"PUT /v1/rules/{id}", standing.ScopeRulesWrite, handleReplaceRule(d.Rules)},
		{"PATCH /v1/rules/{id}", standing.ScopeRulesWrite, handlePatchRule(d.Rules)},
		{"POST /v1/rules/{id}/test", standing.ScopeRulesRead, handleTestRule(d.Rules, ev)},
		{"POST /v1/rules/{id}/backtest", standing.ScopeRulesRead, handleBacktest(d.Rules, d.Clock, d.Policy)},
		{"GET /v1/rules/{id}/hits", standing.ScopeRulesRead, handleRuleHits(d.Rules, d.Risk)},

		{"POST /v1/webhooks", standing.ScopeWebhooks, handleCreateWebhook(d.Webhooks)},
		{"GET /v1/webhooks", standing.ScopeWebhooks, handleListWebhooks(d.Webhooks)},
		{"GET /v1/webhooks/{id}", standing.ScopeWebhooks, handleGetWebhook(d.Webhooks)},
		{"PATCH /v1/webhooks/{id}", standing.ScopeWebhooks, handlePatchWebhook(d.Webhooks)},
		{"POST /v1/webhooks/{id}/rotate", standing.ScopeWebhooks, handleRotateWebhook(d.Webhooks)},
		{"GET /v1/webhooks/{id}/deliveries", standing.ScopeWebhooks, handleWebhookDeliveries(d.Webhooks)},
	}
}

// AppealRoutes are the appeals API and the statements-of-reasons export.
func AppealRoutes(d AppealDeps) []Route {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	return []Route{
		{"POST /v1/appeals", standing.ScopeAppealsWrite, handleSubmitAppeal(d.Appeals, d.Policy)},
		{"GET /v1/appeals/{id}", standing.ScopeAppealsRead, handleGetAppeal(d.Appeals)},
		{"POST /v1/appeals/{id}/decision", standing.ScopeAppealsDecide, handleDecideAppeal(d.Appeals)},
		{"GET /v1/statements", standing.ScopeStatements, handleStatements(d.Statements, d.Policy, d.Log)},
	}
}

// SellerRoutes are the API of seller penalties, fines, fees and standing.
func SellerRoutes(d SellerDeps) []Route {
	return []Route{
		{"POST /v1/violations", standing.ScopeSellers, handleReportViolation(d.Sellers)},
		{"GET /v1/violations/{id}", standing.ScopeSellers, handleGetViolation(d.Sellers)},
		{"POST /v1/violations/{id}/withdraw", standing.ScopeSellers, handleWithdrawViolation(d.Sellers)},
		{"GET /v1/violation-types", standing.ScopeSellers, handleViolationTypes(d.Policy)},
		{"GET /v1/sellers/{id}/standing", standing.ScopeSellers, handleSellerStanding(d.Sellers)},
		{"POST /v1/sellers/{id}/fines", standing.ScopeSellers, handleRecordFine(d.Sellers)},
		{"POST /v1/sellers/{id}/fees", standing.ScopeSellers, handleRecordFee(d.Sellers)},
		{"POST /v1/fees/{id}/payment", standing.ScopeSellers, handlePayFee(d.Sellers)},
	}
}

// ErasureRoutes are account deletion, restore, the certificate, the marketplace's
// confirmation, and tracking without an account.
func ErasureRoutes(svc *erasure.Service) []Route {
	return []Route{
		{"POST /v1/accounts/{id}/erasure", standing.ScopeErasure, handleRequestErasure(svc)},
		{"DELETE /v1/accounts/{id}/erasure", standing.ScopeErasure, handleRestore(svc)},
		{"GET /v1/erasures/{id}", standing.ScopeErasure, handleGetErasure(svc)},
		{"POST /v1/erasures/{id}/confirmations", standing.ScopeErasure, handleConfirmErasure(svc)},
		{"GET /v1/track/{number}", "", handleTrack(svc)},
	}
}
