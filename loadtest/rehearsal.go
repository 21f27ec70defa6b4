package loadtest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Rehearsal describes a run of an auto room against edges whose booking
// core runs as a rehearsal backend (foyer serve --rehearsal-concurrency
// and --rehearsal-service-time), so its capacity is known. The load
// tester reads that capacity from every target, changes it at the steps,
// and reports how close the admission controller came to it.
type Rehearsal struct {
	// Steps change the rehearsal limits of every target at a time after
	// the room opens. A step at 0s sets the capacity the run starts with.
	Steps []CapacityStep `yaml:"steps" json:"steps"`
	// TargetP95 is the booking latency p95 the room's controller aims
	// under; the check counts the 10-second windows of hold and payment
	// latency above it.
	TargetP95 time.Duration `yaml:"target_p95" json:"target_p95"`
	// ReachShare and ReachWithin: after the room opens, the rate should
	// reach ReachShare of the capacity within ReachWithin.
	ReachShare  float64       `yaml:"reach_share" json:"reach_share"`
	ReachWithin time.Duration `yaml:"reach_within" json:"reach_within"`
	// UnderTargetShare is the least share of latency windows whose p95
	// is under TargetP95.
	UnderTargetShare float64 `yaml:"under_target_share" json:"under_target_share"`
	// SteadyVariation bounds how far the rate strays from its mean, as a
	// share of the mean, in the last minute of each capacity phase.
	SteadyVariation float64 `yaml:"steady_variation" json:"steady_variation"`
	// FitWithin is the longest time after a drop of the capacity until
	// the rate fits under the new capacity.
	FitWithin time.Duration `yaml:"fit_within" json:"fit_within"`
}

// CapacityStep sets the rehearsal limits of every target.
type CapacityStep struct {
	// At is the time after the room opens.
	At time.Duration `yaml:"at" json:"at"`
	// Concurrency is the holds and confirmations that may run at once on
	// each target; 0 keeps the current value.
	Concurrency int `yaml:"concurrency" json:"concurrency"`
	// ServiceTime is added to each hold and confirmation; 0 keeps the
	// current value.
	ServiceTime time.Duration `yaml:"service_time" json:"service_time"`
}

func (r Rehearsal) validate(maxDuration time.Duration) error {
	share := func(name string, v float64) error {
		if !(v > 0 && v <= 1) {
			return fmt.Errorf("rehearsal.%s %v is invalid: use a share above 0 and at most 1", name, v)
		}
		return nil
	}
	if err := errors.Join(
		share("reach_share", r.ReachShare),
		share("under_target_share", r.UnderTargetShare),
		share("steady_variation", r.SteadyVariation),
	); err != nil {
		return err
	}
	switch {
	case r.TargetP95 <= 0 || r.TargetP95 > time.Minute:
		return fmt.Errorf("rehearsal.target_p95 %s is invalid: use more than 0 and at most 1m, the controller's target_p95", r.TargetP95)
	case r.ReachWithin <= 0:
		return fmt.Errorf("rehearsal.reach_within %s is invalid: use a positive duration", r.ReachWithin)
	case r.FitWithin <= 0:
		return fmt.Errorf("rehearsal.fit_within %s is invalid: use a positive duration", r.FitWithin)
	}
	for i, st := range r.Steps {
		switch {
		case st.At < 0 || st.At > maxDuration:
			return fmt.Errorf("rehearsal.steps[%d].at %s is invalid: use 0 to max_duration (%s, from --max-duration or the scenario), or raise max_duration", i, st.At, maxDuration)
		case i > 0 && st.At <= r.Steps[i-1].At:
			return fmt.Errorf("rehearsal.steps[%d].at %s is invalid: list the steps in time order, each after the one before", i, st.At)
		case st.Concurrency < 0 || st.Concurrency > 100_000:
			return fmt.Errorf("rehearsal.steps[%d].concurrency %d is invalid: use 1 to 100000, or 0 to keep the current value", i, st.Concurrency)
		case st.ServiceTime < 0 || st.ServiceTime > time.Minute:
			return fmt.Errorf("rehearsal.steps[%d].service_time %s is invalid: use 1ms to 1m, or 0 to keep the current value", i, st.ServiceTime)
		case st.Concurrency == 0 && st.ServiceTime == 0:
			return fmt.Errorf("rehearsal.steps[%d] changes nothing: set concurrency, service_time or both", i)
		}
	}
	return nil
}

// rehearsalBody is the admin API's view of one edge's rehearsal limits.
type rehearsalBody struct {
	Concurrency       int     `json:"concurrency"`
	ServiceTimeMS     float64 `json:"service_time_ms"`
	BookingsPerSecond float64 `json:"bookings_per_second"`
}

// CapacityChange is a moment the backend's capacity changed, as the load
// tester applied it.
type CapacityChange struct {
	// Seconds is the offset from the start of the run.
	Seconds float64 `json:"t"`
	// PerMinute is the bookings a minute all targets together can serve,
	// and so the admission rate they can take when every admitted visitor
	// books once.
	PerMinute float64 `json:"per_minute"`
}

// capacityPlan tracks the capacity of the targets' rehearsal backends.
type capacityPlan struct {
	mu      sync.Mutex
	changes []CapacityChange
	// perTarget is the bookings a second of each target.
	perTarget []float64
}

// current returns the capacity per minute now, or 0 when unknown.
func (p *capacityPlan) current() float64 {
	if p == nil {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.changes) == 0 {
		return 0
	}
	return p.changes[len(p.changes)-1].PerMinute
}

func (p *capacityPlan) history() []CapacityChange {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.changes)
}

// record sets target i's capacity and appends the total at t.
func (p *capacityPlan) record(t time.Duration, i int, body rehearsalBody) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.perTarget[i] = body.BookingsPerSecond
	total := 0.0
	for _, c := range p.perTarget {
		total += c
	}
	p.changes = append(p.changes, CapacityChange{Seconds: t.Seconds(), PerMinute: total * 60})
}

// adminOf returns the admin API client of one target.
func (r *runner) adminOf(target string) *admin {
	return &admin{client: r.client, base: strings.TrimSuffix(target, "/"), token: r.scenario.AdminToken}
}

// readCapacity reads the rehearsal limits of every target. It returns nil
// when the room is not in auto mode and no step is planned, and an error
// when steps are planned but a target runs no rehearsal.
func (r *runner) readCapacity(ctx context.Context) (*capacityPlan, error) {
	s := r.scenario
	if s.RoomSettings.Mode != "auto" && len(s.Rehearsal.Steps) == 0 {
		return nil, nil
	}
	plan := &capacityPlan{perTarget: make([]float64, len(s.Targets))}
	for i, target := range s.Targets {
		var body rehearsalBody
		res := r.adminOf(target).call(ctx, http.MethodGet, "/api/v1/admin/rehearsal", nil, &body)
		switch {
		case res.ok() && body.BookingsPerSecond > 0:
			plan.record(r.now(), i, body)
		case len(s.Rehearsal.Steps) > 0 && res.ok():
			return nil, fmt.Errorf("target %s: its rehearsal backend has no capacity limit (concurrency %d, service time %vms): set both, or add a first step at 0s that does", target, body.Concurrency, body.ServiceTimeMS)
		case len(s.Rehearsal.Steps) > 0:
			return nil, fmt.Errorf("rehearsal steps need every target to run a rehearsal: %w", adminError("read the rehearsal limits of "+target, res))
		default:
			r.log.Info("capacity unknown: the target runs no rehearsal backend with a limit", "target", target, "status", res.status)
			return nil, nil
		}
	}
	return plan, nil
}

// applySteps sets the targets' rehearsal limits at each step's time until
// ctx ends. A step that fails on a target is logged and the run goes on:
// the report then shows the capacity the targets really had.
func (r *runner) applySteps(ctx context.Context) {
	s := r.scenario
	for _, st := range s.Rehearsal.Steps {
		due := s.RoomSettings.OpensIn + st.At
		timer := time.NewTimer(max(0, due-r.now()))
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
		change := map[string]any{}
		if st.Concurrency > 0 {
			change["concurrency"] = st.Concurrency
		}
		if st.ServiceTime > 0 {
			change["service_time_ms"] = float64(st.ServiceTime) / float64(time.Millisecond)
		}
		for i, target := range s.Targets {
			var body rehearsalBody
			res := r.adminOf(target).call(ctx, http.MethodPut, "/api/v1/admin/rehearsal", change, &body)
			if !res.ok() {
				r.log.Warn("changing the rehearsal capacity failed", "target", target, "at", st.At, "err", res)
				continue
			}
			r.capacity.record(r.now(), i, body)
		}
		r.log.Info("rehearsal capacity changed", "at", st.At, "per_minute", r.capacity.current())
	}
}

// LatencyWindow is the hold and payment latency of one 10-second window.
type LatencyWindow struct {
	// End is the window's end as an offset from the start of the run.
	End      float64 `json:"end"`
	Requests int64   `json:"requests"`
	P95      float64 `json:"p95_ms"`
}

// ControllerReport describes how the auto room's admission rate followed
// the rehearsal backend's capacity. Times are seconds after the room opened.
type ControllerReport struct {
	TargetP95Ms float64           `json:"target_p95_ms"`
	Phases      []ControllerPhase `json:"phases"`
	// Windows counts the 10-second latency windows with at least
	// minWindowRequests holds and payments, and UnderTarget those whose
	// p95 was under the target.
	Windows     int `json:"windows"`
	UnderTarget int `json:"under_target"`
}

// ControllerPhase is a stretch of the run with one capacity.
type ControllerPhase struct {
	From              float64 `json:"from"`
	To                float64 `json:"to"`
	CapacityPerMinute float64 `json:"capacity_per_minute"`
	// RateAtStart is the room's rate when the phase began.
	RateAtStart float64 `json:"rate_at_start"`
	// ReachedAfter is the seconds until the rate first reached the reach
	// share of the capacity, when the phase starts below it; FitAfter the
	// seconds until the rate first fit under the capacity, when the phase
	// starts above it. Nil when it never happened or did not apply.
	ReachedAfter *float64 `json:"reached_after,omitempty"`
	FitAfter     *float64 `json:"fit_after,omitempty"`
	// SteadyFrom and the figures after it cover the phase's last minute,
	// or its second half when shorter: the mean rate, its share of the
	// capacity and the largest distance from the mean as a share of it.
	SteadyFrom      float64 `json:"steady_from"`
	SteadyMean      float64 `json:"steady_mean"`
	SteadyShare     float64 `json:"steady_share"`
	SteadyVariation float64 `json:"steady_variation"`
	// SettledAfter is the seconds from the phase's start until the rate
	// came within the scenario's steady_variation of SteadyMean and stayed
	// there to the phase's end. A rate that passes the reach share on its
	// way to an overshoot has reached it, but settles only later.
	SettledAfter *float64 `json:"settled_after,omitempty"`
}

// minWindowRequests is the fewest holds and payments a latency window
// needs to count.
const minWindowRequests = 20

// steadySpan is the end part of a phase that counts as steady state.
const steadySpan = 60.0

// analyzeController builds the controller report from the samples, the
// capacity changes and the latency windows. opens is the room's opening as
// seconds after the start. It returns nil without capacity or rates.
func analyzeController(samples []Sample, changes []CapacityChange, windows []LatencyWindow, opens float64, reh Rehearsal) *ControllerReport {
	type point struct{ t, rate float64 }
	var pts []point
	for _, smp := range samples {
		if smp.Server != nil && smp.Seconds >= opens {
			pts = append(pts, point{smp.Seconds - opens, smp.Server.RatePerMinute})
		}
	}
	if len(changes) == 0 || len(pts) == 0 {
		return nil
	}
	rep := &ControllerReport{TargetP95Ms: float64(reh.TargetP95) / float64(time.Millisecond)}
	end := pts[len(pts)-1].t

	// Changes before the opening count from the opening.
	var bounds []CapacityChange
	for _, c := range changes {
		c.Seconds = max(0, c.Seconds-opens)
		if n := len(bounds); n > 0 && bounds[n-1].Seconds == c.Seconds {
			bounds[n-1] = c
			continue
		}
		bounds = append(bounds, c)
	}
	for i, c := range bounds {
		to := end
		if i+1 < len(bounds) {
			to = bounds[i+1].Seconds
		}
		if to <= c.Seconds {
			continue
		}
		ph := ControllerPhase{From: c.Seconds, To: to, CapacityPerMinute: c.PerMinute}
		var in []point
		for _, p := range pts {
			if p.t >= c.Seconds && p.t < to {
				in = append(in, p)
			}
		}
		if len(in) == 0 {
			continue
		}
		ph.RateAtStart = in[0].rate
		reach := reh.ReachShare * c.PerMinute
		for _, p := range in {
			if ph.RateAtStart < reach && p.rate >= reach {
				ph.ReachedAfter = new(p.t - c.Seconds)
				break
			}
			if ph.RateAtStart > c.PerMinute && p.rate <= c.PerMinute {
				ph.FitAfter = new(p.t - c.Seconds)
				break
			}
		}
		ph.SteadyFrom = max(c.Seconds+(to-c.Seconds)/2, to-steadySpan)
		var sum float64
		var n int
		for _, p := range in {
			if p.t >= ph.SteadyFrom {
				sum += p.rate
				n++
			}
		}
		if n > 0 && sum > 0 {
			ph.SteadyMean = sum / float64(n)
			ph.SteadyShare = ph.SteadyMean / c.PerMinute
			for _, p := range in {
				if p.t >= ph.SteadyFrom {
					ph.SteadyVariation = max(ph.SteadyVariation, math.Abs(p.rate-ph.SteadyMean)/ph.SteadyMean)
				}
			}
			settled := len(in)
			for settled > 0 && math.Abs(in[settled-1].rate-ph.SteadyMean) <= reh.SteadyVariation*ph.SteadyMean {
				settled--
			}
			if settled < len(in) {
				ph.SettledAfter = new(in[settled].t - c.Seconds)
			}
		}
		rep.Phases = append(rep.Phases, ph)
	}
	for _, w := range windows {
		if w.Requests < minWindowRequests || w.End < opens {
			continue
		}
		rep.Windows++
		if w.P95 <= rep.TargetP95Ms {
			rep.UnderTarget++
		}
	}
	return rep
}

// checkController judges the controller report against the rehearsal's
// targets.
func checkController(e evidence) CheckResult {
	const name = "admission rate follows the backend's capacity"
	reh := e.Scenario.Rehearsal
	c := e.Controller
	switch {
	case e.Scenario.RoomSettings.Mode != "auto":
		return skipped(name, "the room is in fixed mode")
	case c == nil || len(c.Phases) == 0:
		return skipped(name, "the capacity is unknown: the targets run no rehearsal backend with a limit (foyer serve --rehearsal-concurrency and --rehearsal-service-time)")
	}

	var parts, failed []string
	judge := func(ok bool, text string) {
		parts = append(parts, text)
		if !ok {
			failed = append(failed, text)
		}
	}
	numbers := map[string]float64{"phases": float64(len(c.Phases))}

	first := c.Phases[0]
	switch {
	case first.ReachedAfter != nil:
		judge(*first.ReachedAfter <= reh.ReachWithin.Seconds(), fmt.Sprintf("reached %.0f%% of %.0f/min %.0fs after opening (within %s)", 100*reh.ReachShare, first.CapacityPerMinute, *first.ReachedAfter, reh.ReachWithin))
		numbers["reached_after_seconds"] = *first.ReachedAfter
	case first.RateAtStart >= reh.ReachShare*first.CapacityPerMinute:
		parts = append(parts, fmt.Sprintf("started at %.0f/min, already %.0f%% of the capacity", first.RateAtStart, 100*first.RateAtStart/first.CapacityPerMinute))
	default:
		judge(false, fmt.Sprintf("never reached %.0f%% of %.0f/min", 100*reh.ReachShare, first.CapacityPerMinute))
	}

	if c.Windows > 0 {
		share := float64(c.UnderTarget) / float64(c.Windows)
		numbers["under_target_share"] = share
		judge(share >= reh.UnderTargetShare, fmt.Sprintf("p95 of holds and payments under %s in %d of %d 10s windows (%.1f%%, at least %.0f%%)", reh.TargetP95, c.UnderTarget, c.Windows, 100*share, 100*reh.UnderTargetShare))
	}

	for i, ph := range c.Phases {
		label := fmt.Sprintf("phase %d (%.0f/min from %.0fs)", i+1, ph.CapacityPerMinute, ph.From)
		switch {
		case ph.SteadyMean > 0 && ph.To-ph.SteadyFrom >= steadySpan/2:
			settled := ""
			if ph.SettledAfter != nil {
				settled = fmt.Sprintf(" from %.0fs after its start", *ph.SettledAfter)
				numbers[fmt.Sprintf("phase%d_settled_after_seconds", i+1)] = *ph.SettledAfter
			}
			judge(ph.SteadyVariation <= reh.SteadyVariation, fmt.Sprintf("%s: steady at %.0f%% of capacity%s, varying ±%.1f%% around its own mean (at most ±%.0f%%)", label, 100*ph.SteadyShare, settled, 100*ph.SteadyVariation, 100*reh.SteadyVariation))
			numbers[fmt.Sprintf("phase%d_steady_share", i+1)] = ph.SteadyShare
			numbers[fmt.Sprintf("phase%d_steady_variation", i+1)] = ph.SteadyVariation
		default:
			parts = append(parts, fmt.Sprintf("%s: steady state not judged, the stretch is shorter than %.0fs", label, steadySpan))
		}
		if i == 0 || ph.RateAtStart <= ph.CapacityPerMinute {
			continue
		}
		if ph.FitAfter != nil {
			judge(*ph.FitAfter <= reh.FitWithin.Seconds(), fmt.Sprintf("%s: rate fit under the capacity %.0fs after it dropped (within %s)", label, *ph.FitAfter, reh.FitWithin))
			numbers[fmt.Sprintf("phase%d_fit_after_seconds", i+1)] = *ph.FitAfter
		} else {
			judge(false, fmt.Sprintf("%s: rate never fit under the capacity", label))
		}
	}

	res := CheckResult{Name: name, Status: verdict(len(failed) == 0), Numbers: numbers, Summary: strings.Join(parts, "; ")}
	for _, f := range failed {
		res.example("missed: " + f)
	}
	return res
}
