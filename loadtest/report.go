package loadtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Report is the result of a run: what happened, the measurements over
// time and the verdict of each invariant check.
type Report struct {
	Room     string   `json:"room"`
	Event    string   `json:"event"`
	Targets  []string `json:"targets"`
	Seed     uint64   `json:"seed"`
	Arrivals string   `json:"arrivals"`
	Scenario Scenario `json:"scenario"`

	StartedAt time.Time `json:"started_at"`
	OpensAt   time.Time `json:"opens_at"`
	// Seconds is how long the load ran.
	Seconds float64 `json:"duration_seconds"`
	// Ending is the reason the load stopped: "all visitors finished",
	// "max duration reached" or "interrupted".
	Ending string `json:"ending"`

	Visitors            int   `json:"visitors"`
	Arrived             int64 `json:"arrived"`
	Joined              int64 `json:"joined"`
	JoinedBeforeOpening int64 `json:"joined_before_opening"`
	Admitted            int64 `json:"admitted"`
	// PeakWaiting is the most visitors of the run waiting at once in any
	// sample, pre-queue included.
	PeakWaiting int64            `json:"peak_waiting"`
	Outcomes    map[string]int64 `json:"outcomes"`
	Declines    int64            `json:"payment_declines"`

	Requests     int64              `json:"requests"`
	Errors       int64              `json:"errors"`
	ErrorsByKind map[string]int64   `json:"errors_by_kind"`
	Latency      map[string]Latency `json:"latency"`
	// SchedulerLag is how late visitor steps started after they were due:
	// high values mean the load tester, not the server, was the limit.
	SchedulerLag Latency `json:"scheduler_lag"`
	Memory       Memory  `json:"memory"`

	Samples []Sample `json:"samples"`
	// AdmissionsPerSecond counts the admission log's entries in each
	// second after StartedAt.
	AdmissionsPerSecond []int64 `json:"admissions_per_second"`
	// CapacityChanges are the rehearsal backends' capacity over the run.
	// LatencyWindows are the 10-second windows of hold and payment
	// latency, and Controller is the report of the room's rate against the
	// capacity. All are empty when the capacity is unknown.
	CapacityChanges []CapacityChange  `json:"capacity_changes,omitempty"`
	LatencyWindows  []LatencyWindow   `json:"latency_windows,omitempty"`
	Controller      *ControllerReport `json:"controller,omitempty"`

	Checks []CheckResult `json:"checks"`
	// Passed is true when no check failed.
	Passed bool `json:"passed"`
}

// Failed returns the checks that failed.
func (r *Report) Failed() []CheckResult {
	var out []CheckResult
	for _, c := range r.Checks {
		if c.Status == CheckFail {
			out = append(out, c)
		}
	}
	return out
}

// report gathers the evidence, runs the checks and builds the report.
func (r *runner) report(ctx context.Context, interrupted bool) *Report {
	samples, memory, maxActive, windows := r.series.snapshot()
	ev := r.gatherEvidence(ctx, maxActive)
	changes := r.capacity.history()
	ev.Controller = analyzeController(samples, changes, windows, r.opensAt.Sub(r.start).Seconds(), r.scenario.Rehearsal)
	checks := check(ev)

	st := r.stats
	rep := &Report{
		Room:                r.scenario.Room,
		Event:               r.event,
		Targets:             r.scenario.Targets,
		Seed:                r.scenario.Seed,
		Arrivals:            describeArrivals(r.scenario.Arrivals),
		Scenario:            r.scenario,
		StartedAt:           r.start,
		OpensAt:             r.opensAt,
		Visitors:            len(r.visitors),
		Arrived:             st.arrived.Load(),
		Joined:              st.joined.Load(),
		Admitted:            st.admitted.Load(),
		Outcomes:            st.outcomeCounts(),
		Declines:            st.declines.Load(),
		Requests:            st.requests.Load(),
		Errors:              st.failures.Load(),
		ErrorsByKind:        st.errorCounts(),
		Latency:             st.latencies(),
		SchedulerLag:        st.schedulerLag(),
		Memory:              memory,
		Samples:             samples,
		AdmissionsPerSecond: perSecond(ev.Log, r.start),
		CapacityChanges:     changes,
		LatencyWindows:      windows,
		Controller:          ev.Controller,
		Checks:              checks,
	}
	if len(samples) > 0 {
		rep.Seconds = samples[len(samples)-1].Seconds
	}
	for _, smp := range samples {
		rep.PeakWaiting = max(rep.PeakWaiting, smp.Waiting)
	}
	for i := range r.visitors {
		if r.visitors[i].prequeued {
			rep.JoinedBeforeOpening++
		}
	}
	switch {
	case interrupted:
		rep.Ending = "interrupted"
	case st.outcomes[OutcomeUnfinished].Load() > 0:
		rep.Ending = "max duration reached"
	default:
		rep.Ending = "all visitors finished"
	}
	rep.Passed = len(rep.Failed()) == 0
	return rep
}

// perSecond counts admissions in each whole second after start.
func perSecond(log []admissionBody, start time.Time) []int64 {
	var out []int64
	for _, a := range log {
		s := int(math.Floor(a.AdmittedAt.Sub(start).Seconds()))
		if s < 0 {
			continue
		}
		for len(out) <= s {
			out = append(out, 0)
		}
		out[s]++
	}
	return out
}

// Report file names inside the report directory.
const (
	SummaryFile = "summary.txt"
	JSONFile    = "report.json"
	HTMLFile    = "report.html"
)

// WriteFiles writes the summary, the JSON report and the HTML page into
// dir, creating it if needed, and returns their paths.
func (r *Report) WriteFiles(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create report directory: %w", err)
	}
	var summary strings.Builder
	r.WriteSummary(&summary)
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode report: %w", err)
	}
	page, err := r.HTML()
	if err != nil {
		return nil, err
	}

	files := []struct {
		name string
		data []byte
	}{
		{SummaryFile, []byte(summary.String())},
		{JSONFile, append(data, '\n')},
		{HTMLFile, page},
	}
	var paths []string
	for _, f := range files {
		path := filepath.Join(dir, f.name)
		if err := os.WriteFile(path, f.data, 0o644); err != nil {
			return paths, fmt.Errorf("write report: %w", err)
		}
		paths = append(paths, path)
	}
	return paths, nil
}

// WriteSummary writes the text summary: the run, its outcomes, latencies,
// errors and every check with the numbers it rests on.
func (r *Report) WriteSummary(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }

	p("Foyer load test of room %s, event %s, seed %d", r.Room, r.Event, r.Seed)
	p("targets:   %s", strings.Join(r.Targets, ", "))
	p("arrivals:  %s", r.Arrivals)
	p("ran:       %s (%s)", (time.Duration(r.Seconds * float64(time.Second))).Round(100*time.Millisecond), r.Ending)
	p("visitors:  %d planned, %d arrived, %d joined (%d before opening), %d admitted, at most %d waiting at once", r.Visitors, r.Arrived, r.Joined, r.JoinedBeforeOpening, r.Admitted, r.PeakWaiting)
	p("outcomes:  %s", formatCounts(r.Outcomes))
	p("payments:  %d declined", r.Declines)
	p("requests:  %d, %d failed (%.2f%%)", r.Requests, r.Errors, 100*float64(r.Errors)/math.Max(1, float64(r.Requests)))
	for _, kind := range sortedKeys(r.ErrorsByKind) {
		p("           %s: %d", kind, r.ErrorsByKind[kind])
	}
	p("latency in ms (p50 / p95 / p99 / max, count):")
	for _, op := range operations {
		if l, ok := r.Latency[op]; ok {
			p("  %-7s %8.2f %8.2f %8.2f %8.2f  %d", op, l.P50, l.P95, l.P99, l.Max, l.Count)
		}
	}
	p("load tester: steps started late by p50 %.1f ms, p99 %.1f ms; %s", r.SchedulerLag.P50, r.SchedulerLag.P99, formatMemory(r.Memory))
	if c := r.Controller; c != nil {
		p("controller: rate against the rehearsal backend's capacity, seconds after opening:")
		for i, ph := range c.Phases {
			line := fmt.Sprintf("  phase %d, %.0fs to %.0fs: capacity %.0f/min, rate %.0f/min at start", i+1, ph.From, ph.To, ph.CapacityPerMinute, ph.RateAtStart)
			if ph.ReachedAfter != nil {
				line += fmt.Sprintf(", reached %.0f%% after %.0fs", 100*r.Scenario.Rehearsal.ReachShare, *ph.ReachedAfter)
			}
			if ph.FitAfter != nil {
				line += fmt.Sprintf(", fit under it after %.0fs", *ph.FitAfter)
			}
			if ph.SteadyMean > 0 {
				line += fmt.Sprintf("; from %.0fs mean %.0f/min = %.0f%% of capacity, ±%.1f%%", ph.SteadyFrom, ph.SteadyMean, 100*ph.SteadyShare, 100*ph.SteadyVariation)
			}
			if ph.SettledAfter != nil {
				line += fmt.Sprintf(", settled there %.0fs after the phase began", *ph.SettledAfter)
			}
			p("%s", line)
		}
		p("  hold and payment p95 under %.0f ms in %d of %d 10s windows", c.TargetP95Ms, c.UnderTarget, c.Windows)
	}
	p("checks:")
	for _, c := range r.Checks {
		p("  %-7s %s: %s", strings.ToUpper(c.Status), c.Name, c.Summary)
		for _, ex := range c.Examples {
			p("          %s", ex)
		}
	}
	if r.Passed {
		p("result:    PASSED")
	} else {
		p("result:    FAILED: %d of %d checks failed", len(r.Failed()), len(r.Checks))
	}
}

func formatCounts(m map[string]int64) string {
	if len(m) == 0 {
		return "none"
	}
	parts := make([]string, 0, len(m))
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func formatMemory(m Memory) string {
	if m.PeakWaiting == 0 {
		return fmt.Sprintf("heap up to %.1f MiB (memory per visitor is measured from 1000 waiting visitors)", float64(m.MaxHeapBytes)/(1<<20))
	}
	return fmt.Sprintf("%.0f bytes per waiting visitor at %d waiting, heap up to %.1f MiB", m.BytesPerVisitor, m.PeakWaiting, float64(m.MaxHeapBytes)/(1<<20))
}
