package booking

import (
	"fmt"
	"math"
	"time"
)

// StatsWindow is the length of the windows in which booking operations are
// counted. Window starts are multiples of it since the Unix epoch.
const StatsWindow = 5 * time.Second

// StatsRetention is how long stores keep a window's counts.
const StatsRetention = time.Hour

// Operation names used in OpStats.
const (
	OpHold    = "hold"
	OpExtend  = "extend"
	OpRelease = "release"
	OpPay     = "pay"
	OpConfirm = "confirm"
	OpCancel  = "cancel"
)

// LatencyBounds are the inclusive upper bounds of the latency histogram
// buckets. A last, unbounded bucket counts slower operations.
var LatencyBounds = [...]time.Duration{
	500 * time.Microsecond,
	time.Millisecond,
	2 * time.Millisecond,
	5 * time.Millisecond,
	10 * time.Millisecond,
	20 * time.Millisecond,
	50 * time.Millisecond,
	100 * time.Millisecond,
	200 * time.Millisecond,
	500 * time.Millisecond,
	time.Second,
	2 * time.Second,
	5 * time.Second,
}

// LatencyBuckets is the number of histogram buckets, including the last,
// unbounded one.
const LatencyBuckets = len(LatencyBounds) + 1

// OpStats counts the outcomes of one operation, such as OpHold, in one
// window. The zero value is an empty count.
type OpStats struct {
	Op string `json:"op"`
	// Count counts all outcomes, successes and errors.
	Count int64 `json:"count"`
	// Errors counts failed outcomes by error code (see ErrorCode).
	Errors map[string]int64 `json:"errors,omitempty"`
	// Latency counts outcomes per bucket of LatencyBounds.
	Latency [LatencyBuckets]int64 `json:"latency"`
}

// Observe counts one outcome. An empty code means success.
func (s *OpStats) Observe(latency time.Duration, code string) {
	s.Count++
	s.Latency[latencyBucket(latency)]++

	if code == "" {
		return
	}
	if s.Errors == nil {
		s.Errors = make(map[string]int64)
	}
	s.Errors[code]++
}

// Add adds other's counts to s.
func (s *OpStats) Add(other OpStats) {
	s.Count += other.Count
	for i, n := range other.Latency {
		s.Latency[i] += n
	}

	for code, n := range other.Errors {
		if s.Errors == nil {
			s.Errors = make(map[string]int64)
		}
		s.Errors[code] += n
	}
}

// ErrorCount returns the number of failed outcomes.
func (s OpStats) ErrorCount() int64 {
	var total int64
	for _, n := range s.Errors {
		total += n
	}
	return total
}

// Quantile returns an upper bound for the q-quantile latency (q = 0.95 for
// the p95): the bound of the bucket that contains it. When that is the last,
// unbounded bucket it returns math.MaxInt64. It returns 0 when Count is 0.
func (s OpStats) Quantile(q float64) time.Duration {
	if s.Count == 0 {
		return 0
	}

	rank := int64(math.Ceil(q * float64(s.Count)))
	rank = min(max(rank, 1), s.Count)

	var seen int64
	for i, n := range s.Latency {
		seen += n
		if seen >= rank && i < len(LatencyBounds) {
			return LatencyBounds[i]
		}
	}
	return math.MaxInt64
}

func latencyBucket(latency time.Duration) int {
	for i, bound := range LatencyBounds {
		if latency <= bound {
			return i
		}
	}
	return len(LatencyBounds)
}

// WindowStats are the counts of every operation in one window, summed over
// every edge that reported to the store.
type WindowStats struct {
	// Start is the window's start, a multiple of StatsWindow.
	Start time.Time `json:"start"`
	// Ops maps operation names to their counts.
	Ops map[string]OpStats `json:"ops"`
}

// WindowStart returns the start of the window that contains t, in UTC.
func WindowStart(t time.Time) time.Time {
	return t.UTC().Truncate(StatsWindow)
}

// ValidateStats checks the arguments of Store.AddStats: window is a multiple
// of StatsWindow, and operation names and error codes are 1 to 64
// characters from a-z, 0-9, '-' and '_', so they can be stored as field
// names. Counts must not be negative. Failures wrap ErrInvalidRequest.
func ValidateStats(window time.Time, stats []OpStats) error {
	if window.UnixMilli()%StatsWindow.Milliseconds() != 0 {
		return fmt.Errorf("add stats: window %s is not a multiple of %s: %w", window, StatsWindow, ErrInvalidRequest)
	}

	for _, s := range stats {
		if !ValidSlotID(s.Op) {
			return fmt.Errorf("add stats: operation name %q must be 1 to 64 characters from a-z, 0-9, '-' and '_': %w", s.Op, ErrInvalidRequest)
		}
		if s.Count < 0 {
			return fmt.Errorf("add stats: %s count %d is negative: %w", s.Op, s.Count, ErrInvalidRequest)
		}
		for _, n := range s.Latency {
			if n < 0 {
				return fmt.Errorf("add stats: %s latency count %d is negative: %w", s.Op, n, ErrInvalidRequest)
			}
		}
		for code, n := range s.Errors {
			if !ValidSlotID(code) || n < 0 {
				return fmt.Errorf("add stats: %s error code %q with count %d is invalid: %w", s.Op, code, n, ErrInvalidRequest)
			}
		}
	}
	return nil
}

// maxStatsRange bounds the span that ReadStats accepts.
const maxStatsRange = StatsRetention + StatsWindow

// ValidateStatsRange checks the arguments of Store.ReadStats: from is not
// after to, and the range spans at most StatsRetention plus one window,
// since older windows are gone anyway. Failures wrap ErrInvalidRequest.
func ValidateStatsRange(from, to time.Time) error {
	if to.Before(from) {
		return fmt.Errorf("read stats: from %s is after to %s: %w", from, to, ErrInvalidRequest)
	}
	if to.Sub(from) > maxStatsRange {
		return fmt.Errorf("read stats: range %s is longer than the maximum of %s: %w", to.Sub(from), maxStatsRange, ErrInvalidRequest)
	}
	return nil
}
