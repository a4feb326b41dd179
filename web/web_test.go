package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"standing"
	"standing/app/apptest"
	"standing/browsertest"
	"standing/config"
)

type devMail struct {
	Subject string   `json:"subject"`
	Kind    string   `json:"kind"`
	Links   []string `json:"links"`
	Code    string   `json:"code"`
}

// newestMail reads the dev mailbox the way a black-box test would: over HTTP, as JSON.
func newestMail(t *testing.T, e *apptest.Env, to string) devMail {
	t.Helper()
	resp, err := http.Get(e.URL + "/dev/mail?format=json&to=" + url.QueryEscape(to))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Mails []devMail `json:"mails"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || len(out.Mails) == 0 {
		t.Fatalf("dev mailbox for %s: %v, %d mails", to, err, len(out.Mails))
	}
	return out.Mails[0]
}

func typeInto(sel, text string) chromedp.Action[chromedp.Void] {
	return chromedp.SendKeys(chromedp.CSS(sel), text)
}

func click(sel string) chromedp.Action[chromedp.Void] { return chromedp.Click(chromedp.CSS(sel)) }

func waitFor(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS(sel))
}

func backends(t *testing.T, fn func(t *testing.T, e *apptest.Env)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, apptest.New(t, apptest.Options{})) })
	t.Run("postgres", func(t *testing.T) { fn(t, apptest.New(t, apptest.Options{Postgres: true})) })
}

// TestSignUpVerifySignInReset walks the whole self-service path in a real browser.
func TestSignUpVerifySignInReset(t *testing.T) { backends(t, testSignUpVerifySignInReset) }

func testSignUpVerifySignInReset(t *testing.T, e *apptest.Env) {
	b := browsertest.New(t)
	const email = "browser@example.com"

	browsertest.Do(t, b, chromedp.Navigate(e.URL+"/signup"), waitFor("#email"),
		typeInto("#email", email), typeInto("#password", "my walking passphrase"), click("#create"), waitFor("#code"))
	if !strings.Contains(browsertest.Text(t, b, "main"), "We sent a link and a 6-digit code to "+email) {
		t.Fatalf("after sign-up: %s", browsertest.Text(t, b, "main"))
	}
	m := newestMail(t, e, email)
	if m.Kind != "verify" || len(m.Code) != 6 {
		t.Fatalf("verification mail = %+v", m)
	}
	browsertest.Do(t, b, typeInto("#code", m.Code), click("#confirm"), waitFor(".card.ok"))
	if got := browsertest.Text(t, b, ".card.ok"); !strings.Contains(got, "confirmed") {
		t.Fatalf("after the code: %s", got)
	}

	browsertest.Do(t, b, chromedp.Navigate(e.URL+"/login"), waitFor("#email"),
		typeInto("#email", email), typeInto("#password", "my walking passphrase"), click("#sign-in"), waitFor("#good-standing"))
	browsertest.Do(t, b, click("#sign-out"), waitFor(".notice"))
	if got := browsertest.Text(t, b, ".notice"); !strings.Contains(got, "signed out") {
		t.Fatalf("after sign-out: %s", got)
	}

	browsertest.Do(t, b, chromedp.Navigate(e.URL+"/login"), waitFor("#email"),
		typeInto("#email", email), typeInto("#password", "MY WALKING PASSPHRASE"), click("#sign-in"), waitFor("#error"))
	if got := browsertest.Text(t, b, "#error"); !strings.Contains(got, "Caps Lock") || !strings.Contains(got, "keyboard") {
		t.Fatalf("failed sign-in says: %s", got)
	}

	browsertest.Do(t, b, chromedp.Navigate(e.URL+"/reset"), waitFor("#email"), typeInto("#email", email), click("#send-reset"), waitFor("#reset-sent"))
	if got := browsertest.Text(t, b, "#reset-sent"); !strings.Contains(got, "we sent it a link") {
		t.Fatalf("after asking for a reset: %s", got)
	}
	reset := newestMail(t, e, email)
	if reset.Kind != "reset" || len(reset.Links) == 0 {
		t.Fatalf("reset mail = %+v", reset)
	}
	browsertest.Do(t, b, chromedp.Navigate(reset.Links[0]), waitFor("#password"),
		typeInto("#password", "a fresh new passphrase"), click("#set-password"), waitFor(".notice"))
	if got := browsertest.Text(t, b, ".notice"); !strings.Contains(got, "password was changed") {
		t.Fatalf("after setting the password: %s", got)
	}
	browsertest.Do(t, b, typeInto("#email", email), typeInto("#password", "a fresh new passphrase"), click("#sign-in"), waitFor("#good-standing"))
	if got := browsertest.Text(t, b, "header"); !strings.Contains(got, email) {
		t.Fatalf("signed in header: %s", got)
	}
}

// TestReactivateAfterTheDeadline: 72 hours pass unconfirmed; the account page explains the
// pause and what still works, "Reactivate" mails a new link, and the link lifts it at once.
func TestReactivateAfterTheDeadline(t *testing.T) { backends(t, testReactivateAfterTheDeadline) }

func testReactivateAfterTheDeadline(t *testing.T, e *apptest.Env) {
	b := browsertest.New(t)
	const email = "sleepy@example.com"
	browsertest.Do(t, b, chromedp.Navigate(e.URL+"/signup"), waitFor("#email"),
		typeInto("#email", email), typeInto("#password", "a drowsy long passphrase"), click("#create"), waitFor("#code"))
	e.Advance("72h")
	browsertest.Do(t, b, chromedp.Navigate(e.URL+"/account"), waitFor("#email"),
		typeInto("#email", email), typeInto("#password", "a drowsy long passphrase"), click("#sign-in"), waitFor("[data-reason=email_unverified]"))
	card := browsertest.Text(t, b, "[data-reason=email_unverified]")
	for _, want := range []string{"haven't confirmed your email", "Still works", "sign in", "see your orders", "open disputes", "Until it is lifted", "Reactivate"} {
		if !strings.Contains(card, want) {
			t.Errorf("the restriction card lacks %q:\n%s", want, card)
		}
	}
	browsertest.Do(t, b, click("#reactivate"), waitFor(".notice"))
	if got := browsertest.Text(t, b, ".notice"); !strings.Contains(got, "new confirmation link") {
		t.Fatalf("after Reactivate: %s", got)
	}
	m := newestMail(t, e, email)
	browsertest.Do(t, b, chromedp.Navigate(m.Links[0]), waitFor(".card.ok"))
	browsertest.Do(t, b, chromedp.Navigate(e.URL+"/account"), waitFor("#good-standing"))
}

func TestFormsRefuseMissingCSRFAndOtherSites(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	post := func(form url.Values, header map[string]string, jar http.CookieJar) (int, string) {
		req, _ := http.NewRequest("POST", e.URL+"/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range header {
			req.Header.Set(k, v)
		}
		c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	status, body := post(url.Values{"email": {"a@example.com"}, "password": {"whatever long"}}, nil, nil)
	if status != http.StatusForbidden || !strings.Contains(body, "security token is missing") {
		t.Fatalf("no CSRF token: %d %s", status, body)
	}
	// With the cookie from the form page and the token, the form goes through (to a 401).
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.Get(e.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	i := strings.Index(string(page), `name="csrf" value="`)
	token := string(page)[i+len(`name="csrf" value="`):]
	token = token[:strings.IndexByte(token, '"')]
	status, body = post(url.Values{"email": {"a@example.com"}, "password": {"whatever long"}, "csrf": {token}}, nil, jar)
	if status != http.StatusUnauthorized || !strings.Contains(body, "Caps Lock") {
		t.Fatalf("with the token: %d %s", status, body)
	}
	status, body = post(url.Values{"csrf": {token}}, map[string]string{"Sec-Fetch-Site": "cross-site"}, jar)
	if status != http.StatusForbidden || !strings.Contains(body, "another site") {
		t.Fatalf("cross-site post: %d %s", status, body)
	}
}

// TestTemplatesHaveNoStyleAttributes: the pages' CSP (style-src 'self') makes the browser
// ignore style attributes, so styles belong in static/style.css.
func TestTemplatesHaveNoStyleAttributes(t *testing.T) {
	names, err := filepath.Glob("templates/*.html")
	if err != nil || len(names) == 0 {
		t.Fatalf("templates: %v %v", names, err)
	}
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		if i := bytes.Index(b, []byte(" style=")); i >= 0 {
			t.Errorf("%s has a style attribute, which the CSP blocks: %s", n, b[i:min(len(b), i+60)])
		}
		if bytes.Contains(b, []byte("<style")) {
			t.Errorf("%s has a <style> element, which the CSP blocks", n)
		}
	}
}

// TestCookieAttributes: the CSRF and session cookies are HttpOnly and SameSite=Lax, and
// Secure when the public URL is https:// (TLS ends at a proxy) but not on plain HTTP.
func TestCookieAttributes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		https  bool
		secure bool
	}{{"http", false, false}, {"https behind a proxy", true, true}} {
		t.Run(tc.name, func(t *testing.T) {
			e := apptest.New(t, apptest.Options{Configure: func(c *config.Config) {
				if tc.https {
					c.BaseURL = "https://standing.example"
				}
			}})
			e.MustAPI("POST", "/v1/signup", map[string]any{"email": "cookie@example.com", "password": "a good long phrase", "role": "buyer"}, http.StatusAccepted)
			resp, err := http.Get(e.URL + "/login")
			if err != nil {
				t.Fatal(err)
			}
			page, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			csrf := cookieNamed(resp.Cookies(), "standing_csrf")
			if csrf == nil {
				t.Fatalf("the form page set no CSRF cookie: %v", resp.Header["Set-Cookie"])
			}
			i := strings.Index(string(page), `name="csrf" value="`)
			token := string(page)[i+len(`name="csrf" value="`):]
			token = token[:strings.IndexByte(token, '"')]
			form := url.Values{"email": {"cookie@example.com"}, "password": {"a good long phrase"}, "csrf": {token}}
			req, _ := http.NewRequest("POST", e.URL+"/login", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.AddCookie(&http.Cookie{Name: csrf.Name, Value: csrf.Value})
			c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, err = c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign-in = %d", resp.StatusCode)
			}
			session := cookieNamed(resp.Cookies(), "standing_session")
			if session == nil {
				t.Fatalf("sign-in set no session cookie: %v", resp.Header["Set-Cookie"])
			}
			// A relative lifetime, not a date from the service's clock, which the browser's
			// need not share (the test clock here is days behind the real one).
			if want := int(standing.DefaultPolicy().SignIn.SessionLifetime.D() / time.Second); session.MaxAge != want || !session.Expires.IsZero() {
				t.Errorf("session cookie: Max-Age %d, Expires %v; want Max-Age %d and no Expires", session.MaxAge, session.Expires, want)
			}
			for _, ck := range []*http.Cookie{csrf, session} {
				if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Secure != tc.secure {
					t.Errorf("cookie %s: HttpOnly %v, SameSite %v, Secure %v; want true, Lax, %v", ck.Name, ck.HttpOnly, ck.SameSite, ck.Secure, tc.secure)
				}
			}
		})
	}
}

func cookieNamed(cs []*http.Cookie, name string) *http.Cookie {
	for _, c := range cs {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// TestAccountPageInPlainWords: /account shows the lifecycle and, for each active
// restriction, why, what is paused, what still works, until when and what to do.
func TestAccountPageInPlainWords(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	const email = "plain@example.com"
	e.MustAPI("POST", "/v1/signup", map[string]any{"email": email, "password": "a good long phrase", "role": "buyer"}, http.StatusAccepted)
	token := e.MustAPI("POST", "/v1/sessions", map[string]any{"email": email, "password": "a good long phrase"}, http.StatusCreated)["token"].(string)
	acc, err := e.App.Store.AccountByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	r := e.MustAPI("POST", "/v1/accounts/"+acc.ID+"/restrictions", map[string]any{"reason_code": "buyer_complaints", "duration": "72h"}, http.StatusCreated)
	ends, err := time.Parse(time.RFC3339, r["ends_at"].(string))
	if err != nil {
		t.Fatal(err)
	}
	accountPage := func() string {
		t.Helper()
		req, _ := http.NewRequest("GET", e.URL+"/account", nil)
		req.AddCookie(&http.Cookie{Name: "standing_session", Value: token})
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("/account = %d %s", resp.StatusCode, b)
		}
		return html.UnescapeString(string(b))
	}
	page := accountPage()
	reason, _ := standing.DefaultPolicy().Reason("buyer_complaints")
	for _, want := range []string{
		"not confirmed yet", // the lifecycle
		`data-reason="buyer_complaints"`, reason.Title, r["message"].(string), reason.Remedy,
		"Paused", "Still works", "see your orders",
		"It ends by itself on " + standing.FormatTime(ends),
	} {
		if !strings.Contains(page, want) {
			t.Errorf("/account lacks %q", want)
		}
	}
	e.Advance("72h")
	if page := accountPage(); strings.Contains(page, `data-reason="buyer_complaints"`) {
		t.Error("/account still shows the restriction after it ended")
	}
}

// TestLogoutPage: GET /logout offers a sign-out button to a signed-in person (signing out
// is a form post, which the browser test clicks) and says so to anyone else.
func TestLogoutPage(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	if status, page := getPage(t, e.URL+"/logout", nil); status != 200 || !strings.Contains(page, "You are not signed in") {
		t.Fatalf("GET /logout signed out = %d %s", status, page)
	}
	e.MustAPI("POST", "/v1/signup", map[string]any{"email": "bye@example.com", "password": "a good long phrase", "role": "buyer"}, http.StatusAccepted)
	token := e.MustAPI("POST", "/v1/sessions", map[string]any{"email": "bye@example.com", "password": "a good long phrase"}, http.StatusCreated)["token"].(string)
	session := &http.Cookie{Name: "standing_session", Value: token}
	status, page := getPage(t, e.URL+"/logout", session)
	if status != 200 || !strings.Contains(page, `action="/logout"`) || !strings.Contains(page, "bye@example.com") {
		t.Fatalf("GET /logout signed in = %d %s", status, page)
	}
	if r := e.Do("GET", "/v1/me", token, nil); r.Status != 200 {
		t.Fatalf("GET /logout signed the person out: /v1/me = %d", r.Status)
	}
}

func getPage(t *testing.T, u string, cookie *http.Cookie) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	if cookie != nil {
		req.AddCookie(cookie)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, html.UnescapeString(string(b))
}
