package mail_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"standing"
	"standing/mail"
)

var sentAt = time.Date(2026, 11, 23, 14, 5, 0, 0, time.UTC)

// longLink is a verification link longer than any mail line may be.
var longLink = "https://standing.example/verify?token=" + strings.Repeat("Ab3-_x", 40) + "&next=%2Faccount%3Ftab%3Drestrictions&sig=Zm9vYmFy%3D%3D"

func newSender(t *testing.T, rawURL string, policy mail.TLSPolicy, mutate func(*mail.Config)) *mail.SMTPSender {
	t.Helper()
	c := mail.Config{
		URL:   rawURL,
		TLS:   policy,
		From:  "Standing <no-reply@standing.example>",
		Clock: standing.FixedClock{T: sentAt},
	}
	if mutate != nil {
		mutate(&c)
	}
	s, err := mail.NewSMTPSender(c)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func verifyMessage(subject string) mail.Message {
	return mail.Message{
		ID:      "mail_01jd5k2m3n",
		To:      "Ana Silva <ana@example.com>",
		Subject: subject,
		Text: "Hello Ana,\n\nConfirm your email address within 72 hours:\n\n" + longLink +
			"\n\nOr type the code 482 913 on the page.\nÇa marche aussi en français — ✓\n",
	}
}

// only returns the one message b received.
func only(t *testing.T, b *backend) received {
	t.Helper()
	msgs := b.messages()
	if len(msgs) != 1 {
		t.Fatalf("the server received %d messages, want 1", len(msgs))
	}
	return msgs[0]
}

// parse reads a received message and decodes its quoted-printable body.
func parse(t *testing.T, data []byte) (*netmail.Message, string) {
	t.Helper()
	for i, line := range strings.Split(string(data), "\r\n") {
		if len(line) > 998 {
			t.Errorf("line %d is %d characters long", i, len(line))
		}
	}
	msg, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("net/mail cannot read the message: %v\n%s", err, data)
	}
	if cte := msg.Header.Get("Content-Transfer-Encoding"); cte != "quoted-printable" {
		return msg, ""
	}
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatal(err)
	}
	return msg, string(body)
}

func checkHeaders(t *testing.T, msg *netmail.Message, subject string) {
	t.Helper()
	var dec mime.WordDecoder
	if got, err := dec.DecodeHeader(msg.Header.Get("Subject")); err != nil || got != subject {
		t.Errorf("Subject = %q (%v), want %q", got, err, subject)
	}
	if d, err := msg.Header.Date(); err != nil || !d.Equal(sentAt) {
		t.Errorf("Date = %v (%v), want %v", d, err, sentAt)
	}
	if from, err := msg.Header.AddressList("From"); err != nil || len(from) != 1 || from[0].Address != "no-reply@standing.example" || from[0].Name != "Standing" {
		t.Errorf("From = %v (%v)", from, err)
	}
	if to, err := msg.Header.AddressList("To"); err != nil || len(to) != 1 || to[0].Address != "ana@example.com" || to[0].Name != "Ana Silva" {
		t.Errorf("To = %v (%v)", to, err)
	}
	if id := msg.Header.Get("Message-ID"); id != "<mail_01jd5k2m3n@standing.example>" {
		t.Errorf("Message-ID = %q", id)
	}
	if v := msg.Header.Get("MIME-Version"); v != "1.0" {
		t.Errorf("MIME-Version = %q", v)
	}
}

func TestSendPlain(t *testing.T) {
	b := &backend{}
	addr, _ := startServer(t, b, plainServer)
	s := newSender(t, "smtp://"+addr, mail.TLSNone, nil)
	subject := "Bestätigen Sie Ihre E-Mail-Adresse – Standing ✓"
	if err := s.Send(context.Background(), verifyMessage(subject)); err != nil {
		t.Fatal(err)
	}
	got := only(t, b)
	if got.From != "no-reply@standing.example" || len(got.To) != 1 || got.To[0] != "ana@example.com" {
		t.Errorf("envelope %q -> %q", got.From, got.To)
	}
	if got.TLS || got.AuthAs != "" {
		t.Errorf("TLS %v auth %q on a plain server without credentials", got.TLS, got.AuthAs)
	}
	if strings.Contains(string(got.Data), "Bestätigen") {
		t.Error("the non-ASCII subject was sent raw, not RFC 2047 encoded")
	}
	msg, body := parse(t, got.Data)
	checkHeaders(t, msg, subject)
	if ct := msg.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	if !strings.Contains(body, "\n"+longLink+"\r\n") && !strings.Contains(body, "\n"+longLink+"\n") {
		t.Errorf("the link did not survive:\n%s", body)
	}
	if !strings.Contains(body, "Ça marche aussi en français — ✓") {
		t.Errorf("the UTF-8 text did not survive:\n%s", body)
	}
	// Quoted-printable keeps every encoded body line within 76 characters.
	_, rawBody, _ := strings.Cut(string(got.Data), "\r\n\r\n")
	for _, line := range strings.Split(rawBody, "\r\n") {
		if len(line) > 76 {
			t.Errorf("body line of %d characters: %q", len(line), line)
		}
	}
}

func TestSendHTMLAlternative(t *testing.T) {
	b := &backend{}
	addr, _ := startServer(t, b, plainServer)
	s := newSender(t, "smtp://"+addr, mail.TLSNone, nil)
	m := verifyMessage("Confirm your email address")
	m.HTML = `<p>Hello Ana,</p><p><a href="` + strings.ReplaceAll(longLink, "&", "&amp;") + `">Confirm your email address</a></p>`
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	msg, _ := parse(t, only(t, b).Data)
	checkHeaders(t, msg, m.Subject)
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type = %q (%v)", msg.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var types []string
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if p.Header.Get("Content-Transfer-Encoding") != "quoted-printable" {
			t.Errorf("part %s is %q", p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"))
		}
		body, err := io.ReadAll(quotedprintable.NewReader(p))
		if err != nil {
			t.Fatal(err)
		}
		ct := p.Header.Get("Content-Type")
		types = append(types, ct)
		want := longLink
		if strings.HasPrefix(ct, "text/html") {
			want = strings.ReplaceAll(longLink, "&", "&amp;")
		}
		if !strings.Contains(string(body), want) {
			t.Errorf("the link did not survive in %s:\n%s", ct, body)
		}
	}
	if len(types) != 2 || types[0] != "text/plain; charset=utf-8" || types[1] != "text/html; charset=utf-8" {
		t.Errorf("parts = %q, want text then HTML", types)
	}
}

func TestSendStartTLSWithAuth(t *testing.T) {
	b := &backend{user: "standing", pass: "p@ss word/1"}
	addr, roots := startServer(t, b, startTLSServer)
	creds := url.UserPassword(b.user, b.pass).String()
	s := newSender(t, "smtp://"+creds+"@"+addr, mail.TLSStartTLS, func(c *mail.Config) { c.RootCAs = roots })
	if err := s.Send(context.Background(), verifyMessage("Welcome")); err != nil {
		t.Fatal(err)
	}
	got := only(t, b)
	if !got.TLS || got.AuthAs != "standing" {
		t.Errorf("TLS %v, authenticated as %q; want TLS and standing", got.TLS, got.AuthAs)
	}

	// A wrong password fails at AUTH: a configuration problem, so temporary.
	bad := newSender(t, "smtp://standing:wrong@"+addr, mail.TLSStartTLS, func(c *mail.Config) { c.RootCAs = roots })
	err := bad.Send(context.Background(), verifyMessage("Welcome"))
	var se *mail.SendError
	if !errors.As(err, &se) || se.Step != "auth" || se.Code != 535 || mail.IsPermanent(err) {
		t.Errorf("wrong password: %v; want a temporary failure at auth with 535", err)
	}
	if n := len(b.messages()); n != 1 {
		t.Errorf("%d messages after the failed send, want 1", n)
	}
}

func TestSendImplicitTLS(t *testing.T) {
	b := &backend{user: "standing", pass: "secret"}
	addr, roots := startServer(t, b, implicitServer)
	// smtps:// means implicit TLS whatever the policy says (the configuration's default is starttls).
	s := newSender(t, "smtps://standing:secret@"+addr, mail.TLSStartTLS, func(c *mail.Config) { c.RootCAs = roots })
	if err := s.Send(context.Background(), verifyMessage("Welcome")); err != nil {
		t.Fatal(err)
	}
	if got := only(t, b); !got.TLS || got.AuthAs != "standing" {
		t.Errorf("TLS %v, authenticated as %q", got.TLS, got.AuthAs)
	}
}

func TestSendAuthPlainOnLoopback(t *testing.T) {
	b := &backend{user: "relay", pass: "secret"}
	addr, _ := startServer(t, b, plainServer)
	s := newSender(t, "smtp://relay:secret@"+addr, mail.TLSNone, nil)
	if err := s.Send(context.Background(), verifyMessage("Welcome")); err != nil {
		t.Fatal(err)
	}
	if got := only(t, b); got.AuthAs != "relay" {
		t.Errorf("authenticated as %q, want relay", got.AuthAs)
	}
}

func TestTLSFailuresAreTemporary(t *testing.T) {
	t.Run("server without STARTTLS", func(t *testing.T) {
		b := &backend{}
		addr, _ := startServer(t, b, plainServer)
		s := newSender(t, "smtp://"+addr, mail.TLSStartTLS, nil)
		err := s.Send(context.Background(), verifyMessage("Welcome"))
		var se *mail.SendError
		if !errors.As(err, &se) || se.Step != "starttls" || mail.IsPermanent(err) {
			t.Errorf("Send = %v; want a temporary failure at starttls", err)
		}
		if len(b.messages()) != 0 {
			t.Error("a message went out without the TLS the policy requires")
		}
	})
	t.Run("untrusted certificate", func(t *testing.T) {
		b := &backend{}
		addr, _ := startServer(t, b, startTLSServer)
		s := newSender(t, "smtp://"+addr, mail.TLSStartTLS, nil) // the system roots do not trust it
		err := s.Send(context.Background(), verifyMessage("Welcome"))
		var se *mail.SendError
		if !errors.As(err, &se) || se.Step != "starttls" || mail.IsPermanent(err) {
			t.Errorf("Send = %v; want a temporary failure at starttls", err)
		}
		if len(b.messages()) != 0 {
			t.Error("a message went out over an unverified connection")
		}
		// InsecureSkipVerify is for tests like this one.
		s = newSender(t, "smtp://"+addr, mail.TLSStartTLS, func(c *mail.Config) { c.InsecureSkipVerify = true })
		if err := s.Send(context.Background(), verifyMessage("Welcome")); err != nil {
			t.Errorf("with InsecureSkipVerify: %v", err)
		}
	})
}

func TestRejections(t *testing.T) {
	b := &backend{rejectRcpt: map[string]*smtp.SMTPError{
		"nobody@example.com": {Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user"},
		"busy@example.com":   {Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"},
	}}
	addr, _ := startServer(t, b, plainServer)
	s := newSender(t, "smtp://"+addr, mail.TLSNone, nil)
	send := func(to string) error {
		m := verifyMessage("Welcome")
		m.To = to
		return s.Send(context.Background(), m)
	}
	tests := []struct {
		to        string
		code      int
		permanent bool
	}{
		{"nobody@example.com", 550, true},
		{"busy@example.com", 451, false},
	}
	for _, tt := range tests {
		err := send(tt.to)
		var se *mail.SendError
		if !errors.As(err, &se) || se.Step != "rcpt" || se.Code != tt.code {
			t.Errorf("%s: %v; want a failure at rcpt with %d", tt.to, err, tt.code)
		}
		if mail.IsPermanent(err) != tt.permanent {
			t.Errorf("%s: IsPermanent = %v, want %v", tt.to, !tt.permanent, tt.permanent)
		}
	}

	// A message the server refuses at the end of DATA is permanent too.
	b.rejectData = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "Message refused"}
	err := send("ana@example.com")
	var se *mail.SendError
	if !errors.As(err, &se) || se.Step != "data" || se.Code != 554 || !mail.IsPermanent(err) {
		t.Errorf("refused data: %v; want a permanent failure at data with 554", err)
	}

	// A server demanding AUTH of a sender without credentials refuses MAIL with a 5xx: a
	// configuration problem that every message would meet, so temporary.
	needsAuth := &backend{user: "u", pass: "p"}
	addr2, _ := startServer(t, needsAuth, plainServer)
	err = newSender(t, "smtp://"+addr2, mail.TLSNone, nil).Send(context.Background(), verifyMessage("Welcome"))
	if !errors.As(err, &se) || se.Step != "mail" || se.Code/100 != 5 || mail.IsPermanent(err) {
		t.Errorf("authentication required: %v; want a temporary failure at mail with a 5xx code", err)
	}
	// 530 at RCPT is the same configuration problem.
	b.rejectData = nil
	b.rejectRcpt["auth@example.com"] = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	if err := send("auth@example.com"); !errors.As(err, &se) || se.Code != 530 || mail.IsPermanent(err) {
		t.Errorf("530 at rcpt: %v; want temporary", err)
	}
}

func TestClosedPortIsTemporary(t *testing.T) {
	s := newSender(t, "smtp://"+freePort(t), mail.TLSNone, nil)
	err := s.Send(context.Background(), verifyMessage("Welcome"))
	var se *mail.SendError
	if !errors.As(err, &se) || se.Step != "dial" || mail.IsPermanent(err) {
		t.Errorf("Send = %v; want a temporary failure at dial", err)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("Send = %v; want connection refused", err)
	}
}

func TestContextEndsTheConversation(t *testing.T) {
	addr, accepted := silentServer(t)
	s := newSender(t, "smtp://"+addr, mail.TLSNone, nil)

	// Cancelled while waiting for the greeting.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Send(ctx, verifyMessage("Welcome")) }()
	<-accepted
	cancel()
	err := <-done
	if !errors.Is(err, context.Canceled) || mail.IsPermanent(err) {
		t.Errorf("cancelled: %v; want a temporary context.Canceled", err)
	}

	// A deadline ends it too (and is used as the I/O deadline).
	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err = s.Send(ctx, verifyMessage("Welcome"))
	if !errors.Is(err, context.DeadlineExceeded) || mail.IsPermanent(err) {
		t.Errorf("deadline: %v; want a temporary context.DeadlineExceeded", err)
	}
}

func TestHeaderInjectionRefused(t *testing.T) {
	b := &backend{}
	addr, _ := startServer(t, b, plainServer)
	s := newSender(t, "smtp://"+addr, mail.TLSNone, nil)
	tests := []struct {
		name  string
		edit  func(*mail.Message)
		field string
	}{
		{"CRLF in To", func(m *mail.Message) { m.To = "ana@example.com\r\nBcc: all@example.com" }, "to"},
		{"LF in To", func(m *mail.Message) { m.To = "ana@example.com\nBcc: all@example.com" }, "to"},
		{"CR in the To name", func(m *mail.Message) { m.To = "Ana\r <ana@example.com>" }, "to"},
		{"CRLF in Subject", func(m *mail.Message) { m.Subject = "Hello\r\nBcc: all@example.com" }, "subject"},
		{"LF in Subject", func(m *mail.Message) { m.Subject = "Hello\nX-Spam: no" }, "subject"},
		{"CRLF in ID", func(m *mail.Message) { m.ID = "id\r\nBcc: all@example.com" }, "id"},
		{"two recipients", func(m *mail.Message) { m.To = "ana@example.com, bo@example.com" }, "to"},
		{"no recipient", func(m *mail.Message) { m.To = "" }, "to"},
		{"not an address", func(m *mail.Message) { m.To = "ana at example" }, "to"},
		{"no subject", func(m *mail.Message) { m.Subject = " " }, "subject"},
		{"no text", func(m *mail.Message) { m.Text = "" }, "text"},
		{"invalid UTF-8", func(m *mail.Message) { m.Text = "caf\xe9" }, "text"},
		{"subject too long", func(m *mail.Message) { m.Subject = strings.Repeat("s", mail.MaxSubjectLen+1) }, "subject"},
		{"ID with angle brackets", func(m *mail.Message) { m.ID = "<x@y>" }, "id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := verifyMessage("Welcome")
			tt.edit(&m)
			if err := m.Validate(); standing.ErrorCode(err) != standing.EINVALID || standing.ErrorField(err) != tt.field {
				t.Errorf("Validate = %v, want invalid %s", err, tt.field)
			}
			err := s.Send(context.Background(), m)
			if standing.ErrorField(err) != tt.field || !mail.IsPermanent(err) {
				t.Errorf("Send = %v, want a permanent invalid %s", err, tt.field)
			}
		})
	}
	if n := b.sessionCount(); n != 0 {
		t.Errorf("the server saw %d sessions; invalid mail must be refused before connecting", n)
	}
}

func TestLongSubjectsAreFolded(t *testing.T) {
	b := &backend{}
	addr, _ := startServer(t, b, plainServer)
	s := newSender(t, "smtp://"+addr, mail.TLSNone, nil)
	subjects := []string{
		"Your appeal against the restriction of your account was received and a reviewer will answer by Wednesday 25 November 2026, 14:00 UTC",
		strings.Repeat("Überprüfung Ihres Kontos läuft — ", 6) + "✓",
	}
	for i, subject := range subjects {
		m := verifyMessage(subject)
		m.ID = "" // a random Message-ID
		if err := s.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		data := b.messages()[i].Data
		head, _, _ := strings.Cut(string(data), "\r\n\r\n")
		for _, line := range strings.Split(head, "\r\n") {
			if len(line) > 78 {
				t.Errorf("header line of %d characters: %q", len(line), line)
			}
		}
		msg, _ := parse(t, data)
		var dec mime.WordDecoder
		if got, err := dec.DecodeHeader(msg.Header.Get("Subject")); err != nil || got != subject {
			t.Errorf("Subject = %q (%v), want %q", got, err, subject)
		}
		if id := msg.Header.Get("Message-ID"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@standing.example>") || len(id) < 20 {
			t.Errorf("random Message-ID = %q", id)
		}
	}
}

func TestNewSMTPSenderRefusesBadConfig(t *testing.T) {
	tests := []struct {
		name  string
		c     mail.Config
		field string
	}{
		{"http URL", mail.Config{URL: "http://mail.example:25", From: "a@example.com"}, "smtp_url"},
		{"no host", mail.Config{URL: "smtp://", From: "a@example.com"}, "smtp_url"},
		{"a path", mail.Config{URL: "smtp://mail.example/x", From: "a@example.com"}, "smtp_url"},
		{"unknown policy", mail.Config{URL: "smtp://mail.example", TLS: "ssl", From: "a@example.com"}, "smtp_tls"},
		{"smtps without TLS", mail.Config{URL: "smtps://mail.example", TLS: mail.TLSNone, From: "a@example.com"}, "smtp_tls"},
		{"no sender", mail.Config{URL: "smtp://mail.example"}, "mail_from"},
		{"sender with a line break", mail.Config{URL: "smtp://mail.example", From: "a@example.com\r\nBcc: b@example.com"}, "mail_from"},
		{"EHLO name with a space", mail.Config{URL: "smtp://mail.example", From: "a@example.com", HelloName: "a b"}, "smtp_hello"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := mail.NewSMTPSender(tt.c)
			if standing.ErrorCode(err) != standing.EINVALID || standing.ErrorField(err) != tt.field {
				t.Errorf("NewSMTPSender = %v, want invalid %s", err, tt.field)
			}
		})
	}
	for _, p := range []string{"starttls", "tls", "none"} {
		if got, err := mail.ParseTLSPolicy(p); err != nil || string(got) != p {
			t.Errorf("ParseTLSPolicy(%q) = %q, %v", p, got, err)
		}
	}
	s, err := mail.NewSMTPSender(mail.Config{URL: "smtp://mail.example", From: "Standing <no-reply@standing.example>"})
	if err != nil || s.From() != `"Standing" <no-reply@standing.example>` {
		t.Errorf("From() = %q, %v", s.From(), err)
	}
}

// freePort returns a loopback address where nothing listens.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
