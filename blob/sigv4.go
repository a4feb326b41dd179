package blob

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Credentials are an S3 access key pair, with a session token for temporary credentials.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
}

// String masks the secret and the token, so Credentials can be printed in a config dump.
func (c Credentials) String() string {
	if c.AccessKeyID == "" {
		return "(none)"
	}
	return c.AccessKeyID + ":xxxxx"
}

const (
	sigAlgorithm = "AWS4-HMAC-SHA256"
	amzDateFmt   = "20060102T150405Z"
	// emptySHA256 is the hex SHA-256 of no bytes, the payload hash of a request without a
	// body.
	emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

// signV4 signs req with AWS Signature Version 4 for service in region at time t, setting
// X-Amz-Date (and X-Amz-Security-Token with a session token) and Authorization. It signs
// the host and every header already in req.Header, so the caller sets the headers it
// wants covered (for S3, X-Amz-Content-Sha256 = payloadHash) before calling it.
//
// The canonical URI is the request's decoded path encoded once, the S3 rule: S3 requests
// are neither normalised nor double-encoded, unlike other AWS services'. The canonical
// query decodes and re-encodes each parameter of req.URL.RawQuery and sorts them.
func signV4(req *http.Request, c Credentials, region, service, payloadHash string, t time.Time) {
	amzDate := t.UTC().Format(amzDateFmt)
	req.Header.Set("X-Amz-Date", amzDate)
	if c.SessionToken != "" {
		req.Header.Set("X-Amz-Security-Token", c.SessionToken)
	}
	scope := amzDate[:8] + "/" + region + "/" + service + "/aws4_request"
	canonical, signed := canonicalRequest(req, payloadHash)
	sum := sha256.Sum256([]byte(canonical))
	toSign := sigAlgorithm + "\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
	key := signingKey(c.SecretAccessKey, amzDate[:8], region, service)
	sig := hex.EncodeToString(hmacSHA256(key, toSign))
	req.Header.Set("Authorization", sigAlgorithm+" Credential="+c.AccessKeyID+"/"+scope+
		", SignedHeaders="+signed+", Signature="+sig)
}

// canonicalRequest returns the canonical request of SigV4 and its signed-headers list.
func canonicalRequest(req *http.Request, payloadHash string) (canonical, signedHeaders string) {
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	values := map[string][]string{"host": {host}}
	for name, vs := range req.Header {
		lname := strings.ToLower(name)
		if lname == "authorization" {
			continue
		}
		values[lname] = append(values[lname], vs...)
	}
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	slices.Sort(names)
	var b strings.Builder
	b.WriteString(req.Method)
	b.WriteByte('\n')
	path := req.URL.Path
	if path == "" {
		path = "/"
	}
	b.WriteString(uriEncode(path, true))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(req.URL.RawQuery))
	b.WriteByte('\n')
	for _, name := range names {
		vs := values[name]
		trimmed := make([]string, len(vs))
		for i, v := range vs {
			trimmed[i] = strings.Join(strings.Fields(v), " ")
		}
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(strings.Join(trimmed, ","))
		b.WriteByte('\n')
	}
	signedHeaders = strings.Join(names, ";")
	b.WriteByte('\n')
	b.WriteString(signedHeaders)
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String(), signedHeaders
}

// canonicalQuery decodes the parameters of a raw query, encodes them the SigV4 way and
// sorts them by name, then value. A parameter without '=' gets an empty value.
func canonicalQuery(raw string) string {
	if raw == "" {
		return ""
	}
	type pair struct{ k, v string }
	var pairs []pair
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		if dk, err := url.PathUnescape(k); err == nil {
			k = dk
		}
		if dv, err := url.PathUnescape(v); err == nil {
			v = dv
		}
		pairs = append(pairs, pair{uriEncode(k, false), uriEncode(v, false)})
	}
	slices.SortFunc(pairs, func(a, b pair) int {
		if c := strings.Compare(a.k, b.k); c != 0 {
			return c
		}
		return strings.Compare(a.v, b.v)
	})
	parts := make([]string, len(pairs))
	for i, p := range pairs {
		parts[i] = p.k + "=" + p.v
	}
	return strings.Join(parts, "&")
}

// encodeQuery builds a raw query already in canonical form, so what is sent is exactly
// what is signed.
func encodeQuery(params map[string]string) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = uriEncode(k, false) + "=" + uriEncode(params[k], false)
	}
	return strings.Join(parts, "&")
}

// uriEncode percent-encodes every byte except the unreserved characters A-Z a-z 0-9 - . _ ~
// (and '/' when keepSlash), with upper-case hex digits, as SigV4 requires.
func uriEncode(s string, keepSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '~', c == '/' && keepSlash:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}

func signingKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, "aws4_request")
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}
