package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"standing"
	"standing/sqlstore"
)

// SellersOptions configure the seller performance benchmark.
type SellersOptions struct {
	Sellers int
	Orders  int
	// Changes is the number of orders changed (shipped late) before the incremental sweep.
	Changes     int
	DatabaseURL string
	// Path keeps the SQLite database in this file: a later run with the same file and
	// figures skips the load (to time the recompute again). Empty: a temporary folder.
	Path string
}

func (o *SellersOptions) defaults() {
	if o.Sellers <= 0 {
		o.Sellers = 100_000
	}
	if o.Orders <= 0 {
		o.Orders = 10_000_000
	}
	if o.Changes <= 0 {
		o.Changes = 100_000
	}
}

// SellersResult holds the figures of one run.
type SellersResult struct {
	Load        time.Duration // bulk load of the orders (not part of the recompute)
	Rebuild     time.Duration // every bucket of the window from the orders
	Buckets     int
	Evaluate    time.Duration // every seller judged at once (first time: warnings written)
	Evaluation  sqlstore.PerfEvaluation
	Again       time.Duration // every seller judged again, nothing new
	Idle        time.Duration // a sweep that finds nothing changed (each runner pass)
	Incremental time.Duration // the sweep after Changes orders changed, and their sellers judged
	Sync        sqlstore.PerfSync
	Eval2       sqlstore.PerfEvaluation
}

// Total is the time to recompute performance standards from scratch: the buckets from
// every order, then every seller judged.
func (r SellersResult) Total() time.Duration { return r.Rebuild + r.Evaluate }

// Sellers fills a store with sellers and orders in set-based SQL (a recursive CTE on
// SQLite, generate_series on PostgreSQL) — placed over the last 59 days, 1 % cancelled by
// the seller before shipping, 2 % shipped late, 1 % not shipped yet, 0.2 % disputed — then
// times the recompute of the performance standards: the day buckets built from every
// order, every seller judged (warnings written for those in breach), judged again with
// nothing new, an idle sweep, and the incremental sweep after Changes orders changed.
func Sellers(ctx context.Context, o SellersOptions, out io.Writer) (SellersResult, error) {
	o.defaults()
	var res SellersResult
	dir, err := os.MkdirTemp("", "standing-bench-sellers-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	dsn := o.DatabaseURL
	if dsn == "" {
		dsn = filepath.Join(dir, "standing.db")
		if o.Path != "" {
			dsn = o.Path
		}
	}
	clock := standing.NewTestClock(time.Now().UTC().Truncate(time.Second))
	st, err := sqlstore.Open(ctx, dsn, sqlstore.Options{Clock: clock})
	if err != nil {
		return res, err
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		return res, err
	}
	fmt.Fprintf(out, "standing bench sellers: %d sellers, %d orders, store %s\n", o.Sellers, o.Orders, st.Dialect())

	have, _, err := st.SellerPerfCounts(ctx)
	if err != nil {
		return res, err
	}
	if have == 0 {
		start := time.Now()
		if err := loadSellers(ctx, st, o, clock.Now(), out); err != nil {
			return res, err
		}
		res.Load = time.Since(start)
		fmt.Fprintf(out, "load:        %d orders in %.1fs (bulk SQL; not part of the recompute)\n", o.Orders, res.Load.Seconds())
	} else {
		fmt.Fprintf(out, "load:        reusing the %d orders of %s\n", have, dsn)
	}

	start := time.Now()
	if res.Buckets, err = st.RebuildSellerPerformance(ctx); err != nil {
		return res, err
	}
	res.Rebuild = time.Since(start)
	fmt.Fprintf(out, "rebuild:     %d day buckets from %d orders in %.1fs\n", res.Buckets, o.Orders, res.Rebuild.Seconds())

	start = time.Now()
	if res.Evaluation, err = st.EvaluateAllSellers(ctx); err != nil {
		return res, err
	}
	res.Evaluate = time.Since(start)
	fmt.Fprintf(out, "evaluate:    %d sellers judged in %.1fs (%d in breach evaluated one by one: %d warnings written)\n",
		res.Evaluation.Sellers, res.Evaluate.Seconds(), res.Evaluation.Evaluated, res.Evaluation.Warnings)
	fmt.Fprintf(out, "recompute:   %.1fs from scratch for %d sellers and %d orders (goal 60s)\n", res.Total().Seconds(), o.Sellers, o.Orders)

	start = time.Now()
	ev, err := st.EvaluateAllSellers(ctx)
	if err != nil {
		return res, err
	}
	res.Again = time.Since(start)
	fmt.Fprintf(out, "again:       %d sellers judged in %.1fs, nothing new (%d warnings)\n", ev.Sellers, res.Again.Seconds(), ev.Warnings)

	_ = clock.Advance(time.Second)
	start = time.Now()
	if _, err := st.SyncSellerPerformance(ctx); err != nil {
		return res, err
	}
	res.Idle = time.Since(start)
	fmt.Fprintf(out, "idle sweep:  %s (each runner pass when no order changed)\n", res.Idle.Round(time.Microsecond))

	// The marketplace reports Changes shipments, all late, stamped now as the ledger's
	// writes stamp them.
	_ = clock.Advance(time.Second)
	if err := changeOrders(ctx, st, o, clock.Now()); err != nil {
		return res, err
	}
	_ = clock.Advance(time.Second)
	start = time.Now()
	if res.Sync, err = st.SyncSellerPerformance(ctx); err != nil {
		return res, err
	}
	if res.Eval2, err = st.EvaluateSellers(ctx, res.Sync.Sellers); err != nil {
		return res, err
	}
	res.Incremental = time.Since(start)
	fmt.Fprintf(out, "incremental: %d changed orders -> %d buckets of %d sellers recomputed and judged in %.1fs (%d warnings)\n",
		res.Sync.Changes, res.Sync.Buckets, len(res.Sync.Sellers), res.Incremental.Seconds(), res.Eval2.Warnings)
	return res, nil
}

// loadSellers writes the sellers, buyers, orders and disputes with set-based SQL, a
// million orders per statement.
func loadSellers(ctx context.Context, st *sqlstore.Store, o SellersOptions, now time.Time, out io.Writer) error {
	exec := func(q string, args ...any) error {
		if err := st.ExecRaw(ctx, q, args...); err != nil {
			return fmt.Errorf("bulk load: %w\n%s", err, q)
		}
		return nil
	}
	sqlite := st.Dialect() == sqlstore.SQLite
	if sqlite {
		if err := exec("PRAGMA cache_size = -1000000"); err != nil {
			return err
		}
	}
	pad := func(width int, v string) string {
		if sqlite {
			return fmt.Sprintf("printf('%%0%dd', %s)", width, v)
		}
		return fmt.Sprintf("lpad((%s)::text, %d, '0')", v, width)
	}
	// rows runs "INSERT … SELECT outer FROM (SELECT x, inner FROM <x = from … from+n-1>) AS o"
	// with the arguments of outer, then of inner.
	rows := func(from, n int, insert, outer string, outerArgs []any, inner string, innerArgs []any) error {
		if sqlite {
			q := "WITH RECURSIVE c(x) AS (SELECT ? UNION ALL SELECT x + 1 FROM c WHERE x < ?) " + insert + " SELECT " + outer +
				" FROM (SELECT x, " + inner + " FROM c) AS o"
			return exec(q, append(append([]any{from, from + n - 1}, outerArgs...), innerArgs...)...)
		}
		q := insert + " SELECT " + outer + " FROM (SELECT x, " + inner + " FROM generate_series(?::bigint, ?::bigint) AS c(x)) AS o"
		return exec(q, append(append(append([]any{}, outerArgs...), innerArgs...), from, from+n-1)...)
	}
	nowTS := now.UnixMicro()
	const buyers = 1000
	for _, a := range []struct {
		prefix, role string
		n            int
	}{{"acc_sel", "seller", o.Sellers}, {"acc_buy", "buyer", buyers}} {
		if err := rows(0, a.n, "INSERT INTO accounts (id, role, email, name, phone, country, lifecycle, created_at, updated_at)",
			"'"+a.prefix+"' || "+pad(8, "o.x")+", '"+a.role+"', '"+a.role+"' || "+pad(8, "o.x")+" || '@bench.example', '', '', 'DE', 'active', o.at, o.at",
			nil, "CAST(? AS BIGINT) AS at", []any{nowTS}); err != nil {
			return err
		}
	}
	day := int64(24 * time.Hour / time.Microsecond)
	hour := int64(time.Hour / time.Microsecond)
	span := 59 * day
	// Order x: seller x*7919 mod sellers (a permutation: each seller the same number of
	// orders, spread over the whole time), buyer x mod 1000, placed at now - x*step (the
	// orders arrive over the last 59 days); r, a hash of x, decides its fate: < 10
	// cancelled by the seller an hour after, < 20 not shipped, < 40 shipped late (49 h after,
	// ship-by 48 h), else shipped after 24 h. Orders of the last 3 days are not shipped yet.
	sellerOf := func(x string) string { return "'acc_sel' || " + pad(8, fmt.Sprintf("(%s * 7919) %% %d", x, o.Sellers)) }
	fresh := nowTS - 3*day
	outer := "'ord_b' || " + pad(9, "o.x") + ", 'acc_buy' || " + pad(8, fmt.Sprintf("o.x %% %d", buyers)) + ", " + sellerOf("o.x") + ", 1500, 'EUR', " +
		"CASE WHEN o.r < 10 THEN 'cancelled' WHEN o.r < 20 OR o.placed > ? THEN 'paid' ELSE 'shipped' END, " +
		fmt.Sprintf("o.placed, o.placed + %d, o.placed, ", 2*day) +
		fmt.Sprintf("CASE WHEN o.r < 20 OR o.placed > ? THEN NULL WHEN o.r < 40 THEN o.placed + %d ELSE o.placed + %d END, ", 49*hour, 24*hour) +
		fmt.Sprintf("CASE WHEN o.r < 10 THEN o.placed + %d ELSE NULL END, ", hour) +
		"CASE WHEN o.r < 10 THEN 'seller' ELSE '' END, o.placed, o.placed"
	step := max(span/int64(o.Orders), 1)
	inner := fmt.Sprintf("CAST(? AS BIGINT) - x * CAST(? AS BIGINT) AS placed, (x * 31 + (x / %d) * 397) %% 1000 AS r", o.Sellers)
	const chunk = 1_000_000
	start := time.Now()
	for done := 0; done < o.Orders; done += chunk {
		n := min(chunk, o.Orders-done)
		if err := rows(done, n, `INSERT INTO orders (id, buyer_id, seller_id, amount, currency, status, placed_at, ship_by, paid_at, shipped_at,
			cancelled_at, cancelled_by, created_at, updated_at)`, outer, []any{fresh, fresh}, inner, []any{nowTS, step}); err != nil {
			return err
		}
		fmt.Fprintf(out, "  loaded %d orders (%.0fs)\n", done+n, time.Since(start).Seconds())
	}
	// A dispute on one order in 500 (0.2 %), opened a day after it was placed.
	k := "(x * 500 + (x * 7) % 500)"
	if err := rows(0, o.Orders/500, "INSERT INTO disputes (id, order_id, buyer_id, seller_id, status, opened_at, created_at, updated_at)",
		"'dsp_b' || "+pad(9, "o.k")+", 'ord_b' || "+pad(9, "o.k")+", 'acc_buy' || "+pad(8, fmt.Sprintf("o.k %% %d", buyers))+", "+sellerOf("o.k")+
			fmt.Sprintf(", 'open', o.placed + %d, o.placed + %d, o.placed + %d", day, day, day),
		nil, k+" AS k, CAST(? AS BIGINT) - "+k+" * CAST(? AS BIGINT) AS placed", []any{nowTS, step}); err != nil {
		return err
	}
	return exec("ANALYZE")
}

// changeOrders ships o.Changes orders late, stamped at now as the ledger's writes stamp
// them: the marketplace's shipment events.
func changeOrders(ctx context.Context, st *sqlstore.Store, o SellersOptions, now time.Time) error {
	every := max(o.Orders/o.Changes, 1)
	q := `UPDATE orders SET status = 'shipped', shipped_at = ship_by + 3600000000, updated_at = ?
		WHERE id IN (SELECT id FROM orders WHERE cancelled_at IS NULL AND id > 'ord_b' AND (CAST(substr(id, 6) AS BIGINT) + CAST(substr(id, 6) AS BIGINT) / 997) % ? = 0 LIMIT ?)`
	return st.ExecRaw(ctx, q, now.UnixMicro(), every, o.Changes)
}
