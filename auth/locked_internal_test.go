package auth

import (
	"strings"
	"testing"
	"time"

	"standing"
)

// TestLockedErrorSaysTheDateAndTheWait: the lockout message names the day as well as the
// hour (a lockout may pass midnight) and the wait in words.
func TestLockedErrorSaysTheDateAndTheWait(t *testing.T) {
	now := time.Date(2026, 11, 23, 23, 50, 0, 0, time.UTC)
	for _, tc := range []struct {
		until time.Duration
		want  []string
	}{
		{15 * time.Minute, []string{"paused until 24 Nov 2026, 00:05 UTC", "(in about 15 minutes)"}},
		{20 * time.Second, []string{"(in about 1 minute)"}},
		{49*time.Hour + 10*time.Minute, []string{"paused until 26 Nov 2026, 01:00 UTC", "(in about 49 hours)"}},
	} {
		err := lockedError("for this account", now.Add(tc.until), now)
		if standing.ErrorCode(err) != standing.ERATELIMITED {
			t.Fatalf("code = %s", standing.ErrorCode(err))
		}
		for _, w := range tc.want {
			if !strings.Contains(standing.ErrorMessage(err), w) {
				t.Errorf("lockout of %v: %q lacks %q", tc.until, standing.ErrorMessage(err), w)
			}
		}
	}
}
