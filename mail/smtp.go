package mail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"net/url"
	"strings"
	"time"

	"standing"
)

// Sender sends one message. SMTPSender is the one that talks to a mail server; the store
// keeps mail itself when no server is configured.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// TLSPolicy says how an SMTPSender protects the connection to the server.
type TLSPolicy string

// The TLS policies.
const (
	// TLSStartTLS connects in plain text and requires the server to upgrade with STARTTLS
	// before anything else is said; a server that does not offer it is refused.
	TLSStartTLS TLSPolicy = "starttls"
	// TLSImplicit speaks TLS from the first byte (smtps, usually port 465).
	TLSImplicit TLSPolicy = "tls"
	// TLSNone never encrypts: only for a relay on the same machine or network, and tests.
	// Credentials are then sent only to a loopback address.
	TLSNone TLSPolicy = "none"
)

// ParseTLSPolicy reads "starttls", "tls" or "none".
func ParseTLSPolicy(s string) (TLSPolicy, error) {
	switch p := TLSPolicy(s); p {
	case TLSStartTLS, TLSImplicit, TLSNone:
		return p, nil
	}
	return "", standing.FieldErrorf(standing.EINVALID, "smtp_tls", "the SMTP TLS policy is starttls, tls or none, not %q", s)
}

// Defaults of an SMTPSender.
const (
	DefaultDialTimeout = 10 * time.Second
	DefaultTimeout     = time.Minute
)

// Config is what an SMTPSender needs.
type Config struct {
	// URL is smtp://user:password@host:port, or smtps://… for implicit TLS. The user and
	// password are optional (no AUTH without them); the port defaults to 587 for
	// starttls, 465 for tls and 25 for none.
	URL string
	// TLS is the policy; empty means starttls for smtp:// URLs. An smtps:// URL always means
	// implicit TLS, and TLSNone with it is refused.
	TLS TLSPolicy
	// From is the sender, "Standing <no-reply@example.com>"; it is also the envelope sender.
	From string
	// HelloName is the name given in EHLO; empty means "localhost".
	HelloName string
	// DialTimeout bounds connecting (DefaultDialTimeout when 0); Timeout bounds a whole send
	// when the context has no earlier deadline (DefaultTimeout when 0).
	DialTimeout time.Duration
	Timeout     time.Duration
	// RootCAs replaces the system's certificate authorities, and InsecureSkipVerify turns
	// certificate checks off: both for tests and private relays.
	RootCAs            *x509.CertPool
	InsecureSkipVerify bool
	// Clock dates the messages; nil means the system clock.
	Clock standing.Clock
}

// SMTPSender sends mail through one SMTP server. It is safe for concurrent use; each Send
// opens its own connection.
type SMTPSender struct {
	addr, host  string
	policy      TLSPolicy
	user, pass  string
	hasAuth     bool
	from        *mail.Address
	hello       string
	dialTimeout time.Duration
	timeout     time.Duration
	tls         *tls.Config
	clock       standing.Clock
}

// NewSMTPSender checks c and returns a sender. Errors are EINVALID and name the setting.
func NewSMTPSender(c Config) (*SMTPSender, error) {
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
		return nil, standing.FieldErrorf(standing.EINVALID, "smtp_url", "the SMTP URL is smtp://user:password@host:port or smtps://…")
	}
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" {
		return nil, standing.FieldErrorf(standing.EINVALID, "smtp_url", "the SMTP URL has no path or query")
	}
	policy := c.TLS
	switch {
	case u.Scheme == "smtps" && policy == TLSNone:
		return nil, standing.FieldErrorf(standing.EINVALID, "smtp_tls", "an smtps:// URL means implicit TLS; the policy none contradicts it")
	case u.Scheme == "smtps":
		policy = TLSImplicit
	case policy == "":
		policy = TLSStartTLS
	}
	if _, err := ParseTLSPolicy(string(policy)); err != nil {
		return nil, err
	}
	from, err := parseAddress(c.From)
	if err != nil {
		return nil, standing.FieldErrorf(standing.EINVALID, "mail_from", "the sender %q is not one email address", c.From)
	}
	s := &SMTPSender{
		host:        u.Hostname(),
		policy:      policy,
		from:        from,
		hello:       c.HelloName,
		dialTimeout: c.DialTimeout,
		timeout:     c.Timeout,
		clock:       c.Clock,
	}
	if strings.ContainsAny(s.hello, " \r\n") {
		return nil, standing.FieldErrorf(standing.EINVALID, "smtp_hello", "the EHLO name is one word")
	}
	if s.hello == "" {
		s.hello = "localhost"
	}
	if s.dialTimeout <= 0 {
		s.dialTimeout = DefaultDialTimeout
	}
	if s.timeout <= 0 {
		s.timeout = DefaultTimeout
	}
	if s.clock == nil {
		s.clock = standing.SystemClock{}
	}
	port := u.Port()
	if port == "" {
		port = map[TLSPolicy]string{TLSStartTLS: "587", TLSImplicit: "465", TLSNone: "25"}[policy]
	}
	s.addr = net.JoinHostPort(s.host, port)
	if u.User != nil {
		s.user = u.User.Username()
		s.pass, _ = u.User.Password()
		s.hasAuth = s.user != ""
	}
	s.tls = &tls.Config{
		ServerName:         s.host,
		RootCAs:            c.RootCAs,
		InsecureSkipVerify: c.InsecureSkipVerify,
		MinVersion:         tls.VersionTLS12,
	}
	return s, nil
}

// From returns the sender address.
func (s *SMTPSender) From() string { return s.from.String() }

// SendError is a failed send. Step is the part of the SMTP dialogue that failed: "message"
// (the message itself is invalid), "dial", "greeting", "hello", "starttls", "auth",
// "mail", "rcpt", "data" or "quit". Code is the server's reply code, 0 when there was none.
type SendError struct {
	Step      string
	Code      int
	Permanent bool
	Err       error
}

// Error says whether the failure is permanent, where it happened, and why.
func (e *SendError) Error() string {
	kind := "temporary"
	if e.Permanent {
		kind = "permanent"
	}
	return fmt.Sprintf("mail: %s failure at %s: %v", kind, e.Step, e.Err)
}

// Unwrap returns the cause.
func (e *SendError) Unwrap() error { return e.Err }

// IsPermanent reports whether err means that sending this message again will not help:
// the message is invalid (header injection, a malformed address), or the server refused
// it for good with a 5xx reply to RCPT (this recipient) or to DATA (this message), except
// 530 "authentication required". Everything else is temporary and worth a retry: 4xx
// replies, refused or broken connections, timeouts, cancellation, and failures of the
// setup — TLS, a missing STARTTLS, AUTH, the envelope sender at MAIL — even with 5xx
// codes, because those come from the configuration or the server's state and would fail
// every message alike: giving up on this one would lose it. SendError.Step and Code let
// an outbox tell the cases apart (to alert the operator, say).
func IsPermanent(err error) bool {
	var se *SendError
	if errors.As(err, &se) {
		return se.Permanent
	}
	var e *standing.Error
	return errors.As(err, &e) && e.Code == standing.EINVALID
}

// messageSteps are the steps whose 5xx replies concern the message, not the setup.
var messageSteps = map[string]bool{"rcpt": true, "data": true}

// fail wraps err from step, classifying it by the reply code.
func fail(ctx context.Context, step string, err error) error {
	if ctx.Err() != nil {
		// The deadline or cancellation cut the conversation; say so rather than "i/o timeout".
		return &SendError{Step: step, Err: fmt.Errorf("%w (%v)", ctx.Err(), err)}
	}
	se := &SendError{Step: step, Err: err}
	var te *textproto.Error
	if errors.As(err, &te) {
		se.Code = te.Code
		se.Permanent = te.Code >= 500 && te.Code <= 599 && te.Code != 530 && messageSteps[step]
	}
	return se
}

// Send delivers m: it connects (within the dial timeout), secures the connection as the
// policy says, authenticates when the URL has a user, and hands the message over. It
// honours ctx's deadline and cancellation throughout. A message that fails Validate is
// refused before connecting, with an EINVALID *standing.Error; every other failure is a
// *SendError, which IsPermanent classifies.
func (s *SMTPSender) Send(ctx context.Context, m Message) error {
	raw, err := compose(s.from, m, s.clock.Now())
	if err != nil {
		return err
	}
	to, _ := m.recipient()

	conn, err := s.dial(ctx)
	if err != nil {
		return fail(ctx, "dial", err)
	}
	conn.SetDeadline(time.Now().Add(s.timeout))
	// When ctx ends (its deadline or a cancellation), every pending read and write fails at
	// once; ctx.Err is set by then, so fail reports it rather than an i/o timeout.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	c, err := smtp.NewClient(conn, s.host)
	if err != nil {
		conn.Close()
		return fail(ctx, "greeting", err)
	}
	defer c.Close()
	if err := c.Hello(s.hello); err != nil {
		return fail(ctx, "hello", err)
	}
	// NOOP makes the client say EHLO first and reports its failure, which Extension hides.
	if err := c.Noop(); err != nil {
		return fail(ctx, "hello", err)
	}
	if s.policy == TLSStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return fail(ctx, "starttls", errors.New("the server does not offer STARTTLS, and the TLS policy requires it"))
		}
		if err := c.StartTLS(s.tls); err != nil {
			return fail(ctx, "starttls", err)
		}
	}
	if s.hasAuth {
		if ok, _ := c.Extension("AUTH"); !ok {
			return fail(ctx, "auth", errors.New("the URL has credentials but the server does not offer AUTH"))
		}
		// PlainAuth refuses to send the password unencrypted except to a loopback host.
		if err := c.Auth(smtp.PlainAuth("", s.user, s.pass, s.host)); err != nil {
			return fail(ctx, "auth", err)
		}
	}
	if !isASCII(s.from.Address) || !isASCII(to.Address) {
		if ok, _ := c.Extension("SMTPUTF8"); !ok {
			return &SendError{Step: "rcpt", Permanent: true, Err: errors.New("the address is not ASCII and the server does not support SMTPUTF8")}
		}
	}
	if err := c.Mail(s.from.Address); err != nil {
		return fail(ctx, "mail", err)
	}
	if err := c.Rcpt(to.Address); err != nil {
		return fail(ctx, "rcpt", err)
	}
	w, err := c.Data()
	if err != nil {
		return fail(ctx, "data", err)
	}
	if _, err := w.Write(raw); err != nil {
		return fail(ctx, "data", err)
	}
	// Close ends the data and reads the server's verdict on the message.
	if err := w.Close(); err != nil {
		return fail(ctx, "data", err)
	}
	// The message is accepted; a failing QUIT does not change that.
	c.Quit()
	return nil
}

func (s *SMTPSender) dial(ctx context.Context) (net.Conn, error) {
	d := &net.Dialer{Timeout: s.dialTimeout}
	if s.policy == TLSImplicit {
		td := &tls.Dialer{NetDialer: d, Config: s.tls}
		return td.DialContext(ctx, "tcp", s.addr)
	}
	return d.DialContext(ctx, "tcp", s.addr)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
