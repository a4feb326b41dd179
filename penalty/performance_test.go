package penalty_test

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"standing"
	"standing/penalty"
)

// ordersWith returns n orders placed in the days before now, all shipped, the first late
// of them shipped after their ship-by, the next defective of them with a defect, and the
// next cancelled of them cancelled by the seller before shipping instead.
func ordersWith(now time.Time, n, late, defective, cancelled int) []penalty.OrderFacts {
	var out []penalty.OrderFacts
	for i := range n {
		placed := now.Add(-time.Duration(i%50+4) * 24 * time.Hour)
		shipBy := placed.Add(48 * time.Hour)
		shipped := placed.Add(24 * time.Hour)
		if i < late {
			shipped = placed.Add(72 * time.Hour)
		}
		o := penalty.OrderFacts{OrderID: "o" + string(rune('a'+i%26)), PlacedAt: placed, ShipBy: &shipBy, ShippedAt: &shipped}
		if i < defective {
			o.Defect = true
		}
		if i >= n-cancelled {
			c := placed.Add(time.Hour)
			o.ShippedAt, o.CancelledBySeller, o.CancelledAt = nil, true, &c
		}
		out = append(out, o)
	}
	return out
}

func TestMetrics(t *testing.T) {
	p := standing.DefaultPolicy()
	now := t0
	type want struct {
		evaluated         bool
		odr, late, cancel float64
		breached          []string
		orders, shippedOf int
		noteHas           string
	}
	tests := []struct {
		name   string
		orders []penalty.OrderFacts
		want   want
	}{
		{"3 late of 50 shipped breaches late shipment", ordersWith(now, 50, 3, 0, 0),
			want{true, 0, 0.06, 0, []string{"late_shipment_rate"}, 50, 50, ""}},
		{"1 late of 50 is within the standard", ordersWith(now, 50, 1, 0, 0),
			want{true, 0, 0.02, 0, nil, 50, 50, ""}},
		{"defects and cancellations", ordersWith(now, 100, 0, 1, 3),
			want{true, 0.01, 0, 0.03, []string{"order_defect_rate", "cancellation_rate"}, 100, 97, ""}},
		{"fewer than MinOrders are not evaluated", ordersWith(now, 9, 5, 5, 0),
			want{false, 5.0 / 9, 5.0 / 9, 0, nil, 9, 9, "not enough orders"}},
		{"no orders", nil, want{false, 0, 0, 0, nil, 0, 0, "not enough orders"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := penalty.Metrics(p, tt.orders, now)
			var breached []string
			for _, x := range m.Breached() {
				breached = append(breached, x.Name)
			}
			got := want{m.Evaluated, m.OrderDefect.Rate, m.LateShipment.Rate, m.Cancellation.Rate, breached, m.Orders, m.LateShipment.Of, ""}
			if tt.want.noteHas != "" && strings.Contains(m.Note, tt.want.noteHas) {
				got.noteHas = tt.want.noteHas
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v\n(note %q)", got, tt.want, m.Note)
			}
		})
	}
}

func TestMetricsWindowAndTime(t *testing.T) {
	p := standing.DefaultPolicy()
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	firstDay := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC) // the 60th day back, today included
	late := func(placed time.Time) penalty.OrderFacts {
		by, at := placed.Add(time.Hour), placed.Add(2*time.Hour)
		return penalty.OrderFacts{PlacedAt: placed, ShipBy: &by, ShippedAt: &at}
	}
	orders := []penalty.OrderFacts{
		late(firstDay.Add(-time.Minute)), // the day before the window: out
		late(firstDay),                   // the window's first minute: in
	}
	for range 20 {
		orders = append(orders, penalty.OrderFacts{PlacedAt: now.Add(-time.Hour)})
	}
	// Shipped after now: not shipped yet as of now.
	future := now.Add(time.Hour)
	orders = append(orders, penalty.OrderFacts{PlacedAt: now.Add(-2 * time.Hour), ShippedAt: &future})
	// Placed after now: not counted.
	orders = append(orders, penalty.OrderFacts{PlacedAt: now.Add(time.Minute)})
	m := penalty.Metrics(p, orders, now)
	if m.Orders != 22 || m.LateShipment.Count != 1 || m.LateShipment.Of != 1 {
		t.Errorf("orders %d, late %d of %d; want 22, 1 of 1", m.Orders, m.LateShipment.Count, m.LateShipment.Of)
	}
	if !m.From.Equal(firstDay) || !m.To.Equal(now) {
		t.Errorf("window %s..%s, want %s..%s", m.From, m.To, firstDay, now)
	}
}

func TestEvaluateWarnThenPoints(t *testing.T) {
	p := standing.DefaultPolicy()
	warnAt := t0
	over := penalty.Metrics(p, ordersWith(warnAt, 50, 3, 0, 0), warnAt)
	ok := penalty.Metrics(p, ordersWith(warnAt, 50, 1, 0, 0), warnAt)

	// First breach: a warning, no points.
	a := penalty.Evaluate(p, over, nil, warnAt)
	if len(a.Warnings) != 1 || len(a.Reports) != 0 || len(a.Cleared) != 0 {
		t.Fatalf("first breach = %+v, want one warning", a)
	}
	w := a.Warnings[0]
	if w.Metric != penalty.MetricLateShipment || !w.GraceEndsAt.Equal(warnAt.Add(p.Performance.WarningGrace.D())) {
		t.Errorf("warning = %+v", w)
	}
	for _, s := range []string{"late shipment rate 6.0 % (3 of 50 shipped orders)", "below 4 %", "3 points for transactions", standing.FormatTime(w.GraceEndsAt)} {
		if !strings.Contains(w.Message, s) {
			t.Errorf("warning message %q lacks %q", w.Message, s)
		}
	}
	prev := []penalty.PerfWarning{w}

	tests := []struct {
		name    string
		m       penalty.PerformanceMetrics
		at      time.Time
		want    string // "points <case id>", "cleared <metric>", "warn <metric>", or ""
		prev    []penalty.PerfWarning
		evalued bool
	}{
		{"still over within the grace: nothing", over, warnAt.Add(days(13)), "", prev, true},
		{"still over after the grace: points", over, warnAt.Add(days(14)), "points late_shipment_rate:20260302T120000Z:1", prev, true},
		{"again in the same grace period: the same case", over, warnAt.Add(days(20)), "points late_shipment_rate:20260302T120000Z:1", prev, true},
		{"over a further grace period: a new case", over, warnAt.Add(days(28)), "points late_shipment_rate:20260302T120000Z:2", prev, true},
		{"recovered: the warning is cleared, nothing else", ok, warnAt.Add(days(14)), "cleared late_shipment_rate", prev, true},
		{"recovered without a warning: nothing", ok, warnAt.Add(days(14)), "", nil, true},
		{"over again after a cleared warning: a new warning", over, warnAt.Add(days(30)),
			"warn late_shipment_rate", []penalty.PerfWarning{{Metric: penalty.MetricLateShipment, At: warnAt, ClearedAt: tp(warnAt.Add(days(14)))}}, true},
		{"too few orders: not evaluated", penalty.Metrics(p, ordersWith(warnAt, 9, 9, 9, 0), warnAt), warnAt.Add(days(14)), "", prev, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := penalty.Evaluate(p, tt.m, tt.prev, tt.at)
			var got []string
			for _, r := range a.Reports {
				got = append(got, "points "+r.CaseID)
				if r.Type != penalty.PerformanceBreachType || *r.Points != p.Performance.BreachPoints || !r.At.Equal(tt.at) {
					t.Errorf("report = %+v", r)
				}
			}
			for _, c := range a.Cleared {
				got = append(got, "cleared "+c)
			}
			for _, w := range a.Warnings {
				got = append(got, "warn "+w.Metric)
			}
			if g := strings.Join(got, "; "); g != tt.want {
				t.Errorf("got %q, want %q", g, tt.want)
			}
			if a.Evaluated != tt.evalued || (tt.want == "") != a.None() {
				t.Errorf("evaluated %v none %v", a.Evaluated, a.None())
			}
		})
	}
}

func TestPerformanceBreachPointsAreCountedOnce(t *testing.T) {
	p := standing.DefaultPolicy()
	over := penalty.Metrics(p, ordersWith(t0, 50, 3, 0, 0), t0)
	prev := []penalty.PerfWarning{{Metric: penalty.MetricLateShipment, At: t0}}
	var rec penalty.Record
	for i, at := range []time.Time{t0.Add(days(14)), t0.Add(days(15)), t0.Add(days(16))} {
		for _, r := range penalty.Evaluate(p, over, prev, at).Reports {
			r.SellerID = "acc_s"
			v, err := penalty.Resolve(p, standing.RoleSeller, r, at)
			if err != nil {
				t.Fatal(err)
			}
			v.ID = "v" + string(rune('0'+i))
			o, err := penalty.Apply(p, rec, v, at)
			if err != nil {
				t.Fatal(err)
			}
			if (i == 0) == o.Duplicate {
				t.Errorf("evaluation %d: duplicate = %v", i, o.Duplicate)
			}
			if !o.Duplicate {
				rec.Violations = append(rec.Violations, o.Violation)
			}
		}
	}
	if len(rec.Violations) != 1 || rec.Violations[0].Ledger != "transaction" || rec.Violations[0].Points != 3 {
		t.Errorf("recorded %+v, want one of 3 transaction points", rec.Violations)
	}
}

// TestIncrementalMatchesScan updates a PerfState event by event and compares it with the
// metrics computed from the final order facts.
func TestIncrementalMatchesScan(t *testing.T) {
	p := standing.DefaultPolicy()
	now := t0
	rng := rand.New(rand.NewPCG(1, 2))
	var s penalty.PerfState
	var orders []penalty.OrderFacts
	for i := range 2000 {
		placed := now.Add(-time.Duration(rng.Int64N(int64(days(90)))))
		o := penalty.OrderFacts{OrderID: string(rune(i)), PlacedAt: placed}
		by := placed.Add(48 * time.Hour)
		o.ShipBy = &by
		s.Update(nil, &o) // placed
		// Facts after now would count in the state but not in the scan as of now.
		switch r := rng.IntN(100); {
		case placed.Add(60 * time.Hour).After(now): // not yet shipped or cancelled
		case r < 5: // cancelled by the seller before shipping
			next := o
			c := placed.Add(time.Hour)
			next.CancelledBySeller, next.CancelledAt = true, &c
			s.Update(&o, &next)
			o = next
		case r < 95: // shipped, sometimes late, then sometimes a defect
			next := o
			at := placed.Add(time.Duration(rng.Int64N(int64(60 * time.Hour))))
			next.ShippedAt = &at
			s.Update(&o, &next)
			o = next
			if rng.IntN(50) == 0 {
				next := o
				next.Defect = true
				s.Update(&o, &next)
				o = next
			}
		}
		orders = append(orders, o)
	}
	got, want := s.Metrics(p, now), penalty.Metrics(p, orders, now)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("incremental:\n%+v\nscan:\n%+v", got, want)
	}
	if !want.LateShipment.Breached || want.Orders < 1000 {
		t.Errorf("test data too tame: %+v", want)
	}
	series := s.Series(p, now)
	if !reflect.DeepEqual(series, penalty.Series(p, orders, now)) {
		t.Error("incremental and scanned series differ")
	}
	if len(series) != 60 {
		t.Fatalf("series of %d days, want 60", len(series))
	}
	last := series[len(series)-1]
	if last.LateShipmentRate != want.LateShipment.Rate || last.OrderDefectRate != want.OrderDefect.Rate || last.CancellationRate != want.Cancellation.Rate {
		t.Errorf("last point %+v does not match the metrics", last)
	}
	n := 0
	for _, d := range series {
		n += d.Orders
	}
	if n != want.Orders || !series[0].Date.Equal(want.From) {
		t.Errorf("series counts %d orders from %s, want %d from %s", n, series[0].Date, want.Orders, want.From)
	}

	// Pruning drops only days before the window.
	before := len(s.Days)
	s.Prune(p, now)
	if len(s.Days) >= before || !reflect.DeepEqual(s.Metrics(p, now), want) {
		t.Errorf("prune kept %d of %d days or changed the metrics", len(s.Days), before)
	}
	// Removing every order empties the state.
	for i := range orders {
		s.Update(&orders[i], nil)
	}
	if m := s.Metrics(p, now); m.Orders != 0 || len(s.Days) != 0 {
		t.Errorf("after removing all orders: %d orders, %d days", m.Orders, len(s.Days))
	}
}
