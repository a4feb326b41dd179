package penalty

import (
	"cmp"
	"slices"
	"strconv"
	"time"

	"standing"
)

// Record is what the store holds about a seller that Apply needs.
type Record struct {
	// Violations are the seller's recorded violations, in any order, of any age and ledger.
	Violations []Violation
	// Warnings are the warnings on record (see Outcome.WarningsIssued); only the EU prior
	// warning rule reads them.
	Warnings []Warning
}

// Warning is a warning on record in a ledger: a sanction of kind warning, or an EU notice
// that took the place of a suspension.
type Warning struct {
	Ledger      string    `json:"ledger"`
	At          time.Time `json:"at"`
	ViolationID string    `json:"violation_id,omitempty"`
}

// Outcome is what recording one violation does to the seller's standing.
type Outcome struct {
	// Violation is the violation counted; for a duplicate, the first report of the case.
	Violation Violation `json:"violation"`
	// Duplicate is set when the report repeats a recorded case: nothing is counted again and
	// no sanction or notice is returned.
	Duplicate   bool   `json:"duplicate,omitempty"`
	Ledger      string `json:"ledger"`
	LedgerTitle string `json:"ledger_title"`
	// RawPoints are the violation's points; CountedPoints those that count after the daily
	// cap.
	RawPoints     int `json:"raw_points"`
	CountedPoints int `json:"counted_points"`
	// TotalBefore and TotalAfter are the ledger's active totals at the violation's time,
	// just before and just after it.
	TotalBefore int `json:"total_before"`
	TotalAfter  int `json:"total_after"`
	// Strike is the number of the active strike the case belongs to (strike ledgers);
	// NewStrike says the case started it.
	Strike    int  `json:"strike,omitempty"`
	NewStrike bool `json:"new_strike,omitempty"`
	// Sanctions are to be applied now; see Sanction.Restriction.
	Sanctions []Sanction `json:"sanctions"`
	// Notices are EU notices given instead of a sanction.
	Notices []Notice `json:"notices,omitempty"`
}

// Restrictions returns the restrictions that carry out the outcome's sanctions from now,
// leaving out warnings and fines.
func (o Outcome) Restrictions(now time.Time) []*standing.NewRestriction {
	var out []*standing.NewRestriction
	for _, s := range o.Sanctions {
		if r := s.Restriction(now, o.LedgerTitle); r != nil {
			out = append(out, r)
		}
	}
	return out
}

// WarningsIssued returns the warnings the outcome puts on record: sanctions of kind
// warning and warning notices. The store keeps them and passes them back in
// Record.Warnings.
func (o Outcome) WarningsIssued() []Warning {
	var out []Warning
	for _, s := range o.Sanctions {
		if s.Kind == KindWarning {
			out = append(out, Warning{Ledger: s.Ledger, At: o.Violation.At, ViolationID: o.Violation.ID})
		}
	}
	for _, n := range o.Notices {
		if n.Kind == NoticeWarning {
			out = append(out, Warning{Ledger: n.Ledger, At: n.IssuedAt, ViolationID: n.ViolationID})
		}
	}
	return out
}

// Apply counts a new violation v of a seller against the seller's record and returns what
// it brings. v is judged at v.At against the recorded violations of its ledger up to v.At
// (recorded ones at the same instant count first); now is when the sanctions and notices
// start. A zero v.At means now. When v repeats a recorded case (FindDuplicate), the outcome
// is a Duplicate carrying the first violation and nothing else is counted.
//
// Errors are EINVALID: an unknown type or ledger (field type), negative points (field
// points), or v.At after now (field at).
func Apply(p *standing.Policy, rec Record, v Violation, now time.Time) (Outcome, error) {
	if v.At.IsZero() {
		v.At = now
	}
	if v.At.After(now) {
		return Outcome{}, standing.FieldErrorf(standing.EINVALID, "at", "at %s is in the future", v.At.UTC().Format(time.RFC3339))
	}
	if v.Points < 0 {
		return Outcome{}, standing.FieldErrorf(standing.EINVALID, "points", "points cannot be negative (got %d)", v.Points)
	}
	if v.Ledger == "" {
		t, ok := ViolationType(p, v.Type)
		if !ok {
			return Outcome{}, standing.FieldErrorf(standing.EINVALID, "type", "unknown violation type %q; known types: %s", v.Type, knownTypes(p))
		}
		v.Ledger = t.Ledger
	}
	l, ok := findLedger(p, v.Ledger)
	if !ok {
		return Outcome{}, standing.FieldErrorf(standing.EINVALID, "type", "violation type %q counts in ledger %q, which the policy does not have", v.Type, v.Ledger)
	}
	life := p.Seller.PointLifetime.D()
	if first, dup := FindDuplicate(rec.Violations, v); dup {
		total := activeTotal(p, l, rec.Violations, now)
		return Outcome{
			Violation: first, Duplicate: true, Ledger: l.Name, LedgerTitle: l.Title,
			RawPoints: first.Points, TotalBefore: total, TotalAfter: total, Sanctions: []Sanction{},
		}, nil
	}

	hist := make([]Violation, 0, len(rec.Violations))
	for _, h := range rec.Violations {
		if ledgerOf(p, h) == l.Name && !h.At.After(v.At) && (v.ID == "" || h.ID != v.ID) {
			hist = append(hist, h)
		}
	}
	sortViolations(hist)
	run := newRun(l, life, len(hist)+1)
	for i := range hist {
		run.add(&hist[i])
	}
	st := run.add(&v)
	o := Outcome{
		Violation: v, Ledger: l.Name, LedgerTitle: l.Title,
		RawPoints: v.Points, CountedPoints: st.counted,
		TotalBefore: st.before, TotalAfter: st.after,
		Strike: st.strike, NewStrike: st.newStrike,
		Sanctions: []Sanction{},
	}
	if !p.EU.Enabled {
		o.Sanctions = append(o.Sanctions, st.sanctions...)
		return o, nil
	}
	warned := hasWarning(rec.Warnings, l.Name, now, life)
	for _, s := range st.sanctions {
		switch {
		case s.Kind == KindClosure:
			o.Notices = append(o.Notices, closureNotice(p, l, v, s, now))
		case s.Kind == KindSuspension && !warned:
			o.Notices = append(o.Notices, warningNotice(l, v, s, now))
			warned = true
		default:
			o.Sanctions = append(o.Sanctions, s)
			if s.Kind == KindWarning {
				warned = true
			}
		}
	}
	return o, nil
}

// ledgerOf returns the ledger v counts in: its recorded ledger, or its type's.
func ledgerOf(p *standing.Policy, v Violation) string {
	if v.Ledger != "" {
		return v.Ledger
	}
	if t, ok := ViolationType(p, v.Type); ok {
		return t.Ledger
	}
	return ""
}

// sortViolations orders vs by time, then ID: the order ledgers are replayed in.
func sortViolations(vs []Violation) {
	slices.SortStableFunc(vs, func(a, b Violation) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

// activeTotal replays the ledger and returns its active total at now.
func activeTotal(p *standing.Policy, l *standing.Ledger, vs []Violation, now time.Time) int {
	run := replay(p, l, vs, now)
	total := 0
	for _, e := range run.entries {
		if e.v.At.Add(run.life).After(now) {
			total += e.counted
		}
	}
	return total
}

// replay runs the ledger l over the violations of vs in it with At up to now.
func replay(p *standing.Policy, l *standing.Ledger, vs []Violation, now time.Time) *ledgerRun {
	var mine []Violation
	for _, v := range vs {
		if ledgerOf(p, v) == l.Name && !v.At.After(now) {
			mine = append(mine, v)
		}
	}
	sortViolations(mine)
	run := newRun(l, p.Seller.PointLifetime.D(), len(mine))
	for i := range mine {
		run.add(&mine[i])
	}
	return run
}

// ledgerRun replays one ledger in time order.
type ledgerRun struct {
	l       *standing.Ledger
	life    time.Duration
	entries []entry
	start   int // entries[start:] may still be active at the latest time seen
	total   int // counted points of entries[start:]
	strikes []strike
}

type entry struct {
	v       *Violation
	counted int
	day     int64
}

type strike struct {
	first time.Time
	cases int
}

// step is what one violation did to the ledger.
type step struct {
	counted, before, after int
	strike                 int
	newStrike              bool
	sanctions              []Sanction
}

func newRun(l *standing.Ledger, life time.Duration, n int) *ledgerRun {
	return &ledgerRun{l: l, life: life, entries: make([]entry, 0, n)}
}

// add counts v, which must not be earlier than any violation added before, and returns
// what it did. The run keeps v.
func (r *ledgerRun) add(v *Violation) step {
	at := v.At
	for r.start < len(r.entries) && !r.entries[r.start].v.At.Add(r.life).After(at) {
		r.total -= r.entries[r.start].counted
		r.start++
	}
	st := step{before: r.total}
	counted := max(v.Points, 0)
	day := dayNumber(at)
	if r.l.DailyCap > 0 {
		used := 0
		for i := len(r.entries) - 1; i >= 0 && r.entries[i].day == day; i-- {
			used += r.entries[i].counted
		}
		counted = max(0, min(counted, r.l.DailyCap-used))
	}
	r.entries = append(r.entries, entry{v: v, counted: counted, day: day})
	r.total += counted
	st.counted, st.after = counted, r.total

	if r.l.Every > 0 && r.l.EverySanction != nil && st.after/r.l.Every > st.before/r.l.Every {
		level := st.after / r.l.Every * r.l.Every
		st.sanctions = append(st.sanctions, r.sanction(*r.l.EverySanction, TriggerEvery, level))
	}
	for i := len(r.l.Thresholds) - 1; i >= 0; i-- {
		t := r.l.Thresholds[i]
		if st.before < t.Points && t.Points <= st.after {
			st.sanctions = append(st.sanctions, r.sanction(t.Sanction, TriggerThreshold, t.Points))
			break
		}
	}
	if r.l.StrikeWindow > 0 {
		n := len(r.strikes)
		if n > 0 && !at.Before(r.strikes[n-1].first) && !at.After(r.strikes[n-1].first.Add(r.l.StrikeWindow.D())) {
			r.strikes[n-1].cases++
			st.strike = r.activeStrikes(at)
		} else {
			r.strikes = append(r.strikes, strike{first: at, cases: 1})
			st.strike, st.newStrike = r.activeStrikes(at), true
			if k := len(r.l.Strikes); k > 0 {
				st.sanctions = append(st.sanctions, r.sanction(r.l.Strikes[min(st.strike, k)-1], TriggerStrike, st.strike))
			}
		}
	}
	return st
}

// activeStrikes counts the strikes that began at or before at and still count at at.
func (r *ledgerRun) activeStrikes(at time.Time) int {
	n := 0
	for _, s := range r.strikes {
		if !s.first.After(at) && s.first.Add(r.life).After(at) {
			n++
		}
	}
	return n
}

func (r *ledgerRun) sanction(s standing.Sanction, trigger string, level int) Sanction {
	return Sanction{Sanction: s, Ledger: r.l.Name, Trigger: trigger, Level: level,
		Reason: reasonWords(trigger, level, r.l.Title)}
}

// dayNumber is the number of the UTC calendar day of t, counted from 1 Jan 1970.
func dayNumber(t time.Time) int64 {
	s := t.Unix()
	if s < 0 {
		return (s - 86399) / 86400
	}
	return s / 86400
}

// dayStart returns 00:00 UTC of day number d.
func dayStart(d int64) time.Time { return time.Unix(d*86400, 0).UTC() }

// SellerPoints is a seller's points at a time, ledger by ledger: what the seller dashboard
// shows.
type SellerPoints struct {
	At time.Time `json:"at"`
	// Lifetime is how long points count after their violation.
	Lifetime standing.Duration `json:"lifetime"`
	Ledgers  []LedgerPoints    `json:"ledgers"`
}

// LedgerPoints is one ledger of a seller at a time.
type LedgerPoints struct {
	Ledger string `json:"ledger"`
	Title  string `json:"title"`
	// Total is the sum of the counted points still active.
	Total int `json:"total"`
	// Entries are the violations still counting, oldest first, each with the day it falls
	// off.
	Entries []PointEntry `json:"entries"`
	// DailyCap and CountedToday show the cap of the ledger and how much of today's is used.
	DailyCap     int `json:"daily_cap,omitempty"`
	CountedToday int `json:"counted_today,omitempty"`
	// Strikes are the active strikes of a strike ledger, oldest first.
	Strikes []StrikeEntry `json:"strikes,omitempty"`
	// Next lists what the ledger brings next: the next threshold, the next multiple, the
	// next strike. Empty when nothing more can come.
	Next []NextSanction `json:"next,omitempty"`
}

// PointEntry is one violation counting in a ledger.
type PointEntry struct {
	ViolationID string    `json:"violation_id"`
	Type        string    `json:"type"`
	CaseID      string    `json:"case_id,omitempty"`
	At          time.Time `json:"at"`
	RawPoints   int       `json:"raw_points"`
	Points      int       `json:"points"` // counted
	FallsOffAt  time.Time `json:"falls_off_at"`
}

// StrikeEntry is one active strike.
type StrikeEntry struct {
	Number     int       `json:"number"`
	FirstAt    time.Time `json:"first_at"`
	Cases      int       `json:"cases"`
	FallsOffAt time.Time `json:"falls_off_at"`
}

// NextSanction is what a ledger brings next and how far away it is.
type NextSanction struct {
	Trigger string `json:"trigger"`
	// Level is the points total (every, threshold) or the strike number (strike) that brings
	// it; PointsToGo is how many more points that takes (0 for strikes).
	Level      int               `json:"level"`
	PointsToGo int               `json:"points_to_go,omitempty"`
	Sanction   standing.Sanction `json:"sanction"`
	// Words say it in plain words: "at 24 points: a 14-day store suspension".
	Words string `json:"words"`
}

// Standing returns the seller's points at now, for every ledger of the policy in its order,
// from the seller's recorded violations (any order, any age). Violations of ledgers the
// policy no longer has are left out.
func Standing(p *standing.Policy, violations []Violation, now time.Time) SellerPoints {
	out := SellerPoints{At: now, Lifetime: p.Seller.PointLifetime, Ledgers: make([]LedgerPoints, 0, len(p.Seller.Ledgers))}
	today := dayNumber(now)
	for i := range p.Seller.Ledgers {
		l := &p.Seller.Ledgers[i]
		run := replay(p, l, violations, now)
		lp := LedgerPoints{Ledger: l.Name, Title: l.Title, Entries: []PointEntry{}, DailyCap: l.DailyCap}
		for _, e := range run.entries {
			off := e.v.At.Add(run.life)
			if !off.After(now) {
				continue
			}
			lp.Total += e.counted
			if e.day == today {
				lp.CountedToday += e.counted
			}
			lp.Entries = append(lp.Entries, PointEntry{
				ViolationID: e.v.ID, Type: e.v.Type, CaseID: e.v.CaseID, At: e.v.At,
				RawPoints: e.v.Points, Points: e.counted, FallsOffAt: off,
			})
		}
		if l.DailyCap == 0 {
			lp.CountedToday = 0
		}
		active := 0
		for _, s := range run.strikes {
			if off := s.first.Add(run.life); off.After(now) {
				active++
				lp.Strikes = append(lp.Strikes, StrikeEntry{Number: active, FirstAt: s.first, Cases: s.cases, FallsOffAt: off})
			}
		}
		lp.Next = nextSanctions(l, lp.Total, active)
		out.Ledgers = append(out.Ledgers, lp)
	}
	return out
}

func nextSanctions(l *standing.Ledger, total, strikes int) []NextSanction {
	var out []NextSanction
	if l.Every > 0 && l.EverySanction != nil {
		level := (total/l.Every + 1) * l.Every
		out = append(out, NextSanction{Trigger: TriggerEvery, Level: level, PointsToGo: level - total,
			Sanction: *l.EverySanction, Words: pointsWords(level) + sanctionWords(*l.EverySanction)})
	}
	for _, t := range l.Thresholds {
		if t.Points > total {
			out = append(out, NextSanction{Trigger: TriggerThreshold, Level: t.Points, PointsToGo: t.Points - total,
				Sanction: t.Sanction, Words: pointsWords(t.Points) + sanctionWords(t.Sanction)})
			break
		}
	}
	if l.StrikeWindow > 0 && len(l.Strikes) > 0 {
		n := strikes + 1
		s := l.Strikes[min(n, len(l.Strikes))-1]
		out = append(out, NextSanction{Trigger: TriggerStrike, Level: n, Sanction: s,
			Words: "at the " + ordinal(n) + " strike: " + sanctionWords(s)})
	}
	return out
}

func pointsWords(n int) string {
	if n == 1 {
		return "at 1 point: "
	}
	return "at " + strconv.Itoa(n) + " points: "
}
