package bench_test

import (
	"context"
	"strings"
	"testing"

	"standing/bench"
)

// TestSellersSmoke runs the seller performance benchmark small: the bulk load is valid
// against the schema and every step finds work.
func TestSellersSmoke(t *testing.T) {
	var out strings.Builder
	res, err := bench.Sellers(context.Background(), bench.SellersOptions{Sellers: 500, Orders: 50_000, Changes: 2_000}, &out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	t.Log(out.String())
	if res.Buckets == 0 || res.Evaluation.Sellers != 500 || res.Evaluation.Warnings == 0 {
		t.Errorf("rebuild %d buckets, evaluation %+v", res.Buckets, res.Evaluation)
	}
	if res.Sync.Changes < 1_500 || len(res.Sync.Sellers) < 100 {
		t.Errorf("incremental sweep = %+v", res.Sync)
	}
}
