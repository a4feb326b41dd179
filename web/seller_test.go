package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"standing"
	"standing/app/apptest"
	"standing/browsertest"
	"standing/penalty"
)

// signUp makes a confirmed account of role through the API and returns its id.
func signUp(t *testing.T, e *apptest.Env, email, password, role string) string {
	t.Helper()
	e.MustAPI("POST", "/v1/signup", map[string]any{"email": email, "password": password, "role": role}, http.StatusAccepted)
	e.MustAPI("POST", "/v1/verify", map[string]any{"email": email, "code": newestMail(t, e, email).Code}, http.StatusOK)
	acc, err := e.App.Store.AccountByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return acc.ID
}

// formClient is a cookie-keeping HTTP client that does not follow redirects.
type formClient struct {
	t *testing.T
	e *apptest.Env
	c *http.Client
}

func newFormClient(t *testing.T, e *apptest.Env) *formClient {
	jar, _ := cookiejar.New(nil)
	return &formClient{t: t, e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (f *formClient) get(path string) (int, http.Header, string) {
	f.t.Helper()
	resp, err := f.c.Get(f.e.URL + path)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// post sends a form with the CSRF token of the page at from.
func (f *formClient) post(from, path string, form url.Values) (int, http.Header, string) {
	f.t.Helper()
	_, _, page := f.get(from)
	i := strings.Index(page, `name="csrf" value="`)
	if i < 0 {
		f.t.Fatalf("no CSRF token on %s:\n%s", from, page)
	}
	tok := page[i+len(`name="csrf" value="`):]
	form.Set("csrf", tok[:strings.IndexByte(tok, '"')])
	resp, err := f.c.PostForm(f.e.URL+path, form)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// TestSellerDashboardInTheBrowser: a suspended seller signs in and the dashboard shows
// the points with the day each falls off, the suspension with its end, and an Appeal link
// that opens the appeal form for it; the performance charts are drawn on the server.
func TestSellerDashboardInTheBrowser(t *testing.T) { backends(t, testSellerDashboardInTheBrowser) }

func testSellerDashboardInTheBrowser(t *testing.T, e *apptest.Env) {
	const email, password = "penalised@example.com", "a seller's long passphrase"
	s := signUp(t, e, email, password, "seller")
	for i := range 4 {
		e.MustAPI("POST", "/v1/violations", map[string]any{"seller_id": s, "type": "poor_after_sales", "case_id": fmt.Sprint("AS-", i)}, http.StatusCreated)
	}
	r := e.API("GET", "/v1/sellers/"+s+"/standing", nil)
	var st penalty.SellerStanding
	r.Decode(t, &st)
	if len(st.Sanctions) != 1 {
		t.Fatalf("sanctions = %+v", st.Sanctions)
	}
	rid := st.Sanctions[0].RestrictionID
	var tx penalty.LedgerPoints
	for _, l := range st.Points.Ledgers {
		if l.Ledger == "transaction" {
			tx = l
		}
	}
	if len(tx.Entries) != 4 {
		t.Fatalf("entries = %+v", tx.Entries)
	}
	// A few orders, one shipped late, so the charts have something to draw.
	b := e.CreateAccount("buyer", "customer@example.com")
	for i := range 12 {
		placed := e.Clock.Now().Add(-time.Duration(i+2) * 24 * time.Hour)
		o := e.MustAPI("POST", "/v1/orders", map[string]any{"buyer_id": b, "seller_id": s, "amount": 900, "currency": "EUR", "status": "paid",
			"placed_at": placed, "ship_by": placed.Add(48 * time.Hour)}, http.StatusCreated)
		at := placed.Add(24 * time.Hour)
		if i == 5 {
			at = placed.Add(72 * time.Hour)
		}
		e.MustAPI("PATCH", "/v1/orders/"+o["id"].(string), map[string]any{"status": "shipped", "at": at}, http.StatusOK)
	}
	// A fine and a platform fee, for the page's fines and fees and its notice lines.
	fine := e.MustAPI("POST", "/v1/sellers/"+s+"/fines", map[string]any{"amount": 2500, "currency": "EUR", "reason": "Counterfeit listing.", "case_id": "F-1"}, http.StatusCreated)
	fee := e.MustAPI("POST", "/v1/sellers/"+s+"/fees", map[string]any{"external_id": "INV-1", "description": "Service fee May", "amount": 3900, "currency": "EUR"}, http.StatusCreated)
	e.RunJobs()

	br := browsertest.New(t)
	browsertest.Do(t, br, chromedp.Navigate(e.URL+"/seller"), waitFor("#email"),
		typeInto("#email", email), typeInto("#password", password), click("#sign-in"), waitFor("#store-status"))
	if got := browsertest.Location(t, br); !strings.HasSuffix(got, "/seller") {
		t.Fatalf("after sign-in at %s, want the dashboard", got)
	}
	if got := browsertest.Text(t, br, "#ledger-transaction .total"); got != "12" {
		t.Errorf("transaction total on the page = %q", got)
	}
	for _, entry := range tx.Entries {
		want := entry.FallsOffAt.UTC().Format("2 Jan 2006")
		if got := browsertest.Text(t, br, "#falls-off-"+entry.ViolationID); got != want {
			t.Errorf("entry %s falls off on %q, want %q", entry.ViolationID, got, want)
		}
	}
	if got := browsertest.Text(t, br, "#ledger-transaction"); !strings.Contains(got, "at 24 points: a 14-day store suspension") {
		t.Errorf("the ledger does not say what comes next: %s", got)
	}
	sanction := browsertest.Text(t, br, "#sanction-"+rid)
	end := e.Clock.Now().Add(7 * 24 * time.Hour)
	if !strings.Contains(sanction, "Store suspension") || !strings.Contains(sanction, "Ends by itself on "+standing.FormatTime(end)) {
		t.Errorf("sanction card: %s", sanction)
	}
	href, err := chromedp.Run(br, chromedp.Evaluate[string](`document.querySelector("#appeal-`+rid+`").getAttribute("href")`))
	if err != nil || href != "/appeals/new?restriction="+rid {
		t.Fatalf("appeal link = %q %v", href, err)
	}
	if got := browsertest.Text(t, br, "#metric-late_shipment_rate"); !strings.Contains(got, "8.33\u00a0%") || !strings.Contains(got, "below 4\u00a0%") {
		t.Errorf("late shipment row: %s", got)
	}
	n, err := chromedp.Run(br, chromedp.Evaluate[int](`document.querySelectorAll("#performance svg polyline.rate").length`))
	if err != nil || n != 3 {
		t.Errorf("%d charts drawn (%v), want 3", n, err)
	}
	scripts, err := chromedp.Run(br, chromedp.Evaluate[int](`document.scripts.length`))
	if err != nil || scripts != 0 {
		t.Errorf("the dashboard has %d scripts; it must work without JavaScript", scripts)
	}
	if got := browsertest.Text(t, br, "#fine-"+fine["id"].(string)); !strings.Contains(got, "Counterfeit listing.") || !strings.Contains(got, "25.00") {
		t.Errorf("fine row: %s", got)
	}
	if got := browsertest.Text(t, br, "#fee-"+fee["id"].(string)); !strings.Contains(got, "Service fee May") || !strings.Contains(got, "39.00") {
		t.Errorf("fee row: %s", got)
	}
	if got := browsertest.Text(t, br, "#notices"); !strings.Contains(got, "Fine") {
		t.Errorf("no notice line for the fine: %s", got)
	}
	browsertest.Do(t, br, click("#appeal-"+rid), waitFor("#appeal-form"))
	if got := browsertest.Text(t, br, "main"); !strings.Contains(got, "Store sanction for policy violations") {
		t.Errorf("the appeal form is not about the sanction: %s", got)
	}
}

// TestSellerDashboardForBuyersAndStrangers: the dashboard sends strangers to sign in and
// tells buyers plainly that it is for sellers.
func TestSellerDashboardForBuyersAndStrangers(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	c := newFormClient(t, e)
	status, h, _ := c.get("/seller")
	if status != http.StatusSeeOther || h.Get("Location") != "/login?next=%2Fseller" {
		t.Fatalf("a stranger = %d to %q", status, h.Get("Location"))
	}
	signUp(t, e, "shopper@example.com", "a buyer's long passphrase", "buyer")
	status, _, _ = c.post("/login", "/login", url.Values{"email": {"shopper@example.com"}, "password": {"a buyer's long passphrase"}})
	if status != http.StatusSeeOther {
		t.Fatalf("sign-in = %d", status)
	}
	status, _, body := c.get("/seller")
	if status != http.StatusForbidden || !strings.Contains(body, "is for seller accounts") || !strings.Contains(body, "shopper@example.com is a buyer account") ||
		!strings.Contains(body, `href="/account"`) {
		t.Fatalf("a buyer = %d\n%s", status, body)
	}
}

// TestConsoleReportsViolations: signed-in staff find a seller and report a violation with
// the console's form; bad input comes back next to its field with the form kept, a case
// reported before is refused, and withdrawing takes the points away.
func TestConsoleReportsViolations(t *testing.T) { backends(t, testConsoleReportsViolations) }

func testConsoleReportsViolations(t *testing.T, e *apptest.Env) {
	s := e.CreateAccount("seller", "console-seller@example.com")
	buyer := e.CreateAccount("buyer", "console-buyer@example.com")
	if _, err := e.App.Appeals.CreateStaff(context.Background(), "rita@example.com", "Rita", standing.RoleReviewer, "a reviewer's long passphrase"); err != nil {
		t.Fatal(err)
	}
	c := newFormClient(t, e)
	if status, h, _ := c.get("/console/sellers/" + s); status != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/console/login") {
		t.Fatalf("the console without signing in = %d %q", status, h.Get("Location"))
	}
	if status, _, _ := c.post("/console/login", "/console/login", url.Values{"email": {"rita@example.com"}, "password": {"a reviewer's long passphrase"}}); status != http.StatusSeeOther {
		t.Fatalf("console sign-in = %d", status)
	}
	status, h, _ := c.get("/console/sellers?q=console-seller@example.com")
	if status != http.StatusSeeOther || h.Get("Location") != "/console/sellers/"+s {
		t.Fatalf("find by email = %d %q", status, h.Get("Location"))
	}
	if status, _, body := c.get("/console/sellers?q=" + buyer); status != 422 || !strings.Contains(body, "buyer account") {
		t.Errorf("find a buyer = %d", status)
	}
	page := "/console/sellers/" + s
	report := func(form url.Values) (int, http.Header, string) {
		return c.post(page, page+"/violations", form)
	}
	tests := []struct {
		name   string
		form   url.Values
		status int
		want   string
	}{
		{"negative points", url.Values{"type": {"late_shipment"}, "points": {"-2"}, "case_id": {"C-9"}}, 422, "points cannot be negative"},
		{"points that are not a number", url.Values{"type": {"late_shipment"}, "points": {"two"}}, 422, "whole number"},
		{"no type", url.Values{"case_id": {"C-9"}}, 422, "type is required"},
		{"an unknown type", url.Values{"type": {"rudeness"}}, 422, "unknown violation type"},
	}
	for _, tt := range tests {
		status, _, body := report(tt.form)
		if status != tt.status || !strings.Contains(body, tt.want) || !strings.Contains(body, "field-error") {
			t.Errorf("%s: %d, want %d with %q next to the field", tt.name, status, tt.status, tt.want)
		}
	}
	if _, _, body := report(url.Values{"type": {"late_shipment"}, "points": {"-2"}, "case_id": {"C-keep"}, "note": {"kept note"}}); !strings.Contains(body, `value="C-keep"`) || !strings.Contains(body, "kept note") {
		t.Error("the form was not kept after an error")
	}
	status, h, _ = report(url.Values{"type": {"late_shipment"}, "case_id": {"C-1"}, "evidence": {"https://cases.example/1"}, "note": {"Nine days late."}})
	if status != http.StatusSeeOther || !strings.Contains(h.Get("Location"), "recorded=vio_") {
		t.Fatalf("a good report = %d %q", status, h.Get("Location"))
	}
	if _, _, body := c.get(h.Get("Location")); !strings.Contains(body, "was recorded and the seller was told") {
		t.Error("no notice after recording")
	}
	status, _, body := report(url.Values{"type": {"late_shipment"}, "case_id": {"C-1"}})
	if status != http.StatusConflict || !strings.Contains(body, "nothing was counted again") {
		t.Errorf("the same case again = %d", status)
	}
	var st penalty.SellerStanding
	e.API("GET", "/v1/sellers/"+s+"/standing", nil).Decode(t, &st)
	var entries []penalty.PointEntry
	for _, l := range st.Points.Ledgers {
		entries = append(entries, l.Entries...)
	}
	if len(entries) != 1 || entries[0].Points != 2 {
		t.Fatalf("after the console's reports: %+v", entries)
	}
	vid := entries[0].ViolationID
	status, h, _ = c.post(page, "/console/violations/"+vid+"/withdraw", url.Values{"note": {"Wrong store."}})
	if status != http.StatusSeeOther || !strings.Contains(h.Get("Location"), "withdrawn="+vid) {
		t.Fatalf("withdraw = %d %q", status, h.Get("Location"))
	}
	e.API("GET", "/v1/sellers/"+s+"/standing", nil).Decode(t, &st)
	for _, l := range st.Points.Ledgers {
		if l.Total != 0 {
			t.Errorf("ledger %s still has %d points", l.Ledger, l.Total)
		}
	}
}
