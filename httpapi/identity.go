package httpapi

import (
	"net/http"
	"strings"
	"time"

	"standing"
	"standing/auth"
	"standing/checker"
)

// IdentityDeps are what the self-service identity API needs.
type IdentityDeps struct {
	Auth    *auth.Service
	Checker *checker.Cache
	Clock   standing.Clock
	Policy  func() *standing.Policy
}

func remoteIP(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i > 0 {
		host = host[:i]
	}
	return strings.Trim(host, "[]")
}

func sessionToken(r *http.Request) string {
	if t, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return strings.TrimSpace(t)
	}
	if c, err := r.Cookie(auth.SessionCookie); err == nil {
		return c.Value
	}
	return ""
}

// handleSignUp serves POST /v1/signup. The answer is the same whether or not the email
// already has an account (its owner is mailed instead), so it cannot be used to find out
// who has one.
func handleSignUp(a *auth.Service, policy func() *standing.Policy) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in struct {
			Email    string        `json:"email"`
			Password string        `json:"password"`
			Role     standing.Role `json:"role"`
		}
		if err := decode(w, r, &in, maxBody); err != nil {
			return err
		}
		email, err := a.SignUp(r.Context(), auth.SignUpInput{Email: in.Email, Password: in.Password, Role: in.Role, IP: remoteIP(r)})
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusAccepted, map[string]string{"status": "check_email", "email": email,
			"message": "We sent a confirmation link and a 6-digit code to " + email + ". Confirm within " + policy().VerificationDeadline.Words() + " to keep full use of the account."})
	}
}

// handleVerify serves POST /v1/verify: {"token": "…"} from the link, or {"email", "code"}.
func handleVerify(a *auth.Service, c *checker.Cache, clock standing.Clock) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in struct {
			Token string `json:"token"`
			Email string `json:"email"`
			Code  string `json:"code"`
		}
		if err := decode(w, r, &in, maxBody); err != nil {
			return err
		}
		var acc standing.Account
		var err error
		switch {
		case in.Token != "":
			acc, err = a.Confirm(r.Context(), in.Token)
		case in.Code != "":
			acc, err = a.ConfirmCode(r.Context(), in.Email, in.Code)
		default:
			return standing.FieldErrorf(standing.EINVALID, "token", "send the token from the link, or the email and the 6-digit code")
		}
		if err != nil {
			return err
		}
		return writeAccount(w, r, c, clock, acc)
	}
}

// handleResend serves POST /v1/verify/resend {"email"}: a new link and code; the same
// answer whether or not the email has an account.
func handleResend(a *auth.Service) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in struct {
			Email string `json:"email"`
		}
		if err := decode(w, r, &in, maxBody); err != nil {
			return err
		}
		if err := a.ResendByEmail(r.Context(), in.Email, remoteIP(r)); err != nil {
			return err
		}
		return writeJSON(w, http.StatusAccepted, map[string]string{"status": "check_email",
			"message": "If an account uses that email and it is not confirmed yet, we sent a new link and code."})
	}
}

// handleSignIn serves POST /v1/sessions: a session token for an email and password.
func handleSignIn(a *auth.Service, policy func() *standing.Policy, clock standing.Clock) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in struct {
			Email    string `json:"email"`
			Password string `json:"password"`
		}
		if err := decode(w, r, &in, maxBody); err != nil {
			return err
		}
		token, acc, err := a.SignIn(r.Context(), in.Email, in.Password, remoteIP(r), r.UserAgent())
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusCreated, map[string]any{"token": token,
			"expires_at": clock.Now().Add(policy().SignIn.SessionLifetime.D()).UTC().Format(time.RFC3339), "account": acc})
	}
}

// handleSignOut serves DELETE /v1/sessions/current.
func handleSignOut(a *auth.Service) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		tok := sessionToken(r)
		if _, _, err := a.Session(r.Context(), tok); err != nil {
			return err
		}
		if err := a.SignOut(r.Context(), tok); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

// handlePasswordReset serves POST /v1/password-reset: {"email"} asks for a link (202, the
// same answer for any email); {"token", "password"} sets the new password.
func handlePasswordReset(a *auth.Service) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in struct {
			Email    string `json:"email"`
			Token    string `json:"token"`
			Password string `json:"password"`
		}
		if err := decode(w, r, &in, maxBody); err != nil {
			return err
		}
		if in.Token != "" {
			if _, err := a.ResetPassword(r.Context(), in.Token, in.Password); err != nil {
				return err
			}
			return writeJSON(w, http.StatusOK, map[string]string{"status": "password_changed",
				"message": "The password was changed and every session of the account ended."})
		}
		if err := a.RequestReset(r.Context(), in.Email, remoteIP(r)); err != nil {
			return err
		}
		return writeJSON(w, http.StatusAccepted, map[string]string{"status": "check_email",
			"message": "If an account uses that email, we sent it a link to set a new password."})
	}
}

// handleMe serves GET /v1/me: the signed-in person's account and standing.
func handleMe(a *auth.Service, c *checker.Cache, clock standing.Clock) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		acc, _, err := a.Session(r.Context(), sessionToken(r))
		if err != nil {
			return err
		}
		return writeAccount(w, r, c, clock, acc)
	}
}

// handleChangeMe serves PATCH /v1/me: the signed-in person changes their own name, phone
// and country. A field left out stays as it is; "" clears it. The answer is the account
// as GET /v1/me shows it.
func handleChangeMe(a *auth.Service, c *checker.Cache, clock standing.Clock) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		acc, _, err := a.Session(r.Context(), sessionToken(r))
		if err != nil {
			return err
		}
		var in standing.ProfileChange
		if err := decode(w, r, &in, maxBody); err != nil {
			return err
		}
		acc, err = a.ChangeProfile(r.Context(), acc.ID, in, remoteIP(r))
		if err != nil {
			return err
		}
		return writeAccount(w, r, c, clock, acc)
	}
}

// writeAccount answers with the account and its standing, as GET /v1/me shows them.
func writeAccount(w http.ResponseWriter, r *http.Request, c *checker.Cache, clock standing.Clock, acc standing.Account) error {
	st, err := c.Standing(r.Context(), acc.ID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, viewAccount(acc, st, clock.Now()))
}
