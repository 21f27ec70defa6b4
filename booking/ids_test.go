package booking

import (
	"errors"
	"strings"
	"testing"
)

func TestNewIDRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		new   func(string) string
		parse func(string) (string, error)
	}{
		{"hold", NewHoldID, ParseHoldID},
		{"order", NewOrderID, ParseOrderID},
		{"session", NewSessionID, ParseSessionID},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := tc.new("spring-2026")

			event, err := tc.parse(id)
			if err != nil {
				t.Fatalf("parse %q: %v", id, err)
			}
			if event != "spring-2026" {
				t.Errorf("got event %q, want %q", event, "spring-2026")
			}
			if again := tc.new("spring-2026"); again == id {
				t.Errorf("got the same id %q twice, want random ids", id)
			}
		})
	}
}

func TestParseIDRejects(t *testing.T) {
	tests := []struct {
		name string
		id   string
	}{
		{"empty", ""},
		{"wrong kind", "o_demo_abc"},
		{"no random part", "h_demo"},
		{"empty random part", "h_demo_"},
		{"empty event", "h__abc"},
		{"upper-case event", "h_Demo_abc"},
		{"brace in event", "h_de{mo_abc"},
		{"underscore in random part", "h_demo_ab_c"},
		{"upper-case random part", "h_demo_ABC"},
		{"random part too long", "h_demo_" + strings.Repeat("a", 65)},
		{"event too long", "h_" + strings.Repeat("e", 65) + "_abc"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseHoldID(tc.id)
			if !errors.Is(err, ErrInvalidID) {
				t.Errorf("parse %q: got error %v, want %v", tc.id, err, ErrInvalidID)
			}
		})
	}
}

func TestValidEventID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"demo", true},
		{"spring-2026", true},
		{strings.Repeat("a", 64), true},
		{"", false},
		{strings.Repeat("a", 65), false},
		{"with_underscore", false},
		{"Demo", false},
		{"{demo}", false},
		{"de mo", false},
	}
	for _, tc := range tests {
		if got := ValidEventID(tc.id); got != tc.want {
			t.Errorf("ValidEventID(%q): got %t, want %t", tc.id, got, tc.want)
		}
	}
}

// FuzzParseHoldID checks that parsing never panics, that every accepted id
// names a valid event, and that the event and random part round-trip.
func FuzzParseHoldID(f *testing.F) {
	f.Add(NewHoldID("demo"))
	f.Add("h_demo_abc")
	f.Add("h__")
	f.Add("h_{demo}_x")

	f.Fuzz(func(t *testing.T, id string) {
		event, err := ParseHoldID(id)
		if err != nil {
			if !errors.Is(err, ErrInvalidID) {
				t.Fatalf("parse %q: got error %v, want %v", id, err, ErrInvalidID)
			}
			return
		}

		if !ValidEventID(event) {
			t.Fatalf("parse %q: got invalid event %q", id, event)
		}
		if !strings.HasPrefix(id, "h_"+event+"_") {
			t.Fatalf("parse %q: got event %q, which the id does not start with", id, event)
		}
		if strings.ContainsAny(id, "{}") {
			t.Fatalf("parse %q: accepted an id with a hash tag brace", id)
		}
	})
}

// FuzzParseOrderID checks that order ids parse only with their own prefix.
func FuzzParseOrderID(f *testing.F) {
	f.Add(NewOrderID("demo"))
	f.Add(NewHoldID("demo"))
	f.Add("o_demo-1_0")

	f.Fuzz(func(t *testing.T, id string) {
		event, err := ParseOrderID(id)
		if err != nil {
			return
		}
		if !strings.HasPrefix(id, "o_"+event+"_") || !ValidEventID(event) {
			t.Fatalf("parse %q: got event %q", id, event)
		}
		if _, err := ParseHoldID(id); err == nil {
			t.Fatalf("order id %q also parses as a hold id", id)
		}
	})
}
