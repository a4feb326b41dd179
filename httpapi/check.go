package httpapi

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"standing"
	"standing/checker"
	"standing/metrics"
)

type checkMetrics struct {
	results *metrics.CounterVec
}

func newCheckMetrics(reg *metrics.Registry) *checkMetrics {
	return &checkMetrics{results: reg.Counter("standing_check_results_total",
		"Checks answered, by the reason code that denied them (allowed when none did).", "reason")}
}

type checkRequest struct {
	AccountID  string `json:"account_id"`
	Capability string `json:"capability"`
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

var jsonContentType = []string{"application/json"}

// handleCheck serves POST /v1/check: may this account do this now? It reads only the
// in-memory standing, never the write path, and is written to allocate little: the body is
// read into a pooled buffer, the common request shape is parsed without reflection, and
// the answer is written by hand. Anything unusual falls back to the full JSON decoder,
// which gives the same errors as every other route.
func handleCheck(c *checker.Cache, m *checkMetrics) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		buf := bufPool.Get().(*bytes.Buffer)
		buf.Reset()
		defer bufPool.Put(buf)
		if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, maxBody)); err != nil {
			return decodeError(err, maxBody)
		}
		var in checkRequest
		account, capName, ok := parseCheck(buf.Bytes())
		capability, known := standing.ParseCapabilityBytes(capName)
		in.AccountID = account
		if !ok {
			dec := json.NewDecoder(bytes.NewReader(buf.Bytes()))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&in); err != nil {
				return decodeError(err, maxBody)
			}
			if _, err := dec.Token(); err != io.EOF {
				return standing.Errorf(standing.EMALFORMED, "the body holds data after the JSON value")
			}
			capability, known = standing.ParseCapability(in.Capability)
		}
		if in.AccountID == "" {
			return standing.FieldErrorf(standing.EINVALID, "account_id", "account_id is required")
		}
		if len(in.AccountID) > 100 {
			return standing.FieldErrorf(standing.EINVALID, "account_id", "account_id is longer than 100 characters")
		}
		if !known {
			if ok {
				in.Capability = string(capName)
			}
			return standing.FieldErrorf(standing.EINVALID, "capability", "unknown capability %q; known: %s", in.Capability, strings.Join(standing.CapabilityNames(), ", "))
		}
		d, err := c.Check(r.Context(), in.AccountID, capability)
		if err != nil {
			return err
		}
		if d.Allowed {
			m.results.With1("allowed").Inc()
		} else {
			m.results.With1(d.ReasonCode).Inc()
		}
		buf.Reset()
		appendDecision(buf, &d)
		w.Header()["Content-Type"] = jsonContentType
		_, err = w.Write(buf.Bytes())
		return err
	}
}

// parseCheck reads {"account_id": "…", "capability": "…"} in either order, with any
// whitespace, and nothing else. It reports !ok for anything else — escapes, other fields,
// other types — and the caller then uses the full decoder. The capability is returned as
// the bytes of the body, to be matched without allocating.
func parseCheck(b []byte) (account string, capability []byte, ok bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return "", nil, false
	}
	var haveAccount, haveCapability bool
	for n := 0; n < 2; n++ {
		i = skipSpace(b, i+1)
		key, j, ok := plainString(b, i)
		if !ok {
			return "", nil, false
		}
		i = skipSpace(b, j)
		if i >= len(b) || b[i] != ':' {
			return "", nil, false
		}
		i = skipSpace(b, i+1)
		val, j, ok := plainString(b, i)
		if !ok {
			return "", nil, false
		}
		switch {
		case string(key) == "account_id" && !haveAccount:
			account, haveAccount = string(val), true
		case string(key) == "capability" && !haveCapability:
			capability, haveCapability = val, true
		default:
			return "", nil, false
		}
		i = skipSpace(b, j)
		if i >= len(b) {
			return "", nil, false
		}
		if n == 0 && b[i] != ',' {
			return "", nil, false
		}
	}
	if b[i] != '}' || skipSpace(b, i+1) != len(b) {
		return "", nil, false
	}
	return account, capability, true
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// plainString reads a JSON string at b[i] that has no escapes and only printable ASCII.
func plainString(b []byte, i int) ([]byte, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, i, false
	}
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return b[i+1 : j], j + 1, true
		case c == '\\' || c < 0x20 || c >= 0x80:
			return nil, i, false
		}
	}
	return nil, i, false
}

// appendDecision writes d as JSON, the same shape encoding/json gives Decision.
func appendDecision(buf *bytes.Buffer, d *standing.Decision) {
	if d.Allowed {
		buf.WriteString("{\"allowed\":true}\n")
		return
	}
	buf.WriteString(`{"allowed":false`)
	field := func(name, v string) {
		if v == "" {
			return
		}
		buf.WriteString(`,"`)
		buf.WriteString(name)
		buf.WriteString(`":`)
		appendString(buf, v)
	}
	field("reason_code", d.ReasonCode)
	field("restriction_id", d.RestrictionID)
	field("message", d.Message)
	field("remedy", d.Remedy)
	if d.EndsAt != nil {
		buf.WriteString(`,"ends_at":"`)
		b := buf.AvailableBuffer()
		b = d.EndsAt.AppendFormat(b, time.RFC3339Nano)
		buf.Write(b)
		buf.WriteByte('"')
	}
	if d.Appealable {
		buf.WriteString(`,"appealable":true`)
	}
	buf.WriteString("}\n")
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string, escaping what JSON requires (and <, >, & as
// encoding/json does, so the output is safe to embed in HTML).
func appendString(buf *bytes.Buffer, s string) {
	buf.WriteByte('"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			buf.WriteString(s[start:i])
			switch c {
			case '"', '\\':
				buf.WriteByte('\\')
				buf.WriteByte(c)
			case '\n':
				buf.WriteString(`\n`)
			case '\r':
				buf.WriteString(`\r`)
			case '\t':
				buf.WriteString(`\t`)
			default:
				buf.WriteString(`\u00`)
				buf.WriteByte(hexDigits[c>>4])
				buf.WriteByte(hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			buf.WriteString(s[start:i])
			if r == utf8.RuneError {
				buf.WriteString(`\ufffd`)
			} else {
				buf.WriteString(`\u202` + strconv.Itoa(int(r-'\u2028'+8)))
			}
			i += size
			start = i
			continue
		}
		i += size
	}
	buf.WriteString(s[start:])
	buf.WriteByte('"')
}
