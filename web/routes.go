package web

import (
	"io/fs"
	"net/http"
)

// routes lists every page.
func (s *Server) routes() []route {
	static, _ := fs.Sub(staticFS, "static")
	rs := []route{
		{"GET /static/", http.StripPrefix("/static/", http.FileServerFS(static))},
		{"GET /{$}", http.RedirectHandler("/account", http.StatusSeeOther)},
		{"GET /signup", http.HandlerFunc(s.signupPage)},
		{"POST /signup", s.form("Create your account", "signup", s.signup)},
		{"GET /verify", http.HandlerFunc(s.verifyPage)},
		{"POST /verify", s.form("Confirm your email", "verify", s.verifyCode)},
		{"POST /verify/resend", s.form("Confirm your email", "verify", s.resend)},
		{"GET /login", http.HandlerFunc(s.loginPage)},
		{"POST /login", s.form("Sign in", "login", s.login)},
		{"POST /logout", s.form("Sign out", "message", s.logout)},
		{"GET /reset", http.HandlerFunc(s.resetPage)},
		{"POST /reset", s.form("Reset your password", "reset", s.reset)},
		{"GET /account", http.HandlerFunc(s.accountPage)},
		{"POST /account/reactivate", s.form("Your account", "account", s.reactivate)},
	}
	if s.d.Dev {
		rs = append(rs,
			route{"GET /dev/mail", http.HandlerFunc(s.devMail)},
		)
	}
	return rs
}
