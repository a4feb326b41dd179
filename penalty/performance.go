package penalty

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"standing"
)

// Performance metric names, as the policy spells their thresholds.
const (
	MetricOrderDefect  = "order_defect_rate"
	MetricLateShipment = "late_shipment_rate"
	MetricCancellation = "cancellation_rate"
)

// OrderFacts are the facts of one order of a seller that performance standards read.
type OrderFacts struct {
	OrderID  string     `json:"order_id"`
	PlacedAt time.Time  `json:"placed_at"`
	ShipBy   *time.Time `json:"ship_by,omitempty"`
	// ShippedAt is when the seller shipped; after ShipBy the shipment is late.
	ShippedAt *time.Time `json:"shipped_at,omitempty"`
	// CancelledBySeller with no shipment before CancelledAt is a pre-fulfilment
	// cancellation.
	CancelledBySeller bool       `json:"cancelled_by_seller,omitempty"`
	CancelledAt       *time.Time `json:"cancelled_at,omitempty"`
	// Defect is set when the order had a dispute, a chargeback or negative feedback.
	Defect bool `json:"defect,omitempty"`
}

// DayCounts are the counts of the orders of one seller placed on one UTC calendar day: the
// bucket performance metrics are summed from. An order stays in the bucket of the day it
// was placed whatever happens to it later.
type DayCounts struct {
	// Day is the number of the day, counted from 1 Jan 1970 UTC.
	Day       int32 `json:"day"`
	Orders    int32 `json:"orders"`
	Defects   int32 `json:"defects"`
	Shipped   int32 `json:"shipped"`
	Late      int32 `json:"late"`
	Cancelled int32 `json:"cancelled"`
}

// Date returns 00:00 UTC of the bucket's day.
func (d DayCounts) Date() time.Time { return dayStart(int64(d.Day)) }

// DayOf returns the bucket day number of t, as DayCounts.Day counts it.
func DayOf(t time.Time) int32 { return int32(dayNumber(t)) }

func (d *DayCounts) add(c DayCounts, sign int32) {
	d.Orders += sign * c.Orders
	d.Defects += sign * c.Defects
	d.Shipped += sign * c.Shipped
	d.Late += sign * c.Late
	d.Cancelled += sign * c.Cancelled
}

func (d DayCounts) empty() bool {
	return d.Orders == 0 && d.Defects == 0 && d.Shipped == 0 && d.Late == 0 && d.Cancelled == 0
}

// countsOf returns the order's contribution to its day bucket. With bounded set, facts
// after now have not happened yet; ok is false for an order not (yet) placed.
func countsOf(o *OrderFacts, now time.Time, bounded bool) (c DayCounts, ok bool) {
	if o == nil || o.PlacedAt.IsZero() || (bounded && o.PlacedAt.After(now)) {
		return DayCounts{}, false
	}
	happened := func(t *time.Time) bool { return t != nil && (!bounded || !t.After(now)) }
	c = DayCounts{Day: DayOf(o.PlacedAt), Orders: 1}
	if o.Defect {
		c.Defects = 1
	}
	shipped := happened(o.ShippedAt)
	if shipped {
		c.Shipped = 1
		if o.ShipBy != nil && o.ShippedAt.After(*o.ShipBy) {
			c.Late = 1
		}
	}
	if o.CancelledBySeller && (o.CancelledAt == nil || happened(o.CancelledAt)) &&
		(!shipped || (o.CancelledAt != nil && o.CancelledAt.Before(*o.ShippedAt))) {
		c.Cancelled = 1
	}
	return c, true
}

// PerfState is one seller's performance day buckets, sorted by day. The store keeps the
// buckets (a row per seller and day) and updates them per order event, so that a
// recompute reads at most a window of buckets per seller and never rescans orders. The
// zero value is an empty state.
type PerfState struct {
	Days []DayCounts `json:"days"`
}

// Update moves one order from its facts before an event to its facts after it: placed
// (before nil), shipped, cancelled, marked defective, or removed (after nil). Each event
// is counted once however the order changed, so replaying the same before/after pair
// twice is the caller's to avoid (the store does it in the transaction that changes the
// order).
func (s *PerfState) Update(before, after *OrderFacts) {
	if c, ok := countsOf(before, time.Time{}, false); ok {
		s.add(c, -1)
	}
	if c, ok := countsOf(after, time.Time{}, false); ok {
		s.add(c, 1)
	}
}

// Add adds the counts c to the bucket of c.Day: a store that builds the state from many
// orders at once counts each order's contribution (as Update would) and adds it here.
func (s *PerfState) Add(c DayCounts) { s.add(c, 1) }

func (s *PerfState) add(c DayCounts, sign int32) {
	var i int
	var found bool
	if n := len(s.Days); n > 0 && s.Days[n-1].Day <= c.Day {
		// Most events are about recent orders: today's bucket or a new one after it.
		i, found = n-1, s.Days[n-1].Day == c.Day
		if !found {
			i = n
		}
	} else {
		i, found = slices.BinarySearchFunc(s.Days, c.Day, byDay)
	}
	if !found {
		if sign < 0 {
			return
		}
		s.Days = slices.Insert(s.Days, i, DayCounts{Day: c.Day})
	}
	s.Days[i].add(c, sign)
	if s.Days[i].empty() {
		s.Days = slices.Delete(s.Days, i, i+1)
	}
}

func byDay(d DayCounts, day int32) int { return cmp.Compare(d.Day, day) }

// Prune drops the buckets of days before the window that ends at now; they no longer
// count.
func (s *PerfState) Prune(p *standing.Policy, now time.Time) {
	from, _ := window(p, now)
	i, _ := slices.BinarySearchFunc(s.Days, from, byDay)
	s.Days = slices.Delete(s.Days, 0, i)
}

// WindowDays returns the bucket day numbers (see DayOf) of the first and last day of the
// performance window ending at now: the Window's number of UTC calendar days (rounded
// up), the day of now included. A store sums the buckets of these days.
func WindowDays(p *standing.Policy, now time.Time) (from, to int32) { return window(p, now) }

// window returns the first and last day of the performance window ending at now: the
// Window's number of UTC calendar days (rounded up), the day of now included.
func window(p *standing.Policy, now time.Time) (from, to int32) {
	day := 24 * time.Hour
	n := max(int32((p.Performance.Window.D()+day-1)/day), 1)
	to = DayOf(now)
	return to - n + 1, to
}

// Metric is one performance metric against its standard.
type Metric struct {
	Name  string `json:"name"`
	Title string `json:"title"`
	// Count of Of: defects of orders, late of shipped orders, cancellations of orders.
	Count  int    `json:"count"`
	Of     int    `json:"of"`
	OfWhat string `json:"of_what"`
	// Rate is Count/Of (0 when Of is 0); Threshold is the policy's number. Breached is set
	// when the metrics are evaluated and Rate >= Threshold: the standard is "below".
	Rate      float64 `json:"rate"`
	Threshold float64 `json:"threshold"`
	Breached  bool    `json:"breached"`
}

// Words says the metric in plain words: "late shipment rate 6.0 % (3 of 50 shipped orders)".
func (m Metric) Words() string {
	return fmt.Sprintf("%s %s (%d of %d %s)", lowerFirst(m.Title), percent(m.Rate, 1), m.Count, m.Of, m.OfWhat)
}

// PerformanceMetrics are a seller's performance metrics over the window ending at now.
type PerformanceMetrics struct {
	// From is 00:00 UTC of the window's first day; To is now.
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Orders is the number of orders placed in the window.
	Orders    int `json:"orders"`
	MinOrders int `json:"min_orders"`
	// Evaluated is false when the seller has fewer than MinOrders orders in the window; the
	// metrics are then shown but not judged, and Note says so.
	Evaluated    bool   `json:"evaluated"`
	Note         string `json:"note,omitempty"`
	OrderDefect  Metric `json:"order_defect"`
	LateShipment Metric `json:"late_shipment"`
	Cancellation Metric `json:"cancellation"`
}

// All returns the three metrics in a fixed order.
func (m PerformanceMetrics) All() []Metric {
	return []Metric{m.OrderDefect, m.LateShipment, m.Cancellation}
}

// Breached returns the breached metrics.
func (m PerformanceMetrics) Breached() []Metric {
	var out []Metric
	for _, x := range m.All() {
		if x.Breached {
			out = append(out, x)
		}
	}
	return out
}

// Metrics returns the seller's performance metrics at now from the day buckets.
func (s *PerfState) Metrics(p *standing.Policy, now time.Time) PerformanceMetrics {
	from, to := window(p, now)
	var sum DayCounts
	i, _ := slices.BinarySearchFunc(s.Days, from, byDay)
	for ; i < len(s.Days) && s.Days[i].Day <= to; i++ {
		sum.add(s.Days[i], 1)
	}
	return metricsOf(p, sum, dayStart(int64(from)), now)
}

// Metrics returns a seller's performance metrics at now from the facts of its orders:
// those placed on the window's days, with only the facts that happened by now. It gives the
// same answer as a PerfState updated with the same orders.
func Metrics(p *standing.Policy, orders []OrderFacts, now time.Time) PerformanceMetrics {
	s := stateOf(orders, now)
	return s.Metrics(p, now)
}

func stateOf(orders []OrderFacts, now time.Time) *PerfState {
	s := &PerfState{}
	for i := range orders {
		if c, ok := countsOf(&orders[i], now, true); ok {
			s.add(c, 1)
		}
	}
	return s
}

func metricsOf(p *standing.Policy, c DayCounts, from, now time.Time) PerformanceMetrics {
	pp := p.Performance
	m := PerformanceMetrics{
		From: from, To: now, Orders: int(c.Orders), MinOrders: pp.MinOrders,
		Evaluated:    int(c.Orders) >= pp.MinOrders && c.Orders > 0,
		OrderDefect:  metric(MetricOrderDefect, "Order defect rate", c.Defects, c.Orders, "orders", pp.OrderDefectRate),
		LateShipment: metric(MetricLateShipment, "Late shipment rate", c.Late, c.Shipped, "shipped orders", pp.LateShipmentRate),
		Cancellation: metric(MetricCancellation, "Pre-fulfilment cancellation rate", c.Cancelled, c.Orders, "orders", pp.CancellationRate),
	}
	if !m.Evaluated {
		m.Note = fmt.Sprintf("not enough orders: %d in the last %s, and standards apply from %d", c.Orders, durationWords(pp.Window), max(pp.MinOrders, 1))
		return m
	}
	for _, x := range []*Metric{&m.OrderDefect, &m.LateShipment, &m.Cancellation} {
		x.Breached = x.Of > 0 && x.Rate >= x.Threshold
	}
	return m
}

func metric(name, title string, count, of int32, ofWhat string, threshold float64) Metric {
	m := Metric{Name: name, Title: title, Count: int(count), Of: int(of), OfWhat: ofWhat, Threshold: threshold}
	if of > 0 {
		m.Rate = float64(count) / float64(of)
	}
	return m
}

// DayPoint is one day of the performance chart: the counts of the orders placed that day,
// and each rate cumulated from the window's first day through that day, so the last point
// is the window's metric.
type DayPoint struct {
	Date             time.Time `json:"date"`
	Orders           int       `json:"orders"`
	Defects          int       `json:"defects"`
	Shipped          int       `json:"shipped"`
	Late             int       `json:"late"`
	Cancelled        int       `json:"cancelled"`
	OrderDefectRate  float64   `json:"order_defect_rate"`
	LateShipmentRate float64   `json:"late_shipment_rate"`
	CancellationRate float64   `json:"cancellation_rate"`
}

// Series returns one DayPoint for every day of the window ending at now, oldest first.
func (s *PerfState) Series(p *standing.Policy, now time.Time) []DayPoint {
	from, to := window(p, now)
	out := make([]DayPoint, 0, to-from+1)
	i, _ := slices.BinarySearchFunc(s.Days, from, byDay)
	var cum DayCounts
	for day := from; day <= to; day++ {
		var c DayCounts
		if i < len(s.Days) && s.Days[i].Day == day {
			c = s.Days[i]
			i++
		}
		cum.add(c, 1)
		out = append(out, DayPoint{
			Date: dayStart(int64(day)), Orders: int(c.Orders), Defects: int(c.Defects),
			Shipped: int(c.Shipped), Late: int(c.Late), Cancelled: int(c.Cancelled),
			OrderDefectRate:  ratio(cum.Defects, cum.Orders),
			LateShipmentRate: ratio(cum.Late, cum.Shipped),
			CancellationRate: ratio(cum.Cancelled, cum.Orders),
		})
	}
	return out
}

// Series returns the performance chart of the window ending at now from order facts; see
// PerfState.Series.
func Series(p *standing.Policy, orders []OrderFacts, now time.Time) []DayPoint {
	return stateOf(orders, now).Series(p, now)
}

func ratio(a, b int32) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// PerfWarning is a warning about one breached performance metric. It is open until
// ClearedAt is set, which the caller does when Evaluate lists the metric in
// PerfAction.Cleared.
type PerfWarning struct {
	Metric      string     `json:"metric"`
	At          time.Time  `json:"at"`
	GraceEndsAt time.Time  `json:"grace_ends_at"`
	Rate        float64    `json:"rate"`
	Threshold   float64    `json:"threshold"`
	Message     string     `json:"message"`
	ClearedAt   *time.Time `json:"cleared_at,omitempty"`
}

// PerfAction is what Evaluate asks the caller to do.
type PerfAction struct {
	// Evaluated is false when the metrics were not judged (too few orders): nothing to do.
	Evaluated bool `json:"evaluated"`
	// Warnings are new warnings to record and send.
	Warnings []PerfWarning `json:"warnings,omitempty"`
	// Cleared names the metrics back within their standard whose open warning ends now.
	Cleared []string `json:"cleared,omitempty"`
	// Reports are performance_breach violations to record with Resolve and Apply; the caller
	// sets SellerID. Their CaseID makes a repeat in the same grace period a duplicate.
	Reports []Report `json:"reports,omitempty"`
}

// None reports whether the action asks for nothing.
func (a PerfAction) None() bool {
	return len(a.Warnings) == 0 && len(a.Cleared) == 0 && len(a.Reports) == 0
}

// Evaluate decides what a seller's metrics at now bring, given the seller's earlier
// performance warnings. For each metric:
//
//   - breached, no open warning: a new warning, with a grace period of WarningGrace;
//   - breached, an open warning whose grace has passed: a performance_breach report of
//     BreachPoints points, with case id "<metric>:<warning time>:<k>" where k counts the
//     grace periods since the warning, so the store's duplicate check lets at most one
//     through per grace period however often Evaluate runs;
//   - breached, within the grace of the open warning: nothing;
//   - within the standard, with an open warning: the warning is cleared (listed in
//     Cleared); a later breach starts with a new warning;
//   - within the standard, no open warning: nothing.
//
// Metrics that were not evaluated (fewer than MinOrders orders) bring nothing and clear
// nothing.
func Evaluate(p *standing.Policy, m PerformanceMetrics, previous []PerfWarning, now time.Time) PerfAction {
	a := PerfAction{Evaluated: m.Evaluated}
	if !m.Evaluated {
		return a
	}
	grace := p.Performance.WarningGrace.D()
	ledgerTitle := PerformanceLedger
	if t, ok := ViolationType(p, PerformanceBreachType); ok {
		ledgerTitle = t.Ledger
		if l, ok := findLedger(p, t.Ledger); ok && l.Title != "" {
			ledgerTitle = l.Title
		}
	}
	for _, x := range m.All() {
		var open *PerfWarning
		for i := range previous {
			w := &previous[i]
			if w.Metric == x.Name && w.ClearedAt == nil && !w.At.After(now) && (open == nil || w.At.After(open.At)) {
				open = w
			}
		}
		switch {
		case x.Breached && open == nil:
			ends := now.Add(grace)
			msg := fmt.Sprintf("Your %s is at or above the standard of below %s. ", x.Words(), percent(x.Threshold, -1))
			if p.Performance.BreachPoints > 0 {
				msg += fmt.Sprintf("If it is still there on %s, your store gets %d points for %s.", standing.FormatTime(ends), p.Performance.BreachPoints, lowerFirst(ledgerTitle))
			}
			a.Warnings = append(a.Warnings, PerfWarning{
				Metric: x.Name, At: now, GraceEndsAt: ends, Rate: x.Rate, Threshold: x.Threshold, Message: msg,
			})
		case x.Breached && !now.Before(open.At.Add(grace)):
			if p.Performance.BreachPoints <= 0 {
				continue
			}
			k := int64(1)
			if grace > 0 {
				k = int64(now.Sub(open.At) / grace)
			}
			points := p.Performance.BreachPoints
			a.Reports = append(a.Reports, Report{
				Type:   PerformanceBreachType,
				CaseID: x.Name + ":" + open.At.UTC().Format("20060102T150405Z") + ":" + strconv.FormatInt(k, 10),
				Points: &points,
				At:     now,
				Note: fmt.Sprintf("%s, still at or above the standard of below %s after the warning of %s.",
					upperFirst(x.Words()), percent(x.Threshold, -1), standing.FormatTime(open.At)),
			})
		case !x.Breached && open != nil:
			a.Cleared = append(a.Cleared, x.Name)
		}
	}
	return a
}

// percent writes a fraction as a percentage: prec digits after the point, or as few as
// needed when prec is -1.
func percent(f float64, prec int) string {
	return strconv.FormatFloat(math.Round(f*1e6)/1e4, 'f', prec, 64) + " %"
}
