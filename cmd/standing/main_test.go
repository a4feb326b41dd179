package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"standing"
	"standing/config"
	"standing/evidence/evidencetest"
	"standing/standingtest"
)

// env returns a getenv over the given variables only, so tests do not read the machine's.
func env(vars ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(vars); i += 2 {
		m[vars[i]] = vars[i+1]
	}
	return func(k string) string { return m[k] }
}

func runCmd(t *testing.T, getenv func(string) string, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, getenv, strings.NewReader(""), &out, &errb)
	return out.String() + errb.String(), err
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func waitReady(t *testing.T, base string) {
	t.Helper()
	waitServing(t, base, nil, nil)
}

// waitServing waits for a server started in the test to be ready; when serve returns
// first (on done), it fails the test with serve's error and its log.
func waitServing(t *testing.T, base string, done <-chan error, logs fmt.Stringer) {
	t.Helper()
	for i := 0; i < 200; i++ {
		select {
		case err := <-done:
			t.Fatalf("serve ended before it was ready: %v\n%s", err, logs)
		default:
		}
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(25 * time.Millisecond) // polling for a process to come up, not timing a result
	}
	t.Fatalf("%s never became ready", base)
}

func call(t *testing.T, method, url, key, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	json.Unmarshal(b, &m)
	return resp.StatusCode, m
}

// TestServeWithNoConfiguration runs the README's first command as a newcomer does, in a
// fresh folder with the default data folder (./standing-data, a relative path); only the
// address differs, so that tests can run side by side.
func TestServeWithNoConfiguration(t *testing.T) {
	t.Chdir(t.TempDir())
	dir := "standing-data"
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	var logs syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--dev"}, env("STANDING_ADDR", addr), nil, io.Discard, &logs)
	}()
	base := "http://" + addr
	waitServing(t, base, done, &logs)
	if first := strings.SplitN(logs.String(), "\n", 2)[0]; !strings.Contains(first, "DEVELOPER MODE") {
		t.Errorf("first log line = %q, want it to say developer mode", first)
	}
	for _, want := range []string{"standing.db", "blobs"} {
		if _, err := os.Stat(filepath.Join(dir, want)); err != nil {
			t.Errorf("no %s in the data folder: %v", want, err)
		}
	}
	out, err := runCmd(t, env(), "apikey", "create", "--name", "shop", "--scopes", "accounts:write,check")
	if err != nil {
		t.Fatalf("apikey create: %v\n%s", err, out)
	}
	key := lastLine(out)
	if !strings.HasPrefix(key, "sk_") || strings.Contains(key, " ") {
		t.Fatalf("apikey create's last line = %q, want the key alone", key)
	}
	status, acc := call(t, "POST", base+"/v1/accounts", key, `{"role":"buyer","email":"new@example.com"}`)
	if status != 201 {
		t.Fatalf("create account = %d %v", status, acc)
	}
	if status, _ := call(t, "POST", base+"/v1/accounts/"+acc["id"].(string)+"/restrictions", key, `{"reason_code":"risk_review"}`); status != 403 {
		t.Errorf("restrict with a key lacking restrictions:write = %d, want 403", status)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve returned %v", err)
	}
}

// TestServeNamesTheBadSetting: a setting serve cannot use, found only when the service
// is wired (the evidence store, the SMTP server), stops it with an error that names the
// flag, as Validate's errors do.
func TestServeNamesTheBadSetting(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--blob-url", "ftp://files.example/evidence"}, `--blob-url: The blob store URL scheme "ftp" is not supported`},
		{[]string{"--blob-url", "s3://"}, "--blob-url: The S3 bucket name"},
		{[]string{"--smtp-url", "smtp://mail.example:587/path"}, "--smtp-url: "},
		{[]string{"--smtp-url", "smtps://mail.example:465", "--smtp-tls", "none"}, "--smtp-tls: "},
	} {
		args := append([]string{"serve", "--addr", freeAddr(t), "--data-dir", t.TempDir()}, c.args...)
		out, err := runCmd(t, env(), args...)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("standing %v = %v, want an error starting %q\n%s", c.args, err, c.want, out)
		}
	}
}

func TestAuditVerifyNamesTheEditedRow(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", addr, "--data-dir", dir}, env(), nil, io.Discard, io.Discard)
	}()
	base := "http://" + addr
	waitReady(t, base)
	out, _ := runCmd(t, env(), "apikey", "create", "--data-dir", dir, "--name", "ops", "--scopes", "all")
	key := lastLine(out)
	_, acc := call(t, "POST", base+"/v1/accounts", key, `{"role":"buyer","email":"audit@example.com"}`)
	for _, reason := range []string{"risk_review", "dispute_abuse"} {
		if status, r := call(t, "POST", base+"/v1/accounts/"+acc["id"].(string)+"/restrictions", key, `{"reason_code":"`+reason+`"}`); status != 201 {
			t.Fatalf("restrict = %d %v", status, r)
		}
	}
	cancel()
	<-done
	out, err := runCmd(t, env(), "audit", "verify", "--data-dir", dir)
	if err != nil || !strings.Contains(out, "ok: 3 entries") {
		t.Fatalf("verify on a clean database = %v\n%s", err, out)
	}
	db, err := sql.Open("sqlite", filepath.Join(dir, "standing.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("UPDATE audit_log SET reason = 'self_deleted' WHERE seq = 2"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	out, err = runCmd(t, env(), "audit", "verify", "--data-dir", dir)
	if err == nil || !strings.Contains(out, "BROKEN at entry 2") {
		t.Fatalf("verify after an edit = %v\n%s", err, out)
	}
}

// TestKill9KeepsAcceptedWrites starts the real binary, restricts an account, kills the
// process with SIGKILL right after the 201, and checks the restriction after a restart.
func TestKill9KeepsAcceptedWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := filepath.Join(t.TempDir(), "standing")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	dir := t.TempDir()
	addr := freeAddr(t)
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "serve", "--addr", addr, "--data-dir", dir)
		cmd.Stderr = io.Discard
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitReady(t, "http://"+addr)
		return cmd
	}
	out, err := exec.Command(bin, "apikey", "create", "--data-dir", dir, "--name", "k", "--scopes", "all").Output()
	if err != nil {
		t.Fatal(err)
	}
	key := lastLine(string(out))
	cmd := start()
	base := "http://" + addr
	_, acc := call(t, "POST", base+"/v1/accounts", key, `{"role":"seller","email":"kill@example.com"}`)
	id := acc["id"].(string)
	var ids []string
	for i := 0; i < 20; i++ {
		status, r := call(t, "POST", base+"/v1/accounts/"+id+"/restrictions", key, fmt.Sprintf(`{"reason_code":"seller_violation","note":"case %d"}`, i))
		if status != 201 {
			t.Fatalf("restrict = %d %v", status, r)
		}
		ids = append(ids, r["id"].(string))
	}
	// A buyer's orders, decided just before the kill: its feature state is saved at its
	// first event and then only every 16, so these live in the events alone.
	_, buyer := call(t, "POST", base+"/v1/accounts", key, `{"role":"buyer","email":"kill-buyer@example.com"}`)
	buyerID := buyer["id"].(string)
	for i := 0; i < 6; i++ {
		status, r := call(t, "POST", base+"/v1/events", key, fmt.Sprintf(`{"id":"k9-order-%d","type":"order_placed","account_id":%q,"ip":"192.0.2.7","device_id":"k9-device"}`, i, buyerID))
		if status != 200 {
			t.Fatalf("event = %d %v", status, r)
		}
	}
	// An appeal with a document, accepted just before the kill.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("account_id", id)
	mw.WriteField("restriction_id", ids[0])
	mw.WriteField("statement", "The listing was mine; here is the invoice.")
	fw, _ := mw.CreateFormFile("file_other", "invoice.pdf")
	fw.Write(evidencetest.PDF("Invoice 2026-0042"))
	mw.Close()
	req, _ := http.NewRequest("POST", base+"/v1/appeals", &body)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var appeal map[string]any
	json.NewDecoder(resp.Body).Decode(&appeal)
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("appeal = %d %v", resp.StatusCode, appeal)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	cmd = start()
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	if status, a := call(t, "GET", base+"/v1/appeals/"+appeal["id"].(string), key, ""); status != 200 || a["status"] != "submitted" || len(a["evidence"].([]any)) != 1 {
		t.Fatalf("appeal after kill -9 = %d %v", status, a)
	}
	files := 0
	filepath.WalkDir(filepath.Join(dir, "blobs", "evidence"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".pdf") {
			files++
		}
		return nil
	})
	if files != 1 {
		t.Fatalf("%d evidence files after kill -9, want 1", files)
	}
	for _, rid := range ids {
		if status, r := call(t, "GET", base+"/v1/restrictions/"+rid, key, ""); status != 200 || r["state"] != "active" {
			t.Fatalf("restriction %s after kill -9 = %d %v", rid, status, r)
		}
	}
	if status, d := call(t, "POST", base+"/v1/check", key, `{"account_id":"`+id+`","capability":"list_products"}`); status != 200 || d["allowed"] != false {
		t.Fatalf("check after restart = %d %v", status, d)
	}
	status, test := call(t, "POST", base+"/v1/rules/checkout_burst/test", key, `{"event":{"type":"page_view","account_id":"`+buyerID+`"}}`)
	if features, _ := test["features"].(map[string]any); status != 200 || features["orders_1h"] != float64(6) {
		t.Fatalf("the buyer's features after kill -9 = %d %v; want orders_1h 6", status, test)
	}
}

func TestPolicyCommands(t *testing.T) {
	out, err := runCmd(t, env(), "policy", "print")
	if err != nil || !strings.Contains(out, "verification_deadline: 3d") || !strings.Contains(out, "code: risk_review") {
		t.Fatalf("policy print = %v\n%s", err, out)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte("verification_deadline: 48h\nreasons:\n  - code: risk_review\n    remedy: Call us.\n  - code: spam\n    title: Spam\n    removes: [message]\n    message: Messaging is paused.\n    remedy: Appeal.\n    appealable: true\n"), 0o600)
	out, err = runCmd(t, env("STANDING_POLICY", good), "policy", "print")
	if err != nil || !strings.Contains(out, "verification_deadline: 2d") || !strings.Contains(out, "remedy: Call us.") || !strings.Contains(out, "code: spam") {
		t.Fatalf("policy print with a file = %v\n%s", err, out)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("verification_deadlne: 48h\n"), 0o600)
	if out, err := runCmd(t, env(), "policy", "check", bad); err == nil || !strings.Contains(err.Error(), "verification_deadlne") {
		t.Fatalf("policy check of a misspelt setting = %v\n%s", err, out)
	}
	os.WriteFile(bad, []byte("reasons:\n  - code: risk_review\n    removes: [teleport]\n"), 0o600)
	if _, err := runCmd(t, env(), "policy", "check", bad); err == nil || !strings.Contains(err.Error(), "teleport") {
		t.Fatalf("policy check of an unknown capability = %v", err)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"frobnicate"}, {"apikey"}, {"apikey", "create", "--name", "x", "--scopes", "godmode", "--data-dir", t.TempDir()}} {
		if _, err := runCmd(t, env(), args...); err == nil {
			t.Errorf("standing %v succeeded", args)
		}
	}
	if out, err := runCmd(t, env(), "version"); err != nil || !strings.HasPrefix(out, "standing ") {
		t.Errorf("version = %q, %v", out, err)
	}
}

// TestHelp: "standing -h" names every command of the README's table, and a command's -h
// prints its flags and ends with success, not with an error.
func TestHelp(t *testing.T) {
	out, err := runCmd(t, env(), "-h")
	if err != nil {
		t.Fatalf("standing -h = %v", err)
	}
	for _, want := range []string{"serve", "migrate", "version", "apikey", "policy", "audit verify", "user create", "mail list",
		"rules", "webhooks list", "bench check", "bench events", "bench sellers", "bench queue", "bench erasure"} {
		if !strings.Contains(out, "  "+want+" ") {
			t.Errorf("standing -h does not list %q:\n%s", want, out)
		}
	}
	if _, err := runCmd(t, env(), "bench"); err == nil || !strings.Contains(err.Error(), "check|events|sellers|queue|erasure") {
		t.Errorf("standing bench = %v, want a usage naming every benchmark", err)
	}
	for _, args := range [][]string{{"serve", "-h"}, {"apikey", "create", "-h"}, {"bench", "check", "-h"}} {
		out, err := runCmd(t, env(), args...)
		if err != nil || !strings.Contains(out, "-") {
			t.Errorf("standing %v = %v\n%s\nwant the flags and no error", args, err, out)
		}
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestMailList(t *testing.T) {
	dir := t.TempDir()
	out, err := runCmd(t, env(), "mail", "list", "--data-dir", dir)
	if err != nil || !strings.Contains(out, "no mail") {
		t.Fatalf("mail list on an empty store = %v\n%s", err, out)
	}
	s, err := openStore(context.Background(), &config.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.QueueMail(context.Background(), standing.Mail{To: "list@example.com", Kind: "verify", Subject: "Confirm your email address", Text: "code 123456"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	out, err = runCmd(t, env(), "mail", "list", "--data-dir", dir, "--to", "list@example.com", "--full")
	if err != nil || !strings.Contains(out, "Confirm your email address") || !strings.Contains(out, "kept") || !strings.Contains(out, "code 123456") {
		t.Fatalf("mail list = %v\n%s", err, out)
	}
}

// TestKill9DuringErasure: the process is killed (SIGKILL) in the middle of an erasure;
// after a restart the erasure completes and its certificate counts every step once.
func TestKill9DuringErasure(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := filepath.Join(t.TempDir(), "standing")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	dir := t.TempDir()
	addr := freeAddr(t)
	base := "http://" + addr
	start := func(env ...string) *exec.Cmd {
		cmd := exec.Command(bin, "serve", "--dev", "--addr", addr, "--data-dir", dir)
		cmd.Env = append(os.Environ(), env...)
		cmd.Stderr = io.Discard
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitReady(t, base)
		return cmd
	}
	out, err := exec.Command(bin, "apikey", "create", "--data-dir", dir, "--name", "k", "--scopes", "all").Output()
	if err != nil {
		t.Fatal(err)
	}
	key := lastLine(string(out))
	cmd := start("STANDING_TEST_CRASH_ERASURE=4")
	_, acc := call(t, "POST", base+"/v1/accounts", key, `{"role":"buyer","email":"crash@example.com","lifecycle":"active"}`)
	id := acc["id"].(string)
	for i := 0; i < 3; i++ {
		call(t, "POST", base+"/v1/accounts/"+id+"/restrictions", key, `{"reason_code":"buyer_complaints","note":"note `+fmt.Sprint(i)+`"}`)
	}
	status, er := call(t, "POST", base+"/v1/accounts/"+id+"/erasure", key, `{"confirm_email":"crash@example.com","phrase":"Deactivate my account","reason":"Other"}`)
	if status != 202 {
		t.Fatalf("request = %d %v", status, er)
	}
	// The process may die before it answers: the erasure starts as soon as the clock moves.
	if resp, err := http.Post(base+"/dev/clock", "application/json", strings.NewReader(`{"advance":"24h"}`)); err == nil {
		resp.Body.Close()
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if ee, ok := err.(*exec.ExitError); !ok || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("the process ended with %v, want SIGKILL", err)
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the erasure did not reach the crash point")
	}
	cmd = start()
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	var got map[string]any
	for i := 0; i < 200; i++ {
		_, got = call(t, "GET", base+"/v1/erasures/"+er["id"].(string), key, "")
		if got["state"] == "awaiting_marketplace" {
			break
		}
		time.Sleep(50 * time.Millisecond) // waiting for the restarted process's job runner
	}
	if got["state"] != "awaiting_marketplace" {
		t.Fatalf("after the restart the erasure is %v", got)
	}
	stores := got["certificate"].(map[string]any)["stores"].([]any)
	removed := map[string]float64{}
	for _, s := range stores {
		for k, v := range s.(map[string]any)["removed"].(map[string]any) {
			removed[k] += v.(float64)
		}
	}
	if removed["restriction_notes"] != 4 || removed["profile"] != 1 || removed["mails"] != 4 || removed["audit_personal_data"] != 3 {
		t.Fatalf("certificate counts after the crash = %v", removed)
	}
	if status, acc := call(t, "GET", base+"/v1/accounts/"+id, key, ""); status != 200 || acc["lifecycle"] != "erased" || acc["email"] != nil {
		t.Fatalf("account after the erasure = %d %v", status, acc)
	}
}

// TestServeOnPostgres runs the commands against PostgreSQL the way an operator would:
// migrate, serve with STANDING_DATABASE_URL, a key, restrict and check, and audit verify,
// which names the entry edited by hand.
func TestServeOnPostgres(t *testing.T) {
	dsn := standingtest.PostgresURL(t)
	out, err := runCmd(t, env(), "migrate", "--database-url", dsn)
	if err != nil || !strings.Contains(out, "applied") {
		t.Fatalf("migrate on an empty schema = %v\n%s", err, out)
	}
	if out, err := runCmd(t, env(), "migrate", "--database-url", dsn); err != nil || !strings.Contains(out, "up to date") {
		t.Fatalf("migrate again = %v\n%s", err, out)
	}
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	var logs syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve"}, env("STANDING_ADDR", addr, "STANDING_DATA_DIR", t.TempDir(), "STANDING_DATABASE_URL", dsn), nil, io.Discard, &logs)
	}()
	base := "http://" + addr
	waitReady(t, base)
	if !strings.Contains(logs.String(), "store=postgres") {
		t.Errorf("the server does not say it runs on PostgreSQL:\n%s", logs.String())
	}
	out, err = runCmd(t, env("STANDING_DATABASE_URL", dsn), "apikey", "create", "--name", "ops", "--scopes", "all")
	if err != nil {
		t.Fatalf("apikey create: %v\n%s", err, out)
	}
	key := lastLine(out)
	status, acc := call(t, "POST", base+"/v1/accounts", key, `{"role":"buyer","email":"pg@example.com"}`)
	if status != 201 {
		t.Fatalf("create account = %d %v", status, acc)
	}
	id := acc["id"].(string)
	for _, reason := range []string{"risk_review", "dispute_abuse"} {
		if status, r := call(t, "POST", base+"/v1/accounts/"+id+"/restrictions", key, `{"reason_code":"`+reason+`"}`); status != 201 {
			t.Fatalf("restrict = %d %v", status, r)
		}
	}
	if status, d := call(t, "POST", base+"/v1/check", key, `{"account_id":"`+id+`","capability":"pay"}`); status != 200 || d["allowed"] != false {
		t.Fatalf("check = %d %v", status, d)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve returned %v", err)
	}
	out, err = runCmd(t, env(), "audit", "verify", "--database-url", dsn)
	if err != nil || !strings.Contains(out, "ok: 3 entries") {
		t.Fatalf("verify on a clean database = %v\n%s", err, out)
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("UPDATE audit_log SET reason = 'self_deleted' WHERE seq = 2"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	out, err = runCmd(t, env(), "audit", "verify", "--database-url", dsn)
	if err == nil || !strings.Contains(out, "BROKEN at entry 2") {
		t.Fatalf("verify after an edit = %v\n%s", err, out)
	}
}
