package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"standing"
	"standing/standingtest"
)

// testDSNs are the two stores the internal tests run on: a fresh SQLite file and a
// PostgreSQL schema of the test's own.
var testDSNs = []struct {
	name string
	dsn  func(t *testing.T) string
}{
	{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "s.db") }},
	{"postgres", func(t *testing.T) string { return standingtest.PostgresURL(t) }},
}

// onBoth runs fn on a fresh, migrated store on SQLite and on PostgreSQL.
func onBoth(t *testing.T, fn func(t *testing.T, s *Store)) {
	for _, d := range testDSNs {
		t.Run(d.name, func(t *testing.T) {
			ctx := context.Background()
			s, err := Open(ctx, d.dsn(t), Options{Clock: standing.NewTestClock(standingtest.Start)})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			if _, err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			fn(t, s)
		})
	}
}

// TestWriteFreesTheTransaction: a write that panics or fails rolls its transaction back
// and frees the connection, so the next write does not wait for it (on SQLite there is
// only one write connection).
func TestWriteFreesTheTransaction(t *testing.T) {
	onBoth(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		func() {
			defer func() {
				if recover() == nil {
					t.Fatal("the panic did not reach the caller")
				}
			}()
			_ = s.write(ctx, func(t *tx) error { panic("boom") })
		}()
		if n := s.w.Stats().InUse; n != 0 {
			t.Fatalf("after a panic, %d write connections are still in use", n)
		}
		errFailed := errors.New("failed")
		err := s.write(ctx, func(t *tx) error {
			// A query seen for the first time is prepared after the transaction ends.
			if _, err := t.exec("UPDATE accounts SET email = email WHERE id = 'none-such'"); err != nil {
				return err
			}
			return errFailed
		})
		if !errors.Is(err, errFailed) {
			t.Fatalf("write = %v, want %v", err, errFailed)
		}
		if n := s.w.Stats().InUse; n != 0 {
			t.Fatalf("after an error, %d write connections are still in use", n)
		}
		if err := s.write(ctx, func(t *tx) error { return nil }); err != nil {
			t.Fatal(err)
		}
	})
}

// TestForeignKeyIsNotFound: a write that refers to a missing row is ENOTFOUND, not an
// internal error; PostgreSQL says which row, and the message names it.
func TestForeignKeyIsNotFound(t *testing.T) {
	onBoth(t, func(t *testing.T, s *Store) {
		err := s.write(context.Background(), func(t *tx) error {
			_, err := t.exec("INSERT INTO rule_versions (rule_id, version, definition, actor, created_at) VALUES ('no-such-rule', 1, '{}', 'test', 0)")
			return err
		})
		if got := standing.ErrorCode(err); got != standing.ENOTFOUND {
			t.Fatalf("code = %q (%v), want %q", got, err, standing.ENOTFOUND)
		}
		if !isForeignKey(err) {
			t.Errorf("isForeignKey(%v) = false", err)
		}
		want := "something it refers to does not exist"
		if s.dialect == Postgres {
			want = `there is no rule "no-such-rule"`
		}
		if got := standing.ErrorMessage(err); got != want {
			t.Errorf("message = %q, want %q", got, want)
		}
	})
}

// TestSQLiteConnectionSettings: both SQLite pools run in WAL mode with foreign keys on and
// temporary storage (statement journals) in memory, not in files.
func TestSQLiteConnectionSettings(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "s.db"), Options{Clock: standing.NewTestClock(standingtest.Start)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for name, db := range map[string]interface {
		QueryRowContext(context.Context, string, ...any) *sql.Row
	}{"writer": s.w, "readers": s.r} {
		var journal string
		var fk, temp int
		if err := db.QueryRowContext(ctx, "SELECT journal_mode, foreign_keys, temp_store FROM pragma_journal_mode, pragma_foreign_keys, pragma_temp_store").Scan(&journal, &fk, &temp); err != nil {
			t.Fatal(err)
		}
		if journal != "wal" || fk != 1 || temp != 2 {
			t.Errorf("%s: journal_mode %s, foreign_keys %d, temp_store %d; want wal, 1, 2 (memory)", name, journal, fk, temp)
		}
	}
}
