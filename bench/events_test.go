package bench

import (
	"bytes"
	"context"
	"math/rand/v2"
	"regexp"
	"testing"
	"time"
)

// TestEventsSmoke runs the events benchmark at toy size: it must set up, warm up, drive
// both phases without errors and print every figure. It asserts the output, never a speed.
func TestEventsSmoke(t *testing.T) {
	var out bytes.Buffer
	err := Events(context.Background(), EventsOptions{Accounts: 200, Concurrency: 4, BatchClients: 2, BatchSize: 50,
		Duration: 300 * time.Millisecond, ExtraRules: 10}, &out)
	if err != nil {
		t.Fatal(err)
	}
	for _, re := range []string{
		`setup: +22 rules in force; 200 accounts imported`,
		`single: +[0-9]+ events in [0-9]+ requests \(batches of 1\) in [0-9.]+s = [0-9]+ events/s, 0 errors; latency per request p50 \S+ +p99 \S+`,
		`batch: +[0-9]+ events in [0-9]+ requests \(batches of 50\) in [0-9.]+s = [0-9]+ events/s, 0 errors`,
		`(?m)^ +[0-9.]+ events a transaction \([0-9]+ transactions\)$`,
		`event ids in increasing order`,
	} {
		if !regexp.MustCompile(re).MatchString(out.String()) {
			t.Errorf("output lacks %q:\n%s", re, out.String())
		}
	}
}

// TestEventsWithRandomIDs drives the batch phase with ids as a marketplace using UUIDs
// sends them: the server takes every one.
func TestEventsWithRandomIDs(t *testing.T) {
	var out bytes.Buffer
	err := Events(context.Background(), EventsOptions{Accounts: 100, BatchClients: 2, BatchSize: 50, Duration: 300 * time.Millisecond,
		Phases: []string{"batch"}, RandomIDs: true}, &out)
	if err != nil {
		t.Fatal(err)
	}
	for _, re := range []string{`event ids random \(UUIDs\)`, `batch: +[0-9]+ events in [0-9]+ requests \(batches of 50\) .* 0 errors`} {
		if !regexp.MustCompile(re).MatchString(out.String()) {
			t.Errorf("output lacks %q:\n%s", re, out.String())
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	a, b := string(appendRandomID(nil, rng)), string(appendRandomID(nil, rng))
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	if !uuid.MatchString(a) || !uuid.MatchString(b) || a == b {
		t.Errorf("random ids %q, %q", a, b)
	}
}

// TestScaleSmoke runs the scale comparison at toy size: the bulk load must be readable by
// the server (checks and events on its accounts succeed) and both stores' figures print.
func TestScaleSmoke(t *testing.T) {
	var out bytes.Buffer
	err := Scale(context.Background(), ScaleOptions{Accounts: 1000, Events: 5000, Sample: 100, Concurrency: 4,
		Duration: 300 * time.Millisecond, ExtraRules: 5}, &out)
	if err != nil {
		t.Fatal(err)
	}
	for _, re := range []string{
		`large: +loaded 1000 accounts and 5000 events through SQL`,
		`empty +check: +p50 \S+ +p99 \S+ +\([0-9]+ checks/s, 0 errors\)`,
		`large +check: +p50 \S+ +p99 \S+ +\([0-9]+ checks/s, 0 errors\)`,
		`empty +events: +p50 \S+ +p99 \S+ +\([0-9]+ events/s, 0 errors\)`,
		`large +events: +p50 \S+ +p99 \S+ +\([0-9]+ events/s, 0 errors\)`,
		`large/empty: check p50 [0-9.]+x p99 [0-9.]+x; events p50 [0-9.]+x p99 [0-9.]+x`,
	} {
		if !regexp.MustCompile(re).MatchString(out.String()) {
			t.Errorf("output lacks %q:\n%s", re, out.String())
		}
	}
}
