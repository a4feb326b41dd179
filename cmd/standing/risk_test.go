package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRulesCommands lists the seeded pack, applies a file (all or nothing), shows a rule's
// versions, and checks that a running server evaluates what was applied.
func TestRulesCommands(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", addr, "--data-dir", dir}, env(), nil, io.Discard, io.Discard)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve returned %v", err)
		}
	}()
	base := "http://" + addr
	waitReady(t, base)
	e := env("STANDING_DATA_DIR", dir)

	out, err := runCmd(t, e, "rules", "list")
	if err != nil || !strings.Contains(out, "anonymizer_checkout") || strings.Count(out, "\n") != 13 {
		t.Fatalf("rules list: %v\n%s", err, out)
	}
	file := filepath.Join(dir, "rules.yaml")
	write := func(doc string) {
		t.Helper()
		if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(`
- id: many_failed_logins
  name: Many failed sign-ins
  expression: features.login_failures_1h >= 2
  outcome: {score: 15, review: true}
- id: ip_churn
  name: Many IP addresses in a day
  expression: features.ips_24h >= 5
  outcome: {score: 30, reason_code: risk_review, close_open_orders: true}
  mode: shadow
`)
	out, err = runCmd(t, e, "rules", "apply", file)
	if err != nil || !strings.Contains(out, "many_failed_logins created (version 1)") || !strings.Contains(out, "ip_churn saved as version 2") {
		t.Fatalf("rules apply: %v\n%s", err, out)
	}
	out, err = runCmd(t, e, "rules", "apply", file)
	if err != nil || strings.Count(out, "unchanged") != 2 {
		t.Fatalf("rules apply again: %v\n%s", err, out)
	}
	write(`
rules:
  - id: fine
    name: Fine
    expression: features.orders_1h > 3
    outcome: {score: 1}
  - id: broken
    name: Broken
    expression: features.orders_1h >
    outcome: {score: 1}
`)
	out, err = runCmd(t, e, "rules", "apply", file)
	if err == nil || !strings.Contains(out, "rules[1] broken: expression: line 1, column") || !strings.Contains(err.Error(), "no rule was changed") {
		t.Fatalf("a file with an error: %v\n%s", err, out)
	}
	if _, err := runCmd(t, e, "rules", "show", "fine"); err == nil || !strings.Contains(err.Error(), `no rule "fine"`) {
		t.Errorf("a rule of a refused file was saved: %v", err)
	}
	out, err = runCmd(t, e, "rules", "show", "ip_churn")
	if err != nil || !strings.Contains(out, "version 2, shadow") || !strings.Contains(out, "v1 ") || !strings.Contains(out, "by cli") {
		t.Fatalf("rules show: %v\n%s", err, out)
	}

	// The running server evaluates the rule the command saved (it checks the rules table on
	// every pass of its job runner, about once a second).
	out, _ = runCmd(t, e, "apikey", "create", "--name", "ops", "--scopes", "all")
	key := lastLine(out)
	_, acc := call(t, "POST", base+"/v1/accounts", key, `{"role":"buyer","email":"rules@example.com","lifecycle":"active"}`)
	id := acc["id"].(string)
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; ; i++ {
		body := `{"events":[{"id":"fail-a-` + strconv.Itoa(i) + `","type":"login_failed","account_id":"` + id + `"},{"id":"fail-b-` + strconv.Itoa(i) + `","type":"login_failed","account_id":"` + id + `"}]}`
		_, res := call(t, "POST", base+"/v1/events", key, body)
		if strings.Contains(fmt.Sprint(res), "many_failed_logins") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server never evaluated the applied rule: %v", res)
		}
		time.Sleep(100 * time.Millisecond) // waiting for another process's poll, not timing a result
	}

	// Webhooks.
	out, err = runCmd(t, e, "webhooks", "list")
	if err != nil || !strings.Contains(out, "no webhook endpoints") {
		t.Fatalf("webhooks list: %v\n%s", err, out)
	}
	if status, _ := call(t, "POST", base+"/v1/webhooks", key, `{"url":"https://shop.example/hooks","event_types":["order.closed"]}`); status != 201 {
		t.Fatalf("create webhook: %d", status)
	}
	out, err = runCmd(t, e, "webhooks", "list")
	if err != nil || !strings.Contains(out, "https://shop.example/hooks") || !strings.Contains(out, "order.closed") || strings.Contains(out, "whsec_") {
		t.Fatalf("webhooks list: %v\n%s", err, out)
	}
	if _, err := runCmd(t, e, "rules", "frobnicate"); exitCode(err) != 2 {
		t.Errorf("unknown rules command: %v", err)
	}
}
