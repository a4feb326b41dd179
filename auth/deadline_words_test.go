package auth_test

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"standing/app/apptest"
	"standing/config"
)

// TestDeadlineWordsFromPolicy: the sign-up answer, the confirmation mail and the sign-up
// page state the policy's verification deadline, not a fixed 72 hours.
func TestDeadlineWordsFromPolicy(t *testing.T) {
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(policy, []byte("verification_deadline: 48h\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := apptest.New(t, apptest.Options{Configure: func(c *config.Config) { c.PolicyFile = policy }})
	r := e.MustAPI("POST", "/v1/signup", map[string]any{"email": "ida@example.com", "password": "a good long phrase", "role": "buyer"}, http.StatusAccepted)
	if msg, _ := r["message"].(string); !strings.Contains(msg, "within 48 hours") {
		t.Errorf("sign-up message = %q, want the policy's 48 hours", msg)
	}
	m, _, _ := lastMail(t, e, "ida@example.com")
	if !strings.Contains(m.Text, "(48 hours after signing up)") || strings.Contains(m.Text, "72 hours") {
		t.Errorf("mail = %q, want the policy's 48 hours", m.Text)
	}
	resp, err := e.Server.Client().Get(e.URL + "/signup")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(page), "within 48 hours") {
		t.Errorf("the sign-up page does not state the policy's 48 hours:\n%s", page)
	}
}
