package waitroom_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"

	"foyer/waitroom"
)

var ctlEpoch = time.Unix(1_800_000_000, 0).UTC()

// at returns the instant seconds after ctlEpoch.
func at(seconds float64) time.Time {
	return ctlEpoch.Add(time.Duration(seconds * float64(time.Second)))
}

// fresh returns signals over a window that starts at windowStart seconds
// and ends now, with plenty of samples, a long line admitted faster than
// any rate in these tests, and no inventory.
func fresh(windowStart, now float64, p95 time.Duration) waitroom.Signals {
	return waitroom.Signals{
		WindowStart:       at(windowStart),
		WindowEnd:         at(now),
		Samples:           500,
		LatencyP95:        p95,
		Waiting:           10_000,
		MaxActive:         100_000,
		AdmittedPerMinute: 100_000,
	}
}

func near(got, want float64) bool {
	return math.Abs(got-want) <= 1e-6*math.Max(1, math.Abs(want))
}

func TestDecideRules(t *testing.T) {
	cfg := waitroom.ControllerConfig{StartRatePerMinute: 600}
	// settled is a state after a cut at 100s to 1000/min, from 1100/min.
	settled := waitroom.ControllerState{
		Version:          7,
		RatePerMinute:    1000,
		AppliedPerMinute: 1000,
		CeilingPerMinute: 1100,
		LastDecision:     at(195),
		LastChange:       at(100),
		LastCut:          at(100),
		LastP95:          400 * time.Millisecond,
	}
	with := func(change func(*waitroom.ControllerState)) waitroom.ControllerState {
		st := settled
		change(&st)
		return st
	}
	signals := func(change func(*waitroom.Signals)) waitroom.Signals {
		s := fresh(190, 200, 400*time.Millisecond)
		change(&s)
		return s
	}

	cases := []struct {
		name       string
		state      waitroom.ControllerState
		signals    waitroom.Signals
		wantReason waitroom.Reason
		wantRate   float64
		// wantLearned is the state's RatePerMinute afterwards; 0 means
		// the same as wantRate.
		wantLearned float64
	}{
		{
			name:  "sold out",
			state: settled,
			signals: signals(func(s *waitroom.Signals) {
				s.HasInventory = true
			}),
			wantReason: waitroom.ReasonSoldOut, wantRate: 0, wantLearned: 1000,
		},
		{
			name:  "only held places left",
			state: settled,
			signals: signals(func(s *waitroom.Signals) {
				s.HasInventory, s.HeldPlaces, s.MostFreeOrHeldInSlot = true, 4, 4
			}),
			wantReason: waitroom.ReasonWaitForHolds, wantRate: 0, wantLearned: 1000,
		},
		{
			name:  "free places left",
			state: settled,
			signals: signals(func(s *waitroom.Signals) {
				s.HasInventory, s.RemainingPlaces, s.MostFreeInSlot, s.MostFreeOrHeldInSlot = true, 3, 3, 3
			}),
			wantReason: waitroom.ReasonApproach, wantRate: 1010,
		},
		{
			name:  "stale signals decay toward the start",
			state: with(func(st *waitroom.ControllerState) { st.LastDecision = at(140) }),
			signals: signals(func(s *waitroom.Signals) {
				s.Staleness = 31 * time.Second
			}),
			// 60s is one half-life: halfway from 1000 to 600.
			wantReason: waitroom.ReasonDecayStale, wantRate: 800,
		},
		{
			name:       "no signals yet",
			state:      with(func(st *waitroom.ControllerState) { st.LastDecision = at(140) }),
			signals:    waitroom.Signals{},
			wantReason: waitroom.ReasonDecayStale, wantRate: 800,
		},
		{
			name:  "few samples",
			state: settled,
			signals: signals(func(s *waitroom.Signals) {
				s.Samples, s.LatencyP95 = 19, 10*time.Second
			}),
			wantReason: waitroom.ReasonHoldFewSamples, wantRate: 1000,
		},
		{
			name:  "p95 over target",
			state: settled,
			signals: signals(func(s *waitroom.Signals) {
				s.LatencyP95 = 550 * time.Millisecond
			}),
			// 1000 × 500/550, above the deepest proportional cut of 0.9.
			wantReason: waitroom.ReasonCut, wantRate: 1000 * 500.0 / 550,
		},
		{
			name:  "p95 far over target cuts by the cut factor",
			state: settled,
			signals: signals(func(s *waitroom.Signals) {
				s.LatencyP95 = time.Second
			}),
			wantReason: waitroom.ReasonCut, wantRate: 900,
		},
		{
			name:  "severe p95",
			state: settled,
			signals: signals(func(s *waitroom.Signals) {
				s.LatencyP95 = 2 * time.Second
			}),
			wantReason: waitroom.ReasonDeepCut, wantRate: 500,
		},
		{
			name:  "error rate at threshold",
			state: settled,
			signals: signals(func(s *waitroom.Signals) {
				s.ErrorRate = 0.05
			}),
			wantReason: waitroom.ReasonDeepCut, wantRate: 500,
		},
		{
			name:  "errors under threshold",
			state: settled,
			signals: signals(func(s *waitroom.Signals) {
				s.ErrorRate = 0.03
			}),
			wantReason: waitroom.ReasonHoldErrors, wantRate: 1000,
		},
		{
			name:  "breach measured before the last cut",
			state: with(func(st *waitroom.ControllerState) { st.LastCut, st.LastChange = at(195), at(195) }),
			signals: signals(func(s *waitroom.Signals) {
				s.LatencyP95 = time.Second
			}),
			wantReason: waitroom.ReasonHoldOff, wantRate: 1000,
		},
		{
			name: "severe breach within hold-off",
			state: with(func(st *waitroom.ControllerState) {
				st.LastCut, st.LastChange, st.HoldOffUntil = at(180), at(180), at(210)
			}),
			signals: signals(func(s *waitroom.Signals) {
				s.LatencyP95 = 5 * time.Second
			}),
			wantReason: waitroom.ReasonHoldOff, wantRate: 1000,
		},
		{
			name: "errors with only an earlier overload's capacity estimate",
			state: with(func(st *waitroom.ControllerState) {
				st.CapacityPerMinute = 300
			}),
			signals: signals(func(s *waitroom.Signals) {
				s.ErrorRate = 0.2
			}),
			// The old estimate may be stale, so the cut halves the rate.
			wantReason: waitroom.ReasonDeepCut, wantRate: 500,
		},
		{
			name: "errors after a deep cut while the backlog shrinks",
			state: with(func(st *waitroom.ControllerState) {
				st.LastCut, st.LastChange, st.HoldOffUntil = at(180), at(180), at(210)
				st.LastActive = 300
			}),
			signals: signals(func(s *waitroom.Signals) {
				s.ErrorRate = 0.2
				s.Active = 250
			}),
			wantReason: waitroom.ReasonHoldOff, wantRate: 1000,
		},
		{
			name: "errors after a deep cut while the backlog grows",
			state: with(func(st *waitroom.ControllerState) {
				st.LastCut, st.LastChange, st.HoldOffUntil = at(180), at(180), at(210)
				st.LastActive = 300
			}),
			signals: signals(func(s *waitroom.Signals) {
				s.ErrorRate = 0.2
				s.Active = 400
			}),
			wantReason: waitroom.ReasonDeepCut, wantRate: 500,
		},
		{
			name: "breach shrinking after a cut",
			state: with(func(st *waitroom.ControllerState) {
				st.LastCut, st.LastChange, st.LastP95 = at(170), at(170), 2*time.Second
			}),
			signals: signals(func(s *waitroom.Signals) {
				s.LatencyP95 = 2 * time.Second
			}),
			wantReason: waitroom.ReasonHoldDraining, wantRate: 1000,
		},
		{
			name: "breach at the top bucket while the backlog grows after a cut",
			state: with(func(st *waitroom.ControllerState) {
				st.LastCut, st.LastChange, st.LastP95, st.LastActive = at(170), at(170), 5*time.Second, 200
			}),
			signals: signals(func(s *waitroom.Signals) {
				s.LatencyP95, s.Active = 5*time.Second, 300
			}),
			wantReason: waitroom.ReasonDeepCut, wantRate: 500,
		},
		{
			name: "breach within hold-off while the backlog grows",
			state: with(func(st *waitroom.ControllerState) {
				st.LastCut, st.LastChange, st.HoldOffUntil, st.LastP95, st.LastActive = at(180), at(180), at(210), 5*time.Second, 200
			}),
			signals: signals(func(s *waitroom.Signals) {
				s.LatencyP95, s.Active = 5*time.Second, 300
			}),
			wantReason: waitroom.ReasonDeepCut, wantRate: 500,
		},
		{
			name: "breach within hold-off while the backlog shrinks",
			state: with(func(st *waitroom.ControllerState) {
				st.LastCut, st.LastChange, st.HoldOffUntil, st.LastP95, st.LastActive = at(180), at(180), at(210), 5*time.Second, 200
			}),
			signals: signals(func(s *waitroom.Signals) {
				s.LatencyP95, s.Active = 5*time.Second, 180
			}),
			wantReason: waitroom.ReasonHoldOff, wantRate: 1000,
		},
		{
			name:       "within hold-off",
			state:      with(func(st *waitroom.ControllerState) { st.HoldOffUntil = at(201) }),
			signals:    signals(func(*waitroom.Signals) {}),
			wantReason: waitroom.ReasonHoldOff, wantRate: 1000,
		},
		{
			name:       "signals from before the last change",
			state:      with(func(st *waitroom.ControllerState) { st.LastChange = at(186) }),
			signals:    signals(func(*waitroom.Signals) {}),
			wantReason: waitroom.ReasonHoldSettling, wantRate: 1000,
		},
		{
			name:  "rate not used",
			state: settled,
			signals: signals(func(s *waitroom.Signals) {
				s.AdmittedPerMinute = 799
			}),
			wantReason: waitroom.ReasonHoldNotUsed, wantRate: 1000,
		},
		{
			name:  "line blocked by max active",
			state: settled,
			signals: signals(func(s *waitroom.Signals) {
				s.Active, s.MaxActive, s.AdmittedPerMinute = 100, 100, 0
			}),
			// The rate is not used, and the cap would be 0; the room still
			// gets the minimum rate.
			wantReason: waitroom.ReasonMaxActive, wantRate: 6, wantLearned: 1000,
		},
		{
			name:  "rate used",
			state: settled,
			signals: signals(func(s *waitroom.Signals) {
				s.AdmittedPerMinute = 800
			}),
			wantReason: waitroom.ReasonApproach, wantRate: 1010,
		},
		{
			name:  "approach near the ceiling",
			state: settled,
			signals: signals(func(s *waitroom.Signals) {
				s.LatencyP95 = 200 * time.Millisecond
			}),
			// A quarter of the way to 1100 × 0.92 = 1012 is less than the
			// additive step.
			wantReason: waitroom.ReasonApproach, wantRate: 1010,
		},
		{
			name:  "approach far below the ceiling",
			state: with(func(st *waitroom.ControllerState) { st.CeilingPerMinute = 2000 }),
			signals: signals(func(s *waitroom.Signals) {
				s.LatencyP95 = 200 * time.Millisecond
			}),
			wantReason: waitroom.ReasonApproach, wantRate: 1000 + (1840-1000)*0.25,
		},
		{
			name:       "at the ceiling",
			state:      with(func(st *waitroom.ControllerState) { st.RatePerMinute, st.AppliedPerMinute = 1012, 1012 }),
			signals:    signals(func(*waitroom.Signals) {}),
			wantReason: waitroom.ReasonHoldCeiling, wantRate: 1012,
		},
		{
			name: "probe after ProbeAfter",
			state: with(func(st *waitroom.ControllerState) {
				st.RatePerMinute, st.AppliedPerMinute = 1012, 1012
				st.LastCut, st.LastChange = at(-101), at(-101)
			}),
			signals:    signals(func(*waitroom.Signals) {}),
			wantReason: waitroom.ReasonIncrease, wantRate: 1012 * 1.01,
		},
		{
			name: "increase near the ceiling doubles at most twice",
			state: with(func(st *waitroom.ControllerState) {
				st.RatePerMinute, st.AppliedPerMinute, st.Increases = 1050, 1050, 5
			}),
			signals: signals(func(s *waitroom.Signals) {
				s.LatencyP95 = 200 * time.Millisecond
			}),
			wantReason: waitroom.ReasonIncrease, wantRate: 1050 * 1.04,
		},
		{
			name: "increase past the ceiling doubles up to three times",
			state: with(func(st *waitroom.ControllerState) {
				st.RatePerMinute, st.AppliedPerMinute, st.CeilingPerMinute, st.Increases = 1050, 1050, 0, 5
			}),
			signals: signals(func(s *waitroom.Signals) {
				s.LatencyP95 = 200 * time.Millisecond
			}),
			wantReason: waitroom.ReasonIncrease, wantRate: 1050 * 1.08,
		},
		{
			name:       "clamp at maximum",
			state:      with(func(st *waitroom.ControllerState) { st.RatePerMinute, st.CeilingPerMinute = 29_990, 0 }),
			signals:    signals(func(*waitroom.Signals) {}),
			wantReason: waitroom.ReasonClamp, wantRate: 30_000,
		},
		{
			name:  "clamp at minimum",
			state: with(func(st *waitroom.ControllerState) { st.RatePerMinute = 8 }),
			signals: signals(func(s *waitroom.Signals) {
				s.LatencyP95 = 5 * time.Second
			}),
			wantReason: waitroom.ReasonClamp, wantRate: 6,
		},
		{
			name:  "max active caps the applied rate",
			state: settled,
			signals: signals(func(s *waitroom.Signals) {
				s.Active, s.MaxActive = 190, 200
			}),
			// 10 free places over a 5s period is 120 a minute.
			wantReason: waitroom.ReasonMaxActive, wantRate: 120, wantLearned: 1010,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, next := waitroom.Decide(cfg, tc.state, tc.signals, at(200))

			if d.Reason != tc.wantReason {
				t.Errorf("reason: got %s, want %s", d.Reason, tc.wantReason)
			}
			if !near(d.NewRatePerMinute, tc.wantRate) {
				t.Errorf("new rate: got %v, want %v", d.NewRatePerMinute, tc.wantRate)
			}
			wantLearned := tc.wantLearned
			if wantLearned == 0 {
				wantLearned = tc.wantRate
			}
			if !near(next.RatePerMinute, wantLearned) {
				t.Errorf("learned rate: got %v, want %v", next.RatePerMinute, wantLearned)
			}
			if d.OldRatePerMinute != tc.state.AppliedPerMinute {
				t.Errorf("old rate: got %v, want %v", d.OldRatePerMinute, tc.state.AppliedPerMinute)
			}
			if next.AppliedPerMinute != d.NewRatePerMinute {
				t.Errorf("applied rate in state: got %v, want %v", next.AppliedPerMinute, d.NewRatePerMinute)
			}
			if next.Version != tc.state.Version+1 {
				t.Errorf("version: got %d, want %d", next.Version, tc.state.Version+1)
			}
			if next.LastReason != d.Reason || !next.LastDecision.Equal(at(200)) {
				t.Errorf("last decision: got %s at %s, want %s at %s", next.LastReason, next.LastDecision, d.Reason, at(200))
			}
		})
	}
}

func TestDecideCutState(t *testing.T) {
	cfg := waitroom.ControllerConfig{}
	st := waitroom.ControllerState{RatePerMinute: 1000, AppliedPerMinute: 1000, Increases: 3}

	_, next := waitroom.Decide(cfg, st, fresh(0, 10, time.Second), at(10))
	if next.CeilingPerMinute != 1000 || !next.LastCut.Equal(at(10)) || next.Increases != 0 {
		t.Errorf("after a cut: got ceiling %v, last cut %s, increases %d; want 1000, %s, 0", next.CeilingPerMinute, next.LastCut, next.Increases, at(10))
	}
	if !next.HoldOffUntil.IsZero() {
		t.Errorf("a proportional cut set hold-off until %s, want none", next.HoldOffUntil)
	}

	_, next = waitroom.Decide(cfg, st, fresh(0, 10, 2*time.Second), at(10))
	if want := at(10).Add(waitroom.DefaultHoldOff); !next.HoldOffUntil.Equal(want) {
		t.Errorf("after a deep cut: got hold-off until %s, want %s", next.HoldOffUntil, want)
	}
}

// traceStep is one decision of a recorded trace: the signals window, p95
// and the expected outcome.
type traceStep struct {
	now, windowStart float64
	p95              time.Duration
	errorRate        float64
	wantReason       waitroom.Reason
	wantRate         float64
}

// runTrace feeds the steps to Decide in order, carrying the state.
func runTrace(t *testing.T, cfg waitroom.ControllerConfig, steps []traceStep) {
	t.Helper()
	var st waitroom.ControllerState
	for _, step := range steps {
		s := fresh(step.windowStart, step.now, step.p95)
		s.ErrorRate = step.errorRate

		var d waitroom.Decision
		d, st = waitroom.Decide(cfg, st, s, at(step.now))
		if d.Reason != step.wantReason || !near(d.NewRatePerMinute, step.wantRate) {
			t.Fatalf("at %vs: got %s at %.1f/min, want %s at %.1f/min", step.now, d.Reason, d.NewRatePerMinute, step.wantReason, step.wantRate)
		}
	}
}

func TestDecideTraceRampAndBreach(t *testing.T) {
	const ms = time.Millisecond
	runTrace(t, waitroom.ControllerConfig{StartRatePerMinute: 1200}, []traceStep{
		// The first decision takes over at the starting rate, whatever
		// the signals, which show the rate before it. Then each reading
		// with headroom doubles the rate.
		{now: 5, windowStart: 0, p95: 200 * ms, wantReason: waitroom.ReasonStart, wantRate: 1200},
		{now: 10, windowStart: 0, p95: 200 * ms, wantReason: waitroom.ReasonRampUp, wantRate: 2400},
		// Windows that start before the change plus Settle prove nothing.
		{now: 15, windowStart: 10, p95: 200 * ms, wantReason: waitroom.ReasonHoldSettling, wantRate: 2400},
		{now: 20, windowStart: 15, p95: 200 * ms, wantReason: waitroom.ReasonRampUp, wantRate: 4800},
		// Latency without headroom ends the ramp; the rate creeps up.
		{now: 35, windowStart: 30, p95: 500 * ms, wantReason: waitroom.ReasonIncrease, wantRate: 4848},
		// A breach cuts by the cut factor, and the next reading still
		// shows the load from before the cut.
		{now: 45, windowStart: 40, p95: time.Second, wantReason: waitroom.ReasonCut, wantRate: 4848 * 0.9},
		{now: 50, windowStart: 40, p95: time.Second, wantReason: waitroom.ReasonHoldOff, wantRate: 4848 * 0.9},
		// Then it approaches 0.92 of the rate at the cut, 4460.16, by at
		// least the additive step.
		{now: 55, windowStart: 50, p95: 200 * ms, wantReason: waitroom.ReasonApproach, wantRate: 4363.2 * 1.01},
		{now: 65, windowStart: 60, p95: 500 * ms, wantReason: waitroom.ReasonApproach, wantRate: 4363.2 * 1.01 * 1.01},
		{now: 75, windowStart: 70, p95: 500 * ms, wantReason: waitroom.ReasonApproach, wantRate: 4460.16},
		{now: 85, windowStart: 80, p95: 500 * ms, wantReason: waitroom.ReasonHoldCeiling, wantRate: 4460.16},
	})
}

// TestDecideTraceRampWaitsAfterSlowReading replays the start of a
// rehearsal against a backend of 2,400 bookings a minute. At the capacity,
// one reading showed p95 at the target and the next, from few samples,
// 200ms, and a doubling took the rate to twice the capacity. Now a reading
// without headroom makes each later ramp wait for two readings with
// headroom in a row: near the capacity they rarely come, after noise they
// soon do.
func TestDecideTraceRampWaitsAfterSlowReading(t *testing.T) {
	const ms = time.Millisecond
	runTrace(t, waitroom.ControllerConfig{StartRatePerMinute: 600, TargetP95: time.Second}, []traceStep{
		{now: 5, windowStart: 0, p95: 500 * ms, wantReason: waitroom.ReasonStart, wantRate: 600},
		{now: 10, windowStart: 5, p95: 500 * ms, wantReason: waitroom.ReasonRampUp, wantRate: 1200},
		{now: 15, windowStart: 10, p95: 500 * ms, wantReason: waitroom.ReasonHoldSettling, wantRate: 1200},
		{now: 20, windowStart: 15, p95: 200 * ms, wantReason: waitroom.ReasonRampUp, wantRate: 2400},
		{now: 25, windowStart: 20, p95: time.Second, wantReason: waitroom.ReasonHoldSettling, wantRate: 2400},
		{now: 30, windowStart: 25, p95: 200 * ms, wantReason: waitroom.ReasonHoldConfirm, wantRate: 2400},
		{now: 35, windowStart: 30, p95: time.Second, wantReason: waitroom.ReasonIncrease, wantRate: 2424},
		{now: 40, windowStart: 35, p95: 200 * ms, wantReason: waitroom.ReasonHoldSettling, wantRate: 2424},
		{now: 45, windowStart: 40, p95: 200 * ms, wantReason: waitroom.ReasonHoldConfirm, wantRate: 2424},
		{now: 50, windowStart: 45, p95: 200 * ms, wantReason: waitroom.ReasonRampUp, wantRate: 4848},
	})
}

func TestDecideTraceMeasuredCapacity(t *testing.T) {
	cfg := waitroom.ControllerConfig{StartRatePerMinute: 2000}
	var st waitroom.ControllerState
	decide := func(now float64, s waitroom.Signals, admitted, active int64) waitroom.Decision {
		t.Helper()
		s.Admitted, s.Active, s.ReleasesOnBooking = admitted, active, true
		var d waitroom.Decision
		d, st = waitroom.Decide(cfg, st, s, at(now))
		return d
	}

	decide(5, fresh(0, 5, 200*time.Millisecond), 1000, 100)

	// In the 5 seconds to the breach, 150 visitors were admitted and the
	// active count grew by 50: 100 finished, 1,200 a minute. The deep cut
	// goes to half of that, which is lower than half the rate.
	breach := fresh(5, 10, 2*time.Second)
	breach.ErrorRate = 0.2
	d := decide(10, breach, 1150, 150)
	if d.Reason != waitroom.ReasonDeepCut || !near(d.NewRatePerMinute, 600) {
		t.Fatalf("breach: got %s at %.1f/min, want %s at 600/min", d.Reason, d.NewRatePerMinute, waitroom.ReasonDeepCut)
	}
	if !near(st.CapacityPerMinute, 1200) || !near(st.CeilingPerMinute, 1200) || !st.CeilingMeasured {
		t.Fatalf("breach: got capacity %.1f/min, ceiling %.1f/min, measured %t; want 1200, 1200, true", st.CapacityPerMinute, st.CeilingPerMinute, st.CeilingMeasured)
	}

	// The queue still fails calls: 50 admitted, 150 finished, so the
	// estimate over the overload is 250 in 10 seconds, 1,500 a minute.
	queue := fresh(5, 15, 5*time.Second)
	queue.ErrorRate = 0.3
	d = decide(15, queue, 1200, 50)
	if d.Reason != waitroom.ReasonHoldOff || !near(d.NewRatePerMinute, 600) {
		t.Fatalf("queue: got %s at %.1f/min, want %s at 600/min", d.Reason, d.NewRatePerMinute, waitroom.ReasonHoldOff)
	}
	if !near(st.CeilingPerMinute, 1500) {
		t.Fatalf("queue: got ceiling %.1f/min, want the new estimate 1500", st.CeilingPerMinute)
	}

	// Once a reading after the cut shows headroom, the hold-off ends and
	// the rate goes straight to just under the measured capacity.
	d = decide(20, fresh(15, 20, 200*time.Millisecond), 1250, 50)
	if want := 1500 * (1 - waitroom.DefaultCeilingMargin); d.Reason != waitroom.ReasonApproach || !near(d.NewRatePerMinute, want) {
		t.Fatalf("drained: got %s at %.1f/min, want %s at %.1f/min", d.Reason, d.NewRatePerMinute, waitroom.ReasonApproach, want)
	}
}

func TestDecideTraceOverload(t *testing.T) {
	const ms = time.Millisecond
	runTrace(t, waitroom.ControllerConfig{StartRatePerMinute: 4000}, []traceStep{
		{now: 5, windowStart: 0, p95: 500 * ms, wantReason: waitroom.ReasonStart, wantRate: 4000},
		// The backend loses half its capacity: a severe breach.
		{now: 15, windowStart: 10, p95: 2 * time.Second, wantReason: waitroom.ReasonDeepCut, wantRate: 2000},
		// The queue built before the cut keeps latency high and fails
		// calls. While the backlog does not grow, that is the queue, not
		// a new overload, so the rate holds through the hold-off.
		{now: 20, windowStart: 10, p95: 5 * time.Second, errorRate: 0.3, wantReason: waitroom.ReasonHoldOff, wantRate: 2000},
		{now: 25, windowStart: 20, p95: 5 * time.Second, wantReason: waitroom.ReasonHoldOff, wantRate: 2000},
		{now: 30, windowStart: 20, p95: 5 * time.Second, errorRate: 0.2, wantReason: waitroom.ReasonHoldOff, wantRate: 2000},
		// After the hold-off a breach no larger than the last one is the
		// queue draining, and a larger one cuts.
		{now: 65, windowStart: 60, p95: 2 * time.Second, wantReason: waitroom.ReasonHoldDraining, wantRate: 2000},
		{now: 75, windowStart: 70, p95: time.Second, wantReason: waitroom.ReasonHoldDraining, wantRate: 2000},
		{now: 85, windowStart: 80, p95: 200 * ms, wantReason: waitroom.ReasonApproach, wantRate: 2000 + (4000*0.92-2000)*0.25},
		// Long after the cut, a severe breach is news again.
		{now: 95, windowStart: 90, p95: 2 * time.Second, wantReason: waitroom.ReasonDeepCut, wantRate: (2000 + (4000*0.92-2000)*0.25) / 2},
	})
}

func TestDecideNeverLeavesBounds(t *testing.T) {
	cfg := waitroom.ControllerConfig{MinRatePerMinute: 30, MaxRatePerMinute: 3000, StartRatePerMinute: 60}
	latencies := []time.Duration{0, 100 * time.Millisecond, 400 * time.Millisecond, time.Second, 10 * time.Second, math.MaxInt64}
	errorRates := []float64{0, 0.03, 0.5}

	var st waitroom.ControllerState
	for i := range 2000 {
		now := float64(i * 5)
		s := fresh(now-5, now, latencies[(i*7)%len(latencies)])
		s.ErrorRate = errorRates[(i*5)%len(errorRates)]
		s.Staleness = time.Duration((i*13)%50) * time.Second

		var d waitroom.Decision
		d, st = waitroom.Decide(cfg, st, s, at(now))
		if d.NewRatePerMinute < 30 || d.NewRatePerMinute > 3000 {
			t.Fatalf("decision %d (%s): rate %v outside [30, 3000]", i, d.Reason, d.NewRatePerMinute)
		}
		if st.RatePerMinute < 30 || st.RatePerMinute > 3000 {
			t.Fatalf("decision %d (%s): learned rate %v outside [30, 3000]", i, d.Reason, st.RatePerMinute)
		}
	}
}

func TestControllerConfigValidate(t *testing.T) {
	if err := (waitroom.ControllerConfig{}).Validate(); err != nil {
		t.Fatalf("defaults: got %v, want valid", err)
	}

	cases := []struct {
		name   string
		config waitroom.ControllerConfig
		want   []string
	}{
		{"negative target", waitroom.ControllerConfig{TargetP95: -time.Second}, []string{"target_p95", "-1s"}},
		{"error share above one", waitroom.ControllerConfig{ErrorRateThreshold: 1.5}, []string{"error_rate_threshold", "1.5"}},
		{"min above max", waitroom.ControllerConfig{MinRatePerMinute: 100, MaxRatePerMinute: 50, StartRatePerMinute: 60}, []string{"min_rate_per_minute", "100", "50"}},
		{"start below min", waitroom.ControllerConfig{MinRatePerMinute: 100}, []string{"start_rate_per_minute", "60"}},
		{"short period", waitroom.ControllerConfig{Period: time.Millisecond}, []string{"period", "1ms"}},
		{"ramp factor one", waitroom.ControllerConfig{RampFactor: 1}, []string{"ramp_factor", "1"}},
		{"cut factor one", waitroom.ControllerConfig{CutFactor: 1}, []string{"cut_factor", "1"}},
		{"deep cut gentler than cut", waitroom.ControllerConfig{DeepCutFactor: 0.95}, []string{"deep_cut_factor", "0.95"}},
		{"severe factor one", waitroom.ControllerConfig{SevereFactor: 1}, []string{"severe_factor", "1"}},
		{"stale before a period", waitroom.ControllerConfig{StaleAfter: time.Second}, []string{"stale_after", "1s"}},
		{"probe before a period", waitroom.ControllerConfig{ProbeAfter: time.Second}, []string{"probe_after", "1s"}},
		{"negative min order", waitroom.ControllerConfig{MinOrderPlaces: -1}, []string{"min_order_places", "-1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.config.Validate()
			if err == nil {
				t.Fatalf("got nil error, want one naming %v", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %s", err, w)
				}
			}
		})
	}
}

func TestControllerStateFields(t *testing.T) {
	st := waitroom.ControllerState{
		Version:           42,
		RatePerMinute:     1234.5,
		AppliedPerMinute:  120,
		CeilingPerMinute:  1400,
		Increases:         2,
		Headroom:          1,
		LastP95:           500 * time.Millisecond,
		LastActive:        310,
		LastDecision:      at(10),
		LastChange:        at(5),
		LastCut:           at(1.5),
		HoldOffUntil:      at(31.5),
		LastReason:        waitroom.ReasonMaxActive,
		LastAdmitted:      9000,
		CapacityPerMinute: 1300.25,
		SaturatedFinished: 217,
		SaturatedFor:      10 * time.Second,
		CeilingMeasured:   true,
		RampWarned:        true,
	}

	got, err := waitroom.ParseControllerState(st.Fields())
	if err != nil {
		t.Fatal(err)
	}
	if got != st {
		t.Errorf("round trip: got %+v, want %+v", got, st)
	}

	zero, err := waitroom.ParseControllerState(waitroom.ControllerState{}.Fields())
	if err != nil {
		t.Fatal(err)
	}
	if zero != (waitroom.ControllerState{}) {
		t.Errorf("zero state round trip: got %+v, want the zero state", zero)
	}

	for _, bad := range []map[string]string{
		{"version": "-1"},
		{"rate_per_minute": "NaN"},
		{"rate_per_minute": "fast"},
		{"last_cut_ms": "yesterday"},
		{"last_p95_ms": "-5"},
		{"last_active": "-1"},
		{"ceiling_measured": "maybe"},
		{"saturated_for_ms": "-1"},
		{"capacity_per_minute": "Inf"},
	} {
		if _, err := waitroom.ParseControllerState(bad); err == nil {
			t.Errorf("fields %v: got nil error, want one", bad)
		}
	}
}

func TestControllerStateJSON(t *testing.T) {
	st := waitroom.ControllerState{Version: 3, RatePerMinute: 900, LastCut: at(1), LastReason: waitroom.ReasonCut}
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var got waitroom.ControllerState
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if !got.LastCut.Equal(st.LastCut) || got.RatePerMinute != st.RatePerMinute || got.LastReason != st.LastReason {
		t.Errorf("JSON round trip: got %+v, want %+v", got, st)
	}
}

func TestEstimatePlaces(t *testing.T) {
	cases := []struct {
		name                  string
		places, active, ahead int64
		perVisitor            float64
		want                  waitroom.PlacesOutlook
	}{
		{"plenty", 10_000, 50, 100, 2, waitroom.PlacesOutlook{Places: 10_000, People: 5000, Ahead: 150, Enough: true}},
		{"running low", 300, 50, 100, 2, waitroom.PlacesOutlook{Places: 300, People: 150, Ahead: 150, Low: true}},
		{"probably enough but low", 400, 50, 100, 2, waitroom.PlacesOutlook{Places: 400, People: 200, Ahead: 150, Low: true, Enough: true}},
		{"none left", 0, 10, 5, 2, waitroom.PlacesOutlook{Ahead: 15, Low: true}},
		{"default places per order", 9, 0, 0, 0, waitroom.PlacesOutlook{Places: 9, People: 4, Enough: true}},
		{"negative counts", -3, -1, -1, 1, waitroom.PlacesOutlook{Low: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := waitroom.EstimatePlaces(tc.places, tc.active, tc.ahead, tc.perVisitor)
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestObservedAdmissionRate(t *testing.T) {
	earlier := waitroom.Snapshot{Now: at(0), Admitted: 100}
	cases := []struct {
		name  string
		later waitroom.Snapshot
		want  float64
	}{
		{"steady", waitroom.Snapshot{Now: at(30), Admitted: 160}, 120},
		{"reset in between", waitroom.Snapshot{Now: at(30), Admitted: 10}, 0},
		{"same instant", waitroom.Snapshot{Now: at(0), Admitted: 160}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := waitroom.ObservedAdmissionRate(earlier, tc.later); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSignalsWithRoom(t *testing.T) {
	snap := waitroom.Snapshot{Settings: waitroom.Settings{MaxActive: 200}, Active: 150, Waiting: 900, Prequeue: 100}
	s := waitroom.Signals{Samples: 40}.WithRoom(snap, 75)

	if s.Samples != 40 || s.Active != 150 || s.MaxActive != 200 || s.Waiting != 1000 || s.AdmittedPerMinute != 75 {
		t.Errorf("got %+v, want samples 40, active 150, max active 200, waiting 1000, admitted 75/min", s)
	}
}

func TestDecisionLogValue(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	d := waitroom.Decision{
		OldRatePerMinute: 600, NewRatePerMinute: 540, CapacityPerMinute: 700, Reason: waitroom.ReasonCut,
		Signals: waitroom.Signals{LatencyP95: time.Second, Staleness: 2 * time.Second, Samples: 80},
	}

	log.Info("admission rate decided", "decision", d)
	for _, want := range []string{
		`"reason":"cut"`, `"old_rate_per_minute":600`, `"new_rate_per_minute":540`, `"capacity_per_minute":700`,
		`"latency_p95_ms":1000`, `"staleness_ms":2000`, `"samples":80`,
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log line %s does not contain %s", buf.String(), want)
		}
	}
}

func ExampleDecide() {
	cfg := waitroom.ControllerConfig{StartRatePerMinute: 600}
	start := time.Date(2030, 5, 1, 9, 0, 0, 0, time.UTC)

	// The first decision takes the starting rate. A reading with p95 well
	// under the 500ms target then doubles it, and one over the target cuts.
	var state waitroom.ControllerState
	for i, p95 := range []time.Duration{150 * time.Millisecond, 180 * time.Millisecond, 900 * time.Millisecond} {
		now := start.Add(time.Duration(i+1) * 10 * time.Second)
		signals := waitroom.Signals{
			WindowStart:       now.Add(-10 * time.Second),
			WindowEnd:         now,
			Samples:           200,
			LatencyP95:        p95,
			Waiting:           5000,
			AdmittedPerMinute: state.AppliedPerMinute,
		}

		var d waitroom.Decision
		d, state = waitroom.Decide(cfg, state, signals, now)
		fmt.Printf("%s: %.0f → %.0f per minute\n", d.Reason, d.OldRatePerMinute, d.NewRatePerMinute)
	}
	// Output:
	// start: 0 → 600 per minute
	// ramp_up: 600 → 1200 per minute
	// cut: 1200 → 1080 per minute
}
