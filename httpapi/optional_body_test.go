package httpapi_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"standing/app/apptest"
)

// TestOptionalBodyMayBeEmpty: the routes whose body is optional take an empty body as the
// defaults, whether it comes with Content-Length: 0 or chunked with no length.
func TestOptionalBodyMayBeEmpty(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	send := func(path string, chunked bool) (int, string) {
		t.Helper()
		req, err := http.NewRequest("POST", e.URL+path, io.NopCloser(strings.NewReader("")))
		if err != nil {
			t.Fatal(err)
		}
		req.ContentLength = 0
		if chunked {
			req.ContentLength, req.TransferEncoding = -1, []string{"chunked"}
		}
		req.Header.Set("Authorization", "Bearer "+e.Key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := e.Server.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, chunked := range []bool{false, true} {
		id := e.CreateAccount("buyer", map[bool]string{false: "plain", true: "chunked"}[chunked]+"@example.com")
		r := e.MustAPI("POST", "/v1/accounts/"+id+"/restrictions", map[string]any{"reason_code": "risk_review"}, http.StatusCreated)
		if status, body := send("/v1/restrictions/"+r["id"].(string)+"/lift", chunked); status != http.StatusOK {
			t.Errorf("lift with an empty body (chunked %v) = %d %s, want 200", chunked, status, body)
		}
	}
}
