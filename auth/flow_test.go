package auth_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"standing"
	"standing/app/apptest"
)

func backends(t *testing.T, fn func(t *testing.T, e *apptest.Env)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, apptest.New(t, apptest.Options{})) })
	t.Run("postgres", func(t *testing.T) { fn(t, apptest.New(t, apptest.Options{Postgres: true})) })
}

// lastMail returns the newest mail to an address, with its link and code.
func lastMail(t *testing.T, e *apptest.Env, to string) (standing.Mail, string, string) {
	t.Helper()
	ms, err := e.App.Store.Mails(context.Background(), to, 1)
	if err != nil || len(ms) == 0 {
		t.Fatalf("no mail to %s (%v)", to, err)
	}
	m := ms[0]
	link := regexp.MustCompile(`https?://\S+`).FindString(m.Text)
	code := ""
	if c := regexp.MustCompile(`(?m)^\s*(\d{6})\s*$`).FindStringSubmatch(m.Text); c != nil {
		code = c[1]
	}
	return m, link, code
}

func tokenOf(link string) string {
	_, tok, _ := strings.Cut(link, "token=")
	return tok
}

func signUp(t *testing.T, e *apptest.Env, email string) {
	t.Helper()
	e.MustAPI("POST", "/v1/signup", map[string]any{"email": email, "password": "a good long phrase", "role": "buyer"}, http.StatusAccepted)
}

func accountOf(t *testing.T, e *apptest.Env, email string) standing.Account {
	t.Helper()
	a, err := e.App.Store.AccountByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func check(t *testing.T, e *apptest.Env, id, capability string) map[string]any {
	t.Helper()
	return e.MustAPI("POST", "/v1/check", map[string]any{"account_id": id, "capability": capability}, http.StatusOK)
}

func TestVerificationDeadline(t *testing.T) {
	backends(t, func(t *testing.T, e *apptest.Env) {
		signUp(t, e, "late@example.com")
		acc := accountOf(t, e, "late@example.com")
		if acc.Lifecycle != standing.LifecycleUnverified {
			t.Fatalf("lifecycle = %s", acc.Lifecycle)
		}
		first, firstLink, _ := lastMail(t, e, "late@example.com")
		if !strings.Contains(first.Text, "/verify?token=") {
			t.Fatalf("verification mail = %s", first.Text)
		}
		e.Advance("71h59m")
		if got := check(t, e, acc.ID, "place_order"); got["allowed"] != true {
			t.Fatalf("a minute before the deadline: %v", got)
		}
		e.Advance("1m")
		got := check(t, e, acc.ID, "place_order")
		if got["allowed"] != false || got["reason_code"] != "email_unverified" {
			t.Fatalf("at the deadline: %v", got)
		}
		for _, c := range []string{"login", "view_orders", "open_dispute", "change_profile"} {
			if got := check(t, e, acc.ID, c); got["allowed"] != true {
				t.Errorf("%s while email_unverified: %v", c, got)
			}
		}
		// The restriction mail tells the person what happened.
		if m, _, _ := lastMail(t, e, "late@example.com"); m.Kind != "restriction" || !strings.Contains(m.Text, "Reactivate") {
			t.Errorf("restriction mail = %+v", m)
		}
		// "Reactivate" sends a new link; the old one is refused with a clear message.
		if err := e.App.Auth.Resend(context.Background(), acc.ID, "127.0.0.1"); err != nil {
			t.Fatal(err)
		}
		_, newLink, _ := lastMail(t, e, "late@example.com")
		if newLink == firstLink {
			t.Fatal("reactivate sent the old link")
		}
		r := e.Do("POST", "/v1/verify", "", map[string]any{"token": tokenOf(firstLink)})
		if r.Status != http.StatusConflict || !strings.Contains(r.JSON()["detail"].(string), "replaced by a newer one") {
			t.Fatalf("old link = %d %s", r.Status, r.Body)
		}
		e.MustAPI("POST", "/v1/verify", map[string]any{"token": tokenOf(newLink)}, http.StatusOK)
		if got := check(t, e, acc.ID, "place_order"); got["allowed"] != true {
			t.Fatalf("after confirming: %v", got)
		}
		if a := accountOf(t, e, "late@example.com"); a.Lifecycle != standing.LifecycleActive || a.EmailVerifiedAt == nil {
			t.Fatalf("account after confirming = %+v", a)
		}
		r = e.Do("POST", "/v1/verify", "", map[string]any{"token": tokenOf(newLink)})
		if r.Status != http.StatusConflict || !strings.Contains(r.JSON()["detail"].(string), "already used") {
			t.Fatalf("reused link = %d %s", r.Status, r.Body)
		}
		// Confirming first means the deadline passes without effect.
		signUp(t, e, "early@example.com")
		_, _, code := lastMail(t, e, "early@example.com")
		e.MustAPI("POST", "/v1/verify", map[string]any{"email": "early@example.com", "code": code}, http.StatusOK)
		e.Advance("73h")
		if got := check(t, e, accountOf(t, e, "early@example.com").ID, "place_order"); got["allowed"] != true {
			t.Fatalf("a confirmed account was restricted at the deadline: %v", got)
		}
	})
}

func TestCodesAndLinksRefused(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	signUp(t, e, "codes@example.com")
	_, link, code := lastMail(t, e, "codes@example.com")
	signUp(t, e, "slow@example.com")
	_, _, slowCode := lastMail(t, e, "slow@example.com")
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	for i := 1; i <= 4; i++ {
		r := e.Do("POST", "/v1/verify", "", map[string]any{"email": "codes@example.com", "code": wrong})
		if r.Status != http.StatusUnprocessableEntity || r.JSON()["field"] != "code" || !strings.Contains(r.JSON()["detail"].(string), "tries left") {
			t.Fatalf("wrong code %d = %d %s", i, r.Status, r.Body)
		}
	}
	if r := e.Do("POST", "/v1/verify", "", map[string]any{"email": "codes@example.com", "code": wrong}); r.Status != http.StatusTooManyRequests {
		t.Fatalf("fifth wrong code = %d %s", r.Status, r.Body)
	}
	// After the last try even the right code is refused; a new code is needed.
	if r := e.Do("POST", "/v1/verify", "", map[string]any{"email": "codes@example.com", "code": code}); r.Status != http.StatusTooManyRequests {
		t.Fatalf("right code after the tries ran out = %d %s", r.Status, r.Body)
	}
	// Links expire.
	e.Advance("7d")
	r := e.Do("POST", "/v1/verify", "", map[string]any{"token": tokenOf(link)})
	if r.Status != http.StatusGone || !strings.Contains(r.JSON()["detail"].(string), "expired") {
		t.Fatalf("expired link = %d %s", r.Status, r.Body)
	}
	// Codes expire with their link, even the right one.
	r = e.Do("POST", "/v1/verify", "", map[string]any{"email": "slow@example.com", "code": slowCode})
	if r.Status != http.StatusGone || !strings.Contains(r.JSON()["detail"].(string), "expired") {
		t.Fatalf("expired code = %d %s", r.Status, r.Body)
	}
	for _, bad := range []map[string]any{{"token": "not-a-real-token"}, {"email": "codes@example.com", "code": "12ab56"}, {}} {
		if r := e.Do("POST", "/v1/verify", "", bad); r.Status/100 != 4 {
			t.Errorf("verify %v = %d", bad, r.Status)
		}
	}
}

func TestDuplicateSignUpDoesNotReveal(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	signUp(t, e, "taken@example.com")
	a := e.API("POST", "/v1/signup", map[string]any{"email": "TAKEN@example.com", "password": "another long phrase", "role": "seller"})
	b := e.API("POST", "/v1/signup", map[string]any{"email": "fresh@example.com", "password": "another long phrase", "role": "seller"})
	if a.Status != b.Status || a.Status != http.StatusAccepted || a.JSON()["status"] != b.JSON()["status"] {
		t.Fatalf("duplicate sign-up %d %s vs new %d %s", a.Status, a.Body, b.Status, b.Body)
	}
	m, _, _ := lastMail(t, e, "taken@example.com")
	if m.Kind != "signup_existing" || !strings.Contains(m.Text, "/reset") || !strings.Contains(m.Text, "/login") {
		t.Fatalf("the owner was not told how to recover: %+v", m)
	}
	if acc := accountOf(t, e, "taken@example.com"); acc.Role != standing.RoleBuyer {
		t.Fatalf("the existing account changed: %+v", acc)
	}
	for _, bad := range []map[string]any{
		{"email": "x@example.com", "password": strings.Repeat("long ", 40), "role": "buyer"},
		{"email": "x@example.com", "password": "short", "role": "buyer"},
		{"email": "nope", "password": "a good long phrase", "role": "buyer"},
		{"email": "y@example.com", "password": "a good long phrase", "role": "admin"},
	} {
		r := e.API("POST", "/v1/signup", bad)
		if r.Status != http.StatusUnprocessableEntity || r.JSON()["field"] == nil {
			t.Errorf("sign-up %v = %d %s", bad, r.Status, r.Body)
		}
	}
	if _, err := e.App.Store.AccountByEmail(context.Background(), "x@example.com"); standing.ErrorCode(err) != standing.ENOTFOUND {
		t.Errorf("a refused sign-up was half-created: %v", err)
	}
}

func TestSignInFailuresAndLockout(t *testing.T) {
	backends(t, func(t *testing.T, e *apptest.Env) {
		signUp(t, e, "lock@example.com")
		wrong := map[string]any{"email": "lock@example.com", "password": "not the password"}
		unknown := map[string]any{"email": "nobody@example.com", "password": "not the password"}
		r1, r2 := e.API("POST", "/v1/sessions", wrong), e.API("POST", "/v1/sessions", unknown)
		if r1.Status != 401 || r2.Status != 401 || r1.JSON()["detail"] != r2.JSON()["detail"] {
			t.Fatalf("wrong password %d %s vs unknown email %d %s", r1.Status, r1.Body, r2.Status, r2.Body)
		}
		if d := r1.JSON()["detail"].(string); !strings.Contains(d, "Caps Lock") || !strings.Contains(d, "keyboard") {
			t.Fatalf("no hint in %q", d)
		}
		for i := 2; i <= 4; i++ {
			if r := e.API("POST", "/v1/sessions", wrong); r.Status != 401 {
				t.Fatalf("failure %d = %d", i, r.Status)
			}
		}
		r := e.API("POST", "/v1/sessions", wrong)
		if r.Status != http.StatusTooManyRequests || !strings.Contains(r.JSON()["detail"].(string), "until") {
			t.Fatalf("fifth failure = %d %s", r.Status, r.Body)
		}
		right := map[string]any{"email": "lock@example.com", "password": "a good long phrase"}
		if r := e.API("POST", "/v1/sessions", right); r.Status != http.StatusTooManyRequests {
			t.Fatalf("the right password during the lockout = %d", r.Status)
		}
		e.Advance("16m")
		s := e.MustAPI("POST", "/v1/sessions", right, http.StatusCreated)
		token := s["token"].(string)
		me := e.Do("GET", "/v1/me", token, nil)
		if me.Status != 200 || me.JSON()["email"] != "lock@example.com" {
			t.Fatalf("/v1/me = %d %s", me.Status, me.Body)
		}
		// Failures are stored as events the rules can use.
		acc := accountOf(t, e, "lock@example.com")
		n, _, err := e.App.Store.CountEvents(context.Background(), acc.ID, "", standing.EventLoginFailed, e.Clock.Now().Add(-24*60*60*1e9))
		if err != nil || n != 5 {
			t.Fatalf("stored login_failed events = %d, %v; want 5", n, err)
		}
		if r := e.Do("DELETE", "/v1/sessions/current", token, nil); r.Status != http.StatusNoContent {
			t.Fatalf("sign out = %d %s", r.Status, r.Body)
		}
		if r := e.Do("GET", "/v1/me", token, nil); r.Status != 401 {
			t.Fatalf("/v1/me after sign-out = %d", r.Status)
		}
	})
}

func TestPasswordReset(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	signUp(t, e, "reset@example.com")
	s := e.MustAPI("POST", "/v1/sessions", map[string]any{"email": "reset@example.com", "password": "a good long phrase"}, http.StatusCreated)
	old := s["token"].(string)
	e.MustAPI("POST", "/v1/password-reset", map[string]any{"email": "reset@example.com"}, http.StatusAccepted)
	if r := e.API("POST", "/v1/password-reset", map[string]any{"email": "ghost@example.com"}); r.Status != http.StatusAccepted {
		t.Fatalf("reset for an unknown email = %d; must look the same", r.Status)
	}
	m, link, _ := lastMail(t, e, "reset@example.com")
	if m.Kind != "reset" || !strings.Contains(link, "/reset?token=") {
		t.Fatalf("reset mail = %+v", m)
	}
	if r := e.API("POST", "/v1/password-reset", map[string]any{"token": tokenOf(link), "password": "password123"}); r.Status != 422 {
		t.Fatalf("common new password = %d", r.Status)
	}
	e.MustAPI("POST", "/v1/password-reset", map[string]any{"token": tokenOf(link), "password": "a brand new phrase"}, http.StatusOK)
	if r := e.Do("GET", "/v1/me", old, nil); r.Status != 401 {
		t.Fatalf("an old session survived the reset: %d", r.Status)
	}
	if r := e.API("POST", "/v1/password-reset", map[string]any{"token": tokenOf(link), "password": "yet another phrase"}); r.Status != http.StatusConflict {
		t.Fatalf("reused reset link = %d %s", r.Status, r.Body)
	}
	if m, _, _ := lastMail(t, e, "reset@example.com"); m.Kind != "password_changed" {
		t.Fatalf("no notice of the change: %+v", m)
	}
	e.MustAPI("POST", "/v1/sessions", map[string]any{"email": "reset@example.com", "password": "a brand new phrase"}, http.StatusCreated)
	e.Advance("2h")
	e.MustAPI("POST", "/v1/password-reset", map[string]any{"email": "reset@example.com"}, http.StatusAccepted)
	_, link2, _ := lastMail(t, e, "reset@example.com")
	e.Advance("61m")
	if r := e.API("POST", "/v1/password-reset", map[string]any{"token": tokenOf(link2), "password": "late new phrase"}); r.Status != http.StatusGone {
		t.Fatalf("expired reset link = %d %s", r.Status, r.Body)
	}
}

func TestSignInLockoutPerIP(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	limit := standing.DefaultPolicy().SignIn.IPFailures
	for i := 0; i < limit; i++ {
		r := e.API("POST", "/v1/sessions", map[string]any{"email": "guess" + string(rune('a'+i%26)) + "@example.com", "password": "not the password"})
		if r.Status != http.StatusUnauthorized {
			t.Fatalf("failure %d = %d %s", i+1, r.Status, r.Body)
		}
	}
	r := e.API("POST", "/v1/sessions", map[string]any{"email": "someone@example.com", "password": "not the password"})
	if d, _ := r.JSON()["detail"].(string); r.Status != http.StatusTooManyRequests || !strings.Contains(d, "from your network") || !strings.Contains(d, "paused until") {
		t.Fatalf("after %d failures from one IP = %d %s", limit, r.Status, r.Body)
	}
	e.Advance("16m")
	if r := e.API("POST", "/v1/sessions", map[string]any{"email": "someone@example.com", "password": "not the password"}); r.Status != http.StatusUnauthorized {
		t.Fatalf("after the lockout = %d", r.Status)
	}
}

// TestSignUpThrottleFollowsTheClock: the per-network sign-up limit (a burst of 10, then
// one every 10 seconds) refills with the service clock, not the machine's.
func TestSignUpThrottleFollowsTheClock(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	signUpAs := func(i int) int {
		t.Helper()
		return e.API("POST", "/v1/signup", map[string]any{"email": "flood" + string(rune('a'+i)) + "@example.com", "password": "a good long phrase", "role": "buyer"}).Status
	}
	for i := 0; i < 10; i++ {
		if s := signUpAs(i); s != http.StatusAccepted {
			t.Fatalf("sign-up %d = %d", i+1, s)
		}
	}
	if s := signUpAs(10); s != http.StatusTooManyRequests {
		t.Fatalf("the 11th sign-up in a moment = %d, want 429", s)
	}
	if err := e.Clock.Advance(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	if s := signUpAs(11); s != http.StatusAccepted {
		t.Fatalf("a sign-up 10 seconds later = %d, want 202", s)
	}
	if s := signUpAs(12); s != http.StatusTooManyRequests {
		t.Fatalf("the next one at once = %d, want 429", s)
	}
}
