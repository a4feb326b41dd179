package web

import (
	"net/http"
	"net/url"
	"strings"

	"standing"
	"standing/auth"
)

// signupRules are the policy's words on the sign-up page.
type signupRules struct {
	MinLength    int
	VerifyWithin string // "72 hours"
}

func (s *Server) minLength() signupRules {
	p := s.d.Policy()
	return signupRules{MinLength: p.SignIn.MinPasswordLength, VerifyWithin: p.VerificationDeadline.Words()}
}

// signupPage serves GET /signup.
func (s *Server) signupPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, "signup", "Create your account", &page{Data: s.minLength()})
}

// signup serves POST /signup.
func (s *Server) signup(w http.ResponseWriter, r *http.Request) {
	form := map[string]string{"email": r.PostFormValue("email"), "role": r.PostFormValue("role")}
	email, err := s.d.Auth.SignUp(r.Context(), auth.SignUpInput{Email: form["email"], Password: r.PostFormValue("password"),
		Role: standing.Role(form["role"]), IP: clientIP(r)})
	if err != nil {
		fe, msg := fieldErrors(err)
		s.renderPage(w, r, statusFor(err), "signup", "Create your account", &page{Form: form, FieldErrors: fe, Error: msg, Data: s.minLength()})
		return
	}
	http.Redirect(w, r, "/verify?sent=1&email="+url.QueryEscape(email), http.StatusSeeOther)
}

type verifyData struct {
	Sent, Confirmed bool
}

// verifyPage serves GET /verify: with ?token= it confirms the email from the mail's link;
// without, it shows the form for the 6-digit code.
func (s *Server) verifyPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	form := map[string]string{"email": q.Get("email")}
	acc, _ := s.current(r)
	if acc != nil && form["email"] == "" {
		form["email"] = acc.Email
	}
	if tok := q.Get("token"); tok != "" {
		a, err := s.d.Auth.Confirm(r.Context(), tok)
		if err != nil {
			if a.Email != "" {
				form["email"] = a.Email
			}
			s.renderPage(w, r, statusFor(err), "verify", "Confirm your email", &page{Account: acc, Form: form, Error: standing.ErrorMessage(err), Data: verifyData{}})
			return
		}
		s.render(w, r, "verify", "Email confirmed", &page{Account: acc, Form: form, Data: verifyData{Confirmed: true}})
		return
	}
	s.render(w, r, "verify", "Confirm your email", &page{Account: acc, Form: form, Data: verifyData{Sent: q.Get("sent") == "1"}})
}

// verifyCode serves POST /verify: the typed code.
func (s *Server) verifyCode(w http.ResponseWriter, r *http.Request) {
	form := map[string]string{"email": r.PostFormValue("email")}
	_, err := s.d.Auth.ConfirmCode(r.Context(), form["email"], r.PostFormValue("code"))
	if err != nil {
		fe, msg := fieldErrors(err)
		s.renderPage(w, r, statusFor(err), "verify", "Confirm your email", &page{Form: form, FieldErrors: fe, Error: msg, Data: verifyData{}})
		return
	}
	if acc, _ := s.current(r); acc != nil {
		http.Redirect(w, r, "/account?notice=verified", http.StatusSeeOther)
		return
	}
	s.render(w, r, "verify", "Email confirmed", &page{Form: form, Data: verifyData{Confirmed: true}})
}

// resend serves POST /verify/resend.
func (s *Server) resend(w http.ResponseWriter, r *http.Request) {
	form := map[string]string{"email": r.PostFormValue("email")}
	var err error
	if acc, _ := s.current(r); acc != nil {
		form["email"] = acc.Email
		err = s.d.Auth.Resend(r.Context(), acc.ID, clientIP(r))
	} else {
		err = s.d.Auth.ResendByEmail(r.Context(), form["email"], clientIP(r))
	}
	if err != nil {
		fe, msg := fieldErrors(err)
		s.renderPage(w, r, statusFor(err), "verify", "Confirm your email", &page{Form: form, FieldErrors: fe, Error: msg, Data: verifyData{}})
		return
	}
	s.render(w, r, "verify", "Confirm your email", &page{Form: form, Notice: "If an account uses that email and it is not confirmed yet, we sent a new link and code. The older ones no longer work.", Data: verifyData{}})
}

// loginPage serves GET /login.
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, "login", "Sign in", &page{Form: map[string]string{"next": r.URL.Query().Get("next")}})
}

// login serves POST /login.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	form := map[string]string{"email": r.PostFormValue("email"), "next": r.PostFormValue("next")}
	token, _, err := s.d.Auth.SignIn(r.Context(), form["email"], r.PostFormValue("password"), clientIP(r), r.UserAgent())
	if err != nil {
		s.renderPage(w, r, statusFor(err), "login", "Sign in", &page{Form: form, Error: standing.ErrorMessage(err)})
		return
	}
	s.setSession(w, r, token, s.d.Clock.Now().Add(s.d.Policy().SignIn.SessionLifetime.D()))
	http.Redirect(w, r, localPath(form["next"]), http.StatusSeeOther)
}

// logoutPage serves GET /logout: a sign-out button, since signing out changes state and
// so is a form post (a link or a prefetch must not sign anyone out).
func (s *Server) logoutPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, "logout", "Sign out", nil)
}

// logout serves POST /logout.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(auth.SessionCookie); err == nil {
		if err := s.d.Auth.SignOut(r.Context(), c.Value); err != nil {
			s.d.Log.Error("sign out", "err", err)
		}
	}
	s.clearSession(w, r)
	next := "/login?notice=signed_out"
	if n := r.PostFormValue("next"); n == "/login" {
		next = n
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

type resetData struct {
	Token     string
	Sent      bool
	MinLength int
}

// resetPage serves GET /reset: the request form, or with ?token= the new-password form.
func (s *Server) resetPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, "reset", "Reset your password", &page{Data: resetData{Token: r.URL.Query().Get("token"), MinLength: s.minLength().MinLength}})
}

// reset serves POST /reset: a reset request (email), or a new password (token).
func (s *Server) reset(w http.ResponseWriter, r *http.Request) {
	if tok := r.PostFormValue("token"); tok != "" {
		_, err := s.d.Auth.ResetPassword(r.Context(), tok, r.PostFormValue("password"))
		if err != nil {
			fe, msg := fieldErrors(err)
			s.renderPage(w, r, statusFor(err), "reset", "Choose a new password", &page{FieldErrors: fe, Error: msg,
				Data: resetData{Token: tok, MinLength: s.minLength().MinLength}})
			return
		}
		s.clearSession(w, r)
		http.Redirect(w, r, "/login?notice=password_changed", http.StatusSeeOther)
		return
	}
	form := map[string]string{"email": strings.TrimSpace(r.PostFormValue("email"))}
	if err := s.d.Auth.RequestReset(r.Context(), form["email"], clientIP(r)); err != nil {
		fe, msg := fieldErrors(err)
		s.renderPage(w, r, statusFor(err), "reset", "Reset your password", &page{Form: form, FieldErrors: fe, Error: msg, Data: resetData{}})
		return
	}
	s.render(w, r, "reset", "Reset your password", &page{Form: form, Data: resetData{Sent: true}})
}
