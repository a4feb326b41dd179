package web_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"standing"
	"standing/app/apptest"
	"standing/browsertest"
	"standing/config"
)

// TestOrdersClosedByRisk walks article 001's path without its dead ends: an order closed
// by a risk rule shows a warning, the reason in plain words and "Want to appeal"; the
// appeal is filed from there, and the order then shows "View appeal".
func TestOrdersClosedByRisk(t *testing.T) {
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(policy, []byte("risk:\n  recipient_watch_list: [\"Mickey Mouse\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := apptest.New(t, apptest.Options{Configure: func(c *config.Config) { c.PolicyFile = policy }})
	const email, password = "shopper@example.com", "a patient buyer phrase"
	e.MustAPI("POST", "/v1/signup", map[string]any{"email": email, "password": password, "role": "buyer"}, http.StatusAccepted)
	e.MustAPI("POST", "/v1/verify", map[string]any{"email": email, "code": newestMail(t, e, email).Code}, http.StatusOK)
	acc, _ := e.App.Store.AccountByEmail(context.Background(), email)
	seller := e.CreateAccount("seller", "store@example.com")
	o := e.MustAPI("POST", "/v1/orders", map[string]any{"buyer_id": acc.ID, "seller_id": seller, "amount": 2599, "currency": "EUR",
		"status": "paid", "recipient_name": "Mickey Mouse"}, http.StatusCreated)
	oid := o["id"].(string)
	e.MustAPI("POST", "/v1/events", map[string]any{"id": "evt-closed-1", "type": "order_placed", "account_id": acc.ID,
		"ip": "192.0.2.10", "attributes": map[string]any{"order_id": oid}}, http.StatusOK)
	if got := e.MustAPI("GET", "/v1/orders/"+oid, nil, 200); got["status"] != "closed_by_risk" {
		t.Fatalf("the order was not closed: %v", got)
	}

	b := browsertest.New(t)
	browsertest.Do(t, b, chromedp.Navigate(e.URL+"/login?next=/orders"), waitFor("#email"),
		typeInto("#email", email), typeInto("#password", password), click("#sign-in"), waitFor("#order-"+oid))
	card := browsertest.Text(t, b, "#order-"+oid)
	for _, want := range []string{"⚠", "Closed", "Why it was closed", "Want to appeal"} {
		if !strings.Contains(card, want) {
			t.Errorf("the closed order lacks %q:\n%s", want, card)
		}
	}
	browsertest.Do(t, b, click("#want-appeal-"+oid), waitFor("#appeal-form"),
		typeInto("#statement", "Mickey Mouse is my neighbour's real name; the parcel is for him."), click("#submit-appeal"), waitFor("#answer-by"))
	browsertest.Do(t, b, chromedp.Navigate(e.URL+"/orders"), waitFor("#view-appeal-"+oid))

	// The reviewer's case shows the order, the decision that closed it and why the rule
	// fired.
	list, err := e.App.Appeals.AppealsOf(context.Background(), acc.ID)
	if err != nil || len(list) != 1 || list[0].OrderID != oid {
		t.Fatalf("appeals = %+v %v", list, err)
	}
	if _, err := e.App.Appeals.CreateStaff(context.Background(), "kim@example.com", "Kim", standing.RoleReviewer, "a reviewer's long passphrase"); err != nil {
		t.Fatal(err)
	}
	token, _, err := e.App.Appeals.StaffSignIn(context.Background(), "kim@example.com", "a reviewer's long passphrase")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", e.URL+"/console/appeals/"+list[0].ID, nil)
	req.AddCookie(&http.Cookie{Name: "standing_console", Value: token})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page := readAll(resp)
	for _, want := range []string{`id="closed-order"`, oid, "The decision appealed", "Why the rule fired:"} {
		if !strings.Contains(page, want) {
			t.Errorf("the order appeal's case lacks %q", want)
		}
	}
}
