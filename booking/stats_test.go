package booking

import (
	"context"
	"errors"
	"math"
	"sync"
	"testing"
	"time"
)

func TestOpStatsQuantile(t *testing.T) {
	tests := []struct {
		name      string
		latencies []time.Duration
		q         float64
		want      time.Duration
	}{
		{"empty", nil, 0.95, 0},
		{"one fast", []time.Duration{100 * time.Microsecond}, 0.95, 500 * time.Microsecond},
		{"on a bound", []time.Duration{time.Millisecond}, 0.5, time.Millisecond},
		{"p95 of twenty", append(repeat(19, time.Millisecond), time.Second), 0.95, time.Millisecond},
		{"p99 of twenty", append(repeat(19, time.Millisecond), time.Second), 0.99, time.Second},
		{"slower than the last bound", []time.Duration{time.Minute}, 0.5, math.MaxInt64},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var s OpStats
			for _, d := range tc.latencies {
				s.Observe(d, "")
			}
			if got := s.Quantile(tc.q); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func repeat(n int, d time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

func TestOpStatsAdd(t *testing.T) {
	var a, b OpStats
	a.Observe(time.Millisecond, "")
	b.Observe(time.Millisecond, "sold_out")
	b.Observe(time.Second, "sold_out")

	a.Add(b)

	if a.Count != 3 {
		t.Errorf("got count %d, want 3", a.Count)
	}
	if a.Errors["sold_out"] != 2 {
		t.Errorf("got %d sold_out, want 2", a.Errors["sold_out"])
	}
	if a.Latency[latencyBucket(time.Millisecond)] != 2 {
		t.Errorf("got %d in the 1ms bucket, want 2", a.Latency[latencyBucket(time.Millisecond)])
	}
}

func TestValidateStats(t *testing.T) {
	window := time.Date(2026, 6, 1, 10, 0, 10, 0, time.UTC)
	if err := ValidateStats(window, []OpStats{{Op: OpHold, Count: 1, Errors: map[string]int64{"sold_out": 1}}}); err != nil {
		t.Fatalf("valid stats: %v", err)
	}

	tests := []struct {
		name   string
		window time.Time
		stats  []OpStats
	}{
		{"window not aligned", window.Add(time.Second), nil},
		{"op with colon", window, []OpStats{{Op: "hold:x"}}},
		{"negative count", window, []OpStats{{Op: OpHold, Count: -1}}},
		{"bad error code", window, []OpStats{{Op: OpHold, Errors: map[string]int64{"Sold Out": 1}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := ValidateStats(tc.window, tc.stats); !errors.Is(err, ErrInvalidRequest) {
				t.Errorf("got error %v, want %v", err, ErrInvalidRequest)
			}
		})
	}
}

// statsSink is a StatsAdder that records what it is given and fails while
// fail is set.
type statsSink struct {
	mu    sync.Mutex
	fail  bool
	added map[time.Time]map[string]OpStats
}

func (s *statsSink) AddStats(_ context.Context, window time.Time, stats []OpStats) error {
	s.mu.Lock()
	defer s.mu.Unlock()

	if s.fail {
		return errors.New("store unavailable")
	}
	if s.added == nil {
		s.added = make(map[time.Time]map[string]OpStats)
	}
	if s.added[window] == nil {
		s.added[window] = make(map[string]OpStats)
	}
	for _, op := range stats {
		sum := s.added[window][op.Op]
		sum.Op = op.Op
		sum.Add(op)
		s.added[window][op.Op] = sum
	}
	return nil
}

func TestRecorderFlush(t *testing.T) {
	now := time.Date(2026, 6, 1, 10, 0, 3, 0, time.UTC)
	sink := &statsSink{}
	recorder := NewRecorder(sink, func() time.Time { return now }, nil)

	recorder.Observe(OpHold, 2*time.Millisecond, nil)
	recorder.Observe(OpHold, 3*time.Millisecond, ErrSoldOut)
	now = now.Add(StatsWindow)
	recorder.Observe(OpPay, time.Second, nil)

	if err := recorder.Flush(context.Background()); err != nil {
		t.Fatalf("flush: %v", err)
	}

	first := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	holds := sink.added[first][OpHold]
	if holds.Count != 2 || holds.Errors["sold_out"] != 1 {
		t.Errorf("first window: got %d holds with %d sold_out, want 2 with 1", holds.Count, holds.Errors["sold_out"])
	}
	if pays := sink.added[first.Add(StatsWindow)][OpPay]; pays.Count != 1 {
		t.Errorf("second window: got %d payments, want 1", pays.Count)
	}

	if err := recorder.Flush(context.Background()); err != nil {
		t.Fatalf("second flush: %v", err)
	}
	if got := sink.added[first][OpHold].Count; got != 2 {
		t.Errorf("after an empty flush: got %d holds, want still 2", got)
	}
}

func TestRecorderKeepsCountsAfterFailedFlush(t *testing.T) {
	now := time.Date(2026, 6, 1, 10, 0, 3, 0, time.UTC)
	sink := &statsSink{fail: true}
	recorder := NewRecorder(sink, func() time.Time { return now }, nil)
	recorder.Observe(OpHold, time.Millisecond, nil)

	if err := recorder.Flush(context.Background()); err == nil {
		t.Fatalf("flush to a failing store: got no error, want one")
	}
	sink.fail = false
	if err := recorder.Flush(context.Background()); err != nil {
		t.Fatalf("retried flush: %v", err)
	}

	window := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	if got := sink.added[window][OpHold].Count; got != 1 {
		t.Errorf("got %d holds, want 1", got)
	}
}

func TestRecorderRunFlushesOnStop(t *testing.T) {
	now := time.Date(2026, 6, 1, 10, 0, 3, 0, time.UTC)
	sink := &statsSink{}
	recorder := NewRecorder(sink, func() time.Time { return now }, nil)
	recorder.Observe(OpConfirm, time.Millisecond, nil)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	recorder.Run(ctx, time.Hour)

	window := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	if got := sink.added[window][OpConfirm].Count; got != 1 {
		t.Errorf("got %d confirms after Run stopped, want 1", got)
	}
}
