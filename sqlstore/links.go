package sqlstore

import (
	"context"
	"database/sql"
	"slices"
	"sort"
	"strings"
	"time"

	"standing"
)

// maxLinksPerDetail bounds the accounts one new detail links to: a detail shared by more
// accounts than this (a shop's device, a parcel locker) says little about any of them.
const maxLinksPerDetail = 50

// identityResult is what recording identity details found.
type identityResult struct {
	linked []string // accounts linked to this one for the first time
	denied int      // new details that are on the deny list
}

// addIdentity records identity details of an account. A strong detail new to the account
// that other accounts have links them (a row each way); one on the deny list of erased
// accounts raises the account's denied count.
func (t *tx) addIdentity(accountID string, attrs []standing.IdentityAttribute) (identityResult, error) {
	var out identityResult
	for _, a := range attrs {
		if a.Hash == "" || !a.Kind.Valid() {
			continue
		}
		res, err := t.exec(`INSERT INTO identity_attributes (account_id, kind, value_hash, display, first_seen)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, accountID, a.Kind, a.Hash, a.Display, ts(t.now))
		if err != nil {
			return out, err
		}
		if n, _ := res.RowsAffected(); n == 0 || !a.Kind.Strong() {
			continue
		}
		rows, err := t.query("SELECT account_id FROM identity_attributes WHERE kind = ? AND value_hash = ? AND account_id <> ? LIMIT ?",
			a.Kind, a.Hash, accountID, maxLinksPerDetail)
		if err != nil {
			return out, err
		}
		var others []string
		for rows.Next() {
			var o string
			if err := rows.Scan(&o); err != nil {
				rows.Close()
				return out, err
			}
			others = append(others, o)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return out, err
		}
		for _, o := range others {
			res, err := t.exec("INSERT INTO account_links (account_id, other_id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", accountID, o, ts(t.now))
			if err != nil {
				return out, err
			}
			if n, _ := res.RowsAffected(); n == 1 {
				out.linked = append(out.linked, o)
			}
			if _, err := t.exec("INSERT INTO account_links (account_id, other_id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", o, accountID, ts(t.now)); err != nil {
				return out, err
			}
		}
		var one int
		err = t.queryRow("SELECT 1 FROM identity_denylist WHERE kind = ? AND value_hash = ?", a.Kind, a.Hash).Scan(&one)
		if err == nil {
			out.denied++
			if _, err := t.exec(`INSERT INTO account_risk (account_id, state, denied, updated_at) VALUES (?, '{}', 1, ?)
				ON CONFLICT (account_id) DO UPDATE SET denied = account_risk.denied + 1`, accountID, ts(t.now)); err != nil {
				return out, err
			}
		} else if err != sql.ErrNoRows {
			return out, err
		}
	}
	return out, nil
}

// querier runs constant queries: a write transaction, or the read pool.
type querier interface {
	query(query string, args ...any) (*sql.Rows, error)
	queryRow(query string, args ...any) *sql.Row
}

// reader runs queries on the store's read pool.
type reader struct {
	s   *Store
	ctx context.Context
}

func (r reader) query(q string, args ...any) (*sql.Rows, error) { return r.s.query(r.ctx, q, args...) }
func (r reader) queryRow(q string, args ...any) *sql.Row        { return r.s.queryRow(r.ctx, q, args...) }

// linkFacts counts an account's linked accounts and those whose active restrictions carry
// one of the flagging reasons.
func linkFacts(q querier, accountID string, flagging []string) (linked, flagged int, err error) {
	rows, err := q.query(`SELECT l.other_id, COALESCE(r.reason_code, '') FROM account_links l
		LEFT JOIN restrictions r ON r.account_id = l.other_id AND r.state = 'active'
		WHERE l.account_id = ? ORDER BY l.other_id`, accountID)
	if err != nil {
		return 0, 0, err
	}
	defer rows.Close()
	last, lastFlagged := "", false
	for rows.Next() {
		var other, reason string
		if err := rows.Scan(&other, &reason); err != nil {
			return 0, 0, err
		}
		if other != last {
			linked++
			last, lastFlagged = other, false
		}
		if !lastFlagged && slices.Contains(flagging, reason) {
			flagged++
			lastFlagged = true
		}
	}
	return linked, flagged, rows.Err()
}

// Links returns the accounts linked to accountID with the details they share; see
// standing.LinkReader.
func (s *Store) Links(ctx context.Context, accountID string) ([]standing.Link, error) {
	if _, err := s.Account(ctx, accountID); err != nil {
		return nil, err
	}
	flagging := s.policy().Reregistration.DenyListReasons
	rows, err := s.query(ctx, `SELECT l.other_id, l.created_at, a.role, a.lifecycle FROM account_links l
		JOIN accounts a ON a.id = l.other_id WHERE l.account_id = ? ORDER BY l.created_at, l.other_id`, accountID)
	if err != nil {
		return nil, translate(err)
	}
	out := []standing.Link{}
	index := map[string]int{}
	for rows.Next() {
		var l standing.Link
		var created int64
		if err := rows.Scan(&l.AccountID, &created, &l.Role, &l.Lifecycle); err != nil {
			rows.Close()
			return nil, translate(err)
		}
		l.CreatedAt, l.Restricted, l.Shared = fromTS(created), []string{}, []standing.SharedDetail{}
		index[l.AccountID] = len(out)
		out = append(out, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(out) == 0 {
		return out, translate(err)
	}
	rows, err = s.query(ctx, `SELECT o.account_id, m.kind, m.display, m.first_seen, o.first_seen FROM identity_attributes m
		JOIN identity_attributes o ON o.kind = m.kind AND o.value_hash = m.value_hash AND o.account_id <> m.account_id
		WHERE m.account_id = ? ORDER BY m.kind`, accountID)
	if err != nil {
		return nil, translate(err)
	}
	for rows.Next() {
		var other string
		var d standing.SharedDetail
		var mine, theirs int64
		if err := rows.Scan(&other, &d.Kind, &d.Display, &mine, &theirs); err != nil {
			rows.Close()
			return nil, translate(err)
		}
		i, ok := index[other]
		if !ok {
			continue // shares only a name, or a detail shared too widely to link on
		}
		d.Strong, d.Since = d.Kind.Strong(), fromTS(max(mine, theirs))
		out[i].Shared = append(out[i].Shared, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, translate(err)
	}
	rows, err = s.query(ctx, `SELECT r.account_id, r.reason_code FROM restrictions r
		JOIN account_links l ON l.other_id = r.account_id WHERE l.account_id = ? AND r.state = 'active'`, accountID)
	if err != nil {
		return nil, translate(err)
	}
	for rows.Next() {
		var other, reason string
		if err := rows.Scan(&other, &reason); err != nil {
			rows.Close()
			return nil, translate(err)
		}
		if i, ok := index[other]; ok && !slices.Contains(out[i].Restricted, reason) {
			out[i].Restricted = append(out[i].Restricted, reason)
			out[i].Flagged = out[i].Flagged || slices.Contains(flagging, reason)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, translate(err)
	}
	for i := range out {
		sort.Strings(out[i].Restricted)
		out[i].Because = explainLink(out[i])
	}
	return out, nil
}

// explainLink says in words why two accounts are linked.
func explainLink(l standing.Link) string {
	var parts []string
	for _, d := range l.Shared {
		parts = append(parts, "the same "+d.Kind.Words()+" ("+d.Display+") since "+d.Since.UTC().Format(time.DateOnly))
	}
	s := "Both accounts use " + strings.Join(parts, ", ") + "."
	if len(parts) == 0 {
		s = "The accounts shared an identity detail that is no longer on record."
	}
	if len(l.Restricted) > 0 {
		s += " The other account is restricted (" + strings.Join(l.Restricted, ", ") + ")."
	}
	return s
}

// DenyListHits returns how many of the account's identity details matched the deny list.
func (s *Store) DenyListHits(ctx context.Context, accountID string) (int, error) {
	var n int
	err := s.queryRow(ctx, "SELECT denied FROM account_risk WHERE account_id = ?", accountID).Scan(&n)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	return n, translate(err)
}
