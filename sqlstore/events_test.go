package sqlstore

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"standing"
	"standing/standingtest"
)

// TestCountEventsByIP: failed sign-ins are counted by IP, through the partial index that
// holds them alone (a lookup, not a scan of every event); other types are not counted by
// IP, and asking for one is an error rather than a silent scan.
func TestCountEventsByIP(t *testing.T) {
	ctx := context.Background()
	clock := standing.NewTestClock(standingtest.Start)
	s, err := Open(ctx, filepath.Join(t.TempDir(), "e.db"), Options{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for i, typ := range []string{standing.EventLoginFailed, standing.EventLoginFailed, standing.EventLoginSucceeded, standing.EventLoginFailed} {
		ip := "192.0.2.1"
		if i == 3 {
			ip = "192.0.2.2"
		}
		if err := s.RecordEvent(ctx, standing.Event{Type: typ, IP: ip, Time: standingtest.Start.Add(time.Duration(i) * time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	n, last, err := s.CountEvents(ctx, "", "192.0.2.1", standing.EventLoginFailed, standingtest.Start.Add(-time.Hour))
	if err != nil || n != 2 || !last.Equal(standingtest.Start.Add(time.Minute)) {
		t.Fatalf("failed sign-ins from 192.0.2.1 = %d, last %v, %v; want 2, %v", n, last, err, standingtest.Start.Add(time.Minute))
	}
	if _, _, err := s.CountEvents(ctx, "", "192.0.2.1", standing.EventLoginSucceeded, standingtest.Start.Add(-time.Hour)); err == nil {
		t.Fatal("counting successful sign-ins by IP was not refused")
	}
	plan := queryPlan(t, s.r, "SELECT COUNT(*), MAX(occurred_at) FROM events WHERE ip = ? AND type = 'login_failed' AND occurred_at > ?", "192.0.2.1", 0)
	if !strings.Contains(plan, "events_ip_login_failed") {
		t.Fatalf("the count by IP does not use events_ip_login_failed: %s", plan)
	}
}

// queryPlan returns SQLite's plan for the query, its steps joined by "; ".
func queryPlan(t *testing.T, db *sql.DB, query string, args ...any) string {
	t.Helper()
	rows, err := db.Query("EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(plan, "; ")
}
