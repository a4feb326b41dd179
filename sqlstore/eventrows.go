package sqlstore

import (
	"database/sql"

	"standing"
)

// On SQLite the risk engine writes an account's feature state behind its events: the
// state in account_risk counts the account's events up to its through, an events rowid,
// and the events after it are folded in again whenever the account is read (replayEvents).
// The events are the record; a state is a summary of them that is saved now and then
// (see decider.flush). So nothing is lost when the process stops between the two, and
// anything that drops a cached account — a failed transaction, a change of its row, the
// cache being full — only costs a replay of a few events.
//
// That needs rowids that only grow: each event stored on SQLite gets the next one
// explicitly (nextEventRow), and the highest ever used is kept in risk_meta before events
// are deleted (keepEventRowFloor), so deleting the newest events never frees a rowid a
// state's through already counts. Inserts ignore a repeated event id only (ON CONFLICT
// (id)): a rowid used twice would be an error, never an event silently dropped.

// nextEventRow returns the rowid for the next event the transaction stores on SQLite.
func (t *tx) nextEventRow() (int64, error) {
	if t.lastEventRow == 0 {
		// The tail is read from the events before this transaction stores one, or the
		// event would be in it twice: read, and added by indexLater.
		if err := t.s.tail.ensure(t); err != nil {
			return 0, err
		}
		// The last rowid a committed transaction used, kept by the store (Store.write),
		// saves a query per transaction; unknown at first and after raw SQL (ExecRaw).
		last := t.s.lastEventRow.Load()
		if last == 0 {
			var n sql.NullInt64
			if err := t.queryRow("SELECT MAX(rowid) FROM events").Scan(&n); err != nil {
				return 0, err
			}
			last = n.Int64
		}
		floor, err := t.eventRowFloor()
		if err != nil {
			return 0, err
		}
		t.lastEventRow = max(last, floor)
	}
	t.lastEventRow++
	return t.lastEventRow, nil
}

// eventRowFloor returns the highest events rowid risk_meta records.
func (t *tx) eventRowFloor() (int64, error) {
	if f := t.s.eventRowFloor.Load(); f >= 0 {
		return f, nil
	}
	var f int64
	err := t.queryRow("SELECT value FROM risk_meta WHERE name = 'event_row'").Scan(&f)
	if err != nil && err != sql.ErrNoRows {
		return 0, err
	}
	t.s.eventRowFloor.Store(f)
	return f, nil
}

// keepEventRowFloor records the highest events rowid in use, before events are deleted.
func (t *tx) keepEventRowFloor() error {
	if t.s.dialect != SQLite {
		return nil
	}
	var n sql.NullInt64
	if err := t.queryRow("SELECT MAX(rowid) FROM events").Scan(&n); err != nil {
		return err
	}
	floor, err := t.eventRowFloor()
	if err != nil || n.Int64 <= floor {
		return err
	}
	if _, err := t.exec(`INSERT INTO risk_meta (name, value) VALUES ('event_row', ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`, n.Int64); err != nil {
		return err
	}
	t.s.eventRowFloor.Store(n.Int64)
	return nil
}

// replayEvents folds into ra's feature state the account's stored events after the ones
// it counts (ra.through), in the order they were stored. It runs on SQLite only:
// PostgreSQL writes every state with its event.
func replayEvents(q querier, s *Store, ra *riskAccount) error {
	rows, err := accountEventRows(q, s, ra.acc.ID, "last_row > ?", []any{ra.through}, func(ev tailEvent) bool { return ev.row > ra.through })
	if err != nil || len(rows) == 0 {
		return err
	}
	return fetchAccountEvents(q, ra.acc.ID, rows, "rowid, id, type, occurred_at, ip, device_id, country, asn", func(r *sql.Rows) error {
		in := standing.EventInput{Event: standing.Event{AccountID: ra.acc.ID}}
		var row, at, asn int64
		if err := r.Scan(&row, &in.ID, &in.Type, &at, &in.IP, &in.DeviceID, &in.Country, &asn); err != nil {
			return err
		}
		in.Time, in.ASN = fromTS(at), uint(asn)
		ra.state.Apply(featureEvent(&in))
		ra.through = row
		ra.unsaved++
		return nil
	})
}
