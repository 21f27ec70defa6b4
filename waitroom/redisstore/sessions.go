package redisstore

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"foyer/waitroom"
)

// revokedSessionPrefix starts the key of each organizer session ended at
// logout. The key expires with the session, on Redis's clock.
const revokedSessionPrefix = "foyer:session:revoked:"

// RevokeSession implements waitroom.Store.
func (s *Store) RevokeSession(ctx context.Context, id string, expires time.Time) error {
	if err := waitroom.ValidateSessionID(id); err != nil {
		return err
	}
	if !expires.After(time.Now()) {
		return nil
	}
	err := s.client.Do(ctx, "SET", revokedSessionPrefix+id, "1", "PXAT", expires.UnixMilli()).Err()
	if err != nil {
		return wrapError("revoke organizer session", err)
	}
	return nil
}

// SessionRevoked implements waitroom.Store.
func (s *Store) SessionRevoked(ctx context.Context, id string) (bool, error) {
	if err := waitroom.ValidateSessionID(id); err != nil {
		return false, err
	}
	err := s.client.Get(ctx, revokedSessionPrefix+id).Err()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, wrapError("check organizer session", err)
	}
	return true, nil
}
