package waitroom_test

import (
	"strings"
	"testing"
	"time"

	"foyer/waitroom"
)

func TestSettingsValidate(t *testing.T) {
	valid := waitroom.Settings{ID: "museum"}.WithDefaults()
	if err := valid.Validate(); err != nil {
		t.Fatalf("defaults: got %v, want valid", err)
	}

	cases := []struct {
		name   string
		change func(*waitroom.Settings)
		// want names the field and the offending value.
		want []string
	}{
		{"bad id", func(s *waitroom.Settings) { s.ID = "Museum!" }, []string{"room id", `"Museum!"`}},
		{"negative rate", func(s *waitroom.Settings) { s.RatePerMinute = -1 }, []string{"rate_per_minute", "-1"}},
		{"zero burst", func(s *waitroom.Settings) { s.Burst = 0 }, []string{"burst", "0"}},
		{"zero max active", func(s *waitroom.Settings) { s.MaxActive = 0 }, []string{"max_active", "0"}},
		{"short window", func(s *waitroom.Settings) { s.AdmissionWindow = time.Millisecond }, []string{"admission_window", "1ms"}},
		{"lifetime below window", func(s *waitroom.Settings) { s.SessionLifetime = time.Minute }, []string{"session_lifetime", "1m0s"}},
		{"grace below refresh", func(s *waitroom.Settings) { s.HeartbeatGrace = 10 * time.Second }, []string{"heartbeat_grace", "10s"}},
		{"unknown mode", func(s *waitroom.Settings) { s.Mode = "turbo" }, []string{"mode", `"turbo"`}},
		{"long message", func(s *waitroom.Settings) { s.Message = strings.Repeat("x", 1001) }, []string{"message", "1001"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := valid
			tc.change(&s)
			err := s.Validate()
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

func TestSettingsState(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	cases := []struct {
		name string
		s    waitroom.Settings
		want waitroom.RoomState
	}{
		{"open by default", waitroom.Settings{}, waitroom.RoomOpen},
		{"before opening", waitroom.Settings{OpensAt: now.Add(time.Minute)}, waitroom.RoomScheduled},
		{"after opening", waitroom.Settings{OpensAt: now.Add(-time.Minute)}, waitroom.RoomOpen},
		{"paused", waitroom.Settings{Paused: true}, waitroom.RoomPaused},
		{"scheduled wins over paused", waitroom.Settings{Paused: true, OpensAt: now.Add(time.Minute)}, waitroom.RoomScheduled},
		{"sold out wins over scheduled", waitroom.Settings{SoldOut: true, OpensAt: now.Add(time.Minute)}, waitroom.RoomSoldOut},
		{"closed wins over all", waitroom.Settings{Closed: true, SoldOut: true, Paused: true}, waitroom.RoomClosed},
	}
	for _, tc := range cases {
		if got := tc.s.State(now); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestEstimates(t *testing.T) {
	snap := waitroom.Snapshot{
		Settings: waitroom.Settings{RatePerMinute: 60},
		Now:      time.Unix(1_800_000_000, 0),
		Head:     100,
		Waiting:  1000,
	}
	if got := waitroom.EstimateAhead(601, snap); got != 500 {
		t.Errorf("ahead of 601 with head 100: got %d, want 500", got)
	}
	snap.SkipRatio = 0.5
	if got := waitroom.EstimateAhead(601, snap); got != 250 {
		t.Errorf("ahead with half skipped: got %d, want 250", got)
	}
	if got := waitroom.EstimateAhead(50, snap); got != 0 {
		t.Errorf("ahead of a sequence behind the head: got %d, want 0", got)
	}
	older := waitroom.Snapshot{Head: 0, Tail: 1, Waiting: 1}
	if got := waitroom.EstimateAhead(3, older); got != 2 {
		t.Errorf("ahead of a ticket newer than the snapshot: got %d, want 2", got)
	}

	wait, ok := waitroom.EstimateWait(59, snap)
	if !ok || wait != time.Minute {
		t.Errorf("wait for 59 ahead at 60/min: got %s ok=%v, want 1m0s", wait, ok)
	}
	snap.Settings.Paused = true
	if _, ok := waitroom.EstimateWait(59, snap); ok {
		t.Errorf("paused room: got a wait estimate, want none")
	}

	for range 100 {
		got := waitroom.RefreshInterval(1_000_000, 5*time.Hour, true)
		if got > waitroom.MaxRefreshInterval || got < time.Second {
			t.Fatalf("refresh interval %s is outside [1s, %s]", got, waitroom.MaxRefreshInterval)
		}
	}
}
