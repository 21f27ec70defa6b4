package memstore

import (
	"context"
	"time"

	"foyer/waitroom"
)

// RevokeSession implements waitroom.Store. Records whose expiry has passed
// are dropped at each call, which bounds them by the logouts of one
// session lifetime.
func (s *Store) RevokeSession(ctx context.Context, id string, expires time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := waitroom.ValidateSessionID(id); err != nil {
		return err
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	now := s.now()
	for revoked, until := range s.revoked {
		if !now.Before(until) {
			delete(s.revoked, revoked)
		}
	}
	if now.Before(expires) {
		s.revoked[id] = expires
	}
	return nil
}

// SessionRevoked implements waitroom.Store.
func (s *Store) SessionRevoked(ctx context.Context, id string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if err := waitroom.ValidateSessionID(id); err != nil {
		return false, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	until, ok := s.revoked[id]
	return ok && s.now().Before(until), nil
}
