// Package jobs runs Standing's durable background work: deadlines (email verification,
// erasure, appeal review), mail and webhook delivery, and periodic sweeps. Jobs are rows
// written in the same transaction as the change that causes them, so they survive a crash
// and never run for a change that rolled back. Time comes from the injected clock: a job
// is due when the service clock passes its run time, so tests move time instead of
// sleeping.
package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"standing"
)

// Job is one durable unit of background work.
type Job struct {
	ID          string
	Kind        string
	DedupeKey   string // at most one pending or running job per key
	Payload     json.RawMessage
	RunAt       time.Time
	Attempts    int // including the current one
	MaxAttempts int
	LastError   string
	State       string // pending | running | done | failed | cancelled
}

// Queue is the durable store of jobs.
type Queue interface {
	// EnqueueJob adds a job; with a DedupeKey already pending it does nothing.
	EnqueueJob(ctx context.Context, j Job) error
	// ClaimJobs marks up to limit due jobs running until now+lease and returns them.
	ClaimJobs(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]Job, error)
	// CompleteJob marks a job done.
	CompleteJob(ctx context.Context, id string) error
	// RetryJob puts a job back to pending at runAt, recording the error.
	RetryJob(ctx context.Context, id string, runAt time.Time, errText string) error
	// FailJob marks a job failed for good, recording the error.
	FailJob(ctx context.Context, id string, errText string) error
	// ReleaseJobs returns jobs left running (by a process that died) to pending.
	ReleaseJobs(ctx context.Context) (int, error)
}

// Handler does the work of one job. Handlers must be idempotent: a job whose process died
// after the work but before CompleteJob runs again.
type Handler func(ctx context.Context, j Job) error

// Permanent wraps an error that retrying cannot fix; the job fails at once.
type Permanent struct{ Err error }

func (p Permanent) Error() string { return p.Err.Error() }
func (p Permanent) Unwrap() error { return p.Err }

// Runner claims due jobs and runs their handlers, and runs periodic sweeps.
type Runner struct {
	q        Queue
	clock    standing.Clock
	log      *slog.Logger
	handlers map[string]Handler
	periodic []periodic
	wake     chan struct{}
	// Poll is how often the runner looks for due jobs when nothing wakes it.
	Poll time.Duration
	// Lease is how long a claimed job is reserved before another runner may take it.
	Lease time.Duration

	mu       sync.Mutex
	inFlight map[string]bool
}

type periodic struct {
	name string
	fn   func(ctx context.Context, now time.Time) error
}

// NewRunner returns a runner over q that reads time from clock.
func NewRunner(q Queue, clock standing.Clock, log *slog.Logger) *Runner {
	return &Runner{q: q, clock: clock, log: log, handlers: map[string]Handler{}, wake: make(chan struct{}, 1),
		Poll: time.Second, Lease: 2 * time.Minute, inFlight: map[string]bool{}}
}

// Handle registers the handler of a job kind.
func (r *Runner) Handle(kind string, h Handler) { r.handlers[kind] = h }

// Every registers a sweep that runs on each pass of the runner (every Poll, and whenever
// the clock moves or work is queued).
func (r *Runner) Every(name string, fn func(ctx context.Context, now time.Time) error) {
	r.periodic = append(r.periodic, periodic{name, fn})
}

// Wake makes the runner look for due work now. It never blocks.
func (r *Runner) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run works until ctx ends.
func (r *Runner) Run(ctx context.Context) {
	if n, err := r.q.ReleaseJobs(ctx); err != nil {
		r.log.Error("release jobs left running", "err", err)
	} else if n > 0 {
		r.log.Info("released jobs left running by a stopped process", "jobs", n)
	}
	var changed <-chan struct{}
	type changer interface{ Changed() <-chan struct{} }
	t := time.NewTicker(r.Poll)
	defer t.Stop()
	for {
		if c, ok := r.clock.(changer); ok {
			changed = c.Changed()
		}
		if _, err := r.RunDue(ctx); err != nil && ctx.Err() == nil {
			r.log.Error("job runner", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-r.wake:
		case <-changed:
		}
	}
}

// RunDue runs the periodic sweeps and every job due at the clock's now, until none is
// left, and returns how many jobs it ran. Tests call it after moving the clock.
func (r *Runner) RunDue(ctx context.Context) (int, error) {
	now := r.clock.Now()
	for _, p := range r.periodic {
		if err := p.fn(ctx, now); err != nil {
			r.log.Error("periodic task failed", "task", p.name, "err", err)
		}
	}
	ran := 0
	for {
		batch, err := r.q.ClaimJobs(ctx, r.clock.Now(), 50, r.Lease)
		if err != nil {
			return ran, err
		}
		if len(batch) == 0 {
			return ran, nil
		}
		for _, j := range batch {
			r.run(ctx, j)
			ran++
		}
	}
}

func (r *Runner) run(ctx context.Context, j Job) {
	r.mu.Lock()
	if r.inFlight[j.ID] {
		r.mu.Unlock()
		return
	}
	r.inFlight[j.ID] = true
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.inFlight, j.ID)
		r.mu.Unlock()
	}()
	h, ok := r.handlers[j.Kind]
	var err error
	if !ok {
		err = Permanent{fmt.Errorf("no handler for job kind %q", j.Kind)}
	} else {
		err = safeRun(ctx, h, j)
	}
	if err == nil {
		if err := r.q.CompleteJob(ctx, j.ID); err != nil {
			r.log.Error("complete job", "job", j.ID, "kind", j.Kind, "err", err)
		}
		return
	}
	var perm Permanent
	if asPermanent(err, &perm) || j.Attempts >= j.MaxAttempts {
		r.log.Error("job failed for good", "job", j.ID, "kind", j.Kind, "attempts", j.Attempts, "err", err)
		if err := r.q.FailJob(ctx, j.ID, err.Error()); err != nil {
			r.log.Error("fail job", "job", j.ID, "err", err)
		}
		return
	}
	next := r.clock.Now().Add(Backoff(j.Attempts))
	r.log.Warn("job will be retried", "job", j.ID, "kind", j.Kind, "attempt", j.Attempts, "next", next, "err", err)
	if err := r.q.RetryJob(ctx, j.ID, next, err.Error()); err != nil {
		r.log.Error("retry job", "job", j.ID, "err", err)
	}
}

func safeRun(ctx context.Context, h Handler, j Job) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return h(ctx, j)
}

func asPermanent(err error, p *Permanent) bool {
	for err != nil {
		if v, ok := err.(Permanent); ok {
			*p = v
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

// Backoff returns the wait before retry number attempt: 5 s doubling up to an hour, with
// up to 20 % jitter so that retries of many jobs spread out.
func Backoff(attempt int) time.Duration {
	d := 5 * time.Second
	for i := 1; i < attempt && d < time.Hour; i++ {
		d *= 2
	}
	if d > time.Hour {
		d = time.Hour
	}
	return d + time.Duration(rand.Int64N(int64(d/5)+1))
}
