package app_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"standing"
	"standing/app/apptest"
	"standing/config"
	"standing/evidence/evidencetest"
)

// TestReloadedPolicyLimitsUploads: after the policy is reloaded (SIGHUP), uploads are
// checked against its new limits, not the ones in effect at start.
func TestReloadedPolicyLimitsUploads(t *testing.T) {
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	write := func(yaml string) {
		if err := os.WriteFile(policy, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("evidence: {video_max: 2MB}\n")
	e := apptest.New(t, apptest.Options{Configure: func(c *config.Config) { c.PolicyFile = policy }})
	id := e.CreateAccount("buyer", "reload@example.com")
	upload := func() error {
		_, err := e.App.Appeals.Upload(context.Background(), id, "other", "file_other", "clip.mp4", bytes.NewReader(evidencetest.MP4(1536<<10)))
		return err
	}
	if err := upload(); err != nil {
		t.Fatalf("a 1.5 MB video under a 2 MB limit: %v", err)
	}
	write("evidence: {video_max: 1MB}\n")
	if err := e.App.ReloadPolicy(); err != nil {
		t.Fatal(err)
	}
	if got := e.App.Policy().Evidence.VideoMax; got != 1<<20 {
		t.Fatalf("the reloaded policy's video limit = %s, want 1 MB", got)
	}
	if err := upload(); standing.ErrorCode(err) != standing.ETOOLARGE {
		t.Fatalf("a 1.5 MB video after the limit became 1 MB: %v, want too large", err)
	}
}
