package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"standing"
	"standing/webhook"
)

// TestLinkedAccountFraud is the acceptance story: two accounts sharing a card fingerprint
// and a phone are linked, the link explains itself, and restricting one for fraud makes
// the duplicate-identity rule fire on the other's next checkout.
func TestLinkedAccountFraud(t *testing.T) {
	riskBackends(t, func(t *testing.T, e *riskEnv) {
		a, _ := e.account("buyer")
		b, bEmail := e.account("buyer")
		seller, _ := e.account("seller")
		order := e.order(b, seller, nil)
		shared := map[string]any{"card_fingerprint": "fp_1Mx9QbR2", "phone": "+44 7700 900123", "name": "Jane Q. Public"}
		e.post(e.event("signup", a, 3*time.Hour, map[string]any{"ip": "192.0.2.1", "device_id": "a-phone", "attributes": shared}))
		dec := e.post(e.event("signup", b, 2*time.Hour, map[string]any{"ip": "192.0.2.2", "device_id": "b-laptop", "attributes": shared}))
		if !slices.Contains(ruleIDs(dec, "fired"), "linked_accounts") {
			t.Errorf("sign-up sharing a card and phone: fired %v, want linked_accounts", ruleIDs(dec, "fired"))
		}
		links := e.MustAPI("GET", "/v1/accounts/"+b+"/links", nil, http.StatusOK)["links"].([]any)
		if len(links) != 1 {
			t.Fatalf("links of b = %v", links)
		}
		l := links[0].(map[string]any)
		var kinds []string
		for _, d := range l["shared"].([]any) {
			kinds = append(kinds, d.(map[string]any)["kind"].(string))
		}
		slices.Sort(kinds)
		if l["account_id"] != a || !slices.Equal(kinds, []string{"card_fingerprint", "name", "phone"}) {
			t.Errorf("link = %v, kinds %v", l, kinds)
		}
		because := l["because"].(string)
		for _, raw := range []string{"7700900123", "fp_1Mx9QbR2", "Jane"} {
			if strings.Contains(because, raw) || strings.Contains(fmt.Sprint(l), raw) {
				t.Errorf("the link shows %q in plain: %v", raw, l)
			}
		}
		if !strings.Contains(because, "payment card") || !strings.Contains(because, "phone number") {
			t.Errorf("because = %q", because)
		}

		e.MustAPI("POST", "/v1/accounts/"+a+"/restrictions", map[string]any{"reason_code": "fraud_confirmed"}, http.StatusCreated)
		l = e.MustAPI("GET", "/v1/accounts/"+b+"/links", nil, http.StatusOK)["links"].([]any)[0].(map[string]any)
		if l["flagged"] != true || !strings.Contains(l["because"].(string), "fraud_confirmed") {
			t.Errorf("after the fraud decision the link = %v", l)
		}
		dec = e.post(e.event("order_placed", b, 0, map[string]any{"ip": "192.0.2.2", "device_id": "b-laptop", "attributes": map[string]any{"order_id": order}}))
		if !slices.Contains(ruleIDs(dec, "fired"), "duplicate_identity") {
			t.Fatalf("b's next checkout fired %v, want duplicate_identity", ruleIDs(dec, "fired"))
		}
		var because2 string
		for _, f := range dec["fired"].([]any) {
			if f.(map[string]any)["rule_id"] == "duplicate_identity" {
				because2 = f.(map[string]any)["because"].(string)
			}
		}
		if because2 != "features.linked_restricted = 1" {
			t.Errorf("because = %q", because2)
		}
		if e.allowed(b, "place_order") || !e.allowed(b, "view_orders") {
			t.Error("b's standing after duplicate_identity is wrong")
		}
		if _, ok := e.restrictions(b)["duplicate_identity"]; !ok {
			t.Error("no duplicate_identity restriction on b")
		}
		e.RunJobs()
		if len(e.hook.find(standing.WebhookAccountRestricted, "account_id", b)) != 1 {
			t.Error("no account.restricted webhook for b")
		}
		if m := e.mails(bEmail); len(m) != 1 {
			t.Errorf("mails to b = %v", m)
		}
		reviews := e.MustAPI("GET", "/v1/reviews?state=open", nil, http.StatusOK)["reviews"].([]any)
		if len(reviews) != 1 || reviews[0].(map[string]any)["account_id"] != b || reviews[0].(map[string]any)["hits"].(float64) != 2 {
			t.Errorf("reviews = %v (one for b, raised by linked_accounts and then duplicate_identity)", reviews)
		}
	})
}

// TestShadowRuleChangesNothing switches a rule to shadow: it records what it would have
// done, in the decision and in its hits, and restricts, closes, mails and sends nothing.
func TestShadowRuleChangesNothing(t *testing.T) {
	riskBackends(t, func(t *testing.T, e *riskEnv) {
		rule := e.MustAPI("PATCH", "/v1/rules/anonymizer_checkout", map[string]any{"mode": "shadow"}, http.StatusOK)
		if rule["mode"] != "shadow" || rule["version"].(float64) != 2 {
			t.Fatalf("patched rule = %v", rule)
		}
		buyer, email := e.account("buyer")
		seller, _ := e.account("seller")
		order := e.order(buyer, seller, nil)
		dec := e.post(e.event("order_placed", buyer, 0, map[string]any{"ip": vpnIP}))
		if len(ruleIDs(dec, "fired")) != 0 || !slices.Equal(ruleIDs(dec, "shadow"), []string{"anonymizer_checkout"}) {
			t.Fatalf("decision = %v", dec)
		}
		sh := dec["shadow"].([]any)[0].(map[string]any)
		if sh["mode"] != "shadow" || !strings.Contains(sh["effect"].(string), "would restrict (risk_review)") || !strings.Contains(sh["effect"].(string), "close open orders") {
			t.Errorf("shadow firing = %v", sh)
		}
		if dec["score"].(float64) != 0 || len(dec["actions"].([]any)) != 0 {
			t.Errorf("a shadow rule scored or acted: %v", dec)
		}
		e.RunJobs()
		if len(e.restrictions(buyer)) != 0 || !e.allowed(buyer, "pay") {
			t.Error("a shadow rule restricted the account")
		}
		if s, _ := e.orderStatus(order); s != "pending_payment" {
			t.Errorf("order is %s", s)
		}
		if len(e.mails(email)) != 0 || e.hook.count() != 0 {
			t.Error("a shadow rule mailed or sent webhooks")
		}
		hits := e.MustAPI("GET", "/v1/rules/anonymizer_checkout/hits", nil, http.StatusOK)["hits"].([]any)
		if len(hits) != 1 || hits[0].(map[string]any)["mode"] != "shadow" || hits[0].(map[string]any)["version"].(float64) != 2 {
			t.Errorf("hits = %v", hits)
		}
		// Back to active, the same event acts.
		e.MustAPI("PATCH", "/v1/rules/anonymizer_checkout", map[string]any{"mode": "active"}, http.StatusOK)
		dec = e.post(e.event("order_placed", buyer, 0, map[string]any{"ip": vpnIP}))
		if !slices.Contains(ruleIDs(dec, "fired"), "anonymizer_checkout") || e.allowed(buyer, "pay") {
			t.Errorf("active again: %v", dec)
		}
	})
}

// TestEventBatchNullItem: a null item in a batch whose other items are all well formed
// (read in one pass) fails on its own, as it does among malformed ones (TestEventBatchBadInput).
func TestEventBatchNullItem(t *testing.T) {
	riskBackends(t, func(t *testing.T, e *riskEnv) {
		buyer, _ := e.account("buyer")
		res := e.MustAPI("POST", "/v1/events", map[string]any{"events": []any{e.event("login_succeeded", buyer, 0, nil), nil}}, http.StatusOK)
		results := res["results"].([]any)
		first, second := results[0].(map[string]any), results[1].(map[string]any)
		if first["status"] != float64(200) {
			t.Fatalf("the good event: %v", first)
		}
		p, _ := second["error"].(map[string]any)
		if second["status"] != float64(400) || p == nil || p["field"] != "events[1]" || !strings.Contains(p["detail"].(string), "null") {
			t.Fatalf("the null item: %v", second)
		}
	})
}

// TestEventBatchBadInput sends a batch where most events are wrong in their own way: each
// gets its own 4xx naming the field, the good ones are decided, and the card number is
// stored nowhere.
func TestEventBatchBadInput(t *testing.T) {
	riskBackends(t, func(t *testing.T, e *riskEnv) {
		buyer, _ := e.account("buyer")
		const card = "4111 1111 1111 1111"
		batch := []any{
			e.event("login_succeeded", buyer, 0, map[string]any{"ip": plainIP}),
			e.event("login_succeeded", "acc_nobody", 0, nil),
			e.event("login_succeeded", buyer, 0, map[string]any{"ip": "300.1.2.3"}),
			e.event("payment_declined", buyer, 0, map[string]any{"attributes": map[string]any{"card_fingerprint": card}}),
			e.event("payment_declined", buyer, 0, map[string]any{"attributes": map[string]any{"note": "paid with " + strings.ReplaceAll(card, " ", "-")}}),
			map[string]any{"type": 7, "account_id": buyer},
			map[string]any{"account_id": buyer},
			e.event("login_succeeded", buyer, 0, map[string]any{"colour": "blue"}),
			e.event("login_succeeded", buyer, 0, map[string]any{"attributes": map[string]any{"phone": "call me"}}),
			e.event("login_succeeded", buyer, -48*time.Hour, nil),
			e.event("Login Succeeded", buyer, 0, nil),
			e.event("profile_changed", buyer, 0, map[string]any{"device_id": "d1"}),
			42,
			e.event("login_succeeded", buyer, 0, map[string]any{"time": "yesterday"}),
			e.event("login_succeeded", buyer, 0, map[string]any{"attributes": []any{"a"}}),
			nil,
		}
		res := e.MustAPI("POST", "/v1/events", map[string]any{"events": batch}, http.StatusOK)
		want := []struct {
			status int
			field  string
		}{
			{200, ""}, {404, "events[1].account_id"}, {422, "events[2].ip"}, {422, "events[3].attributes.card_fingerprint"},
			{422, "events[4].attributes.note"}, {422, "events[5].type"}, {422, "events[6].type"}, {422, "events[7].colour"},
			{422, "events[8].attributes.phone"}, {422, "events[9].time"}, {422, "events[10].type"}, {200, ""},
			{400, "events[12]"}, {422, "events[13].time"}, {422, "events[14].attributes"}, {400, "events[15]"},
		}
		results := res["results"].([]any)
		for i, w := range want {
			r := results[i].(map[string]any)
			if int(r["status"].(float64)) != w.status {
				t.Errorf("events[%d]: status %v, want %d: %v", i, r["status"], w.status, r)
				continue
			}
			if w.status != 200 {
				p := r["error"].(map[string]any)
				if p["field"] != w.field || p["detail"] == "" || p["code"] == "" {
					t.Errorf("events[%d]: problem %v, want field %s", i, p, w.field)
				}
			}
		}
		if len(results) != len(want) || res["accepted"].(float64) != 2 || res["failed"].(float64) != float64(len(want)-2) {
			t.Errorf("accepted %v failed %v", res["accepted"], res["failed"])
		}
		d := results[3].(map[string]any)["error"].(map[string]any)["detail"].(string)
		if !strings.Contains(d, "card number") || strings.Contains(d, "4111") {
			t.Errorf("card problem = %q", d)
		}
		// The events carrying a card number were refused before anything was stored.
		stored := e.MustAPI("GET", "/v1/events/"+results[0].(map[string]any)["event_id"].(string), nil, http.StatusOK)
		if stored["decision"] == nil {
			t.Errorf("the good event was not stored with its decision: %v", stored)
		}
		if r := e.API("GET", "/v1/events/"+results[3].(map[string]any)["event_id"].(string), nil); r.Status != http.StatusNotFound {
			t.Errorf("the event with the card number was stored: %d", r.Status)
		}
		// Nor is the card number anywhere else: no table, no file (the scan finds the
		// good event's id, so it can see what is stored).
		if e.Occurrences(results[0].(map[string]any)["event_id"].(string)) == 0 {
			t.Fatal("the scan does not find the stored event")
		}
		for _, form := range []string{"4111111111111111", "1111 1111", "1111-1111"} {
			if n := e.Occurrences(form); n != 0 {
				t.Errorf("the card number (%q) is stored in %d places", form, n)
			}
		}

		// A single event with a bad address is a plain 422 problem.
		r := e.API("POST", "/v1/events", e.event("login_succeeded", buyer, 0, map[string]any{"ip": "not-an-ip"}))
		var p map[string]any
		_ = json.Unmarshal(r.Body, &p)
		if r.Status != 422 || p["field"] != "ip" || p["code"] != "invalid" || r.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("bad ip: %d %s", r.Status, r.Body)
		}
		// An unknown account alone is a 404.
		if r := e.API("POST", "/v1/events", e.event("signup", "acc_nobody", 0, nil)); r.Status != 404 {
			t.Errorf("unknown account: %d %s", r.Status, r.Body)
		}
		// Too many, none, malformed JSON.
		many := make([]any, standing.MaxBatch+1)
		for i := range many {
			many[i] = map[string]any{"type": "x", "account_id": buyer}
		}
		for _, c := range []struct {
			body   any
			status int
		}{
			{map[string]any{"events": many}, 422}, {map[string]any{"events": []any{}}, 422}, {`{"events": [`, 400},
			{map[string]any{"events": []any{}, "type": "x"}, 422},
		} {
			if r := e.API("POST", "/v1/events", c.body); r.Status != c.status {
				t.Errorf("body %.60v: %d, want %d", c.body, r.Status, c.status)
			}
		}
	})
}

// TestRepeatedEventChangesNothing posts an event twice, alone and in a batch: the repeat
// gets the first decision back and counts nowhere.
func TestRepeatedEventChangesNothing(t *testing.T) {
	riskBackends(t, func(t *testing.T, e *riskEnv) {
		buyer, email := e.account("buyer")
		var first map[string]any
		decline := func(i int) map[string]any {
			return map[string]any{"id": fmt.Sprintf("decline-%s-%d", buyer, i), "type": "payment_declined", "account_id": buyer, "ip": plainIP, "device_id": buyer}
		}
		for i := 0; i < 3; i++ {
			first = e.post(decline(i))
		}
		if _, ok := e.restrictions(buyer)["payment_verification"]; !ok {
			t.Fatal("three declines did not restrict")
		}
		again := e.post(decline(2))
		if again["duplicate"] != true || again["score"] != first["score"] || fmt.Sprint(again["actions"]) != fmt.Sprint(first["actions"]) {
			t.Errorf("repeat = %v, first = %v", again, first)
		}
		res := e.MustAPI("POST", "/v1/events", map[string]any{"events": []any{decline(0), decline(1), decline(3)}}, http.StatusOK)
		if res["duplicates"].(float64) != 2 || res["accepted"].(float64) != 3 {
			t.Errorf("batch with repeats = %v", res)
		}
		// decline-3 is the fourth decline, not the sixth: repeats did not count.
		last := res["results"].([]any)[2].(map[string]any)["decision"].(map[string]any)
		for _, f := range last["fired"].([]any) {
			if f.(map[string]any)["rule_id"] == "declined_payments" && !strings.Contains(f.(map[string]any)["because"].(string), "declined_payments_24h = 4") {
				t.Errorf("fourth decline: %v", f)
			}
		}
		if len(e.restrictions(buyer)) != 1 || len(e.mails(email)) != 1 {
			t.Errorf("restrictions %v, mails %v", e.restrictions(buyer), e.mails(email))
		}
		// The restriction already active is not added again; the firing says so.
		acts := last["actions"].([]any)
		if len(acts) != 1 || acts[0].(map[string]any)["done"] != false || !strings.Contains(acts[0].(map[string]any)["note"].(string), "already active") {
			t.Errorf("actions = %v", acts)
		}
	})
}

// TestEventRetention: the retention sweep deletes events older than the policy's
// event_retention by the service clock, keeps the rest, and follows a changed setting; an
// event already past it is refused.
func TestEventRetention(t *testing.T) {
	riskBackends(t, func(t *testing.T, e *riskEnv) {
		buyer, _ := e.account("buyer")
		status := func(id string) int { return e.API("GET", "/v1/events/"+id, nil).Status }
		old := e.post(e.event("login_succeeded", buyer, 399*24*time.Hour, nil))["event_id"].(string)
		recent := e.post(e.event("login_succeeded", buyer, 0, nil))["event_id"].(string)
		e.RunJobs()
		if st := status(old); st != http.StatusOK {
			t.Fatalf("an event 399 days old was swept under 400 days of retention: %d", st)
		}
		e.Advance("2d")
		if st := status(old); st != http.StatusNotFound {
			t.Errorf("an event past retention is still there: %d", st)
		}
		if st := status(recent); st != http.StatusOK {
			t.Errorf("a recent event was swept: %d", st)
		}

		// The operator shortens the retention to 10 days.
		f, err := os.OpenFile(e.App.Config.PolicyFile, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString("  event_retention: 10d\n"); err != nil {
			t.Fatal(err)
		}
		f.Close()
		if err := e.App.ReloadPolicy(); err != nil {
			t.Fatal(err)
		}
		if r := e.API("POST", "/v1/events", e.event("login_succeeded", buyer, 11*24*time.Hour, nil)); r.Status != http.StatusUnprocessableEntity || r.JSON()["field"] != "time" {
			t.Errorf("an event past the retention: %d %s", r.Status, r.Body)
		}
		fiveDays := e.post(e.event("login_succeeded", buyer, 5*24*time.Hour, nil))["event_id"].(string)
		e.Advance("4d")
		if st := status(fiveDays); st != http.StatusOK {
			t.Errorf("an event 9 days old was swept under 10 days of retention: %d", st)
		}
		e.Advance("2d")
		if st := status(fiveDays); st != http.StatusNotFound {
			t.Errorf("an event 11 days old is still there under 10 days of retention: %d", st)
		}
		if st := status(recent); st != http.StatusOK {
			t.Errorf("an event 8 days old was swept under 10 days of retention: %d", st)
		}
	})
}

// TestLedger covers orders, disputes and wallets through the API with idempotency keys.
func TestLedger(t *testing.T) {
	riskBackends(t, func(t *testing.T, e *riskEnv) {
		buyer, _ := e.account("buyer")
		seller, _ := e.account("seller")
		shipBy := e.Clock.Now().Add(48 * time.Hour).Format(time.RFC3339)
		body := map[string]any{"external_id": "SO-1", "buyer_id": buyer, "seller_id": seller, "amount": 1999, "currency": "eur",
			"recipient_name": "Ana Lopez", "ship_by": shipBy, "shipping_address": map[string]any{"line1": "Hauptstr. 5", "city": "Berlin", "postal_code": "10115", "country": "de"}}
		do := func(method, path, key string, body any) (int, map[string]any, http.Header) {
			t.Helper()
			r := doWithKey(t, e, method, path, key, body)
			return r.Status, r.JSON(), r.Header
		}
		st, o, _ := do("POST", "/v1/orders", "k-order-1", body)
		if st != 201 || o["currency"] != "EUR" || o["status"] != "pending_payment" || o["ship_by"] == nil {
			t.Fatalf("create order: %d %v", st, o)
		}
		if strings.Contains(fmt.Sprint(o), "Hauptstr") {
			t.Error("the order echoes the shipping address")
		}
		st, o2, h := do("POST", "/v1/orders", "k-order-1", body)
		if st != 201 || o2["id"] != o["id"] || h.Get("Idempotent-Replayed") != "true" {
			t.Errorf("replay: %d %v %v", st, o2, h)
		}
		body2 := map[string]any{}
		for k, v := range body {
			body2[k] = v
		}
		body2["amount"] = 2999
		st, p, _ := do("POST", "/v1/orders", "k-order-1", body2)
		if st != 409 || p["field"] != "Idempotency-Key" {
			t.Errorf("same key, other body: %d %v", st, p)
		}
		id := o["id"].(string)
		if got := e.MustAPI("GET", "/v1/orders/SO-1", nil, 200); got["id"] != id {
			t.Errorf("by external id: %v", got)
		}
		for _, c := range []struct {
			patch  map[string]any
			status int
			field  string
		}{
			{map[string]any{"status": "shipped"}, 409, "status"},
			{map[string]any{"status": "closed_by_risk"}, 422, "status"},
			{map[string]any{"status": "flying"}, 422, "status"},
			{map[string]any{"status": "paid"}, 200, ""},
			{map[string]any{"status": "shipped", "tracking_number": "lp00123456789cn"}, 200, ""},
			{map[string]any{"recipient_name": "Someone Else"}, 409, "recipient_name"},
			{map[string]any{"status": "cancelled", "cancelled_by": "seller"}, 409, "status"},
			{map[string]any{"status": "completed"}, 200, ""},
			{map[string]any{}, 422, ""},
		} {
			st, p, _ := do("PATCH", "/v1/orders/"+id, "", c.patch)
			if st != c.status || (c.field != "" && p["field"] != c.field) {
				t.Errorf("patch %v: %d %v, want %d %s", c.patch, st, p, c.status, c.field)
			}
		}
		o = e.MustAPI("GET", "/v1/orders/"+id, nil, 200)
		if o["tracking_number"] != "LP00123456789CN" || o["paid_at"] == nil || o["shipped_at"] == nil || o["completed_at"] == nil {
			t.Errorf("after the moves: %v", o)
		}
		// The tracking number is unique; a seller's cancellation is recorded as such.
		other := e.order(buyer, seller, nil)
		if st, p, _ := do("PATCH", "/v1/orders/"+other, "", map[string]any{"tracking_number": "LP00123456789CN"}); st != 409 || p["field"] != "tracking_number" {
			t.Errorf("duplicate tracking number: %d %v", st, p)
		}
		if st, p, _ := do("PATCH", "/v1/orders/"+other, "", map[string]any{"status": "cancelled", "cancelled_by": "seller"}); st != 200 || p["cancelled_by"] != "seller" || p["cancelled_at"] == nil {
			t.Errorf("seller cancellation: %d %v", st, p)
		}
		// Bad orders.
		for _, c := range []struct {
			body   map[string]any
			status int
			field  string
		}{
			{map[string]any{"buyer_id": buyer, "seller_id": seller, "amount": 1, "currency": "EURO"}, 422, "currency"},
			{map[string]any{"buyer_id": buyer, "seller_id": seller, "amount": -1, "currency": "EUR"}, 422, "amount"},
			{map[string]any{"buyer_id": "acc_nobody", "seller_id": seller, "amount": 1, "currency": "EUR"}, 404, "buyer_id"},
			{map[string]any{"buyer_id": seller, "seller_id": buyer, "amount": 1, "currency": "EUR"}, 422, "buyer_id"},
			{map[string]any{"buyer_id": buyer, "seller_id": seller, "amount": 1, "currency": "EUR", "external_id": "SO-1"}, 409, "external_id"},
			{map[string]any{"buyer_id": buyer, "seller_id": seller, "amount": 1, "currency": "EUR", "status": "shipped"}, 422, "status"},
			{map[string]any{"buyer_id": buyer, "seller_id": seller, "amount": "1", "currency": "EUR"}, 422, "amount"},
		} {
			st, p, _ := do("POST", "/v1/orders", "", c.body)
			if st != c.status || p["field"] != c.field {
				t.Errorf("order %v: %d %v, want %d %s", c.body, st, p, c.status, c.field)
			}
		}
		// Disputes: one open per order, resolved once.
		third := e.order(buyer, seller, map[string]any{"external_id": "SO-3"})
		st, d, _ := do("POST", "/v1/disputes", "k-dispute", map[string]any{"order_id": "SO-3", "reason": "not_received"})
		if st != 201 || d["order_id"] != third || d["buyer_id"] != buyer || d["seller_id"] != seller || d["status"] != "open" {
			t.Fatalf("dispute: %d %v", st, d)
		}
		if st, p, _ := do("POST", "/v1/disputes", "", map[string]any{"order_id": third}); st != 409 || p["field"] != "order_id" {
			t.Errorf("second open dispute: %d %v", st, p)
		}
		if st, _, _ := do("PATCH", "/v1/disputes/"+d["id"].(string), "", map[string]any{"status": "resolved", "outcome": "buyer_refunded"}); st != 200 {
			t.Errorf("resolve: %d", st)
		}
		if st, _, _ := do("PATCH", "/v1/disputes/"+d["id"].(string), "", map[string]any{"status": "resolved"}); st != 409 {
			t.Errorf("resolve twice: %d", st)
		}
		if st, _, _ := do("POST", "/v1/disputes", "", map[string]any{"order_id": "nope"}); st != 404 {
			t.Errorf("dispute on no order: %d", st)
		}
		// Wallets.
		if st, w, _ := do("POST", "/v1/accounts/"+buyer+"/wallet", "k-wallet", map[string]any{"balance": 1500, "currency": "usd"}); st != 200 || w["balance"].(float64) != 1500 || w["currency"] != "USD" {
			t.Errorf("wallet: %d %v", st, w)
		}
		do("POST", "/v1/accounts/"+buyer+"/wallet", "", map[string]any{"balance": 0, "currency": "EUR"})
		ws := e.MustAPI("GET", "/v1/accounts/"+buyer+"/wallet", nil, 200)["balances"].([]any)
		if len(ws) != 2 {
			t.Errorf("balances = %v", ws)
		}
		if st, _, _ := do("POST", "/v1/accounts/acc_nobody/wallet", "", map[string]any{"balance": 1, "currency": "EUR"}); st != 404 {
			t.Errorf("wallet of nobody: %d", st)
		}
		if st, p, _ := do("POST", "/v1/accounts/"+buyer+"/wallet", "", map[string]any{"currency": "EUR"}); st != 422 || p["field"] != "balance" {
			t.Errorf("wallet without balance: %d %v", st, p)
		}
		list := e.MustAPI("GET", "/v1/accounts/"+buyer+"/orders", nil, 200)
		if len(list["orders"].([]any)) != 3 || len(list["disputes"].([]any)) != 1 {
			t.Errorf("account orders = %v", list)
		}
		// A scope without ledger:write may not report.
		key := e.NewKey("reader", standing.ScopeAccountsRead)
		if r := e.Do("POST", "/v1/orders", key, body); r.Status != http.StatusForbidden {
			t.Errorf("without ledger:write: %d", r.Status)
		}
	})
}

// doWithKey sends a request with the all-scopes key and an Idempotency-Key when key is set.
func doWithKey(t *testing.T, e *riskEnv, method, path, key string, body any) responseLike {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, e.URL+path, strings.NewReader(string(b)))
	req.Header.Set("Authorization", "Bearer "+e.Key)
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := e.Server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out responseLike
	out.Status, out.Header = resp.StatusCode, resp.Header
	_ = json.NewDecoder(resp.Body).Decode(&out.body)
	return out
}

type responseLike struct {
	Status int
	Header http.Header
	body   map[string]any
}

func (r responseLike) JSON() map[string]any { return r.body }

// TestRulesAPI covers the rules: the seeded default pack, create with compile errors that
// give the position, versions, optimistic concurrency, enable and disable, test and
// backtest without side effects.
func TestRulesAPI(t *testing.T) {
	riskBackends(t, func(t *testing.T, e *riskEnv) {
		list := e.MustAPI("GET", "/v1/rules", nil, 200)
		if n := len(list["rules"].([]any)); n != 12 {
			t.Errorf("seeded rules = %d, want the 12 of the default pack", n)
		}
		if len(list["features"].([]any)) < 20 {
			t.Error("the feature catalog is missing")
		}
		bad := []struct {
			rule  map[string]any
			field string
			says  string
		}{
			{map[string]any{"id": "r1", "name": "x", "expression": "features.declined_payments_24h >=", "outcome": map[string]any{"score": 1}}, "expression", "line 1, column"},
			{map[string]any{"id": "r1", "name": "x", "expression": "features.declined_paymnets_24h >= 3", "outcome": map[string]any{"score": 1}}, "expression", "did you mean"},
			{map[string]any{"id": "r1", "name": "x", "expression": "event.attributes.items.all(a, event.attributes.items.all(b, event.attributes.items.all(c, a == b && b == c)))", "outcome": map[string]any{"score": 1}}, "expression", "line 1, column 27: the expression may cost"},
			{map[string]any{"id": "r1", "name": "x", "expression": "1 + 1", "outcome": map[string]any{"score": 1}}, "expression", "true or false"},
			{map[string]any{"id": "r1", "name": "x", "expression": "true", "outcome": map[string]any{"reason_code": "made_up"}}, "outcome.reason_code", "unknown reason"},
			{map[string]any{"id": "r1", "name": "x", "expression": "true", "outcome": map[string]any{"reason_code": "fraud_confirmed"}}, "outcome.reason_code", "reviewer"},
			{map[string]any{"id": "r1", "name": "x", "expression": "true", "outcome": map[string]any{}}, "outcome", "does nothing"},
			{map[string]any{"id": "R 1", "name": "x", "expression": "true", "outcome": map[string]any{"score": 1}}, "id", "rule id"},
			{map[string]any{"id": "r1", "name": "x", "expression": "true", "outcome": map[string]any{"score": 1}, "mode": "loud"}, "mode", "active or shadow"},
		}
		for _, c := range bad {
			r := e.API("POST", "/v1/rules", c.rule)
			p := r.JSON()
			if r.Status != 422 || p["field"] != c.field || !strings.Contains(fmt.Sprint(p["detail"]), c.says) {
				t.Errorf("rule %v: %d %v, want 422 %s saying %q", c.rule["expression"], r.Status, p, c.field, c.says)
			}
		}
		rule := map[string]any{"id": "big_spender", "name": "Big order", "description": "Orders over 1,000",
			"expression": `event.type == "order_placed" && has(event.attributes.amount) && event.attributes.amount > 100000`,
			"outcome":    map[string]any{"score": 25, "review": true}}
		created := e.MustAPI("POST", "/v1/rules", rule, http.StatusCreated)
		if created["version"].(float64) != 1 || created["enabled"] != true || created["mode"] != "active" {
			t.Errorf("created = %v", created)
		}
		if r := e.API("POST", "/v1/rules", rule); r.Status != 409 {
			t.Errorf("create twice: %d", r.Status)
		}
		rule["expression"] = `event.type == "order_placed" && has(event.attributes.amount) && event.attributes.amount > 50000`
		v2 := e.MustAPI("PUT", "/v1/rules/big_spender", rule, 200)
		if v2["version"].(float64) != 2 {
			t.Errorf("v2 = %v", v2)
		}
		if r := e.API("PUT", "/v1/rules/big_spender", rule); r.Status != 200 || r.Header.Get("Rule-Unchanged") != "true" || r.JSON()["version"].(float64) != 2 {
			t.Errorf("unchanged put: %d %v", r.Status, r.Header)
		}
		rule["base_version"] = 1
		if r := e.API("PUT", "/v1/rules/big_spender", rule); r.Status != 409 || r.JSON()["field"] != "version" {
			t.Errorf("stale base version: %d %s", r.Status, r.Body)
		}
		delete(rule, "base_version")
		if r := e.API("PUT", "/v1/rules/nope", rule); r.Status != 422 || r.JSON()["field"] != "id" {
			t.Errorf("put with another id: %d %s", r.Status, r.Body)
		}
		unnamed := map[string]any{"name": rule["name"], "expression": rule["expression"], "outcome": rule["outcome"]}
		if r := e.API("PUT", "/v1/rules/nope", unnamed); r.Status != 404 {
			t.Errorf("put unknown: %d %s", r.Status, r.Body)
		}
		got := e.MustAPI("GET", "/v1/rules/big_spender", nil, 200)
		if len(got["versions"].([]any)) != 2 || got["updated_by"] != "key:test" {
			t.Errorf("get = %v", got)
		}

		buyer, _ := e.account("buyer")
		big := map[string]any{"amount": 70000}
		dec := e.post(e.event("order_placed", buyer, time.Hour, map[string]any{"attributes": big}))
		if !slices.Contains(ruleIDs(dec, "fired"), "big_spender") {
			t.Errorf("v2 did not fire: %v", dec)
		}
		e.MustAPI("PATCH", "/v1/rules/big_spender", map[string]any{"enabled": false}, 200)
		dec = e.post(e.event("order_placed", buyer, 30*time.Minute, map[string]any{"attributes": big}))
		if slices.Contains(ruleIDs(dec, "fired"), "big_spender") {
			t.Error("a disabled rule fired")
		}

		// Test: no side effects, stored features of the account, overrides, drafts.
		test := e.MustAPI("POST", "/v1/rules/declined_payments/test", map[string]any{
			"event": map[string]any{"type": "payment_declined", "account_id": buyer}, "features": map[string]any{"declined_payments_24h": 5}}, 200)
		if test["fired"] != true || !strings.Contains(test["because"].(string), "declined_payments_24h = 5") || test["would"] == "" {
			t.Errorf("test = %v", test)
		}
		test = e.MustAPI("POST", "/v1/rules/big_spender/test", map[string]any{
			"event": map[string]any{"type": "order_placed", "attributes": big}, "expression": `event.attributes.amount > 80000`}, 200)
		if test["fired"] != false {
			t.Errorf("draft test = %v", test)
		}
		if r := e.API("POST", "/v1/rules/big_spender/test", map[string]any{"event": map[string]any{"type": "x"}, "features": map[string]any{"nope": 1}}); r.Status != 422 || r.JSON()["field"] != "features.nope" {
			t.Errorf("unknown feature override: %d %s", r.Status, r.Body)
		}
		if r := e.API("POST", "/v1/rules/big_spender/test", map[string]any{"event": map[string]any{"type": "x"}, "expression": "event.nope"}); r.Status != 422 || r.JSON()["field"] != "expression" {
			t.Errorf("bad draft: %d %s", r.Status, r.Body)
		}
		if len(e.restrictions(buyer)) != 0 {
			t.Error("a test restricted")
		}

		// Backtest over the stored events of the last days: what it would have done, nothing
		// done. A big order ten days ago is outside a 7-day window and inside a 30-day one;
		// the buyer has an open order the outcome would close.
		seller, _ := e.account("seller")
		open := e.order(buyer, seller, nil)
		e.post(e.event("order_placed", buyer, 10*24*time.Hour, map[string]any{"attributes": big}))
		e.RunJobs()
		hitsBefore := len(e.MustAPI("GET", "/v1/rules/big_spender/hits", nil, 200)["hits"].([]any))
		hooksBefore := e.hook.count()
		reviewBefore, _ := openReview(e, buyer)
		bt := e.MustAPI("POST", "/v1/rules/big_spender/backtest", map[string]any{"days": 7, "outcome": map[string]any{"reason_code": "risk_review", "close_open_orders": true, "review": true}}, 200)
		if bt["events_scanned"].(float64) < 2 || bt["fired"].(float64) != 2 || bt["accounts_hit"].(float64) != 1 ||
			bt["would_restrict"].(map[string]any)["risk_review"].(float64) != 1 || len(bt["samples"].([]any)) != 2 ||
			bt["would_close_orders_of"].(float64) != 1 || bt["open_orders"].(float64) != 1 || bt["would_review"].(float64) != 1 {
			t.Errorf("backtest = %v", bt)
		}
		if bt = e.MustAPI("POST", "/v1/rules/big_spender/backtest", map[string]any{"days": 30}, 200); bt["fired"].(float64) != 3 {
			t.Errorf("backtest over 30 days fired %v, want 3 (with the order ten days ago)", bt["fired"])
		}
		e.RunJobs()
		if len(e.restrictions(buyer)) != 0 {
			t.Error("a backtest restricted")
		}
		if st, _ := e.orderStatus(open); st != "pending_payment" {
			t.Errorf("a backtest left the open order %s", st)
		}
		if rv, _ := openReview(e, buyer); fmt.Sprint(rv) != fmt.Sprint(reviewBefore) {
			t.Errorf("a backtest changed the review queue: %v, before %v", rv, reviewBefore)
		}
		if n := len(e.MustAPI("GET", "/v1/rules/big_spender/hits", nil, 200)["hits"].([]any)); n != hitsBefore {
			t.Errorf("a backtest recorded hits: %d, before %d", n, hitsBefore)
		}
		if e.hook.count() != hooksBefore {
			t.Error("a backtest sent webhooks")
		}
		bt = e.MustAPI("POST", "/v1/rules/big_spender/backtest", map[string]any{"days": 7, "version": 1}, 200)
		if bt["fired"].(float64) != 0 || bt["version"].(float64) != 1 {
			t.Errorf("backtest of version 1 (over 1,000) = %v", bt)
		}
		if r := e.API("POST", "/v1/rules/big_spender/backtest", map[string]any{"days": 0}); r.Status != 422 {
			t.Errorf("0 days: %d", r.Status)
		}
	})
}

// TestWebhooks covers endpoints, signed delivery with retries and backoff, rotation with
// two signatures, lifting, disabling, and 410 Gone.
func TestWebhooks(t *testing.T) {
	riskBackends(t, func(t *testing.T, e *riskEnv) {
		list := e.MustAPI("GET", "/v1/webhooks", nil, 200)["endpoints"].([]any)
		if len(list) != 1 || list[0].(map[string]any)["secret"] != nil {
			t.Fatalf("endpoints = %v (secrets are shown once)", list)
		}
		ep := list[0].(map[string]any)["id"].(string)
		if r := e.API("POST", "/v1/webhooks", map[string]any{"url": "ftp://x"}); r.Status != 422 || r.JSON()["field"] != "url" {
			t.Errorf("bad url: %d", r.Status)
		}
		if r := e.API("POST", "/v1/webhooks", map[string]any{"url": "https://x.example", "event_types": []string{"account.exploded"}}); r.Status != 422 {
			t.Errorf("bad type: %d", r.Status)
		}

		buyer, email := e.account("buyer")
		// The receiver is down twice; the delivery is retried with backoff.
		e.hook.answer(500, 503)
		rst := e.MustAPI("POST", "/v1/accounts/"+buyer+"/restrictions", map[string]any{"reason_code": "risk_review"}, 201)
		e.RunJobs()
		deliveries := e.MustAPI("GET", "/v1/webhooks/"+ep+"/deliveries?state=pending", nil, 200)["deliveries"].([]any)
		if len(deliveries) != 1 || deliveries[0].(map[string]any)["attempts"].(float64) != 1 || deliveries[0].(map[string]any)["last_status"].(float64) != 500 {
			t.Fatalf("after a failed attempt: %v", deliveries)
		}
		e.Advance("4s")
		if n := e.hook.count(); n != 0 {
			t.Errorf("retried before the backoff: %d", n)
		}
		e.Advance("7s")
		e.Advance("15s")
		got := e.hook.find(standing.WebhookAccountRestricted, "restriction_id", rst["id"].(string))
		if len(got) != 1 {
			t.Fatalf("not delivered after the retries; deliveries %s", e.API("GET", "/v1/webhooks/"+ep+"/deliveries", nil).Body)
		}
		d := e.MustAPI("GET", "/v1/webhooks/"+ep+"/deliveries", nil, 200)["deliveries"].([]any)[0].(map[string]any)
		if d["state"] != "delivered" || d["attempts"].(float64) != 3 || d["message_id"] != got[0].ID {
			t.Errorf("delivery = %v", d)
		}
		wantNoPersonalData(t, got[0], email)

		// Rotation: both secrets sign until the overlap ends.
		old := e.hook.secret()
		rot := e.MustAPI("POST", "/v1/webhooks/"+ep+"/rotate", map[string]any{"overlap": "1h"}, 200)
		fresh := rot["secret"].(string)
		if fresh == old || rot["previous_secret_expires_at"] == nil {
			t.Fatalf("rotate = %v", rot)
		}
		e.MustAPI("POST", "/v1/restrictions/"+rst["id"].(string)+"/lift", map[string]any{"note": "documents fine"}, 200)
		e.RunJobs()
		lifted := e.hook.find(standing.WebhookRestrictionLifted, "restriction_id", rst["id"].(string))
		if len(lifted) != 1 {
			t.Fatal("no restriction.lifted webhook")
		}
		sigs := strings.Fields(lifted[0].Headers.Get(webhook.HeaderSignature))
		if len(sigs) != 2 {
			t.Errorf("during the overlap: signatures %v, want two", sigs)
		}
		for _, s := range []string{old, fresh} {
			if err := webhook.Verify(s, lifted[0].Headers, lifted[0].Body, time.Now(), 0); err != nil {
				t.Errorf("a secret of the rotation does not verify: %v", err)
			}
		}
		e.hook.setSecrets(fresh)
		e.Advance("2h")
		r2 := e.MustAPI("POST", "/v1/accounts/"+buyer+"/restrictions", map[string]any{"reason_code": "buyer_complaints"}, 201)
		e.RunJobs()
		again := e.hook.find(standing.WebhookAccountRestricted, "restriction_id", r2["id"].(string))
		if len(again) != 1 || len(strings.Fields(again[0].Headers.Get(webhook.HeaderSignature))) != 1 {
			t.Errorf("after the overlap: %v", again)
		}
		if webhook.Verify(old, again[0].Headers, again[0].Body, time.Now(), 0) == nil {
			t.Error("the old secret still signs after the overlap")
		}

		// Disabled: nothing is delivered; a 410 Gone disables the endpoint by itself.
		e.MustAPI("PATCH", "/v1/webhooks/"+ep, map[string]any{"enabled": false}, 200)
		before := e.hook.count()
		e.MustAPI("POST", "/v1/accounts/"+buyer+"/restrictions", map[string]any{"reason_code": "dispute_abuse"}, 201)
		e.RunJobs()
		if e.hook.count() != before {
			t.Error("a disabled endpoint got a webhook")
		}
		e.MustAPI("PATCH", "/v1/webhooks/"+ep, map[string]any{"enabled": true}, 200)
		e.hook.answer(http.StatusGone)
		e.MustAPI("POST", "/v1/accounts/"+buyer+"/restrictions", map[string]any{"reason_code": "payment_verification"}, 201)
		e.RunJobs()
		epNow := e.MustAPI("GET", "/v1/webhooks/"+ep, nil, 200)
		if epNow["enabled"] != false || !strings.Contains(epNow["disabled_reason"].(string), "410") {
			t.Errorf("after 410: %v", epNow)
		}
		failed := e.MustAPI("GET", "/v1/webhooks/"+ep+"/deliveries?state=failed", nil, 200)["deliveries"].([]any)
		if len(failed) != 1 {
			t.Errorf("failed deliveries = %v", failed)
		}
		if n := e.hook.rejections(); n != 0 {
			t.Errorf("%d webhooks failed signature verification", n)
		}
	})
}

// TestRuleStoppedAtRunTime: a rule whose loop passes the estimate but meets a much longer
// list is stopped at the run-time cost limit; the event is still decided by the other
// rules, the stopped rule is named in the decision's errors, and the batch is not lost.
func TestRuleStoppedAtRunTime(t *testing.T) {
	riskBackends(t, func(t *testing.T, e *riskEnv) {
		e.MustAPI("POST", "/v1/rules", map[string]any{"id": "every_item", "name": "Every item checked",
			"expression": `event.type == "order_placed" && has(event.attributes.items) &&
  event.attributes.items.all(x, x >= 0 && x + 1 > 0 && x * 2 >= 0 && x - 1 < x)`,
			"outcome": map[string]any{"score": 5}}, http.StatusCreated)
		buyer, _ := e.account("buyer")
		seller, _ := e.account("seller")
		order := e.order(buyer, seller, nil)
		items := make([]int, 7000) // within the attributes' size limit, far past the run-time cost
		res := e.MustAPI("POST", "/v1/events", map[string]any{"events": []any{
			e.event("login_succeeded", buyer, time.Minute, map[string]any{"ip": plainIP}),
			e.event("order_placed", buyer, 0, map[string]any{"ip": vpnIP, "attributes": map[string]any{"items": items}}),
			e.event("order_placed", buyer, 0, map[string]any{"ip": plainIP, "attributes": map[string]any{"items": []int{1, 2}}}),
		}}, http.StatusOK)
		if res["accepted"].(float64) != 3 {
			t.Fatalf("batch = %v", res)
		}
		results := res["results"].([]any)
		stopped := results[1].(map[string]any)["decision"].(map[string]any)
		errs, _ := stopped["errors"].([]any)
		if len(errs) != 1 || errs[0].(map[string]any)["rule_id"] != "every_item" || !strings.Contains(errs[0].(map[string]any)["message"].(string), "stopped") {
			t.Errorf("errors of the long event = %v", stopped["errors"])
		}
		if fired := ruleIDs(stopped, "fired"); slices.Contains(fired, "every_item") || !slices.Contains(fired, "anonymizer_checkout") {
			t.Errorf("the long event fired %v, want anonymizer_checkout and not every_item", fired)
		}
		if _, ok := e.restrictions(buyer)["risk_review"]; !ok {
			t.Error("the other rules did not act on the long event")
		}
		if st, _ := e.orderStatus(order); st != "closed_by_risk" {
			t.Errorf("order = %s, want closed_by_risk", st)
		}
		short := results[2].(map[string]any)["decision"].(map[string]any)
		if !slices.Contains(ruleIDs(short, "fired"), "every_item") || short["errors"] != nil {
			t.Errorf("the short event: fired %v, errors %v", ruleIDs(short, "fired"), short["errors"])
		}
	})
}
