package standing

import (
	"context"
	"time"
)

// IdentityKind is a kind of identity detail.
type IdentityKind string

// The identity kinds. Strong kinds link accounts that share them; a name alone is too
// common to link on, but it shows in the explanation of a link made by a strong one.
const (
	IdentityName            IdentityKind = "name"
	IdentityPhone           IdentityKind = "phone"
	IdentityShippingAddress IdentityKind = "shipping_address"
	IdentityCardFingerprint IdentityKind = "card_fingerprint"
	IdentityDevice          IdentityKind = "device_id"
)

// IdentityKinds lists every kind.
var IdentityKinds = []IdentityKind{IdentityName, IdentityPhone, IdentityShippingAddress, IdentityCardFingerprint, IdentityDevice}

// Valid reports whether k is a known kind.
func (k IdentityKind) Valid() bool { return HasString(identityKindNames, string(k)) }

var identityKindNames = []string{"name", "phone", "shipping_address", "card_fingerprint", "device_id"}

// Strong reports whether sharing a detail of kind k links two accounts.
func (k IdentityKind) Strong() bool { return k != IdentityName && k.Valid() }

// Words says what the kind is in plain words.
func (k IdentityKind) Words() string {
	switch k {
	case IdentityName:
		return "name"
	case IdentityPhone:
		return "phone number"
	case IdentityShippingAddress:
		return "shipping address"
	case IdentityCardFingerprint:
		return "payment card"
	case IdentityDevice:
		return "device"
	}
	return string(k)
}

// IdentityAttribute is one identity detail of an account, as Standing keeps it: a keyed
// hash (HMAC with the server secret) of the normalised value, which links accounts and can
// stay on a deny list after an erasure, and a masked form for the people reading a link
// ("+49 ••• 5678"). The value itself is never stored.
type IdentityAttribute struct {
	Kind    IdentityKind `json:"kind"`
	Hash    string       `json:"-"`
	Display string       `json:"display"`
}

// Link is another account that shares strong identity details with an account, with each
// shared detail explained.
type Link struct {
	AccountID string    `json:"account_id"`
	Role      Role      `json:"role"`
	Lifecycle Lifecycle `json:"lifecycle"`
	// Restricted lists the reason codes of the other account's active restrictions.
	Restricted []string `json:"restricted"`
	// Flagged is set when the other account's restrictions mark its identity as bad (the
	// policy's deny-list reasons, such as fraud_confirmed): the duplicate_identity rule
	// counts it in linked_restricted.
	Flagged   bool           `json:"flagged"`
	Shared    []SharedDetail `json:"shared"`
	Because   string         `json:"because"`
	CreatedAt time.Time      `json:"created_at"`
}

// SharedDetail is one identity detail two accounts share.
type SharedDetail struct {
	Kind    IdentityKind `json:"kind"`
	Strong  bool         `json:"strong"`
	Display string       `json:"display"`
	// Since is when both accounts had it (the later of their first sightings).
	Since time.Time `json:"since"`
}

// LinkReader explains identity links.
type LinkReader interface {
	// Links returns the accounts linked to accountID, each with the details they share.
	// ENOTFOUND for an unknown account.
	Links(ctx context.Context, accountID string) ([]Link, error)
	// DenyListHits returns how many of the account's identity details are on the deny list
	// of erased accounts.
	DenyListHits(ctx context.Context, accountID string) (int, error)
}

// Review is a flag that sends an account to the reviewers: one open per account, raised
// by rules with the review outcome (issue 5 builds the console that works the queue).
type Review struct {
	ID        string    `json:"id"`
	AccountID string    `json:"account_id"`
	State     string    `json:"state"` // open | closed
	RuleIDs   []string  `json:"rule_ids"`
	EventID   string    `json:"event_id"`
	Hits      int       `json:"hits"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// RuleHit records one firing of a rule on an event, active or shadow.
type RuleHit struct {
	RuleID    string    `json:"rule_id"`
	Version   int       `json:"version"`
	Mode      string    `json:"mode"`
	EventID   string    `json:"event_id"`
	AccountID string    `json:"account_id"`
	At        time.Time `json:"at"`
	// Actions summarises what the firing did ("restrict:risk_review:rst_…") or, for a
	// shadow rule, would have done.
	Actions string `json:"actions"`
}
