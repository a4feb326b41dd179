package jobs_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"standing"
	"standing/jobs"
	"standing/sqlstore"
	"standing/standingtest"
)

func setup(t *testing.T) (*sqlstore.Store, *standing.OffsetClock, *jobs.Runner) {
	t.Helper()
	clock := standing.NewTestClock(standingtest.Start)
	s, err := sqlstore.Open(context.Background(), filepath.Join(t.TempDir(), "j.db"), sqlstore.Options{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s, clock, jobs.NewRunner(s, clock, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

func TestRunnerRetriesWithBackoffThenSucceeds(t *testing.T) {
	ctx := context.Background()
	s, clock, r := setup(t)
	attempts := 0
	r.Handle("flaky", func(ctx context.Context, j jobs.Job) error {
		attempts++
		if attempts < 3 {
			return errors.New("smtp server down")
		}
		return nil
	})
	if err := s.EnqueueJob(ctx, jobs.Job{Kind: "flaky", MaxAttempts: 5}); err != nil {
		t.Fatal(err)
	}
	if n, _ := r.RunDue(ctx); n != 1 || attempts != 1 {
		t.Fatalf("first pass ran %d jobs, %d attempts", n, attempts)
	}
	if n, _ := r.RunDue(ctx); n != 0 {
		t.Fatalf("a failed job ran again before its backoff")
	}
	clock.Advance(time.Minute)
	r.RunDue(ctx)
	clock.Advance(time.Minute)
	r.RunDue(ctx)
	if attempts != 3 {
		t.Fatalf("attempts = %d, want 3", attempts)
	}
	clock.Advance(time.Hour)
	if n, _ := r.RunDue(ctx); n != 0 {
		t.Fatalf("a completed job ran again")
	}
	if c, _ := s.JobCounts(ctx); c["done"] != 1 {
		t.Fatalf("job counts = %v", c)
	}
}

func TestRunnerGivesUp(t *testing.T) {
	ctx := context.Background()
	s, clock, r := setup(t)
	r.Handle("broken", func(ctx context.Context, j jobs.Job) error { return jobs.Permanent{Err: errors.New("no such mailbox")} })
	r.Handle("tired", func(ctx context.Context, j jobs.Job) error { return errors.New("again") })
	s.EnqueueJob(ctx, jobs.Job{Kind: "broken", MaxAttempts: 10})
	s.EnqueueJob(ctx, jobs.Job{Kind: "tired", MaxAttempts: 2})
	s.EnqueueJob(ctx, jobs.Job{Kind: "unknown-kind", MaxAttempts: 10})
	for i := 0; i < 5; i++ {
		r.RunDue(ctx)
		clock.Advance(time.Hour)
	}
	if c, _ := s.JobCounts(ctx); c["failed"] != 3 {
		t.Fatalf("job counts = %v, want 3 failed (permanent, out of attempts, no handler)", c)
	}
}

func TestRunnerRunsPeriodicAndSurvivesPanics(t *testing.T) {
	ctx := context.Background()
	s, _, r := setup(t)
	sweeps := 0
	r.Every("sweep", func(ctx context.Context, now time.Time) error { sweeps++; return nil })
	r.Handle("panics", func(ctx context.Context, j jobs.Job) error { panic("boom") })
	s.EnqueueJob(ctx, jobs.Job{Kind: "panics", MaxAttempts: 1})
	r.RunDue(ctx)
	if sweeps != 1 {
		t.Fatalf("sweeps = %d", sweeps)
	}
	if c, _ := s.JobCounts(ctx); c["failed"] != 1 {
		t.Fatalf("a panicking job was not recorded as failed: %v", c)
	}
}

func TestBackoffGrowsAndCaps(t *testing.T) {
	prev := time.Duration(0)
	for a := 1; a <= 12; a++ {
		d := jobs.Backoff(a)
		if d < prev*9/10 && d < time.Hour {
			t.Errorf("Backoff(%d) = %v shrank from %v", a, d, prev)
		}
		if d > time.Hour+12*time.Minute {
			t.Errorf("Backoff(%d) = %v is over the cap", a, d)
		}
		prev = d
	}
	if jobs.Backoff(1) < 5*time.Second {
		t.Errorf("first backoff %v under 5s", jobs.Backoff(1))
	}
}
