package sqlstore

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"standing"
	"standing/standingtest"
)

// segmentEvents returns n events of a few types, in row order, with rows and times that go
// up and down by steps of every size.
func segmentEvents(n int, firstRow int64) []tailEvent {
	types := []string{"login_succeeded", "order_placed", "custom.signal-1", ""}
	out := make([]tailEvent, n)
	row, at := firstRow, int64(1_780_000_000_000_000)
	for i := range out {
		row += int64(1 + i%7*(i%3)*1000)
		at += int64((i%5 - 2) * (1 << (i % 40)))
		out[i] = tailEvent{row: row, typ: types[i%len(types)], at: at}
	}
	return out
}

func TestSegmentRoundTrip(t *testing.T) {
	for _, n := range []int{1, 2, 17, 5000} {
		evs := segmentEvents(n, int64(n)*1_000_000)
		evs = append(evs, tailEvent{row: math.MaxInt64 - 1, typ: "last", at: math.MinInt64 + 5})
		var got []tailEvent
		if err := decodeSegment(encodeSegment(nil, evs), func(ev tailEvent) { got = append(got, ev) }); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, evs) {
			t.Fatalf("%d events: decoded %v…, want %v…", n, got[:min(3, len(got))], evs[:min(3, len(evs))])
		}
	}
}

// FuzzDecodeSegment: whatever the stored value, decoding returns events or an error, never
// panics, and what it returns encodes back to a value that decodes to the same events.
func FuzzDecodeSegment(f *testing.F) {
	f.Add(encodeSegment(nil, segmentEvents(3, 10)))
	f.Add(encodeSegment(nil, []tailEvent{{row: 1, typ: "a", at: -1}}))
	f.Add([]byte{})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Add([]byte{1, 200, 'a'})
	f.Add([]byte{1, 1, 'a', 5, 2, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		var evs []tailEvent
		if err := decodeSegment(b, func(ev tailEvent) { evs = append(evs, ev) }); err != nil || len(evs) == 0 {
			return
		}
		var again []tailEvent
		if err := decodeSegment(encodeSegment(nil, evs), func(ev tailEvent) { again = append(again, ev) }); err != nil || !slices.Equal(again, evs) {
			t.Fatalf("re-encoded %v gives %v, %v", evs, again, err)
		}
	})
}

// TestSegmentsFindAnAccountsEvents writes an account's events as segments — more than one
// segment holds — and another account's, and checks that the lookups by rows and by times
// find exactly the account's matching events, from the segments and the tail alike.
func TestSegmentsFindAnAccountsEvents(t *testing.T) {
	ctx := context.Background()
	s, _ := writeBehindStore(t, filepath.Join(t.TempDir(), "s.db"), standing.NewTestClock(standingtest.Start))
	s.tail.flushAt = 1 << 30
	mine := segmentEvents(maxSegmentEvents*2+10, 0)
	theirs := segmentEvents(50, 3)
	var segs []segment
	segs = appendSegments(segs, "acc_mine", mine[:len(mine)-5])
	segs = appendSegments(segs, "acc_theirs", theirs)
	if len(segs) != 4 {
		t.Fatalf("%d segments, want 3 of acc_mine and 1 of acc_theirs", len(segs))
	}
	if err := s.write(ctx, func(t *tx) error {
		if err := t.s.tail.ensure(t); err != nil {
			return err
		}
		return writeSegments(t.exec, segs)
	}); err != nil {
		t.Fatal(err)
	}
	// The last five are in the tail.
	s.tail.mu.Lock()
	s.tail.byAcct["acc_mine"] = append(s.tail.byAcct["acc_mine"], mine[len(mine)-5:]...)
	s.tail.mu.Unlock()
	rowsOf := func(evs []tailEvent, keep func(tailEvent) bool) []int64 {
		var out []int64
		for _, ev := range evs {
			if keep(ev) {
				out = append(out, ev.row)
			}
		}
		return out
	}
	after := mine[len(mine)/2].row
	from, to := mine[100].at, mine[len(mine)-3].at
	for _, c := range []struct {
		name  string
		where string
		args  []any
		keep  func(tailEvent) bool
	}{
		{"all", "", nil, func(tailEvent) bool { return true }},
		{"after a row", "last_row > ?", []any{after}, func(ev tailEvent) bool { return ev.row > after }},
		{"of a type after a time", "last_at > ?", []any{from}, func(ev tailEvent) bool { return ev.typ == "order_placed" && ev.at > from }},
		{"in a window", "last_at >= ? AND first_at < ?", []any{min(from, to), max(from, to)},
			func(ev tailEvent) bool { return ev.at >= min(from, to) && ev.at < max(from, to) }},
	} {
		if c.where != "" {
			// Each narrowing seeks in an index: an account may have a segment for every
			// flush it had events in.
			plan := queryPlan(t, s.r, "SELECT entries FROM event_segments WHERE account_id = ? AND "+c.where, append([]any{"acc_mine"}, c.args...)...)
			if !strings.Contains(plan, "account_id=? AND last_") {
				t.Errorf("%s: the lookup does not seek on account and %s: %s", c.name, c.where, plan)
			}
		}
		got, err := accountEventRows(reader{s, ctx}, s, "acc_mine", c.where, c.args, c.keep)
		if err != nil {
			t.Fatal(err)
		}
		want := rowsOf(mine, c.keep)
		if !slices.Equal(got, want) || len(want) == 0 {
			t.Errorf("%s: %d rows, want %d (%v… against %v…)", c.name, len(got), len(want), got[:min(3, len(got))], want[:min(3, len(want))])
		}
	}
	got, err := accountEventRows(reader{s, ctx}, s, "acc_theirs", "", nil, func(tailEvent) bool { return true })
	if want := rowsOf(theirs, func(tailEvent) bool { return true }); err != nil || !slices.Equal(got, want) {
		t.Errorf("the other account's rows = %v, %v; want %v", got, err, want)
	}
	// A damaged value is an error that says so.
	if err := s.ExecRaw(ctx, "UPDATE event_segments SET entries = x'05ff' WHERE account_id = 'acc_theirs'"); err != nil {
		t.Fatal(err)
	}
	if _, err := accountEventRows(reader{s, ctx}, s, "acc_theirs", "", nil, func(tailEvent) bool { return true }); err == nil {
		t.Error("a damaged segment read without an error")
	} else if want := "damaged event segment"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
}

// TestErasedTailLeavesBeforeTheCommit: an erasure takes the account's tail entries out in
// its transaction, so no flush after its commit writes a segment of them; a transaction
// that fails puts them back, and the events are found again.
func TestErasedTailLeavesBeforeTheCommit(t *testing.T) {
	ctx := context.Background()
	clock := standing.NewTestClock(standingtest.Start)
	s, r := writeBehindStore(t, filepath.Join(t.TempDir(), "s.db"), clock)
	s.tail.flushAt = 1 << 30
	acc := standingtest.MustCreateAccount(t, s, standing.RoleBuyer, "erased@example.com")
	for i := range 3 {
		postEvents(t, r, standing.EventInput{Event: standing.Event{ID: "ev-" + strings.Repeat("x", i), AccountID: acc.ID,
			Type: standing.EventLoginSucceeded, Time: clock.Now()}})
	}
	count := func() int {
		n, _, err := s.CountEvents(ctx, acc.ID, "", standing.EventLoginSucceeded, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	failed := errors.New("the erasure fails")
	if err := s.write(ctx, func(t *tx) error {
		t.dropTail([]string{acc.ID})
		return failed
	}); !errors.Is(err, failed) {
		t.Fatalf("write = %v", err)
	}
	if n := count(); n != 3 {
		t.Fatalf("after a failed erasure %d events are found, want 3", n)
	}
	if err := s.write(ctx, func(t *tx) error {
		t.dropTail([]string{acc.ID})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.FlushEventIndex(ctx); err != nil {
		t.Fatal(err)
	}
	var segs int
	if err := s.r.QueryRow("SELECT COUNT(*) FROM event_segments WHERE account_id = ?", acc.ID).Scan(&segs); err != nil || segs != 0 {
		t.Fatalf("segments of the erased account after a flush = %d, %v; want none", segs, err)
	}
}
