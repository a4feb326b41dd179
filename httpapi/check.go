package httpapi

import (
	"net/http"
	"strings"

	"standing"
	"standing/checker"
	"standing/metrics"
)

type checkMetrics struct {
	results *metrics.CounterVec
}

func newCheckMetrics(reg *metrics.Registry) *checkMetrics {
	return &checkMetrics{results: reg.Counter("standing_check_results_total",
		"Checks answered, by the reason code that denied them (allowed when none did).", "reason")}
}

type checkRequest struct {
	AccountID  string `json:"account_id"`
	Capability string `json:"capability"`
}

// handleCheck serves POST /v1/check: may this account do this now? It reads only the
// in-memory standing, never the write path.
func handleCheck(c *checker.Cache, m *checkMetrics) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in checkRequest
		if err := decode(w, r, &in, maxBody); err != nil {
			return err
		}
		if in.AccountID == "" {
			return standing.FieldErrorf(standing.EINVALID, "account_id", "account_id is required")
		}
		if len(in.AccountID) > 100 {
			return standing.FieldErrorf(standing.EINVALID, "account_id", "account_id is longer than 100 characters")
		}
		capability, ok := standing.ParseCapability(in.Capability)
		if !ok {
			return standing.FieldErrorf(standing.EINVALID, "capability", "unknown capability %q; known: %s", in.Capability, strings.Join(standing.CapabilityNames(), ", "))
		}
		d, err := c.Check(r.Context(), in.AccountID, capability)
		if err != nil {
			return err
		}
		if d.Allowed {
			m.results.With1("allowed").Inc()
		} else {
			m.results.With1(d.ReasonCode).Inc()
		}
		return writeJSON(w, http.StatusOK, d)
	}
}
