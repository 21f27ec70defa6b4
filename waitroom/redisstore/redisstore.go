// Package redisstore is the production waitroom.Store, on Redis.
//
// Every room operation is one Lua script that reads the time with Redis
// TIME, so any number of edges share one clock, one token bucket and one
// line per room. The store behaves as memstore does and passes the same
// conformance suite, waitroom/storetest.
//
// # Keys
//
// All keys of a room start with "foyer:room:{<room id>}", so they share a
// hash tag and every script touches one Redis Cluster slot:
//
//   - :meta, a hash of the settings, settings_version and the counters
//     next_seq, head, admitted_total, abandoned_total, skip_ratio and the
//     token bucket (tokens, bucket_us);
//   - :queue, a sorted set of waiting visitors scored by sequence number;
//   - :pre, a sorted set of pre-queue visitors scored by
//     waitroom.PrequeueScore of their key;
//   - :seen, a sorted set of visitors scored by their last heartbeat;
//   - :admitted, a hash of admitted visitors to "sequence:admitted_us";
//   - :active, a sorted set of active admitted visitors scored by deadline;
//   - :skipped, a hash of visitors skipped as abandoned to their sequence;
//   - :log, the admission log, a list of "sequence:admitted_us:visitor";
//   - :audit, the audit log, a list of "at_us:<JSON of actor, action and
//     detail>", newest first and capped at waitroom.MaxAuditEntries. It
//     survives ResetRoom;
//   - :ctl, a hash of the admission controller's state in the fields of
//     waitroom.ControllerState.Fields, replaced only by compare-and-set on
//     its version;
//   - :decisions, the controller's decision history, a list of
//     waitroom.Decision as JSON, newest first and capped at
//     waitroom.MaxDecisions. ResetRoom deletes it with the state.
//
// The set "foyer:rooms" holds the ids of all rooms. It is written by its own
// command after a room is created, never inside a room's script, so that
// scripts stay within one slot.
//
// Times are microseconds since the Unix epoch, so OpensAt and the durations
// of a room's settings are kept to the microsecond.
//
// NOTE: the seen, admitted and skipped entries and the admission log are
// kept until ResetRoom, as in memstore, so a room's memory grows with
// everyone who ever joined it, not only with those still waiting.
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"foyer/waitroom"
)

var _ waitroom.Store = (*Store)(nil)

// roomsKey is the set of all room ids.
const roomsKey = "foyer:rooms"

// Indexes into the keys that roomKeys returns, in the order the scripts
// expect them (see lua/common.lua).
const (
	keyMeta = iota
	keyQueue
	keyPrequeue
	keySeen
	keyAdmitted
	keyActive
	keySkipped
	keyLog
	keyAudit
	keyController
	keyDecisions
)

// roomKeys returns the room's keys in the order the scripts take them.
func roomKeys(room string) []string {
	prefix := "foyer:room:{" + room + "}"
	return []string{
		prefix + ":meta",
		prefix + ":queue",
		prefix + ":pre",
		prefix + ":seen",
		prefix + ":admitted",
		prefix + ":active",
		prefix + ":skipped",
		prefix + ":log",
		prefix + ":audit",
		prefix + ":ctl",
		prefix + ":decisions",
	}
}

// maxUpdateAttempts bounds how often UpdateRoom reads the settings again
// after another writer changed them between its read and its write.
const maxUpdateAttempts = 50

// Store is a waitroom.Store on Redis. It is safe for concurrent use, and any
// number of Stores in any number of processes may share one Redis. The zero
// value is not usable; call New.
type Store struct {
	client redis.UniversalClient
}

// New returns a store that sends its commands through client. The store does
// not close the client. Build the client with NewClient, or with timeouts as
// short as NewClient's, so that a lost Redis fails calls quickly.
//
// NOTE: go-redis sends a command again after some network errors, up to the
// client's MaxRetries, even when the first one reached Redis and only its
// reply was lost. The second run then reports only what it did itself: a
// repeated Join returns Created false, a repeated CreateRoom returns
// ErrRoomExists, and the admissions of a lost Admit reply are in the
// admission log only.
func New(client redis.UniversalClient) *Store {
	return &Store{client: client}
}

// run runs a room script and wraps its error for op. A room id that
// ValidRoomID rejects cannot name a room, and is not sent to Redis, where
// its braces could move the keys out of the room's hash tag.
func (s *Store) run(ctx context.Context, op string, script *redis.Script, room string, args ...any) (any, error) {
	if !waitroom.ValidRoomID(room) {
		return nil, fmt.Errorf("%s room %q: %w", op, room, waitroom.ErrRoomNotFound)
	}
	reply, err := script.Run(ctx, s.client, roomKeys(room), args...).Result()
	if err != nil {
		return nil, wrapError(roomOp(op, room), err)
	}
	return reply, nil
}

// addToRooms records the room id in the set of all rooms.
func (s *Store) addToRooms(ctx context.Context, op, room string) error {
	if err := s.client.SAdd(ctx, roomsKey, room).Err(); err != nil {
		return wrapError(roomOp(op, room), err)
	}
	return nil
}

// SeedRoom implements waitroom.Store. Each setting is written with HSETNX,
// so a setting that the store has already, for example one an organizer
// changed, keeps its value.
func (s *Store) SeedRoom(ctx context.Context, settings waitroom.Settings) (waitroom.Settings, error) {
	settings = storedSettings(settings.WithDefaults())
	if err := settings.Validate(); err != nil {
		return waitroom.Settings{}, err
	}

	reply, err := s.run(ctx, "seed", seedScript, settings.ID, encodeSettings(settings)...)
	if err != nil {
		return waitroom.Settings{}, err
	}

	if err := s.addToRooms(ctx, "seed", settings.ID); err != nil {
		return waitroom.Settings{}, err
	}

	meta, err := stringMap(reply)
	if err != nil {
		return waitroom.Settings{}, fmt.Errorf("seed room %q: %w", settings.ID, err)
	}
	stored, err := decodeSettings(meta)
	if err != nil {
		return waitroom.Settings{}, fmt.Errorf("seed room %q: %w", settings.ID, err)
	}
	return stored, nil
}

// CreateRoom implements waitroom.Store.
func (s *Store) CreateRoom(ctx context.Context, settings waitroom.Settings) error {
	settings = storedSettings(settings.WithDefaults())
	if err := settings.Validate(); err != nil {
		return err
	}

	_, err := s.run(ctx, "create", createScript, settings.ID, encodeSettings(settings)...)
	if errors.Is(err, waitroom.ErrRoomExists) {
		// An earlier call may have created the room and failed before adding
		// it to the set of rooms. Adding it again heals that. Its error is
		// dropped because the caller learns that the room exists either way,
		// and the next CreateRoom or SeedRoom tries again.
		_ = s.addToRooms(ctx, "create", settings.ID)
		return err
	}
	if err != nil {
		return err
	}

	return s.addToRooms(ctx, "create", settings.ID)
}

// UpdateRoom implements waitroom.Store. It reads the settings, applies and
// validates the patch in Go, and writes the result with a script that checks
// that the settings did not change since the read. When they did, it starts
// over, at most maxUpdateAttempts times, and then returns an error wrapping
// waitroom.ErrUnavailable.
func (s *Store) UpdateRoom(ctx context.Context, room string, p waitroom.Patch) (waitroom.Settings, error) {
	if !waitroom.ValidRoomID(room) {
		return waitroom.Settings{}, fmt.Errorf("update room %q: %w", room, waitroom.ErrRoomNotFound)
	}
	metaKey := roomKeys(room)[keyMeta]

	for range maxUpdateAttempts {
		meta, err := s.client.HGetAll(ctx, metaKey).Result()
		if err != nil {
			return waitroom.Settings{}, wrapError(roomOp("update", room), err)
		}
		if len(meta) == 0 {
			return waitroom.Settings{}, fmt.Errorf("update room %q: %w", room, waitroom.ErrRoomNotFound)
		}
		current, err := decodeSettings(meta)
		if err != nil {
			return waitroom.Settings{}, fmt.Errorf("update room %q: %w", room, err)
		}

		next := storedSettings(p.Apply(current))
		if err := next.Validate(); err != nil {
			return waitroom.Settings{}, err
		}

		version := meta[fieldSettingsVersion]
		if version == "" {
			version = "0"
		}
		args := append([]any{version}, encodeSettings(next)...)
		reply, err := s.run(ctx, "update", updateScript, room, args...)
		if err != nil {
			return waitroom.Settings{}, err
		}
		if written, _ := reply.(int64); written == 1 {
			return next, nil
		}
	}
	return waitroom.Settings{}, fmt.Errorf("update room %q: %w: the settings changed %d times while being updated",
		room, waitroom.ErrUnavailable, maxUpdateAttempts)
}

// ResetRoom implements waitroom.Store.
func (s *Store) ResetRoom(ctx context.Context, room string) error {
	_, err := s.run(ctx, "reset", resetScript, room)
	return err
}

// Rooms implements waitroom.Store. The ids are sorted.
func (s *Store) Rooms(ctx context.Context) ([]string, error) {
	ids, err := s.client.SMembers(ctx, roomsKey).Result()
	if err != nil {
		return nil, wrapError("list rooms", err)
	}
	slices.Sort(ids)
	return ids, nil
}

// Snapshot implements waitroom.Store.
func (s *Store) Snapshot(ctx context.Context, room string) (waitroom.Snapshot, error) {
	reply, err := s.run(ctx, "snapshot", snapshotScript, room)
	if err != nil {
		return waitroom.Snapshot{}, err
	}

	snap, err := parseSnapshot(reply)
	if err != nil {
		return waitroom.Snapshot{}, fmt.Errorf("snapshot room %q: %w", room, err)
	}
	return snap, nil
}

func parseSnapshot(reply any) (waitroom.Snapshot, error) {
	r := replyReader{values: asSlice(reply)}
	now := r.int()
	waiting := r.int()
	prequeue := r.int()
	active := r.int()
	meta, err := stringMap(r.next())
	if err := errors.Join(r.err, err); err != nil {
		return waitroom.Snapshot{}, err
	}

	settings, err := decodeSettings(meta)
	if err != nil {
		return waitroom.Snapshot{}, err
	}
	d := decoder{meta: meta}
	snap := waitroom.Snapshot{
		Settings:  settings,
		Now:       fromMicros(now),
		Head:      d.int("head"),
		Tail:      d.int("next_seq"),
		Waiting:   waiting,
		Prequeue:  prequeue,
		Active:    active,
		Admitted:  d.int("admitted_total"),
		Abandoned: d.int("abandoned_total"),
		SkipRatio: d.float("skip_ratio"),
	}
	return snap, d.err
}

// Join implements waitroom.Store.
func (s *Store) Join(ctx context.Context, room, visitor string, prequeueKey uint64) (waitroom.Place, error) {
	score := strconv.FormatFloat(waitroom.PrequeueScore(prequeueKey), 'f', -1, 64)
	reply, err := s.run(ctx, "join", joinScript, room, visitor, score)
	if err != nil {
		return waitroom.Place{}, err
	}
	return parsePlace(visitor, reply)
}

// Position implements waitroom.Store.
func (s *Store) Position(ctx context.Context, room, visitor string) (waitroom.Place, error) {
	reply, err := s.run(ctx, "position in", positionScript, room, visitor)
	if err != nil {
		return waitroom.Place{}, err
	}
	return parsePlace(visitor, reply)
}

// parsePlace decodes a place as lua/common.lua's place_reply encodes it.
func parsePlace(visitor string, reply any) (waitroom.Place, error) {
	r := replyReader{values: asSlice(reply)}
	place := waitroom.Place{
		Visitor:    visitor,
		State:      waitroom.VisitorState(r.string()),
		Sequence:   r.int(),
		Ahead:      r.int(),
		AdmittedAt: fromMicros(r.int()),
		Deadline:   fromMicros(r.int()),
		Created:    r.int() == 1,
	}
	if r.err != nil {
		return waitroom.Place{}, fmt.Errorf("read place of visitor: %w", r.err)
	}
	return place, nil
}

// Heartbeat implements waitroom.Store. All visitors go to Redis in one
// script call.
func (s *Store) Heartbeat(ctx context.Context, room string, visitors []string) error {
	args := make([]any, len(visitors))
	for i, v := range visitors {
		args[i] = v
	}
	_, err := s.run(ctx, "heartbeat in", heartbeatScript, room, args...)
	return err
}

// Admit implements waitroom.Store.
func (s *Store) Admit(ctx context.Context, room string, limits waitroom.AdmitLimits) (waitroom.AdmitResult, error) {
	reply, err := s.run(ctx, "admit to", admitScript, room, limits.MaxAdmit, limits.MaxSkip)
	if err != nil {
		return waitroom.AdmitResult{}, err
	}

	res, err := parseAdmitResult(reply)
	if err != nil {
		return waitroom.AdmitResult{}, fmt.Errorf("admit to room %q: %w", room, err)
	}
	return res, nil
}

func parseAdmitResult(reply any) (waitroom.AdmitResult, error) {
	r := replyReader{values: asSlice(reply)}
	res := waitroom.AdmitResult{
		State:    waitroom.RoomState(r.string()),
		Tokens:   r.float(),
		Promoted: int(r.int()),
		Expired:  int(r.int()),
		Skipped:  int(r.int()),
	}
	at := fromMicros(r.int())
	for r.err == nil && r.more() {
		res.Admitted = append(res.Admitted, waitroom.Admission{
			Visitor:    r.string(),
			Sequence:   r.int(),
			AdmittedAt: at,
		})
	}
	return res, r.err
}

// AdmissionLog implements waitroom.Store. It reads the log with LRANGE,
// together with a check that the room exists, in one MULTI/EXEC.
func (s *Store) AdmissionLog(ctx context.Context, room string, after, limit int) ([]waitroom.Admission, error) {
	if !waitroom.ValidRoomID(room) {
		return nil, fmt.Errorf("read admission log of room %q: %w", room, waitroom.ErrRoomNotFound)
	}
	keys := roomKeys(room)

	pipe := s.client.TxPipeline()
	exists := pipe.Exists(ctx, keys[keyMeta])
	var entries *redis.StringSliceCmd
	if after >= 0 && limit > 0 {
		stop := int64(-1) // to the end of the list
		if limit <= math.MaxInt64-after {
			stop = int64(after + limit - 1)
		}
		entries = pipe.LRange(ctx, keys[keyLog], int64(after), stop)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, wrapError(roomOp("read admission log of", room), err)
	}

	if exists.Val() == 0 {
		return nil, fmt.Errorf("read admission log of room %q: %w", room, waitroom.ErrRoomNotFound)
	}
	log := []waitroom.Admission{}
	if entries == nil {
		return log, nil
	}
	for _, entry := range entries.Val() {
		a, err := parseLogEntry(entry)
		if err != nil {
			return nil, fmt.Errorf("read admission log of room %q: %w", room, err)
		}
		log = append(log, a)
	}
	return log, nil
}

// parseLogEntry decodes "sequence:admitted_us:visitor". The visitor comes
// last because it may itself contain colons.
func parseLogEntry(entry string) (waitroom.Admission, error) {
	seqText, rest, ok1 := strings.Cut(entry, ":")
	atText, visitor, ok2 := strings.Cut(rest, ":")
	seq, err1 := strconv.ParseInt(seqText, 10, 64)
	at, err2 := strconv.ParseInt(atText, 10, 64)
	if !ok1 || !ok2 || err1 != nil || err2 != nil {
		return waitroom.Admission{}, fmt.Errorf("invalid admission log entry %q: want sequence:admitted_us:visitor", entry)
	}
	return waitroom.Admission{Visitor: visitor, Sequence: seq, AdmittedAt: fromMicros(at)}, nil
}

// StartSession implements waitroom.Store.
func (s *Store) StartSession(ctx context.Context, room, visitor string) (time.Time, error) {
	reply, err := s.run(ctx, "start session in", startSessionScript, room, visitor)
	if err != nil {
		return time.Time{}, err
	}
	deadline, ok := reply.(int64)
	if !ok {
		return time.Time{}, fmt.Errorf("start session in room %q: reply %v is not an integer", room, reply)
	}
	return fromMicros(deadline), nil
}

// Release implements waitroom.Store.
func (s *Store) Release(ctx context.Context, room, visitor string) error {
	_, err := s.run(ctx, "release visitor in", releaseScript, room, visitor)
	return err
}
