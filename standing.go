// Package standing is the vocabulary of the account-standing service: accounts and their
// lifecycle, capabilities, restrictions and the reason catalog, audit entries, the policy,
// the clock, and the service interfaces that storage implements. It holds the pure logic
// (state transitions, the capability check) and imports only the standard library.
//
// The lifecycle of an account:
//
//	stateDiagram-v2
//	    [*] --> unverified: sign-up
//	    [*] --> active: import of a verified account
//	    unverified --> active: email confirmed
//	    unverified --> closing: deletion requested
//	    active --> closing: deletion requested
//	    closing --> active: restored within the grace period
//	    closing --> unverified: restored (email never confirmed)
//	    closing --> erased: erasure ran
//	    erased --> [*]
package standing

import (
	"fmt"
	"time"
)

// Role is what an account does on the marketplace.
type Role string

// The roles.
const (
	RoleBuyer  Role = "buyer"
	RoleSeller Role = "seller"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleBuyer || r == RoleSeller }

// Lifecycle is where an account is in its life.
type Lifecycle string

// The lifecycle states.
const (
	LifecycleUnverified Lifecycle = "unverified"
	LifecycleActive     Lifecycle = "active"
	LifecycleClosing    Lifecycle = "closing"
	LifecycleErased     Lifecycle = "erased"
)

// Valid reports whether l is a known lifecycle state.
func (l Lifecycle) Valid() bool {
	switch l {
	case LifecycleUnverified, LifecycleActive, LifecycleClosing, LifecycleErased:
		return true
	}
	return false
}

// Live reports whether an account in state l still exists for its owner (it is not erased).
func (l Lifecycle) Live() bool { return l != LifecycleErased }

// Transition checks the move from l to next and returns a conflict error for an illegal one.
func (l Lifecycle) Transition(next Lifecycle) error {
	ok := false
	switch l {
	case LifecycleUnverified:
		ok = next == LifecycleActive || next == LifecycleClosing
	case LifecycleActive:
		ok = next == LifecycleClosing
	case LifecycleClosing:
		ok = next == LifecycleActive || next == LifecycleUnverified || next == LifecycleErased
	}
	if !ok {
		return Errorf(ECONFLICT, "an account cannot go from %s to %s", l, next)
	}
	return nil
}

// Account is a buyer or seller account.
type Account struct {
	ID              string     `json:"id"`
	ExternalID      string     `json:"external_id,omitempty"`
	Role            Role       `json:"role"`
	Email           string     `json:"email,omitempty"`
	Name            string     `json:"name,omitempty"`
	Phone           string     `json:"phone,omitempty"`
	Country         string     `json:"country,omitempty"`
	Lifecycle       Lifecycle  `json:"lifecycle"`
	EmailVerifiedAt *time.Time `json:"email_verified_at,omitempty"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
}

// Limits on the length of text fields; longer input is refused, never cut.
const (
	MaxEmailLen    = 254
	MaxNameLen     = 200
	MaxNoteLen     = 2000
	MaxActorLen    = 200
	MaxExternalLen = 200
	MaxBatch       = 1000
)

// NewAccount is what it takes to create (or import) an account.
type NewAccount struct {
	ExternalID string    `json:"external_id,omitempty"`
	Role       Role      `json:"role"`
	Email      string    `json:"email"`
	Name       string    `json:"name,omitempty"`
	Phone      string    `json:"phone,omitempty"`
	Country    string    `json:"country,omitempty"`
	Lifecycle  Lifecycle `json:"lifecycle,omitempty"`
	// CreatedAt lets an import keep the original sign-up time; zero means now.
	CreatedAt time.Time `json:"created_at,omitzero"`
	// Restrictions an imported account already carries.
	Restrictions []NewRestriction `json:"restrictions,omitempty"`
	// PasswordHash is set by sign-up; imports leave it empty.
	PasswordHash string `json:"-"`
}

// ValidateRestrictions checks the restrictions an imported account carries.
func (a *NewAccount) ValidateRestrictions(prefix string) error {
	for i := range a.Restrictions {
		if err := a.Restrictions[i].validate(fmt.Sprintf("%srestrictions[%d].", prefix, i)); err != nil {
			return err
		}
	}
	return nil
}
