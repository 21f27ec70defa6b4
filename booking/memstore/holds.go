package memstore

import (
	"context"
	"fmt"
	"time"

	"foyer/booking"
)

// Hold implements booking.Store.
func (s *Store) Hold(ctx context.Context, req booking.HoldRequest) (booking.Hold, error) {
	if err := ctx.Err(); err != nil {
		return booking.Hold{}, err
	}
	if err := req.Validate(); err != nil {
		return booking.Hold{}, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	now := s.clock()
	ev, err := s.event(req.Event)
	if err != nil {
		return booking.Hold{}, err
	}
	slot, err := ev.slot(req.Slot)
	if err != nil {
		return booking.Hold{}, err
	}
	tickets, quantity, err := ev.event.ResolveTickets(req)
	if err != nil {
		return booking.Hold{}, err
	}
	if !ev.event.OnSale(now) {
		return booking.Hold{}, fmt.Errorf("hold in event %s: %w", req.Event, booking.ErrNotOnSale)
	}
	if !now.Before(slot.slot.Start) {
		return booking.Hold{}, fmt.Errorf("hold slot %s: %w", req.Slot, booking.ErrSlotStarted)
	}

	ev.reclaim(now)
	ev.purgeHolds(now)

	if err := checkVisitorLimits(ev, req.Visitor, quantity); err != nil {
		return booking.Hold{}, err
	}
	if free := slot.slot.Capacity - slot.sold - slot.held; free < quantity {
		return booking.Hold{}, fmt.Errorf("hold %d places in slot %s: %d free: %w", quantity, req.Slot, free, booking.ErrSoldOut)
	}

	hold := booking.Hold{
		ID:        booking.NewHoldID(req.Event),
		Event:     req.Event,
		Slot:      req.Slot,
		Visitor:   req.Visitor,
		Tickets:   tickets,
		Quantity:  quantity,
		CreatedAt: now,
		ExpiresAt: now.Add(ev.event.HoldLifetime),
		State:     booking.HoldActive,
	}
	ev.holds[hold.ID] = &holdRecord{hold: hold}
	ev.expiry.add(hold.ExpiresAt, hold.ID)

	slot.held += quantity
	v := ev.visitor(req.Visitor)
	v.holds++
	v.held += quantity

	return holdView(hold, now), nil
}

func checkVisitorLimits(ev *eventState, visitor string, quantity int) error {
	v := ev.visitors[visitor]
	if v == nil {
		v = &visitorState{}
	}

	if v.holds >= ev.event.MaxHoldsPerVisitor {
		return fmt.Errorf("hold: visitor already has %d active holds, the maximum allowed: %w", v.holds, booking.ErrLimitExceeded)
	}
	if total := v.sold + v.held + quantity; total > ev.event.MaxTicketsPerVisitor {
		return fmt.Errorf("hold: visitor would have %d tickets, above the maximum of %d: %w", total, ev.event.MaxTicketsPerVisitor, booking.ErrLimitExceeded)
	}
	return nil
}

// ExtendHold implements booking.Store.
func (s *Store) ExtendHold(ctx context.Context, holdID, visitor string) (booking.Hold, error) {
	if err := ctx.Err(); err != nil {
		return booking.Hold{}, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	now := s.clock()
	ev, record, err := s.visitorHold(holdID, visitor, now)
	if err != nil {
		return booking.Hold{}, err
	}

	hold := &record.hold
	switch {
	case hold.State == booking.HoldConfirmed:
		return booking.Hold{}, fmt.Errorf("extend hold %s: %w", holdID, booking.ErrAlreadyConfirmed)
	case hold.State != booking.HoldActive:
		return booking.Hold{}, fmt.Errorf("extend hold %s: %w", holdID, booking.ErrHoldExpired)
	case hold.Extensions >= ev.event.MaxHoldExtensions:
		return booking.Hold{}, fmt.Errorf("extend hold %s: already extended %d times, the maximum: %w", holdID, hold.Extensions, booking.ErrLimitExceeded)
	}

	hold.Extensions++
	hold.ExpiresAt = now.Add(ev.event.HoldLifetime)
	ev.expiry.add(hold.ExpiresAt, hold.ID)
	return holdView(*hold, now), nil
}

// ReleaseHold implements booking.Store.
func (s *Store) ReleaseHold(ctx context.Context, holdID, visitor string) error {
	if err := ctx.Err(); err != nil {
		return err
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	now := s.clock()
	ev, record, err := s.visitorHold(holdID, visitor, now)
	if err != nil {
		return err
	}

	switch record.hold.State {
	case booking.HoldConfirmed:
		return fmt.Errorf("release hold %s: %w", holdID, booking.ErrAlreadyConfirmed)
	case booking.HoldActive:
		ev.endHold(record, booking.HoldReleased, now)
	}
	return nil
}

// visitorHold finds a hold after reclaiming expired ones, and checks that it
// belongs to the visitor. The caller must hold s.mu.
func (s *Store) visitorHold(holdID, visitor string, now time.Time) (*eventState, *holdRecord, error) {
	ev, err := s.holdEvent(holdID)
	if err != nil {
		return nil, nil, err
	}

	ev.reclaim(now)
	ev.purgeHolds(now)

	record, ok := ev.holds[holdID]
	if !ok {
		return nil, nil, fmt.Errorf("hold %s: %w", holdID, booking.ErrHoldNotFound)
	}
	if record.hold.Visitor != visitor {
		return nil, nil, fmt.Errorf("hold %s: %w", holdID, booking.ErrNotYourHold)
	}
	return ev, record, nil
}

// GetHold implements booking.Store.
func (s *Store) GetHold(ctx context.Context, holdID string) (booking.Hold, error) {
	if err := ctx.Err(); err != nil {
		return booking.Hold{}, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	now := s.clock()
	ev, err := s.holdEvent(holdID)
	if err != nil {
		return booking.Hold{}, err
	}
	ev.reclaim(now)
	ev.purgeHolds(now)

	record, ok := ev.holds[holdID]
	if !ok {
		return booking.Hold{}, fmt.Errorf("get hold %s: %w", holdID, booking.ErrHoldNotFound)
	}
	return holdView(record.hold, now), nil
}

// holdEvent returns the event of a hold id. An unknown event means that the
// hold cannot exist, so it returns ErrHoldNotFound. The caller must hold s.mu.
func (s *Store) holdEvent(holdID string) (*eventState, error) {
	eventID, err := booking.ParseHoldID(holdID)
	if err != nil {
		return nil, err
	}

	ev, ok := s.events[eventID]
	if !ok {
		return nil, fmt.Errorf("hold %s: %w", holdID, booking.ErrHoldNotFound)
	}
	return ev, nil
}
