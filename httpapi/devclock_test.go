package httpapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"standing/app/apptest"
)

// TestDevClockWantsJSON: POST /dev/clock reads only a JSON body; a form post, which any
// page can make a browser send, is 415 and says which type to send.
func TestDevClockWantsJSON(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	before := e.Clock.Now()
	for _, c := range []struct {
		contentType string
		status      int
	}{
		{"", http.StatusUnsupportedMediaType},
		{"application/x-www-form-urlencoded", http.StatusUnsupportedMediaType},
		{"text/plain", http.StatusUnsupportedMediaType},
		{"application/json; charset=utf-8", http.StatusOK},
	} {
		req, err := http.NewRequest("POST", e.URL+"/dev/clock", strings.NewReader(`{"advance":"1h"}`))
		if err != nil {
			t.Fatal(err)
		}
		if c.contentType != "" {
			req.Header.Set("Content-Type", c.contentType)
		}
		resp, err := e.Server.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status {
			t.Fatalf("Content-Type %q: status %d %s, want %d", c.contentType, resp.StatusCode, body, c.status)
		}
		if c.status == http.StatusUnsupportedMediaType {
			var p struct{ Code, Detail string }
			_ = json.Unmarshal(body, &p)
			if p.Code != "unsupported_media_type" || !strings.Contains(p.Detail, "application/json") {
				t.Errorf("Content-Type %q: problem %s, want code unsupported_media_type naming application/json", c.contentType, body)
			}
		}
	}
	if got := e.Clock.Now().Sub(before); got.Hours() != 1 {
		t.Errorf("the clock moved %v, want only the JSON post's 1h", got)
	}
}
