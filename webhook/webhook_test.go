package webhook_test

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"standing"
	"standing/webhook"
)

// The reference vector of the Standard Webhooks libraries (libraries/go/webhook_test.go
// and the other languages' tests in standard-webhooks/standard-webhooks).
const (
	refSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	refID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	refTimestamp = 1614265330
	refPayload   = `{"test": 2432232314}`
	refSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestSignKnownAnswer(t *testing.T) {
	got, err := webhook.Sign([]string{refSecret}, refID, time.Unix(refTimestamp, 0), []byte(refPayload))
	if err != nil {
		t.Fatal(err)
	}
	if got != refSignature {
		t.Errorf("Sign = %q, want %q", got, refSignature)
	}
}

func TestVerifyKnownAnswer(t *testing.T) {
	h := http.Header{}
	h.Set("webhook-id", refID)
	h.Set("webhook-timestamp", strconv.Itoa(refTimestamp))
	h.Set("webhook-signature", refSignature)
	now := time.Unix(refTimestamp+60, 0)
	if err := webhook.Verify(refSecret, h, []byte(refPayload), now, 0); err != nil {
		t.Fatalf("Verify of the reference vector: %v", err)
	}
	// The reference tests' "invalid signature" and "multi signature" cases.
	h.Set("webhook-signature", "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=")
	if err := webhook.Verify(refSecret, h, []byte(refPayload), now, 0); !errors.Is(err, webhook.ErrNoMatch) {
		t.Errorf("Verify with a wrong signature = %v, want ErrNoMatch", err)
	}
	h.Set("webhook-signature", strings.Join([]string{
		"v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
		"v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
		refSignature,
		"v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
	}, " "))
	if err := webhook.Verify(refSecret, h, []byte(refPayload), now, 0); err != nil {
		t.Errorf("Verify with the right signature among others: %v", err)
	}
	// A signature of another version with the right bytes does not count.
	h.Set("webhook-signature", "v1a,"+strings.TrimPrefix(refSignature, "v1,"))
	if err := webhook.Verify(refSecret, h, []byte(refPayload), now, 0); !errors.Is(err, webhook.ErrNoMatch) {
		t.Errorf("Verify with only a v1a signature = %v, want ErrNoMatch", err)
	}
}

func TestSecrets(t *testing.T) {
	s := webhook.NewSecret()
	if !strings.HasPrefix(s, "whsec_") {
		t.Fatalf("NewSecret = %q, want the whsec_ prefix", s)
	}
	key, err := webhook.ParseSecret(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(key) != 32 {
		t.Errorf("NewSecret holds %d bytes, want 32", len(key))
	}
	if s2 := webhook.NewSecret(); s2 == s {
		t.Errorf("two secrets are equal: %q", s)
	}
	if _, err := webhook.ParseSecret(refSecret); err != nil {
		t.Errorf("ParseSecret(reference) = %v", err)
	}
	b64 := func(n int) string { return base64.StdEncoding.EncodeToString(make([]byte, n)) }
	for _, bad := range []string{
		"",
		"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", // no prefix
		"whsec_",                           // empty
		"whsec_not base64!",                // not base64
		"whsec_" + b64(23),                 // too short
		"whsec_" + b64(65),                 // too long
		"whsk_" + b64(32),                  // an asymmetric key prefix
		"whsec_" + strings.TrimRight(b64(32), "="), // unpadded
	} {
		_, err := webhook.ParseSecret(bad)
		if !errors.Is(err, webhook.ErrMalformedSecret) {
			t.Errorf("ParseSecret(%q) = %v, want ErrMalformedSecret", bad, err)
		}
		if standing.ErrorCode(err) != standing.EINVALID || standing.ErrorField(err) != "secret" {
			t.Errorf("ParseSecret(%q): code %q field %q, want invalid secret", bad, standing.ErrorCode(err), standing.ErrorField(err))
		}
	}
	for _, n := range []int{24, 64} {
		if _, err := webhook.ParseSecret("whsec_" + b64(n)); err != nil {
			t.Errorf("ParseSecret of %d bytes: %v", n, err)
		}
	}
}

func signed(t *testing.T, secrets []string, id string, ts time.Time, body string) http.Header {
	t.Helper()
	h, err := webhook.Headers(secrets, id, ts, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestRoundTripAndFailures(t *testing.T) {
	secret := webhook.NewSecret()
	ts := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	body := `{"type":"account.restricted","data":{"account_id":"acc_1"}}`
	h := signed(t, []string{secret}, "msg_1", ts, body)
	if got := h.Get("webhook-timestamp"); got != strconv.FormatInt(ts.Unix(), 10) {
		t.Errorf("webhook-timestamp = %q", got)
	}

	tests := []struct {
		name    string
		secret  string
		headers func() http.Header
		body    string
		now     time.Time
		tol     time.Duration
		want    error
	}{
		{"round trip", secret, func() http.Header { return h }, body, ts, 0, nil},
		{"at the edge of the tolerance", secret, func() http.Header { return h }, body, ts.Add(5 * time.Minute), 0, nil},
		{"tampered body", secret, func() http.Header { return h }, strings.Replace(body, "acc_1", "acc_2", 1), ts, 0, webhook.ErrNoMatch},
		{"body with a trailing space", secret, func() http.Header { return h }, body + " ", ts, 0, webhook.ErrNoMatch},
		{"other secret", webhook.NewSecret(), func() http.Header { return h }, body, ts, 0, webhook.ErrNoMatch},
		{"stale timestamp", secret, func() http.Header { return h }, body, ts.Add(5*time.Minute + time.Second), 0, webhook.ErrTooOld},
		{"stale under a shorter tolerance", secret, func() http.Header { return h }, body, ts.Add(time.Minute), 30 * time.Second, webhook.ErrTooOld},
		{"timestamp from the future", secret, func() http.Header { return h }, body, ts.Add(-6 * time.Minute), 0, webhook.ErrTooNew},
		{"tampered id", secret, func() http.Header { c := h.Clone(); c.Set("webhook-id", "msg_2"); return c }, body, ts, 0, webhook.ErrNoMatch},
		{"tampered timestamp", secret, func() http.Header {
			c := h.Clone()
			c.Set("webhook-timestamp", strconv.FormatInt(ts.Unix()+1, 10))
			return c
		}, body, ts, 0, webhook.ErrNoMatch},
		{"timestamp not a number", secret, func() http.Header { c := h.Clone(); c.Set("webhook-timestamp", "soon"); return c }, body, ts, 0, webhook.ErrBadTimestamp},
		{"no id", secret, func() http.Header { c := h.Clone(); c.Del("webhook-id"); return c }, body, ts, 0, webhook.ErrMissingHeaders},
		{"no signature", secret, func() http.Header { c := h.Clone(); c.Del("webhook-signature"); return c }, body, ts, 0, webhook.ErrMissingHeaders},
		{"no timestamp", secret, func() http.Header { c := h.Clone(); c.Del("webhook-timestamp"); return c }, body, ts, 0, webhook.ErrMissingHeaders},
		{"malformed secret", "whsec_short", func() http.Header { return h }, body, ts, 0, webhook.ErrMalformedSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := webhook.Verify(tt.secret, tt.headers(), []byte(tt.body), tt.now, tt.tol)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestRotation(t *testing.T) {
	old, current := webhook.NewSecret(), webhook.NewSecret()
	ts := time.Unix(1_800_000_000, 0)
	body := `{"type":"order.closed"}`
	h := signed(t, []string{current, old}, "msg_rot", ts, body)
	sigs := strings.Fields(h.Get("webhook-signature"))
	if len(sigs) != 2 || !strings.HasPrefix(sigs[0], "v1,") || !strings.HasPrefix(sigs[1], "v1,") {
		t.Fatalf("webhook-signature = %q, want two v1 signatures", h.Get("webhook-signature"))
	}
	// A receiver that still has the old secret and one that has the new one both accept it.
	for name, s := range map[string]string{"old": old, "current": current} {
		if err := webhook.Verify(s, h, []byte(body), ts, 0); err != nil {
			t.Errorf("Verify with the %s secret: %v", name, err)
		}
	}
	if err := webhook.Verify(webhook.NewSecret(), h, []byte(body), ts, 0); !errors.Is(err, webhook.ErrNoMatch) {
		t.Errorf("Verify with a third secret = %v, want ErrNoMatch", err)
	}
	// Each signature alone is the one Sign makes for its secret.
	for i, s := range []string{current, old} {
		one, err := webhook.Sign([]string{s}, "msg_rot", ts, []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if one != sigs[i] {
			t.Errorf("signature %d = %q, want %q", i, sigs[i], one)
		}
	}
}

func TestSignRefusesBadInput(t *testing.T) {
	ts := time.Unix(1_800_000_000, 0)
	tests := []struct {
		name    string
		secrets []string
		id      string
		field   string
	}{
		{"no secrets", nil, "msg_1", "secrets"},
		{"malformed second secret", []string{webhook.NewSecret(), "whsec_x"}, "msg_1", "secrets[1]"},
		{"empty id", []string{webhook.NewSecret()}, "", "id"},
		{"id with a dot", []string{webhook.NewSecret()}, "msg.1", "id"},
		{"id with a newline", []string{webhook.NewSecret()}, "msg_1\r\nX-Evil: 1", "id"},
		{"id too long", []string{webhook.NewSecret()}, strings.Repeat("a", webhook.MaxIDLen+1), "id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := webhook.Sign(tt.secrets, tt.id, ts, []byte(`{}`))
			if standing.ErrorCode(err) != standing.EINVALID || standing.ErrorField(err) != tt.field {
				t.Errorf("Sign = %v, want invalid %s", err, tt.field)
			}
		})
	}
}
