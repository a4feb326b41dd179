package sqlstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"standing"
	"standing/app/apptest"
	"standing/config"
	"standing/penalty"
)

// sellerBackends runs a test on SQLite and on PostgreSQL (skipped when it does not answer).
func sellerBackends(t *testing.T, o apptest.Options, fn func(t *testing.T, e *apptest.Env)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, apptest.New(t, o)) })
	t.Run("postgres", func(t *testing.T) {
		o := o
		o.Postgres = true
		fn(t, apptest.New(t, o))
	})
}

// withPolicy returns options that start Standing with a policy file holding doc.
func withPolicy(t *testing.T, doc string) apptest.Options {
	path := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return apptest.Options{Configure: func(c *config.Config) { c.PolicyFile = path }}
}

func report(e *apptest.Env, body map[string]any) penalty.Recorded {
	e.T.Helper()
	r := e.API("POST", "/v1/violations", body)
	if r.Status != http.StatusCreated {
		e.T.Fatalf("POST /v1/violations %v = %d %s", body, r.Status, r.Body)
	}
	var out penalty.Recorded
	r.Decode(e.T, &out)
	return out
}

func sellerStanding(e *apptest.Env, id string) penalty.SellerStanding {
	e.T.Helper()
	r := e.API("GET", "/v1/sellers/"+id+"/standing", nil)
	if r.Status != http.StatusOK {
		e.T.Fatalf("GET standing = %d %s", r.Status, r.Body)
	}
	var out penalty.SellerStanding
	r.Decode(e.T, &out)
	return out
}

func ledgerOf(t *testing.T, st penalty.SellerStanding, name string) penalty.LedgerPoints {
	t.Helper()
	for _, l := range st.Points.Ledgers {
		if l.Ledger == name {
			return l
		}
	}
	t.Fatalf("no ledger %s", name)
	return penalty.LedgerPoints{}
}

// allowed asks the check whether the account may use the capability now.
func allowed(e *apptest.Env, id, capability string) (bool, string) {
	e.T.Helper()
	m := e.MustAPI("POST", "/v1/check", map[string]any{"account_id": id, "capability": capability}, http.StatusOK)
	reason, _ := m["reason_code"].(string)
	return m["allowed"] == true, reason
}

func kinds(ss []penalty.Sanction) string {
	var out []string
	for _, s := range ss {
		out = append(out, s.Kind+" "+s.Duration.String())
	}
	return strings.Join(out, ", ")
}

// TestTwelveTransactionPointsSuspendForSevenDays: 12 transaction points bring a 7-day
// suspension, a restriction with reason seller_violation that the check answers for and
// that ends by itself.
func TestTwelveTransactionPointsSuspendForSevenDays(t *testing.T) {
	sellerBackends(t, apptest.Options{}, func(t *testing.T, e *apptest.Env) {
		s := e.CreateAccount("seller", "shop@example.com")
		for i := range 3 {
			rec := report(e, map[string]any{"seller_id": s, "type": "poor_after_sales", "case_id": fmt.Sprint("AS-", i)})
			if len(rec.Sanctions) != 0 || rec.TotalAfter != 3*(i+1) {
				t.Fatalf("report %d: total %d, sanctions %s", i, rec.TotalAfter, kinds(rec.Sanctions))
			}
		}
		if ok, _ := allowed(e, s, "list_products"); !ok {
			t.Fatal("9 points already restrict listing")
		}
		rec := report(e, map[string]any{"seller_id": s, "type": "poor_after_sales", "case_id": "AS-3", "evidence": "ticket 991"})
		if rec.TotalAfter != 12 || kinds(rec.Sanctions) != "suspension 7d" || len(rec.Restrictions) != 1 {
			t.Fatalf("12 points: total %d, sanctions %q, restrictions %d", rec.TotalAfter, kinds(rec.Sanctions), len(rec.Restrictions))
		}
		r := rec.Restrictions[0]
		if r.ReasonCode != standing.ReasonSellerViolation || r.EndsAt == nil || !r.EndsAt.Equal(e.Clock.Now().Add(7*24*time.Hour)) {
			t.Fatalf("restriction = %+v", r)
		}
		for _, c := range []string{"list_products", "receive_orders"} {
			if ok, reason := allowed(e, s, c); ok || reason != standing.ReasonSellerViolation {
				t.Errorf("%s during the suspension: allowed %v reason %q", c, ok, reason)
			}
		}
		for _, c := range []string{"login", "withdraw_funds", "view_orders", "appeal"} {
			if ok, _ := allowed(e, s, c); !ok {
				t.Errorf("%s is taken by a suspension", c)
			}
		}
		st := sellerStanding(e, s)
		if len(st.Sanctions) != 1 || st.Sanctions[0].RestrictionID != r.ID || st.Sanctions[0].Kind != "suspension" ||
			!strings.HasSuffix(st.Sanctions[0].AppealURL, "/appeals/new?restriction="+r.ID) || st.Sanctions[0].LedgerTitle != "Transactions" {
			t.Errorf("dashboard sanctions = %+v", st.Sanctions)
		}
		mails, _ := e.App.Store.Mails(context.Background(), "shop@example.com", 20)
		var subjects []string
		for _, m := range mails {
			subjects = append(subjects, m.Subject)
		}
		if !strings.Contains(strings.Join(subjects, "|"), "Penalty points for poor after-sales service") ||
			!strings.Contains(strings.Join(subjects, "|"), "Store sanction") {
			t.Errorf("mails = %q", subjects)
		}

		e.Advance("7d")
		if ok, _ := allowed(e, s, "list_products"); !ok {
			t.Fatal("the suspension did not end by itself after 7 days")
		}
		got, err := e.App.Store.Restriction(context.Background(), r.ID)
		if err != nil || got.State != standing.RestrictionExpired {
			t.Fatalf("after 7 days: %+v %v", got, err)
		}
		if st := sellerStanding(e, s); len(st.Sanctions) != 0 || ledgerOf(t, st, "transaction").Total != 12 {
			t.Errorf("after the suspension: %d sanctions, %d points", len(st.Sanctions), ledgerOf(t, st, "transaction").Total)
		}
	})
}

// TestPointsFallOffAfterAYear: points count for 365 days after their violation; one
// issued 366 days ago no longer counts, and the dashboard says when each falls off.
func TestPointsFallOffAfterAYear(t *testing.T) {
	sellerBackends(t, apptest.Options{}, func(t *testing.T, e *apptest.Env) {
		s := e.CreateAccount("seller", "old@example.com")
		first := report(e, map[string]any{"seller_id": s, "type": "late_shipment", "points": 10, "case_id": "L-1"})
		start := e.Clock.Now()
		st := sellerStanding(e, s)
		tx := ledgerOf(t, st, "transaction")
		if tx.Total != 10 || len(tx.Entries) != 1 || !tx.Entries[0].FallsOffAt.Equal(start.Add(365*24*time.Hour)) {
			t.Fatalf("transaction ledger = %+v", tx)
		}
		e.Advance("364d")
		if got := ledgerOf(t, sellerStanding(e, s), "transaction").Total; got != 10 {
			t.Fatalf("364 days on: %d points, want 10", got)
		}
		e.Advance("2d") // 366 days after the first violation
		rec := report(e, map[string]any{"seller_id": s, "type": "late_shipment", "points": 2, "case_id": "L-2"})
		if rec.TotalBefore != 0 || rec.TotalAfter != 2 || len(rec.Sanctions) != 0 {
			t.Fatalf("366 days on: before %d after %d sanctions %s; the old 10 points must not count", rec.TotalBefore, rec.TotalAfter, kinds(rec.Sanctions))
		}
		tx = ledgerOf(t, sellerStanding(e, s), "transaction")
		if tx.Total != 2 || len(tx.Entries) != 1 || tx.Entries[0].ViolationID == first.Violation.ID {
			t.Fatalf("after the fall-off: %+v", tx)
		}
	})
}

// TestSeriousIPStrikes: cases two days apart are one strike; three strikes close the
// store, which keeps only signing in, orders, funds, payouts and appeals.
func TestSeriousIPStrikes(t *testing.T) {
	sellerBackends(t, apptest.Options{}, func(t *testing.T, e *apptest.Env) {
		s := e.CreateAccount("seller", "brand@example.com")
		ip := func(caseID string) penalty.Recorded {
			return report(e, map[string]any{"seller_id": s, "type": "serious_ip_infringement", "case_id": caseID})
		}
		if rec := ip("IP-1"); rec.Strike != 1 || !rec.NewStrike || kinds(rec.Sanctions) != "suspension 1d" {
			t.Fatalf("first case: strike %d, %s", rec.Strike, kinds(rec.Sanctions))
		}
		e.Advance("2d")
		if rec := ip("IP-2"); rec.Strike != 1 || rec.NewStrike || len(rec.Sanctions) != 0 {
			t.Fatalf("a case two days later: strike %d new %v, %s; want the same strike and nothing", rec.Strike, rec.NewStrike, kinds(rec.Sanctions))
		}
		if n := len(ledgerOf(t, sellerStanding(e, s), "serious_ip").Strikes); n != 1 {
			t.Fatalf("%d strikes, want 1", n)
		}
		e.Advance("5d")
		if rec := ip("IP-3"); rec.Strike != 2 || kinds(rec.Sanctions) != "suspension 7d" {
			t.Fatalf("second strike: %d, %s", rec.Strike, kinds(rec.Sanctions))
		}
		e.Advance("8d")
		rec := ip("IP-4")
		if rec.Strike != 3 || kinds(rec.Sanctions) != "closure 0s" || len(rec.Restrictions) != 1 || rec.Restrictions[0].EndsAt != nil {
			t.Fatalf("third strike: %d, %s, %+v", rec.Strike, kinds(rec.Sanctions), rec.Restrictions)
		}
		for c, want := range map[string]bool{"list_products": false, "receive_orders": false, "message": false,
			"login": true, "view_orders": true, "withdraw_funds": true, "receive_payouts": true, "appeal": true} {
			if ok, _ := allowed(e, s, c); ok != want {
				t.Errorf("closed store: %s allowed %v, want %v", c, ok, want)
			}
		}
		e.Advance("30d")
		if ok, _ := allowed(e, s, "list_products"); ok {
			t.Error("a closure ended by itself")
		}
		// A fourth strike does not close the store twice.
		if rec := ip("IP-5"); len(rec.Restrictions) != 0 {
			t.Errorf("a closed store was closed again: %+v", rec.Restrictions)
		}
	})
}

// TestViolationBadInput: a buyer account, an unknown type, negative points, an unknown
// seller and a second report of one case are clear 4xx naming the field, and nothing is
// counted twice.
func TestViolationBadInput(t *testing.T) {
	sellerBackends(t, apptest.Options{}, func(t *testing.T, e *apptest.Env) {
		s := e.CreateAccount("seller", "careful@example.com")
		b := e.CreateAccount("buyer", "buyer@example.com")
		first := report(e, map[string]any{"seller_id": s, "type": "quality_complaints", "case_id": "Q-1"})
		tests := []struct {
			name   string
			body   any
			status int
			field  string
			detail string
		}{
			{"a buyer account", map[string]any{"seller_id": b, "type": "late_shipment"}, 422, "seller_id", "buyer account"},
			{"an unknown type", map[string]any{"seller_id": s, "type": "rude_emails"}, 422, "type", "late_shipment"},
			{"no type", map[string]any{"seller_id": s}, 422, "type", "type is required"},
			{"negative points", map[string]any{"seller_id": s, "type": "late_shipment", "points": -3}, 422, "points", "negative"},
			{"points that are not a number", map[string]any{"seller_id": s, "type": "late_shipment", "points": "3"}, 422, "points", ""},
			{"an unknown seller", map[string]any{"seller_id": "acc_nobody", "type": "late_shipment"}, 404, "seller_id", ""},
			{"the same case again", map[string]any{"seller_id": s, "type": "quality_complaints", "case_id": "Q-1"}, 409, "case_id", first.Violation.ID},
			{"the same case with other points", map[string]any{"seller_id": s, "type": "quality_complaints", "case_id": " Q-1 ", "points": 9}, 409, "case_id", "nothing was counted again"},
			{"an unknown field", map[string]any{"seller_id": s, "type": "late_shipment", "severity": 3}, 422, "severity", ""},
			{"a time in the future", map[string]any{"seller_id": s, "type": "late_shipment", "at": e.Clock.Now().Add(time.Hour)}, 422, "at", "future"},
			{"not JSON", "{seller_id:", 400, "", ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := e.API("POST", "/v1/violations", tt.body)
				var p struct {
					Code, Field, Detail string
					Status              int
				}
				_ = json.Unmarshal(r.Body, &p)
				if r.Status != tt.status || p.Field != tt.field || !strings.Contains(p.Detail, tt.detail) ||
					r.Header.Get("Content-Type") != "application/problem+json" {
					t.Errorf("= %d %s, want %d naming field %q and saying %q", r.Status, r.Body, tt.status, tt.field, tt.detail)
				}
			})
		}
		if ok, reason := allowed(e, b, "place_order"); !ok {
			t.Errorf("the buyer was restricted: %s", reason)
		}
		// With an Idempotency-Key, a retry gets the first answer, and counts nothing.
		body := map[string]any{"seller_id": s, "type": "late_shipment", "case_id": "L-9"}
		do := func() (int, string, penalty.Recorded) {
			req, _ := http.NewRequest("POST", e.URL+"/v1/violations", strings.NewReader(mustJSON(body)))
			req.Header.Set("Authorization", "Bearer "+e.Key)
			req.Header.Set("Idempotency-Key", "retry-1")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var rec penalty.Recorded
			b, _ := io.ReadAll(resp.Body)
			_ = json.Unmarshal(b, &rec)
			return resp.StatusCode, resp.Header.Get("Idempotent-Replayed"), rec
		}
		s1, _, r1 := do()
		s2, replayed, r2 := do()
		if s1 != 201 || s2 != 201 || replayed != "true" || r1.Violation.ID != r2.Violation.ID {
			t.Errorf("retry with the key: %d, %d replayed %q, ids %s %s", s1, s2, replayed, r1.Violation.ID, r2.Violation.ID)
		}
		tx := ledgerOf(t, sellerStanding(e, s), "transaction")
		if tx.Total != 2+2 || len(tx.Entries) != 2 {
			t.Errorf("after the bad input: %d points in %d entries, want 4 in 2", tx.Total, len(tx.Entries))
		}
		if r := e.API("GET", "/v1/sellers/"+b+"/standing", nil); r.Status != 422 || !strings.Contains(string(r.Body), "buyer account") {
			t.Errorf("standing of a buyer = %d %s", r.Status, r.Body)
		}
		if r := e.Do("POST", "/v1/violations", e.NewKey("reader", standing.ScopeAccountsRead), body); r.Status != 403 {
			t.Errorf("without the sellers scope = %d", r.Status)
		}
	})
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// shipOrders reports n orders of the seller placed at placed, each shipped a day later,
// the first late of them after their ship-by time.
func shipOrders(e *apptest.Env, seller, buyer string, n, late int, placed time.Time) {
	e.T.Helper()
	for i := range n {
		shipBy := placed.Add(48 * time.Hour)
		o := e.MustAPI("POST", "/v1/orders", map[string]any{"buyer_id": buyer, "seller_id": seller, "amount": 1500, "currency": "EUR",
			"status": "paid", "placed_at": placed, "ship_by": shipBy}, http.StatusCreated)
		at := placed.Add(24 * time.Hour)
		if i < late {
			at = placed.Add(72 * time.Hour)
		}
		e.MustAPI("PATCH", "/v1/orders/"+o["id"].(string), map[string]any{"status": "shipped", "at": at}, http.StatusOK)
	}
}

func noticesOf(st penalty.SellerStanding, kind string) []penalty.NoticeLine {
	var out []penalty.NoticeLine
	for _, n := range st.Notices {
		if n.Kind == kind {
			out = append(out, n)
		}
	}
	return out
}

// TestLateShipmentWarningThenPoints: a seller whose late shipment rate crosses 4 % is
// warned (mail and dashboard line) and gets transaction points only if still over after
// the grace period; a seller who gets back under the standard within it gets none.
func TestLateShipmentWarningThenPoints(t *testing.T) {
	sellerBackends(t, apptest.Options{}, func(t *testing.T, e *apptest.Env) {
		slow := e.CreateAccount("seller", "slow@example.com")
		mended := e.CreateAccount("seller", "mended@example.com")
		b := e.CreateAccount("buyer", "many@example.com")
		placed := e.Clock.Now().Add(-10 * 24 * time.Hour)
		shipOrders(e, slow, b, 50, 3, placed)   // 6 %
		shipOrders(e, mended, b, 50, 3, placed) // 6 %
		shipOrders(e, e.CreateAccount("seller", "fine@example.com"), b, 50, 1, placed)
		e.RunJobs()

		for _, s := range []string{slow, mended} {
			st := sellerStanding(e, s)
			m := st.Performance.LateShipment
			if !m.Breached || m.Count != 3 || m.Of != 50 {
				t.Fatalf("late shipment = %+v", m)
			}
			if len(st.PerformanceWarnings) != 1 || st.PerformanceWarnings[0].Metric != penalty.MetricLateShipment || len(noticesOf(st, penalty.NoticePerformance)) != 1 {
				t.Fatalf("warnings = %+v, notices %+v", st.PerformanceWarnings, st.Notices)
			}
			if tx := ledgerOf(t, st, "transaction"); tx.Total != 0 {
				t.Fatalf("points before the grace period: %d", tx.Total)
			}
			if len(st.Chart) != 60 {
				t.Errorf("chart of %d days, want 60", len(st.Chart))
			}
		}
		mails, _ := e.App.Store.Mails(context.Background(), "slow@example.com", 10)
		if len(mails) == 0 || !strings.Contains(mails[0].Subject, "late shipment rate") || !strings.Contains(mails[0].Text, "6.0 %") {
			t.Fatalf("warning mail = %+v", mails)
		}
		if st := sellerStanding(e, e.CreateAccount("seller", "other@example.com")); len(st.PerformanceWarnings) != 0 {
			t.Fatal("a seller without orders was warned")
		}
		e.RunJobs() // evaluating again brings nothing more
		if st := sellerStanding(e, slow); len(st.PerformanceWarnings) != 1 || len(noticesOf(st, penalty.NoticePerformance)) != 1 {
			t.Fatalf("a second evaluation warned again: %+v", st.PerformanceWarnings)
		}

		// The mended seller ships 50 more orders on time: 3 of 100 is under 4 %.
		shipOrders(e, mended, b, 50, 0, e.Clock.Now().Add(-3*24*time.Hour))
		e.Advance("13d")
		for _, s := range []string{slow, mended} {
			if tx := ledgerOf(t, sellerStanding(e, s), "transaction"); tx.Total != 0 {
				t.Fatalf("points within the grace period: %d", tx.Total)
			}
		}
		if w := sellerStanding(e, mended).PerformanceWarnings; len(w) != 1 || w[0].ClearedAt == nil {
			t.Fatalf("the mended seller's warning = %+v, want cleared", w)
		}
		e.Advance("1d") // the 14-day grace period is over
		st := sellerStanding(e, slow)
		tx := ledgerOf(t, st, "transaction")
		if tx.Total != 3 || len(tx.Entries) != 1 || tx.Entries[0].Type != penalty.PerformanceBreachType {
			t.Fatalf("after the grace period: %+v", tx)
		}
		if tx := ledgerOf(t, sellerStanding(e, mended), "transaction"); tx.Total != 0 {
			t.Fatalf("the mended seller got %d points", tx.Total)
		}
		e.Advance("1h")
		if got := ledgerOf(t, sellerStanding(e, slow), "transaction").Total; got != 3 {
			t.Fatalf("points again within the same grace period: %d", got)
		}
	})
}

// TestUnpaidFeePausesSellingUntilPaid: a fee unpaid past the grace period pauses listing
// and receiving orders by a durable job; reporting it paid lifts that at once.
func TestUnpaidFeePausesSellingUntilPaid(t *testing.T) {
	sellerBackends(t, apptest.Options{}, func(t *testing.T, e *apptest.Env) {
		s := e.CreateAccount("seller", "fees@example.com")
		fee := e.MustAPI("POST", "/v1/sellers/"+s+"/fees", map[string]any{"external_id": "INV-7", "description": "Service fee May", "amount": 3900, "currency": "usd"}, http.StatusCreated)
		if fee["state"] != "due" || fee["currency"] != "USD" {
			t.Fatalf("fee = %v", fee)
		}
		if r := e.API("POST", "/v1/sellers/"+s+"/fees", map[string]any{"external_id": "INV-7", "description": "again", "amount": 1, "currency": "USD"}); r.Status != 409 {
			t.Errorf("the same external id = %d %s", r.Status, r.Body)
		}
		if r := e.API("POST", "/v1/sellers/"+s+"/fees", map[string]any{"description": "x", "amount": -1, "currency": "USD"}); r.Status != 422 || !strings.Contains(string(r.Body), `"field":"amount"`) {
			t.Errorf("a negative fee = %d %s", r.Status, r.Body)
		}
		e.Advance("13d")
		if ok, _ := allowed(e, s, "list_products"); !ok {
			t.Fatal("restricted within the grace period")
		}
		e.Advance("1d")
		for _, c := range []string{"list_products", "receive_orders"} {
			if ok, reason := allowed(e, s, c); ok || reason != standing.ReasonSellerViolation {
				t.Errorf("%s with an overdue fee: allowed %v (%s)", c, ok, reason)
			}
		}
		if ok, _ := allowed(e, s, "withdraw_funds"); !ok {
			t.Error("an overdue fee took the funds")
		}
		st := sellerStanding(e, s)
		if len(st.Fees) != 1 || st.Fees[0].State != penalty.FeeOverdue || len(st.Sanctions) != 1 || st.Sanctions[0].Kind != "fee" ||
			len(noticesOf(st, penalty.NoticeFeeOverdue)) != 1 {
			t.Fatalf("dashboard with an overdue fee: fees %+v sanctions %+v", st.Fees, st.Sanctions)
		}
		paid := e.MustAPI("POST", "/v1/fees/INV-7/payment", map[string]any{"reference": "PAY-1"}, http.StatusOK)
		if paid["state"] != "paid" {
			t.Fatalf("paid = %v", paid)
		}
		if ok, _ := allowed(e, s, "list_products"); !ok {
			t.Fatal("paying did not lift the pause")
		}
		if r := e.API("POST", "/v1/fees/INV-7/payment", nil); r.Status != 409 {
			t.Errorf("paying twice = %d", r.Status)
		}
		// A fee paid within its grace period never restricts.
		e.MustAPI("POST", "/v1/sellers/"+s+"/fees", map[string]any{"external_id": "INV-8", "description": "Deposit", "amount": 10000, "currency": "USD"}, http.StatusCreated)
		e.Advance("3d")
		e.MustAPI("POST", "/v1/fees/INV-8/payment", nil, http.StatusOK)
		e.Advance("20d")
		if ok, _ := allowed(e, s, "list_products"); !ok {
			t.Fatal("a fee paid in time restricted the store")
		}
	})
}

// TestFines: a fine recorded through the API, or brought by a ledger's fine sanction, is a
// ledger entry the marketplace learns of from the seller.fined webhook.
func TestFines(t *testing.T) {
	o := withPolicy(t, `
seller:
  ledgers:
    - {name: listing_quality, title: Listing quality, every: 12, every_sanction: {kind: suspension, duration: 7d}}
    - {name: transaction, title: Transactions, thresholds: [{points: 12, sanction: {kind: suspension, duration: 7d}}]}
    - name: content
      title: Content
      thresholds: [{points: 4, sanction: {kind: fine, amount: 5000, currency: EUR}}]
  violation_types:
    - {code: misleading_photos, title: Misleading photos, ledger: content, points: 2}
    - {code: late_shipment, title: Late shipment, ledger: transaction, points: 2}
`)
	sellerBackends(t, o, func(t *testing.T, e *apptest.Env) {
		sink := &apptest.WebhookSink{}
		srv := httptest.NewServer(sink)
		defer srv.Close()
		e.MustAPI("POST", "/v1/webhooks", map[string]any{"url": srv.URL, "event_types": []string{"seller.fined"}}, http.StatusCreated)
		s := e.CreateAccount("seller", "photos@example.com")
		report(e, map[string]any{"seller_id": s, "type": "misleading_photos", "case_id": "P-1"})
		rec := report(e, map[string]any{"seller_id": s, "type": "misleading_photos", "case_id": "P-2"})
		if kinds(rec.Sanctions) != "fine 0s" || len(rec.Fines) != 1 || rec.Fines[0].Amount != 5000 || rec.Fines[0].Currency != "EUR" || len(rec.Restrictions) != 0 {
			t.Fatalf("4 content points: %s, fines %+v", kinds(rec.Sanctions), rec.Fines)
		}
		f := e.MustAPI("POST", "/v1/sellers/"+s+"/fines", map[string]any{"amount": 2500, "currency": "EUR", "reason": "Counterfeit listing.", "case_id": "F-1"}, http.StatusCreated)
		if r := e.API("POST", "/v1/sellers/"+s+"/fines", map[string]any{"amount": 2500, "currency": "EUR", "reason": "again", "case_id": "F-1"}); r.Status != 409 {
			t.Errorf("the same fine case again = %d", r.Status)
		}
		if r := e.API("POST", "/v1/sellers/"+s+"/fines", map[string]any{"amount": 0, "currency": "EUR", "reason": "x"}); r.Status != 422 {
			t.Errorf("a fine of 0 = %d", r.Status)
		}
		e.RunJobs()
		got := sink.All()
		if strings.Count(got, `"type":"seller.fined"`) != 2 || !strings.Contains(got, f["id"].(string)) || !strings.Contains(got, rec.Fines[0].ID) {
			t.Fatalf("webhooks received: %s", got)
		}
		if strings.Contains(got, "photos@example.com") {
			t.Error("a webhook carries the seller's email")
		}
		st := sellerStanding(e, s)
		if len(st.Fines) != 2 || len(noticesOf(st, penalty.NoticeFine)) != 2 {
			t.Errorf("dashboard fines %+v", st.Fines)
		}
	})
}

// TestEUNotices: with the EU setting on, a first suspension becomes a prior warning (DSA
// Art. 23) and the next one applies; a closure is announced 30 days ahead and carried out
// by a durable job then, unless the violation that brought it was withdrawn.
func TestEUNotices(t *testing.T) {
	sellerBackends(t, withPolicy(t, "eu: {enabled: true}\n"), func(t *testing.T, e *apptest.Env) {
		s := e.CreateAccount("seller", "eu@example.com")
		rec := report(e, map[string]any{"seller_id": s, "type": "late_shipment", "points": 12, "case_id": "T-1"})
		if len(rec.Restrictions) != 0 || len(rec.Notices) != 1 || rec.Notices[0].Kind != penalty.NoticeWarning {
			t.Fatalf("first suspension in the EU: restrictions %+v notices %+v", rec.Restrictions, rec.Notices)
		}
		if ok, _ := allowed(e, s, "list_products"); !ok {
			t.Fatal("a prior warning restricted the store")
		}
		st := sellerStanding(e, s)
		if w := noticesOf(st, penalty.NoticeWarning); len(w) != 1 || !strings.Contains(w[0].Text, "not suspended now") {
			t.Fatalf("warning line = %+v", st.Notices)
		}
		rec = report(e, map[string]any{"seller_id": s, "type": "late_shipment", "points": 12, "case_id": "T-2"})
		if kinds(rec.Sanctions) != "suspension 14d" || len(rec.Restrictions) != 1 {
			t.Fatalf("after the warning: %s", kinds(rec.Sanctions))
		}

		// 48 points of prohibited goods (6 a day) close the store, 30 days after notice.
		c := e.CreateAccount("seller", "closing@example.com")
		var last penalty.Recorded
		for i := range 8 {
			last = report(e, map[string]any{"seller_id": c, "type": "prohibited_goods", "case_id": fmt.Sprint("PG-", i)})
			e.Advance("1d")
		}
		if len(last.Notices) != 1 || last.Notices[0].Kind != penalty.NoticeClosure || len(last.Restrictions) != 1 || last.Restrictions[0].Removes != 0 {
			t.Fatalf("48 points in the EU: %+v, restrictions %+v", last.Outcome, last.Restrictions)
		}
		// The notice stands as a restriction that removes nothing, so it can be appealed.
		if st := sellerStanding(e, c); len(st.Sanctions) != 1 || st.Sanctions[0].Kind != "closure_notice" || st.Sanctions[0].AppealURL == "" {
			t.Fatalf("sanctions during the notice = %+v", st.Sanctions)
		}
		due := last.Notices[0].EffectiveAt
		if got := due.Sub(last.Notices[0].IssuedAt); got != 30*24*time.Hour {
			t.Fatalf("notice period %s", got)
		}
		mails, _ := e.App.Store.Mails(context.Background(), "closing@example.com", 50)
		found := false
		for _, m := range mails {
			found = found || strings.Contains(m.Text, "Your store will be closed on "+standing.FormatTime(due))
		}
		if !found {
			t.Error("no closure notice mail")
		}
		e.Advance("28d")
		if ok, _ := allowed(e, c, "list_products"); !ok {
			t.Fatal("closed before the notice period ended")
		}
		if n := noticesOf(sellerStanding(e, c), penalty.NoticeClosure); len(n) != 1 || n[0].State != penalty.NoticePending {
			t.Fatalf("closure line = %+v", n)
		}
		e.Advance("2d")
		if ok, reason := allowed(e, c, "list_products"); ok || reason != standing.ReasonSellerViolation {
			t.Fatal("not closed when the notice period ended")
		}
		st = sellerStanding(e, c)
		if n := noticesOf(st, penalty.NoticeClosure); n[0].State != penalty.NoticeApplied {
			t.Fatalf("closure line after = %+v", n)
		}
		if len(st.Sanctions) != 1 || st.Sanctions[0].Kind != penalty.KindClosure {
			t.Fatalf("sanctions after the notice period = %+v", st.Sanctions)
		}

		// A notice lifted during its period (an appeal overturned it) cancels the closure.
		l := e.CreateAccount("seller", "appealed@example.com")
		for i := range 8 {
			last = report(e, map[string]any{"seller_id": l, "type": "prohibited_goods", "case_id": fmt.Sprint("A-", i)})
			e.Advance("1d")
		}
		e.MustAPI("POST", "/v1/restrictions/"+last.Restrictions[0].ID+"/lift", map[string]any{"note": "appeal apl_x overturned", "actor": "reviewer:kim"}, http.StatusOK)
		e.Advance("31d")
		if ok, _ := allowed(e, l, "list_products"); !ok {
			t.Fatal("closed although the notice was overturned")
		}
		if n := noticesOf(sellerStanding(e, l), penalty.NoticeClosureCancelled); len(n) != 1 || !strings.Contains(n[0].Text, "your appeal against it succeeded") {
			t.Fatalf("cancelled line = %+v", n)
		}

		// Withdrawn during the notice period, the violation no longer brings the closure.
		w := e.CreateAccount("seller", "withdrawn@example.com")
		for i := range 8 {
			last = report(e, map[string]any{"seller_id": w, "type": "prohibited_goods", "case_id": fmt.Sprint("W-", i)})
			e.Advance("1d")
		}
		e.MustAPI("POST", "/v1/violations/"+last.Violation.ID+"/withdraw", map[string]any{"note": "The goods were allowed after all."}, http.StatusOK)
		if r := e.API("POST", "/v1/violations/"+last.Violation.ID+"/withdraw", map[string]any{"note": "again"}); r.Status != 409 {
			t.Errorf("withdrawing twice = %d", r.Status)
		}
		e.Advance("31d")
		if ok, _ := allowed(e, w, "list_products"); !ok {
			t.Fatal("closed although the violation was withdrawn")
		}
		st = sellerStanding(e, w)
		if n := noticesOf(st, penalty.NoticeClosure); len(n) != 1 || n[0].State != penalty.NoticeCancelled || len(noticesOf(st, penalty.NoticeClosureCancelled)) != 1 {
			t.Fatalf("cancelled closure lines = %+v", st.Notices)
		}
	})
}

// TestWithdrawLiftsSanctions: withdrawing with lift_sanctions lifts what the violation
// brought and its points stop counting.
func TestWithdrawLiftsSanctions(t *testing.T) {
	sellerBackends(t, apptest.Options{}, func(t *testing.T, e *apptest.Env) {
		s := e.CreateAccount("seller", "wrong@example.com")
		rec := report(e, map[string]any{"seller_id": s, "type": "late_shipment", "points": 12, "case_id": "X-1"})
		if len(rec.Restrictions) != 1 {
			t.Fatalf("restrictions = %+v", rec.Restrictions)
		}
		if r := e.API("POST", "/v1/violations/"+rec.Violation.ID+"/withdraw", map[string]any{}); r.Status != 422 || !strings.Contains(string(r.Body), `"field":"note"`) {
			t.Errorf("withdraw without a note = %d %s", r.Status, r.Body)
		}
		out := e.MustAPI("POST", "/v1/violations/"+rec.Violation.ID+"/withdraw", map[string]any{"note": "Reported for the wrong store.", "lift_sanctions": true}, http.StatusOK)
		if lifted, _ := out["lifted"].([]any); len(lifted) != 1 {
			t.Fatalf("lifted = %v", out["lifted"])
		}
		if ok, _ := allowed(e, s, "list_products"); !ok {
			t.Fatal("still restricted")
		}
		st := sellerStanding(e, s)
		if ledgerOf(t, st, "transaction").Total != 0 || len(st.Sanctions) != 0 {
			t.Fatalf("after withdrawal: %+v", st)
		}
		got := e.MustAPI("GET", "/v1/violations/"+rec.Violation.ID, nil, http.StatusOK)
		if v := got["violation"].(map[string]any); v["withdrawn_at"] == nil || v["withdraw_note"] != "Reported for the wrong store." {
			t.Errorf("violation = %v", v)
		}
	})
}
