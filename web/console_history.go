package web

import (
	"context"
	"fmt"
	"math"
	"strconv"
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

const (
	// dashboardDecisions bounds the decisions a dashboard reads: those of
	// historySpan at the default control period of 5 seconds, and the one
	// before, which gives the rate at the start of the chart.
	dashboardDecisions = int(historySpan/(5*time.Second)) + 1
	// dashboardDecisionRows is how many decisions the dashboard's table
	// lists.
	dashboardDecisionRows = 20
	// dashboardTime is how the dashboard shows times, always in UTC.
	dashboardTime = "2006-01-02 15:04:05 MST"
)

// decisionTimeline reads the room's newest controller decisions for the
// dashboard, or returns why it could not.
//
// NOTE: with a control period shorter than 5 seconds, the decisions read
// cover less than historySpan, and the chart starts at the oldest of them.
func (s *Server) decisionTimeline(ctx context.Context, room string, mode waitroom.Mode, now time.Time) views.DecisionTimeline {
	decisions, err := s.edge.Store().Decisions(ctx, room, dashboardDecisions)
	if err != nil {
		return views.DecisionTimeline{Problem: s.storeProblem("read the controller's decisions", err)}
	}
	return decisionView(decisions, mode, now)
}

// decisionView turns decisions, newest first, into the dashboard's
// timeline: a note instead of the chart in fixed mode or without
// decisions, and a table of the newest.
func decisionView(decisions []waitroom.Decision, mode waitroom.Mode, now time.Time) views.DecisionTimeline {
	var v views.DecisionTimeline
	for _, d := range decisions[:min(len(decisions), dashboardDecisionRows)] {
		v.Rows = append(v.Rows, decisionRow(d))
	}

	switch {
	case mode != waitroom.ModeAuto:
		v.Note = "This room is in fixed mode: the organizer sets the rate, and the controller makes no decisions."
		if len(decisions) > 0 {
			v.Note += " The table lists the last decisions it made while the room was in auto mode."
		}
	case len(decisions) == 0:
		v.Note = "The controller has made no decision for this room yet. It decides once per control period while the room is open in auto mode and an edge runs a controller for it."
	default:
		v.Chart = decisionChart(decisions, now)
	}
	return v
}

// decisionChart draws the rate that decisions, newest first, gave the
// room over the last historySpan.
func decisionChart(decisions []waitroom.Decision, now time.Time) views.DecisionChart {
	// The store's clock may run a little ahead of this edge's.
	to := now
	if newest := decisions[0].At; newest.After(to) {
		to = newest
	}
	from := to.Add(-historySpan)

	// The rate at the start is what the last decision before it gave, or
	// the rate before the oldest decision read. When the oldest is the
	// controller's first, the rate before it was the organizer's and the
	// line begins at that decision.
	oldest := decisions[len(decisions)-1]
	start := oldest.OldRatePerMinute
	since := from
	if oldest.Reason == waitroom.ReasonStart && !oldest.At.Before(from) {
		start = oldest.NewRatePerMinute
		since = oldest.At
	}
	var steps []views.RateStep
	changes := 0
	for i := len(decisions) - 1; i >= 0; i-- {
		d := decisions[i]
		if d.At.Before(from) {
			start = d.NewRatePerMinute
			continue
		}
		changed := d.NewRatePerMinute != d.OldRatePerMinute
		if changed {
			changes++
		}
		steps = append(steps, views.RateStep{
			At:      d.At,
			Rate:    d.NewRatePerMinute,
			Changed: changed,
			Label: fmt.Sprintf("%s, %s: %s → %s", d.At.UTC().Format("15:04:05 MST"), d.Reason,
				formatDecisionRate(d.OldRatePerMinute), formatDecisionRate(d.NewRatePerMinute)),
		})
	}

	rates := []float64{start}
	for _, step := range steps {
		rates = append(rates, step.Rate)
	}
	top := views.ChartTop(rates)
	chart := views.TimelineChart(start, steps, since, from, to, top)
	chart.Top = formatRate(top)
	latest := decisions[0]
	chart.Latest = formatDecisionRate(latest.NewRatePerMinute)

	minutes := int(historySpan / time.Minute)
	if len(steps) == 0 {
		chart.Summary = fmt.Sprintf("Rate given by the controller: no decision in the last %d minutes. The newest, at %s, set %s per minute.",
			minutes, latest.At.UTC().Format(dashboardTime), chart.Latest)
		return chart
	}
	lowest, highest := slicesMinMax(rates)
	chart.Summary = fmt.Sprintf("Rate given by the controller over the last %d minutes: %d decisions, %d of them changed the rate; between %s and %s per minute, now %s.",
		minutes, len(steps), changes, formatDecisionRate(lowest), formatDecisionRate(highest), chart.Latest)
	return chart
}

// decisionRow formats one decision for the dashboard's table.
func decisionRow(d waitroom.Decision) views.DecisionRow {
	s := d.Signals
	row := views.DecisionRow{
		At:        d.At.UTC().Format(dashboardTime),
		OldRate:   formatDecisionRate(d.OldRatePerMinute),
		NewRate:   formatDecisionRate(d.NewRatePerMinute),
		Reason:    string(d.Reason),
		P95:       "–",
		ErrorRate: "–",
		Active:    strconv.FormatInt(s.Active, 10),
		Remaining: "not known",
		Samples:   strconv.FormatInt(s.Samples, 10),
		Stale:     "no",
		Capacity:  "–",
	}
	if d.CapacityPerMinute > 0 {
		row.Capacity = formatDecisionRate(d.CapacityPerMinute) + " per minute"
	}
	if s.Samples > 0 {
		row.P95 = formatDecisionLatency(s.LatencyP95)
		row.ErrorRate = strconv.FormatFloat(s.ErrorRate*100, 'f', 1, 64) + "%"
	}
	if s.MaxActive > 0 {
		row.Active += " of " + strconv.FormatInt(s.MaxActive, 10)
	}
	if s.HasInventory {
		row.Remaining = strconv.FormatInt(s.RemainingPlaces, 10)
		if s.HeldPlaces > 0 {
			row.Remaining += fmt.Sprintf(" (and %d held)", s.HeldPlaces)
		}
	}
	// The law names staleness only through this reason: the signals were
	// older than its stale_after, or none were ever read.
	if d.Reason == waitroom.ReasonDecayStale {
		row.Stale = "yes: none read"
		if !s.WindowEnd.IsZero() {
			row.Stale = "yes: " + s.Staleness.Round(time.Second).String() + " old"
		}
	}
	return row
}

// formatDecisionRate formats a rate to one decimal place, as in "108.5".
func formatDecisionRate(rate float64) string {
	return formatRate(math.Round(rate*10) / 10)
}

// formatDecisionLatency formats a latency p95 to the millisecond. A source
// reports an unbounded latency as the largest Duration.
func formatDecisionLatency(d time.Duration) string {
	if d == math.MaxInt64 {
		return "unbounded"
	}
	return d.Round(time.Millisecond).String()
}
