package standing

import (
	"context"
	"time"
)

// AccountReader reads accounts.
type AccountReader interface {
	// Account returns the account with id; ENOTFOUND if there is none.
	Account(ctx context.Context, id string) (Account, error)
	// AccountByEmail returns the live account with the normalised email; ENOTFOUND if none.
	AccountByEmail(ctx context.Context, email string) (Account, error)
}

// AccountWriter creates accounts.
type AccountWriter interface {
	// CreateAccounts creates (or imports) the accounts, each with the restrictions it
	// carries, and returns one result per input, in order. An input that conflicts with a
	// live account (same email or external id) gets an ECONFLICT result; the others are
	// created. The inputs must already be normalised.
	CreateAccounts(ctx context.Context, accounts []NewAccount, actor string) ([]CreateResult, error)
}

// CreateResult is the outcome of creating one account of a batch.
type CreateResult struct {
	Account      *Account
	Restrictions []Restriction
	Err          error
}

// StandingReader reads what the check needs.
type StandingReader interface {
	// Standing returns the account's lifecycle and its restrictions in state active, most
	// severe first; ENOTFOUND if there is no such account.
	Standing(ctx context.Context, accountID string) (Standing, error)
}

// RestrictionReader reads restrictions.
type RestrictionReader interface {
	// Restriction returns one restriction; ENOTFOUND if there is none.
	Restriction(ctx context.Context, id string) (Restriction, error)
	// Restrictions returns the account's restrictions, newest first; ended ones too if all.
	Restrictions(ctx context.Context, accountID string, all bool) ([]Restriction, error)
}

// Enforcer changes standing. It is the privileged write side: only handlers holding the
// right scope or role get one.
type Enforcer interface {
	// Restrict puts a restriction on an account. ENOTFOUND for an unknown account, EINVALID
	// for an unknown reason or one that does not apply to the account's role, EGONE for an
	// erased account.
	Restrict(ctx context.Context, accountID string, r NewRestriction) (Restriction, error)
	// Lift ends a restriction. ENOTFOUND for an unknown one, ECONFLICT if it already ended.
	Lift(ctx context.Context, restrictionID string, l LiftRequest) (Restriction, error)
	// ExpireRestrictions marks active restrictions whose end passed before now as expired,
	// with an audit entry each, and returns how many it marked.
	ExpireRestrictions(ctx context.Context, now time.Time) (int, error)
}

// AuditLog reads and verifies the audit chain.
type AuditLog interface {
	// Timeline returns the account's audit entries, oldest first, after seq afterSeq.
	Timeline(ctx context.Context, accountID string, afterSeq int64, limit int) ([]AuditEntry, error)
	// VerifyAudit walks the whole chain and returns the number of entries and the first
	// problem, if any.
	VerifyAudit(ctx context.Context) (int64, *AuditProblem, error)
}

// APIKey is an operator API key. The secret is shown once, at creation; only its hash is
// stored. A key may be bound to one reviewer (a staff user): decisions on appeals made
// with it are that person's, so a key cannot act as anyone else.
type APIKey struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	Scopes     []string   `json:"scopes"`
	ReviewerID string     `json:"reviewer_id,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// APIKeyStore keeps API keys.
type APIKeyStore interface {
	// CreateAPIKey stores a key, with its reviewer if it has one, and the hash of its
	// secret; ENOTFOUND if the reviewer is not a console user.
	CreateAPIKey(ctx context.Context, k APIKey, secretHash string) error
	// APIKeyByHash returns the key whose secret hashes to hash; ENOTFOUND if none.
	APIKeyByHash(ctx context.Context, hash string) (APIKey, error)
	// APIKeys lists the keys.
	APIKeys(ctx context.Context) ([]APIKey, error)
	// RevokeAPIKey revokes a key; ENOTFOUND if there is none.
	RevokeAPIKey(ctx context.Context, id string) error
}

// API key scopes. "all" grants every scope.
const (
	ScopeAll           = "all"
	ScopeAccountsRead  = "accounts:read"
	ScopeAccountsWrite = "accounts:write"
	ScopeCheck         = "check"
	ScopeEnforce       = "restrictions:write"
	ScopeAuditRead     = "audit:read"
	ScopeEventsWrite   = "events:write"
	ScopeLedgerWrite   = "ledger:write"
	ScopeRulesRead     = "rules:read"
	ScopeRulesWrite    = "rules:write"
	ScopeWebhooks      = "webhooks"
	ScopeAppealsRead   = "appeals:read"
	ScopeAppealsWrite  = "appeals:write"
	// ScopeAppealsDecide lets a key record reviewers' decisions on appeals; the key must
	// also be bound to the reviewer who decides (APIKey.ReviewerID).
	ScopeAppealsDecide = "appeals:decide"
	ScopeSellers       = "sellers"
	ScopeErasure       = "erasure"
	ScopeStatements    = "statements:read"
)

// KnownScopes lists every scope a key can hold. Later features add theirs here.
var KnownScopes = []string{
	ScopeAll, ScopeAccountsRead, ScopeAccountsWrite, ScopeCheck, ScopeEnforce, ScopeAuditRead,
	ScopeEventsWrite, ScopeLedgerWrite, ScopeRulesRead, ScopeRulesWrite, ScopeWebhooks,
	ScopeAppealsRead, ScopeAppealsWrite, ScopeAppealsDecide, ScopeSellers, ScopeErasure, ScopeStatements,
}

// HasScope reports whether the key's scopes grant scope.
func (k *APIKey) HasScope(scope string) bool {
	for _, s := range k.Scopes {
		if s == scope || s == ScopeAll {
			return true
		}
	}
	return false
}
