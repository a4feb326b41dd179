package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReviewerKey: a key that decides appeals is bound to one console user; the running
// server records decisions made with it as that person's and refuses the key to act as
// anyone else.
func TestReviewerKey(t *testing.T) {
	dir := t.TempDir()
	e := env("STANDING_DATA_DIR", dir)
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte("a reviewer's long passphrase\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := runCmd(t, e, "user", "create", "--role", "reviewer", "--email", "kim@example.com", "--name", "Kim", "--password-file", pw)
	if err != nil {
		t.Fatalf("user create: %v\n%s", err, out)
	}
	kim := lastLine(out)
	out, err = runCmd(t, e, "user", "create", "--role", "reviewer", "--email", "lee@example.com", "--name", "Lee", "--password-file", pw)
	if err != nil {
		t.Fatalf("user create: %v\n%s", err, out)
	}
	lee := lastLine(out)

	if _, err := runCmd(t, e, "apikey", "create", "--name", "desk", "--scopes", "appeals:decide"); exitCode(err) != 2 || !strings.Contains(err.Error(), "--reviewer") {
		t.Errorf("a deciding key without a reviewer: %v", err)
	}
	if _, err := runCmd(t, e, "apikey", "create", "--name", "desk", "--scopes", "appeals:decide", "--reviewer", "stf_nobody"); err == nil || !strings.Contains(err.Error(), "no console user") {
		t.Errorf("a key for an unknown reviewer: %v", err)
	}
	out, err = runCmd(t, e, "apikey", "create", "--name", "kim's desk", "--scopes", "appeals:decide", "--reviewer", kim)
	if err != nil || !strings.Contains(out, "for reviewer "+kim) {
		t.Fatalf("apikey create --reviewer: %v\n%s", err, out)
	}
	kimKey := lastLine(out)
	out, err = runCmd(t, e, "apikey", "list")
	if err != nil || !strings.Contains(out, "REVIEWER") || !strings.Contains(out, kim) {
		t.Fatalf("apikey list: %v\n%s", err, out)
	}
	out, _ = runCmd(t, e, "apikey", "create", "--name", "ops", "--scopes", "all")
	ops := lastLine(out)

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
	_, acc := call(t, "POST", base+"/v1/accounts", ops, `{"role":"buyer","email":"appellant@example.com","lifecycle":"active"}`)
	accID := acc["id"].(string)
	_, res := call(t, "POST", base+"/v1/accounts/"+accID+"/restrictions", ops, `{"reason_code":"buyer_complaints"}`)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("account_id", accID)
	mw.WriteField("restriction_id", res["id"].(string))
	mw.WriteField("statement", "I never complained.")
	mw.Close()
	req, _ := http.NewRequest("POST", base+"/v1/appeals", &body)
	req.Header.Set("Authorization", "Bearer "+ops)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var appeal struct{ ID string }
	if err := json.NewDecoder(resp.Body).Decode(&appeal); err != nil || resp.StatusCode != 201 {
		t.Fatalf("submit appeal = %d, %v", resp.StatusCode, err)
	}
	decision := base + "/v1/appeals/" + appeal.ID + "/decision"
	if status, p := call(t, "POST", decision, ops, `{"reviewer_id":"`+kim+`","decision":"upheld","note":"Documented."}`); status != 403 {
		t.Errorf("a decision with a key bound to no reviewer = %d %v", status, p)
	}
	if status, p := call(t, "POST", decision, kimKey, `{"reviewer_id":"`+lee+`","decision":"upheld","note":"Documented."}`); status != 403 || p["field"] != "reviewer_id" {
		t.Errorf("Kim's key deciding as Lee = %d %v", status, p)
	}
	status, got := call(t, "POST", decision, kimKey, `{"decision":"upheld","note":"Documented."}`)
	if status != 200 || got["appeal"].(map[string]any)["decided_by"] != "Kim" {
		t.Fatalf("Kim's decision = %d %v", status, got)
	}
}
