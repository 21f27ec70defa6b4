// Package memstore is a booking.Store that keeps everything in process
// memory behind one mutex. It serves a single Foyer process, tests and
// small events, and everything is lost when the process stops.
package memstore

import (
	"context"
	"fmt"
	"sync"
	"time"

	"foyer/booking"
)

var _ booking.Store = (*Store)(nil)

// Options configure a Store. The zero value uses the system clock.
type Options struct {
	// Now is the store's clock. Tests inject a clock they can move, and nil
	// means time.Now.
	Now func() time.Time
	// HoldRetention is how long ended holds stay findable. Zero means
	// booking.HoldRetention. Benchmarks shorten it to bound memory.
	HoldRetention time.Duration
}

// Store is an in-memory booking.Store. It is safe for concurrent use, and
// every method runs under one mutex, so each is one atomic step.
type Store struct {
	now           func() time.Time
	holdRetention time.Duration

	mu       sync.Mutex
	events   map[string]*eventState
	sessions map[string]booking.Session
	// usedTokens maps event and token id to the time the id may be forgotten.
	usedTokens map[string]time.Time
	// forget orders session ids and used-token keys by when they go.
	forget deadlines
	stats  map[time.Time]map[string]*booking.OpStats
}

// New returns an empty Store.
func New(opts Options) *Store {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	retention := opts.HoldRetention
	if retention == 0 {
		retention = booking.HoldRetention
	}
	return &Store{
		now:           now,
		holdRetention: retention,
		events:        make(map[string]*eventState),
		sessions:      make(map[string]booking.Session),
		usedTokens:    make(map[string]time.Time),
		stats:         make(map[time.Time]map[string]*booking.OpStats),
	}
}

// clock returns the store's time in UTC, truncated to milliseconds as in
// the Redis store. The caller must hold s.mu.
func (s *Store) clock() time.Time {
	return s.now().UTC().Truncate(time.Millisecond)
}

// CreateEvent implements booking.Store.
func (s *Store) CreateEvent(ctx context.Context, event booking.Event, slots []booking.Slot) error {
	if err := ctx.Err(); err != nil {
		return err
	}

	event, err := event.Normalize()
	if err != nil {
		return err
	}
	slots, err = booking.NormalizeSlots(slots)
	if err != nil {
		return fmt.Errorf("create event %s: %w", event.ID, err)
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	if _, ok := s.events[event.ID]; ok {
		return fmt.Errorf("create event %s: %w", event.ID, booking.ErrEventExists)
	}
	s.events[event.ID] = newEventState(event, slots, s.holdRetention)
	return nil
}

// Event implements booking.Store.
func (s *Store) Event(ctx context.Context, id string) (booking.Event, error) {
	if err := ctx.Err(); err != nil {
		return booking.Event{}, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	ev, err := s.event(id)
	if err != nil {
		return booking.Event{}, err
	}
	event := ev.event
	event.TicketTypes = append([]booking.TicketType(nil), event.TicketTypes...)
	return event, nil
}

// UpdateEvent implements booking.Store.
func (s *Store) UpdateEvent(ctx context.Context, event booking.Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	event, err := event.Normalize()
	if err != nil {
		return err
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	ev, err := s.event(event.ID)
	if err != nil {
		return err
	}
	if err := booking.CheckEventChange(ev.event, event); err != nil {
		return err
	}
	ev.event = event
	return nil
}

// AddSlots implements booking.Store.
func (s *Store) AddSlots(ctx context.Context, event string, slots []booking.Slot) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(slots) == 0 {
		return fmt.Errorf("add slots to event %s: %w: no slot given", event, booking.ErrInvalidSlot)
	}
	slots, err := booking.NormalizeSlots(slots)
	if err != nil {
		return fmt.Errorf("add slots to event %s: %w", event, err)
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	ev, err := s.event(event)
	if err != nil {
		return err
	}
	for _, slot := range slots {
		if _, taken := ev.slots[slot.ID]; taken {
			return fmt.Errorf("add slots to event %s: slot %q: %w: id is taken", event, slot.ID, booking.ErrInvalidSlot)
		}
	}
	ev.addSlots(slots)
	return nil
}

// SetCapacity implements booking.Store.
func (s *Store) SetCapacity(ctx context.Context, event, slot string, capacity int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if capacity < 0 || capacity > booking.MaxCapacity {
		return fmt.Errorf("set capacity of slot %s: capacity %d must be between 0 and %d: %w", slot, capacity, booking.MaxCapacity, booking.ErrInvalidSlot)
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	ev, err := s.event(event)
	if err != nil {
		return err
	}
	state, err := ev.slot(slot)
	if err != nil {
		return err
	}

	ev.reclaim(s.clock())
	if soldAndHeld := state.sold + state.held; capacity < soldAndHeld {
		return fmt.Errorf("set capacity of slot %s to %d: %d places are sold or held: %w", slot, capacity, soldAndHeld, booking.ErrCapacityTooLow)
	}
	state.slot.Capacity = capacity
	return nil
}

// Availability implements booking.Store.
func (s *Store) Availability(ctx context.Context, event string) ([]booking.SlotAvailability, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	ev, err := s.event(event)
	if err != nil {
		return nil, err
	}
	ev.reclaim(s.clock())

	out := make([]booking.SlotAvailability, 0, len(ev.slotOrder))
	for _, id := range ev.slotOrder {
		state := ev.slots[id]
		out = append(out, booking.SlotAvailability{Slot: state.slot, Held: state.held, Sold: state.sold})
	}
	return out, nil
}

// SlotStats implements booking.Store.
func (s *Store) SlotStats(ctx context.Context, event, slot string) (booking.SlotStats, error) {
	if err := ctx.Err(); err != nil {
		return booking.SlotStats{}, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	ev, err := s.event(event)
	if err != nil {
		return booking.SlotStats{}, err
	}
	state, err := ev.slot(slot)
	if err != nil {
		return booking.SlotStats{}, err
	}

	ev.reclaim(s.clock())
	return booking.SlotStats{Capacity: state.slot.Capacity, Held: state.held, Sold: state.sold}, nil
}

// event returns an event's state. The caller must hold s.mu.
func (s *Store) event(id string) (*eventState, error) {
	ev, ok := s.events[id]
	if !ok {
		return nil, fmt.Errorf("event %q: %w", id, booking.ErrUnknownEvent)
	}
	return ev, nil
}
