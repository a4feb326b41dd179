package web_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"standing/app/apptest"
	"standing/browsertest"
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
