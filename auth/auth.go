// Package auth is self-service identity: sign-up with a 72-hour email confirmation, sign-in
// with throttling, sessions, password reset, and the mails that go with them. The pages
// (package web) and the JSON API (package httpapi) both call it, so the rules are the same
// on either path. Secrets that travel by mail or cookie are stored only as hashes.
package auth

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"standing"
	"standing/identity"
	"standing/jobs"
)

// Store is what auth needs of the storage.
type Store interface {
	standing.AccountReader
	// SignUp creates the account, its first token and mail and the deadline job at once.
	SignUp(ctx context.Context, na standing.NewAccount, tok standing.Token, m standing.Mail, deadline time.Time, ip string) (standing.Account, error)
	QueueMail(ctx context.Context, m standing.Mail) error
	IssueToken(ctx context.Context, tok standing.Token, m standing.Mail, event, ip string) error
	LatestToken(ctx context.Context, accountID, kind string) (standing.Token, error)
	ConfirmEmail(ctx context.Context, secretHash, accountID, codeHash string, maxAttempts int) (standing.Account, error)
	Credentials(ctx context.Context, email string) (standing.Account, string, error)
	CreateSession(ctx context.Context, se standing.Session) error
	Session(ctx context.Context, id string) (standing.Session, error)
	RevokeSession(ctx context.Context, id string) error
	ResetPassword(ctx context.Context, secretHash, passwordHash string, notice func(standing.Account) standing.Mail) (standing.Account, error)
	VerificationDeadline(ctx context.Context, accountID string) (bool, error)
	RecordEvent(ctx context.Context, e standing.Event) error
	CountEvents(ctx context.Context, accountID, ip, typ string, since time.Time) (int, time.Time, error)
	standing.ProfileWriter
}

// StandingFunc returns an account's standing (the check cache's).
type StandingFunc func(ctx context.Context, accountID string) (*standing.Standing, error)

// Service runs the identity flows.
type Service struct {
	store    Store
	standing StandingFunc
	identity standing.AccountIdentity
	clock    standing.Clock
	policy   func() *standing.Policy
	baseURL  string

	mu       sync.Mutex
	limiters map[string]*rate.Limiter
	sweep    time.Time
}

// New returns the identity service. identity hashes an account's own details (phone,
// name) for duplicate detection when a person changes them; baseURL is the public URL
// links in mail point to.
func New(store Store, st StandingFunc, identity standing.AccountIdentity, clock standing.Clock, policy func() *standing.Policy, baseURL string) *Service {
	return &Service{store: store, standing: st, identity: identity, clock: clock, policy: policy, baseURL: strings.TrimSuffix(baseURL, "/"),
		limiters: map[string]*rate.Limiter{}}
}

// SessionCookie is the name of the session cookie of the pages.
const SessionCookie = "standing_session"

// ErrSignIn is the one answer to a wrong email or a wrong password: it does not tell
// which, and it names the usual culprits.
var ErrSignIn = standing.Errorf(standing.EUNAUTHORIZED, "The email or password is not right. Check that Caps Lock is off and that your keyboard is set to the language you used for the password, then try again. Forgot it? Reset your password.")

// codeHash is the stored form of a 6-digit code: tied to its token, whose attempts are
// counted, since a code alone is easy to guess.
func codeHash(tokenID, code string) string { return standing.HashToken(tokenID + ":" + code) }

func newCode() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(1000000))
	return fmt.Sprintf("%06d", n.Int64())
}

// allow applies a per-key token bucket (per IP and action) held in memory: it slows down
// floods of sign-ups or reset requests without touching the database. Time is the
// service clock's, like every other limit here.
func (s *Service) allow(key string, every time.Duration, burst int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	if now.Sub(s.sweep) > 10*time.Minute {
		s.limiters, s.sweep = map[string]*rate.Limiter{}, now
	}
	l, ok := s.limiters[key]
	if !ok {
		l = rate.NewLimiter(rate.Every(every), burst)
		s.limiters[key] = l
	}
	return l.AllowN(now, 1)
}

var errSlowDown = standing.Errorf(standing.ERATELIMITED, "Too many requests from your network in a short time. Wait a minute and try again.")

// SignUpInput is a sign-up form.
type SignUpInput struct {
	Email, Password string
	Role            standing.Role
	IP              string
}

// SignUp creates an unverified account and mails the confirmation link and code. When the
// email already has an account it answers exactly as for a new one and mails the owner
// instead, so the answer does not reveal who has an account, while the owner learns how
// to sign in or reset the password. It returns the normalised email.
func (s *Service) SignUp(ctx context.Context, in SignUpInput) (string, error) {
	p := s.policy()
	na := standing.NewAccount{Role: in.Role, Email: in.Email, Lifecycle: standing.LifecycleUnverified}
	if err := identity.Account(&na, ""); err != nil {
		return "", err
	}
	if err := ValidatePassword(p.SignIn, in.Password, na.Email); err != nil {
		return "", err
	}
	if !s.allow("signup:"+in.IP, 10*time.Second, 10) {
		return "", errSlowDown
	}
	na.PasswordHash = HashPassword(in.Password)
	now := s.clock.Now()
	tok, m, code := s.verifyToken(p, now)
	deadline := now.Add(p.VerificationDeadline.D())
	m.To, m.Text = na.Email, verifyText(s.baseURL, m.Text, code, tok.ExpiresAt, &deadline, p.VerificationDeadline)
	_, err := s.store.SignUp(ctx, na, tok, m, deadline, in.IP)
	if standing.ErrorCode(err) == standing.ECONFLICT && standing.ErrorField(err) == "email" {
		return na.Email, s.store.QueueMail(ctx, standing.Mail{To: na.Email, Kind: "signup_existing",
			Subject: "Someone tried to sign up with your email",
			Text: "Hello,\n\nSomeone — maybe you — tried to create an account with this email on " + standing.FormatTime(now) +
				". You already have an account.\n\nSign in: " + s.baseURL + "/login\nForgot your password? Set a new one: " +
				s.baseURL + "/reset\n\nIf this wasn't you, you can ignore this mail; nothing changed.\n"})
	}
	return na.Email, err
}

// verifyToken makes a confirmation token; the mail's Text holds the link secret until
// verifyText writes the real text.
func (s *Service) verifyToken(p *standing.Policy, now time.Time) (standing.Token, standing.Mail, string) {
	secret := standing.RandomToken(32)
	code := newCode()
	tok := standing.Token{ID: standing.NewID("tok", now), Kind: standing.TokenVerify, SecretHash: standing.HashToken(secret),
		CreatedAt: now, ExpiresAt: now.Add(p.SignIn.VerifyLinkLifetime.D())}
	tok.CodeHash = codeHash(tok.ID, code)
	return tok, standing.Mail{Kind: "verify", Subject: "Confirm your email address", Text: secret}, code
}

// verifyText is the confirmation mail; deadline, when the account has one, is within
// (the policy's verification deadline) after sign-up.
func verifyText(base, secret, code string, expires time.Time, deadline *time.Time, within standing.Duration) string {
	var b strings.Builder
	b.WriteString("Hello,\n\nPlease confirm your email address. Open this link:\n\n    ")
	b.WriteString(base + "/verify?token=" + secret + "\n\n")
	b.WriteString("Or type this code on the confirmation page, " + base + "/verify :\n\n    " + code + "\n\n")
	b.WriteString("The link and the code work until " + standing.FormatTime(expires) + ". ")
	if deadline != nil {
		b.WriteString("If your email is not confirmed by " + standing.FormatTime(*deadline) +
			" (" + within.Words() + " after signing up), most of your account is paused until you confirm it. ")
	}
	b.WriteString("\n\nIf you did not sign up, ignore this mail.\n")
	return b.String()
}

// Confirm uses the secret of a confirmation link.
func (s *Service) Confirm(ctx context.Context, secret string) (standing.Account, error) {
	secret = strings.TrimSpace(secret)
	if secret == "" || len(secret) > 200 {
		return standing.Account{}, standing.FieldErrorf(standing.EINVALID, "token", "This confirmation link is incomplete. Open the whole link from the mail, or type the code instead.")
	}
	return s.store.ConfirmEmail(ctx, standing.HashToken(secret), "", "", s.policy().SignIn.CodeAttempts)
}

// ConfirmCode checks a typed 6-digit code for the account with the email. An unknown email
// gets the same answer as a wrong code.
func (s *Service) ConfirmCode(ctx context.Context, email, code string) (standing.Account, error) {
	code = strings.Join(strings.Fields(code), "")
	if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
		return standing.Account{}, standing.FieldErrorf(standing.EINVALID, "code", "The code has 6 digits, like 042917.")
	}
	norm, err := identity.Email(email)
	if err != nil {
		return standing.Account{}, standing.FieldErrorf(standing.EINVALID, "email", "%s", standing.ErrorMessage(err))
	}
	a, err := s.store.AccountByEmail(ctx, norm)
	if err != nil {
		return standing.Account{}, standing.FieldErrorf(standing.EINVALID, "code", "That code is not right. Check the newest email from us.")
	}
	tok, err := s.latestVerifyID(ctx, a.ID)
	if err != nil {
		return standing.Account{}, err
	}
	return s.store.ConfirmEmail(ctx, "", a.ID, codeHash(tok, code), s.policy().SignIn.CodeAttempts)
}

func (s *Service) latestVerifyID(ctx context.Context, accountID string) (string, error) {
	tok, err := s.store.LatestToken(ctx, accountID, standing.TokenVerify)
	if standing.ErrorCode(err) == standing.ENOTFOUND {
		return "", standing.FieldErrorf(standing.EINVALID, "code", "There is no code to check for this account. Ask for a new one.")
	}
	return tok.ID, err
}

// Resend mails a fresh confirmation link and code to the account; older ones stop working.
// It is the "Reactivate" button of a paused account. At most one mail per resend interval.
func (s *Service) Resend(ctx context.Context, accountID, ip string) error {
	p := s.policy()
	a, err := s.store.Account(ctx, accountID)
	if err != nil {
		return err
	}
	if a.EmailVerifiedAt != nil {
		return standing.Errorf(standing.ECONFLICT, "Your email is already confirmed.")
	}
	if a.Lifecycle == standing.LifecycleClosing || a.Lifecycle == standing.LifecycleErased {
		return standing.Errorf(standing.ECONFLICT, "This account is being deleted.")
	}
	now := s.clock.Now()
	if n, last, err := s.store.CountEvents(ctx, a.ID, "", standing.EventVerificationResent, now.Add(-p.SignIn.ResendInterval.D())); err != nil {
		return err
	} else if n > 0 {
		return standing.Errorf(standing.ERATELIMITED, "We sent a new link at %s. Check your inbox and spam folder; you can ask again after %s.",
			last.UTC().Format("15:04 MST"), last.Add(p.SignIn.ResendInterval.D()).UTC().Format("15:04:05 MST"))
	}
	tok, m, code := s.verifyToken(p, now)
	tok.AccountID, m.AccountID, m.To = a.ID, a.ID, a.Email
	m.Subject = "Your new confirmation link"
	m.Text = verifyText(s.baseURL, m.Text, code, tok.ExpiresAt, nil, p.VerificationDeadline)
	return s.store.IssueToken(ctx, tok, m, standing.EventVerificationResent, ip)
}

// ResendByEmail is Resend for someone not signed in: it answers the same whether or not
// the email has an account.
func (s *Service) ResendByEmail(ctx context.Context, email, ip string) error {
	if !s.allow("resend:"+ip, 30*time.Second, 5) {
		return errSlowDown
	}
	norm, err := identity.Email(email)
	if err != nil {
		return standing.FieldErrorf(standing.EINVALID, "email", "%s", standing.ErrorMessage(err))
	}
	a, err := s.store.AccountByEmail(ctx, norm)
	if err != nil {
		return nil
	}
	if err := s.Resend(ctx, a.ID, ip); err != nil && standing.ErrorCode(err) != standing.ECONFLICT {
		return err
	}
	return nil
}

// SignIn checks an email and password and opens a session; it returns the session token
// (to be sent as a cookie or a bearer token) and the account. Failures are stored as
// login_failed events; too many for the account or the IP lock sign-in until a time the
// error names.
func (s *Service) SignIn(ctx context.Context, email, password, ip, userAgent string) (string, standing.Account, error) {
	p := s.policy()
	now := s.clock.Now()
	if len(password) > 4*p.SignIn.MaxPasswordLength {
		return "", standing.Account{}, standing.FieldErrorf(standing.EINVALID, "password", "The password is longer than any password here can be.")
	}
	if until, err := s.locked(ctx, "", ip, p.SignIn.IPFailures, now); err != nil {
		return "", standing.Account{}, err
	} else if !until.IsZero() {
		return "", standing.Account{}, lockedError("from your network", until, now)
	}
	norm, nerr := identity.Email(email)
	a, pwHash, err := s.store.Credentials(ctx, norm)
	if nerr != nil || standing.ErrorCode(err) == standing.ENOTFOUND {
		FakeCheckPassword(password)
		s.fail(ctx, "", ip, norm)
		return "", standing.Account{}, ErrSignIn
	} else if err != nil {
		return "", a, err
	}
	if until, err := s.locked(ctx, a.ID, "", p.SignIn.AccountFailures, now); err != nil {
		return "", a, err
	} else if !until.IsZero() {
		return "", a, lockedError("for this account", until, now)
	}
	if !CheckPassword(pwHash, password) {
		s.fail(ctx, a.ID, ip, "")
		if until, _ := s.locked(ctx, a.ID, "", p.SignIn.AccountFailures, now); !until.IsZero() {
			return "", a, lockedError("for this account", until, now)
		}
		return "", a, ErrSignIn
	}
	st, err := s.standing(ctx, a.ID)
	if err != nil {
		return "", a, err
	}
	if d := st.Check(standing.CapLogin, now); !d.Allowed {
		return "", a, denied(d)
	}
	token := "ss_" + standing.RandomToken(32)
	se := standing.Session{ID: standing.HashToken(token), AccountID: a.ID, CreatedAt: now, ExpiresAt: now.Add(p.SignIn.SessionLifetime.D()), IP: ip, UserAgent: userAgent}
	if err := s.store.CreateSession(ctx, se); err != nil {
		return "", a, err
	}
	return token, a, nil
}

// denied is the error of a decision that denies a capability: the restriction's message
// and remedy, in the person's words.
func denied(d standing.Decision) error {
	return standing.Errorf(standing.EFORBIDDEN, "%s", strings.TrimSpace(d.Message+" "+d.Remedy))
}

// lockedError says until when sign-in is paused, with the date (a policy's lockout may
// pass midnight, or last days) and the wait in words.
func lockedError(whose string, until, now time.Time) error {
	wait := max(until.Sub(now).Round(time.Minute), time.Minute)
	if wait >= 2*time.Hour {
		wait = wait.Round(time.Hour)
	}
	return standing.Errorf(standing.ERATELIMITED, "Too many failed sign-ins %s. To keep the account safe, sign-in is paused until %s (in about %s). You can reset your password meanwhile.",
		whose, standing.FormatTime(until), standing.Duration(wait).Words())
}

// locked returns when sign-in unlocks, or zero: limit failures within the failure window
// (for the account: since its last successful sign-in or password change) lock sign-in
// until the last failure plus the lockout time.
func (s *Service) locked(ctx context.Context, accountID, ip string, limit int, now time.Time) (time.Time, error) {
	p := s.policy().SignIn
	since := now.Add(-p.FailureWindow.D())
	if accountID != "" {
		for _, typ := range []string{standing.EventLoginSucceeded, standing.EventPasswordChanged} {
			if n, last, err := s.store.CountEvents(ctx, accountID, "", typ, since); err != nil {
				return time.Time{}, err
			} else if n > 0 && last.After(since) {
				since = last
			}
		}
	}
	n, last, err := s.store.CountEvents(ctx, accountID, ip, standing.EventLoginFailed, since)
	if err != nil || n < limit {
		return time.Time{}, err
	}
	until := last.Add(p.Lockout.D())
	if !now.Before(until) {
		return time.Time{}, nil
	}
	return until, nil
}

// fail records a failed sign-in as an event the risk rules can use.
func (s *Service) fail(ctx context.Context, accountID, ip, email string) {
	var attrs json.RawMessage
	if accountID == "" && email != "" {
		attrs, _ = json.Marshal(map[string]string{"unknown_email_hash": standing.HashToken(email)[:16]})
	}
	_ = s.store.RecordEvent(ctx, standing.Event{AccountID: accountID, Type: standing.EventLoginFailed, IP: ip, Attributes: attrs})
}

// Session returns the account and session of a session token; EUNAUTHORIZED when it is
// unknown, ended or expired.
func (s *Service) Session(ctx context.Context, token string) (standing.Account, standing.Session, error) {
	if !strings.HasPrefix(token, "ss_") {
		return standing.Account{}, standing.Session{}, standing.Errorf(standing.EUNAUTHORIZED, "Sign in first.")
	}
	se, err := s.store.Session(ctx, standing.HashToken(token))
	if err != nil {
		if standing.ErrorCode(err) == standing.ENOTFOUND {
			return standing.Account{}, se, standing.Errorf(standing.EUNAUTHORIZED, "Your session ended. Sign in again.")
		}
		return standing.Account{}, se, err
	}
	a, err := s.store.Account(ctx, se.AccountID)
	if err != nil || a.Lifecycle == standing.LifecycleErased {
		return standing.Account{}, se, standing.Errorf(standing.EUNAUTHORIZED, "Your session ended. Sign in again.")
	}
	return a, se, nil
}

// ChangeProfile changes the name, phone and country of the account, for the person signed
// in to it, and returns the account after the change. It needs change_profile: a
// restriction that removes it is EFORBIDDEN with the restriction's message and remedy
// (email_unverified keeps it). A bad value is EINVALID naming its field.
func (s *Service) ChangeProfile(ctx context.Context, accountID string, c standing.ProfileChange, ip string) (standing.Account, error) {
	st, err := s.standing(ctx, accountID)
	if err != nil {
		return standing.Account{}, err
	}
	if d := st.Check(standing.CapChangeProfile, s.clock.Now()); !d.Allowed {
		return standing.Account{}, denied(d)
	}
	if err := identity.Profile(&c); err != nil {
		return standing.Account{}, err
	}
	return s.store.ChangeProfile(ctx, accountID, c, ip, s.identity)
}

// SignOut ends the session of a token.
func (s *Service) SignOut(ctx context.Context, token string) error {
	if token == "" {
		return nil
	}
	return s.store.RevokeSession(ctx, standing.HashToken(token))
}

// RequestReset mails a password reset link if the email has an account; the answer is the
// same either way.
func (s *Service) RequestReset(ctx context.Context, email, ip string) error {
	if !s.allow("reset:"+ip, 30*time.Second, 5) {
		return errSlowDown
	}
	norm, err := identity.Email(email)
	if err != nil {
		return standing.FieldErrorf(standing.EINVALID, "email", "%s", standing.ErrorMessage(err))
	}
	a, err := s.store.AccountByEmail(ctx, norm)
	if err != nil || a.Lifecycle == standing.LifecycleClosing {
		return nil
	}
	if !s.allow("reset:"+a.ID, 5*time.Minute, 3) {
		return nil
	}
	p := s.policy()
	now := s.clock.Now()
	secret := standing.RandomToken(32)
	tok := standing.Token{ID: standing.NewID("tok", now), AccountID: a.ID, Kind: standing.TokenReset, SecretHash: standing.HashToken(secret),
		CreatedAt: now, ExpiresAt: now.Add(p.SignIn.ResetLinkLifetime.D())}
	m := standing.Mail{AccountID: a.ID, To: a.Email, Kind: "reset", Subject: "Set a new password",
		Text: "Hello,\n\nSomeone — hopefully you — asked to set a new password for your account. Open this link to choose one:\n\n" +
			s.baseURL + "/reset?token=" + secret + "\n\nThe link works once, until " + standing.FormatTime(tok.ExpiresAt) +
			".\n\nIf you did not ask, ignore this mail: your password stays as it is.\n"}
	return s.store.IssueToken(ctx, tok, m, "password_reset_requested", ip)
}

// ResetPassword sets a new password with the secret of a reset link; every session of the
// account ends and the owner is told by mail.
func (s *Service) ResetPassword(ctx context.Context, secret, password string) (standing.Account, error) {
	secret = strings.TrimSpace(secret)
	if secret == "" || len(secret) > 200 {
		return standing.Account{}, standing.FieldErrorf(standing.EINVALID, "token", "This reset link is incomplete. Open the whole link from the mail.")
	}
	p := s.policy()
	// The email is checked against the password after the token names the account.
	if err := ValidatePassword(p.SignIn, password, ""); err != nil {
		return standing.Account{}, err
	}
	return s.store.ResetPassword(ctx, standing.HashToken(secret), HashPassword(password), func(a standing.Account) standing.Mail {
		return standing.Mail{AccountID: a.ID, To: a.Email, Kind: "password_changed", Subject: "Your password was changed",
			Text: "Hello,\n\nThe password of your account was changed on " + standing.FormatTime(s.clock.Now()) +
				" and every device was signed out.\n\nIf this wasn't you, set a new password now: " + s.baseURL + "/reset\n"}
	})
}

// HandleVerifyDeadline is the job that runs 72 hours (policy) after sign-up.
func (s *Service) HandleVerifyDeadline(ctx context.Context, j jobs.Job) error {
	var p struct {
		AccountID string `json:"account_id"`
	}
	if err := json.Unmarshal(j.Payload, &p); err != nil || p.AccountID == "" {
		return jobs.Permanent{Err: fmt.Errorf("verify.deadline: bad payload %s", j.Payload)}
	}
	_, err := s.store.VerificationDeadline(ctx, p.AccountID)
	return err
}
