package loadtest

import (
	"strings"
	"testing"
	"time"
)

func TestProgressLineFormats(t *testing.T) {
	line := progressLine{
		elapsed: 90 * time.Second, total: 1000, finished: 250,
		arrived: 800, waiting: 500, prequeue: 100, admitted: 300, booking: 40, booked: 200,
		abandoned: 20, errors: 3, requestRate: 412.4, admitRate: 9.5,
	}

	bar := line.bar()
	if !strings.HasPrefix(bar, "[######------------------]  25%") {
		t.Errorf("bar: got %q, want a quarter-filled bar at 25%%", bar)
	}
	for _, want := range []string{"arrived 800/1000", "waiting 500", "admitted 300", "booked 200", "abandoned 20", "errors 3", "412 req/s"} {
		if !strings.Contains(bar, want) {
			t.Errorf("bar: got %q, want it to contain %q", bar, want)
		}
	}

	plain := line.plain()
	for _, want := range []string{"t=1m30s", "finished=250/1000", "prequeue=100", "booking=40", "requests_per_s=412", "admitted_per_s=9.5"} {
		if !strings.Contains(plain, want) {
			t.Errorf("plain line: got %q, want it to contain %q", plain, want)
		}
	}
	if strings.ContainsAny(plain, "\r\x1b") {
		t.Errorf("plain line: got %q, want no terminal control characters", plain)
	}
}
