package loadtest

import (
	"context"
	"runtime"
	"sync"
	"time"
)

// Sample is the state of a run at one moment, for the charts over time.
// Counts of visitors are those of the load tester's own visitors, except
// in Server, which the admin API reported.
type Sample struct {
	// Seconds is the offset from the start of the run.
	Seconds   float64 `json:"t"`
	Arrived   int64   `json:"arrived"`
	Waiting   int64   `json:"waiting"`
	Prequeue  int64   `json:"prequeue"`
	Admitted  int64   `json:"admitted"`
	Booking   int64   `json:"booking"`
	Booked    int64   `json:"booked"`
	Abandoned int64   `json:"abandoned"`
	Requests  int64   `json:"requests"`
	Errors    int64   `json:"errors"`
	// ErrorsByKind counts the failed requests since the previous sample.
	ErrorsByKind map[string]int64 `json:"errors_by_kind,omitempty"`
	// Booking latency percentiles since the previous sample, in ms.
	BookingRequests int64   `json:"booking_requests"`
	BookingP50      float64 `json:"booking_p50_ms"`
	BookingP95      float64 `json:"booking_p95_ms"`
	BookingP99      float64 `json:"booking_p99_ms"`
	// Server is the room's counters from the admin API; nil when the read
	// failed.
	Server *ServerCounts `json:"server,omitempty"`
	// CapacityPerMinute is the rehearsal backends' capacity in bookings a
	// minute; 0 when unknown.
	CapacityPerMinute float64 `json:"capacity_per_minute,omitempty"`
	// HeapBytes is the load tester's heap, live and not yet collected.
	HeapBytes uint64 `json:"heap_bytes"`
}

// ServerCounts are a room's counters as the admin API reports them.
type ServerCounts struct {
	Waiting   int64 `json:"waiting"`
	Prequeue  int64 `json:"prequeue"`
	Admitted  int64 `json:"admitted"`
	Active    int64 `json:"active"`
	Abandoned int64 `json:"abandoned"`
	// RatePerMinute is the room's admission rate, which the controller
	// sets in auto mode.
	RatePerMinute float64 `json:"rate_per_minute"`
}

// Memory is the load tester's own memory use per waiting visitor.
type Memory struct {
	// BaselineBytes is the live heap before the visitors were created.
	BaselineBytes uint64 `json:"baseline_bytes"`
	// PeakWaiting is the most visitors waiting at once that a measurement
	// saw, and LiveBytesAtPeak the live heap then, after a collection.
	PeakWaiting     int64  `json:"peak_waiting"`
	LiveBytesAtPeak uint64 `json:"live_bytes_at_peak"`
	// BytesPerVisitor is (LiveBytesAtPeak - BaselineBytes) / PeakWaiting:
	// it charges every visitor, scheduler entry, connection buffer and
	// counter of the run to the waiting visitors, so it is an upper bound.
	BytesPerVisitor float64 `json:"bytes_per_visitor"`
	// MaxHeapBytes is the largest heap seen, garbage included.
	MaxHeapBytes uint64 `json:"max_heap_bytes"`
}

// series samples the run at a fixed interval.
type series struct {
	r        *runner
	interval time.Duration

	mu      sync.Mutex
	samples []Sample
	// windows are the 10-second windows of hold and payment latency, and
	// windowEnd is when the current one ends.
	windows    []LatencyWindow
	windowEnd  time.Duration
	lastErrors map[string]int64
	memory     Memory
	// maxActive is the most active visitors the server reported.
	maxActive int64
}

// latencyWindow is the width of the hold and payment latency windows, as
// long as the booking core's own statistics windows.
const latencyWindow = 10 * time.Second

// maxSamples bounds the samples of a run; longer runs sample less often.
const maxSamples = 1800

func newSeries(r *runner, baseline uint64) *series {
	interval := max(time.Second, (r.scenario.MaxDuration / maxSamples).Round(time.Second))
	return &series{r: r, interval: interval, lastErrors: map[string]int64{}, memory: Memory{BaselineBytes: baseline}}
}

// run takes a sample every interval until ctx ends.
func (s *series) run(ctx context.Context) {
	ticker := time.NewTicker(s.interval)
	defer ticker.Stop()
	for {
		select {
		case <-ticker.C:
			s.sample(ctx, true)
		case <-ctx.Done():
			return
		}
	}
}

// sample records one sample. measure allows a garbage collection to
// measure memory when the number waiting has grown by a tenth since the
// last measurement.
func (s *series) sample(ctx context.Context, measure bool) {
	st := s.r.stats
	p50, p95, p99, n := st.takeInterval()
	smp := Sample{
		Seconds:         s.r.now().Seconds(),
		Arrived:         st.arrived.Load(),
		Waiting:         st.waiting.Load(),
		Prequeue:        st.prequeue.Load(),
		Admitted:        st.admitted.Load(),
		Booking:         st.booking.Load(),
		Booked:          st.outcomes[OutcomeBooked].Load(),
		Abandoned:       st.outcomes[OutcomeAbandoned].Load(),
		Requests:        st.requests.Load(),
		Errors:          st.failures.Load(),
		BookingRequests: n,
		BookingP50:      p50,
		BookingP95:      p95,
		BookingP99:      p99,
	}
	errs := st.errorCounts()

	readCtx, cancel := context.WithTimeout(ctx, min(2*time.Second, s.interval))
	room, err := s.r.admin.room(readCtx, s.r.scenario.Room)
	cancel()
	if err == nil {
		smp.Server = &ServerCounts{Waiting: room.Waiting, Prequeue: room.Prequeue, Admitted: room.Admitted, Active: room.Active, Abandoned: room.Abandoned, RatePerMinute: room.RatePerMinute}
	} else if ctx.Err() == nil {
		s.r.log.Warn("read room counters failed", "room", s.r.scenario.Room, "err", err)
	}

	smp.CapacityPerMinute = s.r.capacity.current()

	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	smp.HeapBytes = m.HeapAlloc

	s.mu.Lock()
	defer s.mu.Unlock()
	if now := s.r.now(); now >= s.windowEnd {
		p95, n := st.takeWindow()
		if s.windowEnd > 0 {
			s.windows = append(s.windows, LatencyWindow{End: now.Seconds(), Requests: n, P95: p95})
		}
		s.windowEnd = now + latencyWindow
	}
	smp.ErrorsByKind = diffCounts(errs, s.lastErrors)
	s.lastErrors = errs
	if smp.Server != nil {
		s.maxActive = max(s.maxActive, smp.Server.Active)
	}
	s.memory.MaxHeapBytes = max(s.memory.MaxHeapBytes, m.HeapAlloc)
	if measure && smp.Waiting >= 1000 && float64(smp.Waiting) >= 1.1*float64(s.memory.PeakWaiting) {
		s.measureMemory(smp.Waiting)
	}
	s.samples = append(s.samples, smp)
}

// measureMemory collects garbage and charges the live heap above the
// baseline to the waiting visitors. The caller holds s.mu.
func (s *series) measureMemory(waiting int64) {
	live := liveHeap()
	s.memory.PeakWaiting = waiting
	s.memory.LiveBytesAtPeak = live
	if live > s.memory.BaselineBytes {
		s.memory.BytesPerVisitor = float64(live-s.memory.BaselineBytes) / float64(waiting)
	}
}

func diffCounts(now, before map[string]int64) map[string]int64 {
	var out map[string]int64
	for k, v := range now {
		if d := v - before[k]; d > 0 {
			if out == nil {
				out = make(map[string]int64)
			}
			out[k] = d
		}
	}
	return out
}

// snapshot returns the samples, the memory figures, the most active
// visitors the server reported and the latency windows.
func (s *series) snapshot() ([]Sample, Memory, int64, []LatencyWindow) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Sample(nil), s.samples...), s.memory, s.maxActive, append([]LatencyWindow(nil), s.windows...)
}
