package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"standing/config"
)

// TestServerSecretKept: the generated server secret is kept in the data folder and read
// back; a short secret found there is refused, not replaced, since replacing it would
// change every keyed hash made with it.
func TestServerSecretKept(t *testing.T) {
	dir := t.TempDir()
	a := &App{Config: &config.Config{DataDir: dir}}
	first, err := a.serverSecret()
	if err != nil || len(first) < config.MinSecretLen {
		t.Fatalf("generated secret %q, %v", first, err)
	}
	if again, err := a.serverSecret(); err != nil || string(again) != string(first) {
		t.Fatalf("secret read back = %q, %v; want the kept one", again, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte("too short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := a.serverSecret(); err == nil || !strings.Contains(err.Error(), "shorter than 32") {
		t.Fatalf("short kept secret: %v, want a refusal", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "secret")); string(b) != "too short\n" {
		t.Errorf("the short secret was replaced: %q", b)
	}
}
