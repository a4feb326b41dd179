package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"standing"
)

const restrictionColumns = `id, account_id, reason_code, title, removes, source, actor, note, severity, appealable,
	message, remedy, starts_at, ends_at, state, ended_at, ended_by, end_note, rule_id, order_id, created_at`

func scanRestriction(row interface{ Scan(...any) error }) (standing.Restriction, error) {
	var r standing.Restriction
	var removes int64
	var appealable int
	var starts, created int64
	var ends, ended sql.NullInt64
	err := row.Scan(&r.ID, &r.AccountID, &r.ReasonCode, &r.Title, &removes, &r.Source, &r.Actor, &r.Note,
		&r.Severity, &appealable, &r.Message, &r.Remedy, &starts, &ends, &r.State, &ended, &r.EndedBy,
		&r.EndNote, &r.RuleID, &r.OrderID, &created)
	if err != nil {
		return r, err
	}
	r.Removes = standing.CapabilitySet(removes)
	r.Appealable = appealable != 0
	r.StartsAt, r.CreatedAt = fromTS(starts), fromTS(created)
	r.EndsAt, r.EndedAt = fromNullTS(ends), fromNullTS(ended)
	return r, nil
}

// standingQuery reads an account's lifecycle and its active restrictions in one statement:
// one row per restriction, or one row with NULL restriction columns when it has none.
var standingQuery = `SELECT a.role, a.lifecycle, ` + prefixed("r.", restrictionColumns) + `
	FROM accounts a LEFT JOIN restrictions r ON r.account_id = a.id AND r.state = 'active'
	WHERE a.id = ?`

func prefixed(p, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

// standing reads an account's lifecycle and its active restrictions inside the transaction.
func (t *tx) standing(accountID string) (standing.Standing, error) {
	rows, err := t.query(standingQuery, accountID)
	if err != nil {
		return standing.Standing{}, err
	}
	return scanStanding(rows, accountID)
}

// scanStanding reads the rows of standingQuery.
func scanStanding(rows *sql.Rows, accountID string) (standing.Standing, error) {
	st := standing.Standing{AccountID: accountID}
	defer rows.Close()
	found := false
	for rows.Next() {
		found = true
		var (
			id, accID, reason, title, source, actor, note, message, remedy, state, endedBy, endNote, ruleID, orderID sql.NullString
			removes, severity, appealable, starts, ends, ended, created                                              sql.NullInt64
		)
		if err := rows.Scan(&st.Role, &st.Lifecycle, &id, &accID, &reason, &title, &removes, &source, &actor, &note,
			&severity, &appealable, &message, &remedy, &starts, &ends, &state, &ended, &endedBy, &endNote, &ruleID,
			&orderID, &created); err != nil {
			return st, err
		}
		if !id.Valid {
			continue
		}
		st.Restrictions = append(st.Restrictions, standing.Restriction{
			ID: id.String, AccountID: accID.String, ReasonCode: reason.String, Title: title.String,
			Removes: standing.CapabilitySet(removes.Int64), Source: standing.Source(source.String), Actor: actor.String,
			Note: note.String, Severity: int(severity.Int64), Appealable: appealable.Int64 != 0, Message: message.String,
			Remedy: remedy.String, StartsAt: fromTS(starts.Int64), EndsAt: fromNullTS(ends),
			State: standing.RestrictionState(state.String), EndedAt: fromNullTS(ended), EndedBy: endedBy.String,
			EndNote: endNote.String, RuleID: ruleID.String, OrderID: orderID.String, CreatedAt: fromTS(created.Int64),
		})
	}
	if err := rows.Err(); err != nil {
		return st, err
	}
	if !found {
		return st, standing.Errorf(standing.ENOTFOUND, "no account %q", accountID)
	}
	standing.SortRestrictions(st.Restrictions)
	return st, nil
}

// Standing returns the account's lifecycle and active restrictions, most severe first.
func (s *Store) Standing(ctx context.Context, accountID string) (standing.Standing, error) {
	rows, err := s.query(ctx, standingQuery, accountID)
	if err != nil {
		return standing.Standing{}, translate(err)
	}
	st, err := scanStanding(rows, accountID)
	return st, translate(err)
}

// Restriction returns one restriction; ENOTFOUND if there is none.
func (s *Store) Restriction(ctx context.Context, id string) (standing.Restriction, error) {
	r, err := scanRestriction(s.queryRow(ctx, "SELECT "+restrictionColumns+" FROM restrictions WHERE id = ?", id))
	if err == sql.ErrNoRows {
		return r, standing.Errorf(standing.ENOTFOUND, "no restriction %q", id)
	}
	return r, translate(err)
}

// Restrictions returns the account's restrictions, newest first; ended ones too if all.
func (s *Store) Restrictions(ctx context.Context, accountID string, all bool) ([]standing.Restriction, error) {
	q := "SELECT " + restrictionColumns + " FROM restrictions WHERE account_id = ?"
	if !all {
		q += " AND state = 'active'"
	}
	rows, err := s.query(ctx, q+" ORDER BY created_at DESC, id DESC", accountID)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	out := []standing.Restriction{}
	for rows.Next() {
		r, err := scanRestriction(rows)
		if err != nil {
			return nil, translate(err)
		}
		out = append(out, r)
	}
	return out, translate(rows.Err())
}

// Restrict puts a restriction on an account; see standing.Enforcer.
func (s *Store) Restrict(ctx context.Context, accountID string, nr standing.NewRestriction) (standing.Restriction, error) {
	var out standing.Restriction
	err := s.write(ctx, func(t *tx) error {
		a, err := t.accountForUpdate(accountID)
		if err != nil {
			return err
		}
		st, err := t.standing(accountID)
		if err != nil {
			return err
		}
		out, err = t.restrict(a, &st, nr)
		return err
	})
	return out, err
}

// restrict writes a restriction on a (whose standing st it updates) with its audit entry.
func (t *tx) restrict(a standing.Account, st *standing.Standing, nr standing.NewRestriction) (standing.Restriction, error) {
	if a.Lifecycle == standing.LifecycleErased {
		return standing.Restriction{}, standing.Errorf(standing.EGONE, "account %s was erased; it cannot be restricted", a.ID)
	}
	r, err := nr.Resolve(t.s.policy(), a.ID, a.Role, t.now)
	if err != nil {
		return r, err
	}
	r.ID = standing.NewID("rst", t.now)
	before := summaryJSON(st)
	_, err = t.exec(`INSERT INTO restrictions (`+restrictionColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.AccountID, r.ReasonCode, r.Title, int64(r.Removes), r.Source, r.Actor, r.Note, r.Severity,
		boolInt(r.Appealable), r.Message, r.Remedy, ts(r.StartsAt), nullTS(r.EndsAt), r.State, nullTS(r.EndedAt),
		r.EndedBy, r.EndNote, r.RuleID, r.OrderID, ts(r.CreatedAt))
	if err != nil {
		return r, err
	}
	st.Restrictions = append(st.Restrictions, r)
	standing.SortRestrictions(st.Restrictions)
	t.touch(a.ID)
	if err := t.mailRestriction(a, r); err != nil {
		return r, err
	}
	if err := t.emit(standing.WebhookAccountRestricted, a.ID, restrictionData(r)); err != nil {
		return r, err
	}
	actor := r.Actor
	if r.Source == standing.SourceRule && r.RuleID != "" {
		actor = "rule:" + r.RuleID
	}
	err = t.audit(standing.AuditEntry{AccountID: a.ID, Actor: actor,
		Action: standing.AuditRestrictionAdded, SubjectID: r.ID, Reason: r.ReasonCode,
		Before: before, After: summaryJSON(st), Personal: r.Note})
	return r, err
}

// Lift ends a restriction; see standing.Enforcer.
func (s *Store) Lift(ctx context.Context, id string, l standing.LiftRequest) (standing.Restriction, error) {
	if err := l.Validate(); err != nil {
		return standing.Restriction{}, err
	}
	var out standing.Restriction
	err := s.write(ctx, func(t *tx) error {
		r, err := scanRestriction(t.queryRow("SELECT "+restrictionColumns+" FROM restrictions WHERE id = ?", id))
		if err == sql.ErrNoRows {
			return standing.Errorf(standing.ENOTFOUND, "no restriction %q", id)
		} else if err != nil {
			return err
		}
		out, err = t.end(r, standing.RestrictionLifted, l.Actor, l.Note)
		return err
	})
	return out, err
}

// end moves an active restriction to lifted or expired, with an audit entry; ECONFLICT
// if it ended already.
func (t *tx) end(r standing.Restriction, state standing.RestrictionState, actor, note string) (standing.Restriction, error) {
	r, ended, err := t.endActive(r, state, actor, note)
	if err != nil || ended {
		return r, err
	}
	at := ""
	if r.EndedAt != nil {
		at = " at " + standing.FormatTime(*r.EndedAt)
	}
	return r, standing.Errorf(standing.ECONFLICT, "restriction %s already ended (%s%s)", r.ID, r.State, at)
}

// endActive is end for a caller that wants the restriction ended and is content when it
// already is: it reports false, and changes nothing, for a restriction that is no longer
// active. r may have been read before its account was locked, so it is only a reference:
// on PostgreSQL a concurrent transaction can end it while this one waits for the lock,
// and ending it twice would send a second webhook and audit entry.
func (t *tx) endActive(r standing.Restriction, state standing.RestrictionState, actor, note string) (standing.Restriction, bool, error) {
	if _, err := t.accountForUpdate(r.AccountID); err != nil {
		return r, false, err
	}
	st, err := t.standing(r.AccountID)
	if err != nil {
		return r, false, err
	}
	i := slices.IndexFunc(st.Restrictions, func(x standing.Restriction) bool { return x.ID == r.ID })
	if i < 0 {
		cur, err := scanRestriction(t.queryRow("SELECT "+restrictionColumns+" FROM restrictions WHERE id = ?", r.ID))
		return cur, false, err
	}
	r = st.Restrictions[i]
	before := summaryJSON(&st)
	endedAt := t.now
	action := standing.AuditRestrictionLifted
	if state == standing.RestrictionExpired {
		action = standing.AuditRestrictionExpired
		if r.EndsAt != nil && r.EndsAt.Before(endedAt) {
			endedAt = *r.EndsAt
		}
	}
	ok, err := changedRows(t.exec("UPDATE restrictions SET state = ?, ended_at = ?, ended_by = ?, end_note = ? WHERE id = ? AND state = 'active'",
		state, ts(endedAt), actor, note, r.ID))
	if err != nil {
		return r, false, err
	}
	if !ok {
		// Ended by a writer that did not lock the account first; nothing was written here.
		cur, err := scanRestriction(t.queryRow("SELECT "+restrictionColumns+" FROM restrictions WHERE id = ?", r.ID))
		return cur, false, err
	}
	r.State, r.EndedAt, r.EndedBy, r.EndNote = state, &endedAt, actor, note
	st.Restrictions = slices.Delete(st.Restrictions, i, i+1)
	t.touch(r.AccountID)
	hook := standing.WebhookRestrictionLifted
	if state == standing.RestrictionExpired {
		hook = standing.WebhookRestrictionExpired
	}
	if err := t.emit(hook, r.AccountID, restrictionData(r)); err != nil {
		return r, false, err
	}
	err = t.audit(standing.AuditEntry{AccountID: r.AccountID, Actor: actor, Action: action, SubjectID: r.ID,
		Reason: r.ReasonCode, Before: before, After: summaryJSON(&st), Personal: note})
	return r, err == nil, err
}

// ExpireRestrictions marks restrictions whose end passed as expired; see standing.Enforcer.
func (s *Store) ExpireRestrictions(ctx context.Context, now time.Time) (int, error) {
	total := 0
	for {
		var due []standing.Restriction
		n := 0
		err := s.write(ctx, func(t *tx) error {
			rows, err := t.query("SELECT "+restrictionColumns+" FROM restrictions WHERE state = 'active' AND ends_at IS NOT NULL AND ends_at <= ? ORDER BY ends_at LIMIT 200", ts(now))
			if err != nil {
				return err
			}
			for rows.Next() {
				r, err := scanRestriction(rows)
				if err != nil {
					rows.Close()
					return err
				}
				due = append(due, r)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			for _, r := range due {
				// A restriction lifted since the query was read is skipped, not expired too.
				_, ended, err := t.endActive(r, standing.RestrictionExpired, "system", "")
				if err != nil {
					return err
				}
				if ended {
					n++
				}
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		total += n
		if len(due) < 200 {
			return total, nil
		}
	}
}

func summaryJSON(st *standing.Standing) string {
	b, _ := json.Marshal(st.Summarize())
	return string(b)
}

// EachStanding streams every live account's standing: two ordered scans (accounts, active
// restrictions) merged by account id, so warming a million accounts reads each row once.
func (s *Store) EachStanding(ctx context.Context, fn func(st standing.Standing) error) error {
	accRows, err := s.r.QueryContext(ctx, "SELECT id, role, lifecycle FROM accounts ORDER BY id")
	if err != nil {
		return translate(err)
	}
	defer accRows.Close()
	rRows, err := s.r.QueryContext(ctx, "SELECT "+restrictionColumns+" FROM restrictions WHERE state = 'active' ORDER BY account_id")
	if err != nil {
		return translate(err)
	}
	defer rRows.Close()
	var pending *standing.Restriction
	nextRestriction := func() error {
		pending = nil
		if rRows.Next() {
			r, err := scanRestriction(rRows)
			if err != nil {
				return err
			}
			pending = &r
		}
		return rRows.Err()
	}
	if err := nextRestriction(); err != nil {
		return translate(err)
	}
	for accRows.Next() {
		st := standing.Standing{}
		if err := accRows.Scan(&st.AccountID, &st.Role, &st.Lifecycle); err != nil {
			return translate(err)
		}
		for pending != nil && pending.AccountID < st.AccountID {
			if err := nextRestriction(); err != nil { // a restriction of a vanished account
				return translate(err)
			}
		}
		for pending != nil && pending.AccountID == st.AccountID {
			st.Restrictions = append(st.Restrictions, *pending)
			if err := nextRestriction(); err != nil {
				return translate(err)
			}
		}
		standing.SortRestrictions(st.Restrictions)
		if err := fn(st); err != nil {
			return err
		}
	}
	return translate(accRows.Err())
}

// mailRestriction tells the person about a new restriction: why, what still works, what to
// do, and until when. Accounts without an email (erased) get nothing.
func (t *tx) mailRestriction(a standing.Account, r standing.Restriction) error {
	if a.Email == "" || a.Lifecycle == standing.LifecycleErased || r.ReasonCode == standing.ReasonSelfDeleted {
		return nil
	}
	until := "It lasts until it is lifted."
	if r.EndsAt != nil {
		until = "It ends by itself on " + standing.FormatTime(*r.EndsAt) + "."
	}
	still := r.Removes.Complement()
	text := "Hello,\n\n" + r.Message + "\n\n" +
		"What still works: you can still " + still.Words() + ".\n" +
		"What you can do: " + r.Remedy + "\n" + until + "\n\n" +
		"Your account page shows every restriction and what to do about it: " + t.s.baseURL + "/account\n"
	if r.Appealable {
		text += "\nYou can appeal this decision from your account page; a person reviews every appeal.\n"
	}
	_, err := t.queueMail(standing.Mail{AccountID: a.ID, To: a.Email, Kind: "restriction",
		Subject: r.Title + ": what it means for your account", Text: text})
	return err
}

// StatementSource is a restriction with what a statement of reasons needs of its account.
type StatementSource struct {
	Restriction    standing.Restriction
	AccountCreated time.Time
	Role           standing.Role
}

// StatementSources returns restrictions created at or after since, in id order after the
// cursor after, at most limit: the input of the statements-of-reasons export.
func (s *Store) StatementSources(ctx context.Context, since time.Time, after string, limit int) ([]StatementSource, error) {
	rows, err := s.query(ctx, `SELECT `+prefixed("r.", restrictionColumns)+`, a.created_at, a.role
		FROM restrictions r JOIN accounts a ON a.id = r.account_id
		WHERE r.created_at >= ? AND r.id > ? ORDER BY r.id LIMIT ?`, ts(since), after, limit)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var out []StatementSource
	for rows.Next() {
		var src StatementSource
		var created int64
		r := &src.Restriction
		var removes int64
		var appealable, starts, rcreated int64
		var ends, ended sql.NullInt64
		if err := rows.Scan(&r.ID, &r.AccountID, &r.ReasonCode, &r.Title, &removes, &r.Source, &r.Actor, &r.Note,
			&r.Severity, &appealable, &r.Message, &r.Remedy, &starts, &ends, &r.State, &ended, &r.EndedBy,
			&r.EndNote, &r.RuleID, &r.OrderID, &rcreated, &created, &src.Role); err != nil {
			return nil, translate(err)
		}
		r.Removes, r.Appealable = standing.CapabilitySet(removes), appealable != 0
		r.StartsAt, r.CreatedAt, r.EndsAt, r.EndedAt = fromTS(starts), fromTS(rcreated), fromNullTS(ends), fromNullTS(ended)
		src.AccountCreated = fromTS(created)
		out = append(out, src)
	}
	return out, translate(rows.Err())
}
