package views

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Size of the dashboard's charts, in SVG user units.
const (
	ChartWidth  = 300
	ChartHeight = 80
)

func chartViewBox() string { return fmt.Sprintf("0 0 %d %d", ChartWidth, ChartHeight) }

// ChartPoint is one sample of a chart's series.
type ChartPoint struct {
	At    time.Time
	Value float64
}

// ChartPoints maps samples to an SVG polyline in a ChartWidth × ChartHeight
// box, with from at the left edge, to at the right and top at the upper
// edge. Samples outside [from, to] are left out. It returns "" for no
// sample in range.
func ChartPoints(points []ChartPoint, from, to time.Time, top float64) string {
	span := to.Sub(from).Seconds()
	if span <= 0 || top <= 0 {
		return ""
	}

	var b strings.Builder
	for _, p := range points {
		if p.At.Before(from) || p.At.After(to) {
			continue
		}
		x := p.At.Sub(from).Seconds() / span * ChartWidth
		// One unit of margin keeps the line visible at 0 and at the top.
		y := float64(ChartHeight-1) - min(max(p.Value, 0), top)/top*float64(ChartHeight-2)
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.FormatFloat(x, 'f', 1, 64))
		b.WriteByte(',')
		b.WriteString(strconv.FormatFloat(y, 'f', 1, 64))
	}
	return b.String()
}

// ChartTop returns a round upper bound for a scale that shows every value:
// 1, 2 or 5 times a power of ten, and at least 1.
func ChartTop(values []float64) float64 {
	highest := 0.0
	for _, v := range values {
		highest = max(highest, v)
	}
	for unit := 1.0; ; unit *= 10 {
		for _, step := range []float64{1, 2, 5} {
			if step*unit >= highest {
				return step * unit
			}
		}
		if unit > 1e15 {
			return highest
		}
	}
}

// stateWords describes a room state for organizers.
func stateWords(state string) string {
	switch state {
	case "scheduled":
		return "scheduled, not open yet"
	case "open":
		return "open"
	case "paused":
		return "open, admission paused"
	case "sold_out":
		return "sold out"
	case "closed":
		return "closed"
	}
	return state
}

// Size of the controller's decision chart, in SVG user units.
const (
	TimelineWidth  = 600
	TimelineHeight = 100
)

// timelineTick is the height of the tick that marks each decision.
const timelineTick = 6

func timelineViewBox() string { return fmt.Sprintf("0 0 %d %d", TimelineWidth, TimelineHeight) }

// RateStep is one decision on the decision chart: from At on, the rate is
// Rate.
type RateStep struct {
	At   time.Time
	Rate float64
	// Changed is true when the decision changed the rate. Label then
	// titles its dot.
	Changed bool
	Label   string
}

// TimelineChart draws a rate that is start at time since, changes to each
// step's Rate at its At and stays until time to, on an axis from time from
// to time to. A since before from counts as from: the rate before since is
// unknown, so the line begins there. The box is TimelineWidth ×
// TimelineHeight, with top at its upper edge. Steps must be in time order,
// and those outside [from, to] are left out. It fills Line, Ticks and
// Changes, and leaves them empty unless the span and top are positive.
func TimelineChart(start float64, steps []RateStep, since, from, to time.Time, top float64) DecisionChart {
	span := to.Sub(from).Seconds()
	if span <= 0 || top <= 0 {
		return DecisionChart{}
	}
	x := func(at time.Time) string {
		return strconv.FormatFloat(at.Sub(from).Seconds()/span*TimelineWidth, 'f', 1, 64)
	}
	y := func(rate float64) string {
		// One unit of margin keeps the line visible at 0 and at the top.
		return strconv.FormatFloat(float64(TimelineHeight-1)-min(max(rate, 0), top)/top*float64(TimelineHeight-2), 'f', 1, 64)
	}

	var line, ticks strings.Builder
	var chart DecisionChart
	if since.Before(from) {
		since = from
	}
	line.WriteString(x(since) + "," + y(start))
	rate := start
	for _, s := range steps {
		if s.At.Before(from) || s.At.After(to) {
			continue
		}
		sx := x(s.At)
		line.WriteString(" " + sx + "," + y(rate) + " " + sx + "," + y(s.Rate))
		fmt.Fprintf(&ticks, "M%s %dv-%d", sx, TimelineHeight-1, timelineTick)
		if s.Changed {
			chart.Changes = append(chart.Changes, DecisionMark{X: sx, Y: y(s.Rate), Label: s.Label})
		}
		rate = s.Rate
	}
	line.WriteString(" " + x(to) + "," + y(rate))

	chart.Line = line.String()
	chart.Ticks = ticks.String()
	return chart
}

// reasonWords describes a controller decision's reason for organizers.
// docs/controller.md lists the rules behind each.
func reasonWords(reason string) string {
	switch reason {
	case "sold_out":
		return "Sold out: no slot has places for another order, so admission stops."
	case "wait_for_holds":
		return "Only held places are left: admission stops until holds expire or are released."
	case "decay_stale":
		return "Booking signals are missing or too old: the rate moves back toward the starting rate."
	case "hold_few_samples":
		return "Too few bookings measured to judge: rate held."
	case "deep_cut":
		return "Bookings failed or slowed down severely: rate cut deeply."
	case "cut":
		return "Booking latency above the target: rate cut."
	case "hold_off":
		return "Too soon after a cut for the rate to rise, or to cut again: rate held."
	case "hold_draining":
		return "Latency still high but falling after a cut: rate held while the backlog drains."
	case "hold_settling":
		return "The signals do not show the last change yet: rate held."
	case "hold_errors":
		return "Some bookings fail: rate held, not raised."
	case "hold_not_used":
		return "The room admits fewer than the rate allows: rate held."
	case "hold_confirm":
		return "Bookings are fast again after a slow reading: rate held until a second reading agrees."
	case "ramp_up":
		return "Bookings are fast and no cut has happened yet: rate ramped up."
	case "approach":
		return "Rate raised toward just below the rate of the last cut."
	case "hold_ceiling":
		return "Rate held just below the rate of the last cut for a while."
	case "increase":
		return "Bookings are fast enough: rate raised a step."
	case "clamp":
		return "Rate set to the configured minimum or maximum."
	case "max_active":
		return "Rate capped so that admissions fit under max active."
	case "start":
		return "The controller took over at its starting rate (start_rate_per_minute)."
	}
	return reason
}
