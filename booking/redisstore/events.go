package redisstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"foyer/booking"
)

// CreateEvent implements booking.Store.
func (s *Store) CreateEvent(ctx context.Context, event booking.Event, slots []booking.Slot) error {
	event, err := event.Normalize()
	if err != nil {
		return err
	}
	slots, err = booking.NormalizeSlots(slots)
	if err != nil {
		return fmt.Errorf("create event %s: %w", event.ID, err)
	}

	eventJSON, err := encodeEvent(event)
	if err != nil {
		return err
	}
	slotsJSON, err := encodeSlots(slots)
	if err != nil {
		return err
	}

	if _, err := s.runEvent(ctx, s.scripts.createEvent, event.ID, eventJSON, slotsJSON); err != nil {
		return fmt.Errorf("create event %s: %w", event.ID, err)
	}
	return nil
}

// Event implements booking.Store.
func (s *Store) Event(ctx context.Context, id string) (booking.Event, error) {
	if !booking.ValidEventID(id) {
		return booking.Event{}, fmt.Errorf("event %q: %w", id, booking.ErrUnknownEvent)
	}

	values, err := s.runEvent(ctx, s.scripts.getEvent, id)
	if err != nil {
		return booking.Event{}, fmt.Errorf("event %s: %w", id, err)
	}
	raw, err := oneString(s.scripts.getEvent.name, values)
	if err != nil {
		return booking.Event{}, err
	}
	return decodeEvent(raw)
}

// maxUpdateAttempts bounds how often UpdateEvent reads the event again
// after another writer changed it between its read and its write.
const maxUpdateAttempts = 20

// UpdateEvent implements booking.Store. It reads the event, checks the
// change in Go, and writes it with a script that checks that the stored
// event is still the one read. When it is not, it starts over, at most
// maxUpdateAttempts times, and then returns an error wrapping
// booking.ErrUnavailable.
func (s *Store) UpdateEvent(ctx context.Context, event booking.Event) error {
	event, err := event.Normalize()
	if err != nil {
		return err
	}
	next, err := encodeEvent(event)
	if err != nil {
		return err
	}

	for range maxUpdateAttempts {
		values, err := s.runEvent(ctx, s.scripts.getEvent, event.ID)
		if err != nil {
			return fmt.Errorf("update event %s: %w", event.ID, err)
		}
		raw, err := oneString(s.scripts.getEvent.name, values)
		if err != nil {
			return err
		}
		current, err := decodeEvent(raw)
		if err != nil {
			return err
		}
		if err := booking.CheckEventChange(current, event); err != nil {
			return err
		}

		values, err = s.runEvent(ctx, s.scripts.updateEvent, event.ID, raw, next)
		if err != nil {
			return fmt.Errorf("update event %s: %w", event.ID, err)
		}
		written, err := toInt(s.scripts.updateEvent.name, values[0])
		if err != nil {
			return err
		}
		if written == 1 {
			return nil
		}
	}
	return fmt.Errorf("update event %s: %w: the event changed %d times while being updated", event.ID, booking.ErrUnavailable, maxUpdateAttempts)
}

// AddSlots implements booking.Store.
func (s *Store) AddSlots(ctx context.Context, event string, slots []booking.Slot) error {
	if !booking.ValidEventID(event) {
		return fmt.Errorf("add slots: event %q: %w", event, booking.ErrUnknownEvent)
	}
	if len(slots) == 0 {
		return fmt.Errorf("add slots to event %s: %w: no slot given", event, booking.ErrInvalidSlot)
	}
	slots, err := booking.NormalizeSlots(slots)
	if err != nil {
		return fmt.Errorf("add slots to event %s: %w", event, err)
	}
	slotsJSON, err := encodeSlots(slots)
	if err != nil {
		return err
	}

	if _, err := s.runEvent(ctx, s.scripts.addSlots, event, slotsJSON); err != nil {
		return fmt.Errorf("add slots to event %s: %w", event, err)
	}
	return nil
}

// SetCapacity implements booking.Store.
func (s *Store) SetCapacity(ctx context.Context, event, slot string, capacity int) error {
	if capacity < 0 || capacity > booking.MaxCapacity {
		return fmt.Errorf("set capacity of slot %s: capacity %d must be between 0 and %d: %w", slot, capacity, booking.MaxCapacity, booking.ErrInvalidSlot)
	}
	if !booking.ValidEventID(event) {
		return fmt.Errorf("set capacity: event %q: %w", event, booking.ErrUnknownEvent)
	}

	if _, err := s.runEvent(ctx, s.scripts.setCapacity, event, slot, capacity); err != nil {
		return fmt.Errorf("set capacity of slot %s to %d: %w", slot, capacity, err)
	}
	return nil
}

// Availability implements booking.Store.
func (s *Store) Availability(ctx context.Context, event string) ([]booking.SlotAvailability, error) {
	if !booking.ValidEventID(event) {
		return nil, fmt.Errorf("availability: event %q: %w", event, booking.ErrUnknownEvent)
	}

	name := s.scripts.availability.name
	values, err := s.runEvent(ctx, s.scripts.availability, event)
	if err != nil {
		return nil, fmt.Errorf("availability of event %s: %w", event, err)
	}
	if len(values)%4 != 0 {
		return nil, fmt.Errorf("redis script %s: got %d values, want a multiple of 4", name, len(values))
	}

	out := make([]booking.SlotAvailability, 0, len(values)/4)
	for i := 0; i < len(values); i += 4 {
		a, err := decodeAvailability(name, values[i:i+4])
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}

	slices.SortFunc(out, func(a, b booking.SlotAvailability) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out, nil
}

func decodeAvailability(name string, values []any) (booking.SlotAvailability, error) {
	raw, ok := values[0].(string)
	if !ok {
		return booking.SlotAvailability{}, fmt.Errorf("redis script %s: got %T for a slot, want a string", name, values[0])
	}
	slot, err := decodeSlot(raw)
	if err != nil {
		return booking.SlotAvailability{}, err
	}

	counts := make([]int, 3)
	for i := range counts {
		if counts[i], err = toInt(name, values[i+1]); err != nil {
			return booking.SlotAvailability{}, err
		}
	}
	slot.Capacity = counts[0]
	return booking.SlotAvailability{Slot: slot, Held: counts[1], Sold: counts[2]}, nil
}

// SlotStats implements booking.Store.
func (s *Store) SlotStats(ctx context.Context, event, slot string) (booking.SlotStats, error) {
	if !booking.ValidEventID(event) {
		return booking.SlotStats{}, fmt.Errorf("slot stats: event %q: %w", event, booking.ErrUnknownEvent)
	}

	name := s.scripts.slotStats.name
	values, err := s.runEvent(ctx, s.scripts.slotStats, event, slot)
	if err != nil {
		return booking.SlotStats{}, fmt.Errorf("stats of slot %s: %w", slot, err)
	}
	if len(values) != 3 {
		return booking.SlotStats{}, fmt.Errorf("redis script %s: got %d values, want 3", name, len(values))
	}

	var stats booking.SlotStats
	for i, field := range []*int{&stats.Capacity, &stats.Held, &stats.Sold} {
		if *field, err = toInt(name, values[i]); err != nil {
			return booking.SlotStats{}, err
		}
	}
	return stats, nil
}
