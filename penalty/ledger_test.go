package penalty_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"standing"
	"standing/penalty"
)

var t0 = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

func days(n float64) time.Duration { return time.Duration(n * float64(24*time.Hour)) }

// rep is one violation report of a test sequence: at t0+off, points -1 for the type's.
type rep struct {
	typ    string
	points int
	off    time.Duration
	caseID string
}

// applyAll resolves and applies the reports in order, each at its own time, keeping the
// record as a store would, and returns the outcomes.
func applyAll(t *testing.T, p *standing.Policy, reps []rep) ([]penalty.Outcome, penalty.Record) {
	t.Helper()
	var rec penalty.Record
	var outs []penalty.Outcome
	for i, r := range reps {
		now := t0.Add(r.off)
		in := penalty.Report{SellerID: "acc_seller", Type: r.typ, CaseID: r.caseID}
		if r.points >= 0 {
			pts := r.points
			in.Points = &pts
		}
		v, err := penalty.Resolve(p, standing.RoleSeller, in, now)
		if err != nil {
			t.Fatalf("report %d: Resolve: %v", i, err)
		}
		v.ID = fmt.Sprintf("vio_%03d", i)
		o, err := penalty.Apply(p, rec, v, now)
		if err != nil {
			t.Fatalf("report %d: Apply: %v", i, err)
		}
		if !o.Duplicate {
			rec.Violations = append(rec.Violations, o.Violation)
			rec.Warnings = append(rec.Warnings, o.WarningsIssued()...)
		}
		outs = append(outs, o)
	}
	return outs, rec
}

// summary writes what an outcome brought: "suspension 7d threshold@12", notices as
// "notice closure +30d", several joined with " + ", nothing as "".
func summary(o penalty.Outcome) string {
	var parts []string
	for _, s := range o.Sanctions {
		d := ""
		if s.Duration > 0 {
			d = " " + s.Duration.String()
		}
		parts = append(parts, fmt.Sprintf("%s%s %s@%d", s.Kind, d, s.Trigger, s.Level))
	}
	for _, n := range o.Notices {
		parts = append(parts, fmt.Sprintf("notice %s +%s", n.Kind, standing.Duration(n.EffectiveAt.Sub(n.IssuedAt))))
	}
	if o.Duplicate {
		parts = append(parts, "duplicate")
	}
	return strings.Join(parts, " + ")
}

func TestLedgersDefaultPolicy(t *testing.T) {
	const (
		sus7  = "suspension 7d threshold@12"
		sus14 = "suspension 14d threshold@24"
		sus30 = "suspension 30d threshold@36"
		close = "closure threshold@48"
	)
	tests := []struct {
		name  string
		reps  []rep
		want  []string // one per report
		total int      // TotalAfter of the last report
	}{
		{"transaction: 12 points bring a 7-day suspension",
			[]rep{{"poor_after_sales", -1, 0, ""}, {"poor_after_sales", -1, time.Hour, ""}, {"high_cancellation_rate", -1, 2 * time.Hour, ""}, {"poor_after_sales", -1, 3 * time.Hour, ""}},
			[]string{"", "", "", sus7}, 12},
		{"transaction: 24 points bring 14 days",
			[]rep{{"late_shipment", 12, 0, ""}, {"late_shipment", 12, days(20), ""}},
			[]string{sus7, sus14}, 24},
		{"transaction: 36 points bring 30 days",
			[]rep{{"late_shipment", 12, 0, ""}, {"late_shipment", 12, days(20), ""}, {"unpaid_fees", 12, days(40), ""}},
			[]string{sus7, sus14, sus30}, 36},
		{"transaction: 48 points close the store",
			[]rep{{"late_shipment", 12, 0, ""}, {"late_shipment", 12, days(20), ""}, {"late_shipment", 12, days(40), ""}, {"late_shipment", 12, days(80), ""}},
			[]string{sus7, sus14, sus30, close}, 48},
		{"transaction: a jump over two thresholds brings the higher one only",
			[]rep{{"late_shipment", 10, 0, ""}, {"late_shipment", 16, days(1), ""}},
			[]string{"", sus14}, 26},
		{"transaction: staying above a threshold brings nothing more",
			[]rep{{"late_shipment", 12, 0, ""}, {"late_shipment", 2, days(1), ""}, {"quality_complaints", -1, days(2), ""}},
			[]string{sus7, "", ""}, 16},
		{"transaction: points issued 366 days ago no longer count",
			[]rep{{"late_shipment", 10, -days(366), ""}, {"late_shipment", -1, 0, ""}},
			[]string{"", ""}, 2},
		{"transaction: points issued 364 days ago still count",
			[]rep{{"late_shipment", 10, -days(364), ""}, {"late_shipment", -1, 0, ""}},
			[]string{"", sus7}, 12},
		{"transaction: points issued exactly 365 days ago have fallen off",
			[]rep{{"late_shipment", 10, -days(365), ""}, {"late_shipment", -1, 0, ""}},
			[]string{"", ""}, 2},
		{"transaction: climbing back over a threshold after points fell off brings it again",
			[]rep{{"late_shipment", 6, -days(370), ""}, {"late_shipment", 6, -days(300), ""}, {"late_shipment", 6, 0, ""}},
			[]string{"", sus7, sus7}, 12},
		{"listing quality: 12 points freeze the store 7 days",
			[]rep{{"false_description", 12, 0, ""}},
			[]string{"suspension 7d every@12"}, 12},
		{"listing quality: 12 and 24 each freeze the store",
			[]rep{{"false_description", 6, 0, ""}, {"false_description", 6, days(1), ""}, {"false_description", 6, days(10), ""}, {"false_description", 6, days(11), ""}},
			[]string{"", "suspension 7d every@12", "", "suspension 7d every@24"}, 24},
		{"listing quality: between multiples brings nothing",
			[]rep{{"false_description", 10, 0, ""}, {"false_description", -1, days(1), ""}, {"false_description", -1, days(2), ""}, {"false_description", -1, days(3), ""}},
			[]string{"", "suspension 7d every@12", "", ""}, 16},
		{"listing quality: never closure by itself",
			[]rep{{"false_description", 48, 0, ""}, {"false_description", 48, days(10), ""}},
			[]string{"suspension 7d every@48", "suspension 7d every@96"}, 96},
		{"IP: 48 counted points close the store",
			[]rep{{"prohibited_goods", -1, 0, ""}, {"prohibited_goods", -1, days(1), ""}, {"prohibited_goods", -1, days(2), ""}, {"prohibited_goods", -1, days(3), ""},
				{"prohibited_goods", -1, days(4), ""}, {"prohibited_goods", -1, days(5), ""}, {"prohibited_goods", -1, days(6), ""}, {"prohibited_goods", -1, days(7), ""}},
			[]string{"", "", "", "", "", "", "", close}, 48},
		{"IP: the daily cap keeps one day's points at 6",
			[]rep{{"prohibited_goods", 30, 0, ""}, {"prohibited_goods", 30, time.Hour, ""}, {"ip_infringement", -1, 2 * time.Hour, ""}},
			[]string{"", "", ""}, 6},
		{"serious IP: cases two days apart are one strike",
			[]rep{{"serious_ip_infringement", -1, 0, "c1"}, {"serious_ip_infringement", -1, days(2), "c2"}},
			[]string{"suspension 1d strike@1", ""}, 2},
		{"serious IP: cases exactly three days apart are one strike",
			[]rep{{"serious_ip_infringement", -1, 0, "c1"}, {"serious_ip_infringement", -1, days(3), "c2"}},
			[]string{"suspension 1d strike@1", ""}, 2},
		{"serious IP: cases four days apart are two strikes",
			[]rep{{"serious_ip_infringement", -1, 0, "c1"}, {"serious_ip_infringement", -1, days(4), "c2"}},
			[]string{"suspension 1d strike@1", "suspension 7d strike@2"}, 2},
		{"serious IP: three strikes close the store, more stay closure",
			[]rep{{"serious_ip_infringement", -1, 0, "c1"}, {"serious_ip_infringement", -1, days(1), "c2"}, {"serious_ip_infringement", -1, days(10), "c3"},
				{"serious_ip_infringement", -1, days(20), "c4"}, {"serious_ip_infringement", -1, days(30), "c5"}},
			[]string{"suspension 1d strike@1", "", "suspension 7d strike@2", "closure strike@3", "closure strike@4"}, 5},
		{"serious IP: strikes expire after the point lifetime",
			[]rep{{"serious_ip_infringement", -1, -days(370), "c1"}, {"serious_ip_infringement", -1, 0, "c2"}},
			[]string{"suspension 1d strike@1", "suspension 1d strike@1"}, 1},
		{"ledgers are counted apart",
			[]rep{{"late_shipment", 10, 0, ""}, {"false_description", 10, days(1), ""}, {"prohibited_goods", -1, days(2), ""}},
			[]string{"", "", ""}, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			outs, _ := applyAll(t, standing.DefaultPolicy(), tt.reps)
			var got []string
			for _, o := range outs {
				got = append(got, summary(o))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("sanctions:\n got  %q\n want %q", got, tt.want)
			}
			if got, want := outs[len(outs)-1].TotalAfter, tt.total; got != want {
				t.Errorf("total after the last report = %d, want %d", got, want)
			}
		})
	}
}

func TestDailyCapRawAndCounted(t *testing.T) {
	p := standing.DefaultPolicy()
	day0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	// prohibited goods 6 at 09:00, IP 2 at 23:59 the same UTC day, IP 2 at 00:01 the next.
	reps := []rep{
		{"prohibited_goods", -1, day0.Sub(t0), ""},
		{"ip_infringement", -1, day0.Add(14*time.Hour + 59*time.Minute).Sub(t0), ""},
		{"ip_infringement", -1, day0.Add(15*time.Hour + time.Minute).Sub(t0), ""},
		{"ip_infringement", 5, day0.Add(16 * time.Hour).Sub(t0), ""},
	}
	outs, _ := applyAll(t, p, reps)
	type pts struct{ raw, counted, before, after int }
	var got []pts
	for _, o := range outs {
		got = append(got, pts{o.RawPoints, o.CountedPoints, o.TotalBefore, o.TotalAfter})
	}
	want := []pts{{6, 6, 0, 6}, {2, 0, 6, 6}, {2, 2, 6, 8}, {5, 4, 8, 12}}
	if !slices.Equal(got, want) {
		t.Errorf("raw/counted/before/after:\n got  %v\n want %v", got, want)
	}
	sp := penalty.Standing(p, recOf(outs), day0.Add(16*time.Hour))
	ip := ledger(t, sp, "ip_prohibited")
	if ip.Total != 12 || ip.DailyCap != 6 || ip.CountedToday != 6 {
		t.Errorf("ip ledger total %d cap %d today %d, want 12, 6, 6", ip.Total, ip.DailyCap, ip.CountedToday)
	}
	if e := ip.Entries[1]; e.RawPoints != 2 || e.Points != 0 {
		t.Errorf("capped entry raw %d counted %d, want 2 and 0", e.RawPoints, e.Points)
	}
}

func recOf(outs []penalty.Outcome) []penalty.Violation {
	var vs []penalty.Violation
	for _, o := range outs {
		if !o.Duplicate {
			vs = append(vs, o.Violation)
		}
	}
	return vs
}

func ledger(t *testing.T, sp penalty.SellerPoints, name string) penalty.LedgerPoints {
	t.Helper()
	for _, l := range sp.Ledgers {
		if l.Ledger == name {
			return l
		}
	}
	t.Fatalf("no ledger %q in %+v", name, sp)
	return penalty.LedgerPoints{}
}

// customPolicy has other numbers and kinds, so nothing may be hard-coded.
func customPolicy(t *testing.T) *standing.Policy {
	t.Helper()
	p := standing.DefaultPolicy()
	p.Seller.PointLifetime = standing.Duration(days(30))
	p.Seller.Ledgers = []standing.Ledger{
		{Name: "content", Title: "Content", Every: 5, EverySanction: &standing.Sanction{Kind: "listing_limit", Duration: standing.Duration(days(3))}},
		{Name: "fees", Title: "Fees", DailyCap: 4, Thresholds: []standing.Threshold{
			{Points: 3, Sanction: standing.Sanction{Kind: "warning"}},
			{Points: 6, Sanction: standing.Sanction{Kind: "fine", Amount: 5000}},
			{Points: 9, Sanction: standing.Sanction{Kind: "suspension", Duration: standing.Duration(2 * time.Hour)}},
		}},
		{Name: "fakes", Title: "Fakes", StrikeWindow: standing.Duration(days(1)),
			Strikes: []standing.Sanction{{Kind: "warning"}, {Kind: "closure"}}},
	}
	p.Seller.ViolationTypes = []standing.ViolationType{
		{Code: "bad_photo", Ledger: "content", Points: 1},
		{Code: "late_fee", Ledger: "fees", Points: 3},
		{Code: "fake", Ledger: "fakes", Points: 0},
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLedgersCustomPolicy(t *testing.T) {
	tests := []struct {
		name string
		reps []rep
		want []string
	}{
		{"every 5 brings a 3-day listing limit",
			[]rep{{"bad_photo", -1, 0, ""}, {"bad_photo", 3, time.Hour, ""}, {"bad_photo", -1, 2 * time.Hour, ""}, {"bad_photo", 6, 3 * time.Hour, ""}},
			[]string{"", "", "listing_limit 3d every@5", "listing_limit 3d every@10"}},
		{"points fall off after the custom lifetime of 30 days",
			[]rep{{"bad_photo", 4, 0, ""}, {"bad_photo", 1, days(31), ""}, {"bad_photo", 4, days(32), ""}},
			[]string{"", "", "listing_limit 3d every@5"}},
		{"thresholds bring warning, fine, suspension with the daily cap of 4",
			[]rep{{"late_fee", -1, 0, ""}, {"late_fee", -1, time.Hour, ""}, {"late_fee", -1, days(1), ""}, {"late_fee", -1, days(2), ""}},
			[]string{"warning threshold@3", "", "fine threshold@6", "suspension 2h0m0s threshold@9"}},
		{"strikes within one day are one; the second strike closes",
			[]rep{{"fake", -1, 0, "a"}, {"fake", -1, 20 * time.Hour, "b"}, {"fake", -1, days(2), "c"}},
			[]string{"warning strike@1", "", "closure strike@2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			outs, _ := applyAll(t, customPolicy(t), tt.reps)
			var got []string
			for _, o := range outs {
				got = append(got, summary(o))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("sanctions:\n got  %q\n want %q", got, tt.want)
			}
		})
	}
}

func TestDuplicateCaseIsIdempotent(t *testing.T) {
	p := standing.DefaultPolicy()
	outs, rec := applyAll(t, p, []rep{
		{"serious_ip_infringement", -1, 0, "CASE-1"},
		{"serious_ip_infringement", -1, days(5), "CASE-1"}, // the same case again
		{"serious_ip_infringement", -1, days(6), "CASE-2"},
	})
	if got, want := summary(outs[1]), "duplicate"; got != want {
		t.Errorf("second report of CASE-1 = %q, want %q", got, want)
	}
	if got, want := outs[1].Violation.ID, outs[0].Violation.ID; got != want {
		t.Errorf("duplicate returns violation %q, want the first %q", got, want)
	}
	if got, want := len(rec.Violations), 2; got != want {
		t.Errorf("recorded %d violations, want %d", got, want)
	}
	if got, want := summary(outs[2]), "suspension 7d strike@2"; got != want {
		t.Errorf("CASE-2 = %q, want %q (the duplicate is no strike)", got, want)
	}
	if outs[1].TotalAfter != 1 || outs[1].CountedPoints != 0 {
		t.Errorf("duplicate total %d counted %d, want 1 and 0", outs[1].TotalAfter, outs[1].CountedPoints)
	}
}

func TestEUNotices(t *testing.T) {
	p := standing.DefaultPolicy()
	p.EU.Enabled = true
	reps := []rep{
		{"late_shipment", 12, 0, ""},
		{"late_shipment", 12, days(20), ""},
		{"late_shipment", 12, days(40), ""},
		{"late_shipment", 12, days(80), ""},
	}
	outs, rec := applyAll(t, p, reps)
	var got []string
	for _, o := range outs {
		got = append(got, summary(o))
	}
	want := []string{"notice warning +0s", "suspension 14d threshold@24", "suspension 30d threshold@36", "notice closure +30d"}
	if !slices.Equal(got, want) {
		t.Errorf("EU outcomes:\n got  %q\n want %q", got, want)
	}
	warn := outs[0].Notices[0]
	if warn.Sanction.Kind != "suspension" || !strings.Contains(warn.Text, "Warning") || !strings.Contains(warn.Text, "7-day store suspension") {
		t.Errorf("warning notice = %+v", warn)
	}
	if len(rec.Warnings) != 1 || rec.Warnings[0].Ledger != "transaction" {
		t.Errorf("warnings on record = %+v, want one in transaction", rec.Warnings)
	}

	closure := outs[3].Notices[0]
	now := t0.Add(days(80))
	if want := now.Add(days(30)); !closure.EffectiveAt.Equal(want) {
		t.Errorf("closure effective %s, want %s", closure.EffectiveAt, want)
	}
	if !strings.Contains(closure.Text, standing.FormatTime(closure.EffectiveAt)) {
		t.Errorf("closure text does not name the date: %q", closure.Text)
	}
	r := closure.Restriction()
	if r == nil || r.Removes.Has(standing.CapReceivePayouts) || !r.Removes.Has(standing.CapListProducts) || r.Duration != "" {
		t.Errorf("closure restriction = %+v", r)
	}
	if !penalty.ClosureStillDue(p, rec.Violations, closure) {
		t.Error("ClosureStillDue = false with every violation on record")
	}
	if penalty.ClosureStillDue(p, rec.Violations[1:], closure) {
		t.Error("ClosureStillDue = true after an appeal removed an earlier violation")
	}
	if penalty.ClosureStillDue(p, rec.Violations[:3], closure) {
		t.Error("ClosureStillDue = true after the triggering violation was removed")
	}

	// Another ledger has its own warning; a warning more than a year old does not count.
	outs, _ = applyAll(t, p, []rep{{"serious_ip_infringement", -1, 0, "a"}, {"serious_ip_infringement", -1, days(5), "b"}})
	if got, want := summary(outs[0])+" | "+summary(outs[1]), "notice warning +0s | suspension 7d strike@2"; got != want {
		t.Errorf("serious IP in EU = %q, want %q", got, want)
	}
	old := penalty.Record{Warnings: []penalty.Warning{{Ledger: "transaction", At: t0.Add(-days(400))}}}
	v, _ := penalty.Resolve(p, standing.RoleSeller, penalty.Report{SellerID: "s", Type: "late_shipment", Points: ptr(12)}, t0)
	o, err := penalty.Apply(p, old, v, t0)
	if err != nil || summary(o) != "notice warning +0s" {
		t.Errorf("with a warning 400 days old: %q, %v; want a new warning", summary(o), err)
	}
	old.Warnings[0].At = t0.Add(-days(100))
	o, _ = penalty.Apply(p, old, v, t0)
	if summary(o) != "suspension 7d threshold@12" {
		t.Errorf("with a warning 100 days old: %q; want the suspension", summary(o))
	}
}

func ptr(n int) *int { return &n }

func TestSanctionRestriction(t *testing.T) {
	p := standing.DefaultPolicy()
	now := t0
	all := standing.AllCapabilities
	closureRemoves := all &^ standing.CapSet(standing.CapLogin, standing.CapViewOrders, standing.CapWithdrawFunds, standing.CapReceivePayouts, standing.CapAppeal)
	tests := []struct {
		name        string
		s           penalty.Sanction
		wantNil     bool
		wantRemoves standing.CapabilitySet
		wantEnd     *time.Time
		wantWords   []string
	}{
		{"warning removes nothing", penalty.Sanction{Sanction: standing.Sanction{Kind: "warning"}}, true, 0, nil, nil},
		{"fine removes nothing", penalty.Sanction{Sanction: standing.Sanction{Kind: "fine", Amount: 100}}, true, 0, nil, nil},
		{"listing limit removes listing only",
			penalty.Sanction{Sanction: standing.Sanction{Kind: "listing_limit", Duration: standing.Duration(days(3))}, Ledger: "content", Trigger: "every", Level: 5},
			false, standing.CapSet(standing.CapListProducts), tp(now.Add(days(3))), []string{"3 days", "points for content reached 5"}},
		{"suspension removes listing and orders for its time",
			penalty.Sanction{Sanction: standing.Sanction{Kind: "suspension", Duration: standing.Duration(days(7))}, Ledger: "transaction", Trigger: "threshold", Level: 12},
			false, standing.CapSet(standing.CapListProducts, standing.CapReceiveOrders), tp(now.Add(days(7))),
			[]string{"Your store is suspended for 7 days because your points for transactions reached 12", "until " + standing.FormatTime(now.Add(days(7)))}},
		{"closure keeps sign-in, orders, funds, payouts and appeal, with no end",
			penalty.Sanction{Sanction: standing.Sanction{Kind: "closure"}, Ledger: "serious_ip", Trigger: "strike", Level: 3},
			false, closureRemoves, nil, []string{"Your store is closed because you received your 3rd strike for serious IP infringement", "receive payouts"}},
	}
	titles := map[string]string{"transaction": "Transactions", "serious_ip": "Serious IP infringement", "content": "Content"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nr := tt.s.Restriction(now, titles[tt.s.Ledger])
			if tt.wantNil {
				if nr != nil {
					t.Fatalf("Restriction = %+v, want nil", nr)
				}
				return
			}
			if nr == nil {
				t.Fatal("Restriction = nil")
			}
			if nr.ReasonCode != standing.ReasonSellerViolation || nr.Source != standing.SourceSystem {
				t.Errorf("reason %q source %q", nr.ReasonCode, nr.Source)
			}
			r, err := nr.Resolve(p, "acc_seller", standing.RoleSeller, now)
			if err != nil {
				t.Fatalf("NewRestriction.Resolve: %v", err)
			}
			if r.Removes != tt.wantRemoves {
				t.Errorf("removes %v, want %v", r.Removes.Names(), tt.wantRemoves.Names())
			}
			if (r.EndsAt == nil) != (tt.wantEnd == nil) || (r.EndsAt != nil && !r.EndsAt.Equal(*tt.wantEnd)) {
				t.Errorf("ends %v, want %v", r.EndsAt, tt.wantEnd)
			}
			for _, w := range tt.wantWords {
				if !strings.Contains(r.Message, w) {
					t.Errorf("message %q lacks %q", r.Message, w)
				}
			}
		})
	}
}

func tp(t time.Time) *time.Time { return &t }

func TestStandingDashboard(t *testing.T) {
	p := standing.DefaultPolicy()
	outs, rec := applyAll(t, p, []rep{
		{"late_shipment", 5, -days(366), ""}, // fallen off
		{"late_shipment", 4, -days(200), ""},
		{"poor_after_sales", -1, -days(10), ""},
		{"serious_ip_infringement", -1, -days(20), "x"},
		{"serious_ip_infringement", -1, -days(19), "y"},
		{"serious_ip_infringement", -1, -days(5), "z"},
	})
	_ = outs
	sp := penalty.Standing(p, rec.Violations, t0)
	if got, want := len(sp.Ledgers), len(p.Seller.Ledgers); got != want {
		t.Fatalf("%d ledgers, want %d", got, want)
	}
	tx := ledger(t, sp, "transaction")
	if tx.Total != 7 || len(tx.Entries) != 2 {
		t.Fatalf("transaction total %d with %d entries, want 7 with 2", tx.Total, len(tx.Entries))
	}
	if got, want := tx.Entries[0].FallsOffAt, t0.Add(-days(200)).Add(days(365)); !got.Equal(want) {
		t.Errorf("first entry falls off %s, want %s", got, want)
	}
	if len(tx.Next) != 1 || tx.Next[0].Level != 12 || tx.Next[0].PointsToGo != 5 || tx.Next[0].Words != "at 12 points: a 7-day store suspension" {
		t.Errorf("transaction next = %+v", tx.Next)
	}
	ip := ledger(t, sp, "serious_ip")
	if len(ip.Strikes) != 2 || ip.Strikes[0].Cases != 2 || ip.Strikes[1].Number != 2 {
		t.Errorf("strikes = %+v, want 2 with the first of 2 cases", ip.Strikes)
	}
	if len(ip.Next) != 1 || ip.Next[0].Words != "at the 3rd strike: closure of the store" {
		t.Errorf("serious IP next = %+v", ip.Next)
	}
	lq := ledger(t, sp, "listing_quality")
	if lq.Total != 0 || len(lq.Next) != 1 || lq.Next[0].Level != 12 {
		t.Errorf("listing quality = %+v", lq)
	}
	tx48 := penalty.Standing(p, []penalty.Violation{{ID: "a", Type: "late_shipment", Points: 50, At: t0}}, t0)
	if l := ledger(t, tx48, "transaction"); len(l.Next) != 0 {
		t.Errorf("past the last threshold next = %+v, want none", l.Next)
	}
}

func TestResolveBadInput(t *testing.T) {
	p := standing.DefaultPolicy()
	tests := []struct {
		name      string
		role      standing.Role
		r         penalty.Report
		wantField string
		wantWords string
	}{
		{"a buyer account", standing.RoleBuyer, penalty.Report{SellerID: "acc_b", Type: "late_shipment"}, "seller_id", "buyer account"},
		{"no seller", standing.RoleSeller, penalty.Report{Type: "late_shipment"}, "seller_id", "required"},
		{"an unknown type", standing.RoleSeller, penalty.Report{SellerID: "s", Type: "rude_seller"}, "type", "false_description, ip_infringement"},
		{"no type", standing.RoleSeller, penalty.Report{SellerID: "s"}, "type", "required"},
		{"negative points", standing.RoleSeller, penalty.Report{SellerID: "s", Type: "late_shipment", Points: ptr(-1)}, "points", "negative"},
		{"too many points", standing.RoleSeller, penalty.Report{SellerID: "s", Type: "late_shipment", Points: ptr(penalty.MaxPoints + 1)}, "points", "at most"},
		{"a long case id", standing.RoleSeller, penalty.Report{SellerID: "s", Type: "late_shipment", CaseID: strings.Repeat("x", 201)}, "case_id", "longer"},
		{"a long note", standing.RoleSeller, penalty.Report{SellerID: "s", Type: "late_shipment", Note: strings.Repeat("x", standing.MaxNoteLen+1)}, "note", "longer"},
		{"in the future", standing.RoleSeller, penalty.Report{SellerID: "s", Type: "late_shipment", At: t0.Add(time.Minute)}, "at", "future"},
		{"too old to count", standing.RoleSeller, penalty.Report{SellerID: "s", Type: "late_shipment", At: t0.Add(-days(365))}, "at", "no longer count"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := penalty.Resolve(p, tt.role, tt.r, t0)
			if got, want := standing.ErrorCode(err), standing.EINVALID; got != want {
				t.Fatalf("code %q (%v), want %q", got, err, want)
			}
			if got := standing.ErrorField(err); got != tt.wantField {
				t.Errorf("field %q, want %q", got, tt.wantField)
			}
			if !strings.Contains(standing.ErrorMessage(err), tt.wantWords) {
				t.Errorf("message %q lacks %q", standing.ErrorMessage(err), tt.wantWords)
			}
		})
	}
}

func TestResolvePoints(t *testing.T) {
	p := standing.DefaultPolicy()
	tests := []struct {
		typ    string
		points *int
		want   int
		ledger string
	}{
		{"poor_after_sales", nil, 3, "transaction"},
		{"poor_after_sales", ptr(0), 0, "transaction"},
		{"prohibited_goods", ptr(9), 9, "ip_prohibited"},
		{"serious_ip_infringement", nil, 1, "serious_ip"},
		{penalty.PerformanceBreachType, nil, p.Performance.BreachPoints, "transaction"},
	}
	for _, tt := range tests {
		v, err := penalty.Resolve(p, standing.RoleSeller, penalty.Report{SellerID: " s1 ", Type: tt.typ, Points: tt.points, CaseID: " c "}, t0)
		if err != nil {
			t.Fatalf("%s: %v", tt.typ, err)
		}
		if v.Points != tt.want || v.Ledger != tt.ledger || v.SellerID != "s1" || v.CaseID != "c" || !v.At.Equal(t0) {
			t.Errorf("%s: got %+v, want %d points in %s", tt.typ, v, tt.want, tt.ledger)
		}
	}
}

func TestKeyIsStable(t *testing.T) {
	k := penalty.Key("acc_1", "ip_infringement", "CASE-9")
	if k != penalty.Key("acc_1", "ip_infringement", "CASE-9") {
		t.Fatal("Key differs between calls")
	}
	// The key is stored in a unique column: it must never change between versions.
	if want := "vk1_ea469f6bfe3c67872b36f8576cce2d497f26c9d9"; k != want {
		t.Errorf("Key = %q, want %q", k, want)
	}
	v := penalty.Violation{SellerID: "acc_1", Type: "ip_infringement", CaseID: "CASE-9", Points: 7, Note: "x", At: t0}
	if v.Key() != k {
		t.Error("Violation.Key depends on more than seller, type and case")
	}
	for _, other := range []string{
		penalty.Key("acc_2", "ip_infringement", "CASE-9"),
		penalty.Key("acc_1", "prohibited_goods", "CASE-9"),
		penalty.Key("acc_1", "ip_infringement", "CASE-10"),
		penalty.Key("acc_1ip_infringement", "", "CASE-9"),
	} {
		if other == k {
			t.Errorf("different cases share key %q", k)
		}
	}
	if got := penalty.Key("acc_1", "late_shipment", ""); got != "" {
		t.Errorf("Key without a case = %q, want empty", got)
	}
}

func TestApplyBadInput(t *testing.T) {
	p := standing.DefaultPolicy()
	tests := []struct {
		name  string
		v     penalty.Violation
		field string
	}{
		{"unknown type", penalty.Violation{Type: "nope", Points: 1, At: t0}, "type"},
		{"unknown ledger", penalty.Violation{Type: "late_shipment", Ledger: "gone", Points: 1, At: t0}, "type"},
		{"negative points", penalty.Violation{Type: "late_shipment", Points: -3, At: t0}, "points"},
		{"in the future", penalty.Violation{Type: "late_shipment", Points: 1, At: t0.Add(time.Hour)}, "at"},
	}
	for _, tt := range tests {
		_, err := penalty.Apply(p, penalty.Record{}, tt.v, t0)
		if standing.ErrorCode(err) != standing.EINVALID || standing.ErrorField(err) != tt.field {
			t.Errorf("%s: %v, want invalid %s", tt.name, err, tt.field)
		}
	}
}

func TestApplyOrderOfRecord(t *testing.T) {
	p := standing.DefaultPolicy()
	rec := penalty.Record{Violations: []penalty.Violation{
		{ID: "c", Type: "late_shipment", Points: 4, At: t0.Add(-days(1))},
		{ID: "a", Type: "late_shipment", Points: 4, At: t0.Add(-days(3))},
		{ID: "later", Type: "late_shipment", Points: 30, At: t0.Add(days(1))}, // after v: not counted for v
		{ID: "b", Type: "poor_after_sales", Points: 2, At: t0.Add(-days(2))},
		{ID: "other", Type: "false_description", Points: 11, At: t0.Add(-days(2))},
	}}
	v := penalty.Violation{ID: "new", SellerID: "s", Type: "late_shipment", Points: 2, At: t0}
	o, err := penalty.Apply(p, rec, v, t0.Add(days(2)))
	if err != nil {
		t.Fatal(err)
	}
	if o.TotalBefore != 10 || o.TotalAfter != 12 || summary(o) != "suspension 7d threshold@12" {
		t.Errorf("before %d after %d %q; want 10, 12 and the 7-day suspension", o.TotalBefore, o.TotalAfter, summary(o))
	}
}

func TestIsClosure(t *testing.T) {
	p := standing.DefaultPolicy()
	resolve := func(s penalty.Sanction) standing.Restriction {
		t.Helper()
		r, err := s.Restriction(t0, "Transactions").Resolve(p, "acc_seller", standing.RoleSeller, t0)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	closure := resolve(penalty.Sanction{Sanction: standing.Sanction{Kind: penalty.KindClosure}})
	suspension := resolve(penalty.Sanction{Sanction: standing.Sanction{Kind: penalty.KindSuspension, Duration: standing.Duration(days(30))}})
	ended := closure
	ended.EndsAt = tp(t0.Add(days(30)))
	fraud := closure
	fraud.ReasonCode = standing.ReasonFraudConfirmed
	for _, tt := range []struct {
		name string
		r    standing.Restriction
		want bool
	}{
		{"closure sanction", closure, true},
		{"suspension", suspension, false},
		{"closure capabilities with an end", ended, false},
		{"closure capabilities for another reason", fraud, false},
	} {
		if got := penalty.IsClosure(tt.r); got != tt.want {
			t.Errorf("IsClosure(%s) = %v, want %v", tt.name, got, tt.want)
		}
	}
}
