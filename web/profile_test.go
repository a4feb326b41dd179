package web_test

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"standing/app/apptest"
	"standing/browsertest"
)

// TestProfileForm: /account has a "Your profile" form with the account's details. A bad
// phone is shown next to its field with every typed value kept; a good change returns to
// /account with a confirmation and the new values. A person whose restriction removes
// change_profile sees why instead of the form, and a post is refused with the
// restriction's message.
func TestProfileForm(t *testing.T) { backends(t, testProfileForm) }

func testProfileForm(t *testing.T, e *apptest.Env) {
	const email, password = "form@example.com", "a good long phrase"
	id := signUp(t, e, email, password, "buyer")
	f := newFormClient(t, e)
	if status, _, page := f.post("/login", "/login", url.Values{"email": {email}, "password": {password}}); status != http.StatusSeeOther {
		t.Fatalf("sign-in = %d %s", status, page)
	}
	page := func(body string) string { return html.UnescapeString(body) }
	if status, _, body := f.get("/account"); status != http.StatusOK || !strings.Contains(body, "Your profile") || !strings.Contains(body, `action="/account/profile"`) {
		t.Fatalf("/account = %d without the profile form:\n%s", status, body)
	}

	status, _, body := f.post("/account", "/account/profile", url.Values{"name": {"Fiona Form"}, "phone": {"0151 2345 6789"}, "country": {"de"}})
	body = page(body)
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("a bad phone = %d, want 422:\n%s", status, body)
	}
	phoneField := between(body, `id="profile-phone"`, `id="profile-country"`)
	if !strings.Contains(phoneField, `class="field-error"`) || !strings.Contains(phoneField, "must be in international form") {
		t.Errorf("the phone's error is not next to it:\n%s", phoneField)
	}
	for _, want := range []string{`value="Fiona Form"`, `value="0151 2345 6789"`, `value="de"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the typed %s was not kept", want)
		}
	}

	status, hdr, body := f.post("/account", "/account/profile", url.Values{"name": {"Fiona Form"}, "phone": {"+49 151 2345 6789"}, "country": {"de"}})
	if status != http.StatusSeeOther || hdr.Get("Location") != "/account?notice=profile_saved" {
		t.Fatalf("a good change = %d to %q:\n%s", status, hdr.Get("Location"), body)
	}
	_, _, body = f.get(hdr.Get("Location"))
	body = page(body)
	for _, want := range []string{"Your profile was saved.", `value="Fiona Form"`, `value="+4915123456789"`, `value="DE"`} {
		if !strings.Contains(body, want) {
			t.Errorf("after saving, /account lacks %s", want)
		}
	}
	if _, hdr, _ := f.post("/account", "/account/profile", url.Values{"name": {"Fiona Form"}, "phone": {"+4915123456789"}, "country": {"DE"}}); hdr.Get("Location") != "/account?notice=profile_unchanged" {
		t.Errorf("the same values again went to %q", hdr.Get("Location"))
	}

	dup := e.MustAPI("POST", "/v1/accounts/"+id+"/restrictions", map[string]any{"reason_code": "duplicate_identity"}, http.StatusCreated)
	_, _, body = f.get("/account")
	body = page(body)
	if !strings.Contains(body, "Changing your profile is paused: "+dup["message"].(string)) || strings.Contains(body, `action="/account/profile"`) {
		t.Errorf("/account under duplicate_identity does not say why the profile cannot change:\n%s", body)
	}
	status, _, body = f.post("/account", "/account/profile", url.Values{"name": {"Someone Else"}})
	if body = page(body); status != http.StatusForbidden || !strings.Contains(body, dup["message"].(string)) {
		t.Errorf("a post under duplicate_identity = %d:\n%s", status, body)
	}
	if me := e.MustAPI("GET", "/v1/accounts/"+id, nil, http.StatusOK); me["name"] != "Fiona Form" {
		t.Errorf("a refused post changed the name: %v", me["name"])
	}
}

// TestProfileInTheBrowser: a person edits their profile on /account in a real browser and
// sees the new values, normalised, with the confirmation.
func TestProfileInTheBrowser(t *testing.T) { backends(t, testProfileInTheBrowser) }

func testProfileInTheBrowser(t *testing.T, e *apptest.Env) {
	const email, password = "browser-profile@example.com", "a good long phrase"
	signUp(t, e, email, password, "buyer")
	b := browsertest.New(t)
	browsertest.Do(t, b, chromedp.Navigate(e.URL+"/login?next=/account"), waitFor("#email"),
		typeInto("#email", email), typeInto("#password", password), click("#sign-in"), waitFor("#profile-name"),
		typeInto("#profile-name", "Bea Browser"), typeInto("#profile-phone", "+1 (415) 555-0100"), typeInto("#profile-country", "us"),
		click("#save-profile"), waitFor(".notice"))
	if got := browsertest.Text(t, b, ".notice"); !strings.Contains(got, "Your profile was saved") {
		t.Fatalf("after saving: %s", got)
	}
	for sel, want := range map[string]string{"#profile-name": "Bea Browser", "#profile-phone": "+14155550100", "#profile-country": "US"} {
		if v, err := chromedp.Run(b, chromedp.Value(chromedp.CSS(sel))); err != nil || v != want {
			t.Errorf("%s = %q (%v), want %q", sel, v, err, want)
		}
	}
}
