package loadtest

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rateTrace builds one sample a second from a rate function, with the
// room opening at opens seconds.
func rateTrace(seconds int, rate func(t float64) float64) []Sample {
	out := make([]Sample, seconds)
	for i := range out {
		t := float64(i)
		out[i] = Sample{Seconds: t, Server: &ServerCounts{RatePerMinute: rate(t)}}
	}
	return out
}

func TestAnalyzeControllerFollowsCapacity(t *testing.T) {
	// Capacity 1200/min until 200s, then 600/min. The rate climbs from
	// 300 to 1140 by 40s, holds with a small wobble, then is cut to 560
	// 8s after the drop.
	rate := func(t float64) float64 {
		switch {
		case t < 40:
			return 300 + 21*t
		case t < 208:
			if int(t)%10 < 5 {
				return 1120
			}
			return 1160
		default:
			return 560
		}
	}
	samples := rateTrace(320, rate)
	changes := []CapacityChange{{Seconds: 0, PerMinute: 1200}, {Seconds: 200, PerMinute: 600}}
	var windows []LatencyWindow
	for end := 10.0; end <= 320; end += 10 {
		p95 := 200.0
		if end == 210 {
			p95 = 900 // the overload right after the drop
		}
		windows = append(windows, LatencyWindow{End: end, Requests: 100, P95: p95})
	}
	reh := DefaultScenario().Rehearsal

	c := analyzeController(samples, changes, windows, 0, reh)
	if c == nil || len(c.Phases) != 2 {
		t.Fatalf("got %+v, want two phases", c)
	}
	first, second := c.Phases[0], c.Phases[1]
	// 90% of 1200 is 1080, and 300 + 21t first reaches it at t = 38.
	if first.ReachedAfter == nil || *first.ReachedAfter != 38 {
		t.Errorf("first phase reached 90%% after: got %s, want 38s", seconds(first.ReachedAfter))
	}
	if first.SteadyMean != 1140 || first.SteadyVariation < 0.0175 || first.SteadyVariation > 0.0176 {
		t.Errorf("first phase steady: got mean %v ±%v, want 1140 ±20/1140", first.SteadyMean, first.SteadyVariation)
	}
	if second.FitAfter == nil || *second.FitAfter != 8 {
		t.Errorf("second phase fit after: got %s, want 8s", seconds(second.FitAfter))
	}
	// Within 15% of 1140 is from 969 up, which 300 + 21t reaches at t = 32.
	if first.SettledAfter == nil || *first.SettledAfter != 32 {
		t.Errorf("first phase settled after: got %s, want 32s", seconds(first.SettledAfter))
	}
	if second.SettledAfter == nil || *second.SettledAfter != 8 {
		t.Errorf("second phase settled after: got %s, want 8s", seconds(second.SettledAfter))
	}
	if c.Windows != 32 || c.UnderTarget != 31 {
		t.Errorf("windows: got %d of %d under target, want 31 of 32", c.UnderTarget, c.Windows)
	}

	res := checkController(evidence{Scenario: scenarioInAuto(), Controller: c})
	if res.Status != CheckPass {
		t.Errorf("check: got %s (%s), want pass", res.Status, res.Summary)
	}
}

func seconds(p *float64) string {
	if p == nil {
		return "never"
	}
	return strconv.FormatFloat(*p, 'f', -1, 64) + "s"
}

func scenarioInAuto() Scenario {
	s := DefaultScenario()
	s.RoomSettings.Mode = "auto"
	return s
}

func TestCheckControllerFailures(t *testing.T) {
	reh := DefaultScenario().Rehearsal
	changes := []CapacityChange{{Seconds: 0, PerMinute: 1200}, {Seconds: 200, PerMinute: 600}}
	cases := []struct {
		name string
		rate func(t float64) float64
		slow bool
		want string
	}{
		{name: "slow to rise", rate: func(t float64) float64 { return min(1150, 300+5*t) }, want: "reached 90% of 1200/min 156s"},
		{name: "never cuts", rate: func(t float64) float64 { return 1150 }, want: "never fit under the capacity"},
		{name: "cuts late", rate: func(t float64) float64 {
			if t < 230 {
				return 1150
			}
			return 560
		}, want: "fit under the capacity 30s after"},
		{name: "oscillates", rate: func(t float64) float64 {
			if int(t)%20 < 10 {
				return 800
			}
			return 1150
		}, want: "varying ±17.9%"},
		{name: "slow bookings", rate: func(t float64) float64 {
			if t < 205 {
				return 1150
			}
			return 560
		}, slow: true, want: "in 16 of 32 10s windows"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var windows []LatencyWindow
			for end := 10.0; end <= 320; end += 10 {
				p95 := 100.0
				if tc.slow && int(end)%20 == 0 {
					p95 = 800
				}
				windows = append(windows, LatencyWindow{End: end, Requests: 50, P95: p95})
			}
			c := analyzeController(rateTrace(320, tc.rate), changes, windows, 0, reh)
			res := checkController(evidence{Scenario: scenarioInAuto(), Controller: c})
			if res.Status != CheckFail || !strings.Contains(res.Summary, tc.want) {
				t.Errorf("got %s: %s; want fail mentioning %q", res.Status, res.Summary, tc.want)
			}
		})
	}
}

func TestCheckControllerSkips(t *testing.T) {
	fixed := DefaultScenario()
	if res := checkController(evidence{Scenario: fixed}); res.Status != CheckSkipped {
		t.Errorf("fixed room: got %s, want skipped", res.Status)
	}
	if res := checkController(evidence{Scenario: scenarioInAuto()}); res.Status != CheckSkipped || !strings.Contains(res.Summary, "capacity is unknown") {
		t.Errorf("auto room without capacity: got %s (%s), want skipped naming the unknown capacity", res.Status, res.Summary)
	}
}

func TestRehearsalValidate(t *testing.T) {
	cases := []struct {
		name string
		edit func(r *Rehearsal)
		want string
	}{
		{name: "steps out of order", edit: func(r *Rehearsal) {
			r.Steps = []CapacityStep{{At: time.Minute, Concurrency: 4}, {At: 30 * time.Second, Concurrency: 2}}
		}, want: "rehearsal.steps[1].at 30s is invalid"},
		{name: "step after the run", edit: func(r *Rehearsal) { r.Steps = []CapacityStep{{At: time.Hour, Concurrency: 4}} }, want: "rehearsal.steps[0].at 1h0m0s is invalid"},
		{name: "empty step", edit: func(r *Rehearsal) { r.Steps = []CapacityStep{{At: time.Second}} }, want: "changes nothing"},
		{name: "negative concurrency", edit: func(r *Rehearsal) { r.Steps = []CapacityStep{{Concurrency: -2}} }, want: "concurrency -2 is invalid"},
		{name: "share above one", edit: func(r *Rehearsal) { r.ReachShare = 1.5 }, want: "rehearsal.reach_share 1.5 is invalid"},
		{name: "zero target", edit: func(r *Rehearsal) { r.TargetP95 = 0 }, want: "rehearsal.target_p95 0s is invalid"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := DefaultScenario().Rehearsal
			tc.edit(&r)
			err := r.validate(10 * time.Minute)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
	if err := DefaultScenario().Rehearsal.validate(10 * time.Minute); err != nil {
		t.Errorf("default: got %v, want valid", err)
	}
}

func TestRehearsalScenarioFileParses(t *testing.T) {
	data, err := os.ReadFile("../deploy/rehearsal/scenario.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseScenario(data, DefaultScenario())
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	s.AdminToken = testAdminToken
	if err := s.Validate(); err != nil {
		t.Fatalf("validate: %v", err)
	}
	if s.RoomSettings.Mode != "auto" || len(s.Rehearsal.Steps) != 2 || s.Rehearsal.Steps[1].Concurrency != 4 {
		t.Errorf("got mode %q and steps %+v, want auto and a drop to concurrency 4", s.RoomSettings.Mode, s.Rehearsal.Steps)
	}
}

func TestAnalyzeControllerSettlesAfterOvershoot(t *testing.T) {
	// Capacity 1200/min. The rate doubles to 2400 at 20s, is cut to 600
	// at 30s and goes to 1080 at 60s, where it stays.
	rate := func(t float64) float64 {
		switch {
		case t < 20:
			return 600 * (1 + t/20)
		case t < 30:
			return 2400
		case t < 60:
			return 600
		default:
			return 1080
		}
	}
	changes := []CapacityChange{{Seconds: 0, PerMinute: 1200}}
	c := analyzeController(rateTrace(200, rate), changes, nil, 0, DefaultScenario().Rehearsal)
	if c == nil || len(c.Phases) != 1 {
		t.Fatalf("got %+v, want one phase", c)
	}
	ph := c.Phases[0]
	// 600 × (1 + t/20) first reaches 1080 at t = 16.
	if ph.ReachedAfter == nil || *ph.ReachedAfter != 16 {
		t.Errorf("reached after: got %s, want 16s", seconds(ph.ReachedAfter))
	}
	if ph.SettledAfter == nil || *ph.SettledAfter != 60 {
		t.Errorf("settled after: got %s, want 60s, when the rate came back to 1080 to stay", seconds(ph.SettledAfter))
	}
}
