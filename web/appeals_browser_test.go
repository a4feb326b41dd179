package web_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"standing"
	"standing/app/apptest"
	"standing/browsertest"
	"standing/evidence/evidencetest"
)

// TestAppealInTheBrowser is article 001 done right: a frozen buyer uploads a 4 MB photo
// and is told the 3 MB limit, next to the file, with everything else kept; fixes it and
// sends the appeal; a reviewer signs in, opens the case, sees the photo and overturns; the
// buyer's account page shows the restriction gone, and the mail arrived.
func TestAppealInTheBrowser(t *testing.T) { backends(t, testAppealInTheBrowser) }

func testAppealInTheBrowser(t *testing.T, e *apptest.Env) {
	const email, password = "frozen@example.com", "an icy buyer phrase"
	e.MustAPI("POST", "/v1/signup", map[string]any{"email": email, "password": password, "role": "buyer"}, http.StatusAccepted)
	e.MustAPI("POST", "/v1/verify", map[string]any{"email": email, "code": newestMail(t, e, email).Code}, http.StatusOK)
	acc, err := e.App.Store.AccountByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	r := e.MustAPI("POST", "/v1/accounts/"+acc.ID+"/restrictions", map[string]any{"reason_code": "risk_review", "source": "rule", "note": "VPN at checkout"}, http.StatusCreated)
	rid := r["id"].(string)
	if _, err := e.App.Appeals.CreateStaff(context.Background(), "kim@example.com", "Kim", standing.RoleReviewer, "a reviewer's long passphrase"); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	big := write("holiday.jpg", append([]byte{0xff, 0xd8, 0xff, 0xe0}, make([]byte, 4<<20)...))
	card := write("card.jpg", evidencetest.CardJPEG(t, "4111 1111 1111 1111", 12))
	id := write("id.pdf", evidencetest.PDF("IDENTITY CARD", "number covered"))
	bank := write("bank.pdf", evidencetest.PDF("Bank statement September to November"))

	b := browsertest.New(t)
	browsertest.Do(t, b, chromedp.Navigate(e.URL+"/login"), waitFor("#email"),
		typeInto("#email", email), typeInto("#password", password), click("#sign-in"), waitFor("#appeal-"+rid))
	browsertest.Do(t, b, click("#appeal-"+rid), waitFor("#appeal-form"),
		chromedp.SetUploadFiles(chromedp.CSS("#file_card_photo"), []string{big}),
		chromedp.SetUploadFiles(chromedp.CSS("#file_id_document"), []string{id}),
		chromedp.SetUploadFiles(chromedp.CSS("#file_bank_statement"), []string{bank}),
		typeInto("#statement", "I was travelling and used the hotel network."),
		click("#submit-appeal"), waitFor("#slot-card_photo .field-error"))
	msg := browsertest.Text(t, b, "#slot-card_photo .field-error")
	if !strings.Contains(msg, "holiday.jpg") || !strings.Contains(msg, "3 MB") || !strings.Contains(msg, "4") {
		t.Fatalf("the size error does not name the file and the limit: %q", msg)
	}
	if !strings.Contains(browsertest.Text(t, b, "#staged-id_document"), "id.pdf") || !strings.Contains(browsertest.Text(t, b, "#staged-bank_statement"), "bank.pdf") {
		t.Fatal("the good files were not kept")
	}
	statement, err := chromedp.Run(b, chromedp.Value(chromedp.CSS("#statement")))
	if err != nil || !strings.Contains(statement, "hotel network") {
		t.Fatalf("the statement was not kept: %q %v", statement, err)
	}
	browsertest.Do(t, b, chromedp.SetUploadFiles(chromedp.CSS("#file_card_photo"), []string{card}), click("#submit-appeal"), waitFor("#answer-by"))
	if got := browsertest.Text(t, b, "#appeal-status"); !strings.Contains(got, "Waiting for a reviewer") {
		t.Fatalf("after sending: %s", got)
	}

	rb := browsertest.New(t)
	browsertest.Do(t, rb, chromedp.Navigate(e.URL+"/console"), waitFor("#email"),
		typeInto("#email", "kim@example.com"), typeInto("#password", "a reviewer's long passphrase"), click("#console-sign-in"), waitFor("#queue"))
	appeals, err := e.App.Appeals.AppealsOf(context.Background(), acc.ID)
	if err != nil || len(appeals) != 1 {
		t.Fatalf("appeals = %v %v", appeals, err)
	}
	aid := appeals[0].ID
	browsertest.Do(t, rb, click("#open-"+aid), waitFor("#evidence img"))
	// The image element appears before its bytes arrive: wait (up to 10 s) for it to load.
	loaded, err := chromedp.Run(rb, chromedp.Poll[bool](`(() => { const i = document.querySelector("#evidence img"); return i.complete && i.naturalWidth > 0 })()`,
		chromedp.WithPollingTimeout(10*time.Second)))
	if err != nil || !loaded {
		t.Fatalf("the reviewer does not see the photo: %v %v", loaded, err)
	}
	// The page's CSP (style-src 'self') blocks style attributes, so the sizes come from
	// the stylesheet: a PDF shows in a frame 600 pixels high and as wide as the card, not
	// in the browser's default 300×150.
	size, err := chromedp.Run(rb, chromedp.Evaluate[[]float64](`(() => {
		const f = document.querySelector("#evidence iframe").getBoundingClientRect();
		const c = document.querySelector("#evidence").getBoundingClientRect();
		return [f.height, f.width, c.width];
	})()`))
	if err != nil || len(size) != 3 || size[0] != 600 || size[1] < size[2]-100 {
		t.Fatalf("the PDF frame's height, width and the card's width = %v %v; want 600 high, about as wide as the card", size, err)
	}
	browsertest.Do(t, rb, click("#decide-overturn"), typeInto("#note", "The documents match the card holder."), click("#decide"), waitFor(".notice"))
	if got := browsertest.Text(t, rb, "#case-status"); got != "overturned" {
		t.Fatalf("case status after overturning: %q", got)
	}

	browsertest.Do(t, b, chromedp.Navigate(e.URL+"/account"), waitFor("#good-standing"))
	if m := newestMail(t, e, email); m.Kind != "appeal_decision" || !strings.Contains(m.Subject, "accepted") {
		t.Fatalf("the decision mail = %+v", m)
	}
}
