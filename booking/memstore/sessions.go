package memstore

import (
	"context"
	"fmt"
	"time"

	"foyer/booking"
)

// ExchangeToken implements booking.Store.
func (s *Store) ExchangeToken(ctx context.Context, req booking.SessionRequest) (booking.Session, error) {
	if err := ctx.Err(); err != nil {
		return booking.Session{}, err
	}
	if err := req.Validate(); err != nil {
		return booking.Session{}, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	now := s.clock()
	s.forgetDue()

	ev, err := s.event(req.Event)
	if err != nil {
		return booking.Session{}, err
	}
	if ev.event.Room != req.Room {
		return booking.Session{}, fmt.Errorf("exchange token for event %s: room %q does not guard it: %w", req.Event, req.Room, booking.ErrWrongRoom)
	}

	tokenKey := req.Event + "\x00" + req.TokenID
	if _, used := s.usedTokens[tokenKey]; used {
		return booking.Session{}, fmt.Errorf("exchange token for event %s: %w", req.Event, booking.ErrTokenUsed)
	}

	session := booking.Session{
		ID:        booking.NewSessionID(req.Event),
		Visitor:   req.Visitor,
		Room:      req.Room,
		Event:     req.Event,
		CreatedAt: now,
		ExpiresAt: now.Add(req.Lifetime.Truncate(time.Millisecond)),
	}
	s.sessions[session.ID] = session
	s.forget.add(session.ExpiresAt, session.ID)

	// The token id must be remembered for as long as the token could
	// verify, and at least as long as the session it created.
	forgetAt := session.ExpiresAt
	if tokenExpiry := req.TokenExpiresAt.UTC().Truncate(time.Millisecond); tokenExpiry.After(forgetAt) {
		forgetAt = tokenExpiry
	}
	s.usedTokens[tokenKey] = forgetAt
	s.forget.add(forgetAt, tokenKey)
	return session, nil
}

// GetSession implements booking.Store.
func (s *Store) GetSession(ctx context.Context, id string) (booking.Session, error) {
	if err := ctx.Err(); err != nil {
		return booking.Session{}, err
	}
	if _, err := booking.ParseSessionID(id); err != nil {
		return booking.Session{}, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	s.forgetDue()
	session, ok := s.sessions[id]
	if !ok {
		return booking.Session{}, fmt.Errorf("get session %s: %w", id, booking.ErrSessionNotFound)
	}
	return session, nil
}

// forgetDue deletes sessions and used-token ids whose time has come. The
// caller holds s.mu.
func (s *Store) forgetDue() {
	now := s.clock()
	for {
		due, ok := s.forget.popDue(now)
		if !ok {
			return
		}

		if session, ok := s.sessions[due.id]; ok && !session.ExpiresAt.After(due.at) {
			delete(s.sessions, due.id)
		}
		if forgetAt, ok := s.usedTokens[due.id]; ok && !forgetAt.After(due.at) {
			delete(s.usedTokens, due.id)
		}
	}
}
