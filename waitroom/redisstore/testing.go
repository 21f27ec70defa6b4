package redisstore

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// SetLastSeenForTest records the visitor's last heartbeat as ago before the
// Redis clock's now, as if the visitor had stopped polling then. It is for
// tests only: Redis time cannot be moved, and the heartbeat grace is at least
// 37 seconds, so tests of abandonment age one visitor instead of waiting.
// It writes the :seen entry whether or not the visitor has a place.
func (s *Store) SetLastSeenForTest(ctx context.Context, room, visitor string, ago time.Duration) error {
	now, err := s.client.Time(ctx).Result()
	if err != nil {
		return wrapError(roomOp("set last seen in", room), err)
	}

	seen := now.Add(-ago).UnixMicro()
	if err := s.client.ZAdd(ctx, roomKeys(room)[keySeen], redis.Z{Score: float64(seen), Member: visitor}).Err(); err != nil {
		return wrapError(roomOp("set last seen in", room), err)
	}
	return nil
}
