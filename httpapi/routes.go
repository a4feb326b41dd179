package httpapi

import "standing"

// routeTable is the whole operator API. Each handler takes only what it needs.
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
