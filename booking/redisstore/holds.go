package redisstore

import (
	"context"
	"fmt"

	"foyer/booking"
)

// Hold implements booking.Store.
func (s *Store) Hold(ctx context.Context, req booking.HoldRequest) (booking.Hold, error) {
	if err := req.Validate(); err != nil {
		return booking.Hold{}, err
	}
	tickets, quantity, err := req.Counts()
	if err != nil {
		return booking.Hold{}, err
	}
	if tickets == nil {
		tickets = map[string]int{}
	}
	ticketsJSON, err := encode(tickets)
	if err != nil {
		return booking.Hold{}, err
	}

	holdID := booking.NewHoldID(req.Event)
	values, err := s.runEvent(ctx, s.scripts.hold, req.Event, holdID, req.Slot, req.Visitor, quantity, ticketsJSON)
	if err != nil {
		return booking.Hold{}, fmt.Errorf("hold %d places in slot %s: %w", quantity, req.Slot, err)
	}
	return s.decodeHoldReply(s.scripts.hold.name, values)
}

// ExtendHold implements booking.Store.
func (s *Store) ExtendHold(ctx context.Context, holdID, visitor string) (booking.Hold, error) {
	event, err := booking.ParseHoldID(holdID)
	if err != nil {
		return booking.Hold{}, err
	}

	values, err := s.runEvent(ctx, s.scripts.extendHold, event, holdID, visitor)
	if err != nil {
		return booking.Hold{}, fmt.Errorf("extend hold %s: %w", holdID, err)
	}
	return s.decodeHoldReply(s.scripts.extendHold.name, values)
}

// ReleaseHold implements booking.Store.
func (s *Store) ReleaseHold(ctx context.Context, holdID, visitor string) error {
	event, err := booking.ParseHoldID(holdID)
	if err != nil {
		return err
	}

	if _, err := s.runEvent(ctx, s.scripts.releaseHold, event, holdID, visitor); err != nil {
		return fmt.Errorf("release hold %s: %w", holdID, err)
	}
	return nil
}

// GetHold implements booking.Store.
func (s *Store) GetHold(ctx context.Context, holdID string) (booking.Hold, error) {
	event, err := booking.ParseHoldID(holdID)
	if err != nil {
		return booking.Hold{}, err
	}

	values, err := s.runEvent(ctx, s.scripts.getHold, event, holdID)
	if err != nil {
		return booking.Hold{}, fmt.Errorf("get hold %s: %w", holdID, err)
	}
	return s.decodeHoldReply(s.scripts.getHold.name, values)
}

func (s *Store) decodeHoldReply(name string, values []any) (booking.Hold, error) {
	raw, err := oneString(name, values)
	if err != nil {
		return booking.Hold{}, err
	}
	return decodeHold(raw)
}
