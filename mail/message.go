// Package mail sends Standing's mail to people: verification links, reset links, notices of
// restrictions and appeal decisions. SMTPSender delivers a Message over SMTP with the TLS
// policy the operator chose, and classifies failures so that a retrying outbox knows which
// ones a later attempt can fix (IsPermanent).
//
// Messages are plain text, optionally with an HTML alternative, written as RFC 5322 mail:
// UTF-8 text in quoted-printable, so long links survive line-length limits intact, and
// subjects encoded as RFC 2047 words when they are not ASCII.
package mail

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
	"unicode/utf8"

	"standing"
)

// Message is one mail to one person.
type Message struct {
	// ID identifies the mail and becomes its Message-ID: <ID@domain of the sender> unless ID
	// already holds an "@". Letters, digits, '.', '_', '-' and '+'; empty means a random one.
	ID string
	// To is one address, "ana@example.com" or "Ana Silva <ana@example.com>".
	To      string
	Subject string
	// Text is the plain-text body; HTML, when set, is sent as its alternative.
	Text string
	HTML string
}

// Limits on a message.
const (
	MaxSubjectLen = 500     // bytes
	MaxBodyLen    = 1 << 20 // bytes, for Text and HTML each
	MaxIDLen      = 200     // bytes
	lineLimit     = 78      // header lines are folded at spaces to stay about this long
)

// Validate checks m: one well-formed recipient, a subject and a body in UTF-8, and no
// carriage return or line feed in a header field (header injection). Errors are EINVALID
// and name the field.
func (m Message) Validate() error {
	_, err := m.recipient()
	if err != nil {
		return err
	}
	switch {
	case strings.ContainsAny(m.Subject, "\r\n"):
		return standing.FieldErrorf(standing.EINVALID, "subject", "a subject must not contain line breaks")
	case strings.TrimSpace(m.Subject) == "":
		return standing.FieldErrorf(standing.EINVALID, "subject", "a mail needs a subject")
	case len(m.Subject) > MaxSubjectLen:
		return standing.FieldErrorf(standing.EINVALID, "subject", "a subject is at most %d bytes", MaxSubjectLen)
	case !utf8.ValidString(m.Subject) || hasControl(m.Subject):
		return standing.FieldErrorf(standing.EINVALID, "subject", "a subject must be UTF-8 text without control characters")
	case strings.TrimSpace(m.Text) == "":
		return standing.FieldErrorf(standing.EINVALID, "text", "a mail needs a plain-text body")
	case len(m.Text) > MaxBodyLen:
		return standing.FieldErrorf(standing.EINVALID, "text", "the text is over %d bytes", MaxBodyLen)
	case !utf8.ValidString(m.Text):
		return standing.FieldErrorf(standing.EINVALID, "text", "the text must be UTF-8")
	case len(m.HTML) > MaxBodyLen:
		return standing.FieldErrorf(standing.EINVALID, "html", "the HTML is over %d bytes", MaxBodyLen)
	case !utf8.ValidString(m.HTML):
		return standing.FieldErrorf(standing.EINVALID, "html", "the HTML must be UTF-8")
	}
	return checkID(m.ID)
}

// recipient parses To, refusing line breaks before the parser sees them.
func (m Message) recipient() (*mail.Address, error) {
	if strings.ContainsAny(m.To, "\r\n") {
		return nil, standing.FieldErrorf(standing.EINVALID, "to", "a recipient must not contain line breaks")
	}
	if strings.TrimSpace(m.To) == "" {
		return nil, standing.FieldErrorf(standing.EINVALID, "to", "a mail needs a recipient")
	}
	a, err := parseAddress(m.To)
	if err != nil {
		return nil, standing.FieldErrorf(standing.EINVALID, "to", "%q is not one email address", m.To)
	}
	return a, nil
}

func parseAddress(s string) (*mail.Address, error) {
	if strings.ContainsAny(s, "\r\n") || hasControl(s) {
		return nil, fmt.Errorf("control characters in %q", s)
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return nil, err
	}
	if len(a.Address) > standing.MaxEmailLen {
		return nil, fmt.Errorf("address over %d characters", standing.MaxEmailLen)
	}
	return a, nil
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f })
}

func checkID(id string) error {
	if len(id) > MaxIDLen {
		return standing.FieldErrorf(standing.EINVALID, "id", "a mail id is at most %d bytes", MaxIDLen)
	}
	local, domain, hasAt := strings.Cut(id, "@")
	ok := func(s string) bool {
		for _, c := range []byte(s) {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' || c == '+') {
				return false
			}
		}
		return !strings.HasPrefix(s, ".") && !strings.HasSuffix(s, ".") && !strings.Contains(s, "..")
	}
	if !ok(local) || hasAt && (domain == "" || local == "" || !ok(domain)) {
		return standing.FieldErrorf(standing.EINVALID, "id", "a mail id holds only letters, digits, '.', '_', '-', '+' and at most one '@', not %q", id)
	}
	return nil
}

// compose writes m as an RFC 5322 message from from, dated date. The body lines end in
// CRLF; the SMTP layer adds dot-stuffing.
func compose(from *mail.Address, m Message, date time.Time) ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	to, _ := m.recipient()
	var buf bytes.Buffer
	header := func(name, value string) {
		buf.WriteString(fold(name + ": " + value))
		buf.WriteString("\r\n")
	}
	header("Date", date.Format(time.RFC1123Z))
	header("From", from.String())
	header("To", to.String())
	header("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	header("Message-ID", messageID(m.ID, from.Address))
	header("MIME-Version", "1.0")

	if m.HTML == "" {
		header("Content-Type", "text/plain; charset=utf-8")
		header("Content-Transfer-Encoding", "quoted-printable")
		buf.WriteString("\r\n")
		if err := writeQP(&buf, m.Text); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	header("Content-Type", mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": mw.Boundary()}))
	buf.WriteString("\r\n")
	for _, part := range []struct{ ctype, text string }{{"text/plain", m.Text}, {"text/html", m.HTML}} {
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.ctype + "; charset=utf-8"},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, err
		}
		if err := writeQP(w, part.text); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	buf.Write(body.Bytes())
	return buf.Bytes(), nil
}

// writeQP writes text as quoted-printable with CRLF line ends. Lines longer than 76
// characters get soft breaks, which a reader removes, so a long link comes out whole.
func writeQP(w interface{ Write([]byte) (int, error) }, text string) error {
	qp := quotedprintable.NewWriter(w)
	if _, err := qp.Write([]byte(text)); err != nil {
		return err
	}
	if err := qp.Close(); err != nil {
		return err
	}
	if !strings.HasSuffix(text, "\n") {
		_, err := w.Write([]byte("\r\n"))
		return err
	}
	return nil
}

// messageID makes the Message-ID header value from an id and the sender's address.
func messageID(id, from string) string {
	if id == "" {
		var b [16]byte
		rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	if !strings.Contains(id, "@") {
		domain := "localhost"
		if i := strings.LastIndexByte(from, '@'); i >= 0 && i < len(from)-1 {
			domain = from[i+1:]
		}
		id += "@" + domain
	}
	return "<" + id + ">"
}

// fold breaks a header line at spaces so that its lines stay near lineLimit; unfolding
// (removing each CRLF before a space) gives the line back.
func fold(line string) string {
	if len(line) <= lineLimit {
		return line
	}
	var b strings.Builder
	cur := 0
	for i, word := range strings.Split(line, " ") {
		if i > 0 {
			if cur+1+len(word) > lineLimit && cur > 0 {
				b.WriteString("\r\n")
				cur = 0
			}
			b.WriteByte(' ')
			cur++
		}
		b.WriteString(word)
		cur += len(word)
	}
	return b.String()
}
