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
		{"GET /logout", http.HandlerFunc(s.logoutPage)},
		{"POST /logout", s.form("Sign out", "message", s.logout)},
		{"GET /reset", http.HandlerFunc(s.resetPage)},
		{"POST /reset", s.form("Reset your password", "reset", s.reset)},
		{"GET /account", http.HandlerFunc(s.accountPage)},
		{"POST /account/reactivate", s.form("Your account", "account", s.reactivate)},
		{"POST /account/profile", s.form("Your account", "account", s.changeProfile)},
		{"GET /account/delete", http.HandlerFunc(s.deletePage)},
		{"POST /account/delete", s.form("Delete your account", "account_delete", s.deleteAccount)},
		{"GET /orders", http.HandlerFunc(s.ordersPage)},
		{"GET /track", http.HandlerFunc(s.trackPage)},
		{"GET /track/{number}", http.HandlerFunc(s.trackPage)},

		{"GET /seller", http.HandlerFunc(s.sellerPage)},
		{"GET /console/sellers", http.HandlerFunc(s.consoleSellerFind)},
		{"GET /console/sellers/{id}", http.HandlerFunc(s.consoleSellerPage)},
		{"POST /console/sellers/{id}/violations", s.form("Seller", "message", s.consoleReportViolation)},
		{"POST /console/violations/{id}/withdraw", s.form("Seller", "message", s.consoleWithdrawViolation)},

		{"GET /appeals", http.HandlerFunc(s.appealsPage)},
		{"GET /appeals/new", http.HandlerFunc(s.newAppealPage)},
		{"POST /appeals", http.HandlerFunc(s.submitAppeal)},
		{"GET /appeals/{id}", http.HandlerFunc(s.appealPage)},
		{"POST /appeals/{id}/messages", http.HandlerFunc(s.appealMessage)},
		{"GET /appeals/{id}/evidence/{eid}", http.HandlerFunc(s.appealEvidence)},

		{"GET /console/login", http.HandlerFunc(s.consoleLoginPage)},
		{"POST /console/login", s.form("Reviewer console", "console_login", s.consoleLogin)},
		{"POST /console/logout", s.form("Reviewer console", "console_login", s.consoleLogout)},
		{"GET /console", http.HandlerFunc(s.consoleQueue)},
		{"GET /console/appeals/{id}", http.HandlerFunc(s.consoleCase)},
		{"POST /console/appeals/{id}/claim", s.form("Appeal", "console_case", s.consoleClaim)},
		{"POST /console/appeals/{id}/decide", s.form("Appeal", "console_case", s.consoleDecide)},
		{"GET /console/evidence/{id}", http.HandlerFunc(s.consoleEvidence)},
		{"GET /console/accounts", http.HandlerFunc(s.consoleAccount)},
		{"POST /console/accounts/{id}/restore", s.form("Account", "console_account", s.consoleRestore)},
		{"POST /console/accounts/{id}/delete", s.form("Account", "console_account", s.consoleDelete)},
	}
	if s.d.Dev {
		rs = append(rs,
			route{"GET /dev/mail", http.HandlerFunc(s.devMail)},
		)
	}
	return rs
}
