package redisstore

import (
	"context"
	"fmt"

	"foyer/booking"
)

// ExchangeToken implements booking.Store.
func (s *Store) ExchangeToken(ctx context.Context, req booking.SessionRequest) (booking.Session, error) {
	if err := req.Validate(); err != nil {
		return booking.Session{}, err
	}

	sessionID := booking.NewSessionID(req.Event)
	keys := []string{eventKey(req.Event), tokenKey(req.Event, req.TokenID), sessionKey(req.Event, sessionID)}
	values, err := s.run(ctx, s.scripts.exchangeToken, keys,
		req.Room, req.Visitor, sessionID, req.Lifetime.Milliseconds(), millis(req.TokenExpiresAt))
	if err != nil {
		return booking.Session{}, fmt.Errorf("exchange token for event %s: %w", req.Event, err)
	}

	raw, err := oneString(s.scripts.exchangeToken.name, values)
	if err != nil {
		return booking.Session{}, err
	}
	return decodeSession(raw)
}

// GetSession implements booking.Store.
func (s *Store) GetSession(ctx context.Context, id string) (booking.Session, error) {
	event, err := booking.ParseSessionID(id)
	if err != nil {
		return booking.Session{}, err
	}

	values, err := s.run(ctx, s.scripts.getSession, []string{sessionKey(event, id)})
	if err != nil {
		return booking.Session{}, fmt.Errorf("get session %s: %w", id, err)
	}

	raw, err := oneString(s.scripts.getSession.name, values)
	if err != nil {
		return booking.Session{}, err
	}
	return decodeSession(raw)
}
