package standing

import (
	"sync"
	"time"
)

// Clock is the one source of time. Every deadline (verification, erasure, review, penalty
// expiry, timed restrictions) reads it, so tests and the dev server move time instead of
// sleeping.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock, in UTC.
type SystemClock struct{}

// Now returns the current time in UTC.
func (SystemClock) Now() time.Time { return time.Now().UTC() }

// OffsetClock is a base clock moved forward by an offset that only grows. Tests use it over
// a fixed base; the dev server uses it over the wall clock for POST /dev/clock.
type OffsetClock struct {
	base    Clock
	mu      sync.RWMutex
	offset  time.Duration
	changed chan struct{}
}

// NewOffsetClock returns a clock offset from base by offset.
func NewOffsetClock(base Clock, offset time.Duration) *OffsetClock {
	return &OffsetClock{base: base, offset: offset, changed: make(chan struct{})}
}

// Now returns the base time plus the offset.
func (c *OffsetClock) Now() time.Time {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.base.Now().Add(c.offset)
}

// Advance moves the clock forward by d (a negative d is refused) and wakes everyone
// waiting on Changed.
func (c *OffsetClock) Advance(d time.Duration) error {
	if d < 0 {
		return Errorf(EINVALID, "the clock only moves forward; %s is negative", d)
	}
	c.mu.Lock()
	c.offset += d
	ch := c.changed
	c.changed = make(chan struct{})
	c.mu.Unlock()
	close(ch)
	return nil
}

// Offset returns how far the clock is ahead of its base.
func (c *OffsetClock) Offset() time.Duration {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.offset
}

// Changed returns a channel closed at the next Advance.
func (c *OffsetClock) Changed() <-chan struct{} {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.changed
}

// FixedClock is a clock that stands still at T; it is the base of test clocks.
type FixedClock struct{ T time.Time }

// Now returns T.
func (c FixedClock) Now() time.Time { return c.T }

// NewTestClock returns a clock that starts at t and moves only when advanced.
func NewTestClock(t time.Time) *OffsetClock { return NewOffsetClock(FixedClock{t.UTC()}, 0) }
