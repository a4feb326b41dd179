package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strings"
	"sync"
)

// On SQLite the by-account lookup of events is written behind them. An index on events
// by account would take a write to a random page of the index with every event: most of
// the pages a transaction of a thousand events writes, and half the writer's time. So
// the lookup is filled in bulk instead: every events row up to risk_meta's indexed_row is
// listed in event_segments, and the rows after it — the tail — are kept in memory
// (eventTail), loaded from the events themselves when the store first needs them.
// flushEventIndex moves the tail into event_segments in one pass, once it holds
// flushEventsAt events, when the writer is idle, and at Close.
//
// A segment is one row per account and flush: the account's events of that flush packed
// in one value (encodeSegment), with the last row and the first and last times, so a
// lookup skips the segments outside its rows or times. An account with many events in a
// flush costs one index entry, not one each: an entry costs a random page of the index,
// a few microseconds, and a flush of accounts that send several events each costs a few
// times less than an entry per event.
//
// Whoever reads an account's events takes its tail entries before it queries, and keeps
// only the rows the query finds with the account's id: an entry may belong to a
// transaction that is still open or that rolled back (the store forgets those), or to an
// event deleted since (the retention sweep leaves a segment until all its events are
// gone). A flush committed between the two is harmless: the rows appear in both and are
// counted once.
//
// PostgreSQL indexes events by account as they are stored (events_account); it has no
// tail.

// flushEventsAt is how many tail events make the writer flush them into event_segments.
// The more events a flush takes, the more of them share an account's segment; the tail
// holds about 60 bytes an event in memory.
const flushEventsAt = 131072

// tailEvent is an event stored after indexed_row, as a segment holds it.
type tailEvent struct {
	row  int64
	typ  string
	at   int64 // occurred_at
	gone bool  // forgotten: its transaction did not commit
}

// eventTail is the in-memory part of the by-account lookup of events (SQLite): its
// entries of each account are in row order.
type eventTail struct {
	mu      sync.Mutex
	loaded  bool
	indexed int64 // every events row up to it is in event_segments
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

// reset forgets the tail, to be read again from the events: raw SQL may have stored some.
func (e *eventTail) reset() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.loaded, e.byAcct, e.n = false, nil, 0
}

// dropTail takes the accounts' entries out of the tail: the transaction erases their
// events. It does so before the commit, while the transaction holds the only write
// connection, so no flush can write a segment of them between the commit and the drop;
// should the transaction not commit, the store puts them back (Store.write).
func (t *tx) dropTail(accounts []string) {
	e := &t.s.tail
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, a := range accounts {
		list, ok := e.byAcct[a]
		if !ok {
			continue
		}
		if t.tailTaken == nil {
			t.tailTaken = map[string][]tailEvent{}
		}
		t.tailTaken[a] = list
		e.n -= len(list)
		delete(e.byAcct, a)
	}
}

// restore puts back the entries a transaction that did not commit took (dropTail). No
// other transaction ran in between; a tail forgotten since (reset) is read again instead.
func (e *eventTail) restore(taken map[string][]tailEvent) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.loaded {
		return
	}
	for a, list := range taken {
		e.byAcct[a] = append(list, e.byAcct[a]...)
		e.n += len(list)
	}
}

// stageEventRows lists in erasure_event_rows, for the batch (its accounts in
// erasure_batch), the rows of every event of the accounts — the segments' and the tail's —
// so that the erasure's statements find them.
func (t *tx) stageEventRows(batch string, accounts []string) error {
	var rows []any
	add := func(ev tailEvent) { rows = append(rows, batch, ev.row) }
	if err := eachSegmentEvent(t, add, "SELECT entries FROM event_segments WHERE account_id IN (SELECT account_id FROM erasure_batch WHERE batch_id = ?)", batch); err != nil {
		return err
	}
	for _, a := range accounts {
		tail, err := t.s.tail.of(t, a)
		if err != nil {
			return err
		}
		for _, ev := range tail {
			add(ev)
		}
	}
	return insertRows(t, "INSERT OR IGNORE INTO erasure_event_rows (batch_id, row) VALUES ", 2, "", rows)
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

// flushed drops the entries up to indexed, which a committed flush put in event_segments.
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

// FlushEventIndex moves every event not yet in event_segments there now (SQLite; nothing
// on PostgreSQL). The writer does so by itself; this is for tools and tests that want the
// lookup complete at a known point.
func (s *Store) FlushEventIndex(ctx context.Context) error { return s.flushEventIndex(ctx, true) }

// flushEventIndex moves the tail into event_segments if it has grown to flushEventsAt, or,
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

// flushEventIndex writes a segment for each account with tail events up to the last
// events row, and moves indexed_row to that row. It runs alone on the writer, so every
// tail entry up to it is committed.
func (t *tx) flushEventIndex() (int64, error) {
	return t.indexUpToLast(func(_, last int64) error {
		if err := t.s.tail.ensure(t); err != nil {
			return err
		}
		return writeSegments(t.exec, t.s.tail.segments(last))
	})
}

// indexUpToLast has write index the events rows after indexed_row up to the last one, if
// any, and then moves indexed_row there. It returns indexed_row as it leaves it.
func (t *tx) indexUpToLast(write func(indexed, last int64) error) (int64, error) {
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
	if err := write(indexed, last.Int64); err != nil {
		return 0, err
	}
	if _, err := t.exec(`INSERT INTO risk_meta (name, value) VALUES ('indexed_row', ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`, last.Int64); err != nil {
		return 0, err
	}
	return last.Int64, nil
}

// segment is one account's events of a flush, in row order.
type segment struct {
	account string
	events  []tailEvent
}

// segments returns, for each account, its tail entries up to row that committed, in the
// order of the accounts' ids (so the inserts walk the index in order).
func (e *eventTail) segments(upTo int64) []segment {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]segment, 0, len(e.byAcct))
	for account, list := range e.byAcct {
		var evs []tailEvent
		for _, ev := range list {
			if ev.row <= upTo && !ev.gone {
				evs = append(evs, ev)
			}
		}
		out = appendSegments(out, account, evs)
	}
	slices.SortFunc(out, func(a, b segment) int { return strings.Compare(a.account, b.account) })
	return out
}

// maxSegmentEvents bounds the events of one segment, so that no lookup reads a value of
// more than some 50 KB for a few of an account's events.
const maxSegmentEvents = 4096

// appendSegments appends the segments of an account's events, in row order: one, or one
// for every maxSegmentEvents.
func appendSegments(out []segment, account string, evs []tailEvent) []segment {
	for len(evs) > 0 {
		n := min(len(evs), maxSegmentEvents)
		out = append(out, segment{account, evs[:n:n]})
		evs = evs[n:]
	}
	return out
}

// convertEventAccounts is the Go part of migration 11: it moves every entry of
// event_accounts into event_segments, an account's in row order, and drops the table.
// The entries come in the table's order, by account.
func convertEventAccounts(ctx context.Context, tx *sql.Tx) error {
	exec := func(q string, args ...any) (sql.Result, error) { return tx.ExecContext(ctx, q, args...) }
	rows, err := tx.QueryContext(ctx, "SELECT account_id, type, occurred_at, row FROM event_accounts")
	if err != nil {
		return err
	}
	if err := writeSegmentsFrom(exec, rows); err != nil {
		return err
	}
	_, err = exec("DROP TABLE event_accounts")
	return err
}

// IndexAllEvents writes the segments of every event after indexed_row at once, reading
// them from the events by account rather than into the tail: for a bulk load of more
// events than the tail should hold in memory (SQLite; nothing on PostgreSQL).
func (s *Store) IndexAllEvents(ctx context.Context) error {
	if s.dialect != SQLite {
		return nil
	}
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	err := s.write(ctx, func(t *tx) error {
		_, err := t.indexUpToLast(func(indexed, last int64) error {
			rows, err := t.query("SELECT account_id, type, occurred_at, rowid FROM events WHERE rowid > ? AND rowid <= ? AND account_id IS NOT NULL ORDER BY account_id",
				indexed, last)
			if err != nil {
				return err
			}
			return writeSegmentsFrom(t.exec, rows)
		})
		return err
	})
	s.tail.reset()
	return err
}

// writeSegmentsFrom writes as segments the entries rows gives (account_id, type,
// occurred_at, row), an account's one after the other, and closes rows.
func writeSegmentsFrom(exec func(string, ...any) (sql.Result, error), rows *sql.Rows) error {
	defer rows.Close()
	var segs []segment
	var account string
	var evs []tailEvent
	// done makes segments of the account's entries, and writes them when they are many.
	done := func(force bool) error {
		if len(evs) > 0 {
			slices.SortFunc(evs, func(a, b tailEvent) int { return cmp.Compare(a.row, b.row) })
			segs = appendSegments(segs, account, evs)
			evs = nil
		}
		if len(segs) < 4096 && !force {
			return nil
		}
		err := writeSegments(exec, segs)
		segs = segs[:0]
		return err
	}
	for rows.Next() {
		var a string
		var ev tailEvent
		if err := rows.Scan(&a, &ev.typ, &ev.at, &ev.row); err != nil {
			return err
		}
		if a != account {
			if err := done(false); err != nil {
				return err
			}
			account = a
		}
		evs = append(evs, ev)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return done(true)
}

// writeSegments inserts the segments. A segment with the same account and last row as a
// stored one holds the same events and more: it replaces it.
func writeSegments(exec func(string, ...any) (sql.Result, error), segs []segment) error {
	const cols = 5
	args := make([]any, 0, cols*maxRowsPerInsert)
	var buf []byte
	for len(segs) > 0 {
		n := chunkOf(len(segs), maxRowsPerInsert)
		args = args[:0]
		buf = buf[:0]
		for _, sg := range segs[:n] {
			first, last := sg.events[0].at, sg.events[0].at
			for _, ev := range sg.events {
				first, last = min(first, ev.at), max(last, ev.at)
			}
			start := len(buf)
			buf = encodeSegment(buf, sg.events)
			args = append(args, sg.account, sg.events[len(sg.events)-1].row, first, last, buf[start:len(buf):len(buf)])
		}
		if _, err := exec("INSERT INTO event_segments (account_id, last_row, first_at, last_at, entries) VALUES "+valuesList(n, cols, nil)+
			" ON CONFLICT (account_id, last_row) DO UPDATE SET first_at = excluded.first_at, last_at = excluded.last_at, entries = excluded.entries", args...); err != nil {
			return err
		}
		segs = segs[n:]
	}
	return nil
}

// encodeSegment appends the events, in row order, packed: the distinct types (a count,
// then each as a length and bytes), then for each event the row's increase over the
// previous one, its time's difference from the previous one (zigzag) and its type's
// number, all as varints.
func encodeSegment(b []byte, evs []tailEvent) []byte {
	var types []string
	for _, ev := range evs {
		if !slices.Contains(types, ev.typ) {
			types = append(types, ev.typ)
		}
	}
	b = binary.AppendUvarint(b, uint64(len(types)))
	for _, typ := range types {
		b = binary.AppendUvarint(b, uint64(len(typ)))
		b = append(b, typ...)
	}
	var row, at int64
	for _, ev := range evs {
		b = binary.AppendUvarint(b, uint64(ev.row-row))
		b = binary.AppendVarint(b, ev.at-at)
		b = binary.AppendUvarint(b, uint64(slices.Index(types, ev.typ)))
		row, at = ev.row, ev.at
	}
	return b
}

// maxSegmentTypes bounds the types a stored segment may declare, against a damaged value.
const maxSegmentTypes = 1 << 16

// decodeSegment calls each for every event of a segment encodeSegment wrote, in row order.
// A value it did not write is an error, not a panic.
func decodeSegment(b []byte, each func(tailEvent)) error {
	bad := func(what string) error { return fmt.Errorf("sqlstore: a damaged event segment (%s)", what) }
	n, k := binary.Uvarint(b)
	if k <= 0 || n > maxSegmentTypes {
		return bad("type count")
	}
	b = b[k:]
	types := make([]string, 0, n)
	for range n {
		l, k := binary.Uvarint(b)
		if k <= 0 || l > uint64(len(b)-k) {
			return bad("type")
		}
		types = append(types, string(b[k:k+int(l)]))
		b = b[k+int(l):]
	}
	var row, at int64
	for len(b) > 0 {
		dr, k := binary.Uvarint(b)
		if k <= 0 || dr > math.MaxInt64-uint64(row) {
			return bad("row")
		}
		b = b[k:]
		da, k := binary.Varint(b)
		if k <= 0 {
			return bad("time")
		}
		b = b[k:]
		ti, k := binary.Uvarint(b)
		if k <= 0 || ti >= uint64(len(types)) {
			return bad("type number")
		}
		b = b[k:]
		row, at = row+int64(dr), at+da
		each(tailEvent{row: row, typ: types[ti], at: at})
	}
	return nil
}

// eachSegmentEvent calls each for every event of the segments the query (of their entries)
// finds.
func eachSegmentEvent(q querier, each func(tailEvent), query string, args ...any) error {
	rows, err := q.query(query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var entries []byte
	for rows.Next() {
		if err := rows.Scan(&entries); err != nil {
			return err
		}
		if err := decodeSegment(entries, each); err != nil {
			return err
		}
	}
	return rows.Err()
}

// accountEventRows returns the rows of an account's events on SQLite that keep accepts, in
// event_segments and in the tail. where narrows the segments read, over last_row, first_at
// and last_at, with args. Rows may be of events deleted since; callers fetch the rows,
// which finds only those that are there.
func accountEventRows(q querier, s *Store, account, where string, args []any, keep func(tailEvent) bool) ([]int64, error) {
	tail, err := s.tail.of(q, account)
	if err != nil {
		return nil, err
	}
	query := "SELECT entries FROM event_segments WHERE account_id = ?"
	if where != "" {
		query += " AND " + where
	}
	var out []int64
	add := func(ev tailEvent) {
		if keep(ev) {
			out = append(out, ev.row)
		}
	}
	if err := eachSegmentEvent(q, add, query, append([]any{account}, args...)...); err != nil {
		return nil, err
	}
	for _, ev := range tail {
		add(ev)
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
