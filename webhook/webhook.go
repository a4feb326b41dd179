// Package webhook signs, verifies and delivers webhooks the way the Standard Webhooks
// specification (https://www.standardwebhooks.com) says, so a marketplace can check them
// with any Standard Webhooks library.
//
// A webhook is a JSON body POSTed with three headers:
//
//	webhook-id:        the message id, the same on every retry (an idempotency key)
//	webhook-timestamp: the attempt time in unix seconds
//	webhook-signature: "v1,<base64 HMAC-SHA256 of id.timestamp.body>", one per active secret,
//	                   separated by spaces
//
// Secrets are written "whsec_" followed by the base64 of 24 to 64 random bytes. Rotating a
// secret means signing with the old and the new one for a while: the receiver accepts the
// webhook when any signature matches a secret it knows.
package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"standing"
)

// The header names of the Standard Webhooks specification.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// SecretPrefix starts every symmetric webhook secret.
const SecretPrefix = "whsec_"

// The limits on a secret's key length, in bytes, that the specification sets.
const (
	MinSecretBytes = 24
	MaxSecretBytes = 64
)

// MaxIDLen is the longest message id Sign accepts.
const MaxIDLen = 256

// DefaultTolerance is how far a webhook's timestamp may be from the receiver's clock when
// Verify is given no tolerance: five minutes, as the reference libraries use.
const DefaultTolerance = 5 * time.Minute

// Errors of Verify and ParseSecret. Each is a *standing.Error, so the API layer maps it to a
// status; compare with errors.Is.
var (
	ErrMalformedSecret = &standing.Error{Code: standing.EINVALID, Field: "secret",
		Message: "a webhook secret is whsec_ followed by the base64 of 24 to 64 random bytes"}
	ErrMissingHeaders = &standing.Error{Code: standing.EUNAUTHORIZED,
		Message: "the webhook-id, webhook-timestamp and webhook-signature headers are required"}
	ErrBadTimestamp = &standing.Error{Code: standing.EUNAUTHORIZED, Field: HeaderTimestamp,
		Message: "webhook-timestamp must be a unix time in whole seconds"}
	ErrTooOld = &standing.Error{Code: standing.EUNAUTHORIZED, Field: HeaderTimestamp,
		Message: "the webhook timestamp is older than the tolerance allows (a replay?)"}
	ErrTooNew = &standing.Error{Code: standing.EUNAUTHORIZED, Field: HeaderTimestamp,
		Message: "the webhook timestamp is further in the future than the tolerance allows"}
	ErrNoMatch = &standing.Error{Code: standing.EUNAUTHORIZED, Field: HeaderSignature,
		Message: "no webhook signature matches the secret"}
)

// NewSecret returns a new secret: "whsec_" and the base64 of 32 random bytes.
func NewSecret() string {
	key := make([]byte, 32)
	rand.Read(key) // never fails; see crypto/rand
	return SecretPrefix + base64.StdEncoding.EncodeToString(key)
}

// ParseSecret returns the key a secret holds. It returns ErrMalformedSecret unless s is
// "whsec_" followed by standard base64 of 24 to 64 bytes.
func ParseSecret(s string) ([]byte, error) {
	b64, ok := strings.CutPrefix(s, SecretPrefix)
	if !ok {
		return nil, ErrMalformedSecret
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(key) < MinSecretBytes || len(key) > MaxSecretBytes {
		return nil, ErrMalformedSecret
	}
	return key, nil
}

// Sign returns the webhook-signature header value for a message: one "v1,<signature>"
// per secret, separated by spaces, in the order of secrets. The id must be 1 to MaxIDLen
// letters, digits, '_' or '-' (the specification forbids '.', which would make the signed
// content ambiguous); ts is sent in whole seconds. Errors are EINVALID and name the field.
func Sign(secrets []string, id string, ts time.Time, body []byte) (string, error) {
	if err := checkID(id); err != nil {
		return "", err
	}
	if len(secrets) == 0 {
		return "", standing.FieldErrorf(standing.EINVALID, "secrets", "a webhook needs at least one secret to be signed with")
	}
	var out strings.Builder
	for i, s := range secrets {
		key, err := ParseSecret(s)
		if err != nil {
			return "", standing.FieldErrorf(standing.EINVALID, "secrets["+strconv.Itoa(i)+"]", "%s", ErrMalformedSecret.Message)
		}
		if i > 0 {
			out.WriteByte(' ')
		}
		out.WriteString("v1,")
		out.WriteString(signature(key, id, ts.Unix(), body))
	}
	return out.String(), nil
}

// Headers returns the three webhook headers for a message signed with secrets.
func Headers(secrets []string, id string, ts time.Time, body []byte) (http.Header, error) {
	sig, err := Sign(secrets, id, ts, body)
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(HeaderSignature, sig)
	return h, nil
}

// Verify checks a received webhook against secret, as a receiver does: the three headers
// must be present, the timestamp within tolerance of now (DefaultTolerance when tolerance
// is not positive), and at least one "v1" signature must match, compared in constant time.
// Signatures of other versions are ignored. It returns ErrMalformedSecret,
// ErrMissingHeaders, ErrBadTimestamp, ErrTooOld, ErrTooNew or ErrNoMatch.
func Verify(secret string, headers http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	key, err := ParseSecret(secret)
	if err != nil {
		return err
	}
	id := headers.Get(HeaderID)
	tsText := headers.Get(HeaderTimestamp)
	sigs := strings.Join(headers.Values(HeaderSignature), " ")
	if id == "" || tsText == "" || strings.TrimSpace(sigs) == "" {
		return ErrMissingHeaders
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return ErrBadTimestamp
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	// Compare in whole seconds, the unit of the header.
	tol := int64(tolerance / time.Second)
	switch {
	case ts < now.Unix()-tol:
		return ErrTooOld
	case ts > now.Unix()+tol:
		return ErrTooNew
	}
	want := []byte(signature(key, id, ts, body))
	match := false
	for _, vs := range strings.Fields(sigs) {
		version, sig, ok := strings.Cut(vs, ",")
		if !ok || version != "v1" {
			continue
		}
		// Check every candidate so the time taken does not depend on which one matches.
		if hmac.Equal([]byte(sig), want) {
			match = true
		}
	}
	if !match {
		return ErrNoMatch
	}
	return nil
}

// signature returns the base64 HMAC-SHA256 of "id.ts.body" under key.
func signature(key []byte, id string, ts int64, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write(strconv.AppendInt(nil, ts, 10))
	m.Write([]byte{'.'})
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func checkID(id string) error {
	if id == "" || len(id) > MaxIDLen {
		return standing.FieldErrorf(standing.EINVALID, "id", "a webhook id is 1 to %d characters", MaxIDLen)
	}
	for _, c := range []byte(id) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return standing.FieldErrorf(standing.EINVALID, "id", "a webhook id holds only letters, digits, '_' and '-', not %q", id)
		}
	}
	return nil
}
