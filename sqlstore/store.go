// Package sqlstore implements Standing's services over database/sql, on SQLite (the
// embedded default, pure Go) and PostgreSQL, from one set of queries. Each service method
// is one transaction; side effects (cache invalidation, jobs, mail, webhooks) are written
// in that transaction or run after it commits, never before.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"standing"
)

// Dialect is the SQL database behind a Store.
type Dialect int

// The dialects.
const (
	SQLite Dialect = iota
	Postgres
)

func (d Dialect) String() string {
	if d == Postgres {
		return "postgres"
	}
	return "sqlite"
}

// Store is Standing's storage on one database.
type Store struct {
	dialect Dialect
	w       *sql.DB // writes: one connection on SQLite
	r       *sql.DB // reads: a pool
	clock   standing.Clock
	policy  func() *standing.Policy
	dsn     string
	// sendMail says an SMTP sender is configured: mail is queued for it, not kept.
	sendMail bool
	// baseURL is the public URL links in mail point to.
	baseURL string
	log     *slog.Logger
	// listenRetry is the first wait before ListenChanges connects again.
	listenRetry time.Duration

	mu        sync.RWMutex
	listeners []func(accountIDs []string)
	hooks     []func()
	closers   []func() // run by Close before the databases close

	rebound sync.Map // query text -> rebound text (Postgres)
	stmts   sync.Map // stmtKey -> *sql.Stmt: each constant query is parsed once per connection
	nstmts  atomic.Int32

	// eventRowFloor is, on SQLite, the highest events rowid ever used as risk_meta keeps
	// it (see nextEventRow); -1 until read.
	eventRowFloor atomic.Int64
	// tail holds, on SQLite, the events not yet in event_segments (eventindex.go), and
	// flushMu serializes moving them there.
	tail    eventTail
	flushMu sync.Mutex
	// closeAsIfKilled makes Close leave what a clean stop writes (the event tail, lagging
	// feature states) unwritten, as a killed process would: for tests.
	closeAsIfKilled bool
	// lastEventRow is, on SQLite, the highest events rowid a committed transaction used
	// (nextEventRow), or 0 when unknown.
	lastEventRow atomic.Int64
}

type stmtKey struct {
	db    *sql.DB
	query string
}

// maxStmts bounds the prepared-statement cache; queries past it run unprepared.
const maxStmts = 1000

// prepared returns the cached prepared statement of query on db. SQLite spends more time
// parsing a query than running a point lookup, so the hot paths must not parse per call.
//
// On PostgreSQL it returns nil: pgx already caches prepared statements per connection.
func (s *Store) prepared(ctx context.Context, db *sql.DB, query string) (*sql.Stmt, error) {
	if s.dialect == Postgres {
		return nil, nil
	}
	k := stmtKey{db, query}
	if v, ok := s.stmts.Load(k); ok {
		return v.(*sql.Stmt), nil
	}
	if s.nstmts.Load() >= maxStmts {
		return nil, nil
	}
	st, err := db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if v, loaded := s.stmts.LoadOrStore(k, st); loaded {
		st.Close()
		return v.(*sql.Stmt), nil
	}
	s.nstmts.Add(1)
	return st, nil
}

// Options configure a Store.
type Options struct {
	Clock  standing.Clock
	Policy func() *standing.Policy
	// SendMail queues mail for an SMTP sender instead of keeping it in the store.
	SendMail bool
	// BaseURL is the public URL links in mail point to.
	BaseURL string
	// Log receives what the store's background work (ListenChanges) cannot return;
	// nil means slog.Default().
	Log *slog.Logger
}

// Open opens the database at dsn: a postgres:// URL, or a path (or sqlite: URL) of an
// SQLite file, created if missing. It does not migrate; call Migrate.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	if opts.Clock == nil {
		opts.Clock = standing.SystemClock{}
	}
	if opts.Policy == nil {
		p := standing.DefaultPolicy()
		opts.Policy = func() *standing.Policy { return p }
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	s := &Store{clock: opts.Clock, policy: opts.Policy, dsn: dsn, sendMail: opts.SendMail, baseURL: strings.TrimSuffix(opts.BaseURL, "/"),
		log: opts.Log, listenRetry: time.Second}
	s.eventRowFloor.Store(-1)
	s.tail.flushAt = flushEventsAt
	var err error
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		s.dialect = Postgres
		s.w, err = sql.Open("pgx", dsn)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		s.w.SetMaxOpenConns(20)
		s.w.SetMaxIdleConns(20)
		s.w.SetConnMaxIdleTime(5 * time.Minute)
		s.r = s.w
	} else {
		path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite://"), "sqlite:")
		if dir := filepath.Dir(path); dir != "" {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, fmt.Errorf("create the database folder: %w", err)
			}
		}
		// temp_store(MEMORY) keeps statement journals (which a multi-row INSERT inside a
		// transaction needs, to undo itself alone) in memory: written to a temporary
		// file, they cost a write system call per page, a tenth of the event path's time.
		pragmas := "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_pragma=temp_store(MEMORY)&_time_format=sqlite"
		// The writer's page cache is 8 MB, not the default 2 MB: the pages its
		// transactions touch again (index leaves, feature states) stay read. Much larger
		// costs more than it saves: this SQLite walks the whole cache at some commits.
		s.w, err = sql.Open("sqlite", "file:"+url.PathEscape(path)+"?"+pragmas+"&_pragma=cache_size(-8000)&_txlock=immediate")
		if err != nil {
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		s.w.SetMaxOpenConns(1)
		s.w.SetMaxIdleConns(1)
		s.w.SetConnMaxLifetime(0)
		s.w.SetConnMaxIdleTime(0)
		s.r, err = sql.Open("sqlite", "file:"+url.PathEscape(path)+"?"+pragmas+"&_pragma=query_only(1)")
		if err != nil {
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		s.r.SetMaxOpenConns(8)
		s.r.SetMaxIdleConns(8)
		s.r.SetConnMaxIdleTime(0)
		s.r.SetConnMaxLifetime(0)
	}
	if err := s.w.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("connect to %s: %w", s.dialect, err)
	}
	return s, nil
}

// Dialect returns the database behind the store.
func (s *Store) Dialect() Dialect { return s.dialect }

// Clock returns the store's clock.
func (s *Store) Clock() standing.Clock { return s.clock }

// Policy returns the policy in effect.
func (s *Store) Policy() *standing.Policy { return s.policy() }

// Close closes the database.
func (s *Store) Close() error {
	if s.dialect == SQLite && !s.closeAsIfKilled {
		// Best effort: what stays in the tail is read again from the events at the next start.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_ = s.flushEventIndex(ctx, true)
		cancel()
	}
	s.mu.Lock()
	closers := s.closers
	s.closers = nil
	s.mu.Unlock()
	for _, stop := range closers {
		stop()
	}
	s.stmts.Range(func(k, v any) bool {
		v.(*sql.Stmt).Close()
		return true
	})
	var err error
	if s.w != nil {
		err = s.w.Close()
	}
	if s.r != nil && s.r != s.w {
		err = errors.Join(err, s.r.Close())
	}
	return err
}

// onClose registers fn to run when the store closes, before its databases do: background
// work on the store stops there.
func (s *Store) onClose(fn func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closers = append(s.closers, fn)
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.r.PingContext(ctx); err != nil {
		return err
	}
	var one int
	return s.r.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// OnChange registers fn to be called after every commit that changed the standing of
// accounts, with their ids. The check cache uses it.
func (s *Store) OnChange(fn func(accountIDs []string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.listeners = append(s.listeners, fn)
}

// OnCommit registers fn to be called after every commit that queued outbound work (jobs,
// mail, webhooks), so their workers wake at once instead of at their next poll.
func (s *Store) OnCommit(fn func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hooks = append(s.hooks, fn)
}

// q rebinds a query written with ? placeholders for the store's dialect.
func (s *Store) q(query string) string {
	if s.dialect != Postgres {
		return query
	}
	if v, ok := s.rebound.Load(query); ok {
		return v.(string)
	}
	var b strings.Builder
	n := 0
	inString := false
	for i := 0; i < len(query); i++ {
		c := query[i]
		if c == '\'' {
			inString = !inString
		}
		if c == '?' && !inString {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	out := b.String()
	s.rebound.Store(query, out)
	return out
}

// tx is one write transaction with its after-commit effects.
type tx struct {
	*sql.Tx
	s       *Store
	ctx     context.Context
	changed []string
	queued  bool
	now     time.Time
	// keepsStanding is set by the risk engine's transactions: the one change of standing
	// they make, a rule's restriction, they also make to the standing they hold in memory
	// (decider.act). Any other transaction that changes an account's standing makes the
	// risk engine read the account again (write).
	keepsStanding bool

	pending map[string]bool // queries to prepare once the transaction ends

	auditLoaded, auditDirty bool

	// lastEventRow is the rowid of the last event the transaction stored on SQLite, 0
	// before its first (see nextEventRow).
	lastEventRow int64
	// tailAdded are the entries the transaction added to the store's event tail, forgotten
	// if it does not commit.
	tailAdded []tailKey
	// tailTaken are the entries of accounts the transaction erased, taken out of the tail
	// (dropTail) and put back if it does not commit.
	tailTaken map[string][]tailEvent
	auditSeq  int64
	auditHash string
}

// stmt returns query prepared for this transaction's connection, or nil to run it
// unprepared. A query seen for the first time runs unprepared and is prepared after the
// transaction ends: preparing on the database needs a connection, and on SQLite the
// transaction holds the only write connection.
func (t *tx) stmt(query string) *sql.Stmt {
	if t.s.dialect == Postgres {
		return nil
	}
	q := t.s.q(query)
	v, ok := t.s.stmts.Load(stmtKey{t.s.w, q})
	if !ok {
		if t.pending == nil {
			t.pending = map[string]bool{}
		}
		t.pending[q] = true
		return nil
	}
	return t.Tx.StmtContext(t.ctx, v.(*sql.Stmt))
}

func (t *tx) exec(query string, args ...any) (sql.Result, error) {
	if st := t.stmt(query); st != nil {
		return st.ExecContext(t.ctx, args...)
	}
	return t.Tx.ExecContext(t.ctx, t.s.q(query), args...)
}

func (t *tx) query(query string, args ...any) (*sql.Rows, error) {
	if st := t.stmt(query); st != nil {
		return st.QueryContext(t.ctx, args...)
	}
	return t.Tx.QueryContext(t.ctx, t.s.q(query), args...)
}

func (t *tx) queryRow(query string, args ...any) *sql.Row {
	if st := t.stmt(query); st != nil {
		return st.QueryRowContext(t.ctx, args...)
	}
	return t.Tx.QueryRowContext(t.ctx, t.s.q(query), args...)
}

// touch records that the standing of accountID changed in this transaction.
func (t *tx) touch(accountID string) { t.changed = append(t.changed, accountID) }

// write runs fn in one write transaction and, after commit, tells the listeners. Whatever
// ends fn, an error or a panic, the transaction is rolled back and its connection freed.
func (s *Store) write(ctx context.Context, fn func(t *tx) error) error {
	sqlTx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return translate(err)
	}
	t := &tx{Tx: sqlTx, s: s, ctx: ctx, now: s.clock.Now().Truncate(time.Microsecond)}
	committed := false
	defer func() {
		// Back first, then forgotten: entries the transaction both added and took.
		if !committed && t.tailTaken != nil {
			s.tail.restore(t.tailTaken)
		}
		if !committed && len(t.tailAdded) > 0 {
			s.tail.forget(t.tailAdded)
		}
	}()
	defer s.preparePending(ctx, t)
	// Deferred last so that it runs first: preparing needs the write connection the
	// transaction holds. After Commit it does nothing.
	defer sqlTx.Rollback()
	if err := fn(t); err != nil {
		return translate(err)
	}
	if err := t.flushAudit(); err != nil {
		return translate(err)
	}
	if err := t.notifyChanges(); err != nil {
		return translate(err)
	}
	if len(t.changed) > 0 && !t.keepsStanding {
		// Inside the transaction: on SQLite no event transaction runs before the commit.
		s.riskChanged(t.changed...)
	}
	if t.lastEventRow > s.lastEventRow.Load() {
		// Before the commit, while the transaction holds the only write connection: the
		// next transaction may begin the moment it commits. Should the commit fail, the
		// rows are free but never used again, which is allowed.
		s.lastEventRow.Store(t.lastEventRow)
	}
	if err := sqlTx.Commit(); err != nil {
		return translate(err)
	}
	committed = true
	s.afterCommit(t)
	return nil
}

func (s *Store) preparePending(ctx context.Context, t *tx) {
	for q := range t.pending {
		_, _ = s.prepared(context.WithoutCancel(ctx), s.w, q)
	}
}

func (s *Store) afterCommit(t *tx) {
	if len(t.changed) == 0 && !t.queued {
		return
	}
	s.mu.RLock()
	listeners, hooks := s.listeners, s.hooks
	s.mu.RUnlock()
	if len(t.changed) > 0 {
		for _, fn := range listeners {
			fn(t.changed)
		}
	}
	if t.queued {
		for _, fn := range hooks {
			fn()
		}
	}
}

func (s *Store) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if st, err := s.prepared(ctx, s.r, s.q(query)); err == nil && st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return s.r.QueryRowContext(ctx, s.q(query), args...)
}

func (s *Store) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st, err := s.prepared(ctx, s.r, s.q(query)); err == nil && st != nil {
		return st.QueryContext(ctx, args...)
	}
	return s.r.QueryContext(ctx, s.q(query), args...)
}

// errUnique marks a unique-constraint violation, translated from either driver.
var errUnique = errors.New("unique violation")

// errForeignKey marks a foreign-key violation.
var errForeignKey = errors.New("foreign key violation")

// translate turns driver errors into domain errors at the storage boundary. Errors that
// are already *standing.Error pass through; unknown errors are returned as they are and
// become EINTERNAL above.
func translate(err error) error {
	if err == nil {
		return nil
	}
	var se *standing.Error
	if errors.As(err, &se) {
		return err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return standing.Errorf(standing.ENOTFOUND, "not found")
	}
	var le *sqlite.Error
	if errors.As(err, &le) {
		switch le.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%w: %v", errUnique, err)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			// SQLite does not say which reference failed.
			return &foreignKeyError{err: err}
		}
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505":
			return fmt.Errorf("%w: %v", errUnique, err)
		case "23503":
			fk := &foreignKeyError{err: err}
			if m := pgMissingKey.FindStringSubmatch(pe.Detail); m != nil {
				fk.value, fk.table = m[2], m[3]
			}
			return fk
		}
	}
	return err
}

// pgMissingKey reads PostgreSQL's detail of a foreign-key violation:
// Key (account_id)=(acc_1) is not present in table "accounts".
var pgMissingKey = regexp.MustCompile(`^Key \((.+)\)=\((.*)\) is not present in table "(.+)"`)

// foreignKeyError is a write that refers to a row that does not exist: ENOTFOUND, naming
// the row when the driver says which. A method that knows what its caller named (a
// reviewer, an account) turns it into a message in the caller's words.
type foreignKeyError struct {
	err          error
	table, value string // "" on SQLite
}

func (e *foreignKeyError) Error() string { return e.err.Error() }

func (e *foreignKeyError) Unwrap() []error {
	var msg string
	if e.table != "" {
		msg = fmt.Sprintf("there is no %s %q", tableWords(e.table), e.value)
	} else {
		msg = "something it refers to does not exist"
	}
	return []error{errForeignKey, standing.Errorf(standing.ENOTFOUND, "%s", msg)}
}

// tableWords names the rows of a table for people: "console user" for staff_users.
func tableWords(table string) string {
	switch table {
	case "staff_users":
		return "console user"
	case "webhook_endpoints":
		return "webhook endpoint"
	case "webhook_messages":
		return "webhook message"
	}
	return strings.ReplaceAll(strings.TrimSuffix(table, "s"), "_", " ")
}

func isForeignKey(err error) bool { return errors.Is(translate(err), errForeignKey) }

func isUnique(err error) bool { return errors.Is(translate(err), errUnique) }

// Times are stored as microseconds since the Unix epoch, UTC, in both dialects.
func ts(t time.Time) int64 { return t.UnixMicro() }

func fromTS(v int64) time.Time { return time.UnixMicro(v).UTC() }

func nullTS(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

func fromNullTS(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromTS(v.Int64)
	return &t
}

func nullString(s string) sql.NullString {
	return sql.NullString{String: s, Valid: s != ""}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// ExecRaw runs a statement outside the service methods. It is for tests and operator
// repairs; it bypasses the audit chain, which is the point when a test tampers with it.
func (s *Store) ExecRaw(ctx context.Context, query string, args ...any) error {
	_, err := s.w.ExecContext(ctx, s.q(query), args...)
	s.lastEventRow.Store(0) // it may have stored events
	s.tail.reset()          // which the tail must list
	if r := s.risk(); r != nil {
		r.cache.reset() // or changed what the risk engine keeps in memory
	}
	return err
}
