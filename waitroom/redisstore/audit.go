package redisstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"foyer/waitroom"
)

// auditRecord is an audit entry as the :audit list keeps it, after the
// time prefix.
type auditRecord struct {
	Actor  string `json:"actor"`
	Action string `json:"action"`
	Detail string `json:"detail"`
}

// AppendAudit implements waitroom.Store.
func (s *Store) AppendAudit(ctx context.Context, room string, e waitroom.AuditEntry) error {
	if err := waitroom.ValidateAudit(e); err != nil {
		return err
	}
	record, err := json.Marshal(auditRecord{Actor: e.Actor, Action: e.Action, Detail: e.Detail})
	if err != nil {
		return fmt.Errorf("append audit to room %q: %w", room, err)
	}

	_, err = s.run(ctx, "append audit to", appendAuditScript, room, string(record), waitroom.MaxAuditEntries)
	return err
}

// AuditLog implements waitroom.Store. It reads the list with LRANGE,
// together with a check that the room exists, in one MULTI/EXEC.
func (s *Store) AuditLog(ctx context.Context, room string, limit int) ([]waitroom.AuditEntry, error) {
	if !waitroom.ValidRoomID(room) {
		return nil, fmt.Errorf("read audit log of room %q: %w", room, waitroom.ErrRoomNotFound)
	}
	keys := roomKeys(room)
	limit = min(limit, waitroom.MaxAuditEntries)

	pipe := s.client.TxPipeline()
	exists := pipe.Exists(ctx, keys[keyMeta])
	var entries *redis.StringSliceCmd
	if limit > 0 {
		entries = pipe.LRange(ctx, keys[keyAudit], 0, int64(limit)-1)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, wrapError(roomOp("read audit log of", room), err)
	}

	if exists.Val() == 0 {
		return nil, fmt.Errorf("read audit log of room %q: %w", room, waitroom.ErrRoomNotFound)
	}
	out := []waitroom.AuditEntry{}
	if entries == nil {
		return out, nil
	}
	for _, raw := range entries.Val() {
		e, err := parseAuditEntry(raw)
		if err != nil {
			return nil, fmt.Errorf("read audit log of room %q: %w", room, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// parseAuditEntry decodes "at_us:<JSON>".
func parseAuditEntry(raw string) (waitroom.AuditEntry, error) {
	atText, body, ok := strings.Cut(raw, ":")
	at, err := strconv.ParseInt(atText, 10, 64)
	if !ok || err != nil {
		return waitroom.AuditEntry{}, fmt.Errorf("invalid audit entry %q: want at_us:<JSON>", raw)
	}
	var record auditRecord
	if err := json.Unmarshal([]byte(body), &record); err != nil {
		return waitroom.AuditEntry{}, fmt.Errorf("invalid audit entry %q: %w", raw, err)
	}
	return waitroom.AuditEntry{At: fromMicros(at), Actor: record.Actor, Action: record.Action, Detail: record.Detail}, nil
}
