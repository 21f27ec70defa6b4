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
