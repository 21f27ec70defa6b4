// Package memstore is the embedded waitroom.Store: one process, no set-up,
// and all state lost when the process stops.
//
// It behaves as the Redis store does and passes the same conformance suite.
// Time comes from an injected clock, so tests can move it.
package memstore

import (
	"context"
	"fmt"
	"math"
	"sort"
	"sync"
	"time"

	"foyer/waitroom"
)

var _ waitroom.Store = (*Store)(nil)

// Store is an in-memory waitroom.Store. The zero value is not usable; call New.
type Store struct {
	now func() time.Time

	mu    sync.Mutex
	rooms map[string]*room
	// revoked maps the organizer sessions ended at logout to their expiry.
	revoked map[string]time.Time
}

// New returns an empty store that reads the time from now, or from
// time.Now when now is nil.
func New(now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{now: now, rooms: make(map[string]*room), revoked: make(map[string]time.Time)}
}

type queued struct {
	seq     int64
	visitor string
}

type admittedRecord struct {
	seq int64
	at  time.Time
}

type room struct {
	settings waitroom.Settings

	nextSeq int64
	head    int64
	// queue is sorted by sequence number.
	queue    []queued
	inQueue  map[string]int64
	prequeue map[string]uint64
	seen     map[string]time.Time
	admitted map[string]admittedRecord
	active   map[string]time.Time
	skipped  map[string]int64
	log      []waitroom.Admission
	// audit is the audit log, oldest first. clearLine leaves it alone, so
	// it survives ResetRoom.
	audit []waitroom.AuditEntry
	// controller is the admission controller's state, as the Redis store
	// would return it. clearLine resets it.
	controller waitroom.ControllerState
	// decisions is the controller's decision history, oldest first, each
	// entry as JSON like the Redis store keeps it. clearLine empties it.
	decisions [][]byte

	tokens        float64
	bucketAt      time.Time
	admittedTotal int64
	abandoned     int64
	skipRatio     float64
}

func newRoom(s waitroom.Settings) *room {
	r := &room{settings: s}
	r.clearLine()
	return r
}

func (r *room) clearLine() {
	r.nextSeq, r.head = 0, 0
	r.queue = nil
	r.inQueue = make(map[string]int64)
	r.prequeue = make(map[string]uint64)
	r.seen = make(map[string]time.Time)
	r.admitted = make(map[string]admittedRecord)
	r.active = make(map[string]time.Time)
	r.skipped = make(map[string]int64)
	r.log = nil
	r.tokens, r.bucketAt = 0, time.Time{}
	r.admittedTotal, r.abandoned, r.skipRatio = 0, 0, 0
	r.controller = waitroom.ControllerState{}
	r.decisions = nil
}

func (s *Store) room(id string) (*room, error) {
	r, ok := s.rooms[id]
	if !ok {
		return nil, fmt.Errorf("room %q: %w", id, waitroom.ErrRoomNotFound)
	}
	return r, nil
}

// SeedRoom implements waitroom.Store. Memory starts empty, so seeding a room
// that exists changes nothing, as in Redis where every field is present.
func (s *Store) SeedRoom(ctx context.Context, settings waitroom.Settings) (waitroom.Settings, error) {
	settings = storedSettings(settings.WithDefaults())
	if err := settings.Validate(); err != nil {
		return waitroom.Settings{}, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	if r, ok := s.rooms[settings.ID]; ok {
		return r.settings, nil
	}
	s.rooms[settings.ID] = newRoom(settings)
	return settings, nil
}

// CreateRoom implements waitroom.Store.
func (s *Store) CreateRoom(ctx context.Context, settings waitroom.Settings) error {
	settings = storedSettings(settings.WithDefaults())
	if err := settings.Validate(); err != nil {
		return err
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	if _, ok := s.rooms[settings.ID]; ok {
		return fmt.Errorf("room %q: %w", settings.ID, waitroom.ErrRoomExists)
	}
	s.rooms[settings.ID] = newRoom(settings)
	return nil
}

// UpdateRoom implements waitroom.Store.
func (s *Store) UpdateRoom(ctx context.Context, id string, p waitroom.Patch) (waitroom.Settings, error) {
	s.mu.Lock()
	defer s.mu.Unlock()

	r, err := s.room(id)
	if err != nil {
		return waitroom.Settings{}, err
	}
	next := storedSettings(p.Apply(r.settings))
	if err := next.Validate(); err != nil {
		return waitroom.Settings{}, err
	}
	r.settings = next
	return next, nil
}

// storedSettings truncates OpensAt and the durations to the microsecond, the
// resolution at which the Redis store keeps them, so that both stores return
// the same settings.
func storedSettings(s waitroom.Settings) waitroom.Settings {
	s.OpensAt = s.OpensAt.Truncate(time.Microsecond)
	s.AdmissionWindow = s.AdmissionWindow.Truncate(time.Microsecond)
	s.SessionLifetime = s.SessionLifetime.Truncate(time.Microsecond)
	s.HeartbeatGrace = s.HeartbeatGrace.Truncate(time.Microsecond)
	return s
}

// ResetRoom implements waitroom.Store.
func (s *Store) ResetRoom(ctx context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()

	r, err := s.room(id)
	if err != nil {
		return err
	}
	r.clearLine()
	return nil
}

// Rooms implements waitroom.Store.
func (s *Store) Rooms(ctx context.Context) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()

	ids := make([]string, 0, len(s.rooms))
	for id := range s.rooms {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids, nil
}

// Snapshot implements waitroom.Store.
func (s *Store) Snapshot(ctx context.Context, id string) (waitroom.Snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()

	r, err := s.room(id)
	if err != nil {
		return waitroom.Snapshot{}, err
	}
	now := s.now()
	r.promote(now)
	return waitroom.Snapshot{
		Settings:  r.settings,
		Now:       now,
		Head:      r.head,
		Tail:      r.nextSeq,
		Waiting:   int64(len(r.queue)),
		Prequeue:  int64(len(r.prequeue)),
		Active:    int64(r.countActive(now)),
		Admitted:  r.admittedTotal,
		Abandoned: r.abandoned,
		SkipRatio: r.skipRatio,
	}, nil
}

func (r *room) countActive(now time.Time) int {
	n := 0
	for _, deadline := range r.active {
		if deadline.After(now) {
			n++
		}
	}
	return n
}

// opened reports whether the pre-queue should be ordered by now.
func (r *room) opened(now time.Time) bool {
	return r.settings.OpensAt.IsZero() || !now.Before(r.settings.OpensAt)
}

// promote gives the pre-queue sequence numbers in key order once the room
// has opened, ahead of everyone who joins later. Keys that tie are ordered by
// visitor id, as a Redis sorted set orders equal scores.
func (r *room) promote(now time.Time) int {
	if len(r.prequeue) == 0 || !r.opened(now) {
		return 0
	}
	type drawn struct {
		key     float64
		visitor string
	}
	order := make([]drawn, 0, len(r.prequeue))
	for v, key := range r.prequeue {
		order = append(order, drawn{waitroom.PrequeueScore(key), v})
	}
	sort.Slice(order, func(i, j int) bool {
		if order[i].key != order[j].key {
			return order[i].key < order[j].key
		}
		return order[i].visitor < order[j].visitor
	})
	for _, d := range order {
		r.nextSeq++
		r.enqueue(d.visitor, r.nextSeq)
		delete(r.prequeue, d.visitor)
	}
	return len(order)
}

// enqueue inserts the visitor at its sequence number's place in the queue.
func (r *room) enqueue(visitor string, seq int64) {
	i := sort.Search(len(r.queue), func(i int) bool { return r.queue[i].seq >= seq })
	r.queue = append(r.queue, queued{})
	copy(r.queue[i+1:], r.queue[i:])
	r.queue[i] = queued{seq: seq, visitor: visitor}
	r.inQueue[visitor] = seq
}

func (r *room) rank(seq int64) int64 {
	return int64(sort.Search(len(r.queue), func(i int) bool { return r.queue[i].seq >= seq }))
}

// locate returns the visitor's place, bringing back to the front a visitor
// who was skipped as abandoned within the session lifetime. ok is false when
// the visitor has no place.
func (r *room) locate(visitor string, now time.Time) (place waitroom.Place, ok bool) {
	place.Visitor = visitor

	if seq, ok := r.inQueue[visitor]; ok {
		place.State, place.Sequence, place.Ahead = waitroom.StateWaiting, seq, r.rank(seq)
		return place, true
	}
	if _, ok := r.prequeue[visitor]; ok {
		place.State, place.Ahead = waitroom.StatePrequeue, int64(len(r.prequeue)-1)
		return place, true
	}
	if rec, ok := r.admitted[visitor]; ok {
		place.Sequence, place.AdmittedAt = rec.seq, rec.at
		place.State = waitroom.StateExpired
		if deadline, ok := r.active[visitor]; ok && deadline.After(now) {
			place.State, place.Deadline = waitroom.StateAdmitted, deadline
		}
		return place, true
	}
	if seq, ok := r.skipped[visitor]; ok {
		place.Sequence = seq
		if now.Sub(r.seen[visitor]) > r.settings.SessionLifetime {
			place.State = waitroom.StateExpired
			return place, true
		}
		delete(r.skipped, visitor)
		r.enqueue(visitor, seq)
		place.State, place.Ahead = waitroom.StateWaiting, r.rank(seq)
		return place, true
	}
	return place, false
}

// Join implements waitroom.Store.
func (s *Store) Join(ctx context.Context, id, visitor string, prequeueKey uint64) (waitroom.Place, error) {
	s.mu.Lock()
	defer s.mu.Unlock()

	r, err := s.room(id)
	if err != nil {
		return waitroom.Place{}, err
	}
	now := s.now()
	switch r.settings.State(now) {
	case waitroom.RoomClosed:
		return waitroom.Place{}, fmt.Errorf("join room %q: %w", id, waitroom.ErrRoomClosed)
	case waitroom.RoomSoldOut:
		return waitroom.Place{}, fmt.Errorf("join room %q: %w", id, waitroom.ErrRoomSoldOut)
	}
	r.promote(now)

	if place, ok := r.locate(visitor, now); ok {
		if place.State != waitroom.StateExpired {
			r.seen[visitor] = now
		}
		return place, nil
	}

	place := waitroom.Place{Visitor: visitor, Created: true}
	if r.opened(now) {
		r.nextSeq++
		r.enqueue(visitor, r.nextSeq)
		place.State, place.Sequence, place.Ahead = waitroom.StateWaiting, r.nextSeq, int64(len(r.queue)-1)
	} else {
		r.prequeue[visitor] = prequeueKey
		place.State, place.Ahead = waitroom.StatePrequeue, int64(len(r.prequeue)-1)
	}
	r.seen[visitor] = now
	return place, nil
}

// Position implements waitroom.Store.
func (s *Store) Position(ctx context.Context, id, visitor string) (waitroom.Place, error) {
	s.mu.Lock()
	defer s.mu.Unlock()

	r, err := s.room(id)
	if err != nil {
		return waitroom.Place{}, err
	}
	now := s.now()
	r.promote(now)

	place, ok := r.locate(visitor, now)
	if !ok {
		return waitroom.Place{}, fmt.Errorf("visitor in room %q: %w", id, waitroom.ErrVisitorNotFound)
	}
	if place.State != waitroom.StateExpired {
		r.seen[visitor] = now
	}
	return place, nil
}

// Heartbeat implements waitroom.Store.
func (s *Store) Heartbeat(ctx context.Context, id string, visitors []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()

	r, err := s.room(id)
	if err != nil {
		return err
	}
	now := s.now()
	for _, v := range visitors {
		place, ok := r.locate(v, now)
		if ok && place.State != waitroom.StateExpired {
			r.seen[v] = now
		}
	}
	return nil
}

// Admit implements waitroom.Store.
func (s *Store) Admit(ctx context.Context, id string, limits waitroom.AdmitLimits) (waitroom.AdmitResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()

	r, err := s.room(id)
	if err != nil {
		return waitroom.AdmitResult{}, err
	}
	now := s.now()
	var res waitroom.AdmitResult

	res.Promoted = r.promote(now)

	for v, deadline := range r.active {
		if !deadline.After(now) {
			delete(r.active, v)
			res.Expired++
		}
	}

	r.refill(now)
	if r.settings.RatePerMinute == 0 {
		// A rate of 0 admits no visitor. Tokens left from before must not
		// admit a burst, now or when the rate rises again.
		r.tokens = 0
	}
	res.Tokens = r.tokens
	res.State = r.settings.State(now)
	if res.State != waitroom.RoomOpen {
		return res, nil
	}

	allow := min(int(math.Floor(r.tokens)), r.settings.MaxActive-len(r.active), limits.MaxAdmit)
	for allow > 0 && len(r.queue) > 0 {
		next := r.queue[0]
		last, seen := r.seen[next.visitor]
		if !seen || now.Sub(last) > r.settings.HeartbeatGrace {
			if res.Skipped >= limits.MaxSkip {
				break
			}
			r.dequeueFront()
			r.skipped[next.visitor] = next.seq
			r.abandoned++
			res.Skipped++
			r.head = max(r.head, next.seq)
			continue
		}

		r.dequeueFront()
		r.admitted[next.visitor] = admittedRecord{seq: next.seq, at: now}
		r.active[next.visitor] = now.Add(r.settings.AdmissionWindow)
		entry := waitroom.Admission{Visitor: next.visitor, Sequence: next.seq, AdmittedAt: now}
		r.log = append(r.log, entry)
		res.Admitted = append(res.Admitted, entry)
		r.tokens--
		r.admittedTotal++
		r.head = max(r.head, next.seq)
		allow--
	}

	r.skipRatio = waitroom.NextSkipRatio(r.skipRatio, len(res.Admitted), res.Skipped)
	res.Tokens = r.tokens
	return res, nil
}

func (r *room) dequeueFront() {
	delete(r.inQueue, r.queue[0].visitor)
	r.queue = r.queue[1:]
}

// refill adds the tokens earned since the last step, up to the burst. A
// bucket that has never run starts full.
func (r *room) refill(now time.Time) {
	burst := float64(r.settings.Burst)
	if r.bucketAt.IsZero() {
		r.tokens, r.bucketAt = burst, now
		return
	}
	elapsed := now.Sub(r.bucketAt)
	if elapsed > 0 {
		r.tokens = math.Min(burst, r.tokens+elapsed.Seconds()*r.settings.RatePerMinute/60)
		r.bucketAt = now
	}
	r.tokens = math.Min(burst, r.tokens)
}

// AdmissionLog implements waitroom.Store.
func (s *Store) AdmissionLog(ctx context.Context, id string, after, limit int) ([]waitroom.Admission, error) {
	s.mu.Lock()
	defer s.mu.Unlock()

	r, err := s.room(id)
	if err != nil {
		return nil, err
	}
	if after < 0 || after >= len(r.log) || limit <= 0 {
		return []waitroom.Admission{}, nil
	}
	end := after + min(limit, len(r.log)-after) // after+limit could overflow
	return append([]waitroom.Admission(nil), r.log[after:end]...), nil
}

// StartSession implements waitroom.Store.
func (s *Store) StartSession(ctx context.Context, id, visitor string) (time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()

	r, err := s.room(id)
	if err != nil {
		return time.Time{}, err
	}
	now := s.now()
	deadline, ok := r.active[visitor]
	if !ok || !deadline.After(now) {
		return time.Time{}, fmt.Errorf("start session in room %q: %w", id, waitroom.ErrVisitorNotFound)
	}
	deadline = now.Add(r.settings.SessionLifetime)
	r.active[visitor] = deadline
	return deadline, nil
}

// Release implements waitroom.Store.
func (s *Store) Release(ctx context.Context, id, visitor string) error {
	s.mu.Lock()
	defer s.mu.Unlock()

	r, err := s.room(id)
	if err != nil {
		return err
	}
	delete(r.active, visitor)
	return nil
}

// AppendAudit implements waitroom.Store.
func (s *Store) AppendAudit(ctx context.Context, id string, e waitroom.AuditEntry) error {
	if err := waitroom.ValidateAudit(e); err != nil {
		return err
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	r, err := s.room(id)
	if err != nil {
		return err
	}
	e.At = s.now()
	r.audit = append(r.audit, e)
	if extra := len(r.audit) - waitroom.MaxAuditEntries; extra > 0 {
		r.audit = append(r.audit[:0:0], r.audit[extra:]...)
	}
	return nil
}

// AuditLog implements waitroom.Store.
func (s *Store) AuditLog(ctx context.Context, id string, limit int) ([]waitroom.AuditEntry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()

	r, err := s.room(id)
	if err != nil {
		return nil, err
	}
	out := []waitroom.AuditEntry{}
	for i := len(r.audit) - 1; i >= 0 && len(out) < limit; i-- {
		out = append(out, r.audit[i])
	}
	return out, nil
}
