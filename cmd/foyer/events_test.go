package main

import (
	"strings"
	"testing"
	"time"
)

func exampleEvent() EventConfig {
	return EventConfig{
		ID:          "expo",
		Title:       "Expo",
		TimeZone:    "Europe/Amsterdam",
		Room:        "demo",
		TicketTypes: []TicketTypeConfig{{ID: "adult", Name: "Adult", Price: 1500}},
		Days:        []DayConfig{{Date: "2026-03-29", Open: "01:00", Close: "04:00", Length: time.Hour, Capacity: 10}},
		Slots:       []SlotConfig{{Date: "2026-03-30", Start: "08:30", Capacity: 5}},
	}
}

func TestEventConfigBuild(t *testing.T) {
	event, slots, err := exampleEvent().Build()
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	if event.ID != "expo" || event.Room != "demo" {
		t.Fatalf("got event %q guarded by %q, want expo guarded by demo", event.ID, event.Room)
	}
	// Clocks in Amsterdam go forward at 02:00 on 2026-03-29, so 01:00 to
	// 04:00 local time is two real hours: two one-hour slots.
	if got := len(slots); got != 3 {
		t.Fatalf("got %d slots, want 2 on the daylight-saving day plus 1 single slot", got)
	}
	loc, _ := time.LoadLocation("Europe/Amsterdam")
	last := slots[len(slots)-1]
	if got := last.Start.In(loc).Format("2006-01-02 15:04"); got != "2026-03-30 08:30" {
		t.Errorf("single slot starts at %s local time, want 2026-03-30 08:30", got)
	}
	if got := last.End.Sub(last.Start); got != 30*time.Minute {
		t.Errorf("single slot without a length lasts %s, want the 30m default", got)
	}
}

func TestEventConfigRejects(t *testing.T) {
	cases := []struct {
		name   string
		change func(*EventConfig)
		want   string
	}{
		{"unknown zone", func(e *EventConfig) { e.TimeZone = "Mars/Olympus" }, "Mars/Olympus"},
		{"no slots", func(e *EventConfig) { e.Days, e.Slots = nil, nil }, "no slots"},
		{"time in a daylight-saving gap", func(e *EventConfig) {
			e.Days = nil
			e.Slots = []SlotConfig{{Date: "2026-03-29", Start: "02:30", Capacity: 5}}
		}, "02:30"},
		{"bad date", func(e *EventConfig) { e.Slots[0].Date = "30/03/2026" }, "30/03/2026"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ec := exampleEvent()
			tc.change(&ec)
			_, _, err := ec.Build()
			if err == nil {
				t.Fatalf("got nil error, want one mentioning %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `"expo"`) {
				t.Fatalf("error %q does not name the event and %q", err, tc.want)
			}
		})
	}
}

func TestConfigValidateEvents(t *testing.T) {
	cfg := validConfig()
	cfg.Events = []EventConfig{exampleEvent()}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("valid event: got %v", err)
	}

	other := exampleEvent()
	other.Room = "elsewhere"
	cfg.Events = []EventConfig{other}
	err := cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), `"elsewhere"`) {
		t.Fatalf("event guarded by an unknown room: got %v, want an error naming the room", err)
	}

	cfg.Events = []EventConfig{exampleEvent(), exampleEvent()}
	err = cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), "appears twice") {
		t.Fatalf("duplicate event: got %v, want an error saying the id appears twice", err)
	}
}

func TestDemoEventIsTomorrow(t *testing.T) {
	now := time.Date(2026, 12, 4, 23, 30, 0, 0, time.UTC) // 00:30 on 5 December in Amsterdam
	event, slots, err := demoEvent(now)
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := event.Location()
	if got := slots[0].Start.In(loc).Format("2006-01-02 15:04"); got != "2026-12-06 09:00" {
		t.Fatalf("first demo slot starts %s local time, want 2026-12-06 09:00", got)
	}
	if got := len(slots); got != 16 {
		t.Fatalf("got %d demo slots, want 16 half-hour slots from 09:00 to 17:00", got)
	}
}
