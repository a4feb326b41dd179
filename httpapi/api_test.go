package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"standing"
	"standing/app/apptest"
	"standing/config"
)

func backends(t *testing.T, fn func(t *testing.T, e *apptest.Env)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, apptest.New(t, apptest.Options{})) })
	t.Run("postgres", func(t *testing.T) { fn(t, apptest.New(t, apptest.Options{Postgres: true})) })
}

func TestRestrictCheckLift(t *testing.T) {
	backends(t, func(t *testing.T, e *apptest.Env) {
		id := e.CreateAccount("buyer", "Grace@Example.COM")
		check := func(capability string) map[string]any {
			t.Helper()
			return e.MustAPI("POST", "/v1/check", map[string]any{"account_id": id, "capability": capability}, http.StatusOK)
		}
		if got := check("place_order"); got["allowed"] != true {
			t.Fatalf("before any restriction: %v", got)
		}
		r := e.MustAPI("POST", "/v1/accounts/"+id+"/restrictions", map[string]any{"reason_code": "risk_review", "note": "VPN at checkout"}, http.StatusCreated)
		reason, _ := standing.DefaultPolicy().Reason("risk_review")
		got := check("pay")
		want := map[string]any{"allowed": false, "reason_code": "risk_review", "restriction_id": r["id"],
			"message": standing.RenderUntil(reason.Message, nil), "remedy": reason.Remedy, "appealable": true}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("check pay: %s = %v, want %v", k, got[k], v)
			}
		}
		if got := check("view_orders"); got["allowed"] != true {
			t.Errorf("view_orders under risk_review = %v; a restriction removes only what it names", got)
		}
		acc := e.MustAPI("GET", "/v1/accounts/"+id, nil, http.StatusOK)
		if acc["email"] != "grace@example.com" {
			t.Errorf("email = %v, want it normalised", acc["email"])
		}
		if rs := acc["restrictions"].([]any); len(rs) != 1 || rs[0].(map[string]any)["remedy"] != reason.Remedy {
			t.Errorf("account restrictions = %v", rs)
		}
		if denied := acc["denied"].([]any); len(denied) != 4 {
			t.Errorf("denied = %v", denied)
		}
		if caps := fmt.Sprint(acc["capabilities"]); acc["lifecycle"] != "active" || !strings.Contains(caps, "view_orders") || strings.Contains(caps, "pay") {
			t.Errorf("account lifecycle %v, capabilities left %s", acc["lifecycle"], caps)
		}
		e.MustAPI("POST", "/v1/restrictions/"+r["id"].(string)+"/lift", map[string]any{"note": "documents checked"}, http.StatusOK)
		if got := check("pay"); got["allowed"] != true {
			t.Fatalf("after lift: %v", got)
		}
		// A timed restriction ends by itself when the clock passes its end.
		e.MustAPI("POST", "/v1/accounts/"+id+"/restrictions", map[string]any{"reason_code": "buyer_complaints", "duration": "72h"}, http.StatusCreated)
		if got := check("message"); got["allowed"] != false || got["ends_at"] == nil {
			t.Fatalf("during the timed restriction: %v", got)
		}
		e.Advance("71h59m")
		if got := check("message"); got["allowed"] != false {
			t.Fatalf("a minute before the end: %v", got)
		}
		e.Advance("1m")
		if got := check("message"); got["allowed"] != true {
			t.Fatalf("after the end: %v", got)
		}
		// An end time given as a time, and an actor named in the request, are kept.
		endsAt := e.Clock.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)
		timed := e.MustAPI("POST", "/v1/accounts/"+id+"/restrictions", map[string]any{"reason_code": "risk_review", "ends_at": endsAt, "actor": "analyst:ines"}, http.StatusCreated)
		if got, _ := time.Parse(time.RFC3339, fmt.Sprint(timed["ends_at"])); got.Format(time.RFC3339) != endsAt {
			t.Errorf("ends_at = %v, want %s", timed["ends_at"], endsAt)
		}
		e.MustAPI("POST", "/v1/restrictions/"+timed["id"].(string)+"/lift", map[string]any{"actor": "analyst:jo"}, http.StatusOK)
		tl := e.MustAPI("GET", "/v1/accounts/"+id+"/timeline", nil, http.StatusOK)
		var actions, actors []string
		for _, en := range tl["entries"].([]any) {
			actions = append(actions, en.(map[string]any)["action"].(string))
			actors = append(actors, fmt.Sprint(en.(map[string]any)["actor"]))
		}
		if got, want := strings.Join(actions, ","), "account.created,restriction.added,restriction.lifted,restriction.added,restriction.expired,restriction.added,restriction.lifted"; got != want {
			t.Errorf("timeline = %s, want %s", got, want)
		}
		if got := strings.Join(actors[len(actors)-2:], ","); got != "analyst:ines,analyst:jo" {
			t.Errorf("actors of the last two entries = %s", got)
		}
	})
}

func TestBadInput(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	id := e.CreateAccount("buyer", "hana@example.com")
	checkOnly := e.NewKey("checkout", standing.ScopeCheck)
	long := strings.Repeat("a", 300)
	cases := []struct {
		name, method, path, key string
		body                    any
		status                  int
		code, field             string
	}{
		{"malformed JSON", "POST", "/v1/accounts", e.Key, `{"role": "buyer",`, 400, "malformed", ""},
		{"not an object", "POST", "/v1/check", e.Key, `[1,2]`, 400, "malformed", ""},
		{"empty body", "POST", "/v1/check", e.Key, ``, 400, "malformed", ""},
		{"trailing data", "POST", "/v1/check", e.Key, `{"account_id":"x","capability":"pay"} {}`, 400, "malformed", ""},
		{"unknown field", "POST", "/v1/accounts", e.Key, `{"role":"buyer","email":"a@b.co","nickname":"x"}`, 422, "invalid", "nickname"},
		{"wrong type", "POST", "/v1/accounts", e.Key, `{"role":"buyer","email":42}`, 422, "invalid", "email"},
		{"invalid email", "POST", "/v1/accounts", e.Key, `{"role":"buyer","email":"not-an-email"}`, 422, "invalid", "email"},
		{"too-long email", "POST", "/v1/accounts", e.Key, `{"role":"buyer","email":"` + long + `@example.com"}`, 422, "invalid", "email"},
		{"too-long name", "POST", "/v1/accounts", e.Key, `{"role":"buyer","email":"n@example.com","name":"` + long + `"}`, 422, "invalid", "name"},
		{"bad role", "POST", "/v1/accounts", e.Key, `{"role":"admin","email":"r@example.com"}`, 422, "invalid", "role"},
		{"bad phone", "POST", "/v1/accounts", e.Key, `{"role":"buyer","email":"p@example.com","phone":"12345"}`, 422, "invalid", "phone"},
		{"bad country", "POST", "/v1/accounts", e.Key, `{"role":"buyer","email":"c@example.com","country":"XX"}`, 422, "invalid", "country"},
		{"duplicate email", "POST", "/v1/accounts", e.Key, `{"role":"seller","email":"HANA@example.com"}`, 409, "conflict", "email"},
		{"unknown capability", "POST", "/v1/check", e.Key, `{"account_id":"` + id + `","capability":"fly"}`, 422, "invalid", "capability"},
		{"missing account_id", "POST", "/v1/check", e.Key, `{"capability":"pay"}`, 422, "invalid", "account_id"},
		{"unknown account", "POST", "/v1/check", e.Key, `{"account_id":"acc_nope","capability":"pay"}`, 404, "not_found", ""},
		{"unknown account page", "GET", "/v1/accounts/acc_nope", e.Key, nil, 404, "not_found", ""},
		{"unknown reason", "POST", "/v1/accounts/" + id + "/restrictions", e.Key, `{"reason_code":"bad_vibes"}`, 422, "invalid", "reason_code"},
		{"restrict unknown account", "POST", "/v1/accounts/acc_nope/restrictions", e.Key, `{"reason_code":"risk_review"}`, 404, "not_found", ""},
		{"lift unknown", "POST", "/v1/restrictions/rst_nope/lift", e.Key, `{}`, 404, "not_found", ""},
		{"no key", "POST", "/v1/check", "", `{"account_id":"x","capability":"pay"}`, 401, "unauthorized", ""},
		{"wrong key", "POST", "/v1/check", "sk_wrong", `{"account_id":"x","capability":"pay"}`, 401, "unauthorized", ""},
		{"under-scoped key", "POST", "/v1/accounts/" + id + "/restrictions", checkOnly, `{"reason_code":"risk_review"}`, 403, "forbidden", ""},
		{"batch too big", "POST", "/v1/accounts", e.Key, map[string]any{"accounts": make([]map[string]any, 1001)}, 422, "invalid", "accounts"},
		{"bad timeline limit", "GET", "/v1/accounts/" + id + "/timeline?limit=-3", e.Key, nil, 422, "invalid", "limit"},
		{"unknown route", "GET", "/v1/acounts/" + id, e.Key, nil, 404, "not_found", ""},
		{"unknown route without a key", "POST", "/v1/nothing", "", `{}`, 404, "not_found", ""},
		{"wrong method", "GET", "/v1/check", e.Key, nil, 405, "method_not_allowed", ""},
		{"wrong method with a path value", "DELETE", "/v1/restrictions/rst_nope", e.Key, nil, 405, "method_not_allowed", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.Do(c.method, c.path, c.key, c.body)
			if r.Status != c.status {
				t.Fatalf("status = %d %s, want %d", r.Status, r.Body, c.status)
			}
			if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type = %q, want application/problem+json", ct)
			}
			p := r.JSON()
			if p["code"] != c.code || (c.field != "" && p["field"] != c.field) {
				t.Errorf("problem = %v, want code %q field %q", p, c.code, c.field)
			}
			if d, _ := p["detail"].(string); d == "" || p["type"] == nil || p["title"] == nil || int(p["status"].(float64)) != c.status {
				t.Errorf("problem is missing RFC 9457 members: %v", p)
			}
		})
	}
	if r := e.Do("PUT", "/v1/accounts/"+id+"/restrictions", e.Key, `{}`); r.Header.Get("Allow") != "GET, POST" {
		t.Errorf("405 Allow = %q, want the methods the path has: GET, POST", r.Header.Get("Allow"))
	}
	if r := e.Do("POST", "/v1/check", checkOnly, `{"account_id":"`+id+`","capability":"pay"}`); r.Status != 200 {
		t.Errorf("a check-scoped key cannot check: %d %s", r.Status, r.Body)
	}
	if p := e.Do("POST", "/v1/accounts/"+id+"/restrictions", checkOnly, `{"reason_code":"risk_review"}`).JSON(); !strings.Contains(p["detail"].(string), "restrictions:write") {
		t.Errorf("403 does not name the missing scope: %v", p)
	}
}

func TestBatchImport(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	e.CreateAccount("buyer", "taken@example.com")
	body := map[string]any{"accounts": []map[string]any{
		{"role": "buyer", "email": "one@example.com", "restrictions": []map[string]any{{"reason_code": "risk_review"}}},
		{"role": "buyer", "email": "taken@example.com"},
		{"role": "buyer", "email": "bad"},
		{"role": "seller", "email": "two@example.com", "external_id": "s-2"},
		{"role": "seller", "email": "ONE@example.com"},
	}}
	m := e.MustAPI("POST", "/v1/accounts", body, http.StatusOK)
	if m["created"] != 2.0 || m["failed"] != 3.0 {
		t.Fatalf("batch result = %v", m)
	}
	results := m["results"].([]any)
	wantStatus := []float64{201, 409, 422, 201, 409}
	wantField := []string{"", "accounts[1].email", "accounts[2].email", "", "accounts[4].email"}
	for i, r := range results {
		rm := r.(map[string]any)
		if rm["status"] != wantStatus[i] {
			t.Errorf("item %d status = %v, want %v", i, rm["status"], wantStatus[i])
		}
		if wantField[i] != "" {
			if f := rm["error"].(map[string]any)["field"]; f != wantField[i] {
				t.Errorf("item %d field = %v, want %s", i, f, wantField[i])
			}
		}
	}
	first := results[0].(map[string]any)["account"].(map[string]any)["id"].(string)
	if got := e.MustAPI("POST", "/v1/check", map[string]any{"account_id": first, "capability": "pay"}, 200); got["allowed"] != false {
		t.Errorf("imported restriction not in force: %v", got)
	}
}

func TestHealthAndMetrics(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	if r := e.Do("GET", "/healthz", "", nil); r.Status != 200 {
		t.Fatalf("healthz = %d", r.Status)
	}
	if r := e.Do("GET", "/readyz", "", nil); r.Status != 200 {
		t.Fatalf("readyz = %d %s", r.Status, r.Body)
	}
	id := e.CreateAccount("buyer", "ivy@example.com")
	e.MustAPI("POST", "/v1/accounts/"+id+"/restrictions", map[string]any{"reason_code": "dispute_abuse"}, 201)
	e.MustAPI("POST", "/v1/check", map[string]any{"account_id": id, "capability": "place_order"}, 200)
	e.MustAPI("POST", "/v1/check", map[string]any{"account_id": id, "capability": "login"}, 200)
	r := e.Do("GET", "/metrics", "", nil)
	for _, want := range []string{
		`standing_check_results_total{reason="dispute_abuse"} 1`,
		`standing_check_results_total{reason="allowed"} 1`,
		`standing_http_request_duration_seconds_count{route="POST /v1/check",code="2xx"} 2`,
		`standing_http_request_duration_seconds_bucket{route="POST /v1/accounts",code="2xx",le="+Inf"} 1`,
	} {
		if !strings.Contains(string(r.Body), want) {
			t.Errorf("metrics lack %s:\n%s", want, r.Body)
		}
	}
	e.App.Store.Close()
	if r := e.Do("GET", "/readyz", "", nil); r.Status != 503 {
		t.Fatalf("readyz with the store closed = %d", r.Status)
	}
}

func TestDevRoutesOnlyInDevMode(t *testing.T) {
	dev := apptest.New(t, apptest.Options{})
	if r := dev.Do("POST", "/dev/clock", "", `{"advance":"72h"}`); r.Status != 200 || !strings.Contains(string(r.Body), "72h") {
		t.Fatalf("dev clock = %d %s", r.Status, r.Body)
	}
	if r := dev.Do("POST", "/dev/clock", "", `{"advance":"-1h"}`); r.Status != 422 {
		t.Fatalf("negative advance = %d %s", r.Status, r.Body)
	}
	prod := apptest.New(t, apptest.Options{Configure: func(c *config.Config) { c.Dev = false }})
	if r := prod.Do("POST", "/dev/clock", "", `{"advance":"72h"}`); r.Status != 404 {
		t.Fatalf("without --dev, POST /dev/clock = %d, want 404", r.Status)
	}
	if r := dev.Do("GET", "/dev/mail?format=json", "", nil); r.Status != 200 {
		t.Fatalf("dev mailbox = %d %s", r.Status, r.Body)
	}
	for _, path := range []string{"/dev/mail", "/dev/mail?format=json", "/dev/clock"} {
		if r := prod.Do("GET", path, "", nil); r.Status != 404 {
			t.Errorf("without --dev, GET %s = %d, want 404", path, r.Status)
		}
	}
}
