package bench

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestCheckSmoke runs the load command at toy size: it must import, warm up, measure and
// print every figure the README quotes. It asserts the shape of the output, never a speed.
func TestCheckSmoke(t *testing.T) {
	var out bytes.Buffer
	err := Check(context.Background(), CheckOptions{Accounts: 300, Concurrency: 4, Duration: 300 * time.Millisecond}, &out)
	if err != nil {
		t.Fatal(err)
	}
	for _, re := range []string{
		`import: +300 accounts in [0-9.]+s = [0-9]+ accounts/s`,
		`warm-up: checked each of the 300 accounts once`,
		`check: +[0-9]+ requests in [0-9.]+s = [0-9]+ checks/s, 0 errors`,
		`latency: p50 \S+ +p99 \S+ +p99\.9 \S+`,
	} {
		if !regexp.MustCompile(re).MatchString(out.String()) {
			t.Errorf("output lacks %q:\n%s", re, out.String())
		}
	}
}

func TestPercentile(t *testing.T) {
	l := &Latencies{}
	var d []time.Duration
	for i := 100; i >= 1; i-- {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	l.Add(d)
	for p, want := range map[float64]time.Duration{50: 50 * time.Millisecond, 99: 99 * time.Millisecond, 100: 100 * time.Millisecond, 0: time.Millisecond} {
		if got := l.Percentile(p); got != want {
			t.Errorf("p%v = %v, want %v", p, got, want)
		}
	}
}

func TestQueueSmoke(t *testing.T) {
	var out bytes.Buffer
	if err := Queue(context.Background(), QueueOptions{Appeals: 2000, Rounds: 5}, &out); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "queue first page"); n != 4 {
		t.Fatalf("output:\n%s", out.String())
	}
}
