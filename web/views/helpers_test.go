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
