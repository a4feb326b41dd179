package web_test

import (
	"bytes"
	"context"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"standing"
	"standing/app/apptest"
	"standing/config"
	"standing/evidence/evidencetest"
)

// appealPoster sends appeal forms as a signed-in, restricted buyer would, without a
// browser, to check the statuses and messages of forms a browser would not send.
type appealPoster struct {
	e           *apptest.Env
	client      *http.Client
	csrf        string
	account     string
	restriction string
}

func newAppealPoster(t *testing.T, e *apptest.Env, email string) *appealPoster {
	t.Helper()
	const password = "a buyer's appeal phrase"
	e.MustAPI("POST", "/v1/signup", map[string]any{"email": email, "password": password, "role": "buyer"}, http.StatusAccepted)
	e.MustAPI("POST", "/v1/verify", map[string]any{"email": email, "code": newestMail(t, e, email).Code}, http.StatusOK)
	ctx := context.Background()
	acc, err := e.App.Store.AccountByEmail(ctx, email)
	if err != nil {
		t.Fatal(err)
	}
	r := e.MustAPI("POST", "/v1/accounts/"+acc.ID+"/restrictions", map[string]any{"reason_code": "dispute_abuse", "source": "rule"}, http.StatusCreated)
	token, _, err := e.App.Auth.SignIn(ctx, email, password, "127.0.0.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	p := &appealPoster{e: e, csrf: strings.Repeat("c", 32), account: acc.ID, restriction: r["id"].(string)}
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(e.URL)
	jar.SetCookies(u, []*http.Cookie{{Name: "standing_session", Value: token, Path: "/"}, {Name: "standing_csrf", Value: p.csrf, Path: "/"}})
	p.client = &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return p
}

// post sends the CSRF token, then the parts fill writes, as multipart/form-data.
func (p *appealPoster) post(t *testing.T, path string, fill func(w *multipart.Writer)) (int, string) {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	w.WriteField("csrf", p.csrf)
	fill(w)
	w.Close()
	return p.postRaw(t, path, w.FormDataContentType(), body.Bytes())
}

func (p *appealPoster) postRaw(t *testing.T, path, contentType string, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest("POST", p.e.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := p.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func writeFile(t *testing.T, w *multipart.Writer, field, filename string, data []byte) {
	t.Helper()
	fw, err := w.CreateFormFile(field, filename)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
}

// TestAppealFormStatuses: every refusal of an appeal form answers the status of its
// error's code — a form that cannot be read is 400 and a body over the limit 413, not
// 500; a file too large is 413 and a file of a refused type 422.
func TestAppealFormStatuses(t *testing.T) {
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(policy, []byte("evidence: {photo_max: 20KB, pdf_max: 20KB, video_max: 20KB}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := apptest.New(t, apptest.Options{Configure: func(c *config.Config) { c.PolicyFile = policy }})
	p := newAppealPoster(t, e, "statuses@example.com")
	statement := func(w *multipart.Writer) {
		w.WriteField("restriction_id", p.restriction)
		w.WriteField("statement", "The rule was wrong about me.")
	}

	// The body ends in the middle of a part.
	var broken bytes.Buffer
	mw := multipart.NewWriter(&broken)
	mw.WriteField("csrf", p.csrf)
	broken.WriteString("\r\n--" + mw.Boundary() + "\r\nContent-Disposition: form-data; name=\"statement\"\r\n\r\nhalf a sta")
	status, body := p.postRaw(t, "/appeals", mw.FormDataContentType(), broken.Bytes())
	if status != http.StatusBadRequest || !strings.Contains(body, "could not be read") {
		t.Errorf("a form cut short = %d, want 400 saying it could not be read:\n%s", status, body)
	}

	// More than the whole form may hold: ten files at the largest limit and 1 MB of text.
	status, body = p.post(t, "/appeals", func(w *multipart.Writer) {
		statement(w)
		writeFile(t, w, "file_other", "huge.mp4", make([]byte, 10*20<<10+2<<20))
	})
	if status != http.StatusRequestEntityTooLarge || !strings.Contains(body, "larger than") {
		t.Errorf("a body over the form's limit = %d, want 413:\n%s", status, body)
	}

	// One photo over its limit: 413, with the limit next to the file.
	status, body = p.post(t, "/appeals", func(w *multipart.Writer) {
		statement(w)
		writeFile(t, w, "file_other", "holiday.jpg", append([]byte{0xff, 0xd8, 0xff, 0xe0}, make([]byte, 30<<10)...))
	})
	if status != http.StatusRequestEntityTooLarge || !strings.Contains(body, "holiday.jpg") || !strings.Contains(body, "20 KB") {
		t.Errorf("a photo over its limit = %d, want 413 naming the file and the limit:\n%s", status, body)
	}

	// A file of a type not accepted: 422.
	status, body = p.post(t, "/appeals", func(w *multipart.Writer) {
		statement(w)
		writeFile(t, w, "file_other", "notes.txt", []byte("just some plain text, not a document we take"))
	})
	if status != http.StatusUnprocessableEntity || !strings.Contains(body, "notes.txt") {
		t.Errorf("a text file = %d, want 422 naming the file:\n%s", status, body)
	}

	// The same form with a good file goes through.
	status, body = p.post(t, "/appeals", func(w *multipart.Writer) {
		statement(w)
		writeFile(t, w, "file_other", "bank.pdf", evidencetest.PDF("Bank statement"))
	})
	if status != http.StatusSeeOther {
		t.Errorf("a good form = %d, want 303:\n%s", status, body)
	}
}

// TestAppealFormLimits: the text of an appeal form is bounded field by field and
// altogether, and so are its parts and files; fields the page does not send are refused
// by name. A signed-in person cannot make one request hold hundreds of megabytes of text.
func TestAppealFormLimits(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	p := newAppealPoster(t, e, "limits@example.com")
	tests := []struct {
		name   string
		fill   func(w *multipart.Writer)
		status int
		want   string
	}{
		{"text over 1 MB in many fields", func(w *multipart.Writer) {
			for range 20 {
				w.WriteField("statement", strings.Repeat("a", 60<<10))
			}
		}, http.StatusRequestEntityTooLarge, "longer than 1 MB altogether"},
		{"one field over 64 KB", func(w *multipart.Writer) {
			w.WriteField("statement", strings.Repeat("a", 64<<10+1))
		}, http.StatusRequestEntityTooLarge, "“statement” is longer than 64 KB"},
		{"a field the page does not send", func(w *multipart.Writer) {
			w.WriteField("statement", "Please look again.")
			w.WriteField("comment", "extra")
		}, http.StatusUnprocessableEntity, "“comment” this page does not send"},
		{"too many parts", func(w *multipart.Writer) {
			for range 100 {
				w.WriteField("staged", "")
			}
		}, http.StatusRequestEntityTooLarge, "more than 100 fields"},
		{"a file in a text field", func(w *multipart.Writer) {
			writeFile(t, w, "statement", "bank.pdf", evidencetest.PDF("Bank statement"))
		}, http.StatusUnprocessableEntity, "“statement” cannot hold a file"},
		{"more files than an appeal takes", func(w *multipart.Writer) {
			for range 11 {
				writeFile(t, w, "file_other", "empty.pdf", nil)
			}
		}, http.StatusRequestEntityTooLarge, "at most 10 files"},
	}
	for _, tt := range tests {
		status, body := p.post(t, "/appeals", func(w *multipart.Writer) {
			w.WriteField("restriction_id", p.restriction)
			tt.fill(w)
		})
		if status != tt.status || !strings.Contains(html.UnescapeString(body), tt.want) {
			t.Errorf("%s = %d, want %d saying %q:\n%s", tt.name, status, tt.status, tt.want, body)
		}
	}

	// The message form takes its own text field, and no other.
	status, body := p.post(t, "/appeals", func(w *multipart.Writer) {
		w.WriteField("restriction_id", p.restriction)
		w.WriteField("statement", "Resolved disputes should count for me.")
	})
	if status != http.StatusSeeOther {
		t.Fatalf("a good appeal = %d:\n%s", status, body)
	}
	list, err := e.App.Appeals.AppealsOf(context.Background(), p.account)
	if err != nil || len(list) != 1 {
		t.Fatalf("appeals = %v, %v", list, err)
	}
	path := "/appeals/" + list[0].ID + "/messages"
	status, body = p.post(t, path, func(w *multipart.Writer) { w.WriteField("statement", "More words.") })
	if status != http.StatusUnprocessableEntity || !strings.Contains(html.UnescapeString(body), "“statement” this page does not send") {
		t.Errorf("a message with the appeal form's field = %d, want 422:\n%s", status, body)
	}
	status, body = p.post(t, path, func(w *multipart.Writer) { w.WriteField("body", "More words.") })
	if status != http.StatusSeeOther {
		t.Errorf("a message = %d, want 303:\n%s", status, body)
	}
}

// TestAccountAppealLinks: /account offers "Appeal" with the date the time to appeal ends;
// once an appeal is open, "View appeal" instead (no form that ends in "you already
// appealed"); once the time has ended, no button but the date it ended, and the form says
// so before anything is typed or uploaded.
func TestAccountAppealLinks(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	p := newAppealPoster(t, e, "links@example.com")
	ctx := context.Background()
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := p.client.Get(e.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	second := e.MustAPI("POST", "/v1/accounts/"+p.account+"/restrictions", map[string]any{"reason_code": "buyer_complaints"}, http.StatusCreated)["id"].(string)
	closes := e.App.Policy().AppealClosesAt(e.Clock.Now())
	_, page := get("/account")
	for _, want := range []string{`id="appeal-` + p.restriction + `"`, `id="appeal-` + second + `"`, "You can appeal until " + standing.FormatTime(closes)} {
		if !strings.Contains(page, want) {
			t.Fatalf("/account lacks %q", want)
		}
	}
	a, err := e.App.Appeals.Submit(ctx, standing.NewAppeal{AccountID: p.account, RestrictionID: p.restriction, Statement: "The disputes were right."})
	if err != nil {
		t.Fatal(err)
	}
	_, page = get("/account")
	if !strings.Contains(page, `href="/appeals/`+a.ID+`" id="view-appeal-`+p.restriction+`"`) || strings.Contains(page, `id="appeal-`+p.restriction+`"`) {
		t.Fatalf("/account after appealing does not point to the appeal %s", a.ID)
	}
	// Past the end of the time to appeal (the session is kept alive by a fresh sign-in).
	if err := e.Clock.Advance(closes.Sub(e.Clock.Now()) + time.Minute); err != nil {
		t.Fatal(err)
	}
	token, _, err := e.App.Auth.SignIn(ctx, "links@example.com", "a buyer's appeal phrase", "127.0.0.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(e.URL)
	p.client.Jar.SetCookies(u, []*http.Cookie{{Name: "standing_session", Value: token, Path: "/"}})
	_, page = get("/account")
	if strings.Contains(page, `id="appeal-`+second+`"`) || !strings.Contains(page, "ended on "+standing.FormatTime(closes)) {
		t.Fatalf("/account after the time to appeal still offers it, or does not say when it ended")
	}
	if status, page := get("/appeals/new?restriction=" + second); status != http.StatusGone || !strings.Contains(page, "ended on "+standing.FormatTime(closes)) {
		t.Fatalf("the form after the time to appeal = %d", status)
	}
}

// TestOrdersListStatusAndDisputes: /orders lists the person's orders with their status in
// words and their disputes, and no one else's.
func TestOrdersListStatusAndDisputes(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	p := newAppealPoster(t, e, "orders@example.com")
	seller := e.CreateAccount("seller", "shop@example.com")
	other := e.CreateAccount("buyer", "other@example.com")
	order := func(buyer string) string {
		return e.MustAPI("POST", "/v1/orders", map[string]any{"buyer_id": buyer, "seller_id": seller, "amount": 1250, "currency": "EUR", "status": "paid"}, http.StatusCreated)["id"].(string)
	}
	mine, theirs := order(p.account), order(other)
	e.MustAPI("POST", "/v1/disputes", map[string]any{"order_id": mine, "reason": "not_received"}, http.StatusCreated)
	resp, err := p.client.Get(e.URL + "/orders")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(b)
	i := strings.Index(page, `id="order-`+mine+`"`)
	if resp.StatusCode != 200 || i < 0 || strings.Contains(page, theirs) {
		t.Fatalf("/orders = %d; own order shown: %v; another buyer's shown: %v", resp.StatusCode, i >= 0, strings.Contains(page, theirs))
	}
	card := page[i : i+strings.Index(page[i:], "</div>")]
	for _, want := range []string{`data-status="paid"`, "Paid, being prepared", "EUR 12.50", "<dt>Dispute</dt><dd>open"} {
		if !strings.Contains(card, want) {
			t.Errorf("the order's card lacks %q:\n%s", want, card)
		}
	}
}
