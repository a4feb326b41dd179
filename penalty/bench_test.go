package penalty_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"

	"standing"
	"standing/penalty"
)

// The figures of the issue: recomputing performance standards for 100,000 sellers with
// 10,000,000 orders.
const (
	benchSellers = 100_000
	benchOrders  = 10_000_000
)

var bench struct {
	once   sync.Once
	states []penalty.PerfState
	events int
	build  time.Duration
	heap   uint64
}

// buildBench feeds the order events of 10,000,000 orders over 100,000 sellers, placed over
// the last 60 days in time order (as they arrive), into one PerfState per seller: every
// order is placed, 1 % are cancelled by the seller before shipping, the rest ship (2 % of
// all orders late), and 0.5 % get a defect.
func buildBench() {
	now := t0
	states := make([]penalty.PerfState, benchSellers)
	rng := rand.New(rand.NewPCG(7, 9))
	events := 0
	start := time.Now()
	first := now.Add(-59 * 24 * time.Hour)
	step := now.Sub(first) / benchOrders
	for i := range benchOrders {
		s := &states[rng.IntN(benchSellers)]
		placed := first.Add(time.Duration(i) * step)
		by := placed.Add(48 * time.Hour)
		o := penalty.OrderFacts{PlacedAt: placed, ShipBy: &by}
		s.Update(nil, &o)
		events++
		next := o
		switch r := rng.IntN(1000); {
		case r < 10:
			c := placed.Add(time.Hour)
			next.CancelledBySeller, next.CancelledAt = true, &c
		case r < 30:
			at := by.Add(time.Hour)
			next.ShippedAt = &at
		default:
			at := placed.Add(24 * time.Hour)
			next.ShippedAt = &at
		}
		s.Update(&o, &next)
		events++
		if rng.IntN(200) == 0 {
			o = next
			next.Defect = true
			s.Update(&o, &next)
			events++
		}
	}
	bench.build = time.Since(start)
	bench.states, bench.events = states, events
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	bench.heap = ms.HeapAlloc
}

// BenchmarkPerformanceRecompute times a full recompute of the performance metrics and
// their evaluation for 100,000 sellers from day buckets built from the events of
// 10,000,000 orders. One op is the whole recompute.
func BenchmarkPerformanceRecompute(b *testing.B) {
	bench.once.Do(buildBench)
	p := standing.DefaultPolicy()
	now := t0
	b.ResetTimer()
	start := time.Now()
	breached := 0
	for range b.N {
		breached = 0
		for i := range bench.states {
			m := bench.states[i].Metrics(p, now)
			if a := penalty.Evaluate(p, m, nil, now); len(a.Warnings) > 0 {
				breached++
			}
		}
	}
	per := time.Since(start) / time.Duration(b.N)
	b.StopTimer()
	b.ReportMetric(per.Seconds(), "s/recompute")
	b.ReportMetric(bench.build.Seconds(), "s/build")
	b.ReportMetric(float64(bench.heap)/(1<<20), "MiB-buckets")
	fmt.Printf("penalty: %d order events of %d orders over %d sellers into day buckets in %s (%.0f MiB); full recompute of %d sellers from buckets in %s (%d warned)\n",
		bench.events, benchOrders, benchSellers, bench.build.Round(time.Millisecond), float64(bench.heap)/(1<<20),
		benchSellers, per.Round(time.Microsecond), breached)
}

// BenchmarkApply times recording one violation against a seller with 200 on record.
func BenchmarkApply(b *testing.B) {
	p := standing.DefaultPolicy()
	var rec penalty.Record
	for i := range 200 {
		rec.Violations = append(rec.Violations, penalty.Violation{
			ID: fmt.Sprintf("v%03d", i), SellerID: "s", Type: "quality_complaints", Ledger: "transaction",
			Points: 0, At: t0.Add(-time.Duration(200-i) * time.Hour),
		})
	}
	v := penalty.Violation{ID: "new", SellerID: "s", Type: "late_shipment", Ledger: "transaction", Points: 12, At: t0}
	for b.Loop() {
		if _, err := penalty.Apply(p, rec, v, t0); err != nil {
			b.Fatal(err)
		}
	}
}
