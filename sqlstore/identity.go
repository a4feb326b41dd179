package sqlstore

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"encoding/json"
	"time"

	"standing"
	"standing/jobs"
)

// JobVerifyDeadline puts email_unverified on an account still unverified at its deadline.
const JobVerifyDeadline = "verify.deadline"

// SignUp creates an unverified account with its password hash, its first confirmation
// token and mail, and the durable deadline job — all or nothing. ECONFLICT (field email)
// when a live account has the email.
func (s *Store) SignUp(ctx context.Context, na standing.NewAccount, tok standing.Token, m standing.Mail, deadline time.Time, ip string) (standing.Account, error) {
	var acc standing.Account
	err := s.write(ctx, func(t *tx) error {
		a, _, err := t.createAccount(&na, "self")
		if err != nil {
			return err
		}
		acc = a
		tok.AccountID, m.AccountID = a.ID, a.ID
		if err := t.insertToken(tok); err != nil {
			return err
		}
		if _, err := t.queueMail(m); err != nil {
			return err
		}
		payload, _ := json.Marshal(map[string]string{"account_id": a.ID})
		if err := t.enqueue(jobs.Job{Kind: JobVerifyDeadline, DedupeKey: "verify-deadline:" + a.ID, RunAt: deadline, Payload: payload, MaxAttempts: 20}); err != nil {
			return err
		}
		err = t.recordOwnEvent(standing.Event{AccountID: a.ID, Type: standing.EventSignup, IP: ip})
		return err
	})
	return acc, err
}

func (t *tx) insertToken(tok standing.Token) error {
	_, err := t.exec(`INSERT INTO tokens (id, account_id, kind, secret_hash, code_hash, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, tok.ID, tok.AccountID, tok.Kind, tok.SecretHash, tok.CodeHash, ts(tok.CreatedAt), ts(tok.ExpiresAt))
	return err
}

// QueueMail queues one mail on its own (a notice to the owner of an email, say).
func (s *Store) QueueMail(ctx context.Context, m standing.Mail) error {
	return s.write(ctx, func(t *tx) error {
		_, err := t.queueMail(m)
		return err
	})
}

// IssueToken supersedes the account's unused tokens of the same kind, stores the new one,
// queues its mail and records the event — a new confirmation link or a reset link.
func (s *Store) IssueToken(ctx context.Context, tok standing.Token, m standing.Mail, event string, ip string) error {
	return s.write(ctx, func(t *tx) error {
		if _, err := t.exec("UPDATE tokens SET superseded_at = ? WHERE account_id = ? AND kind = ? AND used_at IS NULL AND superseded_at IS NULL",
			ts(t.now), tok.AccountID, tok.Kind); err != nil {
			return err
		}
		if err := t.insertToken(tok); err != nil {
			return err
		}
		if _, err := t.queueMail(m); err != nil {
			return err
		}
		err := t.recordOwnEvent(standing.Event{AccountID: tok.AccountID, Type: event, IP: ip})
		return err
	})
}

const tokenColumns = `id, account_id, kind, secret_hash, code_hash, attempts, created_at, expires_at, used_at, superseded_at`

func scanToken(row interface{ Scan(...any) error }) (standing.Token, error) {
	var k standing.Token
	var created, expires int64
	var used, superseded sql.NullInt64
	err := row.Scan(&k.ID, &k.AccountID, &k.Kind, &k.SecretHash, &k.CodeHash, &k.Attempts, &created, &expires, &used, &superseded)
	k.CreatedAt, k.ExpiresAt, k.UsedAt, k.SupersededAt = fromTS(created), fromTS(expires), fromNullTS(used), fromNullTS(superseded)
	return k, err
}

// LatestToken returns the account's newest token of a kind; ENOTFOUND if none.
func (s *Store) LatestToken(ctx context.Context, accountID, kind string) (standing.Token, error) {
	k, err := scanToken(s.queryRow(ctx, "SELECT "+tokenColumns+" FROM tokens WHERE account_id = ? AND kind = ? ORDER BY created_at DESC, id DESC LIMIT 1", accountID, kind))
	if err == sql.ErrNoRows {
		return k, standing.Errorf(standing.ENOTFOUND, "no token")
	}
	return k, translate(err)
}

// tokenProblem explains why a token cannot be used, in words for the person.
func tokenProblem(k standing.Token, now time.Time) error {
	switch {
	case k.UsedAt != nil:
		return standing.Errorf(standing.ECONFLICT, "This link or code was already used on %s. If your email is confirmed, just sign in.", standing.FormatTime(*k.UsedAt))
	case k.SupersededAt != nil:
		return standing.Errorf(standing.ECONFLICT, "This link or code was replaced by a newer one we sent on %s. Use the newest email from us, or ask for a new one.", standing.FormatTime(*k.SupersededAt))
	case !now.Before(k.ExpiresAt):
		return standing.Errorf(standing.EGONE, "This link or code expired on %s. Ask for a new one from your account page or the confirmation page.", standing.FormatTime(k.ExpiresAt))
	}
	return nil
}

// ConfirmEmail uses a confirmation token — found by the hash of its link secret, or, for a
// typed code, as the account's newest token checked against codeHash — and activates the
// account: lifecycle active, email confirmed, email_unverified lifted at once, the
// deadline job cancelled. A wrong code counts an attempt; after maxAttempts the token is
// spent and the person must ask for a new one.
func (s *Store) ConfirmEmail(ctx context.Context, secretHash, accountID, codeHash string, maxAttempts int) (standing.Account, error) {
	var acc standing.Account
	wrongCode, left := false, 0
	err := s.write(ctx, func(t *tx) error {
		var k standing.Token
		var err error
		if secretHash != "" {
			k, err = scanToken(t.queryRow("SELECT "+tokenColumns+" FROM tokens WHERE secret_hash = ? AND kind = 'verify'", secretHash))
			if err == sql.ErrNoRows {
				return standing.Errorf(standing.ENOTFOUND, "This confirmation link is not valid. Check that you copied all of it, or ask for a new one.")
			}
		} else {
			k, err = scanToken(t.queryRow("SELECT "+tokenColumns+" FROM tokens WHERE account_id = ? AND kind = 'verify' ORDER BY created_at DESC, id DESC LIMIT 1", accountID))
			if err == sql.ErrNoRows {
				return standing.Errorf(standing.ENOTFOUND, "There is no confirmation code for this account. Ask for a new one.")
			}
		}
		if err != nil {
			return err
		}
		if err := tokenProblem(k, t.now); err != nil {
			return err
		}
		// The token was read without a lock: each write below is conditional on what
		// the check saw, so that parallel requests cannot try more codes than allowed or
		// use one token twice.
		limit := 0
		if secretHash == "" {
			limit = maxAttempts
			if k.Attempts >= maxAttempts {
				return tooManyCodes()
			}
			if subtle.ConstantTimeCompare([]byte(k.CodeHash), []byte(codeHash)) != 1 {
				var attempts int
				err := t.queryRow(`UPDATE tokens SET attempts = attempts + 1
					WHERE id = ? AND attempts < ? AND used_at IS NULL AND superseded_at IS NULL RETURNING attempts`, k.ID, maxAttempts).Scan(&attempts)
				if err == sql.ErrNoRows {
					return t.tokenProblemNow(k.ID, maxAttempts)
				} else if err != nil {
					return err
				}
				// Commit the counted attempt; the error is returned after the commit.
				wrongCode, left = true, maxAttempts-attempts
				return nil
			}
		}
		if err := t.useToken(k.ID, limit); err != nil {
			return err
		}
		acc, err = t.confirm(k.AccountID)
		return err
	})
	if err == nil && wrongCode {
		if left <= 0 {
			return acc, standing.FieldErrorf(standing.ERATELIMITED, "code", "That code is not right, and it was the last try. Ask for a new code.")
		}
		return acc, standing.FieldErrorf(standing.EINVALID, "code", "That code is not right. Check the newest email from us; %d tries left.", left)
	}
	return acc, err
}

// tooManyCodes says a confirmation token took its last wrong code.
func tooManyCodes() error {
	return standing.Errorf(standing.ERATELIMITED, "Too many wrong codes for this confirmation. Ask for a new code; the old one no longer works.")
}

// useToken spends the token with id if it is still unused and not replaced (and, with
// maxAttempts above 0, has wrong codes left); otherwise it changes nothing and returns
// the token's problem. The condition is in the UPDATE: on PostgreSQL a request that read
// the token while another was using it waits for that one and then finds no row.
func (t *tx) useToken(id string, maxAttempts int) error {
	q := "UPDATE tokens SET used_at = ? WHERE id = ? AND used_at IS NULL AND superseded_at IS NULL"
	args := []any{ts(t.now), id}
	if maxAttempts > 0 {
		q += " AND attempts < ?"
		args = append(args, maxAttempts)
	}
	ok, err := changedRows(t.exec(q, args...))
	if err != nil || ok {
		return err
	}
	return t.tokenProblemNow(id, maxAttempts)
}

// tokenProblemNow reads the token again and says why it can no longer be used: another
// request used, replaced or spent it since it was first read.
func (t *tx) tokenProblemNow(id string, maxAttempts int) error {
	k, err := scanToken(t.queryRow("SELECT "+tokenColumns+" FROM tokens WHERE id = ?", id))
	if err != nil {
		return err
	}
	if err := tokenProblem(k, t.now); err != nil {
		return err
	}
	if maxAttempts > 0 && k.Attempts >= maxAttempts {
		return tooManyCodes()
	}
	return standing.Errorf(standing.ECONFLICT, "This link or code was used by another request at the same moment.")
}

// confirm activates an account whose email was just confirmed.
func (t *tx) confirm(accountID string) (standing.Account, error) {
	a, err := t.accountForUpdate(accountID)
	if err != nil {
		return a, err
	}
	if a.Lifecycle == standing.LifecycleErased || a.Lifecycle == standing.LifecycleClosing {
		return a, standing.Errorf(standing.ECONFLICT, "This account is being deleted; its email cannot be confirmed.")
	}
	if _, err := t.exec("UPDATE accounts SET email_verified_at = COALESCE(email_verified_at, ?), updated_at = ? WHERE id = ?", ts(t.now), ts(t.now), a.ID); err != nil {
		return a, err
	}
	t.s.riskChanged(a.ID) // the risk engine's copy of the account row
	if a.EmailVerifiedAt == nil {
		now := t.now
		a.EmailVerifiedAt = &now
	}
	if a.Lifecycle == standing.LifecycleUnverified {
		if err := t.setLifecycle(&a, standing.LifecycleActive, "self", "email confirmed", ""); err != nil {
			return a, err
		}
	}
	rows, err := t.query("SELECT "+restrictionColumns+" FROM restrictions WHERE account_id = ? AND state = 'active' AND reason_code = ?", a.ID, standing.ReasonEmailUnverified)
	if err != nil {
		return a, err
	}
	var open []standing.Restriction
	for rows.Next() {
		r, err := scanRestriction(rows)
		if err != nil {
			rows.Close()
			return a, err
		}
		open = append(open, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return a, err
	}
	for _, r := range open {
		if _, _, err := t.endActive(r, standing.RestrictionLifted, "system", "email confirmed"); err != nil {
			return a, err
		}
	}
	if err := t.cancelJobs("verify-deadline:" + a.ID); err != nil {
		return a, err
	}
	err = t.recordOwnEvent(standing.Event{AccountID: a.ID, Type: standing.EventEmailVerified})
	return a, err
}

// Credentials returns the live account with the email and its password hash.
func (s *Store) Credentials(ctx context.Context, email string) (standing.Account, string, error) {
	var hash string
	row := s.queryRow(ctx, "SELECT "+accountColumns+", password_hash FROM accounts WHERE email = ? AND lifecycle <> 'erased'", email)
	var a standing.Account
	var verified sql.NullInt64
	var created, updated int64
	err := row.Scan(&a.ID, &a.ExternalID, &a.Role, &a.Email, &a.Name, &a.Phone, &a.Country, &a.Lifecycle, &verified, &created, &updated, &hash)
	if err == sql.ErrNoRows {
		return a, "", standing.Errorf(standing.ENOTFOUND, "no account with that email")
	}
	a.EmailVerifiedAt = fromNullTS(verified)
	a.CreatedAt, a.UpdatedAt = fromTS(created), fromTS(updated)
	return a, hash, translate(err)
}

// CreateSession stores a session and records the successful sign-in.
func (s *Store) CreateSession(ctx context.Context, se standing.Session) error {
	return s.write(ctx, func(t *tx) error {
		if _, err := t.exec(`INSERT INTO sessions (id, account_id, created_at, expires_at, last_seen_at, ip, user_agent)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, se.ID, se.AccountID, ts(se.CreatedAt), ts(se.ExpiresAt), ts(se.CreatedAt), se.IP, truncate(se.UserAgent, 300)); err != nil {
			return err
		}
		err := t.recordOwnEvent(standing.Event{AccountID: se.AccountID, Type: standing.EventLoginSucceeded, IP: se.IP})
		return err
	})
}

// Session returns a live session by the hash of its token: ENOTFOUND for an unknown,
// revoked or expired one.
func (s *Store) Session(ctx context.Context, id string) (standing.Session, error) {
	var se standing.Session
	var created, expires, seen int64
	var revoked sql.NullInt64
	err := s.queryRow(ctx, "SELECT id, account_id, created_at, expires_at, last_seen_at, ip, user_agent, revoked_at FROM sessions WHERE id = ?", id).
		Scan(&se.ID, &se.AccountID, &created, &expires, &seen, &se.IP, &se.UserAgent, &revoked)
	if err == sql.ErrNoRows {
		return se, standing.Errorf(standing.ENOTFOUND, "no such session")
	} else if err != nil {
		return se, translate(err)
	}
	se.CreatedAt, se.ExpiresAt, se.LastSeenAt, se.RevokedAt = fromTS(created), fromTS(expires), fromTS(seen), fromNullTS(revoked)
	if se.RevokedAt != nil || !s.clock.Now().Before(se.ExpiresAt) {
		return se, standing.Errorf(standing.ENOTFOUND, "the session ended; sign in again")
	}
	return se, nil
}

// RevokeSession ends one session (sign out).
func (s *Store) RevokeSession(ctx context.Context, id string) error {
	return s.write(ctx, func(t *tx) error {
		_, err := t.exec("UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", ts(t.now), id)
		return err
	})
}

// revokeSessions ends every session of an account.
func (t *tx) revokeSessions(accountID string) error {
	_, err := t.exec("UPDATE sessions SET revoked_at = ? WHERE account_id = ? AND revoked_at IS NULL", ts(t.now), accountID)
	return err
}

// ResetPassword uses a reset token: sets the new password hash, spends the token, ends
// every session of the account and mails the owner that the password changed.
func (s *Store) ResetPassword(ctx context.Context, secretHash, passwordHash string, notice func(a standing.Account) standing.Mail) (standing.Account, error) {
	var acc standing.Account
	err := s.write(ctx, func(t *tx) error {
		k, err := scanToken(t.queryRow("SELECT "+tokenColumns+" FROM tokens WHERE secret_hash = ? AND kind = 'reset'", secretHash))
		if err == sql.ErrNoRows {
			return standing.Errorf(standing.ENOTFOUND, "This reset link is not valid. Check that you copied all of it, or ask for a new one.")
		} else if err != nil {
			return err
		}
		if err := tokenProblem(k, t.now); err != nil {
			return err
		}
		a, err := t.accountForUpdate(k.AccountID)
		if err != nil {
			return err
		}
		if a.Lifecycle == standing.LifecycleErased {
			return standing.Errorf(standing.EGONE, "This account was deleted.")
		}
		// Spent before anything else changes: of two requests with one link, the second
		// finds it used (on PostgreSQL it waits for the first to commit).
		if err := t.useToken(k.ID, 0); err != nil {
			return err
		}
		if _, err := t.exec("UPDATE accounts SET password_hash = ?, updated_at = ? WHERE id = ?", passwordHash, ts(t.now), a.ID); err != nil {
			return err
		}
		if err := t.revokeSessions(a.ID); err != nil {
			return err
		}
		if _, err := t.queueMail(notice(a)); err != nil {
			return err
		}
		acc = a
		err = t.recordOwnEvent(standing.Event{AccountID: a.ID, Type: standing.EventPasswordChanged})
		return err
	})
	return acc, err
}

// VerificationDeadline puts email_unverified on the account if it is still unverified;
// it does nothing for a confirmed, closing or erased account or one already restricted
// for it. The job that runs it may run more than once.
func (s *Store) VerificationDeadline(ctx context.Context, accountID string) (bool, error) {
	added := false
	err := s.write(ctx, func(t *tx) error {
		a, err := t.accountForUpdate(accountID)
		if standing.ErrorCode(err) == standing.ENOTFOUND {
			return nil
		} else if err != nil {
			return err
		}
		if a.Lifecycle != standing.LifecycleUnverified || a.EmailVerifiedAt != nil {
			return nil
		}
		st, err := t.standing(a.ID)
		if err != nil {
			return err
		}
		for _, r := range st.Restrictions {
			if r.ReasonCode == standing.ReasonEmailUnverified {
				return nil
			}
		}
		_, err = t.restrict(a, &st, standing.NewRestriction{ReasonCode: standing.ReasonEmailUnverified,
			Source: standing.SourceSystem, Actor: "verification-deadline"})
		added = err == nil
		return err
	})
	return added, err
}
