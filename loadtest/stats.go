package loadtest

import (
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Request operations whose latency is recorded.
const (
	opJoin   = "join"
	opStatus = "status"
	opSlots  = "slots"
	opHold   = "hold"
	opPay    = "pay"
	opOrder  = "order"
)

var operations = []string{opJoin, opStatus, opSlots, opHold, opPay, opOrder}

// isBookingOp reports whether op belongs to the booking flow, whose
// latency the report charts over time.
func isBookingOp(op string) bool {
	return op == opSlots || op == opHold || op == opPay || op == opOrder
}

// Outcome is the way a visitor's run ended.
type Outcome uint8

// Visitor outcomes. OutcomeNone means the visitor has not finished.
const (
	OutcomeNone Outcome = iota
	// OutcomeBooked paid and read a confirmed order.
	OutcomeBooked
	// OutcomeNeedsRefund paid but got an order flagged for a refund.
	OutcomeNeedsRefund
	// OutcomeAbandoned stopped polling while waiting.
	OutcomeAbandoned
	// OutcomeLetExpire placed a hold and left it to expire.
	OutcomeLetExpire
	// OutcomeGaveUp had every payment attempt declined.
	OutcomeGaveUp
	// OutcomeSoldOut found no slot with enough free places.
	OutcomeSoldOut
	// OutcomeHoldExpired saw the hold expire before paying.
	OutcomeHoldExpired
	// OutcomeExpired lost the place or the admission by timing out.
	OutcomeExpired
	// OutcomeRoomClosed saw the room close or sell out while waiting.
	OutcomeRoomClosed
	// OutcomeAdmitted was admitted and stopped, because booking is skipped.
	OutcomeAdmitted
	// OutcomeFailed hit an error it could not retry, or too many in a row.
	OutcomeFailed
	// OutcomeUnfinished was still going when the run ended.
	OutcomeUnfinished
	outcomeCount
)

var outcomeNames = [outcomeCount]string{
	OutcomeNone:        "none",
	OutcomeBooked:      "booked",
	OutcomeNeedsRefund: "needs_refund",
	OutcomeAbandoned:   "abandoned",
	OutcomeLetExpire:   "let_hold_expire",
	OutcomeGaveUp:      "gave_up_after_declines",
	OutcomeSoldOut:     "sold_out",
	OutcomeHoldExpired: "hold_expired",
	OutcomeExpired:     "expired",
	OutcomeRoomClosed:  "room_closed",
	OutcomeAdmitted:    "admitted_no_booking",
	OutcomeFailed:      "failed",
	OutcomeUnfinished:  "unfinished",
}

func (o Outcome) String() string { return outcomeNames[o] }

// latencyHistogram returns an HDR histogram of microseconds from 1µs to
// 5 minutes with 3 significant digits.
func latencyHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(1, int64(5*time.Minute/time.Microsecond), 3)
}

// stats are the live counters of a run. Counters are atomic; histograms
// and the error map sit behind mu.
type stats struct {
	arrived  atomic.Int64
	joined   atomic.Int64
	waiting  atomic.Int64
	prequeue atomic.Int64
	admitted atomic.Int64
	booking  atomic.Int64
	requests atomic.Int64
	failures atomic.Int64
	declines atomic.Int64
	outcomes [outcomeCount]atomic.Int64

	mu        sync.Mutex
	latency   map[string]*hdrhistogram.Histogram
	errors    map[string]int64
	interval  *hdrhistogram.Histogram
	lag       *hdrhistogram.Histogram
	intervalN int64
	// window holds the latencies of holds and payments, the requests that
	// reach a rehearsal backend, since the last takeWindow.
	window  *hdrhistogram.Histogram
	windowN int64
}

func newStats() *stats {
	s := &stats{
		latency:  make(map[string]*hdrhistogram.Histogram, len(operations)),
		errors:   make(map[string]int64),
		interval: latencyHistogram(),
		lag:      latencyHistogram(),
		window:   latencyHistogram(),
	}
	for _, op := range operations {
		s.latency[op] = latencyHistogram()
	}
	return s
}

// observe records one request of op: its latency, and its failure kind
// unless it succeeded or failed in a way the visitor expects.
func (s *stats) observe(op string, r response, expected bool) {
	s.requests.Add(1)
	failed := !r.ok() && !expected
	if failed {
		s.failures.Add(1)
	}
	us := max(1, r.latency.Microseconds())

	s.mu.Lock()
	defer s.mu.Unlock()
	_ = s.latency[op].RecordValue(us)
	if isBookingOp(op) {
		_ = s.interval.RecordValue(us)
		s.intervalN++
	}
	if op == opHold || op == opPay {
		_ = s.window.RecordValue(us)
		s.windowN++
	}
	if failed {
		s.errors[op+": "+r.kind()]++
	}
}

// observeLag records how late a visitor's step started after it was due.
func (s *stats) observeLag(late time.Duration) {
	us := max(1, late.Microseconds())
	s.mu.Lock()
	_ = s.lag.RecordValue(us)
	s.mu.Unlock()
}

// errorCounts returns a copy of the error counts by kind.
func (s *stats) errorCounts() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.errors)
}

// takeInterval returns the booking latency percentiles, in milliseconds,
// of the requests since the previous call, and resets them.
func (s *stats) takeInterval() (p50, p95, p99 float64, n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n = s.intervalN
	if n > 0 {
		p50 = float64(s.interval.ValueAtQuantile(50)) / 1000
		p95 = float64(s.interval.ValueAtQuantile(95)) / 1000
		p99 = float64(s.interval.ValueAtQuantile(99)) / 1000
	}
	s.interval.Reset()
	s.intervalN = 0
	return p50, p95, p99, n
}

// takeWindow returns the p95 in milliseconds of the holds and payments
// since the previous call, and their number, and resets them.
func (s *stats) takeWindow() (p95 float64, n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n = s.windowN
	if n > 0 {
		p95 = float64(s.window.ValueAtQuantile(95)) / 1000
	}
	s.window.Reset()
	s.windowN = 0
	return p95, n
}

// Latency summarizes the latencies of one operation in milliseconds.
type Latency struct {
	Count int64   `json:"count"`
	P50   float64 `json:"p50_ms"`
	P95   float64 `json:"p95_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

func summarize(h *hdrhistogram.Histogram) Latency {
	if h.TotalCount() == 0 {
		return Latency{}
	}
	ms := func(us int64) float64 { return float64(us) / 1000 }
	return Latency{
		Count: h.TotalCount(),
		P50:   ms(h.ValueAtQuantile(50)),
		P95:   ms(h.ValueAtQuantile(95)),
		P99:   ms(h.ValueAtQuantile(99)),
		Max:   ms(h.Max()),
	}
}

// latencies returns the summary of every operation that ran.
func (s *stats) latencies() map[string]Latency {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]Latency, len(s.latency))
	for op, h := range s.latency {
		if h.TotalCount() > 0 {
			out[op] = summarize(h)
		}
	}
	return out
}

// schedulerLag returns the summary of how late visitor steps started.
func (s *stats) schedulerLag() Latency {
	s.mu.Lock()
	defer s.mu.Unlock()
	return summarize(s.lag)
}

// outcomeCounts returns the non-zero outcome counts by name.
func (s *stats) outcomeCounts() map[string]int64 {
	out := make(map[string]int64)
	for o := OutcomeBooked; o < outcomeCount; o++ {
		if n := s.outcomes[o].Load(); n > 0 {
			out[o.String()] = n
		}
	}
	return out
}
