package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"foyer/booking"
)

// EventConfig is one bookable event in the configuration file. Its slots
// are given as days of back-to-back slots, as single slots, or both, in
// the event's local time.
type EventConfig struct {
	ID                   string             `yaml:"id"`
	Title                string             `yaml:"title"`
	TimeZone             string             `yaml:"time_zone"`
	Room                 string             `yaml:"room"`
	Currency             string             `yaml:"currency"`
	TicketTypes          []TicketTypeConfig `yaml:"ticket_types"`
	MaxTicketsPerOrder   int                `yaml:"max_tickets_per_order"`
	MaxTicketsPerVisitor int                `yaml:"max_tickets_per_visitor"`
	MaxHoldsPerVisitor   int                `yaml:"max_holds_per_visitor"`
	HoldLifetime         time.Duration      `yaml:"hold_lifetime"`
	MaxHoldExtensions    int                `yaml:"max_hold_extensions"`
	Days                 []DayConfig        `yaml:"days"`
	Slots                []SlotConfig       `yaml:"slots"`
}

// TicketTypeConfig is a ticket type; Price is in minor units (cents).
type TicketTypeConfig struct {
	ID    string `yaml:"id"`
	Name  string `yaml:"name"`
	Price int64  `yaml:"price"`
}

// DayConfig is a day of back-to-back slots of one length.
type DayConfig struct {
	Date     string        `yaml:"date"`
	Open     string        `yaml:"open"`
	Close    string        `yaml:"close"`
	Length   time.Duration `yaml:"length"`
	Capacity int           `yaml:"capacity"`
}

// SlotConfig is one slot starting at a local date and time.
type SlotConfig struct {
	Date     string        `yaml:"date"`
	Start    string        `yaml:"start"`
	Length   time.Duration `yaml:"length"`
	Capacity int           `yaml:"capacity"`
}

// Build converts the configuration to a normalized event and its slots. It
// returns an error naming the event and the invalid field.
func (ec EventConfig) Build() (booking.Event, []booking.Slot, error) {
	event := booking.Event{
		ID:                   ec.ID,
		Title:                ec.Title,
		TimeZone:             ec.TimeZone,
		Room:                 ec.Room,
		Currency:             ec.Currency,
		MaxTicketsPerOrder:   ec.MaxTicketsPerOrder,
		MaxTicketsPerVisitor: ec.MaxTicketsPerVisitor,
		MaxHoldsPerVisitor:   ec.MaxHoldsPerVisitor,
		HoldLifetime:         ec.HoldLifetime,
		MaxHoldExtensions:    ec.MaxHoldExtensions,
	}
	for _, tt := range ec.TicketTypes {
		event.TicketTypes = append(event.TicketTypes, booking.TicketType{ID: tt.ID, Name: tt.Name, Price: tt.Price})
	}
	event, err := event.Normalize()
	if err != nil {
		return booking.Event{}, nil, fmt.Errorf("event %q: %w", ec.ID, err)
	}
	loc, err := event.Location()
	if err != nil {
		return booking.Event{}, nil, fmt.Errorf("event %q: %w", ec.ID, err)
	}

	var slots []booking.Slot
	for i, day := range ec.Days {
		plan := booking.DayPlan{Date: day.Date, Open: day.Open, Close: day.Close, Length: day.Length, Capacity: day.Capacity}
		daySlots, err := plan.Slots(loc)
		if err != nil {
			return booking.Event{}, nil, fmt.Errorf("event %q: days[%d]: %w", ec.ID, i, err)
		}
		slots = append(slots, daySlots...)
	}
	for i, sc := range ec.Slots {
		length := sc.Length
		if length == 0 {
			length = 30 * time.Minute
		}
		slot, err := booking.LocalSlot(loc, sc.Date, sc.Start, length, sc.Capacity)
		if err != nil {
			return booking.Event{}, nil, fmt.Errorf("event %q: slots[%d]: %w", ec.ID, i, err)
		}
		slots = append(slots, slot)
	}
	if len(slots) == 0 {
		return booking.Event{}, nil, fmt.Errorf("event %q has no slots: add days or slots", ec.ID)
	}
	return event, slots, nil
}

// demoEvent returns the demo event with tomorrow's slots in its zone, so
// that every slot is still bookable whenever the demo starts.
func demoEvent(now time.Time) (booking.Event, []booking.Slot, error) {
	probe, _, err := booking.DemoEvent(now.Format("2006-01-02"))
	if err != nil {
		return booking.Event{}, nil, err
	}
	loc, err := probe.Location()
	if err != nil {
		return booking.Event{}, nil, err
	}
	return booking.DemoEvent(now.In(loc).AddDate(0, 0, 1).Format("2006-01-02"))
}

// createEvents creates each configured event that the store does not have
// yet. An event the store already has keeps its stored slots and counts,
// so a restart never resets sales.
func createEvents(ctx context.Context, store booking.Store, events []EventConfig, useDemo bool, log *slog.Logger) error {
	type built struct {
		event booking.Event
		slots []booking.Slot
	}
	var all []built
	for _, ec := range events {
		event, slots, err := ec.Build()
		if err != nil {
			return err
		}
		all = append(all, built{event, slots})
	}
	if useDemo {
		event, slots, err := demoEvent(time.Now())
		if err != nil {
			return fmt.Errorf("demo event: %w", err)
		}
		all = append(all, built{event, slots})
	}

	for _, b := range all {
		err := store.CreateEvent(ctx, b.event, b.slots)
		switch {
		case errors.Is(err, booking.ErrEventExists):
			log.Info("event exists in the store; keeping its stored slots", "event", b.event.ID)
		case err != nil:
			return fmt.Errorf("create event %s: %w", b.event.ID, err)
		default:
			log.Info("event created", "event", b.event.ID, "room", b.event.Room, "slots", len(b.slots))
		}
	}
	return nil
}
