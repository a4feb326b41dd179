package main

import (
	"context"
	"flag"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"standing/config"
	"standing/sqlstore"
	"standing/standingtest"
)

// TestArgumentsCheckedFirst: a wrong command, argument or rule file is refused before the
// database is opened, so it creates and migrates nothing.
func TestArgumentsCheckedFirst(t *testing.T) {
	tmp := t.TempDir()
	data := filepath.Join(tmp, "data") // openStore would create it
	bad := filepath.Join(tmp, "bad.yaml")
	os.WriteFile(bad, []byte("- id: fine\n  name: Fine\n  expression: features.orders_1h > 3\n  outcome: {score: 1}\n- id: broken\n  name: Broken\n  expression: features.orders_1h >\n  outcome: {score: 1}\n"), 0o600)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"apikey", "frobnicate", "--data-dir", data}, "unknown apikey command"},
		{[]string{"apikey", "list", "--data-dir", data, "extra"}, "takes no arguments"},
		{[]string{"apikey", "revoke", "--data-dir", data}, "usage: standing apikey revoke"},
		{[]string{"apikey", "create", "--data-dir", data, "--name", "x", "--scopes", "godmode"}, `--scopes: unknown scope "godmode"`},
		{[]string{"apikey", "create", "--data-dir", data, "--scopes", "check"}, "--name:"},
		{[]string{"rules", "frobnicate", "--data-dir", data}, "unknown rules command"},
		{[]string{"rules", "list", "--data-dir", data, "extra"}, "usage: standing rules list"},
		{[]string{"rules", "show", "--data-dir", data}, "usage: standing rules show ID"},
		{[]string{"rules", "apply", "--data-dir", data}, "usage: standing rules apply FILE"},
		{[]string{"rules", "apply", "--data-dir", data, filepath.Join(tmp, "missing.yaml")}, "missing.yaml"},
		{[]string{"rules", "apply", "--data-dir", data, bad}, "rules[1] broken: expression: line 1"},
	} {
		out, err := runCmd(t, env(), c.args...)
		if err == nil || !strings.Contains(out+err.Error(), c.want) {
			t.Errorf("standing %v = %v\n%s\nwant an error saying %q", c.args, err, out, c.want)
		}
		if _, err := os.Stat(data); err == nil {
			t.Fatalf("standing %v opened the database before checking its arguments", c.args)
		}
	}
}

// TestFlagsAfterArguments: flags may follow a command's arguments, as its usage line
// writes them ("rules apply FILE  [--data-dir DIR | --database-url URL]").
func TestFlagsAfterArguments(t *testing.T) {
	data := t.TempDir()
	file := filepath.Join(t.TempDir(), "rules.yaml")
	os.WriteFile(file, []byte("- id: first\n  name: First\n  expression: features.orders_1h > 3\n  outcome: {score: 1}\n"), 0o600)
	if out, err := runCmd(t, env(), "rules", "apply", file, "--data-dir", data); err != nil || !strings.Contains(out, "first created") {
		t.Fatalf("rules apply FILE --data-dir DIR = %v\n%s", err, out)
	}
	if out, err := runCmd(t, env(), "rules", "show", "first", "--data-dir", data); err != nil || !strings.Contains(out, "First") {
		t.Fatalf("rules show ID --data-dir DIR = %v\n%s", err, out)
	}
	out, err := runCmd(t, env(), "apikey", "create", "--name", "k", "--scopes", "check", "--data-dir", data)
	if err != nil {
		t.Fatalf("apikey create: %v\n%s", err, out)
	}
	id := strings.Fields(out)[3]
	if out, err := runCmd(t, env(), "apikey", "revoke", id, "--data-dir", data); err != nil || !strings.Contains(out, "revoked "+id) {
		t.Fatalf("apikey revoke ID --data-dir DIR = %v\n%s", err, out)
	}
	if out, err := runCmd(t, env(), "rules", "show", "first", "--data-dir", data, "extra"); err == nil {
		t.Fatalf("rules show with two arguments succeeded:\n%s", out)
	}
	if out, err := runCmd(t, env(), "rules", "show", "--data-dir", data, "--", "--first"); err == nil || !strings.Contains(err.Error(), `no rule "--first"`) {
		t.Fatalf("rules show -- --first = %v, want the argument after -- taken as the id\n%s", err, out)
	}
}

// TestRulesApplyAllOrNone: rules list on a new store shows no rules and seeds none; rules
// apply seeds the default pack with the file's rules; a file whose second rule cannot be
// saved changes nothing, and the error names the rule and its position.
func TestRulesApplyAllOrNone(t *testing.T) {
	for _, d := range []struct {
		name string
		env  func(t *testing.T) func(string) string
	}{
		{"sqlite", func(t *testing.T) func(string) string { return env("STANDING_DATA_DIR", t.TempDir()) }},
		{"postgres", func(t *testing.T) func(string) string {
			return env("STANDING_DATA_DIR", t.TempDir(), "STANDING_DATABASE_URL", standingtest.PostgresURL(t))
		}},
	} {
		t.Run(d.name, func(t *testing.T) {
			e := d.env(t)
			file := filepath.Join(t.TempDir(), "rules.yaml")
			write := func(doc string) {
				t.Helper()
				if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			out, err := runCmd(t, e, "rules", "list")
			if err != nil || !strings.Contains(out, "no rules yet") {
				t.Fatalf("rules list on a new store: %v\n%s", err, out)
			}
			// Both valid, but the database refuses the second's version.
			write("- id: first\n  name: First\n  expression: features.orders_1h > 3\n  outcome: {score: 1}\n" +
				"- id: second\n  name: Second\n  expression: features.orders_1h > 4\n  outcome: {score: 1}\n")
			if _, err := runCmd(t, e, "rules", "list"); err != nil { // migrated
				t.Fatal(err)
			}
			refuseSecond(t, e)
			out, err = runCmd(t, e, "rules", "apply", file)
			if err == nil || !strings.Contains(err.Error(), "rules[1]") || !strings.Contains(err.Error(), `"second"`) || !strings.Contains(err.Error(), "no rule was changed") {
				t.Fatalf("apply with a rule that cannot be saved: %v\n%s", err, out)
			}
			if out, err := runCmd(t, e, "rules", "list"); err != nil || !strings.Contains(out, "no rules yet") {
				t.Fatalf("after a refused apply: %v\n%s", err, out)
			}
			write("- id: first\n  name: First\n  expression: features.orders_1h > 3\n  outcome: {score: 1}\n")
			if out, err := runCmd(t, e, "rules", "apply", file); err != nil || !strings.Contains(out, "first created (version 1)") {
				t.Fatalf("rules apply: %v\n%s", err, out)
			}
			out, err = runCmd(t, e, "rules", "list")
			if err != nil || !strings.Contains(out, "first") || !strings.Contains(out, "anonymizer_checkout") {
				t.Fatalf("rules list after apply: want the default pack and the file's rule: %v\n%s", err, out)
			}
		})
	}
}

// refuseSecond makes the store of the environment refuse to write a version of the rule
// "second", with a trigger.
func refuseSecond(t *testing.T, getenv func(string) string) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfg := config.StoreFlags(fs, getenv)
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, cfg.StoreDSN(), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ddl := []string{`CREATE TRIGGER refuse BEFORE INSERT ON rule_versions WHEN NEW.rule_id = 'second' BEGIN SELECT RAISE(ABORT, 'refused'); END`}
	if s.Dialect() == sqlstore.Postgres {
		ddl = []string{
			`CREATE FUNCTION refuse_rule() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$`,
			`CREATE TRIGGER refuse BEFORE INSERT ON rule_versions FOR EACH ROW WHEN (NEW.rule_id = 'second') EXECUTE FUNCTION refuse_rule()`,
		}
	}
	for _, q := range ddl {
		if err := s.ExecRaw(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
}

// TestServeOnABusyAddress: a taken --addr is reported, naming the flag, before the data
// folder is touched.
func TestServeOnABusyAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dir := filepath.Join(t.TempDir(), "data")
	err = run(context.Background(), []string{"serve", "--addr", ln.Addr().String(), "--data-dir", dir}, env(), nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--addr "+ln.Addr().String()) {
		t.Fatalf("serve on a busy address = %v, want an error naming --addr", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the data folder was made before the address was known to be free: %v", err)
	}
}

func TestBaseHostNobodyCanOpen(t *testing.T) {
	for base, want := range map[string]string{
		"http://0.0.0.0:8080":         "0.0.0.0",
		"http://[::]:8080":            "::",
		"http://:8080":                "(none)",
		"http://127.0.0.1:8080":       "",
		"https://standing.example":    "",
		"http://standing.example:80/": "",
	} {
		if got := baseHost(base); got != want {
			t.Errorf("baseHost(%q) = %q, want %q", base, got, want)
		}
	}
}
