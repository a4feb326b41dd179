package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"standing/app/apptest"
)

// TestTypeErrorsSayTheJSONType: a value of the wrong JSON type is refused naming its field
// and the type it takes in JSON's words, whatever the Go type behind it; a time that is
// not RFC 3339 is refused naming its field, in a single body and in a batch item.
func TestTypeErrorsSayTheJSONType(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	acc := e.CreateAccount("buyer", "types@example.com")
	cases := []struct {
		path  string
		body  string
		field string
		says  string
	}{
		{"/v1/orders", `{"status":5}`, "status", "status must be a string, not number"},
		{"/v1/orders", `{"amount":"12"}`, "amount", "amount must be an integer, not string"},
		{"/v1/orders", `{"amount":1.5}`, "amount", "amount must be an integer"},
		{"/v1/orders", `{"shipping_address":"Main St 1"}`, "shipping_address", "shipping_address must be an object, not string"},
		{"/v1/orders", `{"placed_at":5}`, "placed_at", "placed_at must be an RFC 3339 time"},
		{"/v1/orders", `{"ship_by":"next tuesday"}`, "ship_by", "ship_by must be an RFC 3339 time"},
		{"/v1/events", `{"id":"e1","type":"login","account_id":"` + acc + `","time":"yesterday"}`, "time", "time must be an RFC 3339 time"},
		{"/v1/accounts/" + acc + "/restrictions", `{"reason_code":"risk_review","ends_at":"2026-13-01T00:00:00Z"}`, "ends_at", "ends_at must be an RFC 3339 time"},
		{"/v1/accounts/" + acc + "/restrictions", `{"reason_code":true}`, "reason_code", "reason_code must be a string, not bool"},
	}
	for _, c := range cases {
		r := e.API("POST", c.path, c.body)
		p := r.JSON()
		if r.Status != http.StatusUnprocessableEntity || p["field"] != c.field || !strings.Contains(p["detail"].(string), c.says) {
			t.Errorf("POST %s %s = %d %s, want 422 field %q saying %q", c.path, c.body, r.Status, r.Body, c.field, c.says)
		}
	}
	// In a batch, the bad time is the item's own error, with its place in the batch.
	r := e.MustAPI("POST", "/v1/events", `{"events":[{"id":"e2","type":"login","account_id":"`+acc+`"},{"id":"e3","type":"login","account_id":"`+acc+`","time":"soon"}]}`, http.StatusOK)
	item := r["results"].([]any)[1].(map[string]any)
	if item["status"] != float64(422) || item["error"].(map[string]any)["field"] != "events[1].time" {
		t.Fatalf("a batch item with a bad time = %v", item)
	}
}
