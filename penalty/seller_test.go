package penalty_test

import (
	"strings"
	"testing"
	"time"

	"standing"
	"standing/penalty"
)

func TestResolveEvidence(t *testing.T) {
	p := standing.DefaultPolicy()
	v, err := penalty.Resolve(p, standing.RoleSeller, penalty.Report{SellerID: "acc_s", Type: "late_shipment", Evidence: "  https://cases.example/1  "}, t0)
	if err != nil || v.Evidence != "https://cases.example/1" {
		t.Fatalf("Resolve = %+v %v", v, err)
	}
	for _, ev := range []string{strings.Repeat("x", penalty.MaxEvidenceLen+1), "line\nbreak"} {
		_, err := penalty.Resolve(p, standing.RoleSeller, penalty.Report{SellerID: "acc_s", Type: "late_shipment", Evidence: ev}, t0)
		if standing.ErrorField(err) != "evidence" {
			t.Errorf("evidence %q: %v, want an error naming evidence", ev[:min(len(ev), 12)], err)
		}
	}
}

func TestFeeAndFineInput(t *testing.T) {
	tests := []struct {
		name  string
		err   error
		field string
	}{
		{"fee without a description", (&penalty.NewFee{Amount: 100, Currency: "EUR"}).Validate(t0), "description"},
		{"fee of 0", (&penalty.NewFee{Description: "x", Amount: 0, Currency: "EUR"}).Validate(t0), "amount"},
		{"fee in no currency", (&penalty.NewFee{Description: "x", Amount: 1, Currency: "EURO"}).Validate(t0), "currency"},
		{"fine without a reason", (&penalty.NewFine{Amount: 100, Currency: "EUR"}).Validate(), "reason"},
		{"negative fine", (&penalty.NewFine{Amount: -5, Currency: "EUR", Reason: "x"}).Validate(), "amount"},
		{"payment in the future", (&penalty.FeePayment{PaidAt: t0.Add(time.Hour)}).Validate(t0), "paid_at"},
	}
	for _, tt := range tests {
		if standing.ErrorCode(tt.err) != standing.EINVALID || standing.ErrorField(tt.err) != tt.field {
			t.Errorf("%s: %v, want EINVALID naming %s", tt.name, tt.err, tt.field)
		}
	}
	f := penalty.NewFee{Description: " Deposit ", Amount: 100, Currency: "usd"}
	if err := f.Validate(t0); err != nil || f.Currency != "USD" || f.Description != "Deposit" || !f.DueAt.Equal(t0) {
		t.Errorf("normalised fee = %+v %v", f, err)
	}
}

func TestFeeStateAndRestriction(t *testing.T) {
	p := standing.DefaultPolicy()
	fee := penalty.Fee{ID: "fee_1", Description: "Service fee May", Amount: 3900, Currency: "USD", DueAt: t0, GraceEndsAt: t0.Add(14 * 24 * time.Hour)}
	for _, c := range []struct {
		at   time.Time
		want string
	}{{t0.Add(-time.Hour), penalty.FeeDue}, {t0.Add(13 * 24 * time.Hour), penalty.FeeDue}, {fee.GraceEndsAt, penalty.FeeOverdue}} {
		if got := fee.StateAt(c.at); got != c.want {
			t.Errorf("state at %s = %s, want %s", c.at, got, c.want)
		}
	}
	paid := fee
	paid.PaidAt = &t0
	if paid.StateAt(fee.GraceEndsAt) != penalty.FeePaid {
		t.Error("a paid fee is not paid")
	}
	r, err := penalty.FeeRestriction(fee).Resolve(p, "acc_s", standing.RoleSeller, fee.GraceEndsAt)
	if err != nil {
		t.Fatal(err)
	}
	if r.ReasonCode != standing.ReasonSellerViolation || r.Removes != standing.CapSet(standing.CapListProducts, standing.CapReceiveOrders) || r.EndsAt != nil {
		t.Errorf("fee restriction = %+v", r)
	}
	for _, w := range []string{`"Service fee May" of USD 39.00`, "as soon as the payment is reported"} {
		if !strings.Contains(r.Message, w) {
			t.Errorf("message %q lacks %q", r.Message, w)
		}
	}
}

func TestClosureNoticeRestriction(t *testing.T) {
	p := standing.DefaultPolicy()
	p.EU.Enabled = true
	outs, _ := applyAll(t, p, []rep{
		{"prohibited_goods", 6, 0, "a"}, {"prohibited_goods", 6, days(1), "b"}, {"prohibited_goods", 6, days(2), "c"},
		{"prohibited_goods", 6, days(3), "d"}, {"prohibited_goods", 6, days(4), "e"}, {"prohibited_goods", 6, days(5), "f"},
		{"prohibited_goods", 6, days(6), "g"}, {"prohibited_goods", 6, days(7), "h"},
	})
	last := outs[len(outs)-1]
	if len(last.Notices) != 1 {
		t.Fatalf("notices = %+v", last.Notices)
	}
	n := last.Notices[0]
	nr := n.NoticeRestriction()
	r, err := nr.Resolve(p, "acc_s", standing.RoleSeller, n.IssuedAt)
	if err != nil {
		t.Fatal(err)
	}
	if r.Removes != 0 || r.EndsAt != nil || !r.Appealable || r.Message != n.Text {
		t.Errorf("notice restriction = %+v", r)
	}
	if (penalty.Notice{Kind: penalty.NoticeWarning}).NoticeRestriction() != nil {
		t.Error("a warning notice has a restriction")
	}
}

func TestViolationMail(t *testing.T) {
	p := standing.DefaultPolicy()
	outs, rec := applyAll(t, p, []rep{{"poor_after_sales", 9, 0, "A-1"}, {"late_shipment", -1, days(1), "L-2"}})
	o := outs[1]
	subject, text := penalty.ViolationMail(p, o, penalty.Standing(p, rec.Violations, t0.Add(days(1))), "https://standing.example/seller")
	if subject != "Penalty points for late shipment" {
		t.Errorf("subject = %q", subject)
	}
	for _, w := range []string{"late shipment (case L-2)", "2 points for transactions", "count until " + standing.FormatTime(t0.Add(days(366))),
		"now total 11", "at 12 points: a 7-day store suspension", "https://standing.example/seller"} {
		if !strings.Contains(text, w) {
			t.Errorf("mail lacks %q:\n%s", w, text)
		}
	}
	_, text = penalty.ViolationMail(p, outs[0], penalty.Standing(p, rec.Violations[:1], t0), "x")
	if strings.Contains(text, "Because") {
		t.Errorf("a violation that brings nothing says it does:\n%s", text)
	}
}

func TestPerfStateAddAndWindow(t *testing.T) {
	p := standing.DefaultPolicy()
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	from, to := penalty.WindowDays(p, now)
	if to-from != 59 || to != penalty.DayOf(now) {
		t.Fatalf("window %d..%d", from, to)
	}
	orders := ordersWith(now, 50, 3, 1, 2)
	var byUpdate, byAdd penalty.PerfState
	for i := range orders {
		byUpdate.Update(nil, &orders[i])
	}
	// The same orders, newest first, counted one by one.
	for i := len(orders) - 1; i >= 0; i-- {
		o := orders[i]
		c := penalty.DayCounts{Day: penalty.DayOf(o.PlacedAt), Orders: 1}
		if o.Defect {
			c.Defects = 1
		}
		if o.ShippedAt != nil {
			c.Shipped = 1
			if o.ShippedAt.After(*o.ShipBy) {
				c.Late = 1
			}
		}
		if o.CancelledBySeller && o.ShippedAt == nil {
			c.Cancelled = 1
		}
		byAdd.Add(c)
	}
	if got, want := byAdd.Metrics(p, now), byUpdate.Metrics(p, now); got != want {
		t.Errorf("Add: %+v\nUpdate: %+v", got, want)
	}
}
