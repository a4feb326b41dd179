package sqlstore

import (
	"context"
	"database/sql"
	"math/bits"
	"slices"
	"sync"
)

// On SQLite the by-account lookup of events is written behind them. An index on events
// by account would take a write to a random page of the index with every event: most of
// the pages a transaction of a thousand events writes, and half the writer's time. So
// event_accounts (account, type, time, events rowid) is filled in bulk instead: every
// events row up to risk_meta's indexed_row has its entry, and the rows after it — the
// tail — are kept in memory (eventTail), loaded from the events themselves when the store
// first needs them. flushEventIndex moves the tail into event_accounts in one sorted pass,
// once it holds flushEventsAt events, when the writer is idle, and at Close: with many
// events to an index page the pass writes each page once for many events.
//
// Whoever reads an account's events takes its tail entries before it queries, and keeps
// only the rows the query finds with the account's id: an entry may belong to a
// transaction that is still open or that rolled back (the store forgets those), or to an
// event deleted since. A flush committed between the two is harmless: the rows appear in
// both and are counted once.
//
// PostgreSQL indexes events by account as they are stored (events_account); it has no
// tail.

// flushEventsAt is how many tail events make the writer flush them into event_accounts.
const flushEventsAt = 32768

// tailEvent is an event stored after indexed_row, as event_accounts would hold it.
type tailEvent struct {
	row  int64
	typ  string
	at   int64 // occurred_at
	gone bool  // forgotten: its transaction did not commit
}

// eventTail is the in-memory part of the by-account lookup of events (SQLite).
type eventTail struct {
	mu      sync.Mutex
	loaded  bool
	indexed int64 // every events row up to it has its event_accounts entry
	byAcct  map[string][]tailEvent
	n       int
	// flushAt is flushEventsAt but in tests.
	flushAt int
}

// tailKey names one tail entry a transaction added, to forget it if it does not commit.
type tailKey struct {
	account string
	row     int64
}

// load reads the tail from the events after indexed_row, once. q must see every committed
// event: the writer's transaction, or a reader when no transaction has added to the tail
// yet (any that did loaded it first).
func (e *eventTail) load(q querier) error {
	if e.loaded {
		return nil
	}
	var indexed int64
	if err := q.queryRow("SELECT value FROM risk_meta WHERE name = 'indexed_row'").Scan(&indexed); err != nil && err != sql.ErrNoRows {
		return err
	}
	rows, err := q.query("SELECT rowid, account_id, type, occurred_at FROM events WHERE rowid > ? AND account_id IS NOT NULL ORDER BY rowid", indexed)
	if err != nil {
		return err
	}
	defer rows.Close()
	byAcct, n := map[string][]tailEvent{}, 0
	for rows.Next() {
		var ev tailEvent
		var account string
		if err := rows.Scan(&ev.row, &account, &ev.typ, &ev.at); err != nil {
			return err
		}
		byAcct[account] = append(byAcct[account], ev)
		n++
	}
	if err := rows.Err(); err != nil {
		return err
	}
	e.loaded, e.indexed, e.byAcct, e.n = true, indexed, byAcct, n
	return nil
}

// ensure loads the tail if need be.
func (e *eventTail) ensure(q querier) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.load(q)
}

// of returns a copy of an account's tail entries, loading the tail if need be.
func (e *eventTail) of(q querier, account string) ([]tailEvent, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.load(q); err != nil {
		return nil, err
	}
	var out []tailEvent
	for _, ev := range e.byAcct[account] {
		if !ev.gone {
			out = append(out, ev)
		}
	}
	return out, nil
}

// indexLater records that the transaction stored an event of the account as row; if the
// transaction does not commit, the store forgets the entry (Store.write).
func (t *tx) indexLater(account string, row int64, typ string, at int64) error {
	if account == "" || t.s.dialect != SQLite {
		return nil
	}
	e := &t.s.tail
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.load(t); err != nil {
		return err
	}
	e.byAcct[account] = append(e.byAcct[account], tailEvent{row: row, typ: typ, at: at})
	e.n++
	t.tailAdded = append(t.tailAdded, tailKey{account, row})
	return nil
}

// forget marks the entries of a transaction that did not commit.
func (e *eventTail) forget(keys []tailKey) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, k := range keys {
		list := e.byAcct[k.account]
		for i := range list {
			if list[i].row == k.row && !list[i].gone {
				list[i].gone = true
				break
			}
		}
	}
}

// drop forgets the accounts' entries (erased, and their events with them).
func (e *eventTail) drop(accounts []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, a := range accounts {
		e.n -= len(e.byAcct[a])
		delete(e.byAcct, a)
	}
}

// indexTailOf writes the event_accounts entries of the accounts' tail events now, so that
// what reads event_accounts alone (an erasure) finds all their events.
func (t *tx) indexTailOf(accounts []string) error {
	var rows []any
	for _, a := range accounts {
		tail, err := t.s.tail.of(t, a)
		if err != nil {
			return err
		}
		for _, ev := range tail {
			rows = append(rows, ev.row)
		}
	}
	for len(rows) > 0 {
		k := chunkOf(len(rows), maxRowsPerInsert*8)
		if _, err := t.exec(`INSERT OR IGNORE INTO event_accounts (account_id, type, occurred_at, row)
			SELECT account_id, type, occurred_at, rowid FROM events WHERE account_id IS NOT NULL AND rowid IN `+valuesList(1, k, nil), rows[:k]...); err != nil {
			return err
		}
		rows = rows[k:]
	}
	return nil
}

// due reports whether the tail has grown to a flush.
func (e *eventTail) due() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.loaded && e.n >= e.flushAt
}

// pending reports whether the tail holds any event.
func (e *eventTail) pending() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.loaded && e.n > 0
}

// flushed drops the entries up to indexed, which a committed flush put in event_accounts.
// Entries of later transactions (which began once the flush had committed) stay.
func (e *eventTail) flushed(indexed int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.loaded || indexed <= e.indexed {
		return
	}
	e.indexed = indexed
	n := 0
	for account, list := range e.byAcct {
		list = slices.DeleteFunc(list, func(ev tailEvent) bool { return ev.row <= indexed || ev.gone })
		if len(list) == 0 {
			delete(e.byAcct, account)
			continue
		}
		e.byAcct[account] = list
		n += len(list)
	}
	e.n = n
}

// FlushEventIndex moves every event not yet in event_accounts there now (SQLite; nothing
// on PostgreSQL). The writer does so by itself; this is for tools and tests that want the
// lookup complete at a known point.
func (s *Store) FlushEventIndex(ctx context.Context) error { return s.flushEventIndex(ctx, true) }

// flushEventIndex moves the tail into event_accounts if it has grown to flushEventsAt, or,
// with all, whenever it holds any event.
func (s *Store) flushEventIndex(ctx context.Context, all bool) error {
	if s.dialect != SQLite {
		return nil
	}
	if all && !s.tail.pending() || !all && !s.tail.due() {
		return nil
	}
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	var indexed int64
	err := s.write(ctx, func(t *tx) error {
		var err error
		indexed, err = t.flushEventIndex()
		return err
	})
	if err != nil {
		return err
	}
	s.tail.flushed(indexed)
	return nil
}

// flushEventIndex writes the event_accounts entries of every events row after indexed_row,
// sorted so that each index page is written once, and moves indexed_row to the last.
// It reads the events, not the tail: what is stored is what gets indexed.
func (t *tx) flushEventIndex() (int64, error) {
	var indexed int64
	if err := t.queryRow("SELECT value FROM risk_meta WHERE name = 'indexed_row'").Scan(&indexed); err != nil && err != sql.ErrNoRows {
		return 0, err
	}
	var last sql.NullInt64
	if err := t.queryRow("SELECT MAX(rowid) FROM events").Scan(&last); err != nil {
		return 0, err
	}
	if last.Int64 <= indexed {
		return indexed, nil
	}
	if _, err := t.exec(`INSERT OR IGNORE INTO event_accounts (account_id, type, occurred_at, row)
		SELECT account_id, type, occurred_at, rowid FROM events WHERE rowid > ? AND rowid <= ? AND account_id IS NOT NULL
		ORDER BY account_id, type, occurred_at, rowid`, indexed, last.Int64); err != nil {
		return 0, err
	}
	if _, err := t.exec(`INSERT INTO risk_meta (name, value) VALUES ('indexed_row', ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`, last.Int64); err != nil {
		return 0, err
	}
	return last.Int64, nil
}

// accountEventRows returns the rows of an account's events on SQLite that match: in
// event_accounts (where, over account_id, type, occurred_at and row, with args) and in the
// tail (keep). Rows may repeat across the two; callers fetch the rows and dedupe.
func accountEventRows(q querier, s *Store, account, where string, args []any, keep func(tailEvent) bool) ([]int64, error) {
	tail, err := s.tail.of(q, account)
	if err != nil {
		return nil, err
	}
	query := "SELECT row FROM event_accounts WHERE account_id = ?"
	if where != "" {
		query += " AND " + where
	}
	rows, err := q.query(query, append([]any{account}, args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var row int64
		if err := rows.Scan(&row); err != nil {
			return nil, err
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, ev := range tail {
		if keep == nil || keep(ev) {
			out = append(out, ev.row)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// fetchAccountEvents reads the columns cols of the events rows (sorted, distinct) that
// belong to the account, in rowid order, calling scan for each; rows of other accounts, or
// gone, are skipped.
func fetchAccountEvents(q querier, account string, rows []int64, cols string, scan func(*sql.Rows) error) error {
	for len(rows) > 0 {
		k := chunkOf(len(rows), maxRowsPerInsert*8)
		args := make([]any, 0, k+1)
		args = append(args, account)
		for _, r := range rows[:k] {
			args = append(args, r)
		}
		res, err := q.query("SELECT "+cols+" FROM events WHERE account_id = ? AND rowid IN "+valuesList(1, k, nil)+" ORDER BY rowid", args...)
		if err != nil {
			return err
		}
		for res.Next() {
			if err := scan(res); err != nil {
				res.Close()
				return err
			}
		}
		res.Close()
		if err := res.Err(); err != nil {
			return err
		}
		rows = rows[k:]
	}
	return nil
}

// chunkOf returns how many of n items the next statement takes: at most limit, and a power
// of two, so that only a handful of statements (one per size) are prepared.
func chunkOf(n, limit int) int {
	return 1 << (bits.Len(uint(min(n, limit))) - 1)
}
