package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/netip"
	"time"

	"standing"
)

// recordEvent stores an event in the transaction, with the facts of its IP. An event whose
// id is already stored is left as it was, and recordEvent reports false.
func (t *tx) recordEvent(in *standing.EventInput) (bool, error) {
	attrs := string(in.Attributes)
	if attrs == "" {
		attrs = "{}"
	}
	args := []any{in.ID, nullString(in.AccountID), in.Type, ts(in.Time), ts(in.ReceivedAt), in.IP, in.DeviceID, attrs,
		in.Country, int64(in.ASN), in.IPFlags.Bits()}
	query := `INSERT INTO events (id, account_id, type, occurred_at, received_at, ip, device_id, attributes, country, asn, ip_flags)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`
	var row int64
	if t.s.dialect == SQLite {
		var err error
		if row, err = t.nextEventRow(); err != nil {
			return false, err
		}
		args = append([]any{row}, args...)
		query = `INSERT INTO events (rowid, id, account_id, type, occurred_at, received_at, ip, device_id, attributes, country, asn, ip_flags)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`
	}
	res, err := t.exec(query, args...)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	if n == 1 {
		if err := t.indexLater(in.AccountID, row, in.Type, ts(in.Time)); err != nil {
			return false, err
		}
	}
	return n == 1, nil
}

// recordOwnEvent stores an event Standing records itself — a sign-up, a sign-in or a
// failed one, a profile change — with the country, network and anonymizer flags of its IP,
// and, for an account's event, folds it into the account's risk features (foldEvent), so
// that the rules see it in the features of the account's next event, as they see the
// marketplace's events.
func (t *tx) recordOwnEvent(e standing.Event) error {
	if e.ID == "" {
		e.ID = standing.NewID("evt", t.now)
	}
	if e.Time.IsZero() {
		e.Time = t.now
	}
	if e.ReceivedAt.IsZero() {
		e.ReceivedAt = t.now
	}
	in := standing.EventInput{Event: e}
	if ip, err := netip.ParseAddr(in.IP); err == nil {
		if r := t.s.risk(); r != nil && r.ipFacts != nil {
			r.ipFacts(&in, ip)
		}
	}
	stored, err := t.recordEvent(&in)
	if err != nil || !stored || e.AccountID == "" {
		return err
	}
	return t.foldEvent(&in)
}

// RecordEvent stores one event on its own (a sign-in failure, say) and folds an account's
// event into its risk features.
func (s *Store) RecordEvent(ctx context.Context, e standing.Event) error {
	if err := s.write(ctx, func(t *tx) error { return t.recordOwnEvent(e) }); err != nil {
		return err
	}
	// The event is stored; a flush that fails now is tried again with the next events.
	if err := s.flushEventIndex(ctx, false); err != nil {
		s.log.Error("index events by account", "err", err)
	}
	return nil
}

// CountEvents counts events of a type since a time, for an account (accountID not empty)
// or from an IP (ip not empty; failed sign-ins only, the one type indexed by IP).
func (s *Store) CountEvents(ctx context.Context, accountID, ip, typ string, since time.Time) (int, time.Time, error) {
	var n int
	var last *int64
	var err error
	if accountID != "" && s.dialect == SQLite {
		n, last, err = s.countAccountEvents(ctx, accountID, typ, since)
	} else if accountID != "" {
		err = s.queryRow(ctx, "SELECT COUNT(*), MAX(occurred_at) FROM events WHERE account_id = ? AND type = ? AND occurred_at > ?", accountID, typ, ts(since)).Scan(&n, &last)
	} else {
		if typ != standing.EventLoginFailed {
			// Only failed sign-ins are indexed by IP (events_ip_login_failed).
			return 0, time.Time{}, fmt.Errorf("sqlstore: events are counted by IP for %s only, not %s", standing.EventLoginFailed, typ)
		}
		err = s.queryRow(ctx, "SELECT COUNT(*), MAX(occurred_at) FROM events WHERE ip = ? AND type = 'login_failed' AND occurred_at > ?", ip, ts(since)).Scan(&n, &last)
	}
	var lastAt time.Time
	if last != nil {
		lastAt = fromTS(*last)
	}
	return n, lastAt, translate(err)
}

// countAccountEvents counts an account's events of a type since a time on SQLite, through
// event_segments and the tail (eventindex.go).
func (s *Store) countAccountEvents(ctx context.Context, accountID, typ string, since time.Time) (int, *int64, error) {
	q := reader{s, ctx}
	after := ts(since)
	rows, err := accountEventRows(q, s, accountID, "last_at > ?", []any{after},
		func(ev tailEvent) bool { return ev.typ == typ && ev.at > after })
	if err != nil || len(rows) == 0 {
		return 0, nil, err
	}
	n, last := 0, int64(0)
	err = fetchAccountEvents(q, accountID, rows, "type, occurred_at", func(r *sql.Rows) error {
		var t string
		var at int64
		if err := r.Scan(&t, &at); err != nil {
			return err
		}
		if t == typ && at > after {
			n++
			last = max(last, at)
		}
		return nil
	})
	if err != nil || n == 0 {
		return 0, nil, err
	}
	return n, &last, nil
}

func attrs(v map[string]any) json.RawMessage {
	if len(v) == 0 {
		return nil
	}
	b, _ := json.Marshal(v)
	return b
}

// SweepEvents deletes events that occurred before the time (the policy's event retention),
// with their rule hits, a chunk per transaction so writers are never held up for long. It
// returns how many events it deleted.
func (s *Store) SweepEvents(ctx context.Context, before time.Time) (int, error) {
	total := 0
	for {
		var n int
		err := s.write(ctx, func(t *tx) error {
			var err error
			n, err = t.sweepEvents(before, sweepChunk)
			return err
		})
		if err != nil {
			return total, err
		}
		total += n
		if n < sweepChunk {
			break
		}
	}
	_, err := s.sweep(ctx, "DELETE FROM rule_hits WHERE at < ?", ts(before))
	return total, err
}

// sweepChunk is how many events one transaction of SweepEvents deletes at most.
const sweepChunk = 5000

// sweepEvents deletes up to limit events that occurred before the time. On SQLite, where
// feature states are written behind the events (eventrows.go), it first keeps the highest
// rowid in use, and saves the state of each account whose stored state does not count its
// events about to go yet, so deleting them does not take them out of its features. All in
// the deleting transaction: an event stored meanwhile, however old its time, is either
// counted or not deleted.
func (t *tx) sweepEvents(before time.Time, limit int) (int, error) {
	if t.s.dialect != SQLite {
		res, err := t.exec("DELETE FROM events WHERE id IN (SELECT id FROM events WHERE occurred_at < ? LIMIT ?)", ts(before), limit)
		if err != nil {
			return 0, err
		}
		n, _ := res.RowsAffected()
		return int(n), nil
	}
	if err := t.keepEventRowFloor(); err != nil {
		return 0, err
	}
	rows, err := t.query(`SELECT e.rowid, e.account_id, e.type, e.occurred_at, COALESCE(r.through, 0) FROM events e
		LEFT JOIN account_risk r ON r.account_id = e.account_id WHERE e.occurred_at < ? LIMIT ?`, ts(before), limit)
	if err != nil {
		return 0, err
	}
	var doomed, accounts []any // events rows; their accounts
	var lagging []string
	seen, hasEvents := map[string]bool{}, map[string]bool{}
	for rows.Next() {
		var row, at, through int64
		var account sql.NullString
		var typ string
		if err := rows.Scan(&row, &account, &typ, &at, &through); err != nil {
			rows.Close()
			return 0, err
		}
		doomed = append(doomed, row)
		if account.Valid && !hasEvents[account.String] {
			hasEvents[account.String] = true
			accounts = append(accounts, account.String)
		}
		if account.Valid && row > through && !seen[account.String] {
			seen[account.String] = true
			lagging = append(lagging, account.String)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, id := range lagging {
		ra, err := loadRiskAccount(t, t.s, id, true, true)
		if err != nil {
			return 0, err
		}
		if err := saveRiskStates(t, []any{id, string(ra.state.AppendJSON(nil)), ts(t.now), ra.through}); err != nil {
			return 0, err
		}
	}
	t.s.riskForget(lagging...)
	n := len(doomed)
	for len(doomed) > 0 {
		k := chunkOf(len(doomed), maxRowsPerInsert*8)
		if _, err := t.exec("DELETE FROM events WHERE rowid IN "+valuesList(1, k, nil), doomed[:k]...); err != nil {
			return 0, err
		}
		doomed = doomed[k:]
	}
	// The accounts' segments whose events are all older go too. A segment with newer
	// events stays, listing rows that are gone, until they all are.
	for len(accounts) > 0 {
		k := chunkOf(len(accounts), maxRowsPerInsert*8)
		if _, err := t.exec("DELETE FROM event_segments WHERE last_at < ? AND account_id IN "+valuesList(1, k, nil),
			append([]any{ts(before)}, accounts[:k]...)...); err != nil {
			return 0, err
		}
		accounts = accounts[k:]
	}
	return n, nil
}

// Event returns one stored event with the decision taken on it; ENOTFOUND if none.
func (s *Store) Event(ctx context.Context, id string) (standing.Event, *standing.EventDecision, error) {
	var e standing.Event
	var account sql.NullString
	var at, received int64
	var attrs, result string
	err := s.queryRow(ctx, "SELECT id, account_id, type, occurred_at, received_at, ip, device_id, attributes, result FROM events WHERE id = ?", id).
		Scan(&e.ID, &account, &e.Type, &at, &received, &e.IP, &e.DeviceID, &attrs, &result)
	if err == sql.ErrNoRows {
		return e, nil, standing.Errorf(standing.ENOTFOUND, "no event %q", id)
	} else if err != nil {
		return e, nil, translate(err)
	}
	e.AccountID, e.Time, e.ReceivedAt, e.Attributes = account.String, fromTS(at), fromTS(received), json.RawMessage(attrs)
	if result == "" {
		return e, nil, nil
	}
	d, err := decodeDecision(result, e.ID, e.AccountID, e.Type)
	return e, d, err
}
