package memstore_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"foyer/waitroom"
	"foyer/waitroom/memstore"
	"foyer/waitroom/storetest"
)

// clock is a settable clock that tests move by hand. It is safe for
// concurrent use.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Fixture {
		c := &clock{now: time.Date(2031, 3, 14, 9, 0, 0, 0, time.UTC)}
		s := memstore.New(c.Now)
		return storetest.Fixture{
			Store: s,
			Wait:  c.Advance,
			// Backdate turns the clock back, records a heartbeat then, and
			// turns the clock forward again. The suite backdates only when no
			// other call is running.
			Backdate: func(ctx context.Context, room, visitor string, ago time.Duration) error {
				now := c.Now()
				c.Set(now.Add(-ago))
				defer c.Set(now)
				return s.Heartbeat(ctx, room, []string{visitor})
			},
		}
	})
}

func BenchmarkStore(b *testing.B) {
	storetest.Benchmark(b, func(b *testing.B) waitroom.Store { return memstore.New(nil) })
}
