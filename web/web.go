// Package web serves the pages people use: sign-up, email confirmation, sign-in, password
// reset and the account page that shows every restriction in plain words. Pages are
// rendered on the server and work without JavaScript. Every form carries a CSRF token
// (double-submit cookie) and cross-origin form posts are refused.
package web

import (
	"context"
	"crypto/subtle"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"standing"
	"standing/appeals"
	"standing/auth"
	"standing/erasure"
	"standing/identity"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Deps are what the pages need.
type Deps struct {
	Auth         *auth.Service
	Appeals      *appeals.Service
	Erasure      *erasure.Service
	Accounts     standing.AccountReader
	Restrictions standing.RestrictionReader
	Audit        standing.AuditLog
	// Explain says why a rule fired for an account (the risk engine's explanation), if known.
	Explain  func(ctx context.Context, ruleID, accountID string) string
	Standing auth.StandingFunc
	Mails    standing.MailReader
	Sellers  SellerSource
	Orders   OrderSource
	Clock    standing.Clock
	Policy   func() *standing.Policy
	Log      *slog.Logger
	Dev      bool
	// SecureCookies marks every cookie Secure even on plain HTTP: the public URL is
	// https:// and TLS ends at a proxy in front of Standing.
	SecureCookies bool
}

// Server renders the pages.
type Server struct {
	d     Deps
	pages map[string]*template.Template
}

// New parses the templates and returns the page server.
func New(d Deps) (*Server, error) {
	s := &Server{d: d, pages: map[string]*template.Template{}}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		t, err := template.ParseFS(templateFS, "templates/layout.html", n)
		if err != nil {
			return nil, err
		}
		s.pages[base] = t
	}
	return s, nil
}

// Handler returns the pages with cross-origin protection on every unsafe method.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, r := range s.routes() {
		mux.Handle(r.pattern, r.handler)
	}
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.renderStatus(w, r, http.StatusForbidden, "message", "Request refused", nil, "", message{
			Text: "This form was sent from another site, so it was refused. Open the page on this site and try again."})
	}))
	return cop.Handler(mux)
}

// Patterns lists the page routes, for mounting them on the app's mux.
func (s *Server) Patterns() []string {
	var out []string
	for _, r := range s.routes() {
		out = append(out, r.pattern)
	}
	return out
}

type route struct {
	pattern string
	handler http.Handler
}

// page is what every template gets.
type page struct {
	Title       string
	Account     *standing.Account
	Staff       *standing.StaffUser
	CSRF        string
	Notice      string
	Error       string
	FieldErrors map[string]string
	Form        map[string]string
	Data        any
}

type message struct {
	Text string
	Link *link
}

type link struct{ Href, Label string }

const csrfCookie = "standing_csrf"

// secure reports whether cookies must be Secure: the request came over TLS, or the public
// URL is https:// (TLS ends at a proxy).
func (s *Server) secure(r *http.Request) bool { return r.TLS != nil || s.d.SecureCookies }

// csrfToken returns the request's CSRF token, setting the cookie when there is none.
func (s *Server) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) >= 32 {
		return c.Value
	}
	tok := standing.RandomToken(24)
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: tok, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secure(r)})
	// Make the fresh token visible to this request's own form checks too.
	r.AddCookie(&http.Cookie{Name: csrfCookie, Value: tok})
	return tok
}

// checkCSRF compares the form's token with the cookie's.
func checkCSRF(r *http.Request) bool {
	c, err := r.Cookie(csrfCookie)
	if err != nil || c.Value == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue("csrf"))) == 1
}

// maxForm bounds form bodies; a page form is a few hundred bytes.
const maxForm = 64 << 10

// form wraps a POST handler: it bounds and parses the body and checks the CSRF token.
func (s *Server) form(title, tmpl string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxForm)
		if err := r.ParseForm(); err != nil {
			s.renderStatus(w, r, http.StatusBadRequest, "message", "Form too large", nil, "", message{Text: "The form could not be read. Reload the page and try again."})
			return
		}
		if !checkCSRF(r) {
			s.renderStatus(w, r, http.StatusForbidden, "message", "Form expired", nil, "", message{
				Text: "This form's security token is missing or out of date (the page may have been open a long time, or cookies are off). Reload the page and send it again.",
				Link: &link{Href: r.URL.Path, Label: "Reload the form"}})
			return
		}
		h(w, r)
	})
}

// current returns the signed-in account, if any.
func (s *Server) current(r *http.Request) (*standing.Account, string) {
	c, err := r.Cookie(auth.SessionCookie)
	if err != nil {
		return nil, ""
	}
	a, _, err := s.d.Auth.Session(r.Context(), c.Value)
	if err != nil {
		return nil, ""
	}
	return &a, c.Value
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, tmpl, title string, p *page) {
	s.renderPage(w, r, http.StatusOK, tmpl, title, p)
}

func (s *Server) renderPage(w http.ResponseWriter, r *http.Request, status int, tmpl, title string, p *page) {
	if p == nil {
		p = &page{}
	}
	p.Title = title
	p.CSRF = s.csrfToken(w, r)
	if p.Account == nil && p.Staff == nil {
		p.Account, _ = s.current(r)
	}
	if p.Form == nil {
		p.Form = map[string]string{}
	}
	if p.Notice == "" {
		p.Notice = notices[r.URL.Query().Get("notice")]
	}
	t, ok := s.pages[tmpl]
	if !ok {
		http.Error(w, "no template "+tmpl, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'")
	w.WriteHeader(status)
	if err := t.ExecuteTemplate(w, "layout", p); err != nil {
		s.d.Log.Error("render page", "template", tmpl, "err", err)
	}
}

func (s *Server) renderStatus(w http.ResponseWriter, r *http.Request, status int, tmpl, title string, acc *standing.Account, errText string, data any) {
	s.renderPage(w, r, status, tmpl, title, &page{Account: acc, Error: errText, Data: data})
}

// notices are the fixed messages a redirect can ask a page to show.
var notices = map[string]string{
	"signed_out":        "You are signed out.",
	"verified":          "Your email address is confirmed. Thank you.",
	"resent":            "We sent a new confirmation link and code. The older ones no longer work.",
	"appeal_sent":       "Your appeal was sent. We mailed you a confirmation with the date of the answer.",
	"message_sent":      "Your message was added to the appeal.",
	"decided":           "The decision was recorded and the person was told by mail.",
	"second_reviewer":   "Your vote is recorded. Overturning a confirmed fraud needs a second reviewer to agree.",
	"password_changed":  "Your password was changed, and every device was signed out. Sign in with the new password.",
	"signed_in":         "You are signed in.",
	"profile_saved":     "Your profile was saved.",
	"profile_unchanged": "Your profile already had these details; nothing changed.",
}

// statusFor returns the HTTP status of the page that shows err: the one table in
// standing.HTTPStatus decides.
func statusFor(err error) int { return standing.HTTPStatus(standing.ErrorCode(err)) }

// fieldErrors puts an error next to its field when it names one, else on top of the page.
func fieldErrors(err error) (map[string]string, string) {
	if f := standing.ErrorField(err); f != "" && standing.ErrorCode(err) == standing.EINVALID {
		return map[string]string{f: standing.ErrorMessage(err)}, "Please fix the marked field."
	}
	return nil, standing.ErrorMessage(err)
}

// localPath keeps a redirect target on this site.
func localPath(next string) string {
	u, err := url.Parse(next)
	if next == "" || err != nil || u.IsAbs() || u.Host != "" || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		return "/account"
	}
	return u.RequestURI()
}

func clientIP(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i > 0 {
		host = host[:i]
	}
	return strings.Trim(host, "[]")
}

func (s *Server) setSession(w http.ResponseWriter, r *http.Request, token string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{Name: auth.SessionCookie, Value: token, Path: "/", MaxAge: s.maxAge(expires),
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secure(r)})
}

// maxAge is a cookie's lifetime in seconds until expires on the service's clock. A cookie
// carries a relative Max-Age, never an absolute Expires: the service's clock (moved by
// /dev/clock, or a test's) need not agree with the browser's, and an absolute date from it
// could reach the browser already past, so that the browser drops the session at once.
func (s *Server) maxAge(expires time.Time) int {
	return max(1, int(expires.Sub(s.d.Clock.Now())/time.Second))
}

func (s *Server) clearSession(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: auth.SessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secure(r)})
}

func normEmail(s string) (string, error) { return identity.Email(s) }
