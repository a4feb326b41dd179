package config_test

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"standing"
	"standing/config"
)

func TestMergePolicy(t *testing.T) {
	p := standing.DefaultPolicy()
	doc := `
erasure_grace: 48h
evidence: {photo_max: 5MB}
reasons:
  - code: risk_review
    message: "Paused {until}."
    keeps: [login, view_orders]
  - code: counterfeit
    title: Counterfeit goods
    applies_to: seller
    removes: [list_products]
    message: Listing paused.
    remedy: Appeal with invoices.
    appealable: true
    severity: 65
`
	if err := config.MergePolicy(p, []byte(doc)); err != nil {
		t.Fatal(err)
	}
	if p.ErasureGrace.D().Hours() != 48 || p.Evidence.PhotoMax != 5<<20 || p.Evidence.PDFMax != 10<<20 {
		t.Errorf("settings = %v %v %v", p.ErasureGrace, p.Evidence.PhotoMax, p.Evidence.PDFMax)
	}
	r, _ := p.Reason("risk_review")
	if r.Message != "Paused {until}." || r.Removes.Has(standing.CapLogin) || !r.Removes.Has(standing.CapMessage) || r.Remedy == "" {
		t.Errorf("risk_review after merge = %+v", r)
	}
	c, ok := p.Reason("counterfeit")
	if !ok || c.AppliesTo != "seller" || !c.Removes.Has(standing.CapListProducts) {
		t.Errorf("new reason = %+v, %v", c, ok)
	}
	if p.VerificationDeadline.D().Hours() != 72 {
		t.Errorf("an unset setting lost its default: %v", p.VerificationDeadline)
	}
}

func TestMergePolicyErrorsNameTheSetting(t *testing.T) {
	cases := map[string]string{
		"erasure_grace: soon":                              "erasure_grace: invalid duration \"soon\"",
		"appeals: {window: banana}":                        "appeals.window",
		"evidence: {photo_max: lots}":                      "evidence.photo_max",
		"appeals: {escalate_at: high}":                     "appeals.escalate_at",
		"reasons: [{code: risk_review, severity: high}]":   "severity",
		"erasure_grace: 0s":                                "erasure_grace",
		"appeals: {escalate_at: 3}":                        "escalate_at",
		"unknown_thing: 1":                                 "unknown_thing",
		"reasons: [{code: x, message: m, removes: [fly]}]": "fly",
		"reasons: [{title: no code}]":                      "code",
		"reasons: [{code: risk_review, colour: red}]":      "colour",
		"- a list": "mapping",
		"seller: {violation_types: [{code: t, ledger: nowhere, points: 1}]}": "nowhere",
	}
	for doc, want := range cases {
		err := config.MergePolicy(standing.DefaultPolicy(), []byte(doc))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("MergePolicy(%q) = %v, want an error naming %q", doc, err, want)
		}
	}
}

func TestConfigFromFlagsAndEnv(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	env := map[string]string{"STANDING_ADDR": "0.0.0.0:9000", "STANDING_DEV": "1", "STANDING_DATABASE_URL": "postgres://u:hunter2@db/standing"}
	c := config.Flags(fs, func(k string) string { return env[k] })
	if err := fs.Parse([]string{"--addr", "127.0.0.1:7000"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:7000" || !c.Dev || c.DataDir != "./standing-data" || c.BaseURL != "http://127.0.0.1:7000" {
		t.Errorf("config = %+v", c)
	}
	masked := fmt.Sprint(c.Masked()...)
	if strings.Contains(masked, "hunter2") || !strings.Contains(masked, "xxxxx") {
		t.Errorf("masked config shows the password: %s", masked)
	}
	// The start-up log shows every setting of the README's table.
	for _, name := range []string{"addr", "data_dir", "database", "policy", "dev", "base_url", "smtp", "smtp_tls", "mail_from", "blobs", "secret", "log_level"} {
		if !strings.Contains(masked, name) {
			t.Errorf("masked config has no %s: %s", name, masked)
		}
	}
	for _, bad := range []config.Config{{Addr: "nope", DataDir: "d"}, {Addr: "a:1", DataDir: ""}, {Addr: "a:1", DataDir: "d", DatabaseURL: "mysql://x"}, {Addr: "a:1", DataDir: "d", SMTPTLS: "maybe"}} {
		if err := bad.Validate(); err == nil {
			t.Errorf("Validate(%+v) accepted", bad)
		}
	}
}

// TestBadValuesNameTheSetting: a value the service cannot use stops it at start with an
// error naming the flag or variable, even where the setting is read only later (the
// sender, when mail is sent at all).
func TestBadValuesNameTheSetting(t *testing.T) {
	for _, c := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--mail-from", "not an address"}, nil, "--mail-from"},
		{nil, map[string]string{"STANDING_MAIL_FROM": "a@example.com, b@example.com"}, "--mail-from"},
		{[]string{"--mail-from", "a@example.com\r\nBcc: b@example.com"}, nil, "--mail-from"},
		{nil, map[string]string{"STANDING_DEV": "yes"}, "STANDING_DEV"},
		{[]string{"--secret", "short"}, nil, "--secret (STANDING_SECRET) must be at least 32 characters"},
		{nil, map[string]string{"STANDING_BASE_URL": "ftp://x"}, "--base-url (STANDING_BASE_URL)"},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		c2 := config.Flags(fs, func(k string) string { return c.env[k] })
		if err := fs.Parse(c.args); err != nil {
			t.Fatal(err)
		}
		if err := c2.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v %v: Validate = %v, want an error naming %s", c.args, c.env, err, c.want)
		}
	}
	for _, v := range []string{"1", "true", "0", "false", ""} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		c := config.Flags(fs, func(k string) string { return map[string]string{"STANDING_DEV": v}[k] })
		if err := c.Validate(); err != nil || c.Dev != (v == "1" || v == "true") {
			t.Errorf("STANDING_DEV=%q: dev %v, %v", v, c.Dev, err)
		}
	}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	c := config.Flags(fs, func(string) string { return "" })
	if err := fs.Parse([]string{"--mail-from", "Shop <no-reply@shop.example>"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("a good sender refused: %v", err)
	}
}

// TestPolicyFileInTOML: a .toml policy file sets the same settings, by the same names, as
// the YAML form, and its mistakes are named the same way.
func TestPolicyFileInTOML(t *testing.T) {
	dir := t.TempDir()
	write := func(name, doc string) string {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	p, err := config.LoadPolicy(write("policy.toml", `
erasure_grace = "48h"

[evidence]
photo_max = "5MB"

[[reasons]]
code = "risk_review"
message = "Paused {until}."
keeps = ["login", "view_orders"]

[[reasons]]
code = "counterfeit"
title = "Counterfeit goods"
applies_to = "seller"
removes = ["list_products"]
message = "Listing paused."
remedy = "Appeal with invoices."
appealable = true
severity = 65
`))
	if err != nil {
		t.Fatal(err)
	}
	if p.ErasureGrace.D().Hours() != 48 || p.Evidence.PhotoMax != 5<<20 || p.Evidence.PDFMax != 10<<20 {
		t.Errorf("settings = %v %v %v", p.ErasureGrace, p.Evidence.PhotoMax, p.Evidence.PDFMax)
	}
	if r, _ := p.Reason("risk_review"); r.Message != "Paused {until}." || r.Removes.Has(standing.CapLogin) || !r.Removes.Has(standing.CapMessage) {
		t.Errorf("risk_review after merge = %+v", r)
	}
	if c, ok := p.Reason("counterfeit"); !ok || c.Severity != 65 || !c.Removes.Has(standing.CapListProducts) {
		t.Errorf("new reason = %+v, %v", c, ok)
	}
	if p.VerificationDeadline.D().Hours() != 72 {
		t.Errorf("an unset setting lost its default: %v", p.VerificationDeadline)
	}
	if p, err := config.LoadPolicy(write("empty.toml", "")); err != nil || p.VerificationDeadline.D().Hours() != 72 {
		t.Errorf("an empty TOML file = %v, %v; want the defaults", p, err)
	}
	for doc, want := range map[string]string{
		`erasure_grace = "soon"`:                                          "erasure_grace",
		`unknown_thing = 1`:                                               "unknown_thing",
		"[appeals]\nescalate_at = 3":                                      "escalate_at",
		"[[reasons]]\ncode = \"risk_review\"\ncolour = \"red\"":           "colour",
		"[[reasons]]\ncode = \"x\"\nmessage = \"m\"\nremoves = [\"fly\"]": "fly",
		`erasure_grace = `:                                                "not valid TOML",
	} {
		if _, err := config.LoadPolicy(write("bad.toml", doc)); err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "bad.toml") {
			t.Errorf("LoadPolicy(%q) = %v, want an error naming %q and the file", doc, err, want)
		}
	}
	// The extension decides: the same words in a .yaml file are not TOML.
	if _, err := config.LoadPolicy(write("policy.yaml", `erasure_grace = "48h"`)); err == nil {
		t.Error("a .yaml file was read as TOML")
	}
}
