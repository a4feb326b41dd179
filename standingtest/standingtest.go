// Package standingtest holds the storage contract suite that every Standing store must
// pass — the same tests on SQLite and on PostgreSQL — and Must* helpers for tests.
package standingtest

import (
	"context"
	"testing"
	"time"

	"standing"
	"standing/jobs"
)

// Store is everything a Standing store implements.
type Store interface {
	standing.AccountReader
	standing.AccountWriter
	standing.StandingReader
	standing.RestrictionReader
	standing.Enforcer
	standing.AuditLog
	standing.APIKeyStore
	jobs.Queue
}

// Backend is a store under test with a raw SQL hook, used to tamper with rows the way an
// attacker with database access would.
type Backend struct {
	Store Store
	Exec  func(ctx context.Context, query string, args ...any) error
}

// Factory opens a fresh, migrated, empty store whose clock is clock.
type Factory func(t *testing.T, clock standing.Clock) Backend

// Start is the time test clocks start at.
var Start = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// MustCreateAccount creates an account with the email and role, or fails the test.
func MustCreateAccount(t testing.TB, s standing.AccountWriter, role standing.Role, email string) standing.Account {
	t.Helper()
	res, err := s.CreateAccounts(context.Background(), []standing.NewAccount{{Role: role, Email: email, Lifecycle: standing.LifecycleActive}}, "test")
	if err != nil {
		t.Fatalf("create account %s: %v", email, err)
	}
	if res[0].Err != nil {
		t.Fatalf("create account %s: %v", email, res[0].Err)
	}
	return *res[0].Account
}

// MustRestrict restricts an account, or fails the test.
func MustRestrict(t testing.TB, s standing.Enforcer, accountID string, nr standing.NewRestriction) standing.Restriction {
	t.Helper()
	r, err := s.Restrict(context.Background(), accountID, nr)
	if err != nil {
		t.Fatalf("restrict %s with %s: %v", accountID, nr.ReasonCode, err)
	}
	return r
}

// WantCode fails the test unless err has the code (and, if field is not empty, the field).
func WantCode(t testing.TB, err error, code, field string) {
	t.Helper()
	if got := standing.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
	if field != "" && standing.ErrorField(err) != field {
		t.Fatalf("error field = %q (%v), want %q", standing.ErrorField(err), err, field)
	}
}
