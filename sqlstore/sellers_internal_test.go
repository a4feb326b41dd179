package sqlstore

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"standing"
	"standing/penalty"
)

// TestEraseSellers: the seller area's erasure step clears the free text staff and the
// marketplace wrote about a seller, and keeps the anonymised records.
func TestEraseSellers(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "s.db"), Options{Clock: standing.NewTestClock(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := s.CreateAccounts(ctx, []standing.NewAccount{{Role: standing.RoleSeller, Email: "gone@example.com", Lifecycle: standing.LifecycleActive}}, "test")
	if err != nil || res[0].Err != nil {
		t.Fatal(err, res)
	}
	a := *res[0].Account
	if _, _, err := s.RecordViolation(ctx, penalty.Report{SellerID: a.ID, Type: "late_shipment", CaseID: "C-1", Evidence: "ticket of Ann Smith", Note: "Ann Smith called"}, "test", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordFine(ctx, a.ID, penalty.NewFine{Amount: 100, Currency: "EUR", Reason: "Ann Smith's complaint"}, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordFee(ctx, a.ID, penalty.NewFee{Description: "Fee of Ann Smith's shop", Amount: 100, Currency: "EUR"}, "test"); err != nil {
		t.Fatal(err)
	}
	var removed map[string]int
	if err := s.write(ctx, func(t *tx) error {
		var step ErasureStep
		for _, st := range s.ErasureSteps() {
			if st.Name == "sellers" {
				step = st
			}
		}
		if _, err := t.exec("INSERT INTO erasure_batch (batch_id, account_id, email, at) VALUES ('b1', ?, ?, 0)", a.ID, a.Email); err != nil {
			return err
		}
		counts := map[string][]map[string]int{a.ID: {{}}}
		if err := t.eraseSteps("b1", []ErasureStep{step}, counts, nil); err != nil {
			return err
		}
		removed = counts[a.ID][0]
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if removed["seller_violations_anonymised"] != 1 || removed["seller_fines_anonymised"] != 1 || removed["seller_fees_anonymised"] != 1 {
		t.Errorf("removed = %v", removed)
	}
	for _, q := range []string{
		"SELECT COUNT(*) FROM seller_violations WHERE note LIKE '%Ann%' OR evidence LIKE '%Ann%' OR outcome LIKE '%Ann%'",
		"SELECT COUNT(*) FROM seller_fines WHERE reason LIKE '%Ann%'",
		"SELECT COUNT(*) FROM seller_fees WHERE description LIKE '%Ann%'",
		"SELECT COUNT(*) FROM seller_notices WHERE text LIKE '%Ann%' OR payload LIKE '%Ann%'",
	} {
		var n int
		if err := s.r.QueryRowContext(ctx, q).Scan(&n); err != nil || n != 0 {
			t.Errorf("%s = %d %v", q, n, err)
		}
	}
	var n int
	if err := s.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM seller_violations WHERE seller_id = ?", a.ID).Scan(&n); err != nil || n != 1 {
		t.Errorf("the anonymised violation is gone: %d %v", n, err)
	}
}
