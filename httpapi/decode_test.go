package httpapi

import (
	"net/http/httptest"
	"strings"
	"testing"

	"standing"
)

// FuzzDecode feeds untrusted bodies to the JSON reader of every write route: it must never
// panic, and every refusal must be a client error that says what was wrong.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"account_id":"acc_1","capability":"pay"}`,
		`{"role":"buyer","email":"a@b.co","restrictions":[{"reason_code":"risk_review","removes":["pay"]}]}`,
		`{"accounts":[{"role":"buyer","email":"a@b.co"}]}`,
		`{"reason_code":"x","ends_at":"2026-13-01T00:00:00Z"}`,
		`{"removes":["fly"]}`, `[]`, `null`, `{`, `{"a":1}{"b":2}`, "\xff", `{"email":1e999}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		targets := []any{&checkRequest{}, &createAccountsRequest{}, &standing.NewRestriction{}, &standing.LiftRequest{}}
		for _, v := range targets {
			r := httptest.NewRequest("POST", "/", strings.NewReader(body))
			err := decode(httptest.NewRecorder(), r, v, 1<<16)
			if err == nil {
				continue
			}
			code := standing.ErrorCode(err)
			if code == standing.EINTERNAL || standing.HTTPStatus(code) < 400 || standing.HTTPStatus(code) >= 500 {
				t.Fatalf("decode(%q) into %T = %v (code %s), want a 4xx", body, v, err, code)
			}
			if standing.ErrorMessage(err) == "" {
				t.Fatalf("decode(%q) gave an error without a message", body)
			}
		}
	})
}
