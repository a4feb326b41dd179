package standing

import (
	"slices"
	"time"
)

// Standing is an account's lifecycle and its restrictions that have not ended: everything
// the check needs, and what the account page shows.
type Standing struct {
	AccountID    string
	Role         Role
	Lifecycle    Lifecycle
	Restrictions []Restriction // state active, most severe first
}

// Decision answers "may this account do this now?".
type Decision struct {
	Allowed       bool       `json:"allowed"`
	ReasonCode    string     `json:"reason_code,omitempty"`
	RestrictionID string     `json:"restriction_id,omitempty"`
	Message       string     `json:"message,omitempty"`
	Remedy        string     `json:"remedy,omitempty"`
	EndsAt        *time.Time `json:"ends_at,omitempty"`
	Appealable    bool       `json:"appealable,omitempty"`
}

// Reason codes a check gives when the lifecycle, not a restriction, denies.
const (
	DecisionAccountErased = "account_erased"
)

// SortRestrictions orders rs most severe first: higher severity, then no end before an end,
// then the later end, then the earlier start.
func SortRestrictions(rs []Restriction) {
	slices.SortStableFunc(rs, func(a, b Restriction) int {
		if a.Severity != b.Severity {
			return b.Severity - a.Severity
		}
		switch {
		case a.EndsAt == nil && b.EndsAt != nil:
			return -1
		case a.EndsAt != nil && b.EndsAt == nil:
			return 1
		case a.EndsAt != nil && !a.EndsAt.Equal(*b.EndsAt):
			return b.EndsAt.Compare(*a.EndsAt)
		}
		return a.StartsAt.Compare(b.StartsAt)
	})
}

// Check decides whether the account may use capability c at now. The restrictions must be
// sorted with SortRestrictions; the first active one that removes c answers. It does not
// allocate.
func (s *Standing) Check(c Capability, now time.Time) Decision {
	if s.Lifecycle == LifecycleErased {
		return Decision{ReasonCode: DecisionAccountErased, Message: "This account was deleted and its data erased."}
	}
	for i := range s.Restrictions {
		r := &s.Restrictions[i]
		if r.Removes.Has(c) && r.ActiveAt(now) {
			return Decision{
				ReasonCode: r.ReasonCode, RestrictionID: r.ID, Message: r.Message, Remedy: r.Remedy,
				EndsAt: r.EndsAt, Appealable: r.Appealable,
			}
		}
	}
	return Decision{Allowed: true}
}

// Active returns the restrictions in effect at now.
func (s *Standing) Active(now time.Time) []Restriction {
	out := make([]Restriction, 0, len(s.Restrictions))
	for _, r := range s.Restrictions {
		if r.ActiveAt(now) {
			out = append(out, r)
		}
	}
	return out
}

// Capabilities returns what the account may do at now.
func (s *Standing) Capabilities(now time.Time) CapabilitySet {
	if s.Lifecycle == LifecycleErased {
		return 0
	}
	left := AllCapabilities
	for _, r := range s.Active(now) {
		left &^= r.Removes
	}
	return left
}

// Summary is the short form of a standing kept in audit entries as before and after.
type Summary struct {
	Lifecycle    Lifecycle `json:"lifecycle"`
	Restrictions []string  `json:"restrictions"` // "reason_code:id", most severe first
	Denied       []string  `json:"denied"`
}

// Summarize returns the audit summary of s: its lifecycle, the restrictions in state active
// and the capabilities they deny. It goes by state, not by time, so the entry that records
// an expiry still shows the expired restriction in its "before".
func (s *Standing) Summarize() Summary {
	sum := Summary{Lifecycle: s.Lifecycle, Restrictions: []string{}}
	var denied CapabilitySet
	for _, r := range s.Restrictions {
		if r.State == RestrictionActive {
			sum.Restrictions = append(sum.Restrictions, r.ReasonCode+":"+r.ID)
			denied |= r.Removes
		}
	}
	if s.Lifecycle == LifecycleErased {
		denied = AllCapabilities
	}
	sum.Denied = denied.Names()
	return sum
}
