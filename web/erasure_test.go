package web_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"standing"
	"standing/app/apptest"
	"standing/browsertest"
	"standing/evidence/evidencetest"
)

// TestDeleteAccountInTheBrowser: the deletion page explains what happens, refuses a
// mistyped phrase (keeping the rest), accepts the right one, and signs the person out.
func TestDeleteAccountInTheBrowser(t *testing.T) { backends(t, testDeleteAccountInTheBrowser) }

func testDeleteAccountInTheBrowser(t *testing.T, e *apptest.Env) {
	const email, password = "goodbye@example.com", "a farewell passphrase"
	e.MustAPI("POST", "/v1/signup", map[string]any{"email": email, "password": password, "role": "buyer"}, http.StatusAccepted)
	b := browsertest.New(t)
	browsertest.Do(t, b, chromedp.Navigate(e.URL+"/login?next=/account/delete"), waitFor("#email"),
		typeInto("#email", email), typeInto("#password", password), click("#sign-in"), waitFor("#preconditions"))
	page := browsertest.Text(t, b, "main")
	for _, want := range []string{"Access ends now", "erased on", "What we keep", "can be used for a new account", "No order is waiting"} {
		if !strings.Contains(page, want) {
			t.Errorf("the deletion page lacks %q", want)
		}
	}
	browsertest.Do(t, b, typeInto("#confirm_email", email), typeInto("#phrase", "Deactivate my acount"), click("#delete-account"), waitFor("#error"))
	if got := browsertest.Text(t, b, "main"); !strings.Contains(got, "Type the phrase exactly") {
		t.Fatalf("a mistyped phrase: %s", got)
	}
	if v, _ := chromedp.Run(b, chromedp.Value(chromedp.CSS("#confirm_email"))); v != email {
		t.Fatalf("the typed email was not kept: %q", v)
	}
	if _, err := chromedp.Run(b, chromedp.Evaluate[bool](`(() => { document.querySelector("#phrase").value = ""; return true })()`)); err != nil {
		t.Fatal(err)
	}
	browsertest.Do(t, b, typeInto("#phrase", "Deactivate my account"), click("#delete-account"), waitFor("#message"))
	if got := browsertest.Text(t, b, "main"); !strings.Contains(got, "signed out everywhere") {
		t.Fatalf("after deleting: %s", got)
	}
	browsertest.Do(t, b, chromedp.Navigate(e.URL+"/account"), waitFor("#sign-in"))
	if !strings.Contains(browsertest.Location(t, b), "/login") {
		t.Fatal("the person is still signed in")
	}
	if r := e.API("POST", "/v1/sessions", map[string]any{"email": email, "password": password}); r.Status != http.StatusForbidden || !strings.Contains(r.JSON()["detail"].(string), "delete") {
		t.Fatalf("signing in during the grace period = %d %s", r.Status, r.Body)
	}
}

// TestConsoleRestore: support restores an account deleted by mistake, from the console.
func TestConsoleRestore(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	id := e.CreateAccount("buyer", "mistake@example.com")
	e.MustAPI("POST", "/v1/accounts/"+id+"/erasure", map[string]any{"confirm_email": "mistake@example.com", "phrase": "Deactivate my account", "reason": "Other"}, http.StatusAccepted)
	if _, err := e.App.Appeals.CreateStaff(context.Background(), "sam@example.com", "Sam", standing.RoleReviewer, "support staff phrase"); err != nil {
		t.Fatal(err)
	}
	token, _, err := e.App.Appeals.StaffSignIn(context.Background(), "sam@example.com", "support staff phrase")
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(e.URL)
	jar.SetCookies(u, []*http.Cookie{{Name: "standing_console", Value: token, Path: "/console"}})
	c := &http.Client{Jar: jar}
	resp, err := c.Get(e.URL + "/console/accounts?q=mistake@example.com")
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(resp)
	if !strings.Contains(body, "Restore the account") {
		t.Fatalf("the console does not offer to restore:\n%s", body)
	}
	csrf := between(body, `name="csrf" value="`, `"`)
	resp, err = c.PostForm(e.URL+"/console/accounts/"+id+"/restore", url.Values{"csrf": {csrf}})
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(resp); resp.StatusCode != 200 || !strings.Contains(body, "restored") {
		t.Fatalf("restore = %d %s", resp.StatusCode, body)
	}
	if acc := e.MustAPI("GET", "/v1/accounts/"+id, nil, 200); acc["lifecycle"] != "active" {
		t.Fatalf("after the console restore: %v", acc)
	}
}

func readAll(resp *http.Response) string {
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}

func between(s, a, b string) string {
	i := strings.Index(s, a)
	if i < 0 {
		return ""
	}
	s = s[i+len(a):]
	return s[:strings.Index(s, b)]
}

// TestConsoleShowsWhyTheRuleFired: the case of an appeal against a rule's restriction
// shows the values that made the rule fire.
func TestConsoleShowsWhyTheRuleFired(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	id := e.CreateAccount("buyer", "declined@example.com")
	for i := 0; i < 3; i++ {
		e.MustAPI("POST", "/v1/events", map[string]any{"id": "evt-decl-" + string(rune('a'+i)), "type": "payment_declined",
			"account_id": id, "ip": "192.0.2.10"}, http.StatusOK)
	}
	rs := e.MustAPI("GET", "/v1/accounts/"+id+"/restrictions", nil, 200)["restrictions"].([]any)
	if len(rs) == 0 {
		t.Fatal("three declined payments restricted nothing")
	}
	r := rs[0].(map[string]any)
	ctx := context.Background()
	card, err := e.App.Appeals.Upload(ctx, id, "card_photo", "file_card_photo", "card.jpg", bytes.NewReader(evidencetest.CardJPEG(t, "4111 1111 1111 1111", 12)))
	if err != nil {
		t.Fatal(err)
	}
	bank, err := e.App.Appeals.Upload(ctx, id, "bank_statement", "file_bank_statement", "bank.pdf", bytes.NewReader(evidencetest.PDF("Statement")))
	if err != nil {
		t.Fatal(err)
	}
	a, err := e.App.Appeals.Submit(ctx, standing.NewAppeal{AccountID: id, RestrictionID: r["id"].(string), Statement: "My bank blocked the card by mistake.",
		EvidenceIDs: []string{card.ID, bank.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.App.Appeals.CreateStaff(context.Background(), "ana@example.com", "Ana", standing.RoleReviewer, "reviewer staff phrase"); err != nil {
		t.Fatal(err)
	}
	token, _, _ := e.App.Appeals.StaffSignIn(context.Background(), "ana@example.com", "reviewer staff phrase")
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(e.URL)
	jar.SetCookies(u, []*http.Cookie{{Name: "standing_console", Value: token, Path: "/console"}})
	resp, err := (&http.Client{Jar: jar}).Get(e.URL + "/console/appeals/" + a.ID)
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(resp)
	if !strings.Contains(body, "Why the rule fired") || !strings.Contains(body, "declined_payments_24h") {
		t.Fatalf("the case page does not explain the rule:\n%s", body)
	}
}

// TestTrackPageErrors: the tracking page says "no parcel" only when there is none; a
// number that cannot be one, or a failure of ours, is told as what it is.
func TestTrackPageErrors(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	get := func(number string) (int, string) {
		resp, err := http.Get(e.URL + "/track?number=" + url.QueryEscape(number))
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, readAll(resp)
	}
	if status, body := get("ZZ000000000"); status != http.StatusNotFound || !strings.Contains(body, "There is no parcel with the tracking number ZZ000000000") {
		t.Errorf("an unknown number = %d:\n%s", status, body)
	}
	long := strings.Repeat("9", 101)
	if status, body := get(long); status != http.StatusUnprocessableEntity || !strings.Contains(body, "1 to 100 characters") || strings.Contains(body, "There is no parcel") {
		t.Errorf("a 101-character number = %d, want 422 saying how long a number is:\n%s", status, body)
	}
	e.App.Store.Close() // every query fails from here on
	if status, body := get("ZZ000000000"); status != http.StatusInternalServerError || strings.Contains(body, "There is no parcel") || !strings.Contains(body, "internal error") {
		t.Errorf("a database failure = %d, want 500 saying it is ours:\n%s", status, body)
	}
}

// TestConsoleDeleteByMail: support requests a deletion the person asked for by mail. The
// preconditions apply, each with its own message; only an admin can override them, and
// the note is recorded with the request.
func TestConsoleDeleteByMail(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	buyer := e.CreateAccount("buyer", "by-mail@example.com")
	seller := e.CreateAccount("seller", "by-mail-shop@example.com")
	e.MustAPI("POST", "/v1/orders", map[string]any{"buyer_id": buyer, "seller_id": seller, "amount": 1200, "currency": "EUR", "status": "paid"}, http.StatusCreated)
	ctx := context.Background()
	for _, s := range []struct {
		email string
		role  standing.StaffRole
	}{{"rev@example.com", standing.RoleReviewer}, {"adm@example.com", standing.RoleAdmin}} {
		if _, err := e.App.Appeals.CreateStaff(ctx, s.email, string(s.role), s.role, "a staff member's passphrase"); err != nil {
			t.Fatal(err)
		}
	}
	client := func(email string) *formClient {
		c := newFormClient(t, e)
		if status, _, _ := c.post("/console/login", "/console/login", url.Values{"email": {email}, "password": {"a staff member's passphrase"}}); status != http.StatusSeeOther {
			t.Fatalf("console sign-in of %s = %d", email, status)
		}
		return c
	}
	page := "/console/accounts?q=by-mail@example.com"
	form := url.Values{"confirm_email": {"by-mail@example.com"}, "phrase": {"Deactivate my account"}, "reason": {"Other"}}
	rev := client("rev@example.com")
	if _, _, body := rev.get(page); !strings.Contains(body, `id="support-delete"`) || strings.Contains(body, `id="override"`) {
		t.Fatalf("a reviewer's account page: the deletion form, without the override:\n%s", body)
	}
	if status, _, body := rev.post(page, "/console/accounts/"+buyer+"/delete", form); status != http.StatusConflict || !strings.Contains(body, "on their way") {
		t.Fatalf("support deletes with an order under way = %d:\n%s", status, body)
	}
	withNote := url.Values{"override": {"Asked by mail on 20 Nov; the parcel was lost and refunded."}}
	for k, v := range form {
		withNote[k] = v
	}
	if status, _, body := rev.post(page, "/console/accounts/"+buyer+"/delete", withNote); status != http.StatusForbidden || !strings.Contains(body, "Only an admin") {
		t.Fatalf("a reviewer's override = %d:\n%s", status, body)
	}
	if acc := e.MustAPI("GET", "/v1/accounts/"+buyer, nil, http.StatusOK); acc["lifecycle"] != "active" {
		t.Fatalf("refused requests changed the account: %v", acc["lifecycle"])
	}
	adm := client("adm@example.com")
	if status, _, body := adm.post(page, "/console/accounts/"+buyer+"/delete", withNote); status != http.StatusOK || !strings.Contains(body, "Deletion requested") {
		t.Fatalf("an admin's override = %d:\n%s", status, body)
	}
	er, err := e.App.Erasure.Latest(ctx, buyer)
	if err != nil || er.Override != "admin: Asked by mail on 20 Nov; the parcel was lost and refunded." || er.RequestedBy != "support:admin" {
		t.Fatalf("the request = %+v %v", er, err)
	}
	if acc := e.MustAPI("GET", "/v1/accounts/"+buyer, nil, http.StatusOK); acc["lifecycle"] != "closing" {
		t.Fatalf("after the admin's request: %v", acc["lifecycle"])
	}
}

// TestDeletePagePreconditions: the deletion page lists each failing precondition with a
// link to fix it and offers to give up the wallet balance, its amount shown; a request
// ends every session of the person at once, not only the one that asked.
func TestDeletePagePreconditions(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	const email, password = "two-devices@example.com", "a passphrase on two devices"
	id := signUp(t, e, email, password, "buyer")
	seller := e.CreateAccount("seller", "two-devices-shop@example.com")
	o := e.MustAPI("POST", "/v1/orders", map[string]any{"buyer_id": id, "seller_id": seller, "amount": 900, "currency": "EUR", "status": "paid"}, http.StatusCreated)
	e.MustAPI("POST", "/v1/accounts/"+id+"/wallet", map[string]any{"currency": "EUR", "balance": 1250}, http.StatusOK)
	phone, laptop := newFormClient(t, e), newFormClient(t, e)
	for _, c := range []*formClient{phone, laptop} {
		if status, _, _ := c.post("/login", "/login", url.Values{"email": {email}, "password": {password}}); status != http.StatusSeeOther {
			t.Fatalf("sign-in = %d", status)
		}
	}
	_, _, body := phone.get("/account/delete")
	for _, want := range []string{
		`data-precondition="orders" data-ok="false"`, `are waiting for payment, paid or on their way. Wait until they are completed or cancel them first. <a href="/orders">Fix it</a>`,
		`data-precondition="disputes" data-ok="true"`, `data-precondition="wallet" data-ok="false"`, "I give up my wallet balance of EUR 12.50",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the deletion page lacks %q", want)
		}
	}
	form := url.Values{"confirm_email": {email}, "phrase": {"Deactivate my account"}, "reason": {"Other"}}
	if status, _, body := phone.post("/account/delete", "/account/delete", form); status != http.StatusConflict || !strings.Contains(body, "on their way") {
		t.Fatalf("with an order under way = %d", status)
	}
	e.MustAPI("PATCH", "/v1/orders/"+o["id"].(string), map[string]any{"status": "shipped"}, http.StatusOK)
	e.MustAPI("PATCH", "/v1/orders/"+o["id"].(string), map[string]any{"status": "completed"}, http.StatusOK)
	if status, _, body := phone.post("/account/delete", "/account/delete", form); status != http.StatusConflict || !strings.Contains(body, "Your wallet still holds EUR 12.50") {
		t.Fatalf("with money in the wallet, not given up = %d", status)
	}
	form.Set("forfeit_wallet", "1")
	if status, _, body := phone.post("/account/delete", "/account/delete", form); status != http.StatusOK || !strings.Contains(body, "signed out everywhere") {
		t.Fatalf("giving up the balance = %d:\n%s", status, body)
	}
	if status, h, _ := laptop.get("/account"); status != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/login") {
		t.Fatalf("the other device is still signed in: %d %q", status, h.Get("Location"))
	}
	mails, _ := e.App.Store.Mails(context.Background(), email, 5)
	if len(mails) == 0 || mails[0].Subject != "Your account will be deleted" {
		t.Fatalf("no confirmation mail: %+v", mails)
	}
}
