package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/bits"
	"net/netip"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"weak"

	"github.com/jackc/pgx/v5/pgconn"

	"standing"
	"standing/rules"
)

// Risk is the risk engine's side of the store. It decides on events inside the store's
// transactions — features folded in, identity details linked, rules evaluated, actions
// taken, all in the transaction that stores the event — with the rules in force, which it
// compiles once and keeps until they or the policy change.
//
// On SQLite, where one connection writes, concurrent ProcessEvents calls are combined:
// a writer goroutine, started when calls wait and ending when none is left, takes every
// call waiting and decides on them in one transaction, so sixteen clients posting one
// event each cost one commit, not sixteen.
type Risk struct {
	s   *Store
	log *slog.Logger
	// identity turns the account record's own details (phone, name) into identity
	// attributes at the account's first event; nil leaves them out.
	identity func(a standing.Account) []standing.IdentityAttribute
	ipFacts  func(in *standing.EventInput, ip netip.Addr)
	decided  func(events int)

	mu     sync.Mutex // serialises engine rebuilds
	engine atomic.Pointer[engineState]

	cache riskCache

	combine bool
	qmu     sync.Mutex
	wake    chan struct{}    // tells a lingering writer that a call is queued
	queue   []*pendingEvents // calls waiting for the combining writer
	writing bool             // a writer goroutine is draining the queue
}

// RiskOptions configure a Risk.
type RiskOptions struct {
	Log *slog.Logger
	// Identity returns the hashed identity attributes of an account record (its phone and
	// name); called once per account, at its first event.
	Identity func(a standing.Account) []standing.IdentityAttribute
	// Combine makes concurrent ProcessEvents calls share transactions (SQLite only).
	Combine bool
	// Decided, when set, is told the events of each transaction that decided on events
	// and committed, for the metrics.
	Decided func(events int)
	// IPFacts sets the country, AS and anonymizer flags of an address on an event Standing
	// records itself (a sign-in on its pages), as the API does for the marketplace's;
	// nil leaves them out.
	IPFacts func(in *standing.EventInput, ip netip.Addr)
}

// NewRisk returns the risk engine over s.
func NewRisk(s *Store, o RiskOptions) *Risk {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	r := &Risk{s: s, log: o.Log, wake: make(chan struct{}, 1), identity: o.Identity, ipFacts: o.IPFacts, decided: o.Decided, combine: o.Combine && s.dialect == SQLite}
	r.cache = riskCache{m: map[string]*riskAccount{}, max: maxCachedAccounts, on: s.dialect == SQLite}
	registerRisk(s, r)
	if s.dialect == SQLite {
		// Events write a few random index pages each. The file mapped in memory saves a
		// system call per page read in a large database, and the WAL is checkpointed in
		// the background (checkpointer), the write connection only as a backstop, so a
		// commit seldom stalls copying pages into the database. The page cache is 8 MB
		// (the writer's DSN in Open), not more: this SQLite scans the whole cache at some
		// commits, which with a cache of 64 MB cost an eighth of the writer's time.
		for _, pragma := range []string{"PRAGMA mmap_size = 1073741824", "PRAGMA wal_autocheckpoint = 20000"} {
			if _, err := s.w.ExecContext(context.Background(), pragma); err != nil {
				o.Log.Warn("tuning the SQLite write connection for events failed", "pragma", pragma, "err", err)
			}
		}
		if _, err := startCheckpointer(s, o.Log); err != nil {
			o.Log.Warn("no background WAL checkpoints; the write connection checkpoints by itself", "err", err)
		}
		s.onClose(func() {
			if s.closeAsIfKilled {
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := r.saveLagging(ctx); err != nil {
				o.Log.Warn("saving the feature states that lag their events at close", "err", err)
			}
		})
	}
	return r
}

// saveLagging writes the feature states of the cached accounts whose saved state does not
// count all their events yet (SQLite), so that after a clean stop no account has events
// to fold in again when it is next read.
func (r *Risk) saveLagging(ctx context.Context) error {
	var saved []*riskAccount
	err := r.s.write(ctx, func(t *tx) error {
		saved = saved[:0]
		var states []any
		r.cache.mu.Lock()
		for id, ra := range r.cache.m {
			if ra.unsaved > 0 {
				states = append(states, id, string(ra.state.AppendJSON(nil)), ts(t.now), ra.through)
				saved = append(saved, ra)
			}
		}
		r.cache.mu.Unlock()
		return saveRiskStates(t, states)
	})
	if err != nil {
		return err
	}
	for _, ra := range saved {
		ra.unsaved = 0
	}
	return nil
}

// checkpointInterval is how often the background checkpointer copies the WAL into the
// database.
const checkpointInterval = 200 * time.Millisecond

// startCheckpointer runs passive WAL checkpoints on a connection of its own, so commits on
// the write connection do not. A passive checkpoint never blocks writers or readers. It
// stops when the store is closed, when the store is garbage (it holds it only weakly) or
// when its file is gone. Closing the store waits for it, so no checkpoint touches the
// folder after Close returns.
func startCheckpointer(s *Store, log *slog.Logger) (stopped <-chan struct{}, err error) {
	path := strings.TrimPrefix(strings.TrimPrefix(s.dsn, "sqlite://"), "sqlite:")
	db, err := sql.Open("sqlite", "file:"+url.PathEscape(path)+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	store := weak.Make(s)
	stop, done := make(chan struct{}), make(chan struct{})
	s.onClose(func() {
		close(stop)
		<-done
	})
	go func() {
		defer close(done)
		defer db.Close()
		t := time.NewTicker(checkpointInterval)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			if store.Value() == nil {
				return
			}
			if _, err := os.Stat(path); err != nil {
				return
			}
			if _, err := db.Exec("PRAGMA wal_checkpoint(PASSIVE)"); err != nil {
				log.Debug("background WAL checkpoint", "err", err)
			}
		}
	}()
	return done, nil
}

// Store returns the store the engine works on.
func (r *Risk) Store() *Store { return r.s }

// engineState is the rules in force compiled against one policy.
type engineState struct {
	engine  *rules.Engine
	policy  *standing.Policy
	gen     ruleGeneration
	skipped []string // rules left out because they no longer compile or validate
}

// ruleGeneration identifies a state of the rules table: any save changes it.
type ruleGeneration struct {
	count  int
	latest int64
}

func (r *Risk) generation(ctx context.Context) (ruleGeneration, error) {
	var g ruleGeneration
	err := r.s.queryRow(ctx, "SELECT COUNT(*), COALESCE(MAX(updated_at), 0) FROM rules").Scan(&g.count, &g.latest)
	return g, translate(err)
}

// current returns the engine for the rules in force under the policy in effect.
func (r *Risk) current(ctx context.Context) (*engineState, error) {
	if es := r.engine.Load(); es != nil && es.policy == r.s.policy() {
		return es, nil
	}
	return r.rebuild(ctx)
}

// Refresh rebuilds the engine when the rules changed in the database (another process, or
// `standing rules apply`) or the policy was reloaded. The app calls it on every pass of the
// job runner.
func (r *Risk) Refresh(ctx context.Context) error {
	es := r.engine.Load()
	if es == nil || es.policy != r.s.policy() {
		_, err := r.rebuild(ctx)
		return err
	}
	g, err := r.generation(ctx)
	if err != nil {
		return err
	}
	if g != es.gen {
		_, err = r.rebuild(ctx)
	}
	return err
}

// Skipped lists the stored rules the engine leaves out because they do not compile or
// validate under the policy in effect (a reason removed from the catalog, say).
func (r *Risk) Skipped(ctx context.Context) ([]string, error) {
	es, err := r.current(ctx)
	if err != nil {
		return nil, err
	}
	return es.skipped, nil
}

func (r *Risk) rebuild(ctx context.Context) (*engineState, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.s.policy()
	g, err := r.generation(ctx)
	if err != nil {
		return nil, err
	}
	if es := r.engine.Load(); es != nil && es.policy == p && es.gen == g {
		return es, nil
	}
	revs, err := r.Rules(ctx)
	if err != nil {
		return nil, err
	}
	es := &engineState{policy: p, gen: g}
	var good []rules.Rule
	for _, rev := range revs {
		if err := checkRule(p, rev.Rule); err != nil {
			es.skipped = append(es.skipped, fmt.Sprintf("%s v%d: %s", rev.ID, rev.Version, standing.ErrorMessage(err)))
			r.log.Warn("a stored rule is left out of the engine", "rule", rev.ID, "version", rev.Version, "err", standing.ErrorMessage(err))
			continue
		}
		good = append(good, rev.Rule)
	}
	es.engine, err = rules.NewEngine(p, good)
	if err != nil {
		return nil, err
	}
	r.engine.Store(es)
	return es, nil
}

// checkRule validates a rule against the policy and compiles it.
func checkRule(p *standing.Policy, rule rules.Rule) error {
	if err := rule.Validate(p); err != nil {
		return err
	}
	_, err := rules.Compile(rule)
	return err
}

// ProcessEvents decides on each event: an event id seen before gets its first decision
// back and changes nothing; an unknown account is an ENOTFOUND result for that event only,
// an erased one EGONE. The error is for failures of the whole call.
func (r *Risk) ProcessEvents(ctx context.Context, in []standing.EventInput) ([]standing.EventResult, error) {
	if len(in) == 0 {
		return nil, nil
	}
	if !r.combine {
		out, err := r.processRetrying(ctx, in)
		if err == nil {
			r.flushEventIndex(false)
		}
		return out, err
	}
	p := &pendingEvents{in: in, done: make(chan struct{})}
	r.qmu.Lock()
	r.queue = append(r.queue, p)
	if !r.writing {
		r.writing = true
		go r.drain()
	}
	r.qmu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default: // a wake-up is pending already
	}
	select {
	case <-p.done:
		return p.out, p.err
	case <-ctx.Done():
		// The writer still decides on the events; the caller stops waiting for the answer.
		return nil, ctx.Err()
	}
}

// pendingEvents is one ProcessEvents call waiting for the combining writer.
type pendingEvents struct {
	in   []standing.EventInput
	out  []standing.EventResult
	err  error
	done chan struct{}
}

// maxCombined bounds the events one combined transaction decides on.
const maxCombined = 1000

// drain is the combining writer: it decides on the waiting calls, as many as are queued
// (up to maxCombined events) in one transaction, until none has come for drainLinger,
// then ends. If a combined transaction fails, each of its calls is retried in its own, so
// one call's failure is not another's. (It never holds a transaction open waiting for
// more calls: the writer's own time is what limits the rate. It lingers between calls so
// a steady stream is served by one goroutine, not a new one, with a new stack to grow
// through SQLite's deep calls, for each burst.)
func (r *Risk) drain() {
	idle := time.NewTimer(drainLinger)
	defer idle.Stop()
	for {
		r.qmu.Lock()
		n, k := 0, 0
		for k < len(r.queue) && (k == 0 || n+len(r.queue[k].in) <= maxCombined) {
			n += len(r.queue[k].in)
			k++
		}
		batch := r.queue[:k:k]
		r.queue = r.queue[k:]
		r.qmu.Unlock()
		if len(batch) > 0 {
			r.runCombined(batch, n)
			r.flushEventIndex(false)
			continue
		}
		idle.Reset(drainLinger)
		select {
		case <-r.wake:
			continue
		case <-idle.C:
		}
		r.flushEventIndex(true)
		r.qmu.Lock()
		if len(r.queue) == 0 {
			r.writing = false
			r.queue = nil
			r.qmu.Unlock()
			return
		}
		r.qmu.Unlock()
	}
}

// flushEventIndex moves the tail of the events into event_segments (eventindex.go) when it
// is due, or with idle whenever it holds any.
func (r *Risk) flushEventIndex(idle bool) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := r.s.flushEventIndex(ctx, idle); err != nil && r.log != nil {
		r.log.Error("index events by account", "err", err)
	}
}

// drainLinger is how long the combining writer waits for another call before it ends.
const drainLinger = 100 * time.Millisecond

func (r *Risk) runCombined(batch []*pendingEvents, n int) {
	// No deadline: a context that can end makes database/sql watch it with a goroutine
	// for each transaction and this SQLite driver with one for each statement, a tenth
	// of the writer's time with single events. Nothing waits on the writer but its
	// callers, who stop waiting when their own contexts end (ProcessEvents).
	ctx := context.Background()
	if len(batch) == 1 {
		p := batch[0]
		p.out, p.err = r.processRetrying(ctx, p.in)
		close(p.done)
		return
	}
	all := make([]standing.EventInput, 0, n)
	for _, p := range batch {
		all = append(all, p.in...)
	}
	out, err := r.processRetrying(ctx, all)
	for _, p := range batch {
		if err != nil {
			p.out, p.err = r.processRetrying(ctx, p.in)
		} else {
			p.out, out = out[:len(p.in):len(p.in)], out[len(p.in):]
		}
		close(p.done)
	}
}

// processRetrying runs process, again when PostgreSQL aborted it for a deadlock or a
// serialization failure between concurrent batches.
func (r *Risk) processRetrying(ctx context.Context, in []standing.EventInput) ([]standing.EventResult, error) {
	for attempt := 1; ; attempt++ {
		out, err := r.process(ctx, in)
		var pe *pgconn.PgError
		if err != nil && attempt < 4 && errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001") {
			continue
		}
		return out, err
	}
}

// process decides on the events in one transaction, in three passes: first, in order,
// each event's features are folded in and its identity details linked; then the rules are
// evaluated on every event at once, spread over the processors (evaluation reads no
// database); last, in order, the actions are taken and the events stored. An event whose
// facts an earlier event's actions changed is evaluated again first (see finish).
func (r *Risk) process(ctx context.Context, in []standing.EventInput) ([]standing.EventResult, error) {
	out, err := r.decide(ctx, in, r.s.dialect == SQLite)
	if errors.Is(err, errStoredBefore) {
		out, err = r.decide(ctx, in, false)
	}
	return out, err
}

// errStoredBefore ends a transaction that decided on its events as new when one of them
// was stored before (see decider.unchecked).
var errStoredBefore = errors.New("an event of the call was stored before")

// decide is process in one transaction. unchecked (SQLite) decides on the events as if
// none were stored before, and fails with errStoredBefore, changing nothing, when the
// insert of the events finds one that was: a repeated event id is rare, and looking the
// ids up first cost each transaction a query on the writer's serial path.
func (r *Risk) decide(ctx context.Context, in []standing.EventInput, unchecked bool) ([]standing.EventResult, error) {
	es, err := r.current(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]standing.EventResult, len(in))
	var touched []string
	err = r.s.write(ctx, func(t *tx) error {
		d := &decider{r: r, t: t, es: es, p: es.policy, accounts: map[string]*riskAccount{}, seen: map[string]int{}, unchecked: unchecked}
		t.keepsStanding = true
		if !unchecked {
			if err := d.loadPrior(in); err != nil {
				return err
			}
		}
		pre := make([]*pending, len(in))
		for i := range in {
			pe, err := d.prepare(&in[i], i)
			if err != nil {
				if standing.ErrorCode(err) == standing.EINTERNAL {
					return err
				}
				out[i] = standing.EventResult{Err: err}
				continue
			}
			pre[i] = pe
		}
		d.evaluate(pre)
		for i, pe := range pre {
			if pe == nil {
				continue
			}
			if pe.dupOf >= 0 {
				first := out[pe.dupOf]
				if first.Err != nil {
					out[i] = first
					continue
				}
				dup := *first.Decision
				dup.Duplicate = true
				out[i] = standing.EventResult{Decision: &dup}
				continue
			}
			if pe.dec != nil {
				out[i] = standing.EventResult{Decision: pe.dec}
				continue
			}
			dec, err := d.finish(pe)
			if err != nil {
				return err
			}
			out[i] = standing.EventResult{Decision: dec}
		}
		if err := d.encodeResults(); err != nil {
			return err
		}
		if err := d.flush(); err != nil {
			if errors.Is(err, errStoredBefore) {
				for id := range d.accounts {
					touched = append(touched, id)
				}
			}
			return err
		}
		// On SQLite this transaction holds the only write connection until it commits, so
		// no other change can come between this and the commit.
		r.cache.keep(d.accounts)
		return nil
	})
	if errors.Is(err, errStoredBefore) {
		// The accounts it read changed in memory only; the others are as stored.
		r.cache.forget(touched...)
		return nil, err
	}
	if err != nil {
		r.cache.reset()
		return nil, err
	}
	if r.decided != nil {
		r.decided(len(in))
	}
	return out, nil
}

// decider decides on the events of one transaction, keeping each account it touches in
// memory until the transaction ends.
type decider struct {
	r        *Risk
	t        *tx
	es       *engineState
	p        *standing.Policy
	accounts map[string]*riskAccount
	seen     map[string]int // event id → index of its first occurrence in this call
	// restricted is set once a rule restricted an account in this transaction: linked
	// accounts' facts may have changed. closed holds the accounts whose orders a rule
	// closed: their ledger counts changed.
	restricted bool
	closed     map[string]bool
	// prior holds the stored decisions of the call's event ids stored before; unchecked
	// says it was not read, the events are taken as new (decide).
	prior     map[string]string
	unchecked bool
	// events and hits are the rows this transaction writes at its end, many to a
	// statement; results are the decisions whose JSON the events rows still need.
	events  []any
	hits    []any
	results []storedResult
}

// riskAccount is an account as the risk engine sees it within one transaction.
type riskAccount struct {
	acc      standing.Account
	state    rules.FeatureState
	denied   int
	active   int  // orders in pending_payment, paid or shipped, as buyer or seller
	disputes int  // open disputes, as buyer or seller
	stored   bool // its features are in account_risk: it had an event before
	dirty    bool // its state changed in this transaction
	// through is the rowid of the last stored event the state counts, and unsaved how many
	// events it counts that the state in account_risk does not (SQLite; see eventrows.go).
	through int64
	unsaved int
	// known holds the identity details recorded for the account ("kind:hash"), so a
	// detail seen again is not written again; nil when not loaded.
	known map[string]bool
	// hasLinks is whether the account is linked to others; links says it is known.
	hasLinks, linksKnown bool
	// standing is the account's lifecycle and active restrictions, read when an action
	// first needs them and kept with the cached account: a rule's restriction is added to
	// it as it is stored, and any other change of standing has the account read again
	// (tx.touch, Store.write).
	standing *standing.Standing
	// vars is the rules' account variable, built once (prepare): a cached account is
	// read again when its row changes, and the rules only read it.
	vars map[string]any
	// refresh says the account's row, counts, links or standing changed outside the
	// engine since it was cached (riskCache.refresh).
	refresh bool
}

// pending is one event between the passes of process.
type pending struct {
	in       *standing.EventInput
	ra       *riskAccount
	ev       rules.Event
	order    *standing.Order
	input    rules.Input
	features rules.FeatureVector // input.Vector
	eval     rules.Evaluation
	dec      *standing.EventDecision // set for an event id stored before
	dupOf    int                     // index of the first occurrence in this call, or -1
	linked   int
	flagged  int
	recipFlg bool
}

const riskAccountQuery = `SELECT a.id, a.role, a.lifecycle, a.country, a.phone, a.name, a.created_at, a.email_verified_at,
	r.state, COALESCE(r.denied, 0), COALESCE(r.through, 0),
	(SELECT COUNT(*) FROM orders o WHERE o.buyer_id = a.id AND o.status IN ('pending_payment', 'paid', 'shipped')) +
	(SELECT COUNT(*) FROM orders o WHERE o.seller_id = a.id AND o.status IN ('pending_payment', 'paid', 'shipped')),
	(SELECT COUNT(*) FROM disputes d WHERE d.buyer_id = a.id AND d.status = 'open') +
	(SELECT COUNT(*) FROM disputes d WHERE d.seller_id = a.id AND d.status = 'open')
	FROM accounts a LEFT JOIN account_risk r ON r.account_id = a.id WHERE a.id = ?`

// loadRiskAccount reads an account with its feature state and ledger counts. lock locks
// the account's row on PostgreSQL, so concurrent events of one account queue up; replay
// folds in, on SQLite, the account's events its stored state does not count yet (all but
// a caller that drops the state want it).
func loadRiskAccount(q querier, s *Store, id string, lock, replay bool) (*riskAccount, error) {
	dialect := s.dialect
	if lock && dialect == Postgres {
		// Lock first, read after: in READ COMMITTED a statement that waited for a row lock
		// sees the locked row's new version but the rest of the snapshot it started with,
		// which would be the feature state before the transaction that held the lock.
		var one int
		if err := q.queryRow("SELECT 1 FROM accounts WHERE id = ? FOR UPDATE", id).Scan(&one); err == sql.ErrNoRows {
			return nil, standing.FieldErrorf(standing.ENOTFOUND, "account_id", "no account %q", id)
		} else if err != nil {
			return nil, err
		}
	}
	ra := &riskAccount{}
	state, through, err := readRiskRow(q, id, ra)
	if err != nil {
		return nil, err
	}
	ra.through = through
	// A row with the empty state holds only deny-list counts (addIdentity writes it when
	// an order's detail is on the list): the account has had no event yet, and its first
	// one must still record the account's own details.
	if state.Valid && state.String != "{}" {
		ra.stored = true
		if err := json.Unmarshal([]byte(state.String), &ra.state); err != nil {
			return nil, fmt.Errorf("feature state of %s: %w", id, err)
		}
	}
	if dialect == SQLite && replay {
		if err := replayEvents(q, s, ra); err != nil {
			return nil, fmt.Errorf("events of %s after its stored features: %w", id, err)
		}
	}
	return ra, nil
}

// refreshRiskAccount reads again what of a cached account may change outside the risk
// engine — its row, deny-list count, ledger counts, links and standing — and keeps its
// features, which only the engine changes.
func refreshRiskAccount(q querier, ra *riskAccount) error {
	if _, _, err := readRiskRow(q, ra.acc.ID, ra); err != nil {
		return err
	}
	ra.linksKnown, ra.standing, ra.vars, ra.refresh = false, nil, nil, false
	return nil
}

// readRiskRow reads riskAccountQuery's row of an account into ra's account, deny-list and
// ledger counts, and returns its stored feature state and through.
func readRiskRow(q querier, id string, ra *riskAccount) (state sql.NullString, through int64, err error) {
	a := &ra.acc
	var created int64
	var verified sql.NullInt64
	err = q.queryRow(riskAccountQuery, id).Scan(&a.ID, &a.Role, &a.Lifecycle, &a.Country, &a.Phone, &a.Name, &created, &verified,
		&state, &ra.denied, &through, &ra.active, &ra.disputes)
	if err == sql.ErrNoRows {
		return state, 0, standing.FieldErrorf(standing.ENOTFOUND, "account_id", "no account %q", id)
	} else if err != nil {
		return state, 0, err
	}
	a.CreatedAt, a.EmailVerifiedAt = fromTS(created), fromNullTS(verified)
	return state, through, nil
}

// account returns the account's risk side: from this transaction, from the cache, or from
// the database. (Every change of an account row makes the cache read it again.)
func (d *decider) account(id string) (*riskAccount, error) {
	if ra, ok := d.accounts[id]; ok {
		return ra, nil
	}
	if ra := d.r.cache.get(id); ra != nil {
		if ra.refresh {
			if err := refreshRiskAccount(d.t, ra); err != nil {
				return nil, err
			}
		}
		d.accounts[id] = ra
		return ra, nil
	}
	ra, err := loadRiskAccount(d.t, d.t.s, id, true, true)
	if err != nil {
		return nil, err
	}
	d.accounts[id] = ra
	return ra, nil
}

// flush writes the events and rule hits of the transaction and the feature state of every
// account it changed.
func (d *decider) flush() error {
	t := d.t
	head, cols := "INSERT INTO events (id, account_id, type, occurred_at, received_at, ip, device_id, attributes, country, asn, ip_flags, result) VALUES ", 12
	if t.s.dialect == SQLite {
		head, cols = "INSERT INTO events (rowid, id, account_id, type, occurred_at, received_at, ip, device_id, attributes, country, asn, ip_flags, result) VALUES ", 13
	}
	written, err := insertCounted(t, head, cols, " ON CONFLICT (id) DO NOTHING", d.events)
	if err != nil {
		return err
	}
	if d.unchecked && written < int64(len(d.events)/cols) {
		return errStoredBefore
	}
	if err := insertRows(t, "INSERT INTO rule_hits (id, rule_id, version, mode, event_id, account_id, at, actions) VALUES ",
		8, "", d.hits); err != nil {
		return err
	}
	var states []any
	var stored []*riskAccount
	for id, ra := range d.accounts {
		if !ra.dirty || (t.s.dialect == SQLite && ra.stored && ra.unsaved < maxUnsavedEvents) {
			continue
		}
		states = append(states, id, string(ra.state.AppendJSON(nil)), ts(t.now), ra.through)
		stored = append(stored, ra)
	}
	if err := saveRiskStates(t, states); err != nil {
		return err
	}
	for _, ra := range stored {
		ra.stored, ra.unsaved = true, 0
	}
	return nil
}

// maxUnsavedEvents is how many of an account's events its feature state may count before
// it is written again, on SQLite (see eventrows.go): at most that many are replayed when
// the account is read from the database. An account's first state is written at once.
const maxUnsavedEvents = 64

// saveRiskStates writes accounts' feature states, four values each (account id, state,
// time, through), and keeps their deny-list counts.
func saveRiskStates(t *tx, states []any) error {
	return insertRows(t, "INSERT INTO account_risk (account_id, state, updated_at, through, denied) VALUES ", 4,
		" ON CONFLICT (account_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at, through = excluded.through", states, "0")
}

// foldEvent folds an event Standing records itself (not one the marketplace posts),
// stored in the transaction as row (SQLite), into the account's risk features, as prepare
// does for the marketplace's, so the features count it. The rules do not run on it: they
// see it in the features of the account's next event. At the account's first event it
// records the account's own identity details, as prepare does, since from then on the
// account counts as seen. It tells the risk cache.
func (t *tx) foldEvent(in *standing.EventInput) error {
	// On SQLite reading the account folds in its stored events the state does not count
	// yet, this one among them.
	ra, err := loadRiskAccount(t, t.s, in.AccountID, true, true)
	if err != nil {
		return err
	}
	r := t.s.risk()
	if !ra.stored && r != nil && r.identity != nil {
		ir, err := t.addIdentity(ra.acc.ID, r.identity(ra.acc))
		if err != nil {
			return err
		}
		t.s.riskChanged(ir.linked...)
	}
	if t.s.dialect != SQLite {
		ra.state.Apply(featureEvent(in))
	}
	t.s.riskForget(in.AccountID)
	return saveRiskStates(t, []any{in.AccountID, string(ra.state.AppendJSON(nil)), ts(t.now), ra.through})
}

// featureEvent is what the features take from a stored event. An address that is not an
// IP (an own event may keep one) counts as none.
func featureEvent(in *standing.EventInput) rules.Event {
	ev := rules.Event{ID: in.ID, Type: in.Type, AccountID: in.AccountID, Time: in.Time, DeviceID: in.DeviceID,
		Country: in.Country, ASN: in.ASN}
	if ip, err := netip.ParseAddr(in.IP); err == nil {
		ev.IP = ip
	}
	return ev
}

// insertRows inserts the rows of args, cols values each, many rows to a statement: in
// chunks of 64, 32, …, 1 rows, so a handful of statements cover any count and each is
// prepared once. fixed are SQL values appended to every row after its parameters.
func insertRows(t *tx, head string, cols int, tail string, args []any, fixed ...string) error {
	_, err := insertCounted(t, head, cols, tail, args, fixed...)
	return err
}

// insertCounted is insertRows returning how many rows the statements wrote.
func insertCounted(t *tx, head string, cols int, tail string, args []any, fixed ...string) (int64, error) {
	var written int64
	for len(args) > 0 {
		rows := min(maxRowsPerInsert, len(args)/cols)
		rows = 1 << (bits.Len(uint(rows)) - 1) // the largest power of two ≤ rows
		res, err := t.exec(head+valuesList(rows, cols, fixed)+tail, args[:rows*cols]...)
		if err != nil {
			return written, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return written, err
		}
		written += n
		args = args[rows*cols:]
	}
	return written, nil
}

// maxRowsPerInsert bounds the rows of one INSERT (a power of two).
const maxRowsPerInsert = 64

// valuesList writes "(?, ?), (?, ?)" for rows rows of cols parameters, each followed by
// the fixed values.
func valuesList(rows, cols int, fixed []string) string {
	var b strings.Builder
	for r := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c := range cols {
			if c > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('?')
		}
		for _, f := range fixed {
			b.WriteString(", ")
			b.WriteString(f)
		}
		b.WriteByte(')')
	}
	return b.String()
}

// storedResult returns the stored decision of an event id stored before.
func (d *decider) storedResult(id string) (result string, stored bool, err error) {
	if d.t.s.dialect == SQLite {
		result, stored = d.prior[id]
		return result, stored, nil
	}
	// On PostgreSQL, read after the account's lock, which prepare took: a concurrent copy
	// of the event committed while this waited is seen.
	err = d.t.queryRow("SELECT result FROM events WHERE id = ?", id).Scan(&result)
	if err == sql.ErrNoRows {
		return "", false, nil
	}
	return result, err == nil, err
}

// loadPrior reads, on SQLite, the stored decisions of the call's event ids that were
// stored before, in a few queries for the whole call. (One connection writes SQLite, so
// nothing can store one of them between this and the end of the transaction.)
func (d *decider) loadPrior(in []standing.EventInput) error {
	if d.t.s.dialect != SQLite {
		return nil
	}
	ids := make([]any, 0, len(in))
	for i := range in {
		ids = append(ids, in[i].ID)
	}
	for len(ids) > 0 {
		n := min(maxRowsPerInsert*8, len(ids))
		n = 1 << (bits.Len(uint(n)) - 1)
		rows, err := d.t.query("SELECT id, result FROM events WHERE id IN "+valuesList(1, n, nil), ids[:n]...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id, result string
			if err := rows.Scan(&id, &result); err != nil {
				rows.Close()
				return err
			}
			if d.prior == nil {
				d.prior = map[string]string{}
			}
			d.prior[id] = result
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		ids = ids[n:]
	}
	return nil
}

// ruleEvent converts an accepted event for the rules package.
func ruleEvent(in *standing.EventInput) (rules.Event, error) {
	ev := featureEvent(in)
	if in.IP != "" && !ev.IP.IsValid() {
		return ev, standing.FieldErrorf(standing.EINVALID, "ip", "%q is not an IP address", in.IP)
	}
	if in.Values != nil {
		ev.Attributes = in.Values
	} else if len(in.Attributes) > 2 {
		m, err := rules.DecodeAttributes(in.Attributes)
		if err != nil {
			return ev, standing.FieldErrorf(standing.EINVALID, "attributes", "attributes must be a JSON object")
		}
		ev.Attributes = m
	}
	return ev, nil
}

// prepare is the first pass over one event: the repeat check, its account, its identity
// details, its features folded in, and the facts and input its rules are evaluated on.
func (d *decider) prepare(in *standing.EventInput, i int) (*pending, error) {
	t := d.t
	ra, err := d.account(in.AccountID)
	if err != nil {
		return nil, err
	}
	pe := &pending{in: in, ra: ra, dupOf: -1}
	if j, ok := d.seen[in.ID]; ok {
		pe.dupOf = j
		return pe, nil
	}
	prevResult, stored, err := d.storedResult(in.ID)
	if err != nil {
		return nil, err
	} else if stored {
		pe.dec, err = duplicateDecision(in, prevResult)
		return pe, err
	}
	if ra.acc.Lifecycle == standing.LifecycleErased {
		return nil, standing.FieldErrorf(standing.EGONE, "account_id", "account %s was erased; its events are not accepted", ra.acc.ID)
	}
	if pe.ev, err = ruleEvent(in); err != nil {
		return nil, err
	}
	d.seen[in.ID] = i

	// Identity details: the account record's own at its first event, then the event's —
	// those not recorded for the account already.
	var attrs []standing.IdentityAttribute
	if !ra.stored && !ra.dirty && d.r.identity != nil {
		attrs = append(attrs, d.r.identity(ra.acc)...)
	}
	for _, a := range in.Identity {
		if a.Kind == standing.IdentityDevice && ra.state.KnowsDevice(in.DeviceID) {
			continue
		}
		if ra.known[string(a.Kind)+":"+a.Hash] {
			continue
		}
		attrs = append(attrs, a)
	}
	if len(attrs) > 0 {
		ir, err := t.addIdentity(ra.acc.ID, attrs)
		if err != nil {
			return nil, err
		}
		ra.denied += ir.denied
		if len(ir.linked) > 0 {
			ra.hasLinks, ra.linksKnown = true, true
			for _, o := range ir.linked {
				d.r.cache.refresh(o)
				if other, ok := d.accounts[o]; ok {
					other.hasLinks, other.linksKnown = true, true
				}
			}
		}
		if ra.known == nil {
			ra.known = map[string]bool{}
		}
		for _, a := range attrs {
			if len(ra.known) < maxKnownDetails {
				ra.known[string(a.Kind)+":"+a.Hash] = true
			}
		}
	}
	ra.state.Apply(pe.ev)
	ra.dirty = true
	ra.unsaved++

	if err := d.linkFacts(pe); err != nil {
		return nil, err
	}
	if in.OrderRef != "" {
		if pe.order, err = d.eventOrder(ra.acc.ID, in.OrderRef); err != nil {
			return nil, err
		}
	}
	recipient := in.RecipientName
	if recipient == "" && pe.order != nil {
		recipient = pe.order.RecipientName
	}
	pe.recipFlg = rules.RecipientFlagged(d.p, recipient)
	if ra.vars == nil {
		ra.vars = rules.AccountVars(ra.acc)
	}
	// The features as they are now, while the state was just read: taking them in the
	// parallel pass instead, with the state fetched again from memory, cost the writer
	// more than it saved.
	rules.VectorInto(&pe.features, &ra.state, d.facts(pe), in.Time)
	pe.input.Vector = &pe.features
	return pe, nil
}

// maxKnownDetails bounds the identity details a cached account remembers as recorded.
const maxKnownDetails = 64

// linkFacts reads the account's linked accounts and how many of them are flagged, unless
// it is known to have no links.
func (d *decider) linkFacts(pe *pending) error {
	ra := pe.ra
	if ra.linksKnown && !ra.hasLinks {
		pe.linked, pe.flagged = 0, 0
		return nil
	}
	linked, flagged, err := linkFacts(d.t, ra.acc.ID, d.p.Reregistration.DenyListReasons)
	if err != nil {
		return err
	}
	pe.linked, pe.flagged = linked, flagged
	ra.hasLinks, ra.linksKnown = linked > 0, true
	return nil
}

// facts are the caller-supplied features of an event as they stand now.
func (d *decider) facts(pe *pending) rules.Facts {
	ra := pe.ra
	return rules.Facts{
		AccountCreatedAt: ra.acc.CreatedAt, ActiveOrders: ra.active, OpenDisputes: ra.disputes,
		LinkedAccounts: pe.linked, LinkedRestricted: pe.flagged + ra.denied, IP: ruleFlags(pe.in.IPFlags),
		RecipientFlagged: pe.recipFlg,
	}
}

// evaluate is the second pass: every prepared event's rules, spread over the processors
// when there are enough events to be worth it (evaluation is pure CPU).
func (d *decider) evaluate(pre []*pending) {
	var work []*pending
	for _, pe := range pre {
		if pe != nil && pe.dupOf < 0 && pe.dec == nil {
			work = append(work, pe)
		}
	}
	parallel(len(work), 1, func(k int) { d.evaluateOne(work[k]) })
}

// parallel calls do(0) … do(n-1), spread over the processors when there are at least
// per items for each: the caller works through them too, helped by a goroutine on each
// other processor, so it never waits for a helper to be scheduled, only for the item a
// helper is on.
func parallel(n, per int, do func(i int)) {
	var next atomic.Int64
	run := func() {
		for k := int(next.Add(1)) - 1; k < n; k = int(next.Add(1)) - 1 {
			do(k)
		}
	}
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), n/per) - 1 {
		wg.Go(run)
	}
	run()
	wg.Wait()
}

// evaluateOne completes an event's rule input and evaluates the rules on it. Several run
// at once on different events; they only read the accounts.
func (d *decider) evaluateOne(pe *pending) {
	pe.input.Raw, pe.input.Account = &pe.ev, pe.ra.vars
	pe.eval = d.es.engine.Evaluate(pe.input)
}

// finish is the last pass over one event: actions, rule hits and the stored event. When
// an earlier event of the transaction changed its facts — a restriction, for an account
// with links; closed orders, for the same account — they are read again and the rules
// evaluated again on them first.
func (d *decider) finish(pe *pending) (*standing.EventDecision, error) {
	t, ra, in := d.t, pe.ra, pe.in
	if (d.restricted && ra.hasLinks) || d.closed[ra.acc.ID] {
		if err := d.linkFacts(pe); err != nil {
			return nil, err
		}
		d.facts(pe).SetIn(&pe.features, in.Time)
		pe.eval = d.es.engine.Evaluate(pe.input)
	}
	eval := pe.eval
	dec := &standing.EventDecision{EventID: in.ID, AccountID: ra.acc.ID, Type: in.Type, Score: eval.Score,
		Fired: firedRules(eval.Active), Shadow: firedRules(eval.Shadow), Actions: []standing.RiskAction{}, DecidedAt: t.now}
	for _, e := range eval.Errors {
		dec.Errors = append(dec.Errors, standing.RuleFailure{RuleID: e.RuleID, Version: e.Version, Message: e.Message})
	}
	if len(eval.Active) > 0 {
		if err := d.act(ra, in, pe.order, eval, dec); err != nil {
			return nil, err
		}
	}
	for i := range dec.Shadow {
		dec.Shadow[i].Effect = "would " + eval.Shadow[i].Outcome.Describe() + "; nothing changed (shadow rule)"
	}
	for _, f := range append(slices.Clone(dec.Fired), dec.Shadow...) {
		d.hits = append(d.hits, standing.NewID("hit", t.now), f.RuleID, f.Version, f.Mode, in.ID, ra.acc.ID, ts(t.now), truncate(f.Effect, 1000))
	}
	attrs := string(in.Attributes)
	if attrs == "" {
		attrs = "{}"
	}
	if t.s.dialect == SQLite {
		row, err := t.nextEventRow()
		if err != nil {
			return nil, err
		}
		d.events = append(d.events, row)
		ra.through = row
		if err := t.indexLater(ra.acc.ID, row, in.Type, ts(in.Time)); err != nil {
			return nil, err
		}
	}
	// The decision is stored as JSON, written by encodeResults for all events at once.
	d.events = append(d.events, in.ID, ra.acc.ID, in.Type, ts(in.Time), ts(t.now), in.IP, in.DeviceID, attrs, in.Country, int64(in.ASN),
		in.IPFlags.Bits(), nil)
	d.results = append(d.results, storedResult{at: len(d.events) - 1, dec: dec})
	return dec, nil
}

// storedResult is a decision whose JSON goes in d.events at at.
type storedResult struct {
	at  int
	dec *standing.EventDecision
}

// encodeResults writes the JSON of the transaction's decisions into their events rows,
// spread over the processors when there are many (it is pure CPU, like evaluate).
func (d *decider) encodeResults() error {
	errs := make([]error, len(d.results))
	encode := func(i int) {
		b, err := encodeDecision(d.results[i].dec)
		d.events[d.results[i].at], errs[i] = string(b), err
	}
	parallel(len(d.results), 32, encode)
	return errors.Join(errs...)
}

// riskCache keeps, on SQLite, the risk side of recently seen accounts between
// transactions — feature state, ledger counts, whether they have links, the identity
// details recorded, the standing once an action read it — so an event does not read and
// decode them again. Only this process writes an SQLite file, and every change of what is
// cached either goes through the decider, or marks the account to be read again (ledger
// writes, links made by an order, a change of its row or of its standing outside the
// decider: riskChanged), or drops it (its events or stored features changed elsewhere:
// riskForget), so the cache stays right; a failed transaction empties it.
type riskCache struct {
	mu  sync.Mutex
	m   map[string]*riskAccount
	max int
	on  bool
}

// maxCachedAccounts bounds the cache: a few hundred bytes to a few KB an account.
const maxCachedAccounts = 200_000

// get returns the cached account. The transaction changes it in place: on commit keep puts
// it back as it is, and a failed transaction resets the whole cache, so no change of a
// transaction that did not commit survives. Only the writing transaction touches it (on
// SQLite there is one at a time).
func (c *riskCache) get(id string) *riskAccount {
	if !c.on {
		return nil
	}
	c.mu.Lock()
	ra, ok := c.m[id]
	c.mu.Unlock()
	if !ok {
		return nil
	}
	return ra
}

// keep caches the accounts of a transaction about to commit.
func (c *riskCache) keep(accounts map[string]*riskAccount) {
	if !c.on {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, ra := range accounts {
		if !ra.stored {
			continue
		}
		if _, ok := c.m[id]; !ok && len(c.m) >= c.max {
			for k := range c.m { // drop an arbitrary entry to make room
				delete(c.m, k)
				break
			}
		}
		ra.dirty = false
		c.m[id] = ra
	}
}

// refresh marks accounts whose row, ledger counts, links or standing changed elsewhere:
// the decider reads them again (decider.account), keeping the features.
func (c *riskCache) refresh(ids ...string) {
	if !c.on {
		return
	}
	c.mu.Lock()
	for _, id := range ids {
		if ra, ok := c.m[id]; ok {
			ra.refresh = true
		}
	}
	c.mu.Unlock()
}

// forget drops accounts whose cached features changed elsewhere.
func (c *riskCache) forget(ids ...string) {
	if !c.on {
		return
	}
	c.mu.Lock()
	for _, id := range ids {
		delete(c.m, id)
	}
	c.mu.Unlock()
}

func (c *riskCache) reset() {
	if !c.on {
		return
	}
	c.mu.Lock()
	c.m = map[string]*riskAccount{}
	c.mu.Unlock()
}

// risks finds the Risk of a store, so the store's own writes can tell its cache. Both are
// held weakly: the registry keeps neither alive.
var risks sync.Map // weak.Pointer[Store] → weak.Pointer[Risk]

func registerRisk(s *Store, r *Risk) {
	key := weak.Make(s)
	risks.Store(key, weak.Make(r))
	runtime.AddCleanup(s, func(k weak.Pointer[Store]) { risks.Delete(k) }, key)
}

// riskChanged tells the store's risk engine that the row, ledger counts, links or standing
// of the accounts changed in the transaction under way: it reads them again at the
// account's next event and keeps the features. Call it inside the transaction: on SQLite
// no event transaction can run between it and the commit.
func (s *Store) riskChanged(accountIDs ...string) {
	if r := s.risk(); r != nil {
		r.cache.refresh(accountIDs...)
	}
}

// riskForget makes the store's risk engine drop what it holds in memory about the
// accounts, their features too: their events or stored features changed.
func (s *Store) riskForget(accountIDs ...string) {
	if r := s.risk(); r != nil {
		r.cache.forget(accountIDs...)
	}
}

// risk returns the store's risk engine (NewRisk), or nil.
func (s *Store) risk() *Risk {
	if v, ok := risks.Load(weak.Make(s)); ok {
		return v.(weak.Pointer[Risk]).Value()
	}
	return nil
}

// ForgetRiskState drops what the risk engine holds in memory about the accounts: an
// erasure calls it when it deletes their features.
func (s *Store) ForgetRiskState(accountIDs ...string) { s.riskForget(accountIDs...) }

// duplicateDecision returns the stored decision of an event id seen before.
func duplicateDecision(in *standing.EventInput, stored string) (*standing.EventDecision, error) {
	dec, err := decodeDecision(stored, in.ID, in.AccountID, in.Type)
	if err != nil {
		return nil, err
	}
	dec.Duplicate = true
	return dec, nil
}

// storedDecision is the form of a decision in its events row: what the row's columns
// say already (the event's id, account and type) is left out, and so are empty lists
// and a zero score. Most decisions fire nothing; the full form had made them half of
// each row, and of the pages each transaction writes. Rows written before keep the full
// form, which decodeDecision reads as well.
type storedDecision struct {
	Score     int                    `json:"score,omitempty"`
	Fired     []standing.FiredRule   `json:"fired,omitempty"`
	Shadow    []standing.FiredRule   `json:"shadow,omitempty"`
	Actions   []standing.RiskAction  `json:"actions,omitempty"`
	Errors    []standing.RuleFailure `json:"errors,omitempty"`
	DecidedAt time.Time              `json:"decided_at"`
}

func encodeDecision(dec *standing.EventDecision) ([]byte, error) {
	return json.Marshal(storedDecision{Score: dec.Score, Fired: dec.Fired, Shadow: dec.Shadow, Actions: dec.Actions,
		Errors: dec.Errors, DecidedAt: dec.DecidedAt})
}

// decodeDecision reads a stored decision, compact (storedDecision) or full, of the event
// id of the account of type typ. Empty (an event Standing recorded itself) is a decision
// of nothing.
func decodeDecision(stored, id, accountID, typ string) (*standing.EventDecision, error) {
	dec := &standing.EventDecision{}
	if stored != "" {
		if err := json.Unmarshal([]byte(stored), dec); err != nil {
			return nil, fmt.Errorf("stored decision of %s: %w", id, err)
		}
	}
	if dec.EventID == "" {
		dec.EventID, dec.AccountID, dec.Type = id, accountID, typ
	}
	if dec.Fired == nil {
		dec.Fired = []standing.FiredRule{}
	}
	if dec.Shadow == nil {
		dec.Shadow = []standing.FiredRule{}
	}
	if dec.Actions == nil {
		dec.Actions = []standing.RiskAction{}
	}
	return dec, nil
}

func ruleFlags(f standing.IPFlags) rules.IPFlags {
	return rules.IPFlags{VPN: f.VPN, Proxy: f.Proxy, ResidentialProxy: f.ResidentialProxy, Tor: f.Tor, Hosting: f.Hosting, Anonymous: f.Anonymous}
}

// firedRules converts fired rules for the decision.
func firedRules(fs []rules.Fired) []standing.FiredRule {
	out := make([]standing.FiredRule, len(fs))
	for i, f := range fs {
		outcome, _ := json.Marshal(f.Outcome)
		out[i] = standing.FiredRule{RuleID: f.RuleID, Name: f.Name, Version: f.Version, Mode: string(f.Mode),
			Score: f.Outcome.Score, Outcome: outcome, Because: f.Explanation.String(), Explanation: explained(f.Explanation)}
	}
	return out
}

func explained(x rules.Explanation) []standing.ExplainedValue {
	out := make([]standing.ExplainedValue, len(x))
	for i, v := range x {
		out[i] = standing.ExplainedValue{Name: v.Name, Value: v.Value, Missing: v.Missing}
	}
	return out
}

// eventOrder reads the order an event names, if it is one of the account's.
func (d *decider) eventOrder(accountID, ref string) (*standing.Order, error) {
	o, err := d.t.orderForUpdate(ref)
	if standing.ErrorCode(err) == standing.ENOTFOUND {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if o.BuyerID != accountID && o.SellerID != accountID {
		return nil, nil
	}
	return &o, nil
}

// act carries out what the active rules that fired ask for and records it in dec.
func (d *decider) act(ra *riskAccount, in *standing.EventInput, order *standing.Order, eval rules.Evaluation, dec *standing.EventDecision) error {
	t := d.t
	if ra.standing == nil {
		st, err := t.standing(ra.acc.ID)
		if err != nil {
			return err
		}
		ra.standing = &st
	}
	// The account's full row (its email, for the mail) is read only for a restriction to
	// add: most firings find theirs already active.
	var acc *standing.Account
	effects := map[string][]string{} // rule id → what its firing did
	note := func(ruleIDs []string, what string) {
		for _, id := range ruleIDs {
			effects[id] = append(effects[id], what)
		}
	}
	byReason := map[string]string{} // reason code → the active restriction of that reason
	for _, ra2 := range eval.Actions.Restrictions {
		act := standing.RiskAction{Kind: standing.ActionRestrict, RuleIDs: ra2.RuleIDs, ReasonCode: ra2.ReasonCode}
		for _, r := range ra.standing.Restrictions {
			if r.ReasonCode == ra2.ReasonCode && r.State == standing.RestrictionActive {
				act.RestrictionID = r.ID
				act.Note = fmt.Sprintf("a %s restriction (%s) is already active; the firing is recorded and nothing is added", r.ReasonCode, r.ID)
				break
			}
		}
		if act.RestrictionID == "" {
			nr := standing.NewRestriction{ReasonCode: ra2.ReasonCode, Source: standing.SourceRule, RuleID: ra2.RuleIDs[0],
				Actor: "rule:" + ra2.RuleIDs[0], Note: restrictionNote(dec, ra2.RuleIDs, in.ID)}
			if ra2.Duration > 0 {
				end := t.now.Add(ra2.Duration.D())
				nr.EndsAt = &end
			}
			if order != nil && ra2.ReasonCode == standing.ReasonFlaggedRecipient {
				nr.OrderID = order.ID
			}
			if acc == nil {
				a, err := t.accountForUpdate(ra.acc.ID)
				if err != nil {
					return err
				}
				acc = &a
			}
			r, err := t.restrict(*acc, ra.standing, nr)
			if err != nil {
				if standing.ErrorCode(err) == standing.EINTERNAL {
					return err
				}
				dec.Errors = append(dec.Errors, standing.RuleFailure{RuleID: ra2.RuleIDs[0], Message: "the restriction was not added: " + standing.ErrorMessage(err)})
				continue
			}
			act.RestrictionID, act.Done = r.ID, true
			d.restricted = true
			note(ra2.RuleIDs, "restricted the account ("+r.ReasonCode+", "+r.ID+")")
		} else {
			note(ra2.RuleIDs, "asked for "+ra2.ReasonCode+", already active ("+act.RestrictionID+")")
		}
		byReason[ra2.ReasonCode] = act.RestrictionID
		dec.Actions = append(dec.Actions, act)
	}
	closeWith := func(pick func(o rules.Outcome) bool) (ruleIDs []string, reason string) {
		for _, f := range eval.Active {
			if pick(f.Outcome) {
				ruleIDs = append(ruleIDs, f.RuleID)
				if reason == "" {
					reason = f.Outcome.ReasonCode
				}
			}
		}
		if reason == "" {
			reason = standing.ReasonRiskReview
		}
		return ruleIDs, reason
	}
	if eval.Actions.CloseOpenOrders {
		ruleIDs, reason := closeWith(func(o rules.Outcome) bool { return o.CloseOpenOrders })
		ids, err := d.closeOrders(ra, "", reason, byReason[reason], ruleIDs[0])
		if err != nil {
			return err
		}
		act := standing.RiskAction{Kind: standing.ActionCloseOrders, RuleIDs: ruleIDs, ReasonCode: reason, RestrictionID: byReason[reason],
			OrderIDs: ids, Done: len(ids) > 0}
		if len(ids) == 0 {
			act.Note = "the account had no active orders to close"
		}
		note(ruleIDs, fmt.Sprintf("closed %d open orders", len(ids)))
		dec.Actions = append(dec.Actions, act)
	}
	if eval.Actions.CloseEventOrder {
		ruleIDs, reason := closeWith(func(o rules.Outcome) bool { return o.CloseEventOrder })
		act := standing.RiskAction{Kind: standing.ActionCloseOrder, RuleIDs: ruleIDs, ReasonCode: reason, RestrictionID: byReason[reason], OrderIDs: []string{}}
		switch {
		case order == nil:
			act.Note = "the event names no order of this account (attributes.order_id)"
		case order.BuyerID != ra.acc.ID || !order.Status.Active():
			act.Note = fmt.Sprintf("order %s is %s; only an active order of the buyer is closed", order.ID, order.Status)
		default:
			ids, err := d.closeOrders(ra, order.ID, reason, byReason[reason], ruleIDs[0])
			if err != nil {
				return err
			}
			act.OrderIDs, act.Done = ids, len(ids) > 0
			note(ruleIDs, "closed order "+order.ID)
		}
		dec.Actions = append(dec.Actions, act)
	}
	if eval.Actions.Review {
		var ruleIDs []string
		for _, f := range eval.Active {
			if f.Outcome.Review {
				ruleIDs = append(ruleIDs, f.RuleID)
			}
		}
		id, created, err := d.review(ra.acc.ID, in.ID, ruleIDs)
		if err != nil {
			return err
		}
		act := standing.RiskAction{Kind: standing.ActionReview, RuleIDs: ruleIDs, ReviewID: id, Done: created}
		if !created {
			act.Note = "the account is already in the review queue (" + id + "); this firing is added to it"
		}
		note(ruleIDs, "sent the account to review ("+id+")")
		dec.Actions = append(dec.Actions, act)
	}
	for i := range dec.Fired {
		f := &dec.Fired[i]
		if e := effects[f.RuleID]; len(e) > 0 {
			f.Effect = strings.Join(e, "; ")
		} else {
			f.Effect = fmt.Sprintf("added %d to the score", f.Score)
		}
	}
	return nil
}

// restrictionNote says which rules restricted the account and why; it is kept with the
// restriction for the reviewer.
func restrictionNote(dec *standing.EventDecision, ruleIDs []string, eventID string) string {
	var parts []string
	for _, f := range dec.Fired {
		if slices.Contains(ruleIDs, f.RuleID) {
			parts = append(parts, f.RuleID+" v"+fmt.Sprint(f.Version)+" ("+f.Because+")")
		}
	}
	return truncate("Rules fired on event "+eventID+": "+strings.Join(parts, "; "), standing.MaxNoteLen)
}

// closedReason is what the buyer reads about an order closed for the reason.
func closedReason(p *standing.Policy, code string, ends *time.Time) string {
	r, ok := p.Reason(code)
	if !ok {
		return "This order was closed by our risk checks."
	}
	msg := r.RenderMessage(ends) + " " + r.Remedy
	if code != standing.ReasonFlaggedRecipient {
		msg = "This order was closed by our risk checks. " + msg
	}
	return msg
}

// closeOrders closes the account's active orders as buyer (only orderID, when given) and
// sends order.closed for each. It returns the ids it closed.
func (d *decider) closeOrders(ra *riskAccount, orderID, reason, restrictionID, ruleID string) ([]string, error) {
	t := d.t
	var ends *time.Time
	for _, r := range ra.standing.Restrictions {
		if r.ID == restrictionID {
			ends = r.EndsAt
		}
	}
	if ra.active == 0 && t.s.dialect == SQLite {
		// No active order as buyer or seller (the count is kept as orders change). Only on
		// SQLite, where no other transaction runs during this one: on PostgreSQL an order a
		// concurrent ledger write committed since the count was read must close too.
		return []string{}, nil
	}
	text := closedReason(d.p, reason, ends)
	var rows *sql.Rows
	var err error
	if orderID == "" {
		rows, err = t.query(`UPDATE orders SET status = 'closed_by_risk', closed_reason_code = ?, closed_reason = ?,
			closed_restriction_id = ?, closed_rule_id = ?, closed_at = ?, updated_at = ?
			WHERE buyer_id = ? AND status IN ('pending_payment', 'paid', 'shipped')
			RETURNING id, COALESCE(external_id, ''), seller_id`, reason, text, restrictionID, ruleID, ts(t.now), ts(t.now), ra.acc.ID)
	} else {
		rows, err = t.query(`UPDATE orders SET status = 'closed_by_risk', closed_reason_code = ?, closed_reason = ?,
			closed_restriction_id = ?, closed_rule_id = ?, closed_at = ?, updated_at = ?
			WHERE id = ? AND buyer_id = ? AND status IN ('pending_payment', 'paid', 'shipped')
			RETURNING id, COALESCE(external_id, ''), seller_id`, reason, text, restrictionID, ruleID, ts(t.now), ts(t.now), orderID, ra.acc.ID)
	}
	if err != nil {
		return nil, err
	}
	type closed struct{ id, external, seller string }
	var done []closed
	for rows.Next() {
		var c closed
		if err := rows.Scan(&c.id, &c.external, &c.seller); err != nil {
			rows.Close()
			return nil, err
		}
		done = append(done, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(done))
	for _, c := range done {
		ids = append(ids, c.id)
		data := map[string]any{"order_id": c.id, "account_id": ra.acc.ID, "buyer_id": ra.acc.ID, "seller_id": c.seller,
			"status": standing.OrderClosedByRisk, "reason_code": reason, "closed_at": t.now}
		if c.external != "" {
			data["external_id"] = c.external
		}
		if restrictionID != "" {
			data["restriction_id"] = restrictionID
		}
		if ruleID != "" {
			data["rule_id"] = ruleID
		}
		if err := t.emit(standing.WebhookOrderClosed, ra.acc.ID, data); err != nil {
			return nil, err
		}
	}
	ra.active = max(0, ra.active-len(ids))
	if len(ids) > 0 {
		if d.closed == nil {
			d.closed = map[string]bool{}
		}
		d.closed[ra.acc.ID] = true
	}
	// Each order also counted as an active order of its seller.
	for _, c := range done {
		if other, ok := d.accounts[c.seller]; ok {
			other.active = max(0, other.active-1)
			d.closed[c.seller] = true
		} else {
			d.r.cache.refresh(c.seller)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// review puts the account in the review queue, or adds the firing to its open review.
func (d *decider) review(accountID, eventID string, ruleIDs []string) (string, bool, error) {
	t := d.t
	var id, have string
	err := t.queryRow("SELECT id, rule_ids FROM risk_reviews WHERE account_id = ? AND state = 'open'", accountID).Scan(&id, &have)
	if err == sql.ErrNoRows {
		id = standing.NewID("rev", t.now)
		_, err = t.exec(`INSERT INTO risk_reviews (id, account_id, state, rule_ids, event_id, hits, created_at, updated_at)
			VALUES (?, ?, 'open', ?, ?, 1, ?, ?)`, id, accountID, strings.Join(ruleIDs, " "), eventID, ts(t.now), ts(t.now))
		return id, true, err
	} else if err != nil {
		return "", false, err
	}
	merged := strings.Fields(have)
	for _, r := range ruleIDs {
		if !slices.Contains(merged, r) {
			merged = append(merged, r)
		}
	}
	_, err = t.exec("UPDATE risk_reviews SET rule_ids = ?, hits = hits + 1, updated_at = ? WHERE id = ?", strings.Join(merged, " "), ts(t.now), id)
	return id, false, err
}

// Reviews lists the review queue (state open or closed; "" for both), oldest first.
func (s *Store) Reviews(ctx context.Context, state string, limit int) ([]standing.Review, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows, err := s.query(ctx, `SELECT id, account_id, state, rule_ids, event_id, hits, created_at, updated_at FROM risk_reviews
		WHERE state = ? OR ? = '' ORDER BY created_at, id LIMIT ?`, state, state, limit)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	out := []standing.Review{}
	for rows.Next() {
		var r standing.Review
		var ruleIDs string
		var created, updated int64
		if err := rows.Scan(&r.ID, &r.AccountID, &r.State, &ruleIDs, &r.EventID, &r.Hits, &created, &updated); err != nil {
			return nil, translate(err)
		}
		r.RuleIDs, r.CreatedAt, r.UpdatedAt = strings.Fields(ruleIDs), fromTS(created), fromTS(updated)
		out = append(out, r)
	}
	return out, translate(rows.Err())
}

// RuleHits lists the newest firings of a rule, or of every rule on an account.
func (s *Store) RuleHits(ctx context.Context, ruleID, accountID string, limit int) ([]standing.RuleHit, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	var rows *sql.Rows
	var err error
	if accountID != "" {
		rows, err = s.query(ctx, "SELECT rule_id, version, mode, event_id, account_id, at, actions FROM rule_hits WHERE account_id = ? ORDER BY at DESC, id DESC LIMIT ?", accountID, limit)
	} else {
		rows, err = s.query(ctx, "SELECT rule_id, version, mode, event_id, account_id, at, actions FROM rule_hits WHERE rule_id = ? ORDER BY at DESC, id DESC LIMIT ?", ruleID, limit)
	}
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	out := []standing.RuleHit{}
	for rows.Next() {
		var h standing.RuleHit
		var at int64
		if err := rows.Scan(&h.RuleID, &h.Version, &h.Mode, &h.EventID, &h.AccountID, &at, &h.Actions); err != nil {
			return nil, translate(err)
		}
		h.At = fromTS(at)
		out = append(out, h)
	}
	return out, translate(rows.Err())
}
