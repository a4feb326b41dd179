package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"standing/app/apptest"
)

// signedIn signs up a buyer through the API, signs in and returns the account id and the
// session token. The email stays unconfirmed.
func signedIn(t *testing.T, e *apptest.Env, email string) (string, string) {
	t.Helper()
	e.MustAPI("POST", "/v1/signup", map[string]any{"email": email, "password": "a good long phrase", "role": "buyer"}, http.StatusAccepted)
	r := e.MustAPI("POST", "/v1/sessions", map[string]any{"email": email, "password": "a good long phrase"}, http.StatusCreated)
	return r["account"].(map[string]any)["id"].(string), r["token"].(string)
}

// TestChangeProfile: PATCH /v1/me changes the signed-in person's own profile, normalised
// as at account creation, and answers as GET /v1/me; a field left out stays, "" clears
// it; the new phone links the account to another with that phone; bad input names its
// field; without a session it is 401.
func TestChangeProfile(t *testing.T) { backends(t, testChangeProfile) }

func testChangeProfile(t *testing.T, e *apptest.Env) {
	twin := e.MustAPI("POST", "/v1/accounts", map[string]any{"role": "buyer", "email": "twin@example.com", "lifecycle": "active",
		"phone": "+49 151 5550 0002"}, http.StatusCreated)["id"].(string)
	// The risk engine records an account's own details at its first event.
	e.MustAPI("POST", "/v1/events", map[string]any{"type": "login_succeeded", "account_id": twin, "ip": "198.51.100.1"}, http.StatusOK)
	id, token := signedIn(t, e, "ana@example.com")

	r := e.Do("PATCH", "/v1/me", token, map[string]any{"name": "  Ana Lima ", "phone": "+49 (151) 5550-0002", "country": "pt"})
	if r.Status != http.StatusOK {
		t.Fatalf("PATCH /v1/me = %d %s", r.Status, r.Body)
	}
	got := r.JSON()
	if got["id"] != id || got["name"] != "Ana Lima" || got["phone"] != "+4915155500002" || got["country"] != "PT" || got["lifecycle"] != "unverified" {
		t.Fatalf("PATCH /v1/me answered %v", got)
	}
	if _, ok := got["capabilities"]; !ok {
		t.Errorf("the answer is not the account as GET /v1/me shows it: %v", got)
	}
	if me := e.Do("GET", "/v1/me", token, nil).JSON(); me["name"] != "Ana Lima" || me["phone"] != "+4915155500002" {
		t.Errorf("GET /v1/me after the change = %v", me)
	}

	links := e.API("GET", "/v1/accounts/"+id+"/links", nil)
	if !strings.Contains(string(links.Body), twin) || !strings.Contains(string(links.Body), `"kind":"phone"`) {
		t.Errorf("links after the new phone = %d %s", links.Status, links.Body)
	}
	timeline := e.API("GET", "/v1/accounts/"+id+"/timeline", nil)
	if !strings.Contains(string(timeline.Body), `"action":"account.profile_changed"`) {
		t.Errorf("timeline = %s", timeline.Body)
	}

	r = e.Do("PATCH", "/v1/me", token, map[string]any{"country": ""})
	if got := r.JSON(); r.Status != http.StatusOK || got["country"] != nil || got["name"] != "Ana Lima" || got["phone"] != "+4915155500002" {
		t.Errorf("clearing the country = %d %v", r.Status, got)
	}

	for _, tc := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"phone": "0151 5550 0003"}, "phone"},
		{map[string]any{"phone": "+49 151 call me"}, "phone"},
		{map[string]any{"country": "Germany"}, "country"},
		{map[string]any{"name": strings.Repeat("n", 201)}, "name"},
	} {
		r := e.Do("PATCH", "/v1/me", token, tc.body)
		p := r.JSON()
		if r.Status != http.StatusUnprocessableEntity || p["field"] != tc.field || !strings.Contains(fmt.Sprint(p["detail"]), tc.field) {
			t.Errorf("PATCH /v1/me %v = %d %s, want 422 naming %s", tc.body, r.Status, r.Body, tc.field)
		}
	}
	if r := e.Do("PATCH", "/v1/me", token, map[string]any{"email": "other@example.com"}); r.Status != http.StatusUnprocessableEntity || r.JSON()["field"] != "email" {
		t.Errorf("changing the email through PATCH /v1/me = %d %s, want 422 naming email", r.Status, r.Body)
	}
	if me := e.Do("GET", "/v1/me", token, nil).JSON(); me["phone"] != "+4915155500002" || me["email"] != "ana@example.com" {
		t.Errorf("refused changes changed the account: %v", me)
	}

	for _, tok := range []string{"", "ss_unknown"} {
		if r := e.Do("PATCH", "/v1/me", tok, map[string]any{"name": "Mallory"}); r.Status != http.StatusUnauthorized {
			t.Errorf("PATCH /v1/me with token %q = %d %s, want 401", tok, r.Status, r.Body)
		}
	}
}

// TestChangeProfileWhileRestricted: email_unverified keeps change_profile, so a person
// whose email deadline passed still changes their profile; duplicate_identity removes
// it, and the answer is 403 with the restriction's message.
func TestChangeProfileWhileRestricted(t *testing.T) { backends(t, testChangeProfileWhileRestricted) }

func testChangeProfileWhileRestricted(t *testing.T, e *apptest.Env) {
	id, token := signedIn(t, e, "late@example.com")
	e.Advance("72h")
	me := e.Do("GET", "/v1/me", token, nil).JSON()
	if rs := fmt.Sprint(me["restrictions"]); !strings.Contains(rs, "email_unverified") {
		t.Fatalf("the verification deadline passed without email_unverified: %v", me)
	}
	r := e.Do("PATCH", "/v1/me", token, map[string]any{"name": "Late Larry", "phone": "+44 20 7946 0958"})
	if r.Status != http.StatusOK || r.JSON()["name"] != "Late Larry" {
		t.Fatalf("PATCH /v1/me under email_unverified = %d %s, want 200", r.Status, r.Body)
	}

	dup := e.MustAPI("POST", "/v1/accounts/"+id+"/restrictions", map[string]any{"reason_code": "duplicate_identity"}, http.StatusCreated)
	r = e.Do("PATCH", "/v1/me", token, map[string]any{"name": "Someone Else"})
	if r.Status != http.StatusForbidden || !strings.Contains(fmt.Sprint(r.JSON()["detail"]), dup["message"].(string)) {
		t.Fatalf("PATCH /v1/me under duplicate_identity = %d %s, want 403 with %q", r.Status, r.Body, dup["message"])
	}
	if me := e.Do("GET", "/v1/me", token, nil).JSON(); me["name"] != "Late Larry" {
		t.Errorf("a refused change changed the name: %v", me["name"])
	}
}
