package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"standing/webhook"
)

// npmPackage is the Standard Webhooks JavaScript library, pinned.
const npmPackage = "standardwebhooks@1.1.1"

// verifyJS verifies a webhook with the npm library and signs one with it, so both
// directions are checked against an independent implementation.
const verifyJS = `
const { Webhook } = require("standardwebhooks");
const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
const out = {};
try {
  new Webhook(input.secret).verify(input.body, input.headers);
  out.verified = true;
} catch (e) {
  out.verified = false;
  out.error = String(e && e.message || e);
}
out.signature = new Webhook(input.secret).sign(input.id, new Date(input.ts * 1000), input.body);
process.stdout.write(JSON.stringify(out));
`

// TestNodeLibrary checks interoperability with the npm package standardwebhooks. It needs
// node, npm and the npm registry; without them, or under -short, it is skipped.
func TestNodeLibrary(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped under -short: installs an npm package")
	}
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed; skipping the check against the npm %s", tool, npmPackage)
		}
	}
	// The package is installed once into the user's cache directory and reused.
	dir := t.TempDir()
	if cache, err := os.UserCacheDir(); err == nil {
		dir = filepath.Join(cache, "standing-test", strings.ReplaceAll(npmPackage, "@", "-"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "standardwebhooks", "package.json")); err != nil {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		install := exec.CommandContext(ctx, "npm", "install", "--no-audit", "--no-fund", "--no-save", "--silent", "--prefix", dir, npmPackage)
		install.Dir = dir
		if out, err := install.CombinedOutput(); err != nil {
			t.Skipf("npm could not install %s here (%v); skipping the interoperability check:\n%s", npmPackage, err, out)
		}
	}
	script := filepath.Join(dir, "verify-"+strconv.Itoa(os.Getpid())+".js")
	t.Cleanup(func() { os.Remove(script) })
	if err := os.WriteFile(script, []byte(verifyJS), 0o644); err != nil {
		t.Fatal(err)
	}

	old, current := webhook.NewSecret(), webhook.NewSecret()
	// The JavaScript library checks the timestamp against its own clock, so this test signs
	// with the real time; the tolerance is five minutes.
	ts := time.Now()
	body := `{"type":"account.restricted","data":{"account_id":"acc_1","reason":"risk_review","note":"ünïcödé"}}`
	headers, err := webhook.Headers([]string{old, current}, "msg_node_1", ts, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	run := func(secret string) (verified bool, jsErr, jsSig string) {
		t.Helper()
		in, _ := json.Marshal(map[string]any{
			"secret": secret, "body": body, "id": "msg_node_1", "ts": ts.Unix(),
			"headers": map[string]string{
				"webhook-id":        headers.Get("webhook-id"),
				"webhook-timestamp": headers.Get("webhook-timestamp"),
				"webhook-signature": headers.Get("webhook-signature"),
			},
		})
		cmd := exec.CommandContext(ctx, "node", script)
		cmd.Dir = dir
		cmd.Stdin = bytes.NewReader(in)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("node: %v\n%s", err, stderr.String())
		}
		var res struct {
			Verified  bool   `json:"verified"`
			Error     string `json:"error"`
			Signature string `json:"signature"`
		}
		if err := json.Unmarshal(out, &res); err != nil {
			t.Fatalf("node printed %q: %v", out, err)
		}
		return res.Verified, res.Error, res.Signature
	}

	for name, secret := range map[string]string{"old": old, "current": current} {
		ok, jsErr, jsSig := run(secret)
		if !ok {
			t.Errorf("the npm library refused our webhook with the %s secret: %s", name, jsErr)
		}
		ours, err := webhook.Sign([]string{secret}, "msg_node_1", ts, []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if jsSig != ours {
			t.Errorf("npm signature %q, ours %q", jsSig, ours)
		}
		// And our Verify accepts what the npm library signed.
		h := headers.Clone()
		h.Set("webhook-signature", jsSig)
		h.Set("webhook-timestamp", strconv.FormatInt(ts.Unix(), 10))
		if err := webhook.Verify(secret, h, []byte(body), ts, 0); err != nil {
			t.Errorf("Verify of the npm library's signature: %v", err)
		}
	}
	if ok, jsErr, _ := run(webhook.NewSecret()); ok || !strings.Contains(strings.ToLower(jsErr), "signature") {
		t.Errorf("the npm library accepted a webhook under an unrelated secret (error %q)", jsErr)
	}
}
