package erasure_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"standing/app/apptest"
)

// TestMarketplaceWebhooksDeadlineAndRetention: the marketplace hears of a scheduled, a
// cancelled and a finished erasure; a confirmation is refused before the erasure ran; an
// erasure whose marketplace does not confirm by the policy's deadline finishes with the
// certificate saying so; mail to the erased account stops; and the anonymised order stays
// trackable until its retention ends, then is deleted.
func TestMarketplaceWebhooksDeadlineAndRetention(t *testing.T) {
	backends(t, func(t *testing.T, e *apptest.Env) {
		sink := &apptest.WebhookSink{}
		srv := httptest.NewServer(sink)
		defer srv.Close()
		e.MustAPI("POST", "/v1/webhooks", map[string]any{"url": srv.URL}, http.StatusCreated)
		const email = "market@example.com"
		id := e.CreateAccount("buyer", email)
		seller := e.CreateAccount("seller", "tracked-shop@example.com")
		o := e.MustAPI("POST", "/v1/orders", map[string]any{"buyer_id": id, "seller_id": seller, "amount": 700, "currency": "EUR",
			"status": "paid", "tracking_number": "TRKMKT1"}, http.StatusCreated)
		e.MustAPI("PATCH", "/v1/orders/"+o["id"].(string), map[string]any{"status": "shipped"}, http.StatusOK)
		e.MustAPI("PATCH", "/v1/orders/"+o["id"].(string), map[string]any{"status": "completed"}, http.StatusOK)
		body := map[string]any{"confirm_email": email, "phrase": "Deactivate my account", "reason": "Other"}

		// Scheduled, then cancelled.
		e.MustAPI("POST", "/v1/accounts/"+id+"/erasure", body, http.StatusAccepted)
		e.RunJobs()
		if n := sink.Count("account.erasure_scheduled"); n != 1 {
			t.Fatalf("%d account.erasure_scheduled webhooks, want 1: %s", n, sink.All())
		}
		e.MustAPI("DELETE", "/v1/accounts/"+id+"/erasure", nil, http.StatusOK)
		e.RunJobs()
		if n := sink.Count("account.erasure_cancelled"); n != 1 {
			t.Fatalf("%d account.erasure_cancelled webhooks, want 1: %s", n, sink.All())
		}

		// Asked again: a confirmation before the erasure ran is refused.
		er := e.MustAPI("POST", "/v1/accounts/"+id+"/erasure", body, http.StatusAccepted)
		eid := er["id"].(string)
		if r := e.API("POST", "/v1/erasures/"+eid+"/confirmations", map[string]any{"erased": []string{"reviews"}}); r.Status != http.StatusConflict ||
			!strings.Contains(r.JSON()["detail"].(string), "has not run yet") {
			t.Fatalf("a confirmation before the erasure = %d %s", r.Status, r.Body)
		}
		if r := e.API("POST", "/v1/erasures/"+eid+"/confirmations", map[string]any{"erased": []string{}}); r.Status != http.StatusUnprocessableEntity || r.JSON()["field"] != "erased" {
			t.Fatalf("a confirmation that erased nothing = %d %s", r.Status, r.Body)
		}
		e.Advance("24h")
		erasedAt := e.Clock.Now()
		if n := sink.Count("account.erased"); n != 1 || !strings.Contains(sink.All(), "/v1/erasures/"+eid+"/confirmations") {
			t.Fatalf("%d account.erased webhooks, want 1 naming where to confirm: %s", n, sink.All())
		}
		if strings.Contains(sink.All(), email) {
			t.Error("a webhook carries the account's email")
		}
		got := e.MustAPI("GET", "/v1/erasures/"+eid, nil, http.StatusOK)
		market := got["certificate"].(map[string]any)["marketplace"].(map[string]any)
		deadline, _ := time.Parse(time.RFC3339Nano, market["deadline_at"].(string))
		if got["state"] != "awaiting_marketplace" || !deadline.Equal(erasedAt.Add(7*24*time.Hour)) {
			t.Fatalf("waiting for the marketplace: state %v, deadline %v, want %v", got["state"], market["deadline_at"], erasedAt.Add(7*24*time.Hour))
		}

		// Mail to the account stops: nothing of it is kept, and nothing new is written.
		e.MustAPI("POST", "/v1/password-reset", map[string]any{"email": email}, http.StatusAccepted)
		if ms, err := e.App.Store.Mails(context.Background(), email, 10); err != nil || len(ms) != 0 {
			t.Fatalf("mails to the erased account: %d %v", len(ms), err)
		}

		// The deadline passes without a confirmation.
		e.Advance("6d")
		if got := e.MustAPI("GET", "/v1/erasures/"+eid, nil, http.StatusOK); got["state"] != "awaiting_marketplace" {
			t.Fatalf("finished before the deadline: %v", got["state"])
		}
		e.Advance("1d")
		got = e.MustAPI("GET", "/v1/erasures/"+eid, nil, http.StatusOK)
		market = got["certificate"].(map[string]any)["marketplace"].(map[string]any)
		if got["state"] != "done" || got["finished_at"] == nil || market["timed_out"] != true || !strings.Contains(market["note"].(string), "did not confirm") {
			t.Fatalf("after the deadline: %v", got)
		}

		// The anonymised order stays trackable until its retention ends.
		tr := e.Do("GET", "/v1/track/TRKMKT1", "", nil)
		if tr.Status != http.StatusOK || tr.JSON()["status"] != "completed" {
			t.Fatalf("tracking after the erasure = %d %s", tr.Status, tr.Body)
		}
		resp, err := http.Get(e.URL + "/track/TRKMKT1")
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "Delivered") || strings.Contains(string(page), "market@") {
			t.Fatalf("the tracking page after the erasure = %d:\n%s", resp.StatusCode, page)
		}
		var until time.Time
		for _, k := range got["certificate"].(map[string]any)["kept"].([]any) {
			if u, ok := k.(map[string]any)["until"].(string); ok {
				until, _ = time.Parse(time.RFC3339Nano, u)
			}
		}
		if want := erasedAt.Add(10 * 365 * 24 * time.Hour); !until.Equal(want) {
			t.Fatalf("kept until %v, want %v", until, want)
		}
		if err := e.Clock.Advance(until.Sub(e.Clock.Now()) - time.Hour); err != nil {
			t.Fatal(err)
		}
		e.RunJobs()
		if tr := e.Do("GET", "/v1/track/TRKMKT1", "", nil); tr.Status != http.StatusOK {
			t.Fatalf("the order went before its retention ended: %d", tr.Status)
		}
		e.Advance("1h")
		if tr := e.Do("GET", "/v1/track/TRKMKT1", "", nil); tr.Status != http.StatusNotFound {
			t.Fatalf("the order outlived its retention: %d %s", tr.Status, tr.Body)
		}
	})
}
