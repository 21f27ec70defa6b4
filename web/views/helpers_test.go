package views

import (
	"testing"
	"time"
)

func TestDuration(t *testing.T) {
	cases := []struct {
		in   time.Duration
		want string
	}{
		{30 * time.Second, "less than a minute"},
		{70 * time.Second, "about 1 minute"},
		{12 * time.Minute, "about 12 minutes"},
		{59*time.Minute + 50*time.Second, "about 1 hour"},
		{time.Hour, "about 1 hour"},
		{119*time.Minute + 45*time.Second, "about 2 hours"},
		{2*time.Hour + 5*time.Minute, "about 2 h 5 min"},
	}
	for _, tc := range cases {
		if got := Duration(tc.in); got != tc.want {
			t.Errorf("Duration(%s): got %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestTimeLeft(t *testing.T) {
	cases := []struct {
		seconds int
		want    string
	}{
		{-3, "0 seconds"},
		{1, "1 second"},
		{59, "59 seconds"},
		{60, "1 minute"},
		{61, "1 minute 1 second"},
		{598, "9 minutes 58 seconds"},
		{600, "10 minutes"},
	}
	for _, tc := range cases {
		if got := timeLeft(tc.seconds); got != tc.want {
			t.Errorf("timeLeft(%d): got %q, want %q", tc.seconds, got, tc.want)
		}
	}
}

func TestAvailabilityText(t *testing.T) {
	cases := []struct {
		name string
		slot SlotChoice
		want string
	}{
		{name: "free", slot: SlotChoice{Available: 12}, want: "12 places left"},
		{name: "one left", slot: SlotChoice{Available: 1}, want: "1 place left"},
		{name: "sold out", slot: SlotChoice{SoldOut: true}, want: "Sold out"},
		{name: "started", slot: SlotChoice{Available: 5, Started: true}, want: "Started, no longer bookable"},
	}
	for _, tc := range cases {
		if got := availabilityText(tc.slot); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestChartTop(t *testing.T) {
	cases := []struct {
		values []float64
		want   float64
	}{
		{nil, 1},
		{[]float64{0}, 1},
		{[]float64{0.4}, 1},
		{[]float64{3, 1.5}, 5},
		{[]float64{633}, 1000},
		{[]float64{120.4}, 200},
		{[]float64{200}, 200},
	}
	for _, tc := range cases {
		if got := ChartTop(tc.values); got != tc.want {
			t.Errorf("ChartTop(%v): got %v, want %v", tc.values, got, tc.want)
		}
	}
}

func TestChartPoints(t *testing.T) {
	from := time.Date(2031, 3, 14, 9, 0, 0, 0, time.UTC)
	to := from.Add(30 * time.Minute)
	points := []ChartPoint{
		{At: from.Add(-time.Minute), Value: 5},
		{At: from, Value: 0},
		{At: from.Add(15 * time.Minute), Value: 10},
		{At: to, Value: 50},
	}
	want := "0.0,79.0 150.0,40.0 300.0,1.0"
	if got := ChartPoints(points, from, to, 20); got != want {
		t.Errorf("ChartPoints: got %q, want %q (the point before from left out, 50 clamped to the top)", got, want)
	}
	if got := ChartPoints(nil, from, to, 20); got != "" {
		t.Errorf("ChartPoints of no point: got %q, want \"\"", got)
	}
}
