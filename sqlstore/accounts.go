package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"

	"standing"
)

const accountColumns = `id, COALESCE(external_id, ''), role, COALESCE(email, ''), name, phone, country, lifecycle,
	email_verified_at, created_at, updated_at`

func scanAccount(row interface{ Scan(...any) error }) (standing.Account, error) {
	var a standing.Account
	var verified sql.NullInt64
	var created, updated int64
	err := row.Scan(&a.ID, &a.ExternalID, &a.Role, &a.Email, &a.Name, &a.Phone, &a.Country, &a.Lifecycle,
		&verified, &created, &updated)
	if err != nil {
		return a, err
	}
	a.EmailVerifiedAt = fromNullTS(verified)
	a.CreatedAt, a.UpdatedAt = fromTS(created), fromTS(updated)
	return a, nil
}

// Account returns the account with id; ENOTFOUND if there is none.
func (s *Store) Account(ctx context.Context, id string) (standing.Account, error) {
	a, err := scanAccount(s.queryRow(ctx, "SELECT "+accountColumns+" FROM accounts WHERE id = ?", id))
	if err == sql.ErrNoRows {
		return a, standing.Errorf(standing.ENOTFOUND, "no account %q", id)
	}
	return a, translate(err)
}

// AccountByEmail returns the live account with the normalised email; ENOTFOUND if none.
func (s *Store) AccountByEmail(ctx context.Context, email string) (standing.Account, error) {
	a, err := scanAccount(s.queryRow(ctx, "SELECT "+accountColumns+" FROM accounts WHERE email = ? AND lifecycle <> 'erased'", email))
	if err == sql.ErrNoRows {
		return a, standing.Errorf(standing.ENOTFOUND, "no account with that email")
	}
	return a, translate(err)
}

// accountForUpdate reads an account inside a write transaction, locking its row on
// PostgreSQL so that concurrent changes to one account's standing queue up.
func (t *tx) accountForUpdate(id string) (standing.Account, error) {
	q := "SELECT " + accountColumns + " FROM accounts WHERE id = ?"
	if t.s.dialect == Postgres {
		q += " FOR UPDATE"
	}
	a, err := scanAccount(t.queryRow(q, id))
	if err == sql.ErrNoRows {
		return a, standing.Errorf(standing.ENOTFOUND, "no account %q", id)
	}
	return a, err
}

// lockAccountOf runs read, which reads a row and returns the id of the account it belongs
// to, locks that account, and on PostgreSQL runs read again. Writers of an account's rows
// lock the account first, so what the first read saw may have been replaced while this
// transaction waited for the lock; decisions must rest on the second read. (On SQLite the
// write transaction already excludes every other writer.)
func (t *tx) lockAccountOf(read func() (accountID string, err error)) (standing.Account, error) {
	id, err := read()
	if err != nil {
		return standing.Account{}, err
	}
	a, err := t.accountForUpdate(id)
	if err != nil || t.s.dialect != Postgres {
		return a, err
	}
	_, err = read()
	return a, err
}

// changedRows reports whether a statement changed any row: a conditional write uses it to
// tell whether its condition still held.
func changedRows(res sql.Result, err error) (bool, error) {
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// CreateAccounts creates the accounts of a batch in one transaction; see
// standing.AccountWriter.
func (s *Store) CreateAccounts(ctx context.Context, in []standing.NewAccount, actor string) ([]standing.CreateResult, error) {
	results := make([]standing.CreateResult, len(in))
	err := s.write(ctx, func(t *tx) error {
		for i := range in {
			acc, rs, err := t.createAccount(&in[i], actor)
			if err != nil {
				if standing.ErrorCode(err) == standing.EINTERNAL {
					return err
				}
				results[i] = standing.CreateResult{Err: err}
				continue
			}
			results[i] = standing.CreateResult{Account: &acc, Restrictions: rs}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

func (t *tx) createAccount(n *standing.NewAccount, actor string) (standing.Account, []standing.Restriction, error) {
	now := t.now
	created := n.CreatedAt
	if created.IsZero() || created.After(now) {
		created = now
	}
	a := standing.Account{
		ID: standing.NewID("acc", created), ExternalID: n.ExternalID, Role: n.Role, Email: n.Email,
		Name: n.Name, Phone: n.Phone, Country: n.Country, Lifecycle: n.Lifecycle,
		CreatedAt: created.UTC(), UpdatedAt: now,
	}
	if a.Lifecycle == standing.LifecycleActive {
		v := created.UTC()
		a.EmailVerifiedAt = &v
	}
	// A failed item must leave nothing behind, and the batch's transaction commits the
	// items that succeeded: every check that can fail an item runs before its first write.
	for i, nr := range n.Restrictions {
		if a.Lifecycle == standing.LifecycleErased {
			return a, nil, standing.FieldErrorf(standing.EGONE, fmt.Sprintf("restrictions[%d]", i), "an erased account cannot be restricted")
		}
		if nr.Actor == "" {
			nr.Actor = actor
		}
		if _, err := nr.Resolve(t.s.policy(), a.ID, a.Role, now); err != nil {
			return a, nil, restrictionItemError(i, err)
		}
	}
	res, err := t.exec(`INSERT INTO accounts (id, external_id, role, email, name, phone, country, lifecycle,
		password_hash, email_verified_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		a.ID, nullString(a.ExternalID), a.Role, a.Email, a.Name, a.Phone, a.Country, a.Lifecycle,
		n.PasswordHash, nullTS(a.EmailVerifiedAt), ts(a.CreatedAt), ts(a.UpdatedAt))
	if err != nil {
		return a, nil, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		var field string
		if err := t.queryRow("SELECT 'email' FROM accounts WHERE email = ? AND lifecycle <> 'erased'", a.Email).Scan(&field); err == nil {
			return a, nil, standing.FieldErrorf(standing.ECONFLICT, "email", "an account with the email %s already exists", a.Email)
		}
		return a, nil, standing.FieldErrorf(standing.ECONFLICT, "external_id", "an account with the external_id %q already exists", a.ExternalID)
	}
	st := standing.Standing{AccountID: a.ID, Role: a.Role, Lifecycle: a.Lifecycle}
	if err := t.audit(standing.AuditEntry{AccountID: a.ID, Actor: actor, Action: standing.AuditAccountCreated,
		After: summaryJSON(&st)}); err != nil {
		return a, nil, err
	}
	var rs []standing.Restriction
	for i, nr := range n.Restrictions {
		if nr.Actor == "" {
			nr.Actor = actor
		}
		r, err := t.restrict(a, &st, nr)
		if err != nil {
			// Checked above, so this is not the item's fault; the account row is already
			// written, and only failing the whole batch keeps it from being half-created.
			return a, nil, fmt.Errorf("restriction %d of new account %s: %v", i, a.ID, err)
		}
		rs = append(rs, r)
	}
	t.touch(a.ID)
	return a, rs, nil
}

// restrictionItemError names restriction i of an imported account in err's field.
func restrictionItemError(i int, err error) error {
	if f := standing.ErrorField(err); f != "" {
		return standing.FieldErrorf(standing.ErrorCode(err), fmt.Sprintf("restrictions[%d].%s", i, f), "%s", standing.ErrorMessage(err))
	}
	return err
}

// setLifecycle moves an account to next, with an audit entry.
func (t *tx) setLifecycle(a *standing.Account, next standing.Lifecycle, actor, reason, personal string) error {
	st, err := t.standing(a.ID)
	if err != nil {
		return err
	}
	return t.setLifecycleOf(a, &st, next, actor, reason, personal)
}

// setLifecycleOf is setLifecycle for a caller that already read the account's standing.
func (t *tx) setLifecycleOf(a *standing.Account, st *standing.Standing, next standing.Lifecycle, actor, reason, personal string) error {
	if err := a.Lifecycle.Transition(next); err != nil {
		return err
	}
	before := summaryJSON(st)
	st.Lifecycle = next
	if _, err := t.exec("UPDATE accounts SET lifecycle = ?, updated_at = ? WHERE id = ?", next, ts(t.now), a.ID); err != nil {
		return err
	}
	a.Lifecycle = next
	t.s.riskChanged(a.ID) // the risk engine's copy of the account row
	t.touch(a.ID)
	return t.audit(standing.AuditEntry{AccountID: a.ID, Actor: actor, Action: standing.AuditLifecycleChanged,
		Reason: reason, Before: before, After: summaryJSON(st), Personal: personal})
}

// ChangeProfile makes a person's change of their own profile in one transaction; see
// standing.ProfileWriter. It writes the account row; records the identity details of the
// record before and after the change, so accounts sharing them are linked; appends an
// audit entry that keeps the values before and after as personal data (which an erasure
// clears); and records a profile_changed event, folded into the account's risk features.
func (s *Store) ChangeProfile(ctx context.Context, accountID string, c standing.ProfileChange, ip string, identity standing.AccountIdentity) (standing.Account, error) {
	var out standing.Account
	err := s.write(ctx, func(t *tx) error {
		a, err := t.accountForUpdate(accountID)
		if err != nil {
			return err
		}
		if a.Lifecycle == standing.LifecycleErased {
			return standing.Errorf(standing.EGONE, "account %s was erased", a.ID)
		}
		out = a
		after, changed := c.Apply(a)
		if len(changed) == 0 {
			return nil
		}
		after.UpdatedAt = t.now
		if _, err := t.exec("UPDATE accounts SET name = ?, phone = ?, country = ?, updated_at = ? WHERE id = ?",
			after.Name, after.Phone, after.Country, ts(after.UpdatedAt), a.ID); err != nil {
			return err
		}
		out = after
		if identity != nil {
			// The details the account had until now are recorded too: the risk engine
			// records an account record's own details when it first writes the account's
			// features, which this change may now have done instead. Details the account
			// used before stay on record, as every detail it was ever seen with does.
			ir, err := t.addIdentity(a.ID, append(identity(a), identity(after)...))
			if err != nil {
				return err
			}
			t.s.riskChanged(ir.linked...)
		}
		personal, err := json.Marshal(map[string]map[string]string{
			"before": standing.ProfileValues(a, changed), "after": standing.ProfileValues(after, changed)})
		if err != nil {
			return err
		}
		if err := t.audit(standing.AuditEntry{AccountID: a.ID, Actor: "self", Action: standing.AuditProfileChanged,
			Reason: "changed " + strings.Join(changed, ", "), Personal: string(personal)}); err != nil {
			return err
		}
		if _, err := netip.ParseAddr(ip); err != nil {
			ip = "" // not an address the risk features can use
		}
		ev := standing.Event{ID: standing.NewID("evt", t.now), AccountID: a.ID, Type: standing.EventProfileChanged,
			Time: t.now, IP: ip, Attributes: attrs(map[string]any{"fields": changed})}
		if err := t.recordOwnEvent(ev); err != nil {
			return err
		}
		t.s.riskForget(a.ID) // the account row, and an event the features count
		t.touch(a.ID)
		return nil
	})
	return out, err
}
