package sqlstore

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"standing"
	"standing/standingtest"
)

// TestCloseStopsTheCheckpointer: once Close returns, the background checkpointer has
// stopped and closed its connection, so nothing writes WAL or shared-memory files into a
// data folder the caller is about to remove (CI once failed removing a test's folder).
func TestCloseStopsTheCheckpointer(t *testing.T) {
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "c.db"), Options{Clock: standing.NewTestClock(standingtest.Start)})
	if err != nil {
		t.Fatal(err)
	}
	stopped, err := startCheckpointer(s, s.log)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-stopped:
		t.Fatal("the checkpointer stopped before the store closed")
	case <-time.After(2 * checkpointInterval): // it ran at least once meanwhile
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-stopped:
	default:
		t.Fatal("Close returned while the checkpointer was still running")
	}
}
