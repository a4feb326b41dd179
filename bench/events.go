package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"standing"
	"standing/sqlstore"
)

// EventsOptions configure the events benchmark.
type EventsOptions struct {
	// Accounts is how many accounts the events are spread over (a third restricted).
	Accounts int
	// Concurrency is the number of clients posting single events.
	Concurrency int
	// BatchClients is the number of clients posting batches, and BatchSize their size.
	BatchClients int
	BatchSize    int
	// Duration is how long each phase drives events.
	Duration time.Duration
	// ExtraRules is how many rules are added to the default pack.
	ExtraRules int
	// RandomIDs gives the events random ids, as a marketplace using UUIDs sends, instead of
	// ids in increasing order.
	RandomIDs   bool
	DatabaseURL string
	// Phases names the measured phases to run, "single" and "batch"; empty runs both.
	Phases []string
	// Profile, when set, is called with true before the measured phases and false after.
	Profile func(start bool)
}

func (o *EventsOptions) defaults() {
	if o.Accounts <= 0 {
		o.Accounts = 10000
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 16
	}
	if o.BatchClients <= 0 {
		o.BatchClients = 4
	}
	if o.BatchSize <= 0 || o.BatchSize > standing.MaxBatch {
		o.BatchSize = 500
	}
	if o.Duration <= 0 {
		o.Duration = 10 * time.Second
	}
	if o.ExtraRules < 0 {
		o.ExtraRules = 0
	}
	if len(o.Phases) == 0 {
		o.Phases = []string{"single", "batch"}
	}
}

// ExtraRules returns n rules of the kinds operators add — custom event types, attribute
// thresholds, combinations of features — that score and send to review, so the engine
// evaluates them on every event.
func ExtraRules(n int) []map[string]any {
	out := make([]map[string]any, 0, n)
	for i := 0; i < n; i++ {
		var expr string
		switch i % 5 {
		case 0:
			expr = fmt.Sprintf(`event.type == "custom_%d" && features.events_total > %d`, i, 1000+i)
		case 1:
			expr = fmt.Sprintf(`event.type == "order_placed" && has(event.attributes.amount) && event.attributes.amount > %d`, 5_000_000+i)
		case 2:
			expr = fmt.Sprintf(`features.orders_24h > %d && features.ips_24h > %d && account.role == "buyer"`, 40+i, 8)
		case 3:
			expr = fmt.Sprintf(`event.type in ["login_failed", "custom_%d"] && features.login_failures_1h >= %d`, i, 50+i)
		default:
			expr = fmt.Sprintf(`features.account_age_days < 0.01 && features.countries_30d > %d && features.new_device`, 3+i%3)
		}
		out = append(out, map[string]any{"id": fmt.Sprintf("bench_%02d", i), "name": fmt.Sprintf("Bench rule %d", i),
			"expression": expr, "outcome": map[string]any{"score": 5, "review": i%2 == 0}})
	}
	return out
}

// eventMaker renders unique event bodies for the accounts.
type eventMaker struct {
	ids    []string
	seq    atomic.Int64
	tag    string
	kind   []string
	random bool // random event ids (randomID), not tag and sequence
}

func newEventMaker(ids []string, tag string) *eventMaker {
	// The mix of a marketplace's event stream: mostly sign-ins and checkouts, a few
	// declines and profile changes, some custom types.
	kinds := []string{}
	for k, n := range map[string]int{"login_succeeded": 40, "order_placed": 15, "payment_succeeded": 15, "profile_changed": 5,
		"payment_declined": 3, "login_failed": 2, "page_view": 20} {
		for range n {
			kinds = append(kinds, k)
		}
	}
	return &eventMaker{ids: ids, tag: tag, kind: kinds}
}

// appendEvent appends one event as JSON: a random account, from one of its two usual
// addresses and its device, with a card fingerprint on payments.
func (m *eventMaker) appendEvent(b []byte, rng *rand.Rand) []byte {
	i := rng.IntN(len(m.ids))
	kind := m.kind[rng.IntN(len(m.kind))]
	b = append(b, `{"id":"`...)
	if m.random {
		b = appendRandomID(b, rng)
	} else {
		b = append(b, m.tag...)
		b = strconv.AppendInt(b, m.seq.Add(1), 36)
	}
	b = append(b, `","type":"`...)
	b = append(b, kind...)
	b = append(b, `","account_id":"`...)
	b = append(b, m.ids[i]...)
	b = append(b, `","ip":"10.`...)
	b = strconv.AppendInt(b, int64(i>>8&255), 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, int64(i&255), 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, int64(1+rng.IntN(2)), 10)
	b = append(b, `","device_id":"dev-`...)
	b = strconv.AppendInt(b, int64(i), 36)
	b = append(b, '"')
	switch kind {
	case "payment_succeeded", "payment_declined":
		b = append(b, `,"attributes":{"card_fingerprint":"fp_bench_`...)
		b = strconv.AppendInt(b, int64(i), 36)
		b = append(b, `"}`...)
	case "order_placed":
		b = append(b, `,"attributes":{"amount":`...)
		b = strconv.AppendInt(b, int64(500+rng.IntN(20000)), 10)
		b = append(b, '}')
	}
	return append(b, '}')
}

// appendRandomID appends a random id in the form of a UUID version 4.
func appendRandomID(b []byte, rng *rand.Rand) []byte {
	const hex = "0123456789abcdef"
	hi, lo := rng.Uint64(), rng.Uint64()
	for i := range 32 {
		if i == 8 || i == 12 || i == 16 || i == 20 {
			b = append(b, '-')
		}
		v := hi
		if i >= 16 {
			v = lo
		}
		b = append(b, hex[v>>(60-4*uint(i%16))&15])
	}
	return b
}

// Events adds the extra rules, imports accounts, and drives POST /v1/events: single events
// from Concurrency clients, then batches of BatchSize from BatchClients clients, printing
// events per second and latency percentiles of each phase.
func Events(ctx context.Context, o EventsOptions, out io.Writer) error {
	o.defaults()
	s, err := StartServer(ctx, o.DatabaseURL, o.Concurrency)
	if err != nil {
		return err
	}
	defer s.Close()
	idForm := "in increasing order"
	if o.RandomIDs {
		idForm = "random (UUIDs)"
	}
	fmt.Fprintf(out, "standing bench events: %d accounts, default rules + %d, %d clients single, %d clients × batches of %d, %s a phase, store %s, event ids %s\n",
		o.Accounts, o.ExtraRules, o.Concurrency, o.BatchClients, o.BatchSize, o.Duration, s.App.Store.Dialect(), idForm)
	for _, r := range ExtraRules(o.ExtraRules) {
		body, _ := json.Marshal(r)
		if err := s.Post(ctx, "/v1/rules", body, nil); err != nil {
			return err
		}
	}
	var rulesList struct {
		Rules []json.RawMessage `json:"rules"`
	}
	if err := s.Get(ctx, "/v1/rules", &rulesList); err != nil {
		return err
	}
	ids, took, err := s.ImportAccounts(ctx, o.Accounts, "events")
	if err != nil {
		return err
	}
	// One event for every account first, in batches, as a server that has run for a while
	// has seen them: the measured phases are the steady state, features in memory.
	warmStart := time.Now()
	if err := WarmEvents(ctx, s, ids, "w"); err != nil {
		return err
	}
	fmt.Fprintf(out, "setup:   %d rules in force; %d accounts imported in %.1fs; one event each in %.1fs\n", len(rulesList.Rules), len(ids), took.Seconds(), time.Since(warmStart).Seconds())
	if o.Profile != nil {
		o.Profile(true)
		defer o.Profile(false)
	}
	for _, phase := range o.Phases {
		clients, size, tag := o.Concurrency, 1, "s"
		if phase == "batch" {
			clients, size, tag = o.BatchClients, o.BatchSize, "b"
		}
		before, err := s.eventTransactions(ctx)
		if err != nil {
			return err
		}
		res, err := DriveEvents(ctx, s, ids, clients, size, o.Duration, tag, o.RandomIDs)
		if err != nil {
			return err
		}
		after, err := s.eventTransactions(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%-8s %s\n", phase+":", res)
		if tx := after[0] - before[0]; tx > 0 {
			fmt.Fprintf(out, "%-8s %.1f events a transaction (%.0f transactions)\n", "", (after[1]-before[1])/tx, tx)
		}
	}
	return nil
}

// WarmEvents posts one sign-in event for each account, in batches of 500.
func WarmEvents(ctx context.Context, s *Server, ids []string, tag string) error {
	for i := 0; i < len(ids); i += 500 {
		body := []byte(`{"events":[`)
		for j := i; j < len(ids) && j < i+500; j++ {
			if j > i {
				body = append(body, ',')
			}
			body = fmt.Appendf(body, `{"id":"%swarm-%d","type":"login_succeeded","account_id":%q,"ip":"10.9.9.9","device_id":"dev-%s"}`, tag, j, ids[j], strconv.FormatInt(int64(j), 36))
		}
		body = append(body, "]}"...)
		if err := s.Post(ctx, "/v1/events", body, nil); err != nil {
			return err
		}
	}
	return nil
}

// EventsResult is one phase of the events benchmark.
type EventsResult struct {
	Events   int
	Requests int
	Errors   int
	Took     time.Duration
	Lat      *Latencies
	Batch    int
	// CPU is the process's CPU time over the phase, load generator included; zero where
	// it is not measured.
	CPU time.Duration
}

// Rate returns events per second.
func (r EventsResult) Rate() float64 { return float64(r.Events) / r.Took.Seconds() }

// String writes the phase's figures on one line.
func (r EventsResult) String() string {
	return fmt.Sprintf("%d events in %d requests (batches of %d) in %.1fs = %.0f events/s, %d errors; latency per request p50 %s  p99 %s  p99.9 %s",
		r.Events, r.Requests, r.Batch, r.Took.Seconds(), r.Rate(), r.Errors, round(r.Lat.Percentile(50)), round(r.Lat.Percentile(99)), round(r.Lat.Percentile(99.9))) + r.cpuFigures()
}

// cpuFigures is the phase's CPU time per event and the processors it kept busy, or
// nothing where CPU time is not measured.
func (r EventsResult) cpuFigures() string {
	if r.CPU <= 0 || r.Events == 0 || r.Took <= 0 {
		return ""
	}
	return fmt.Sprintf("; CPU %.1f µs/event on %.2f cores", float64(r.CPU.Nanoseconds())/1e3/float64(r.Events), r.CPU.Seconds()/r.Took.Seconds())
}

// DriveEvents posts events of the accounts from clients raw keep-alive clients, batch
// events a request, for d; randomIDs gives them random ids (EventsOptions.RandomIDs).
func DriveEvents(ctx context.Context, s *Server, ids []string, clients, batch int, d time.Duration, tag string, randomIDs bool) (EventsResult, error) {
	addr := strings.TrimPrefix(s.URL, "http://")
	pool := make(chan *rawClient, clients)
	for i := 0; i < clients; i++ {
		pool <- newRawClient(addr, s.Key, "/v1/events")
	}
	maker := newEventMaker(ids, tag+strconv.FormatInt(time.Now().UnixNano()%1e9, 36)+"-")
	maker.random = randomIDs
	var bad atomic.Int64
	cpu := processCPU()
	lat, errs, took := Drive(ctx, clients, d, func(ctx context.Context, rng *rand.Rand) error {
		c := <-pool
		defer func() { pool <- c }()
		body := make([]byte, 0, 256*batch)
		if batch > 1 {
			body = append(body, `{"events":[`...)
			for i := 0; i < batch; i++ {
				if i > 0 {
					body = append(body, ',')
				}
				body = maker.appendEvent(body, rng)
			}
			body = append(body, "]}"...)
		} else {
			body = maker.appendEvent(body, rng)
		}
		status, err := c.post(body)
		if err != nil {
			return err
		}
		if status != http.StatusOK {
			bad.Add(1)
			return fmt.Errorf("status %d", status)
		}
		return nil
	})
	return EventsResult{Events: lat.Count() * batch, Requests: lat.Count(), Errors: errs, Took: took, Lat: lat, Batch: batch, CPU: processCPU() - cpu}, nil
}

// eventTransactions reads the server's metrics: the transactions that decided on events
// and the events they decided.
func (s *Server) eventTransactions(ctx context.Context) ([2]float64, error) {
	var out [2]float64
	req, err := http.NewRequestWithContext(ctx, "GET", s.URL+"/metrics", nil)
	if err != nil {
		return out, err
	}
	req.Header.Set("Authorization", "Bearer "+s.Key)
	resp, err := s.Client.Do(req)
	if err != nil {
		return out, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return out, fmt.Errorf("GET /metrics: %d %v", resp.StatusCode, err)
	}
	for line := range strings.Lines(string(b)) {
		name, value, ok := strings.Cut(strings.TrimSpace(line), " ")
		i := slices.Index([]string{"standing_event_transactions_total", "standing_events_decided_total"}, name)
		if !ok || i < 0 {
			continue
		}
		if out[i], err = strconv.ParseFloat(value, 64); err != nil {
			return out, fmt.Errorf("GET /metrics: %s: %w", name, err)
		}
	}
	return out, nil
}

// Get reads a 2xx JSON answer into out.
func (s *Server) Get(ctx context.Context, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, "GET", s.URL+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+s.Key)
	resp, err := s.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("GET %s: %s: %s", path, resp.Status, b)
	}
	return json.Unmarshal(b, out)
}

// ScaleOptions configure the scale benchmark.
type ScaleOptions struct {
	// Accounts and Events are the size of the large store.
	Accounts int
	Events   int
	// Sample is how many of its accounts the measured requests go to.
	Sample      int
	Concurrency int
	Duration    time.Duration
	ExtraRules  int
}

// ScaleResult is the latency of checks and events on one store.
type ScaleResult struct {
	Label  string
	Check  EventsResult
	Events EventsResult
	Load   time.Duration
}

// Scale measures check and event latency on an empty store and on one holding Accounts
// accounts (a tenth restricted, each with features) and Events stored events, loaded
// straight through SQL, and prints both and their ratio: indexes, not scans, keep them
// close.
func Scale(ctx context.Context, o ScaleOptions, out io.Writer) error {
	if o.Accounts <= 0 {
		o.Accounts = 1_000_000
	}
	if o.Events < 0 {
		o.Events = 0
	}
	if o.Sample <= 0 {
		o.Sample = 10000
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 16
	}
	if o.Duration <= 0 {
		o.Duration = 10 * time.Second
	}
	fmt.Fprintf(out, "standing bench events --scale: empty store vs %d accounts and %d events; %d clients, %s a phase, SQLite\n",
		o.Accounts, o.Events, o.Concurrency, o.Duration)
	var results []ScaleResult
	for _, large := range []bool{false, true} {
		r, err := scaleRun(ctx, o, large, out)
		if err != nil {
			return err
		}
		results = append(results, r)
	}
	for _, r := range results {
		fmt.Fprintf(out, "%-6s check:  p50 %s  p99 %s  (%.0f checks/s, %d errors)\n", r.Label, round(r.Check.Lat.Percentile(50)), round(r.Check.Lat.Percentile(99)), r.Check.Rate(), r.Check.Errors)
		fmt.Fprintf(out, "%-6s events: p50 %s  p99 %s  (%.0f events/s, %d errors)\n", r.Label, round(r.Events.Lat.Percentile(50)), round(r.Events.Lat.Percentile(99)), r.Events.Rate(), r.Events.Errors)
	}
	e, l := results[0], results[1]
	ratio := func(a, b time.Duration) float64 { return float64(b) / float64(max(a, 1)) }
	fmt.Fprintf(out, "large/empty: check p50 %.2fx p99 %.2fx; events p50 %.2fx p99 %.2fx (goal: within 2x)\n",
		ratio(e.Check.Lat.Percentile(50), l.Check.Lat.Percentile(50)), ratio(e.Check.Lat.Percentile(99), l.Check.Lat.Percentile(99)),
		ratio(e.Events.Lat.Percentile(50), l.Events.Lat.Percentile(50)), ratio(e.Events.Lat.Percentile(99), l.Events.Lat.Percentile(99)))
	return nil
}

func scaleRun(ctx context.Context, o ScaleOptions, large bool, out io.Writer) (ScaleResult, error) {
	res := ScaleResult{Label: "empty"}
	s, err := StartServer(ctx, "", o.Concurrency)
	if err != nil {
		return res, err
	}
	defer s.Close()
	for _, r := range ExtraRules(o.ExtraRules) {
		body, _ := json.Marshal(r)
		if err := s.Post(ctx, "/v1/rules", body, nil); err != nil {
			return res, err
		}
	}
	var ids []string
	if large {
		res.Label = "large"
		start := time.Now()
		if err := BulkLoad(ctx, s.App.Store, o.Accounts, o.Events, s.App.Clock.Now()); err != nil {
			return res, err
		}
		res.Load = time.Since(start)
		fmt.Fprintf(out, "large:  loaded %d accounts and %d events through SQL in %.0fs\n", o.Accounts, o.Events, res.Load.Seconds())
		rng := rand.New(rand.NewPCG(7, 11))
		seen := map[int]bool{}
		for len(ids) < min(o.Sample, o.Accounts) {
			i := rng.IntN(o.Accounts)
			if !seen[i] {
				seen[i] = true
				ids = append(ids, BulkAccountID(i))
			}
		}
	} else {
		ids, _, err = s.ImportAccounts(ctx, o.Sample, "scale")
		if err != nil {
			return res, err
		}
	}
	// Check each sampled account once, so the measured checks are the steady state.
	for _, id := range ids {
		body := []byte(`{"account_id":"` + id + `","capability":"pay"}`)
		if err := s.Post(ctx, "/v1/check", body, nil); err != nil {
			return res, err
		}
	}
	// And post one event for each, so the measured events find the accounts' features in
	// memory as a running server does (the first event of an account reads them).
	if err := WarmEvents(ctx, s, ids, res.Label); err != nil {
		return res, err
	}
	res.Check, err = driveChecks(ctx, s, ids, o.Concurrency, o.Duration)
	if err != nil {
		return res, err
	}
	res.Events, err = DriveEvents(ctx, s, ids, o.Concurrency, 1, o.Duration, res.Label[:1], false)
	return res, err
}

// driveChecks posts checks of the accounts from raw keep-alive clients for d.
func driveChecks(ctx context.Context, s *Server, ids []string, clients int, d time.Duration) (EventsResult, error) {
	addr := strings.TrimPrefix(s.URL, "http://")
	pool := make(chan *rawClient, clients)
	for i := 0; i < clients; i++ {
		pool <- newRawClient(addr, s.Key, "/v1/check")
	}
	caps := standing.CapabilityNames()
	var bad atomic.Int64
	lat, errs, took := Drive(ctx, clients, d, func(ctx context.Context, rng *rand.Rand) error {
		c := <-pool
		defer func() { pool <- c }()
		body := []byte(`{"account_id":"` + ids[rng.IntN(len(ids))] + `","capability":"` + caps[rng.IntN(len(caps))] + `"}`)
		status, err := c.post(body)
		if err != nil {
			return err
		}
		if status != http.StatusOK {
			bad.Add(1)
			return fmt.Errorf("status %d", status)
		}
		return nil
	})
	return EventsResult{Events: lat.Count(), Requests: lat.Count(), Errors: errs, Took: took, Lat: lat, Batch: 1}, nil
}

// BulkAccountID is the id of the i-th account BulkLoad writes.
func BulkAccountID(i int) string { return fmt.Sprintf("acc_bulk%08d", i) }

// BulkLoad writes accounts and events straight into the store with set-based SQL, far
// faster than the API: accounts with features (a tenth restricted) and events spread over
// them and over the last 300 days. It is for benchmarks only; it bypasses the audit chain.
func BulkLoad(ctx context.Context, s *sqlstore.Store, accounts, events int, now time.Time) error {
	exec := func(q string, args ...any) error {
		if err := s.ExecRaw(ctx, q, args...); err != nil {
			return fmt.Errorf("bulk load: %w\n%s", err, q)
		}
		return nil
	}
	nowTS, span := now.UnixMicro(), int64(300*24*time.Hour/time.Microsecond)
	state := `{"v":1,"total":10,"ips":[{"v":"aaaaaaaaaaaaaaaa","t":0}],"cur":{}}`
	sqlite := s.Dialect() == sqlstore.SQLite
	if sqlite {
		// A larger page cache for the load; the server's connections keep their own.
		if err := exec("PRAGMA cache_size = -1000000"); err != nil {
			return err
		}
	}
	// rows runs an INSERT … SELECT over x = 0 … n-1: a recursive CTE on SQLite,
	// generate_series on PostgreSQL. The SELECT uses {pad} for x as 8 digits.
	rows := func(n int, insert, sel string, args ...any) error {
		if sqlite {
			q := "WITH RECURSIVE c(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM c WHERE x < ?) " + insert + " " +
				strings.ReplaceAll(sel, "{pad}", "printf('%08d', x)") + " FROM c"
			return exec(q, append([]any{n - 1}, args...)...)
		}
		q := insert + " " + strings.ReplaceAll(sel, "{pad}", "lpad(x::text, 8, '0')") + " FROM generate_series(0, ?::bigint) AS c(x)"
		return exec(q, append(args, n-1)...)
	}
	if err := rows(accounts, "INSERT INTO accounts (id, role, email, name, phone, country, lifecycle, created_at, updated_at)",
		"SELECT 'acc_bulk' || {pad}, 'buyer', 'bulk' || {pad} || '@bench.example', '', '', 'DE', 'active', ? - (x % 1000) * 86400000000, ?",
		nowTS, nowTS); err != nil {
		return err
	}
	removes := int64(standing.CapSet(standing.CapPlaceOrder, standing.CapPay, standing.CapWithdrawFunds, standing.CapReceivePayouts))
	if err := rows(accounts/10, `INSERT INTO restrictions (id, account_id, reason_code, title, removes, source, actor, severity, appealable,
		message, remedy, starts_at, state, created_at)`,
		`SELECT 'rst_bulk' || {pad}, 'acc_bulk' || {pad}, 'risk_review', 'Account under risk review', ?, 'rule', 'bench', 50, 1,
		'Paused for review.', 'Appeal.', ?, 'active', ?`, removes, nowTS, nowTS); err != nil {
		return err
	}
	// Events in chunks, so no single statement holds the write lock for minutes. Event x
	// of the whole load belongs to account x mod accounts, at a time spread over span.
	const chunk = 1_000_000
	for done := 0; done < events; done += chunk {
		n := min(chunk, events-done)
		acct, evid := "printf('%08d', (x + ?) % ?)", "printf('%010d', x + ?)"
		if !sqlite {
			acct, evid = "lpad(((x + ?::bigint) % ?::bigint)::text, 8, '0')", "lpad((x + ?::bigint)::text, 10, '0')"
		}
		if err := rows(n, "INSERT INTO events (id, account_id, type, occurred_at, received_at, ip, device_id, attributes, result, country, asn, ip_flags)",
			"SELECT 'bulk-' || "+evid+", 'acc_bulk' || "+acct+", 'login_succeeded', ? - ((x + ?) * 7919 % ?), ?, '10.' || (x % 200) || '.' || (x % 7) || '.1', 'dev', '{}', '', 'DE', 0, 0",
			done, done, accounts, nowTS, done, span, nowTS); err != nil {
			return err
		}
	}
	// The feature states count all those events (through: the last events row), as the
	// engine leaves them; on PostgreSQL through is unused.
	through := "0"
	if sqlite {
		through = "(SELECT COALESCE(MAX(rowid), 0) FROM events)"
	}
	if err := rows(accounts, "INSERT INTO account_risk (account_id, state, denied, updated_at, through)",
		"SELECT 'acc_bulk' || {pad}, ?, 0, ?, "+through, state, nowTS); err != nil {
		return err
	}
	if !sqlite {
		return exec("ANALYZE")
	}
	// The events' by-account lookup, as the store's flushes leave it (sqlstore/eventindex.go).
	if err := s.IndexAllEvents(ctx); err != nil {
		return fmt.Errorf("bulk load: %w", err)
	}
	// Copy the load out of the WAL now, so the measured phase does not pay for it.
	return exec("PRAGMA wal_checkpoint(TRUNCATE)")
}
