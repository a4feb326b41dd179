package bench

import (
	"context"
	"fmt"
	"io"
	"time"

	"standing"
	"standing/sqlstore"
)

// QueueOptions configure the console queue benchmark.
type QueueOptions struct {
	Appeals     int
	Rounds      int
	DatabaseURL string
}

// Queue fills the store with open appeals in one SQL statement each (a generated series,
// not a million round trips), then times the console's first page — the default view and
// each filter — and prints p50 and p99.
func Queue(ctx context.Context, o QueueOptions, out io.Writer) error {
	if o.Appeals <= 0 {
		o.Appeals = 1000000
	}
	if o.Rounds <= 0 {
		o.Rounds = 200
	}
	s, err := StartServer(ctx, o.DatabaseURL, 1)
	if err != nil {
		return err
	}
	defer s.Close()
	st := s.App.Store
	res, err := st.CreateAccounts(ctx, []standing.NewAccount{{Role: standing.RoleBuyer, Email: "queue@bench.example", Lifecycle: standing.LifecycleActive}}, "bench")
	if err != nil || res[0].Err != nil {
		return fmt.Errorf("bench account: %v %v", err, res)
	}
	acc := res[0].Account.ID
	now := s.App.Clock.Now().UnixMicro()
	fmt.Fprintf(out, "standing bench queue: %d open appeals, store %s\n", o.Appeals, st.Dialect())
	start := time.Now()
	// Reasons, statuses, urgency and due times vary so that every filter has work to do.
	cols := `id, account_id, restriction_id, reason_code, statement, status, urgent, priority, submitted_at, due_at, breach_at, updated_at`
	vals := `'apl_' || n, ?, 'rst_' || n,
		CASE n % 4 WHEN 0 THEN 'risk_review' WHEN 1 THEN 'dispute_abuse' WHEN 2 THEN 'buyer_complaints' ELSE 'seller_violation' END,
		'bench', CASE n % 3 WHEN 0 THEN 'submitted' WHEN 1 THEN 'in_review' ELSE 'needs_info' END,
		CASE WHEN n % 10 = 0 THEN 1 ELSE 0 END, CASE WHEN n % 10 = 0 THEN 10 ELSE 0 END,
		? - n * 1000, ? - n * 1000 + 172800000000, ? - n * 1000 + 432000000000, ?`
	var q string
	if st.Dialect() == sqlstore.Postgres {
		q = `INSERT INTO appeals (` + cols + `) SELECT ` + vals + ` FROM generate_series(1, ?) AS s(n)`
	} else {
		q = `WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < ?) INSERT INTO appeals (` + cols + `) SELECT ` + vals + ` FROM s`
	}
	args := []any{acc, now, now, now, now, o.Appeals}
	if st.Dialect() != sqlstore.Postgres {
		args = append([]any{o.Appeals}, args[:5]...)
	}
	if err := st.ExecRaw(ctx, q, args...); err != nil {
		return fmt.Errorf("fill: %w", err)
	}
	if err := st.ExecRaw(ctx, "ANALYZE"); err != nil {
		return err
	}
	fmt.Fprintf(out, "fill:    %d appeals in %.1fs\n", o.Appeals, time.Since(start).Seconds())
	for _, c := range []struct {
		name string
		f    standing.QueueFilter
	}{
		{"every open appeal", standing.QueueFilter{}},
		{"status needs_info", standing.QueueFilter{Status: standing.AppealNeedsInfo}},
		{"reason dispute_abuse", standing.QueueFilter{ReasonCode: standing.ReasonDisputeAbuse}},
		{"reason + status", standing.QueueFilter{ReasonCode: standing.ReasonRiskReview, Status: standing.AppealInReview}},
	} {
		lat := &Latencies{}
		var d []time.Duration
		for i := 0; i < o.Rounds; i++ {
			t0 := time.Now()
			page, err := st.Queue(ctx, c.f)
			if err != nil {
				return err
			}
			d = append(d, time.Since(t0))
			if len(page) == 0 {
				return fmt.Errorf("%s: empty page", c.name)
			}
		}
		lat.Add(d)
		fmt.Fprintf(out, "queue first page (50), %-22s p50 %s  p99 %s\n", c.name+":", round(lat.Percentile(50)), round(lat.Percentile(99)))
	}
	return nil
}
