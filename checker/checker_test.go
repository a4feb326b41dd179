package checker_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"standing"
	"standing/checker"
	"standing/sqlstore"
	"standing/standingtest"
)

func newStore(t testing.TB, clock standing.Clock) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(context.Background(), filepath.Join(t.TempDir(), "c.db"), sqlstore.Options{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCacheFollowsTheStore(t *testing.T) {
	ctx := context.Background()
	clock := standing.NewTestClock(standingtest.Start)
	s := newStore(t, clock)
	c := checker.New(s, clock, 0)
	s.OnChange(c.Invalidate)

	if _, err := c.Check(ctx, "acc_later", standing.CapPay); standing.ErrorCode(err) != standing.ENOTFOUND {
		t.Fatalf("unknown account: %v", err)
	}
	a := standingtest.MustCreateAccount(t, s, standing.RoleBuyer, "later@example.com")
	if d, err := c.Check(ctx, a.ID, standing.CapPay); err != nil || !d.Allowed {
		t.Fatalf("new account: %+v, %v", d, err)
	}
	// The missing id was cached as missing; creating an account with another id must not
	// be confused with it, and the new account must not be stuck as "missing".
	r := standingtest.MustRestrict(t, s, a.ID, standing.NewRestriction{ReasonCode: standing.ReasonPaymentVerification})
	if d, _ := c.Check(ctx, a.ID, standing.CapPay); d.Allowed || d.RestrictionID != r.ID {
		t.Fatalf("after restrict: %+v", d)
	}
	if _, err := s.Lift(ctx, r.ID, standing.LiftRequest{}); err != nil {
		t.Fatal(err)
	}
	if d, _ := c.Check(ctx, a.ID, standing.CapPay); !d.Allowed {
		t.Fatalf("after lift: %+v", d)
	}
	if c.Len() != 2 {
		t.Fatalf("Len = %d, want 2 (one account, one known-missing id)", c.Len())
	}
}

func TestCacheBounded(t *testing.T) {
	ctx := context.Background()
	clock := standing.NewTestClock(standingtest.Start)
	s := newStore(t, clock)
	c := checker.New(s, clock, 1) // one entry per shard
	for i := 0; i < 300; i++ {
		c.Check(ctx, fmt.Sprintf("acc_%d", i), standing.CapPay)
	}
	if c.Len() > 128 {
		t.Fatalf("Len = %d, want at most one per shard", c.Len())
	}
}

// BenchmarkCheck measures the in-process check of a loaded account with three overlapping
// restrictions: the hot path behind POST /v1/check.
func BenchmarkCheck(b *testing.B) {
	ctx := context.Background()
	clock := standing.NewTestClock(standingtest.Start)
	s := newStore(b, clock)
	c := checker.New(s, clock, 0)
	s.OnChange(c.Invalidate)
	var in []standing.NewAccount
	for i := 0; i < 1000; i++ {
		na := standing.NewAccount{Role: standing.RoleBuyer, Email: fmt.Sprintf("b%d@example.com", i), Lifecycle: standing.LifecycleActive}
		if i%3 == 0 {
			na.Restrictions = []standing.NewRestriction{{ReasonCode: standing.ReasonRiskReview},
				{ReasonCode: standing.ReasonDisputeAbuse, Duration: "7d"}, {ReasonCode: standing.ReasonBuyerComplaints}}
		}
		in = append(in, na)
	}
	res, err := s.CreateAccounts(ctx, in, "bench")
	if err != nil {
		b.Fatal(err)
	}
	var ids []string
	for _, r := range res {
		ids = append(ids, r.Account.ID)
	}
	for _, id := range ids {
		c.Check(ctx, id, standing.CapPay)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			d, err := c.Check(ctx, ids[i%len(ids)], standing.Capability(i%14))
			if err != nil || (d.Allowed && i%len(ids)%3 == 0 && i%14 == 1) {
				b.Fatalf("check: %+v %v", d, err)
			}
			i++
		}
	})
}

func TestWarm(t *testing.T) {
	ctx := context.Background()
	clock := standing.NewTestClock(standingtest.Start)
	s := newStore(t, clock)
	var ids []string
	for i := 0; i < 50; i++ {
		a := standingtest.MustCreateAccount(t, s, standing.RoleBuyer, fmt.Sprintf("w%d@example.com", i))
		if i%2 == 0 {
			standingtest.MustRestrict(t, s, a.ID, standing.NewRestriction{ReasonCode: standing.ReasonRiskReview})
			standingtest.MustRestrict(t, s, a.ID, standing.NewRestriction{ReasonCode: standing.ReasonDisputeAbuse})
		}
		ids = append(ids, a.ID)
	}
	c := checker.New(s, clock, 0)
	n, err := c.Warm(ctx, s)
	if err != nil || n != 50 || c.Len() != 50 {
		t.Fatalf("Warm = %d, %v; Len %d", n, err, c.Len())
	}
	// Warmed standings must equal what the store says, restrictions sorted.
	for i, id := range ids {
		st, _ := c.Standing(ctx, id)
		want, _ := s.Standing(ctx, id)
		if len(st.Restrictions) != len(want.Restrictions) || (i%2 == 0 && st.Restrictions[0].ReasonCode != standing.ReasonDisputeAbuse) {
			t.Fatalf("warmed %s = %+v, want %+v", id, st.Restrictions, want.Restrictions)
		}
	}
}
