package appeals_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"standing"
	"standing/app/apptest"
	"standing/appeals"
	"standing/auth"
	"standing/blob"
	"standing/config"
	"standing/dsa"
	"standing/evidence/evidencetest"
	"standing/httpapi"
)

func backends(t *testing.T, fn func(t *testing.T, e *apptest.Env)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, apptest.New(t, apptest.Options{})) })
	t.Run("postgres", func(t *testing.T) { fn(t, apptest.New(t, apptest.Options{Postgres: true})) })
}

// files are the three documents a risk_review appeal needs, all acceptable.
func files(t *testing.T) map[string]struct {
	name string
	data []byte
} {
	return map[string]struct {
		name string
		data []byte
	}{
		"file_card_photo":     {"card.jpg", evidencetest.CardJPEG(t, "4111 1111 1111 1111", 12)},
		"file_id_document":    {"id.pdf", evidencetest.PDF("IDENTITY CARD", "Name: covered")},
		"file_bank_statement": {"statement.pdf", evidencetest.PDF("Bank statement, last 3 months", "Balance: covered")},
	}
}

// submit files an appeal through the API as a marketplace would.
func submit(t *testing.T, e *apptest.Env, fields map[string]string, withFiles map[string]struct {
	name string
	data []byte
}) apptest.Response {
	t.Helper()
	return post(t, e, func(mw *multipart.Writer) {
		for _, k := range []string{"account_id", "restriction_id", "order_id", "statement", "urgent", "urgent_reason"} {
			if v, ok := fields[k]; ok {
				mw.WriteField(k, v)
			}
		}
		for field, f := range withFiles {
			w, _ := mw.CreateFormFile(field, f.name)
			w.Write(f.data)
		}
	})
}

// post sends POST /v1/appeals with the multipart body that write makes.
func post(t *testing.T, e *apptest.Env, write func(mw *multipart.Writer)) apptest.Response {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	write(mw)
	mw.Close()
	req, _ := http.NewRequest("POST", e.URL+"/v1/appeals", &body)
	req.Header.Set("Authorization", "Bearer "+e.Key)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return apptest.Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

func restricted(t *testing.T, e *apptest.Env, email, reason string) (string, string) {
	t.Helper()
	id := e.CreateAccount("buyer", email)
	r := e.MustAPI("POST", "/v1/accounts/"+id+"/restrictions", map[string]any{"reason_code": reason, "note": "Ana Example, card 4111"}, http.StatusCreated)
	return id, r["id"].(string)
}

func reviewer(t *testing.T, e *apptest.Env, email, name string) standing.StaffUser {
	t.Helper()
	u, err := e.App.Appeals.CreateStaff(context.Background(), email, name, standing.RoleReviewer, "a reviewer's long passphrase")
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func lastMail(t *testing.T, e *apptest.Env, to string) standing.Mail {
	t.Helper()
	ms, err := e.App.Store.Mails(context.Background(), to, 1)
	if err != nil || len(ms) == 0 {
		t.Fatalf("no mail to %s", to)
	}
	return ms[0]
}

func TestAppealLifecycle(t *testing.T) {
	backends(t, func(t *testing.T, e *apptest.Env) {
		accID, rid := restricted(t, e, "appellant@example.com", "risk_review")
		r := submit(t, e, map[string]string{"account_id": accID, "restriction_id": rid, "statement": "I used a hotel wifi; here are my documents."}, files(t))
		if r.Status != http.StatusCreated {
			t.Fatalf("submit = %d %s", r.Status, r.Body)
		}
		var a standing.Appeal
		r.Decode(t, &a)
		if a.Status != standing.AppealSubmitted || !a.DueAt.Equal(e.Clock.Now().Add(48*3600e9)) || len(a.Evidence) != 3 {
			t.Fatalf("appeal = %+v", a)
		}
		if m := lastMail(t, e, "appellant@example.com"); m.Kind != "appeal_received" || !strings.Contains(m.Text, standing.FormatTime(a.DueAt)) {
			t.Fatalf("confirmation mail = %+v", m)
		}
		// One open appeal per restriction.
		if r := submit(t, e, map[string]string{"account_id": accID, "restriction_id": rid, "statement": "again"}, files(t)); r.Status != http.StatusConflict {
			t.Fatalf("second appeal = %d %s", r.Status, r.Body)
		}
		kim := reviewer(t, e, "kim@example.com", "Kim")
		ctx := context.Background()
		if _, err := e.App.Appeals.Decide(ctx, kim, a.ID, standing.DecideAskInfo, "Please add a photo of the card's back with the code covered."); err != nil {
			t.Fatal(err)
		}
		if m := lastMail(t, e, "appellant@example.com"); m.Kind != "appeal_needs_info" || !strings.Contains(m.Text, "card's back") {
			t.Fatalf("needs-info mail = %+v", m)
		}
		e.Advance("10h") // the deadline pauses while the reviewer waits for the person
		ev, err := e.App.Appeals.Upload(ctx, accID, "other", "file_other", "back.jpg", bytes.NewReader(evidencetest.CardJPEG(t, "CVV ***", 0)))
		if err != nil {
			t.Fatal(err)
		}
		if err := e.App.Appeals.Reply(ctx, accID, a.ID, "Here is the back.", []string{ev.ID}); err != nil {
			t.Fatal(err)
		}
		back, _ := e.App.Appeals.Appeal(ctx, a.ID)
		if back.Status != standing.AppealSubmitted || !back.DueAt.Equal(a.DueAt.Add(10*3600e9)) || len(back.Evidence) != 4 {
			t.Fatalf("after the reply: status %s due %s (was %s), %d documents", back.Status, back.DueAt, a.DueAt, len(back.Evidence))
		}
		if _, err := e.App.Appeals.Decide(ctx, kim, a.ID, standing.DecideOverturn, ""); standing.ErrorField(err) != "note" {
			t.Fatalf("a decision without grounds: %v", err)
		}
		if _, err := e.App.Appeals.Decide(ctx, kim, a.ID, standing.DecideOverturn, "The documents match the card holder."); err != nil {
			t.Fatal(err)
		}
		if got := e.MustAPI("POST", "/v1/check", map[string]any{"account_id": accID, "capability": "pay"}, 200); got["allowed"] != true {
			t.Fatalf("after overturning: %v", got)
		}
		if m := lastMail(t, e, "appellant@example.com"); m.Kind != "appeal_decision" || !strings.Contains(m.Text, "agreed with you") {
			t.Fatalf("decision mail = %+v", m)
		}
		got := e.MustAPI("GET", "/v1/appeals/"+a.ID, nil, 200)
		if got["status"] != "overturned" || got["decided_by"] != "Kim" {
			t.Fatalf("GET appeal = %v", got)
		}
		// The audit log holds the appeal, the reviewer's decision and the lift it made.
		var actions []string
		for _, en := range e.MustAPI("GET", "/v1/accounts/"+accID+"/timeline", nil, 200)["entries"].([]any) {
			actions = append(actions, en.(map[string]any)["action"].(string))
		}
		for _, want := range []string{"appeal.submitted", "appeal.overturned", "restriction.lifted"} {
			if !slices.Contains(actions, want) {
				t.Errorf("the timeline %v lacks %s", actions, want)
			}
		}
	})
}

func TestAppealRefusals(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	accID, rid := restricted(t, e, "refused@example.com", "risk_review")
	cases := []struct {
		name   string
		fields map[string]string
		files  map[string]struct {
			name string
			data []byte
		}
		status int
		field  string
		says   string
	}{
		{"no statement", map[string]string{"account_id": accID, "restriction_id": rid}, files(t), 422, "statement", "why"},
		{"missing document", map[string]string{"account_id": accID, "restriction_id": rid, "statement": "x"}, nil, 422, "file_card_photo", "needed"},
		{"urgent without a reason", map[string]string{"account_id": accID, "restriction_id": rid, "statement": "x", "urgent": "true"}, files(t), 422, "urgent_reason", "why it is urgent"},
		{"urgent not a yes or no", map[string]string{"account_id": accID, "restriction_id": rid, "statement": "x", "urgent": "very"}, files(t), 422, "urgent", "very"},
		{"card number readable", map[string]string{"account_id": accID, "restriction_id": rid, "statement": "x"},
			map[string]struct {
				name string
				data []byte
			}{"file_card_photo": {"card.jpg", evidencetest.CardJPEG(t, "4111 1111 1111 1111", 0)}}, 422, "file_card_photo", "cover all but the last four"},
		{"photo too large", map[string]string{"account_id": accID, "restriction_id": rid, "statement": "x"},
			map[string]struct {
				name string
				data []byte
			}{"file_card_photo": {"big.jpg", append([]byte{0xff, 0xd8, 0xff, 0xe0}, make([]byte, 4<<20)...)}}, 413, "file_card_photo", "3 MB"},
		{"not a document", map[string]string{"account_id": accID, "restriction_id": rid, "statement": "x"},
			map[string]struct {
				name string
				data []byte
			}{"file_card_photo": {"card.jpg", []byte("MZ\x90\x00 this is a program")}}, 422, "file_card_photo", "JPEG"},
		{"another account's restriction", map[string]string{"account_id": e.CreateAccount("buyer", "other@example.com"), "restriction_id": rid, "statement": "x"}, nil, 404, "", ""},
		{"unknown account", map[string]string{"account_id": "acc_nope", "restriction_id": rid, "statement": "x"}, nil, 404, "account_id", "no such account"},
		// The account is checked before any file is stored: not a foreign-key 500, and not
		// a refusal that shows where files are kept.
		{"unknown account with files", map[string]string{"account_id": "acc_nope", "restriction_id": rid, "statement": "x"}, files(t), 404, "account_id", "no such account"},
		{"a path for an account", map[string]string{"account_id": "../../" + accID, "restriction_id": rid, "statement": "x"}, files(t), 404, "account_id", "no such account"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := submit(t, e, c.fields, c.files)
			p := r.JSON()
			if r.Status != c.status || (c.field != "" && p["field"] != c.field) || !strings.Contains(p["detail"].(string), c.says) || strings.Contains(string(r.Body), "evidence/") {
				t.Fatalf("= %d %s, want %d field %q saying %q", r.Status, r.Body, c.status, c.field, c.says)
			}
		})
	}
	// email_unverified is not appealable: the remedy is to confirm.
	_, unverified := restricted(t, e, "lazy@example.com", "email_unverified")
	if _, err := e.App.Appeals.Submit(context.Background(), standing.NewAppeal{AccountID: accountOf(t, e, "lazy@example.com"), RestrictionID: unverified, Statement: "x"}); standing.ErrorCode(err) != standing.EINVALID {
		t.Fatalf("appealing email_unverified: %v", err)
	}
	// The window closes 180 days after the decision, or six calendar months after it when
	// that is later (DSA Art. 20(1)): an appeal at the last minute is in time, one a minute
	// after it is refused with the date.
	inTimeAcc, inTime := restricted(t, e, "just@example.com", "buyer_complaints")
	lateAcc, late := restricted(t, e, "late@example.com", "buyer_complaints")
	closes := e.App.Policy().AppealClosesAt(e.Clock.Now())
	if min := e.Clock.Now().AddDate(0, 6, 0); closes.Before(min) || closes.Before(e.Clock.Now().Add(180*24*time.Hour)) {
		t.Fatalf("the window closes %s, before 180 days and six months", closes)
	}
	e.Advance(closes.Sub(e.Clock.Now()).String())
	if _, err := e.App.Appeals.Submit(context.Background(), standing.NewAppeal{AccountID: inTimeAcc, RestrictionID: inTime, Statement: "x"}); err != nil {
		t.Fatalf("appeal at the window's last moment: %v", err)
	}
	e.Advance("1m")
	if _, err := e.App.Appeals.Submit(context.Background(), standing.NewAppeal{AccountID: lateAcc, RestrictionID: late, Statement: "x"}); standing.ErrorCode(err) != standing.EGONE ||
		!strings.Contains(standing.ErrorMessage(err), standing.FormatTime(closes)) {
		t.Fatalf("appeal after the window: %v", err)
	}
}

// TestAppealWindowNeverUnderSixMonths: a policy whose appeal window is shorter than the law
// allows still keeps appeals open six months (DSA Art. 20(1)).
func TestAppealWindowNeverUnderSixMonths(t *testing.T) {
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(policy, []byte("appeals:\n  window: 30d\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := apptest.New(t, apptest.Options{Configure: func(c *config.Config) { c.PolicyFile = policy }})
	accID, rid := restricted(t, e, "short@example.com", "buyer_complaints")
	e.Advance("150d")
	if _, err := e.App.Appeals.Submit(context.Background(), standing.NewAppeal{AccountID: accID, RestrictionID: rid, Statement: "x"}); err != nil {
		t.Fatalf("appeal 150 days after, with a 30-day window: %v", err)
	}
}

// TestOrderAppealAsksForTheClosingReasonsDocuments: an order closed by risk whose row kept
// no reason code is appealed as risk_review: the documents the form asks for are needed
// through the API too, and the appeal carries the reason.
func TestOrderAppealAsksForTheClosingReasonsDocuments(t *testing.T) {
	backends(t, func(t *testing.T, e *apptest.Env) {
		buyer := e.CreateAccount("buyer", "orderer@example.com")
		seller := e.CreateAccount("seller", "seller@example.com")
		oid := e.MustAPI("POST", "/v1/orders", map[string]any{"buyer_id": buyer, "seller_id": seller, "amount": 2599, "currency": "EUR", "status": "paid"}, http.StatusCreated)["id"].(string)
		// Closed by a rule before closed orders kept their reason code.
		if err := e.App.Store.ExecRaw(context.Background(), "UPDATE orders SET status = 'closed_by_risk', closed_reason_code = '', closed_at = ? WHERE id = ?",
			e.Clock.Now().UnixMicro(), oid); err != nil {
			t.Fatal(err)
		}
		r := submit(t, e, map[string]string{"account_id": buyer, "order_id": oid, "statement": "The order was mine."}, nil)
		if p := r.JSON(); r.Status != 422 || p["field"] != "file_card_photo" {
			t.Fatalf("an order appeal without the documents = %d %s, want 422 naming file_card_photo", r.Status, r.Body)
		}
		r = submit(t, e, map[string]string{"account_id": buyer, "order_id": oid, "statement": "The order was mine."}, files(t))
		if r.Status != http.StatusCreated {
			t.Fatalf("order appeal = %d %s", r.Status, r.Body)
		}
		var a standing.Appeal
		r.Decode(t, &a)
		if a.OrderID != oid || a.ReasonCode != standing.ReasonRiskReview || len(a.Evidence) != 3 {
			t.Fatalf("order appeal = %+v", a)
		}
	})
}

// TestSweepKeepsRowsAndFilesTogether: a file uploaded but never attached to an appeal
// (the form was abandoned) and a file with no row (a crash between storing it and
// recording it) are removed by the hourly sweep once a day old; an appeal's files stay.
func TestSweepKeepsRowsAndFilesTogether(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	ctx := context.Background()
	accID, rid := restricted(t, e, "sweep@example.com", "risk_review")
	r := submit(t, e, map[string]string{"account_id": accID, "restriction_id": rid, "statement": "Mine."}, files(t))
	if r.Status != http.StatusCreated {
		t.Fatalf("submit = %d %s", r.Status, r.Body)
	}
	abandoned, err := e.App.Appeals.Upload(ctx, accID, "other", "file_other", "receipt.pdf", bytes.NewReader(evidencetest.PDF("A receipt")))
	if err != nil {
		t.Fatal(err)
	}
	orphan := "evidence/" + accID + "/evd_orphan.pdf"
	pdf := evidencetest.PDF("Stored, then the process died")
	if err := e.App.Blobs.Put(ctx, orphan, bytes.NewReader(pdf), int64(len(pdf)), "application/pdf"); err != nil {
		t.Fatal(err)
	}
	keys := func() []string {
		t.Helper()
		var out []string
		if err := e.App.Blobs.List(ctx, "evidence/"+accID+"/", func(i blob.Info) error { out = append(out, i.Key); return nil }); err != nil {
			t.Fatal(err)
		}
		return out
	}
	e.Advance("23h")
	if n := len(keys()); n != 5 {
		t.Fatalf("%d files after 23 hours, want all 5 (3 attached, 1 staged, 1 orphan): the sweep is too eager", n)
	}
	// The orphan's age comes from the store's modification time, on the wall clock: move
	// the service's clock a day past both.
	e.Advance((max(26*time.Hour, time.Since(e.Clock.Now())+25*time.Hour)).Round(time.Minute).String())
	got := keys()
	if len(got) != 3 || slices.Contains(got, orphan) || slices.Contains(got, abandoned.Key) {
		t.Fatalf("files after the sweep = %v, want the appeal's 3 only", got)
	}
	if _, err := e.App.Store.Evidence(ctx, abandoned.ID); standing.ErrorCode(err) != standing.ENOTFOUND {
		t.Fatalf("the abandoned upload's row after the sweep: %v", err)
	}
	var a standing.Appeal
	r.Decode(t, &a)
	if a, err := e.App.Appeals.Appeal(ctx, a.ID); err != nil || len(a.Evidence) != 3 {
		t.Fatalf("the appeal after the sweep: %d documents, %v", len(a.Evidence), err)
	}
}

// TestAppealFormBounds: the API takes known text fields only, bounded one by one and
// together, refuses an erased account before storing anything, and stores at most
// standing.MaxEvidence files: the eleventh is refused before it is stored.
func TestAppealFormBounds(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	accID, rid := restricted(t, e, "bounds@example.com", "risk_review")
	stored := func(account string) int {
		t.Helper()
		n := 0
		if err := e.App.Blobs.List(context.Background(), "evidence/"+account+"/", func(blob.Info) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	want := func(r apptest.Response, status int, field, says string) {
		t.Helper()
		p := r.JSON()
		got, _ := p["field"].(string)
		if r.Status != status || got != field || !strings.Contains(p["detail"].(string), says) {
			t.Fatalf("= %d %s, want %d field %q saying %q", r.Status, r.Body, status, field, says)
		}
	}
	pdf := evidencetest.PDF("A receipt", "Paid in full")

	r := post(t, e, func(mw *multipart.Writer) {
		mw.WriteField("account_id", accID)
		mw.WriteField("restriction_id", rid)
		mw.WriteField("statement", "Eleven receipts.")
		for i := 0; i <= standing.MaxEvidence; i++ {
			w, _ := mw.CreateFormFile("file_other", "receipt.pdf")
			w.Write(pdf)
		}
	})
	want(r, 422, "file_other", "at most 10")
	if n := stored(accID); n != standing.MaxEvidence {
		t.Fatalf("%d files stored, want %d: the eleventh must be refused before it is stored", n, standing.MaxEvidence)
	}

	r = post(t, e, func(mw *multipart.Writer) {
		mw.WriteField("account_id", accID)
		mw.WriteField("nickname", "Ana")
	})
	want(r, 422, "nickname", "unknown field")

	r = post(t, e, func(mw *multipart.Writer) {
		mw.WriteField("account_id", accID)
		mw.WriteField("statement", strings.Repeat("x", appeals.MaxTextField+1))
	})
	want(r, 413, "statement", "longer than 64 KB")

	// Many fields, each within its bound, are refused together once they pass 1 MB.
	r = post(t, e, func(mw *multipart.Writer) {
		mw.WriteField("account_id", accID)
		for i := 0; i < 20; i++ {
			mw.WriteField("statement", strings.Repeat("x", appeals.MaxTextField))
		}
	})
	want(r, 413, "", "1 MB altogether")

	erased := e.CreateAccount("buyer", "gone@example.com")
	if err := e.App.Store.ExecRaw(context.Background(), "UPDATE accounts SET lifecycle = 'erased' WHERE id = ?", erased); err != nil {
		t.Fatal(err)
	}
	r = post(t, e, func(mw *multipart.Writer) {
		mw.WriteField("account_id", erased)
		w, _ := mw.CreateFormFile("file_other", "receipt.pdf")
		w.Write(pdf)
	})
	want(r, 410, "account_id", "erased")
	if n := stored(erased); n != 0 {
		t.Fatalf("%d files stored for an erased account", n)
	}
}

// TestStaffSignInTakesAsLongForAnyEmail: a wrong email costs a password hash, as a wrong
// password does, so the console's sign-in does not tell by its timing who is staff. The
// runs are timed on the wall clock (a hash is tens of milliseconds; a lookup that skips
// it, well under one), and the margin is wide: the fastest of five tries with an unknown
// email must take a quarter of the fastest with a wrong password.
func TestStaffSignInTakesAsLongForAnyEmail(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	reviewer(t, e, "kim@example.com", "Kim")
	// The work of the password hashes a failed sign-in runs, not its wall time: the same
	// argon2id cost whether the email is staff's or nobody's.
	work := func(email string) int64 {
		before := auth.PasswordWork()
		if _, _, err := e.App.Appeals.StaffSignIn(context.Background(), email, "not the passphrase"); err == nil {
			t.Fatal("a wrong password signed in")
		}
		return auth.PasswordWork() - before
	}
	known, unknown := work("kim@example.com"), work("nobody@example.com")
	if known == 0 || unknown != known {
		t.Fatalf("a wrong email costs %d units of password hashing, a wrong password %d: the difference tells who is staff", unknown, known)
	}
}

func accountOf(t *testing.T, e *apptest.Env, email string) string {
	a, err := e.App.Store.AccountByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return a.ID
}

// reviewerKey creates an API key bound to the reviewer and returns its secret.
func reviewerKey(t *testing.T, e *apptest.Env, u standing.StaffUser, scopes ...string) string {
	t.Helper()
	k, secret, err := httpapi.NewKey("desk of "+u.Name, scopes, e.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	k.ReviewerID = u.ID
	if err := e.App.Store.CreateAPIKey(context.Background(), k, httpapi.HashKey(secret)); err != nil {
		t.Fatal(err)
	}
	return secret
}

func TestFraudNeedsTwoReviewers(t *testing.T) {
	backends(t, func(t *testing.T, e *apptest.Env) {
		accID, rid := restricted(t, e, "fraud@example.com", "fraud_confirmed")
		r := submit(t, e, map[string]string{"account_id": accID, "restriction_id": rid, "statement": "It was my brother, not me."}, nil)
		if r.Status != http.StatusCreated {
			t.Fatalf("submit = %d %s", r.Status, r.Body)
		}
		id := r.JSON()["id"].(string)
		kim, lee := reviewer(t, e, "kim@example.com", "Kim"), reviewer(t, e, "lee@example.com", "Lee")
		kimKey, leeKey := reviewerKey(t, e, kim, standing.ScopeAppealsDecide), reviewerKey(t, e, lee, standing.ScopeAppealsDecide)
		path := "/v1/appeals/" + id + "/decision"
		decide := func(key string, body map[string]any, want int) map[string]any {
			t.Helper()
			r := e.Do("POST", path, key, body)
			if r.Status != want {
				t.Fatalf("decision %v = %d %s, want %d", body, r.Status, r.Body, want)
			}
			return r.JSON()
		}
		first := decide(kimKey, map[string]any{"decision": "overturned", "note": "Credible."}, http.StatusAccepted)
		if first["waiting_for_second_reviewer"] != true {
			t.Fatalf("first vote = %v", first)
		}
		if got := e.MustAPI("POST", "/v1/check", map[string]any{"account_id": accID, "capability": "place_order"}, 200); got["allowed"] != false {
			t.Fatal("one reviewer lifted a fraud restriction")
		}
		// One key cannot cast the second vote by naming the other reviewer.
		if p := decide(kimKey, map[string]any{"reviewer_id": lee.ID, "decision": "overturned", "note": "Agree."}, http.StatusForbidden); p["field"] != "reviewer_id" {
			t.Fatalf("a key voting as another reviewer = %v", p)
		}
		// The same reviewer voting again does not count twice; naming themselves is fine.
		decide(kimKey, map[string]any{"reviewer_id": kim.ID, "decision": "overturned", "note": "Still credible."}, http.StatusAccepted)
		second := decide(leeKey, map[string]any{"decision": "overturned", "note": "Agree."}, http.StatusOK)
		if second["appeal"].(map[string]any)["status"] != "overturned" {
			t.Fatalf("second vote = %v", second)
		}
		if got := e.MustAPI("POST", "/v1/check", map[string]any{"account_id": accID, "capability": "place_order"}, 200); got["allowed"] != true {
			t.Fatal("two reviewers agreed and the restriction stays")
		}
	})
}

// TestDecisionNeedsAReviewerKey: deciding takes the appeals:decide scope and a key bound
// to an active reviewer; appeals:write files appeals but decides nothing.
func TestDecisionNeedsAReviewerKey(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	accID, rid := restricted(t, e, "decide@example.com", "buyer_complaints")
	a, err := e.App.Appeals.Submit(context.Background(), standing.NewAppeal{AccountID: accID, RestrictionID: rid, Statement: "I never complained."})
	if err != nil {
		t.Fatal(err)
	}
	kim := reviewer(t, e, "kim@example.com", "Kim")
	path := "/v1/appeals/" + a.ID + "/decision"
	body := map[string]any{"reviewer_id": kim.ID, "decision": "upheld", "note": "The complaints are documented."}
	cases := []struct {
		name string
		key  string
		says string
	}{
		{"appeals:write only", reviewerKey(t, e, kim, standing.ScopeAppealsWrite), standing.ScopeAppealsDecide},
		{"a key bound to no reviewer", e.NewKey("shop", standing.ScopeAppealsDecide), "not bound to a reviewer"},
		{"every scope but no reviewer", e.Key, "not bound to a reviewer"},
	}
	for _, c := range cases {
		r := e.Do("POST", path, c.key, body)
		if r.Status != http.StatusForbidden || !strings.Contains(r.JSON()["detail"].(string), c.says) {
			t.Errorf("%s: = %d %s, want 403 saying %q", c.name, r.Status, r.Body, c.says)
		}
	}
	key := reviewerKey(t, e, kim, standing.ScopeAppealsDecide)
	// A reviewer who left is disabled; their key stops deciding at once.
	if err := e.App.Store.ExecRaw(context.Background(), "UPDATE staff_users SET disabled = 1 WHERE id = ?", kim.ID); err != nil {
		t.Fatal(err)
	}
	if r := e.Do("POST", path, key, body); r.Status != http.StatusForbidden || !strings.Contains(r.JSON()["detail"].(string), "not an active") {
		t.Fatalf("a disabled reviewer's key = %d %s", r.Status, r.Body)
	}
	if got, _ := e.App.Appeals.Appeal(context.Background(), a.ID); got.Status != standing.AppealSubmitted {
		t.Fatalf("a refused decision changed the appeal: %s", got.Status)
	}
}

func TestUpheldPointsToOutOfCourtBodies(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	accID, rid := restricted(t, e, "upheld@example.com", "dispute_abuse")
	a, err := e.App.Appeals.Submit(context.Background(), standing.NewAppeal{AccountID: accID, RestrictionID: rid, Statement: "The sellers never shipped."})
	if err != nil {
		t.Fatal(err)
	}
	kim := reviewer(t, e, "kim@example.com", "Kim")
	if _, err := e.App.Appeals.Decide(context.Background(), kim, a.ID, standing.DecideUphold, "Eight of ten disputes were opened before the delivery date."); err != nil {
		t.Fatal(err)
	}
	m := lastMail(t, e, "upheld@example.com")
	for _, want := range []string{"Eight of ten", "Article 21", "out-of-court", "court"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("upheld mail lacks %q:\n%s", want, m.Text)
		}
	}
}

func TestEscalationAndMetrics(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	accID, rid := restricted(t, e, "slow@example.com", "buyer_complaints")
	a, err := e.App.Appeals.Submit(context.Background(), standing.NewAppeal{AccountID: accID, RestrictionID: rid, Statement: "Please look."})
	if err != nil {
		t.Fatal(err)
	}
	e.Advance("95h")
	if got, _ := e.App.Appeals.Appeal(context.Background(), a.ID); got.EscalatedAt != nil {
		t.Fatal("escalated before 80 % of the breach time")
	}
	e.Advance("1h")
	got, _ := e.App.Appeals.Appeal(context.Background(), a.ID)
	if got.EscalatedAt == nil || got.Priority != standing.PriorityEscalated {
		t.Fatalf("at 96 h: %+v", got)
	}
	e.Advance("24h")
	got, _ = e.App.Appeals.Appeal(context.Background(), a.ID)
	if got.BreachedAt == nil {
		t.Fatalf("at 120 h: not breached: %+v", got)
	}
	r := e.Do("GET", "/metrics", "", nil)
	for _, want := range []string{"standing_appeals_open 1", "standing_appeals_breached 1", "standing_appeals_oldest_age_seconds 432000"} {
		if !strings.Contains(string(r.Body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

// TestOthersCannotSee: a buyer asking for another buyer's appeal or evidence gets 404, and
// a reviewer's evidence link stops working when it expires.
func TestOthersCannotSee(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	accID, rid := restricted(t, e, "owner@example.com", "risk_review")
	r := submit(t, e, map[string]string{"account_id": accID, "restriction_id": rid, "statement": "Mine."}, files(t))
	var a standing.Appeal
	r.Decode(t, &a)
	signIn := func(email string) *http.Client {
		t.Helper()
		// Give the account a password through the reset flow, then sign in on the pages.
		e.MustAPI("POST", "/v1/password-reset", map[string]any{"email": email}, http.StatusAccepted)
		m := lastMail(t, e, email)
		_, tok, _ := strings.Cut(strings.Fields(m.Text[strings.Index(m.Text, "token="):])[0], "token=")
		e.MustAPI("POST", "/v1/password-reset", map[string]any{"token": tok, "password": "a long enough phrase"}, http.StatusOK)
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar}
		s := e.MustAPI("POST", "/v1/sessions", map[string]any{"email": email, "password": "a long enough phrase"}, http.StatusCreated)
		u, _ := url.Parse(e.URL)
		jar.SetCookies(u, []*http.Cookie{{Name: "standing_session", Value: s["token"].(string), Path: "/"}})
		return c
	}
	e.CreateAccount("buyer", "snoop@example.com")
	owner, snoop := signIn("owner@example.com"), signIn("snoop@example.com")
	get := func(c *http.Client, path string) int {
		resp, err := c.Get(e.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := get(owner, "/appeals/"+a.ID); s != 200 {
		t.Fatalf("the owner's own appeal = %d", s)
	}
	if s := get(owner, "/appeals/"+a.ID+"/evidence/"+a.Evidence[0].ID); s != 200 {
		t.Fatalf("the owner's own evidence = %d", s)
	}
	if s := get(snoop, "/appeals/"+a.ID); s != 404 {
		t.Fatalf("another buyer's appeal = %d, want 404", s)
	}
	if s := get(snoop, "/appeals/"+a.ID+"/evidence/"+a.Evidence[0].ID); s != 404 {
		t.Fatalf("another buyer's evidence = %d, want 404", s)
	}
	// A signed evidence link works for a reviewer for 10 minutes (policy), then not.
	reviewer(t, e, "kim@example.com", "Kim")
	token, _, err := e.App.Appeals.StaffSignIn(context.Background(), "kim@example.com", "a reviewer's long passphrase")
	if err != nil {
		t.Fatal(err)
	}
	link := e.App.Appeals.EvidenceLink(a.Evidence[0].ID)
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(e.URL)
	jar.SetCookies(u, []*http.Cookie{{Name: "standing_console", Value: token, Path: "/console"}})
	kim := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if s := get(kim, link); s != 200 {
		t.Fatalf("a fresh evidence link = %d", s)
	}
	if s := get(snoop, link); s != http.StatusSeeOther && s != http.StatusUnauthorized && s != 200 {
		t.Fatalf("a person opening a reviewer's link = %d", s)
	}
	if resp, _ := (&http.Client{CheckRedirect: kim.CheckRedirect}).Get(e.URL + link); resp.StatusCode == 200 {
		t.Fatal("a reviewer's link opened without a console session")
	}
	tampered := strings.Replace(link, "sig=", "sig=0", 1)
	if s := get(kim, tampered); s != http.StatusForbidden {
		t.Fatalf("a tampered link = %d", s)
	}
	e.Advance("11m")
	if s := get(kim, link); s != http.StatusGone {
		t.Fatalf("an expired evidence link = %d, want 410", s)
	}
}

func TestStatementsExport(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	for i, reason := range []string{"risk_review", "dispute_abuse", "fraud_confirmed", "duplicate_identity", "buyer_complaints"} {
		id := e.CreateAccount("buyer", "dsa"+string(rune('a'+i))+"@example.com")
		e.MustAPI("POST", "/v1/accounts/"+id+"/restrictions", map[string]any{"reason_code": reason, "note": "Personal: ana@example.com +4915112345678", "duration": "7d"}, 201)
	}
	seller := e.CreateAccount("seller", "shop@example.com")
	e.MustAPI("POST", "/v1/accounts/"+seller+"/restrictions", map[string]any{"reason_code": "seller_violation", "duration": "7d"}, 201)
	e.MustAPI("POST", "/v1/accounts/"+seller+"/restrictions", map[string]any{"reason_code": "self_deleted"}, 201)
	r := e.API("GET", "/v1/statements?since=2026-01-01", nil)
	if r.Status != 200 {
		t.Fatalf("export = %d %s", r.Status, r.Body)
	}
	var sub dsa.Submission
	r.Decode(t, &sub)
	if len(sub.Statements) != 6 {
		t.Fatalf("%d statements, want 6 (self_deleted is not a decision)", len(sub.Statements))
	}
	for _, st := range sub.Statements {
		if err := dsa.Validate(st); err != nil {
			t.Errorf("statement %s does not validate: %v", st.PUID, err)
		}
	}
	if strings.Contains(string(r.Body), "ana@example.com") || strings.Contains(string(r.Body), "4915112345678") {
		t.Error("the export carries personal data from a note")
	}
	if r := e.API("GET", "/v1/statements?since=yesterday", nil); r.Status != 422 || r.JSON()["field"] != "since" {
		t.Fatalf("bad since = %d %s", r.Status, r.Body)
	}
}

// TestStatementsExportSkipsAndPages: a restriction no valid statement can be made of (an
// account registered before the schema's earliest content date) is left out and named,
// not fatal to the export; pages hold at most 100 statements and, followed by their Link
// headers, export every restriction once.
func TestStatementsExportSkipsAndPages(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	// Five bad restrictions first, then 110 good ones: the first answer fills up in the
	// middle of the second batch it reads, and must not lose that batch's rest.
	var bad []string
	for i := 0; i < 5; i++ {
		old := e.CreateAccount("buyer", fmt.Sprintf("old%d@example.com", i))
		if err := e.App.Store.ExecRaw(context.Background(), "UPDATE accounts SET created_at = ? WHERE id = ?",
			time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC).UnixMicro(), old); err != nil {
			t.Fatal(err)
		}
		bad = append(bad, e.MustAPI("POST", "/v1/accounts/"+old+"/restrictions", map[string]any{"reason_code": "buyer_complaints", "duration": "7d"}, 201)["id"].(string))
	}
	want := map[string]bool{}
	for i := 0; i < 110; i++ {
		id := e.CreateAccount("buyer", fmt.Sprintf("page%03d@example.com", i))
		want[e.MustAPI("POST", "/v1/accounts/"+id+"/restrictions", map[string]any{"reason_code": "dispute_abuse", "duration": "7d"}, 201)["id"].(string)] = true
	}
	got := map[string]bool{}
	skipped := ""
	path := "/v1/statements?since=2026-01-01"
	for pages := 0; path != ""; pages++ {
		if pages > 5 {
			t.Fatal("the export does not end")
		}
		r := e.API("GET", path, nil)
		if r.Status != 200 {
			t.Fatalf("export %s = %d %s", path, r.Status, r.Body)
		}
		var sub dsa.Submission
		r.Decode(t, &sub)
		if len(sub.Statements) > dsa.MaxBatch {
			t.Fatalf("%d statements in one answer, more than %d", len(sub.Statements), dsa.MaxBatch)
		}
		for _, st := range sub.Statements {
			if err := dsa.Validate(st); err != nil {
				t.Errorf("statement %s does not validate: %v", st.PUID, err)
			}
			if got[st.PUID] {
				t.Errorf("statement %s exported twice", st.PUID)
			}
			got[st.PUID] = true
		}
		skipped += r.Header.Get("Standing-Skipped")
		path = ""
		if l := r.Header.Get("Link"); l != "" {
			path = strings.TrimSuffix(strings.TrimPrefix(l, "<"), `>; rel="next"`)
		}
	}
	slices.Sort(bad) // the export goes in id order
	if want := strings.Join(bad, ", "); skipped != want {
		t.Errorf("Standing-Skipped = %q, want the bad restrictions %q", skipped, want)
	}
	for _, id := range bad {
		if got[id] {
			t.Errorf("the bad restriction %s was exported", id)
		}
	}
	for id := range want {
		if !got[id] {
			t.Errorf("restriction %s has no statement", id)
		}
	}
}

// TestStaffSessionLifetimeFromPolicy: a console session lasts the policy's
// sign_in.staff_session_lifetime (12 hours by default), then ends.
func TestStaffSessionLifetimeFromPolicy(t *testing.T) {
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(policy, []byte("sign_in:\n  staff_session_lifetime: 2h\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := apptest.New(t, apptest.Options{Configure: func(c *config.Config) { c.PolicyFile = policy }})
	ctx := context.Background()
	reviewer(t, e, "short-shift@example.com", "Sam")
	token, _, err := e.App.Appeals.StaffSignIn(ctx, "short-shift@example.com", "a reviewer's long passphrase")
	if err != nil {
		t.Fatal(err)
	}
	e.Advance("119m")
	if _, err := e.App.Appeals.StaffSession(ctx, token); err != nil {
		t.Fatalf("the session within its 2 hours: %v", err)
	}
	e.Advance("2m")
	if _, err := e.App.Appeals.StaffSession(ctx, token); standing.ErrorCode(err) != standing.EUNAUTHORIZED {
		t.Fatalf("the session after its 2 hours: %v, want unauthorized", err)
	}
}
