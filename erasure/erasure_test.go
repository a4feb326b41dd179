package erasure_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"standing"
	"standing/app/apptest"
	"standing/config"
	"standing/sqlstore"
)

func backends(t *testing.T, fn func(t *testing.T, e *apptest.Env)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, apptest.New(t, apptest.Options{})) })
	t.Run("postgres", func(t *testing.T) { fn(t, apptest.New(t, apptest.Options{Postgres: true})) })
}

func request(e *apptest.Env, id, email string, forfeit bool) apptest.Response {
	return e.API("POST", "/v1/accounts/"+id+"/erasure", map[string]any{"confirm_email": email, "phrase": "Deactivate my account",
		"reason": "I no longer use this account", "forfeit_wallet": forfeit})
}

func TestPreconditions(t *testing.T) {
	backends(t, func(t *testing.T, e *apptest.Env) {
		buyer := e.CreateAccount("buyer", "leaving@example.com")
		seller := e.CreateAccount("seller", "shop@example.com")
		order := e.MustAPI("POST", "/v1/orders", map[string]any{"buyer_id": buyer, "seller_id": seller, "amount": 1999, "currency": "EUR", "status": "paid"}, http.StatusCreated)
		oid := order["id"].(string)
		// Each failing precondition blocks with its own message.
		r := request(e, buyer, "leaving@example.com", false)
		if r.Status != http.StatusConflict || r.JSON()["field"] != "orders" || !strings.Contains(r.JSON()["detail"].(string), "on their way") {
			t.Fatalf("with a paid order = %d %s", r.Status, r.Body)
		}
		e.MustAPI("POST", "/v1/disputes", map[string]any{"order_id": oid, "reason": "not_received"}, http.StatusCreated)
		e.MustAPI("PATCH", "/v1/orders/"+oid, map[string]any{"status": "shipped"}, http.StatusOK)
		e.MustAPI("PATCH", "/v1/orders/"+oid, map[string]any{"status": "completed"}, http.StatusOK)
		r = request(e, buyer, "leaving@example.com", false)
		if r.Status != http.StatusConflict || r.JSON()["field"] != "disputes" {
			t.Fatalf("with an open dispute = %d %s", r.Status, r.Body)
		}
		disputes := e.MustAPI("GET", "/v1/accounts/"+buyer+"/orders", nil, 200)
		_ = disputes
		d := firstDispute(t, e, buyer)
		e.MustAPI("PATCH", "/v1/disputes/"+d, map[string]any{"status": "resolved", "outcome": "refunded"}, http.StatusOK)
		e.MustAPI("POST", "/v1/accounts/"+buyer+"/wallet", map[string]any{"currency": "EUR", "balance": 1250}, http.StatusOK)
		r = request(e, buyer, "leaving@example.com", false)
		if r.Status != http.StatusConflict || r.JSON()["field"] != "forfeit_wallet" || !strings.Contains(r.JSON()["detail"].(string), "EUR 12.50") {
			t.Fatalf("with money in the wallet = %d %s", r.Status, r.Body)
		}
		for _, bad := range []map[string]any{
			{"confirm_email": "other@example.com", "phrase": "Deactivate my account", "reason": "Other", "forfeit_wallet": true},
			{"confirm_email": "leaving@example.com", "phrase": "Deactivate my acount", "reason": "Other", "forfeit_wallet": true},
			{"confirm_email": "leaving@example.com", "phrase": "Deactivate my account", "reason": "because", "forfeit_wallet": true},
		} {
			if r := e.API("POST", "/v1/accounts/"+buyer+"/erasure", bad); r.Status != 422 {
				t.Errorf("request %v = %d %s", bad, r.Status, r.Body)
			}
		}
		// The forfeiture tick lets a positive balance through; the certificate records it.
		r = request(e, buyer, "leaving@example.com", true)
		if r.Status != http.StatusAccepted {
			t.Fatalf("with the forfeiture = %d %s", r.Status, r.Body)
		}
		var er standing.Erasure
		r.Decode(t, &er)
		if len(er.Forfeited) != 1 || er.Forfeited[0].Amount != 1250 {
			t.Fatalf("forfeited = %+v", er.Forfeited)
		}
		e.Advance("24h")
		got := e.MustAPI("GET", "/v1/erasures/"+er.ID, nil, 200)
		cert := got["certificate"].(map[string]any)
		if f := cert["forfeited"].([]any); len(f) != 1 || f[0].(map[string]any)["amount"] != 1250.0 {
			t.Fatalf("certificate forfeited = %v", cert["forfeited"])
		}
	})
}

// TestDebtIsNotForfeited: a negative wallet balance is money the person owes. The
// preconditions say so with the right sign, offer nothing to give up, and the forfeit tick
// does not let the deletion through until the debt is settled.
func TestDebtIsNotForfeited(t *testing.T) {
	backends(t, func(t *testing.T, e *apptest.Env) {
		buyer := e.CreateAccount("buyer", "owes@example.com")
		e.MustAPI("POST", "/v1/accounts/"+buyer+"/wallet", map[string]any{"currency": "EUR", "balance": -50}, http.StatusOK)
		pre, forfeitable, err := e.App.Erasure.Preconditions(context.Background(), buyer)
		if err != nil {
			t.Fatal(err)
		}
		if len(forfeitable) != 0 {
			t.Errorf("a debt is offered to give up: %+v", forfeitable)
		}
		for _, c := range pre {
			switch c.Key {
			case "wallet":
				if !c.OK {
					t.Errorf("wallet precondition = %+v, want OK: nothing to give up", c)
				}
			case "debt":
				if c.OK || !strings.Contains(c.Message, "you owe the marketplace EUR 0.50") {
					t.Errorf("debt precondition = %+v", c)
				}
			}
		}
		for _, forfeit := range []bool{false, true} {
			r := request(e, buyer, "owes@example.com", forfeit)
			detail, _ := r.JSON()["detail"].(string)
			if r.Status != http.StatusConflict || r.JSON()["field"] != "debt" || !strings.Contains(detail, "EUR 0.50") || strings.Contains(detail, "give it up") {
				t.Fatalf("forfeit %v with a debt = %d %s", forfeit, r.Status, r.Body)
			}
		}
		// A credit in one currency and a debt in another: the credit may be given up, the
		// debt must still be settled.
		e.MustAPI("POST", "/v1/accounts/"+buyer+"/wallet", map[string]any{"currency": "USD", "balance": 300}, http.StatusOK)
		if r := request(e, buyer, "owes@example.com", true); r.Status != http.StatusConflict || r.JSON()["field"] != "debt" {
			t.Fatalf("credit and debt = %d %s", r.Status, r.Body)
		}
		e.MustAPI("POST", "/v1/accounts/"+buyer+"/wallet", map[string]any{"currency": "EUR", "balance": 0}, http.StatusOK)
		r := request(e, buyer, "owes@example.com", true)
		if r.Status != http.StatusAccepted {
			t.Fatalf("once settled = %d %s", r.Status, r.Body)
		}
		var er standing.Erasure
		r.Decode(t, &er)
		if len(er.Forfeited) != 1 || er.Forfeited[0] != (standing.Money{Currency: "USD", Amount: 300}) {
			t.Fatalf("forfeited = %+v, want the USD credit only", er.Forfeited)
		}
	})
}

func firstDispute(t *testing.T, e *apptest.Env, account string) string {
	t.Helper()
	ds, err := e.App.Store.Disputes(context.Background(), account, 10)
	if err != nil || len(ds) == 0 {
		t.Fatalf("disputes of %s: %v %v", account, ds, err)
	}
	return ds[0].ID
}

func TestRestoreWithinGraceOnly(t *testing.T) {
	backends(t, func(t *testing.T, e *apptest.Env) {
		id := e.CreateAccount("buyer", "oops@example.com")
		e.MustAPI("POST", "/v1/accounts/"+id+"/erasure", map[string]any{"confirm_email": "oops@example.com", "phrase": "deactivate  MY account", "reason": "Other"}, http.StatusAccepted)
		if got := e.MustAPI("POST", "/v1/check", map[string]any{"account_id": id, "capability": "login"}, 200); got["allowed"] != false || got["reason_code"] != "self_deleted" {
			t.Fatalf("during the grace period: %v", got)
		}
		if r := request(e, id, "oops@example.com", false); r.Status != http.StatusConflict {
			t.Fatalf("a second request = %d", r.Status)
		}
		e.Advance("23h")
		restored := e.MustAPI("DELETE", "/v1/accounts/"+id+"/erasure", nil, http.StatusOK)
		if restored["state"] != "cancelled" {
			t.Fatalf("restore = %v", restored)
		}
		acc := e.MustAPI("GET", "/v1/accounts/"+id, nil, 200)
		if acc["lifecycle"] != "active" || len(acc["restrictions"].([]any)) != 0 {
			t.Fatalf("after restore: %v", acc)
		}
		e.Advance("2h")
		if acc := e.MustAPI("GET", "/v1/accounts/"+id, nil, 200); acc["lifecycle"] != "active" || acc["email"] != "oops@example.com" {
			t.Fatalf("a restored account was erased anyway: %v", acc)
		}
		// Ask again and let the grace pass: afterwards the account is gone for good.
		e.MustAPI("POST", "/v1/accounts/"+id+"/erasure", map[string]any{"confirm_email": "oops@example.com", "phrase": "Deactivate my account", "reason": "Other"}, http.StatusAccepted)
		e.Advance("24h")
		r := e.API("DELETE", "/v1/accounts/"+id+"/erasure", nil)
		if r.Status != http.StatusConflict || !strings.Contains(r.JSON()["detail"].(string), "gone for good") {
			t.Fatalf("restore after the grace = %d %s", r.Status, r.Body)
		}
		// The email can sign up again.
		e.MustAPI("POST", "/v1/accounts", map[string]any{"role": "buyer", "email": "oops@example.com"}, http.StatusCreated)
	})
}

// TestDenyListAfterFraud: an account closed for fraud leaves keyed hashes of its identity
// details behind; a new account with the same phone is flagged, while the erased email
// signs up again freely.
func TestDenyListAfterFraud(t *testing.T) {
	backends(t, func(t *testing.T, e *apptest.Env) {
		old := e.CreateAccount("buyer", "fraudster@example.com")
		e.MustAPI("POST", "/v1/events", map[string]any{"id": "evt-fr-1", "type": "profile_changed", "account_id": old,
			"ip": "192.0.2.10", "attributes": map[string]any{"phone": "+49 151 2345 6789", "card_fingerprint": "fp_7f3a9c1e55b2"}}, http.StatusOK)
		e.MustAPI("POST", "/v1/accounts/"+old+"/restrictions", map[string]any{"reason_code": "fraud_confirmed"}, http.StatusCreated)
		er := e.MustAPI("POST", "/v1/accounts/"+old+"/erasure", map[string]any{"confirm_email": "fraudster@example.com", "phrase": "Deactivate my account", "reason": "Other"}, http.StatusAccepted)
		e.Advance("24h")
		cert := e.MustAPI("GET", "/v1/erasures/"+er["id"].(string), nil, 200)["certificate"].(map[string]any)
		kept := fmt.Sprint(cert["kept"])
		if !strings.Contains(kept, "deny list") || !strings.Contains(kept, "fraud_confirmed") {
			t.Fatalf("the certificate does not record the deny list: %s", kept)
		}
		newcomer := e.CreateAccount("buyer", "fresh-start@example.com")
		e.MustAPI("POST", "/v1/events", map[string]any{"id": "evt-fr-2", "type": "signup", "account_id": newcomer,
			"ip": "192.0.2.11", "attributes": map[string]any{"phone": "+49 1512 345 6789"}}, http.StatusOK)
		links := e.MustAPI("GET", "/v1/accounts/"+newcomer+"/links", nil, 200)
		if links["deny_list_hits"] != 1.0 {
			t.Fatalf("a new account with the fraudster's phone = %v", links)
		}
		// The email itself is free again.
		e.MustAPI("POST", "/v1/accounts", map[string]any{"role": "buyer", "email": "fraudster@example.com"}, http.StatusCreated)
	})
}

// TestWalletPreconditionLinks: the wallet precondition points at the forfeit tick on the
// deletion page by default, and both money preconditions at the marketplace's wallet page
// when the policy names one.
func TestWalletPreconditionLinks(t *testing.T) {
	fixURLs := func(e *apptest.Env, id string) map[string]string {
		t.Helper()
		pre, _, err := e.App.Erasure.Preconditions(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, c := range pre {
			out[c.Key] = c.FixURL
		}
		return out
	}
	e := apptest.New(t, apptest.Options{})
	buyer := e.CreateAccount("buyer", "links@example.com")
	if got := fixURLs(e, buyer); got["wallet"] != "#forfeit" || got["debt"] != "" || got["orders"] != "/orders" {
		t.Fatalf("default fix links = %v", got)
	}
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(policy, []byte("deletion:\n  wallet_url: https://shop.example/wallet\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e = apptest.New(t, apptest.Options{Configure: func(c *config.Config) { c.PolicyFile = policy }})
	buyer = e.CreateAccount("buyer", "links@example.com")
	if got := fixURLs(e, buyer); got["wallet"] != "https://shop.example/wallet" || got["debt"] != "https://shop.example/wallet" {
		t.Fatalf("fix links with a wallet_url = %v", got)
	}
	if err := os.WriteFile(policy, []byte("deletion:\n  wallet_url: javascript:alert(1)\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := config.LoadPolicy(policy); err == nil || !strings.Contains(err.Error(), "deletion.wallet_url") {
		t.Fatalf("a javascript: wallet_url = %v, want an error naming deletion.wallet_url", err)
	}
}

// TestErasureFindsEveryEvent: an erasure deletes all of the account's events, those the
// by-account lookup of events holds already and the latest, which on SQLite are only in
// the store's memory until it writes them there in bulk (sqlstore/eventindex.go); the
// certificate counts them all, and another account's events stay, found both ways.
func TestErasureFindsEveryEvent(t *testing.T) {
	backends(t, func(t *testing.T, e *apptest.Env) {
		ctx := context.Background()
		buyer := e.CreateAccount("buyer", "events@example.com")
		other := e.CreateAccount("buyer", "stays@example.com")
		post := func(id, account string) {
			e.MustAPI("POST", "/v1/events", map[string]any{"id": id, "type": "page_view", "account_id": account, "ip": "192.0.2.1"}, http.StatusOK)
		}
		post("ev-b1", buyer)
		post("ev-b2", buyer)
		post("ev-o1", other)
		if err := e.App.Store.FlushEventIndex(ctx); err != nil {
			t.Fatal(err)
		}
		post("ev-b3", buyer) // after the flush: in the tail on SQLite
		post("ev-o2", other)
		r := request(e, buyer, "events@example.com", false)
		if r.Status != http.StatusAccepted {
			t.Fatalf("request = %d %s", r.Status, r.Body)
		}
		var er standing.Erasure
		r.Decode(t, &er)
		e.Advance("24h")
		got := e.MustAPI("GET", "/v1/erasures/"+er.ID, nil, http.StatusOK)
		var events float64
		for _, st := range got["certificate"].(map[string]any)["stores"].([]any) {
			for what, n := range st.(map[string]any)["removed"].(map[string]any) {
				if what == "events" {
					events += n.(float64)
				}
				if what == "" {
					t.Errorf("the certificate counts %v of something unnamed in %v", n, st)
				}
			}
		}
		if events != 3 {
			t.Fatalf("the certificate counts %v events removed; want 3: %v", events, got["certificate"])
		}
		for _, id := range []string{"ev-b1", "ev-b3"} {
			if r := e.API("GET", "/v1/events/"+id, nil); r.Status != http.StatusNotFound {
				t.Errorf("event %s of the erased account = %d, want 404", id, r.Status)
			}
		}
		n, _, err := e.App.Store.CountEvents(ctx, other, "", "page_view", time.Time{})
		if err != nil || n != 2 {
			t.Fatalf("the other account's events = %d, %v; want 2", n, err)
		}
		if e.App.Store.Dialect() == sqlstore.SQLite {
			db, err := sql.Open("sqlite", filepath.Join(e.App.Config.DataDir, "standing.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var left int
			if err := db.QueryRow("SELECT COUNT(*) FROM event_segments WHERE account_id = ?", buyer).Scan(&left); err != nil || left != 0 {
				t.Fatalf("event_segments of the erased account = %d, %v; want 0", left, err)
			}
		}
	})
}
