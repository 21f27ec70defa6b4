package booking

import (
	"errors"
	"testing"
	"time"
)

func amsterdam(t *testing.T) *time.Location {
	t.Helper()

	loc, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		t.Fatalf("load zone: %v", err)
	}
	return loc
}

func TestLocalTime(t *testing.T) {
	loc := amsterdam(t)
	tests := []struct {
		name        string
		date, clock string
		want        string
	}{
		{"winter", "2026-01-15", "08:30", "2026-01-15T07:30:00Z"},
		{"summer", "2026-07-15", "08:30", "2026-07-15T06:30:00Z"},
		{"before the spring gap", "2026-03-29", "01:59", "2026-03-29T00:59:00Z"},
		{"after the spring gap", "2026-03-29", "03:00", "2026-03-29T01:00:00Z"},
		{"repeated hour takes the first", "2026-10-25", "02:30", "2026-10-25T00:30:00Z"},
		{"after the repeated hour", "2026-10-25", "03:00", "2026-10-25T02:00:00Z"},
		{"midnight at the end of the day", "2026-06-01", "24:00", "2026-06-01T22:00:00Z"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := LocalTime(loc, tc.date, tc.clock)
			if err != nil {
				t.Fatalf("local time: %v", err)
			}
			if got.Format(time.RFC3339) != tc.want {
				t.Errorf("got %s, want %s", got.Format(time.RFC3339), tc.want)
			}
			if got.Location() != time.UTC {
				t.Errorf("got location %s, want UTC", got.Location())
			}
		})
	}
}

func TestLocalTimeRejects(t *testing.T) {
	loc := amsterdam(t)
	tests := []struct {
		name        string
		loc         *time.Location
		date, clock string
	}{
		{"spring gap", loc, "2026-03-29", "02:30"},
		{"spring gap start", loc, "2026-03-29", "02:00"},
		{"bad date", loc, "2026-02-30", "08:00"},
		{"bad clock", loc, "2026-06-01", "8.30"},
		{"clock past 24:00", loc, "2026-06-01", "24:30"},
		{"no zone", nil, "2026-06-01", "08:00"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LocalTime(tc.loc, tc.date, tc.clock)
			if !errors.Is(err, ErrInvalidSlot) {
				t.Errorf("got error %v, want %v", err, ErrInvalidSlot)
			}
		})
	}
}

func TestDayPlanSlots(t *testing.T) {
	loc := amsterdam(t)
	tests := []struct {
		name           string
		plan           DayPlan
		wantCount      int
		wantFirst      string
		wantLast       string
		wantFirstStart string
	}{
		{
			name:      "museum day",
			plan:      DayPlan{Date: "2026-06-01", Open: "09:00", Close: "17:00", Capacity: 50},
			wantCount: 16, wantFirst: "20260601-0900", wantLast: "20260601-1630",
			wantFirstStart: "2026-06-01T07:00:00Z",
		},
		{
			name:      "hour slots",
			plan:      DayPlan{Date: "2026-06-01", Open: "09:00", Close: "17:30", Length: time.Hour, Capacity: 50},
			wantCount: 8, wantFirst: "20260601-0900", wantLast: "20260601-1600",
			wantFirstStart: "2026-06-01T07:00:00Z",
		},
		{
			name:      "spring forward day has 23 hours",
			plan:      DayPlan{Date: "2026-03-29", Open: "00:00", Close: "24:00", Capacity: 5},
			wantCount: 46, wantFirst: "20260329-0000", wantLast: "20260329-2330",
			wantFirstStart: "2026-03-28T23:00:00Z",
		},
		{
			name:      "fall back day has 25 hours",
			plan:      DayPlan{Date: "2026-10-25", Open: "00:00", Close: "24:00", Capacity: 5},
			wantCount: 50, wantFirst: "20261025-0000", wantLast: "20261025-2330",
			wantFirstStart: "2026-10-24T22:00:00Z",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			slots, err := tc.plan.Slots(loc)
			if err != nil {
				t.Fatalf("slots: %v", err)
			}
			if len(slots) != tc.wantCount {
				t.Fatalf("got %d slots, want %d", len(slots), tc.wantCount)
			}
			if slots[0].ID != tc.wantFirst {
				t.Errorf("got first id %s, want %s", slots[0].ID, tc.wantFirst)
			}
			if last := slots[len(slots)-1].ID; last != tc.wantLast {
				t.Errorf("got last id %s, want %s", last, tc.wantLast)
			}
			if start := slots[0].Start.Format(time.RFC3339); start != tc.wantFirstStart {
				t.Errorf("got first start %s, want %s", start, tc.wantFirstStart)
			}
			for i := 1; i < len(slots); i++ {
				if !slots[i].Start.Equal(slots[i-1].End) {
					t.Errorf("slot %s starts at %s, want the end of the one before, %s", slots[i].ID, slots[i].Start, slots[i-1].End)
				}
			}
		})
	}
}

func TestDayPlanRepeatedHourIDs(t *testing.T) {
	slots, err := DayPlan{Date: "2026-10-25", Open: "01:30", Close: "03:30", Capacity: 5}.Slots(amsterdam(t))
	if err != nil {
		t.Fatalf("slots: %v", err)
	}

	want := []string{"20261025-0130", "20261025-0200", "20261025-0230", "20261025-0200-2", "20261025-0230-2", "20261025-0300"}
	if len(slots) != len(want) {
		t.Fatalf("got %d slots, want %d", len(slots), len(want))
	}
	for i, slot := range slots {
		if slot.ID != want[i] {
			t.Errorf("slot %d: got id %s, want %s", i, slot.ID, want[i])
		}
	}
}

func TestDemoEvent(t *testing.T) {
	event, slots, err := DemoEvent("2026-06-01")
	if err != nil {
		t.Fatalf("demo event: %v", err)
	}

	if event.ID != DemoEventID || event.Room != DemoEventID {
		t.Errorf("got event %q in room %q, want %q in %q", event.ID, event.Room, DemoEventID, DemoEventID)
	}
	if len(slots) != 16 {
		t.Errorf("got %d slots, want 16", len(slots))
	}
	if got := slots[0].End.Sub(slots[0].Start); got != 30*time.Minute {
		t.Errorf("got slot length %s, want 30m", got)
	}
}

func TestNormalizeSlots(t *testing.T) {
	start := time.Date(2026, 6, 1, 9, 0, 0, 123_456_789, time.FixedZone("CEST", 2*3600))
	slots, err := NormalizeSlots([]Slot{
		{ID: "b", Start: start.Add(time.Hour), End: start.Add(2 * time.Hour), Capacity: 1},
		{ID: "a", Start: start, End: start.Add(time.Hour), Capacity: 1},
	})
	if err != nil {
		t.Fatalf("normalize: %v", err)
	}

	if slots[0].ID != "a" || slots[1].ID != "b" {
		t.Errorf("got order %s, %s, want a, b", slots[0].ID, slots[1].ID)
	}
	if want := time.Date(2026, 6, 1, 7, 0, 0, 123_000_000, time.UTC); slots[0].Start != want {
		t.Errorf("got start %v, want %v", slots[0].Start, want)
	}
}
