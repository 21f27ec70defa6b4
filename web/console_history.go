package web

import (
	"sync"
	"time"

	"foyer/waitroom"
	"foyer/web/views"
)

// The dashboard's charts show historySpan, sampled every historyEvery.
const (
	historyEvery   = 5 * time.Second
	historySpan    = 30 * time.Minute
	historySamples = int(historySpan / historyEvery)
)

// roomSample is one room's counters at one moment, as this edge saw them.
type roomSample struct {
	At      time.Time
	Waiting int64
	Active  int64
	// Admitted counts every admission since the room was created or reset,
	// on every edge.
	Admitted int64
}

// roomHistory keeps the last historySpan of samples of every room in a
// ring per room, for the dashboard's charts. Each edge samples its own
// snapshots, which carry fleet-wide counters, so every edge draws the same
// charts once it has run for historySpan.
//
// NOTE: the history lives in the edge's memory, so an edge that just
// started shows only what it has sampled since.
type roomHistory struct {
	mu    sync.Mutex
	rooms map[string]*sampleRing
}

// sampleRing is a fixed-size ring of samples, oldest overwritten first.
type sampleRing struct {
	samples [historySamples]roomSample
	// next is where the next sample goes, and count how many are kept.
	next, count int
}

func newRoomHistory() *roomHistory {
	return &roomHistory{rooms: make(map[string]*sampleRing)}
}

// record adds one sample per room in snaps, taken at now, and drops the
// rooms that snaps no longer has.
func (h *roomHistory) record(snaps map[string]waitroom.Snapshot, now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()

	for room := range h.rooms {
		if _, ok := snaps[room]; !ok {
			delete(h.rooms, room)
		}
	}
	for room, snap := range snaps {
		ring, ok := h.rooms[room]
		if !ok {
			ring = &sampleRing{}
			h.rooms[room] = ring
		}
		ring.samples[ring.next] = roomSample{At: now, Waiting: snap.Waiting, Active: snap.Active, Admitted: snap.Admitted}
		ring.next = (ring.next + 1) % historySamples
		ring.count = min(ring.count+1, historySamples)
	}
}

// samples returns the room's samples, oldest first.
func (h *roomHistory) samples(room string) []roomSample {
	h.mu.Lock()
	defer h.mu.Unlock()

	ring, ok := h.rooms[room]
	if !ok {
		return nil
	}
	out := make([]roomSample, 0, ring.count)
	start := (ring.next - ring.count + historySamples) % historySamples
	for i := range ring.count {
		out = append(out, ring.samples[(start+i)%historySamples])
	}
	return out
}

// sampleHistory records the edge's snapshots every historyEvery until the
// server drains. It reads only the edge's cache, so it costs no store call.
func (s *Server) sampleHistory() {
	ticker := time.NewTicker(historyEvery)
	defer ticker.Stop()

	s.history.record(s.edge.Snapshots(), time.Now())
	for {
		select {
		case <-s.stopped:
			return
		case now := <-ticker.C:
			s.history.record(s.edge.Snapshots(), now)
		}
	}
}

// admittedPerMinute returns the admissions per minute between the oldest
// sample of the last minute and the current count, and false when no
// sample is old enough to measure over at least historyEvery. A counter that
// went down, after a reset, counts as no admission.
func admittedPerMinute(samples []roomSample, admitted int64, now time.Time) (float64, bool) {
	for _, sample := range samples {
		elapsed := now.Sub(sample.At)
		if elapsed > time.Minute+historyEvery {
			continue
		}
		if elapsed < historyEvery {
			return 0, false
		}
		delta := max(0, admitted-sample.Admitted)
		return float64(delta) / elapsed.Minutes(), true
	}
	return 0, false
}

// admissionRates returns the admissions per minute between each sample and
// the one before it, placed at the later sample.
func admissionRates(samples []roomSample) []views.ChartPoint {
	if len(samples) < 2 {
		return nil
	}
	out := make([]views.ChartPoint, 0, len(samples)-1)
	for i := 1; i < len(samples); i++ {
		elapsed := samples[i].At.Sub(samples[i-1].At)
		if elapsed <= 0 {
			continue
		}
		delta := max(0, samples[i].Admitted-samples[i-1].Admitted)
		out = append(out, views.ChartPoint{At: samples[i].At, Value: float64(delta) / elapsed.Minutes()})
	}
	return out
}
