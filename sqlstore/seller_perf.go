package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"standing"
	"standing/penalty"
)

// Seller performance is kept incrementally: one row per seller and UTC day of
// seller_perf_days holds the counts of the seller's orders placed that day
// (penalty.DayCounts). The ledger's writes (sqlstore/ledger.go) stamp orders and disputes
// with updated_at; SyncSellerPerformance reads what changed since its last run and
// recomputes only the buckets of those sellers and days, each from its orders — so running
// it twice, or over a change it saw already, is harmless. Metrics then sum at most a
// window of buckets per seller, never the orders.

// dayMicros is one UTC day in the microseconds times are stored in.
const dayMicros = int64(24 * time.Hour / time.Microsecond)

// The counts of one bucket, from the orders of its seller placed in [?, ?). A defect is an
// order with a dispute; a late shipment one shipped after its ship-by time; a
// pre-fulfilment cancellation one the seller cancelled before shipping it — as
// penalty.PerfState counts them.
const bucketCounts = `COUNT(*),
	SUM(CASE WHEN EXISTS (SELECT 1 FROM disputes d WHERE d.order_id = o.id) THEN 1 ELSE 0 END),
	SUM(CASE WHEN o.shipped_at IS NOT NULL THEN 1 ELSE 0 END),
	SUM(CASE WHEN o.shipped_at IS NOT NULL AND o.ship_by IS NOT NULL AND o.shipped_at > o.ship_by THEN 1 ELSE 0 END),
	SUM(CASE WHEN o.cancelled_by = 'seller' AND (o.shipped_at IS NULL OR (o.cancelled_at IS NOT NULL AND o.cancelled_at < o.shipped_at)) THEN 1 ELSE 0 END)`

const perfColumns = `seller_id, day, orders, defects, shipped, late, cancelled`

// syncLag is how far before its last run the sweep reads again. SQLite serialises
// writers, so a change stamped before the last run was visible to it; on PostgreSQL a
// transaction stamped earlier may commit later, so the sweep rereads a margin (buckets are
// recomputed, so reading a change twice is harmless).
func (s *Store) syncLag() time.Duration {
	if s.dialect == Postgres {
		return 5 * time.Second
	}
	return 0
}

// syncBatch bounds the changes one sweep transaction handles.
const syncBatch = 5000

// PerfSync is what a performance sweep did.
type PerfSync struct {
	// Rebuilt is set when the buckets were built from every order (the first run).
	Rebuilt bool
	// Changes is the number of changed orders and disputes read; Buckets the number of
	// buckets recomputed.
	Changes, Buckets int
	// Sellers are the sellers whose buckets were recomputed, to evaluate.
	Sellers []string
}

// SyncSellerPerformance brings the performance day buckets up to date with the orders and
// disputes changed since its last run (by their updated_at) and returns the sellers whose
// buckets it recomputed. On its first run it builds every bucket of the window with
// RebuildSellerPerformance. Buckets of days before the window are left alone: they no
// longer count. Each batch of changes is one transaction.
func (s *Store) SyncSellerPerformance(ctx context.Context) (PerfSync, error) {
	var res PerfSync
	var cursor int64
	err := s.queryRow(ctx, "SELECT at FROM seller_perf_cursor WHERE name = 'ledger'").Scan(&cursor)
	if err == sql.ErrNoRows {
		res.Rebuilt = true
		res.Buckets, err = s.RebuildSellerPerformance(ctx)
		return res, err
	} else if err != nil {
		return res, translate(err)
	}
	upper := s.clock.Now().Truncate(time.Microsecond)
	lower := cursor - s.syncLag().Microseconds()
	// Most runs find nothing: look on the read pool before taking the write lock.
	var one int
	err = s.queryRow(ctx, "SELECT 1 FROM orders WHERE updated_at >= ? AND updated_at <= ? LIMIT 1", lower, ts(upper)).Scan(&one)
	if err == sql.ErrNoRows {
		err = s.queryRow(ctx, "SELECT 1 FROM disputes WHERE updated_at >= ? AND updated_at <= ? LIMIT 1", lower, ts(upper)).Scan(&one)
	}
	if err == sql.ErrNoRows {
		// Nothing changed; the cursor stays, and the next look covers the same empty range.
		return res, nil
	} else if err != nil {
		return res, translate(err)
	}
	sellers := map[string]bool{}
	for _, table := range []string{"orders", "disputes"} {
		q := `SELECT o.seller_id, o.placed_at, o.updated_at, o.id FROM orders o
			WHERE o.updated_at <= ? AND (o.updated_at, o.id) > (?, ?) ORDER BY o.updated_at, o.id LIMIT ?`
		if table == "disputes" {
			q = `SELECT o.seller_id, o.placed_at, d.updated_at, d.id FROM disputes d JOIN orders o ON o.id = d.order_id
				WHERE d.updated_at <= ? AND (d.updated_at, d.id) > (?, ?) ORDER BY d.updated_at, d.id LIMIT ?`
		}
		keyAt, keyID := lower, ""
		for {
			n := 0
			err := s.write(ctx, func(t *tx) error {
				rows, err := t.query(q, ts(upper), keyAt, keyID, syncBatch)
				if err != nil {
					return err
				}
				type bucket struct {
					seller string
					day    int64
				}
				var dirty []bucket
				seen := map[bucket]bool{}
				for rows.Next() {
					var b bucket
					var placed int64
					if err := rows.Scan(&b.seller, &placed, &keyAt, &keyID); err != nil {
						rows.Close()
						return err
					}
					n++
					b.day = placed / dayMicros
					if !seen[b] {
						seen[b] = true
						dirty = append(dirty, b)
					}
				}
				rows.Close()
				if err := rows.Err(); err != nil {
					return err
				}
				from, _ := penalty.WindowDays(t.s.policy(), t.now)
				for _, b := range dirty {
					if b.day < int64(from) {
						continue
					}
					if err := t.recomputeBucket(b.seller, b.day); err != nil {
						return err
					}
					res.Buckets++
					sellers[b.seller] = true
				}
				return nil
			})
			if err != nil {
				return res, err
			}
			res.Changes += n
			if n < syncBatch {
				break
			}
		}
	}
	if err := s.write(ctx, func(t *tx) error { return t.setPerfCursor("ledger", ts(upper)) }); err != nil {
		return res, err
	}
	for id := range sellers {
		res.Sellers = append(res.Sellers, id)
	}
	slices.Sort(res.Sellers)
	return res, nil
}

func (t *tx) setPerfCursor(name string, at int64) error {
	_, err := t.exec(`INSERT INTO seller_perf_cursor (name, at) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET at = excluded.at`, name, at)
	return err
}

// recomputeBucket rebuilds one seller's bucket of one day from its orders.
func (t *tx) recomputeBucket(sellerID string, day int64) error {
	if _, err := t.exec("DELETE FROM seller_perf_days WHERE seller_id = ? AND day = ?", sellerID, day); err != nil {
		return err
	}
	_, err := t.exec(`INSERT INTO seller_perf_days (`+perfColumns+`)
		SELECT o.seller_id, CAST(? AS INTEGER), `+bucketCounts+`
		FROM orders o WHERE o.seller_id = ? AND o.placed_at >= ? AND o.placed_at < ? GROUP BY o.seller_id`,
		day, sellerID, day*dayMicros, (day+1)*dayMicros)
	return err
}

// RebuildSellerPerformance builds every performance bucket of the window from the orders
// and sets the sweep's cursor to the time it began, so that changes made meanwhile are
// read by the next SyncSellerPerformance. It returns the number of buckets. Operators
// run it after restoring a backup; the first sweep runs it.
//
// It reads the ledger once, in the table's own order, on the read pool (writers are not
// held up), and counts each order into its seller's buckets in memory — about 30 bytes a
// bucket — because sorting ten million orders by seller in SQL, or fetching them seller by
// seller through an index, takes several times longer. The buckets are then written in
// key order, a range of sellers per transaction.
func (s *Store) RebuildSellerPerformance(ctx context.Context) (int, error) {
	start := s.clock.Now().Truncate(time.Microsecond)
	from, _ := penalty.WindowDays(s.policy(), start)
	fromTS := int64(from) * dayMicros
	states := map[string]*penalty.PerfState{}
	stateOf := func(seller []byte) *penalty.PerfState {
		st, ok := states[string(seller)]
		if !ok {
			st = &penalty.PerfState{}
			states[string(seller)] = st
		}
		return st
	}
	// Every order, filtered here rather than by a WHERE the planner might serve through an
	// index at the price of a random read per order.
	conn, err := s.r.Conn(ctx)
	if err != nil {
		return 0, translate(err)
	}
	defer conn.Close()
	if s.dialect == SQLite {
		// Read the ledger through memory-mapped pages rather than the connection's small
		// page cache, and give the pooled connection back as it was.
		if _, err := conn.ExecContext(ctx, "PRAGMA mmap_size = 68719476736"); err != nil {
			return 0, translate(err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA mmap_size = 0")
	}
	rows, err := conn.QueryContext(ctx, "SELECT seller_id, placed_at, ship_by, shipped_at, cancelled_at, cancelled_by FROM orders")
	if err != nil {
		return 0, translate(err)
	}
	var seller, by []byte
	var placed int64
	var shipBy, shipped, cancelled sql.NullInt64
	for rows.Next() {
		if err := rows.Scan(&seller, &placed, &shipBy, &shipped, &cancelled, &by); err != nil {
			rows.Close()
			return 0, translate(err)
		}
		if placed < fromTS {
			continue
		}
		stateOf(seller).Add(orderCounts(placed, shipBy, shipped, cancelled, string(by) == standing.CancelledBySeller))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, translate(err)
	}
	// A defect is an order with a dispute, counted once however many it has.
	rows, err = conn.QueryContext(ctx, s.q(`SELECT o.seller_id, o.placed_at FROM orders o
		WHERE o.placed_at >= ? AND o.id IN (SELECT order_id FROM disputes)`), fromTS)
	if err != nil {
		return 0, translate(err)
	}
	for rows.Next() {
		if err := rows.Scan(&seller, &placed); err != nil {
			rows.Close()
			return 0, translate(err)
		}
		stateOf(seller).Add(penalty.DayCounts{Day: int32(placed / dayMicros), Defects: 1})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, translate(err)
	}

	sellers := make([]string, 0, len(states))
	for id := range states {
		sellers = append(sellers, id)
	}
	slices.Sort(sellers)
	total := 0
	prev := ""
	const sellersPerTx = 2000
	for i := 0; i == 0 || i < len(sellers); i += sellersPerTx {
		chunk := sellers[i:min(i+sellersPerTx, len(sellers))]
		last := i+sellersPerTx >= len(sellers)
		err := s.write(ctx, func(t *tx) error {
			// Clear the key range up to this chunk's last seller (everything left, for the
			// last chunk), so sellers without orders in the window lose their old buckets.
			if last {
				if _, err := t.exec("DELETE FROM seller_perf_days WHERE seller_id > ?", prev); err != nil {
					return err
				}
			} else if _, err := t.exec("DELETE FROM seller_perf_days WHERE seller_id > ? AND seller_id <= ?", prev, chunk[len(chunk)-1]); err != nil {
				return err
			}
			n, err := t.insertBuckets(chunk, states)
			total += n
			return err
		})
		if err != nil {
			return total, err
		}
		if len(chunk) > 0 {
			prev = chunk[len(chunk)-1]
		}
	}
	return total, s.write(ctx, func(t *tx) error { return t.setPerfCursor("ledger", ts(start)) })
}

// orderCounts is an order's contribution to its day bucket, from its stored columns: the
// rules of penalty.PerfState (and of bucketCounts), without the defect, which comes from
// the disputes.
func orderCounts(placed int64, shipBy, shipped, cancelled sql.NullInt64, bySeller bool) penalty.DayCounts {
	c := penalty.DayCounts{Day: int32(placed / dayMicros), Orders: 1}
	if shipped.Valid {
		c.Shipped = 1
		if shipBy.Valid && shipped.Int64 > shipBy.Int64 {
			c.Late = 1
		}
	}
	if bySeller && (!shipped.Valid || (cancelled.Valid && cancelled.Int64 < shipped.Int64)) {
		c.Cancelled = 1
	}
	return c
}

// bucketsPerInsert is how many buckets one INSERT writes (7 values each, far below the
// parameter limits of SQLite and PostgreSQL).
const bucketsPerInsert = 500

// insertBuckets writes the buckets of the sellers, in key order, a few hundred rows per
// statement.
func (t *tx) insertBuckets(sellers []string, states map[string]*penalty.PerfState) (int, error) {
	args := make([]any, 0, 7*bucketsPerInsert)
	n, total := 0, 0
	flush := func() error {
		if n == 0 {
			return nil
		}
		q := "INSERT INTO seller_perf_days (" + perfColumns + ") VALUES " +
			strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?), ", n), ", ")
		_, err := t.exec(q, args...)
		total += n
		args, n = args[:0], 0
		return err
	}
	for _, id := range sellers {
		for _, d := range states[id].Days {
			args = append(args, id, d.Day, d.Orders, d.Defects, d.Shipped, d.Late, d.Cancelled)
			if n++; n == bucketsPerInsert {
				if err := flush(); err != nil {
					return total, err
				}
			}
		}
	}
	return total, flush()
}

// SellerPerfCounts returns the number of orders in the ledger and of performance buckets,
// for operators and benchmarks.
func (s *Store) SellerPerfCounts(ctx context.Context) (orders, buckets int, err error) {
	if err := s.queryRow(ctx, "SELECT COUNT(*) FROM orders").Scan(&orders); err != nil {
		return 0, 0, translate(err)
	}
	err = s.queryRow(ctx, "SELECT COUNT(*) FROM seller_perf_days").Scan(&buckets)
	return orders, buckets, translate(err)
}

// PerfEvaluation is what evaluating sellers' performance did.
type PerfEvaluation struct {
	// Sellers is the number of sellers whose metrics were read; Evaluated the number
	// judged one by one (breached, or with an open warning).
	Sellers, Evaluated int
	// Warnings, Cleared and Points count the warnings written, the warnings cleared and the
	// performance_breach violations recorded.
	Warnings, Cleared, Points int
}

// EvaluateAllSellers judges the performance of every seller at the clock's now: one
// aggregate over the window's buckets finds the sellers in breach, and those with an open
// warning, and only they are evaluated one by one (EvaluateSellers). Buckets of days
// before the window are pruned once a day.
func (s *Store) EvaluateAllSellers(ctx context.Context) (PerfEvaluation, error) {
	var res PerfEvaluation
	p := s.policy()
	now := s.clock.Now()
	from, to := penalty.WindowDays(p, now)
	rows, err := s.query(ctx, `SELECT seller_id, SUM(orders), SUM(defects), SUM(shipped), SUM(late), SUM(cancelled)
		FROM seller_perf_days WHERE day >= ? AND day <= ? GROUP BY seller_id`, from, to)
	if err != nil {
		return res, translate(err)
	}
	var candidates []string
	for rows.Next() {
		var id string
		var orders, defects, shipped, late, cancelled int64
		if err := rows.Scan(&id, &orders, &defects, &shipped, &late, &cancelled); err != nil {
			rows.Close()
			return res, translate(err)
		}
		res.Sellers++
		st := penalty.PerfState{Days: []penalty.DayCounts{{Day: to, Orders: int32(orders), Defects: int32(defects),
			Shipped: int32(shipped), Late: int32(late), Cancelled: int32(cancelled)}}}
		if len(st.Metrics(p, now).Breached()) > 0 {
			candidates = append(candidates, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return res, translate(err)
	}
	rows, err = s.query(ctx, "SELECT DISTINCT seller_id FROM seller_perf_warnings WHERE cleared_at IS NULL")
	if err != nil {
		return res, translate(err)
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return res, translate(err)
		}
		candidates = append(candidates, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return res, translate(err)
	}
	slices.Sort(candidates)
	candidates = slices.Compact(candidates)
	ev, err := s.EvaluateSellers(ctx, candidates)
	ev.Sellers = res.Sellers
	if err != nil {
		return ev, err
	}
	return ev, s.prunePerfDays(ctx, from)
}

// prunePerfDays deletes the buckets of days before from, once per day.
func (s *Store) prunePerfDays(ctx context.Context, from int32) error {
	var last int64
	err := s.queryRow(ctx, "SELECT at FROM seller_perf_cursor WHERE name = 'pruned'").Scan(&last)
	if err != nil && err != sql.ErrNoRows {
		return translate(err)
	}
	if err == nil && last >= int64(from) {
		return nil
	}
	return s.write(ctx, func(t *tx) error {
		if _, err := t.exec("DELETE FROM seller_perf_days WHERE day < ?", from); err != nil {
			return err
		}
		return t.setPerfCursor("pruned", int64(from))
	})
}

// EvaluateSellers judges the performance of the sellers at the clock's now (see
// penalty.Evaluate): a new breach brings a warning (mail and dashboard line), a breach
// still there after the warning's grace period brings performance_breach points through
// the same path as a reported violation (once per grace period), and a metric back within
// its standard clears its warning. A batch of sellers is one transaction.
func (s *Store) EvaluateSellers(ctx context.Context, sellerIDs []string) (PerfEvaluation, error) {
	var res PerfEvaluation
	const perTx = 100
	for i := 0; i < len(sellerIDs); i += perTx {
		batch := sellerIDs[i:min(i+perTx, len(sellerIDs))]
		var part PerfEvaluation
		err := s.write(ctx, func(t *tx) error {
			part = PerfEvaluation{}
			for _, id := range batch {
				if err := t.evaluateSeller(id, &part); err != nil {
					return fmt.Errorf("evaluate seller %s: %w", id, err)
				}
			}
			return nil
		})
		if err != nil {
			return res, err
		}
		res.Evaluated += part.Evaluated
		res.Warnings += part.Warnings
		res.Cleared += part.Cleared
		res.Points += part.Points
	}
	return res, nil
}

// evaluateSeller judges one seller's performance in the transaction.
func (t *tx) evaluateSeller(sellerID string, res *PerfEvaluation) error {
	p := t.s.policy()
	a, err := t.accountForUpdate(sellerID)
	if standing.ErrorCode(err) == standing.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	if a.Role != standing.RoleSeller || a.Lifecycle == standing.LifecycleErased {
		return nil
	}
	res.Evaluated++
	from, to := penalty.WindowDays(p, t.now)
	rows, err := t.query("SELECT day, orders, defects, shipped, late, cancelled FROM seller_perf_days WHERE seller_id = ? AND day >= ? AND day <= ? ORDER BY day",
		sellerID, from, to)
	if err != nil {
		return err
	}
	var st penalty.PerfState
	for rows.Next() {
		var d penalty.DayCounts
		if err := rows.Scan(&d.Day, &d.Orders, &d.Defects, &d.Shipped, &d.Late, &d.Cancelled); err != nil {
			rows.Close()
			return err
		}
		st.Days = append(st.Days, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	m := st.Metrics(p, t.now)
	if !m.Evaluated {
		return nil
	}
	rows, err = t.query("SELECT metric, at, grace_ends_at, rate, threshold, message, cleared_at FROM seller_perf_warnings WHERE seller_id = ? AND cleared_at IS NULL", sellerID)
	if err != nil {
		return err
	}
	var open []penalty.PerfWarning
	for rows.Next() {
		w, err := scanPerfWarning(rows)
		if err != nil {
			rows.Close()
			return err
		}
		open = append(open, w)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	act := penalty.Evaluate(p, m, open, t.now)
	for _, w := range act.Warnings {
		if _, err := t.exec(`INSERT INTO seller_perf_warnings (id, seller_id, metric, at, grace_ends_at, rate, threshold, message, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, standing.NewID("pfw", t.now), sellerID, w.Metric, ts(w.At), ts(w.GraceEndsAt),
			w.Rate, w.Threshold, w.Message, ts(t.now)); err != nil {
			return err
		}
		title := w.Metric
		for _, x := range m.All() {
			if x.Name == w.Metric {
				title = x.Title
			}
		}
		if _, err := t.addNotice(a, noticeRow{kind: penalty.NoticePerformance, state: penalty.NoticeGiven, effective: w.GraceEndsAt,
			text: "Warning: " + w.Message}, "Warning: your "+lowerFirstWord(title)+" is above the standard"); err != nil {
			return err
		}
		res.Warnings++
	}
	for _, metric := range act.Cleared {
		if _, err := t.exec("UPDATE seller_perf_warnings SET cleared_at = ? WHERE seller_id = ? AND metric = ? AND cleared_at IS NULL",
			ts(t.now), sellerID, metric); err != nil {
			return err
		}
		res.Cleared++
	}
	for _, r := range act.Reports {
		_, first, err := t.recordViolation(a, r, "performance")
		if err != nil {
			return err
		}
		if first == nil {
			res.Points++
		}
	}
	return nil
}

func lowerFirstWord(s string) string {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return s
	}
	return string(s[0]-'A'+'a') + s[1:]
}
