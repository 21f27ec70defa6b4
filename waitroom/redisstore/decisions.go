package redisstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/redis/go-redis/v9"

	"foyer/waitroom"
)

// AppendDecision implements waitroom.Store.
func (s *Store) AppendDecision(ctx context.Context, room string, d waitroom.Decision) error {
	record, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("append decision to room %q: %w", room, err)
	}

	_, err = s.run(ctx, "append decision to", appendDecisionScript, room, string(record), waitroom.MaxDecisions)
	return err
}

// Decisions implements waitroom.Store. It reads the list with LRANGE,
// together with a check that the room exists, in one MULTI/EXEC.
func (s *Store) Decisions(ctx context.Context, room string, limit int) ([]waitroom.Decision, error) {
	if !waitroom.ValidRoomID(room) {
		return nil, fmt.Errorf("read decisions of room %q: %w", room, waitroom.ErrRoomNotFound)
	}
	keys := roomKeys(room)
	limit = min(limit, waitroom.MaxDecisions)

	pipe := s.client.TxPipeline()
	exists := pipe.Exists(ctx, keys[keyMeta])
	var entries *redis.StringSliceCmd
	if limit > 0 {
		entries = pipe.LRange(ctx, keys[keyDecisions], 0, int64(limit)-1)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, wrapError(roomOp("read decisions of", room), err)
	}

	if exists.Val() == 0 {
		return nil, fmt.Errorf("read decisions of room %q: %w", room, waitroom.ErrRoomNotFound)
	}
	out := []waitroom.Decision{}
	if entries == nil {
		return out, nil
	}
	for _, raw := range entries.Val() {
		var d waitroom.Decision
		if err := json.Unmarshal([]byte(raw), &d); err != nil {
			return nil, fmt.Errorf("read decisions of room %q: invalid entry %q: %w", room, raw, err)
		}
		out = append(out, d)
	}
	return out, nil
}
