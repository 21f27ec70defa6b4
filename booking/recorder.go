package booking

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// StatsAdder is the part of Store that a Recorder writes to.
type StatsAdder interface {
	AddStats(ctx context.Context, window time.Time, stats []OpStats) error
}

// Recorder counts operation outcomes in memory and adds them to a store
// window by window, so that one edge costs the store one write per window
// and operation rather than one per request. Windows are assigned by the
// recorder's clock, not the store's.
//
// NOTE: counts that have not been flushed are lost if the process dies.
type Recorder struct {
	store  StatsAdder
	now    func() time.Time
	logger *slog.Logger

	mu      sync.Mutex
	pending map[time.Time]map[string]*OpStats
}

// NewRecorder returns a Recorder that writes to store. A nil now means
// time.Now, and a nil logger means slog.Default().
func NewRecorder(store StatsAdder, now func() time.Time, logger *slog.Logger) *Recorder {
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.Default()
	}
	return &Recorder{store: store, now: now, logger: logger, pending: make(map[time.Time]map[string]*OpStats)}
}

// Observe counts one outcome of op that took latency and ended with err.
// It is safe for concurrent use.
func (r *Recorder) Observe(op string, latency time.Duration, err error) {
	window := WindowStart(r.now())

	r.mu.Lock()
	defer r.mu.Unlock()

	ops := r.pending[window]
	if ops == nil {
		ops = make(map[string]*OpStats)
		r.pending[window] = ops
	}
	stats := ops[op]
	if stats == nil {
		stats = &OpStats{Op: op}
		ops[op] = stats
	}
	stats.Observe(latency, ErrorCode(err))
}

// Flush adds every pending count to the store, including the current,
// unfinished window. Counts that fail to be written stay pending for the
// next Flush unless their window is older than StatsRetention.
func (r *Recorder) Flush(ctx context.Context) error {
	r.mu.Lock()
	pending := r.pending
	r.pending = make(map[time.Time]map[string]*OpStats)
	r.mu.Unlock()

	var firstErr error
	for window, ops := range pending {
		stats := make([]OpStats, 0, len(ops))
		for _, s := range ops {
			stats = append(stats, *s)
		}

		err := r.store.AddStats(ctx, window, stats)
		if err == nil {
			continue
		}
		if firstErr == nil {
			firstErr = err
		}
		r.restore(window, stats)
	}
	return firstErr
}

// restore puts counts that failed to be written back into pending.
func (r *Recorder) restore(window time.Time, stats []OpStats) {
	if r.now().Sub(window) > StatsRetention {
		r.logger.Warn("dropped booking stats older than the retention", "window", window, "ops", len(stats))
		return
	}

	r.mu.Lock()
	defer r.mu.Unlock()

	ops := r.pending[window]
	if ops == nil {
		ops = make(map[string]*OpStats)
		r.pending[window] = ops
	}
	for _, s := range stats {
		if ops[s.Op] == nil {
			ops[s.Op] = &OpStats{Op: s.Op}
		}
		ops[s.Op].Add(s)
	}
}

// Run flushes every interval until ctx is done, then flushes once more with
// a 2-second timeout. Failed flushes are logged and retried at the next
// interval. An interval of zero or less means StatsWindow.
func (r *Recorder) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = StatsWindow
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()

	for {
		select {
		case <-ticker.C:
			if err := r.Flush(ctx); err != nil {
				r.logger.Warn("flush booking stats failed, will retry at the next interval", "err", err)
			}

		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			if err := r.Flush(final); err != nil {
				r.logger.Error("final flush of booking stats failed, unflushed counts are lost", "err", err)
			}
			cancel()
			return
		}
	}
}
