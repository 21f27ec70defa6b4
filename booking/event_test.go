package booking

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func validEvent() Event {
	return Event{
		ID:          "spring-2026",
		Title:       "Spring exhibition",
		TimeZone:    "Europe/Amsterdam",
		Room:        "spring",
		TicketTypes: []TicketType{{ID: "adult", Name: "Adult", Price: 1500}, {ID: "child", Name: "Child", Price: 500}},
	}
}

func TestEventNormalizeDefaults(t *testing.T) {
	event, err := validEvent().Normalize()
	if err != nil {
		t.Fatalf("normalize: %v", err)
	}

	if event.Currency != DefaultCurrency {
		t.Errorf("got currency %q, want %q", event.Currency, DefaultCurrency)
	}
	if event.MaxTicketsPerOrder != DefaultMaxTicketsPerOrder {
		t.Errorf("got max tickets per order %d, want %d", event.MaxTicketsPerOrder, DefaultMaxTicketsPerOrder)
	}
	if event.MaxTicketsPerVisitor != DefaultMaxTicketsPerVisitor {
		t.Errorf("got max tickets per visitor %d, want %d", event.MaxTicketsPerVisitor, DefaultMaxTicketsPerVisitor)
	}
	if event.MaxHoldsPerVisitor != DefaultMaxHoldsPerVisitor {
		t.Errorf("got max holds per visitor %d, want %d", event.MaxHoldsPerVisitor, DefaultMaxHoldsPerVisitor)
	}
	if event.HoldLifetime != DefaultHoldLifetime {
		t.Errorf("got hold lifetime %s, want %s", event.HoldLifetime, DefaultHoldLifetime)
	}
	if event.MaxHoldExtensions != 0 {
		t.Errorf("got max hold extensions %d, want 0", event.MaxHoldExtensions)
	}
}

func TestEventNormalizeRejects(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*Event)
		field string
	}{
		{"empty id", func(e *Event) { e.ID = "" }, "id"},
		{"missing title", func(e *Event) { e.Title = "" }, "title"},
		{"missing zone", func(e *Event) { e.TimeZone = "" }, "time_zone"},
		{"local zone", func(e *Event) { e.TimeZone = "Local" }, "time_zone"},
		{"unknown zone", func(e *Event) { e.TimeZone = "Europe/Atlantis" }, "time_zone"},
		{"missing room", func(e *Event) { e.Room = "" }, "room"},
		{"lower-case currency", func(e *Event) { e.Currency = "eur" }, "currency"},
		{"duplicate ticket type", func(e *Event) { e.TicketTypes[1].ID = "adult" }, "listed twice"},
		{"negative price", func(e *Event) { e.TicketTypes[0].Price = -1 }, "price"},
		{"too many tickets per order", func(e *Event) { e.MaxTicketsPerOrder = MaxQuantity + 1 }, "max_tickets_per_order"},
		{"negative extensions", func(e *Event) { e.MaxHoldExtensions = -1 }, "max_hold_extensions"},
		{"short hold lifetime", func(e *Event) { e.HoldLifetime = time.Millisecond }, "hold_lifetime"},
		{"sales end before start", func(e *Event) {
			e.SalesStart = time.Date(2026, 6, 2, 0, 0, 0, 0, time.UTC)
			e.SalesEnd = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
		}, "sales_start"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			event := validEvent()
			tc.edit(&event)

			_, err := event.Normalize()
			if !errors.Is(err, ErrInvalidEvent) {
				t.Fatalf("got error %v, want %v", err, ErrInvalidEvent)
			}
			if !strings.Contains(err.Error(), tc.field) {
				t.Errorf("got message %q, want it to name %q", err, tc.field)
			}
		})
	}
}

func TestEventOnSale(t *testing.T) {
	start := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	event := Event{SalesStart: start, SalesEnd: start.Add(time.Hour)}

	tests := []struct {
		at   time.Time
		want bool
	}{
		{start.Add(-time.Millisecond), false},
		{start, true},
		{start.Add(59 * time.Minute), true},
		{start.Add(time.Hour), false},
	}
	for _, tc := range tests {
		if got := event.OnSale(tc.at); got != tc.want {
			t.Errorf("on sale at %s: got %t, want %t", tc.at, got, tc.want)
		}
	}
	if !(Event{}).OnSale(start) {
		t.Errorf("event without a sales window: got not on sale, want on sale")
	}
}

func TestEventPrice(t *testing.T) {
	event := validEvent()

	got := event.Price(map[string]int{"adult": 2, "child": 3})
	if got != 4500 {
		t.Errorf("got price %d, want 4500", got)
	}
}
