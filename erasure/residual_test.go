package erasure_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"standing/app/apptest"
	"standing/evidence/evidencetest"
)

// person fills one account with every kind of data Standing keeps, each field carrying the
// person's marker, and returns the account id and the order's tracking number.
func person(t *testing.T, e *apptest.Env, marker, ip, seller string) (string, string) {
	t.Helper()
	email := marker + "@example.com"
	acc := e.MustAPI("POST", "/v1/accounts", map[string]any{"role": "buyer", "email": email, "lifecycle": "active",
		"name": marker + " Person", "phone": "+49 151 " + phoneOf(marker), "external_id": "ext-" + marker}, http.StatusCreated)
	id := acc["id"].(string)
	// A password through the reset mail, then a session.
	e.MustAPI("POST", "/v1/password-reset", map[string]any{"email": email}, http.StatusAccepted)
	ms, _ := e.App.Store.Mails(context.Background(), email, 1)
	tok := regexp.MustCompile(`token=(\S+)`).FindStringSubmatch(ms[0].Text)[1]
	e.MustAPI("POST", "/v1/password-reset", map[string]any{"token": tok, "password": "a long " + marker + " phrase"}, http.StatusOK)
	token := e.MustAPI("POST", "/v1/sessions", map[string]any{"email": email, "password": "a long " + marker + " phrase"}, http.StatusCreated)["token"].(string)
	// The person changes their profile: the old and new values go to the audit entry.
	if r := e.Do("PATCH", "/v1/me", token, map[string]any{"name": marker + " Renamed", "phone": "+49 151 " + newPhoneOf(marker), "country": "PT"}); r.Status != http.StatusOK {
		t.Fatalf("PATCH /v1/me = %d %s", r.Status, r.Body)
	}
	// The marketplace's ledger and events.
	tracking := "TRK" + strings.ToUpper(marker[len(marker)-1:]) + "123"
	o := e.MustAPI("POST", "/v1/orders", map[string]any{"buyer_id": id, "seller_id": seller, "amount": 500, "currency": "EUR", "status": "paid",
		"recipient_name": marker + " Recipient", "tracking_number": tracking,
		"shipping_address": map[string]any{"line1": "1 " + marker + " Street", "city": "Berlin", "country": "DE"}}, http.StatusCreated)
	oid := o["id"].(string)
	e.MustAPI("POST", "/v1/disputes", map[string]any{"order_id": oid, "reason": "not_received"}, http.StatusCreated)
	e.MustAPI("PATCH", "/v1/orders/"+oid, map[string]any{"status": "shipped"}, http.StatusOK)
	e.MustAPI("PATCH", "/v1/orders/"+oid, map[string]any{"status": "completed"}, http.StatusOK)
	ds, _ := e.App.Store.Disputes(context.Background(), id, 10)
	e.MustAPI("PATCH", "/v1/disputes/"+ds[0].ID, map[string]any{"status": "resolved", "outcome": "refunded"}, http.StatusOK)
	e.MustAPI("POST", "/v1/events", map[string]any{"id": "evt-" + marker, "type": "login_succeeded", "account_id": id, "ip": ip,
		"device_id": "dev-" + marker, "attributes": map[string]any{"name": marker + " Person", "phone": "+49 151 " + phoneOf(marker), "note": marker}}, http.StatusOK)
	// A restriction with a note, and an appeal with a statement, evidence and a message.
	r := e.MustAPI("POST", "/v1/accounts/"+id+"/restrictions", map[string]any{"reason_code": "buyer_complaints", "note": "called " + marker}, http.StatusCreated)
	a, err := e.App.Appeals.Submit(context.Background(), newAppeal(id, r["id"].(string), "my statement "+marker))
	if err != nil {
		t.Fatal(err)
	}
	ev, err := e.App.Appeals.Upload(context.Background(), id, "other", "file_other", marker+".pdf", bytes.NewReader(evidencetest.PDF("Statement of "+marker)))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.App.Appeals.Reply(context.Background(), id, a.ID, "more from "+marker, []string{ev.ID}); err != nil {
		t.Fatal(err)
	}
	e.MustAPI("POST", "/v1/restrictions/"+r["id"].(string)+"/lift", map[string]any{"note": "lifted for " + marker}, http.StatusOK)
	return id, tracking
}

func phoneOf(marker string) string {
	if strings.HasSuffix(marker, "a") {
		return "9990 0011"
	}
	return "9990 0022"
}

// newPhoneOf is the phone the person changes to.
func newPhoneOf(marker string) string {
	if strings.HasSuffix(marker, "a") {
		return "9990 0013"
	}
	return "9990 0024"
}

// TestNoResidualData: after an erasure, a scan of every text column of every table and of
// every stored file finds no marker of the erased account, while the other account's
// markers are all still there.
func TestNoResidualData(t *testing.T) { backends(t, testNoResidualData) }

func testNoResidualData(t *testing.T, e *apptest.Env) {
	received := 0
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { received++ }))
	defer hook.Close()
	e.MustAPI("POST", "/v1/webhooks", map[string]any{"url": hook.URL}, http.StatusCreated)
	seller := e.CreateAccount("seller", "seller@example.com")
	erased, tracking := person(t, e, "zqxmarka", "203.0.113.77", seller)
	person(t, e, "zqxmarkb", "198.51.100.23", seller)
	// A seller with the seller area's free text: a violation's evidence and note, a fine, a
	// fee, and the notices and mails they bring.
	shop := e.MustAPI("POST", "/v1/accounts", map[string]any{"role": "seller", "email": "zqxmarkc@example.com", "lifecycle": "active",
		"name": "zqxmarkc Shop"}, http.StatusCreated)["id"].(string)
	e.MustAPI("POST", "/v1/violations", map[string]any{"seller_id": shop, "type": "late_shipment", "case_id": "C-zqxmarkc",
		"evidence": "ticket of zqxmarkc", "note": "zqxmarkc shipped late"}, http.StatusCreated)
	e.MustAPI("POST", "/v1/sellers/"+shop+"/fines", map[string]any{"amount": 500, "currency": "EUR", "reason": "zqxmarkc counterfeit", "case_id": "F-zqxmarkc"}, http.StatusCreated)
	e.MustAPI("POST", "/v1/sellers/"+shop+"/fees", map[string]any{"description": "Fee of zqxmarkc's shop", "amount": 900, "currency": "EUR"}, http.StatusCreated)
	e.RunJobs()

	gone := []string{"zqxmarka", "203.0.113.77", "99900011", "9990 0011", "99900013", "zqxmarkc"}
	kept := []string{"zqxmarkb", "198.51.100.23", "99900024"}
	for _, m := range []string{gone[0], "99900013"} {
		if n := e.Occurrences(m); n == 0 {
			t.Fatalf("%q is nowhere before the erasure; the scan cannot see it", m)
		}
	}
	r := e.MustAPI("POST", "/v1/accounts/"+erased+"/erasure", map[string]any{"confirm_email": "zqxmarka@example.com",
		"phrase": "Deactivate my account", "reason": "Privacy concerns"}, http.StatusAccepted)
	e.MustAPI("POST", "/v1/accounts/"+shop+"/erasure", map[string]any{"confirm_email": "zqxmarkc@example.com",
		"phrase": "Deactivate my account", "reason": "Privacy concerns"}, http.StatusAccepted)
	e.Advance("24h")
	e.MustAPI("POST", "/v1/erasures/"+r["id"].(string)+"/confirmations", map[string]any{"erased": []string{"reviews", "messages"}}, http.StatusOK)
	e.RunJobs()

	for _, m := range gone {
		if n := e.Occurrences(m); n != 0 {
			t.Errorf("%q of the erased account is still in %d places", m, n)
		}
	}
	for _, m := range kept {
		if n := e.Occurrences(m); n == 0 {
			t.Errorf("%q of the other account is gone too", m)
		}
	}
	// The parcel can still be tracked, without personal data.
	tr := e.Do("GET", "/v1/track/"+tracking, "", nil)
	if tr.Status != 200 || tr.JSON()["status"] != "completed" || strings.Contains(string(tr.Body), "zqxmarka") {
		t.Fatalf("tracking after the erasure = %d %s", tr.Status, tr.Body)
	}
	// The audit chain still verifies.
	if _, problem, err := e.App.Store.VerifyAudit(context.Background()); err != nil || problem != nil {
		t.Fatalf("audit chain after the erasure: %+v %v", problem, err)
	}
	cert := e.MustAPI("GET", "/v1/erasures/"+r["id"].(string), nil, 200)
	if cert["state"] != "done" || cert["finished_at"] == nil {
		t.Fatalf("erasure = %v", cert)
	}
	// What is kept of a store is on its certificate, and only on a seller's.
	if kept := fmt.Sprint(cert["certificate"].(map[string]any)["kept"]); strings.Contains(kept, "The store's violations") {
		t.Errorf("a buyer's certificate keeps store records: %s", kept)
	}
	shopErasure, err := e.App.Erasure.Latest(context.Background(), shop)
	if err != nil || shopErasure.Certificate == nil || !strings.Contains(fmt.Sprint(shopErasure.Certificate.Kept), "The store's violations, sanctions, fines and fees") {
		t.Errorf("the seller's certificate does not say what is kept of the store: %+v %v", shopErasure.Certificate, err)
	}
	if received == 0 {
		t.Error("the webhook receiver got nothing; the test did not exercise webhook payloads")
	}
}
