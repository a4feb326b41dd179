package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"standing"
	"standing/rules"
	"standing/standingtest"
)

// writeBehindStore opens the store at dsn, migrated, with a risk engine whose IP facts
// give each test address a country.
func writeBehindStore(t *testing.T, dsn string, clock standing.Clock) (*Store, *Risk) {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, dsn, Options{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	// Events move from the tail into event_segments every few (SQLite; eventindex.go), so
	// the tests read accounts whose events are in both.
	s.tail.flushAt = 5
	countries := map[string]string{"192.0.2.1": "DE", "192.0.2.2": "BR", "192.0.2.3": "FR", "192.0.2.4": "JP"}
	r := NewRisk(s, RiskOptions{IPFacts: func(in *standing.EventInput, ip netip.Addr) { in.Country = countries[ip.String()] }})
	return s, r
}

// featuresOf returns every feature of the account as a rule test on a page view sees them.
func featuresOf(t *testing.T, r *Risk, accountID string, at time.Time) map[string]any {
	t.Helper()
	sample := standing.EventInput{Event: standing.Event{ID: "sample", AccountID: accountID, Type: "page_view", Time: at}}
	got, err := r.TestRule(context.Background(), rules.Rule{ID: "probe", Name: "Probe", Expression: "features.events_total > 0",
		Outcome: rules.Outcome{Score: 1}, Mode: rules.ModeActive, Enabled: true}, sample, nil)
	if err != nil {
		t.Fatal(err)
	}
	return got.Features
}

func postEvents(t *testing.T, r *Risk, in ...standing.EventInput) {
	t.Helper()
	out, err := r.ProcessEvents(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range out {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
	}
}

// TestFeaturesSurviveARestart: an account's features are the same after the process
// is killed and starts again, though on SQLite its stored state is written behind its
// events and did not count the last ones when the process stopped: they are folded in
// again when the account is read. Standing's own events, with the facts of their IP,
// count too. A clean stop saves the lagging states, so nothing is left to fold in.
func TestFeaturesSurviveARestart(t *testing.T) {
	for _, d := range testDSNs {
		t.Run(d.name, func(t *testing.T) {
			ctx := context.Background()
			dsn, clock := d.dsn(t), standing.NewTestClock(standingtest.Start)
			s, r := writeBehindStore(t, dsn, clock)
			acc := standingtest.MustCreateAccount(t, s, standing.RoleBuyer, "restart@example.com")
			// An own event first (its state is written at once), then the marketplace's.
			if err := s.RecordEvent(ctx, standing.Event{AccountID: acc.ID, Type: standing.EventLoginFailed, IP: "192.0.2.4"}); err != nil {
				t.Fatal(err)
			}
			// The API gives the marketplace's events their IP facts; here they come with them.
			for i := range 5 {
				postEvents(t, r, standing.EventInput{Event: standing.Event{ID: fmt.Sprint("order-", i), AccountID: acc.ID,
					Type: standing.EventOrderPlaced, Time: clock.Now(), IP: fmt.Sprintf("192.0.2.%d", 1+i%3), DeviceID: fmt.Sprint("device-", i)},
					Country: []string{"DE", "BR", "FR"}[i%3], ASN: uint(64500 + i%2)})
				clock.Advance(time.Minute)
			}
			before := featuresOf(t, r, acc.ID, clock.Now())
			if before["orders_1h"] != int64(5) && before["orders_1h"] != 5 {
				t.Fatalf("orders_1h = %v before the restart; want 5", before["orders_1h"])
			}
			if before["countries_30d"] != int64(4) && before["countries_30d"] != 4 {
				t.Fatalf("countries_30d = %v before the restart; want 4 (three from orders, one from a sign-in)", before["countries_30d"])
			}
			if d.name == "sqlite" {
				// The stored state lags the events: otherwise this test would not read any.
				var through, last int64
				if err := s.r.QueryRow("SELECT through FROM account_risk WHERE account_id = ?", acc.ID).Scan(&through); err != nil {
					t.Fatal(err)
				}
				if err := s.r.QueryRow("SELECT MAX(rowid) FROM events WHERE account_id = ?", acc.ID).Scan(&last); err != nil {
					t.Fatal(err)
				}
				if through >= last {
					t.Fatalf("the stored state counts events through row %d, the last is %d: it was not written behind", through, last)
				}
			}
			s.closeAsIfKilled = true // a clean stop saves the lagging states (below)
			s.Close()

			s2, r2 := writeBehindStore(t, dsn, clock)
			if after := featuresOf(t, r2, acc.ID, clock.Now()); !reflect.DeepEqual(after, before) {
				t.Fatalf("features after the restart differ:\n before %v\n after  %v", before, after)
			}
			postEvents(t, r2, standing.EventInput{Event: standing.Event{ID: "order-after", AccountID: acc.ID,
				Type: standing.EventOrderPlaced, Time: clock.Now(), IP: "192.0.2.1"}})
			if got := featuresOf(t, r2, acc.ID, clock.Now())["orders_1h"]; got != int64(6) && got != 6 {
				t.Fatalf("orders_1h = %v after one more order; want 6", got)
			}
			if d.name != "sqlite" {
				return
			}
			// A clean stop saves every state that lags its events: none is left to replay.
			s2.Close()
			s3, _ := writeBehindStore(t, dsn, clock)
			var through, last int64
			if err := s3.r.QueryRow("SELECT through FROM account_risk WHERE account_id = ?", acc.ID).Scan(&through); err != nil {
				t.Fatal(err)
			}
			if err := s3.r.QueryRow("SELECT MAX(rowid) FROM events WHERE account_id = ?", acc.ID).Scan(&last); err != nil {
				t.Fatal(err)
			}
			if through != last {
				t.Fatalf("after a clean stop the stored state counts events through row %d; the last is %d", through, last)
			}
		})
	}
}

// TestRetentionKeepsEventsInTheFeatures: deleting events past the retention does not take
// them out of an account's features, though its stored state did not count them yet; and
// an event stored after the newest were deleted gets a row the stored states do not
// already count.
func TestRetentionKeepsEventsInTheFeatures(t *testing.T) {
	ctx := context.Background()
	dsn, clock := filepath.Join(t.TempDir(), "s.db"), standing.NewTestClock(standingtest.Start)
	s, r := writeBehindStore(t, dsn, clock)
	acc := standingtest.MustCreateAccount(t, s, standing.RoleBuyer, "retention@example.com")
	for i := range 4 {
		postEvents(t, r, standing.EventInput{Event: standing.Event{ID: fmt.Sprint("login-", i), AccountID: acc.ID,
			Type: standing.EventLoginSucceeded, Time: clock.Now(), DeviceID: fmt.Sprint("device-", i)}})
	}
	var last int64
	if err := s.r.QueryRow("SELECT MAX(rowid) FROM events").Scan(&last); err != nil {
		t.Fatal(err)
	}
	clock.Advance(24 * time.Hour)
	// Two of the events in the lookups by account and time, two in the tail.
	s.tail.flushAt = 1 << 30
	if err := s.FlushEventIndex(ctx); err != nil {
		t.Fatal(err)
	}
	postEvents(t, r, standing.EventInput{Event: standing.Event{ID: "login-late-1", AccountID: acc.ID,
		Type: standing.EventLoginSucceeded, Time: clock.Now().Add(-24 * time.Hour)}})
	postEvents(t, r, standing.EventInput{Event: standing.Event{ID: "login-late-2", AccountID: acc.ID,
		Type: standing.EventLoginSucceeded, Time: clock.Now().Add(-24 * time.Hour)}})
	if err := s.r.QueryRow("SELECT MAX(rowid) FROM events").Scan(&last); err != nil {
		t.Fatal(err)
	}
	if n, err := s.SweepEvents(ctx, clock.Now()); err != nil || n != 6 {
		t.Fatalf("swept %d events, %v; want 6", n, err)
	}
	for _, table := range []string{"events", "event_segments"} {
		var n int
		if err := s.r.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil || n != 0 {
			t.Fatalf("%s holds %d rows after the sweep, %v; want none", table, n, err)
		}
	}
	postEvents(t, r, standing.EventInput{Event: standing.Event{ID: "login-after", AccountID: acc.ID,
		Type: standing.EventLoginSucceeded, Time: clock.Now(), DeviceID: "device-new"}})
	var row int64
	if err := s.r.QueryRow("SELECT rowid FROM events WHERE id = 'login-after'").Scan(&row); err != nil {
		t.Fatal(err)
	}
	if row <= last {
		t.Fatalf("the event after the sweep is row %d; rows up to %d were used before", row, last)
	}
	s.Close()

	_, r2 := writeBehindStore(t, dsn, clock)
	if got := featuresOf(t, r2, acc.ID, clock.Now())["events_total"]; got != int64(8) && got != 8 {
		t.Fatalf("events_total = %v after the sweep and a restart; want 8 (six swept, one after, the sample)", got)
	}
}

// TestUpgradeKeepsStoredStates: states saved before features were written behind count
// every stored event, so the migration that brings write-behind must not let a read fold
// those events in a second time.
func TestUpgradeKeepsStoredStates(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "s.db"), Options{Clock: standing.NewTestClock(standingtest.Start)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ms, err := s.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	// The schema as it was before write-behind (migration 9).
	if _, err := s.w.Exec(`CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Version >= 9 {
			break
		}
		if _, err := s.w.Exec(m.SQL); err != nil {
			t.Fatalf("%s: %v", m.Name, err)
		}
		if _, err := s.w.Exec("INSERT INTO schema_migrations VALUES (?, ?, 0)", m.Version, m.Name); err != nil {
			t.Fatal(err)
		}
	}
	acc := standingtest.MustCreateAccount(t, s, standing.RoleBuyer, "old@example.com")
	// Events and the state that counts them, as the old engine saved them: more than the
	// state remembers the ids of (rules.MaxRemembered), so a second fold would count some.
	var state rules.FeatureState
	for i := range rules.MaxRemembered + 16 {
		ev := rules.Event{ID: fmt.Sprint("old-", i), Type: standing.EventLoginSucceeded, AccountID: acc.ID, Time: standingtest.Start}
		state.Apply(ev)
		if _, err := s.w.Exec(`INSERT INTO events (id, account_id, type, occurred_at, received_at) VALUES (?, ?, ?, ?, ?)`,
			ev.ID, acc.ID, ev.Type, ts(ev.Time), ts(ev.Time)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.w.Exec("INSERT INTO account_risk (account_id, state, updated_at) VALUES (?, ?, 0)", acc.ID, string(state.AppendJSON(nil))); err != nil {
		t.Fatal(err)
	}
	if applied, err := s.Migrate(ctx); err != nil || len(applied) == 0 {
		t.Fatalf("migrate = %v, %v", applied, err)
	}
	r := NewRisk(s, RiskOptions{})
	want := rules.MaxRemembered + 16 + 1 // the stored events and the sample
	if got := featuresOf(t, r, acc.ID, standingtest.Start)["events_total"]; got != int64(want) && got != want {
		t.Fatalf("events_total = %v after the upgrade; want %d", got, want)
	}
	// Migrations 10 and 11 indexed the stored events by account (event_segments): they are found
	// by account, though none is in the tail.
	if n, _, err := s.CountEvents(ctx, acc.ID, "", standing.EventLoginSucceeded, time.Time{}); err != nil || n != rules.MaxRemembered+16 {
		t.Fatalf("events counted by account after the upgrade = %d, %v; want %d", n, err, rules.MaxRemembered+16)
	}
}

// TestEventTailForgetsWhatDidNotCommit: the events of a transaction that rolls back leave
// the tail (SQLite), so neither a count nor a replay finds them, and a later event that
// gets the same row is the other account's alone.
func TestEventTailForgetsWhatDidNotCommit(t *testing.T) {
	ctx := context.Background()
	clock := standing.NewTestClock(standingtest.Start)
	s, _ := writeBehindStore(t, filepath.Join(t.TempDir(), "s.db"), clock)
	a := standingtest.MustCreateAccount(t, s, standing.RoleBuyer, "rolledback@example.com")
	b := standingtest.MustCreateAccount(t, s, standing.RoleBuyer, "committed@example.com")
	failed := errors.New("the transaction fails")
	err := s.write(ctx, func(t *tx) error {
		if err := t.recordOwnEvent(standing.Event{AccountID: a.ID, Type: standing.EventLoginFailed, IP: "192.0.2.1"}); err != nil {
			return err
		}
		return failed
	})
	if !errors.Is(err, failed) {
		t.Fatalf("write = %v", err)
	}
	if tail, err := s.tail.of(reader{s, ctx}, a.ID); err != nil || len(tail) != 0 {
		t.Fatalf("the tail of %s after the rollback = %v, %v; want nothing", a.ID, tail, err)
	}
	if err := s.RecordEvent(ctx, standing.Event{AccountID: b.ID, Type: standing.EventLoginFailed, IP: "192.0.2.2"}); err != nil {
		t.Fatal(err)
	}
	for acc, want := range map[string]int{a.ID: 0, b.ID: 1} {
		if n, _, err := s.CountEvents(ctx, acc, "", standing.EventLoginFailed, time.Time{}); err != nil || n != want {
			t.Errorf("failed sign-ins of %s = %d, %v; want %d", acc, n, err, want)
		}
	}
}

// TestWriteBehindAgreesWithFoldingEveryEvent: whatever happens between events — batches
// with repeated ids, Standing's own events, the cache dropping accounts, a failed
// transaction's reset, restarts, retention sweeps — each account's features are those of
// folding every accepted event into a fresh state, in the order they were accepted.
func TestWriteBehindAgreesWithFoldingEveryEvent(t *testing.T) {
	for _, d := range testDSNs {
		t.Run(d.name, func(t *testing.T) {
			ctx := context.Background()
			dsn, clock := d.dsn(t), standing.NewTestClock(standingtest.Start)
			s, r := writeBehindStore(t, dsn, clock)
			countries := map[string]string{"192.0.2.1": "DE", "192.0.2.2": "BR", "192.0.2.3": "FR", "192.0.2.4": "JP"}
			var ids []string
			want := map[string]*rules.FeatureState{}
			for i := range 3 {
				acc := standingtest.MustCreateAccount(t, s, standing.RoleBuyer, fmt.Sprintf("fold%d@example.com", i))
				ids = append(ids, acc.ID)
				want[acc.ID] = &rules.FeatureState{}
			}
			seen := map[string]standing.EventInput{} // the accepted events by id
			types := []string{standing.EventLoginSucceeded, standing.EventOrderPlaced, standing.EventPaymentDeclined,
				standing.EventProfileChanged, standing.EventLoginFailed, "page_view"}
			rng := uint64(42)
			next := func(n int) int { // a small deterministic generator: the run can be replayed
				rng = rng*6364136223846793005 + 1442695040888963407
				return int((rng >> 33) % uint64(n))
			}
			event := func(k int) standing.EventInput {
				ip := fmt.Sprintf("192.0.2.%d", 1+next(4))
				return standing.EventInput{Event: standing.Event{ID: fmt.Sprint("e-", k), AccountID: ids[next(len(ids))], Type: types[next(len(types))],
					Time: clock.Now().Add(-time.Duration(next(600)) * time.Second), IP: ip, DeviceID: fmt.Sprint("dev-", next(5))},
					Country: countries[ip], ASN: uint(64500 + next(3))}
			}
			fold := func(in standing.EventInput) {
				if _, ok := seen[in.ID]; !ok {
					seen[in.ID] = in
					want[in.AccountID].Apply(featureEvent(&in))
				}
			}
			check := func(step int) {
				t.Helper()
				for _, id := range ids {
					ra, err := loadRiskAccount(reader{s, ctx}, s, id, false, true)
					if err != nil {
						t.Fatal(err)
					}
					if got, exp := string(ra.state.AppendJSON(nil)), string(want[id].AppendJSON(nil)); got != exp {
						t.Fatalf("step %d, account %s:\n got  %s\n want %s", step, id, got, exp)
					}
					// Counting by account (sign-in limits) finds the same events.
					since := clock.Now().Add(-8 * time.Minute)
					for _, typ := range types {
						exp := 0
						for _, in := range seen {
							if in.AccountID == id && in.Type == typ && in.Time.After(since) {
								exp++
							}
						}
						if got, _, err := s.CountEvents(ctx, id, "", typ, since); err != nil || got != exp {
							t.Fatalf("step %d, account %s: %d %s events since %s, %v; want %d", step, id, got, typ, since, err, exp)
						}
					}
				}
			}
			k := 0
			for step := range 120 {
				switch op := next(20); {
				case op < 12: // a batch of the marketplace's events, some repeated
					var batch []standing.EventInput
					for range 1 + next(6) {
						if k > 0 && next(5) == 0 {
							batch = append(batch, event(next(k))) // an id seen before, maybe another body
							batch[len(batch)-1].ID = fmt.Sprint("e-", next(k))
						} else {
							batch = append(batch, event(k))
							k++
						}
					}
					out, err := r.ProcessEvents(ctx, batch)
					if err != nil {
						t.Fatal(err)
					}
					for i, in := range batch {
						if out[i].Err == nil {
							fold(in)
						}
					}
				case op < 15: // one of Standing's own events
					in := event(k)
					k++
					in.Time = clock.Now()
					in.ASN = 0 // the test's IP facts give a country only
					if err := s.RecordEvent(ctx, in.Event); err != nil {
						t.Fatal(err)
					}
					fold(in)
				case op < 17: // the cache reads an account again, drops it, or drops everything
					switch next(3) {
					case 0:
						s.riskChanged(ids[next(len(ids))])
					case 1:
						s.riskForget(ids[next(len(ids))])
					default:
						r.cache.reset()
					}
				case op < 18: // retention deletes the oldest events; their ids may come again
					cutoff := clock.Now().Add(-5 * time.Minute)
					if _, err := s.SweepEvents(ctx, cutoff); err != nil {
						t.Fatal(err)
					}
					for id, in := range seen {
						if in.Time.Before(cutoff) {
							delete(seen, id)
						}
					}
				default: // a restart, after a clean stop or as if the process had been killed
					s.closeAsIfKilled = next(2) == 0
					s.Close()
					s, r = writeBehindStore(t, dsn, clock)
				}
				clock.Advance(time.Duration(1+next(30)) * time.Second)
				if step%10 == 9 {
					check(step)
				}
			}
			check(120)
		})
	}
}

// TestConcurrentWritersShareTheRows: the marketplace's batches (through the combining
// writer) and Standing's own events, stored at once from many goroutines while the tail is
// flushed every few events, all get rows of their own — the rowid the store remembers
// between transactions never hands one out twice — and each is counted once by account.
func TestConcurrentWritersShareTheRows(t *testing.T) {
	ctx := context.Background()
	clock := standing.NewTestClock(standingtest.Start)
	s, _ := writeBehindStore(t, filepath.Join(t.TempDir(), "s.db"), clock)
	r := NewRisk(s, RiskOptions{Combine: true})
	acc := standingtest.MustCreateAccount(t, s, standing.RoleBuyer, "busy@example.com")
	const writers, each = 8, 25
	errs := make(chan error, 2*writers)
	for w := range writers {
		go func() {
			var err error
			for i := range each {
				in := standing.EventInput{Event: standing.Event{ID: fmt.Sprintf("m-%d-%d", w, i), AccountID: acc.ID, Type: "page_view", Time: clock.Now()}}
				var out []standing.EventResult
				if out, err = r.ProcessEvents(ctx, []standing.EventInput{in}); err == nil && out[0].Err != nil {
					err = out[0].Err
				}
				if err != nil {
					break
				}
			}
			errs <- err
		}()
		go func() {
			var err error
			for range each {
				if err = s.RecordEvent(ctx, standing.Event{AccountID: acc.ID, Type: standing.EventLoginFailed, IP: "192.0.2.1"}); err != nil {
					break
				}
			}
			errs <- err
		}()
	}
	for range 2 * writers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for typ, want := range map[string]int{"page_view": writers * each, standing.EventLoginFailed: writers * each} {
		if n, _, err := s.CountEvents(ctx, acc.ID, "", typ, time.Time{}); err != nil || n != want {
			t.Errorf("%s events = %d, %v; want %d", typ, n, err, want)
		}
	}
	if got := featuresOf(t, r, acc.ID, clock.Now())["events_total"]; fmt.Sprint(got) != fmt.Sprint(2*writers*each+1) {
		t.Errorf("events_total = %v; want %d (and the sample)", got, 2*writers*each+1)
	}
}

// declinesRule fires, scoring score, on a payment_declined event from the account's second
// decline in 24 hours; its explanation says how many it saw (declinesSeen).
func declinesRule(score int) rules.Rule {
	return rules.Rule{ID: "declines", Name: "Declines", Enabled: true, Mode: rules.ModeActive,
		Expression: `event.type == "payment_declined" && features.declined_payments_24h >= 2`, Outcome: rules.Outcome{Score: score}}
}

// declinesSeen is how many declines declinesRule saw for a decision ("= 3"), or "" when it
// did not fire.
func declinesSeen(dec *standing.EventDecision) string {
	for _, f := range dec.Fired {
		if f.RuleID == "declines" {
			return strings.TrimPrefix(f.Because, `event.type = "payment_declined", features.declined_payments_24h `)
		}
	}
	return ""
}

func applyRules(t *testing.T, r *Risk, rs ...rules.Rule) {
	t.Helper()
	if _, _, err := r.ApplyRules(context.Background(), rs, "test"); err != nil {
		t.Fatal(err)
	}
}

// TestEventsOfOneCallSeeTheirOwnFeatures: the events of one call are decided in order, each
// on its account's features up to itself — the account's last event of the call has its
// features taken later, spread over the processors, the earlier ones at once — and the
// decision stored with each event is the one returned.
func TestEventsOfOneCallSeeTheirOwnFeatures(t *testing.T) {
	for _, d := range testDSNs {
		t.Run(d.name, func(t *testing.T) {
			ctx := context.Background()
			clock := standing.NewTestClock(standingtest.Start)
			s, r := writeBehindStore(t, d.dsn(t), clock)
			applyRules(t, r, declinesRule(10))
			a := standingtest.MustCreateAccount(t, s, standing.RoleBuyer, "declined@example.com")
			b := standingtest.MustCreateAccount(t, s, standing.RoleBuyer, "other@example.com")
			var batch []standing.EventInput
			for i, acc := range []string{a.ID, b.ID, a.ID, b.ID, a.ID, a.ID} {
				batch = append(batch, standing.EventInput{Event: standing.Event{ID: fmt.Sprint("d-", i), AccountID: acc,
					Type: standing.EventPaymentDeclined, Time: clock.Now()}})
			}
			// Enough events that evaluation is spread over the processors.
			for i := range 40 {
				batch = append(batch, standing.EventInput{Event: standing.Event{ID: fmt.Sprint("v-", i), AccountID: b.ID, Type: "page_view", Time: clock.Now()}})
			}
			out, err := r.ProcessEvents(ctx, batch)
			if err != nil {
				t.Fatal(err)
			}
			// a's declines are its 1st to 4th, b's its 1st and 2nd: the rule fires from the
			// second on, and says how many it saw.
			for i, want := range []string{"", "", "= 2", "= 2", "= 3", "= 4"} {
				if out[i].Err != nil {
					t.Fatal(out[i].Err)
				}
				if because := declinesSeen(out[i].Decision); because != want {
					t.Errorf("event d-%d: the rule saw %q; want %q", i, because, want)
				}
			}
			for i := range batch {
				_, stored, err := s.Event(ctx, batch[i].ID)
				if err != nil {
					t.Fatal(err)
				}
				if stored == nil || stored.Score != out[i].Decision.Score || stored.EventID != batch[i].ID || len(stored.Fired) != len(out[i].Decision.Fired) {
					t.Fatalf("stored decision of %s = %+v; returned %+v", batch[i].ID, stored, out[i].Decision)
				}
			}
		})
	}
}

// TestRepeatedIDInALaterCall: on SQLite a call's events are decided as new and their
// insert finds one stored before; the call is then decided again knowing it. The repeat
// gets its first decision back, the new events count once, and nothing the first try
// did in memory or in the database is left: not the second count of the repeat in the
// features kept in memory, not the restriction it brought about.
func TestRepeatedIDInALaterCall(t *testing.T) {
	for _, d := range testDSNs {
		t.Run(d.name, func(t *testing.T) {
			ctx := context.Background()
			clock := standing.NewTestClock(standingtest.Start)
			s, r := writeBehindStore(t, d.dsn(t), clock)
			applyRules(t, r, declinesRule(1), rules.Rule{ID: "verify", Name: "Verify", Enabled: true, Mode: rules.ModeActive,
				Expression: `event.type == "payment_declined" && features.declined_payments_24h >= 5`,
				Outcome:    rules.Outcome{RequirePaymentVerification: true}})
			a := standingtest.MustCreateAccount(t, s, standing.RoleBuyer, "repeat@example.com")
			b := standingtest.MustCreateAccount(t, s, standing.RoleBuyer, "bystander@example.com")
			decline := func(id, acc string) standing.EventInput {
				clock.Advance(time.Minute)
				return standing.EventInput{Event: standing.Event{ID: id, AccountID: acc, Type: standing.EventPaymentDeclined, Time: clock.Now()}}
			}
			process := func(in ...standing.EventInput) []standing.EventResult {
				t.Helper()
				out, err := r.ProcessEvents(ctx, in)
				if err != nil {
					t.Fatal(err)
				}
				for _, o := range out {
					if o.Err != nil {
						t.Fatal(o.Err)
					}
				}
				return out
			}
			first := process(decline("d-1", a.ID), decline("d-2", a.ID))
			process(decline("b-1", b.ID))
			// d-2 again, with a's third decline and b's second. Taken as new, d-2 would
			// make d-3 the fourth; kept in memory, d-4 the fifth, which restricts.
			out := process(decline("d-2", a.ID), decline("b-2", b.ID), decline("d-3", a.ID))
			if !out[0].Decision.Duplicate || out[0].Decision.Score != first[1].Decision.Score {
				t.Errorf("the repeat of d-2 = %+v; want the first decision %+v, marked a duplicate", out[0].Decision, first[1].Decision)
			}
			if got := declinesSeen(out[2].Decision); got != "= 3" {
				t.Errorf("d-3: the rule saw %q; want = 3", got)
			}
			if got := declinesSeen(process(decline("d-4", a.ID))[0].Decision); got != "= 4" {
				t.Errorf("d-4: the rule saw %q; want = 4", got)
			}
			// And a repeat in a call whose first try restricts: d-4 taken as new would be
			// the fifth decline. Only d-5 is, and restricts once.
			out = process(decline("d-4", a.ID), decline("d-5", a.ID))
			if got := declinesSeen(out[1].Decision); got != "= 5" {
				t.Errorf("d-5: the rule saw %q; want = 5", got)
			}
			for acc, want := range map[string]int{a.ID: 5, b.ID: 2} {
				if got := featuresOf(t, r, acc, clock.Now())["declined_payments_24h"]; fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("declined_payments_24h of %s = %v; want %v", acc, got, want)
				}
			}
			rs, err := s.Restrictions(ctx, a.ID, true)
			if err != nil {
				t.Fatal(err)
			}
			if len(rs) != 1 {
				t.Errorf("a has %d restrictions; want the one of d-5", len(rs))
			}
		})
	}
}

// TestStoredDecisionForms: a decision is stored without what its row's columns hold and
// without empty lists, and read back whole; a row in the full form of earlier versions
// reads the same.
func TestStoredDecisionForms(t *testing.T) {
	at := standingtest.Start.UTC()
	dec := &standing.EventDecision{EventID: "e-1", AccountID: "acc_1", Type: "order_placed", Fired: []standing.FiredRule{},
		Shadow: []standing.FiredRule{}, Actions: []standing.RiskAction{}, DecidedAt: at}
	b, err := encodeDecision(dec)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"decided_at":"` + at.Format(time.RFC3339Nano) + `"}`; string(b) != want {
		t.Errorf("stored %s; want %s", b, want)
	}
	full := `{"event_id":"e-1","account_id":"acc_1","type":"order_placed","score":0,"fired":[],"shadow":[],"actions":[],"decided_at":"` + at.Format(time.RFC3339Nano) + `"}`
	for _, stored := range []string{string(b), full} {
		got, err := decodeDecision(stored, "e-1", "acc_1", "order_placed")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, dec) {
			t.Errorf("decoded %s = %+v; want %+v", stored, got, dec)
		}
	}
	fired := *dec
	fired.Score, fired.Fired = 10, []standing.FiredRule{{RuleID: "declines", Name: "Declines", Version: 2, Mode: "active", Score: 10,
		Outcome: json.RawMessage(`{"score":10}`), Because: "features.declined_payments_24h = 3", Explanation: []standing.ExplainedValue{}}}
	b, err = encodeDecision(&fired)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeDecision(string(b), "e-1", "acc_1", "order_placed")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, &fired) {
		t.Errorf("decoded %s = %+v; want %+v", b, got, &fired)
	}
	if _, err := decodeDecision(`{"score":`, "e-1", "acc_1", "order_placed"); err == nil || !strings.Contains(err.Error(), "e-1") {
		t.Errorf("a broken stored decision: %v; want an error naming the event", err)
	}
}
