package rules

import (
	"strconv"
	"strings"
	"time"
)

// Revision is one saved version of a rule: the rule as it was, who saved it and when.
// Versions are kept for good; a change is a new version.
type Revision struct {
	Rule
	UpdatedBy string    `json:"updated_by"`
	UpdatedAt time.Time `json:"updated_at"`
}

// SameDefinition reports whether two rules say the same thing, whatever their versions, so
// saving an unchanged rule does not make a new version.
func SameDefinition(a, b Rule) bool {
	a.Version, b.Version = 0, 0
	return a == b
}

// Describe says in words what an outcome does: "restrict (risk_review), close open orders,
// score +50".
func (o Outcome) Describe() string {
	var parts []string
	if o.ReasonCode != "" {
		s := "restrict (" + o.ReasonCode
		if o.Duration > 0 {
			s += " for " + o.Duration.String()
		}
		parts = append(parts, s+")")
	}
	if o.RequirePaymentVerification {
		parts = append(parts, "require payment verification")
	}
	if o.CloseOpenOrders {
		parts = append(parts, "close open orders")
	}
	if o.CloseEventOrder {
		parts = append(parts, "close the event's order")
	}
	if o.Review {
		parts = append(parts, "send to review")
	}
	if o.Score != 0 {
		sign := "+"
		if o.Score < 0 {
			sign = ""
		}
		parts = append(parts, "score "+sign+strconv.Itoa(o.Score))
	}
	return strings.Join(parts, ", ")
}
