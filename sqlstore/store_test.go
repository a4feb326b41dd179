package sqlstore_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"standing"
	"standing/sqlstore"
	"standing/standingtest"
)

func openSQLite(t *testing.T, clock standing.Clock) standingtest.Backend {
	return open(t, filepath.Join(t.TempDir(), "standing.db"), clock)
}

func openPostgres(t *testing.T, clock standing.Clock) standingtest.Backend {
	return open(t, standingtest.PostgresURL(t), clock)
}

func open(t *testing.T, dsn string, clock standing.Clock) standingtest.Backend {
	t.Helper()
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, dsn, sqlstore.Options{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return standingtest.Backend{Store: s, Exec: s.ExecRaw}
}

func TestSQLite(t *testing.T) { standingtest.TestStore(t, openSQLite) }

func TestPostgres(t *testing.T) {
	standingtest.PostgresURL(t) // skip early, with the reason, when PostgreSQL is not there
	standingtest.TestStore(t, openPostgres)
}

func TestMigrateTwiceIsANoop(t *testing.T) {
	ctx := context.Background()
	dsn := filepath.Join(t.TempDir(), "m.db")
	for i, want := range []bool{true, false} {
		s, err := sqlstore.Open(ctx, dsn, sqlstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		applied, err := s.Migrate(ctx)
		s.Close()
		if err != nil {
			t.Fatal(err)
		}
		if (len(applied) > 0) != want {
			t.Fatalf("run %d applied %v", i, applied)
		}
	}
}

func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	dsn := filepath.Join(t.TempDir(), "r.db")
	s, err := sqlstore.Open(ctx, dsn, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	a := standingtest.MustCreateAccount(t, s, standing.RoleBuyer, "keep@example.com")
	r := standingtest.MustRestrict(t, s, a.ID, standing.NewRestriction{ReasonCode: standing.ReasonRiskReview})
	s.Close()
	s, err = sqlstore.Open(ctx, dsn, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Restriction(ctx, r.ID)
	if err != nil || got.AccountID != a.ID {
		t.Fatalf("after reopening: %+v, %v", got, err)
	}
}

// onBothDialects runs fn on a fresh store on SQLite and on PostgreSQL.
func onBothDialects(t *testing.T, fn func(t *testing.T, s *sqlstore.Store, clock *standing.OffsetClock)) {
	for _, d := range []struct {
		name string
		open standingtest.Factory
	}{{"sqlite", openSQLite}, {"postgres", openPostgres}} {
		t.Run(d.name, func(t *testing.T) {
			clock := standing.NewTestClock(standingtest.Start)
			fn(t, d.open(t, clock).Store.(*sqlstore.Store), clock)
		})
	}
}

// TestLongMultibyteUserAgent: a User-Agent longer than its column, in a script of
// multi-byte characters, is cut at a character boundary; PostgreSQL refuses half a
// character.
func TestLongMultibyteUserAgent(t *testing.T) {
	onBothDialects(t, func(t *testing.T, s *sqlstore.Store, _ *standing.OffsetClock) {
		ctx := context.Background()
		a := standingtest.MustCreateAccount(t, s, standing.RoleBuyer, "ua@example.com")
		ua := "Mozilla/5.0" + strings.Repeat("é", 200) // byte 300 is in the middle of an é
		se := standing.Session{ID: "ses_1", AccountID: a.ID, CreatedAt: standingtest.Start, ExpiresAt: standingtest.Start.Add(time.Hour), IP: "192.0.2.1", UserAgent: ua}
		if err := s.CreateSession(ctx, se); err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
		got, err := s.Session(ctx, "ses_1")
		if err != nil {
			t.Fatal(err)
		}
		if !utf8.ValidString(got.UserAgent) || !strings.HasPrefix(ua, got.UserAgent) || len(got.UserAgent) < 290 {
			t.Fatalf("stored user agent = %q (%d bytes)", got.UserAgent, len(got.UserAgent))
		}
	})
}

// TestSecondAppealNamesTheFirst: appealing a decision that has an open appeal is a
// conflict whose message names the open appeal.
func TestSecondAppealNamesTheFirst(t *testing.T) {
	onBothDialects(t, func(t *testing.T, s *sqlstore.Store, _ *standing.OffsetClock) {
		ctx := context.Background()
		a := standingtest.MustCreateAccount(t, s, standing.RoleBuyer, "appeal@example.com")
		r := standingtest.MustRestrict(t, s, a.ID, standing.NewRestriction{ReasonCode: standing.ReasonRiskReview})
		na := standing.NewAppeal{AccountID: a.ID, RestrictionID: r.ID, Statement: "I live abroad; that is my home network."}
		first, err := s.SubmitAppeal(ctx, na, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.SubmitAppeal(ctx, na, nil)
		standingtest.WantCode(t, err, standing.ECONFLICT, "")
		if msg := standing.ErrorMessage(err); !strings.Contains(msg, "(appeal "+first.ID+")") {
			t.Fatalf("message = %q, want it to name appeal %s", msg, first.ID)
		}
	})
}
