package web_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"testing"

	"standing"
	"standing/app/apptest"
)

// TestConsoleQueue: the queue lists open appeals by priority, then due time; an urgent
// appeal rises, escalated (near breach, 80 % of 120 h) and breached ones rise further and
// carry their badge; filters by reason, status and "only mine" narrow it; a reviewer
// claims an appeal or assigns it to a colleague; a filter that names nothing is refused
// with the value it got.
func TestConsoleQueue(t *testing.T) { backends(t, testConsoleQueue) }

func testConsoleQueue(t *testing.T, e *apptest.Env) {
	ctx := context.Background()
	appeal := func(email, reason string, urgent bool) string {
		t.Helper()
		id := e.CreateAccount("buyer", email)
		r := e.MustAPI("POST", "/v1/accounts/"+id+"/restrictions", map[string]any{"reason_code": reason}, http.StatusCreated)
		na := standing.NewAppeal{AccountID: id, RestrictionID: r["id"].(string), Statement: "Please look again."}
		if urgent {
			na.Urgent, na.UrgentReason = true, "My customers' orders wait for me."
		}
		a, err := e.App.Appeals.Submit(ctx, na)
		if err != nil {
			t.Fatal(err)
		}
		return a.ID
	}
	first := appeal("first@example.com", "buyer_complaints", false)
	e.Advance("1h")
	urgent := appeal("urgent@example.com", "dispute_abuse", true)
	later := appeal("later@example.com", "buyer_complaints", false)

	kim, err := e.App.Appeals.CreateStaff(ctx, "kim@example.com", "Kim", standing.RoleReviewer, "a reviewer's long passphrase")
	if err != nil {
		t.Fatal(err)
	}
	lee, err := e.App.Appeals.CreateStaff(ctx, "lee@example.com", "Lee", standing.RoleReviewer, "another long passphrase")
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	signIn := func() { // a console session lasts 12 hours; the test moves days
		t.Helper()
		token, _, err := e.App.Appeals.StaffSignIn(ctx, kim.Email, "a reviewer's long passphrase")
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(e.URL)
		jar.SetCookies(u, []*http.Cookie{{Name: "standing_console", Value: token, Path: "/console"}})
	}
	signIn()

	// queue returns the page's rows in order, each with its text.
	type row struct{ id, text string }
	queue := func(query string, wantStatus int) (string, []row) {
		t.Helper()
		resp, err := c.Get(e.URL + "/console" + query)
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(resp)
		if resp.StatusCode != wantStatus {
			t.Fatalf("GET /console%s = %d, want %d:\n%s", query, resp.StatusCode, wantStatus, body)
		}
		var rows []row
		for rest := body; ; {
			i := strings.Index(rest, `<tr data-appeal="`)
			if i < 0 {
				break
			}
			rest = rest[i+len(`<tr data-appeal="`):]
			id := rest[:strings.IndexByte(rest, '"')]
			rows = append(rows, row{id, rest[:strings.Index(rest, "</tr>")]})
		}
		return body, rows
	}
	ids := func(rows []row) []string {
		var out []string
		for _, r := range rows {
			out = append(out, r.id)
		}
		return out
	}
	wantOrder := func(query string, want ...string) []row {
		t.Helper()
		_, rows := queue(query, http.StatusOK)
		if got := ids(rows); !slices.Equal(got, want) {
			t.Fatalf("queue%s = %v, want %v", query, got, want)
		}
		return rows
	}

	rows := wantOrder("", urgent, first, later)
	if !strings.Contains(rows[0].text, "urgent") || strings.Contains(rows[1].text, "breach") {
		t.Fatalf("flags: urgent row %q, first row %q", rows[0].text, rows[1].text)
	}

	// 96 h after the first appeal (80 % of 120 h) it is near breach and leads the queue.
	e.Advance("95h")
	signIn()
	rows = wantOrder("", first, urgent, later)
	if !strings.Contains(rows[0].text, "near breach") || strings.Contains(rows[1].text, "near breach") {
		t.Fatalf("at 96 h: first row %q, urgent row %q", rows[0].text, rows[1].text)
	}
	// At 120 h it is breached; the two others are near breach now.
	e.Advance("24h")
	signIn()
	rows = wantOrder("", first, urgent, later)
	if !strings.Contains(rows[0].text, "breached") || !strings.Contains(rows[1].text, "near breach") || !strings.Contains(rows[2].text, "near breach") {
		t.Fatalf("at 120 h: %q / %q / %q", rows[0].text, rows[1].text, rows[2].text)
	}
	if body, _ := queue("", http.StatusOK); !strings.Contains(body, "3 appeals open") || !strings.Contains(body, "1 breach.") {
		t.Fatalf("the queue's summary does not count the breach:\n%s", body)
	}

	wantOrder("?reason=dispute_abuse", urgent)
	wantOrder("?reason=buyer_complaints", first, later)

	// Claim one; assign another to Lee.
	body, _ := queue("", http.StatusOK)
	csrf := between(body, `name="csrf" value="`, `"`)
	claim := func(id string, form url.Values) (int, string) {
		t.Helper()
		form.Set("csrf", csrf)
		resp, err := c.PostForm(e.URL+"/console/appeals/"+id+"/claim", form)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, readAll(resp)
	}
	if status, body := claim(later, url.Values{}); status != http.StatusOK {
		t.Fatalf("claim = %d %s", status, body)
	}
	if status, body := claim(first, url.Values{"assignee": {lee.ID}}); status != http.StatusOK {
		t.Fatalf("assign = %d %s", status, body)
	}
	if status, body := claim(urgent, url.Values{"assignee": {"stf_nobody"}}); status != http.StatusUnprocessableEntity || !strings.Contains(body, "stf_nobody") {
		t.Fatalf("assigning to no one = %d %s", status, body)
	}
	rows = wantOrder("?status=in_review", first, later)
	if !strings.Contains(rows[0].text, "Lee") || !strings.Contains(rows[1].text, "Kim") {
		t.Fatalf("assignees: %q / %q", rows[0].text, rows[1].text)
	}
	wantOrder("?status=submitted", urgent)
	wantOrder("?mine=1", later)
	wantOrder("?reason=buyer_complaints&status=in_review", first, later)

	for query, says := range map[string]string{"?status=lost": "lost", "?reason=no_such_reason": "no_such_reason"} {
		if body, _ := queue(query, http.StatusUnprocessableEntity); !strings.Contains(body, says) {
			t.Errorf("GET /console%s does not name %q:\n%s", query, says, body)
		}
	}
}
