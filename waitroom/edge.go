package waitroom

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// EdgeConfig tunes an Edge. Zero fields take the defaults noted.
type EdgeConfig struct {
	// Tick is how often the edge runs each room's admission step, flushes
	// heartbeats and refreshes its snapshot. Default 250ms.
	Tick time.Duration
	// RoomListEvery is how often the edge looks for rooms created elsewhere.
	// Default 2s.
	RoomListEvery time.Duration
	// StaleAfter is how old a snapshot may be before status responses carry
	// a notice that the figures may be out of date. Default 3s.
	StaleAfter time.Duration
	// Limits bound each admission step. Default DefaultAdmitLimits.
	Limits AdmitLimits
	// TicketMaxAge is how long a queue ticket stays valid. Default 24h.
	TicketMaxAge time.Duration
	// Rooms are seeded again whenever the store no longer lists them, for
	// example after Redis lost its data, so configured rooms come back by
	// themselves.
	Rooms []Settings
	// Controllers are the admission controllers of rooms by room id. A
	// controller decides only while its room is open and in mode auto. A
	// room in mode auto without one, and without a DefaultController,
	// keeps the rate it has.
	Controllers map[string]RoomController
	// DefaultController, when set, builds the controller of a room that
	// Controllers does not list, such as one created through the admin
	// API. The edge calls it with the room's settings once it has read
	// them, again only when the room's event changes, and keeps the
	// result. It is called while the room's polls wait, so it must not
	// block. ok false leaves the room without a controller.
	DefaultController func(s Settings) (rc RoomController, ok bool)
}

func (c EdgeConfig) withDefaults() EdgeConfig {
	if c.Tick <= 0 {
		c.Tick = 250 * time.Millisecond
	}
	if c.RoomListEvery <= 0 {
		c.RoomListEvery = 2 * time.Second
	}
	if c.StaleAfter <= 0 {
		c.StaleAfter = 3 * time.Second
	}
	if c.Limits == (AdmitLimits{}) {
		c.Limits = DefaultAdmitLimits
	}
	if c.TicketMaxAge <= 0 {
		c.TicketMaxAge = 24 * time.Hour
	}
	return c
}

// TickObserver receives the outcome of every admission step an edge runs,
// for metrics and logs.
type TickObserver interface {
	ObserveTick(room string, res AdmitResult, err error, took time.Duration)
}

// Edge is one process's view of the waiting rooms: it keeps a snapshot of
// each room, buffers heartbeats, runs the admission step every tick and
// serves joins and status polls. Several edges may share one store.
type Edge struct {
	store     Store
	keys      Keys
	tickets   *TicketCodec
	cfg       EdgeConfig
	log       *slog.Logger
	observer  TickObserver
	decisions DecisionObserver

	mu    sync.RWMutex
	rooms map[string]*roomCache
}

type roomCache struct {
	mu        sync.Mutex
	snap      Snapshot
	fetchedAt time.Time
	lastErr   error
	pending   map[string]struct{}
	// places counts the free places that the room's signal source last
	// reported, at placesAt on the store's clock; placesAt is zero when it
	// reported none.
	places   int64
	placesAt time.Time
	// defaultController is the controller that EdgeConfig.DefaultController
	// built for the room, or nil until the edge calls it.
	defaultController *builtController

	controller controllerCache
}

// NewEdge returns an edge over store that signs with keys. observer may be
// nil. When observer is also a DecisionObserver, it receives every
// controller decision this edge applies.
func NewEdge(store Store, keys Keys, cfg EdgeConfig, log *slog.Logger, observer TickObserver) *Edge {
	cfg = cfg.withDefaults()
	decisions, _ := observer.(DecisionObserver)
	return &Edge{
		store:     store,
		keys:      keys,
		tickets:   NewTicketCodec(keys.Cookies, cfg.TicketMaxAge),
		cfg:       cfg,
		log:       log,
		observer:  observer,
		decisions: decisions,
		rooms:     make(map[string]*roomCache),
	}
}

// Store returns the edge's store.
func (e *Edge) Store() Store { return e.store }

// Keys returns the keys the edge signs with.
func (e *Edge) Keys() Keys { return e.keys }

// Tickets returns the codec for queue tickets.
func (e *Edge) Tickets() *TicketCodec { return e.tickets }

// Run runs the edge's loops until ctx ends: the admission tick for every
// room and the periodic look for new rooms.
func (e *Edge) Run(ctx context.Context) {
	e.refreshRooms(ctx)

	tick := time.NewTicker(e.cfg.Tick)
	defer tick.Stop()
	list := time.NewTicker(e.cfg.RoomListEvery)
	defer list.Stop()

	for {
		select {
		case <-ctx.Done():
			e.flushAll(context.WithoutCancel(ctx))
			return
		case <-list.C:
			e.refreshRooms(ctx)
		case <-tick.C:
			e.TickAll(ctx)
		}
	}
}

func (e *Edge) refreshRooms(ctx context.Context) {
	ids, err := e.store.Rooms(ctx)
	if err != nil {
		if ctx.Err() == nil {
			e.log.Warn("list rooms failed", "err", err)
		}
		return
	}
	ids = e.reseed(ctx, ids)

	e.mu.Lock()
	for _, id := range ids {
		if _, ok := e.rooms[id]; !ok {
			e.rooms[id] = &roomCache{pending: make(map[string]struct{})}
		}
	}
	e.mu.Unlock()
}

// reseed seeds every configured room missing from ids and returns ids with
// the rooms it seeded added.
func (e *Edge) reseed(ctx context.Context, ids []string) []string {
	listed := make(map[string]bool, len(ids))
	for _, id := range ids {
		listed[id] = true
	}
	for _, s := range e.cfg.Rooms {
		if listed[s.ID] {
			continue
		}
		if _, err := e.store.SeedRoom(ctx, s); err != nil {
			e.log.Warn("seeding a missing room failed", "room", s.ID, "err", err)
			continue
		}
		e.log.Warn("room was missing from the store and was seeded from the configuration again", "room", s.ID)
		ids = append(ids, s.ID)
	}
	return ids
}

// TickAll runs one tick for every known room, one after the other.
func (e *Edge) TickAll(ctx context.Context) {
	e.mu.RLock()
	ids := make([]string, 0, len(e.rooms))
	for id := range e.rooms {
		ids = append(ids, id)
	}
	e.mu.RUnlock()

	for _, id := range ids {
		if ctx.Err() != nil {
			return
		}
		_, _ = e.Tick(ctx, id)
	}
}

// Tick flushes the room's buffered heartbeats, runs its admission step,
// refreshes its snapshot and, once per control period across the fleet,
// runs its admission controller. Tests call it directly to step an edge.
func (e *Edge) Tick(ctx context.Context, room string) (AdmitResult, error) {
	c := e.cache(room)

	if err := e.flush(ctx, room, c); err != nil {
		e.log.Warn("heartbeat flush failed", "room", room, "err", err)
	}

	start := time.Now()
	res, err := e.store.Admit(ctx, room, e.cfg.Limits)
	if e.observer != nil {
		e.observer.ObserveTick(room, res, err, time.Since(start))
	}
	if err != nil {
		e.log.Warn("admission step failed", "room", room, "err", err)
	} else if len(res.Admitted) > 0 || res.Skipped > 0 {
		e.log.Debug("admission step", "room", room, "admitted", len(res.Admitted), "skipped", res.Skipped, "tokens", res.Tokens)
	}

	if _, serr := e.refreshSnapshot(ctx, room, c); serr != nil && !errors.Is(serr, ErrRoomNotFound) {
		e.log.Warn("snapshot refresh failed", "room", room, "err", serr)
	}

	e.control(ctx, room, c)
	return res, err
}

func (e *Edge) cache(room string) *roomCache {
	e.mu.RLock()
	c, ok := e.rooms[room]
	e.mu.RUnlock()
	if ok {
		return c
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	if c, ok = e.rooms[room]; !ok {
		c = &roomCache{pending: make(map[string]struct{})}
		e.rooms[room] = c
	}
	return c
}

func (e *Edge) refreshSnapshot(ctx context.Context, room string, c *roomCache) (Snapshot, error) {
	snap, err := e.store.Snapshot(ctx, room)

	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.lastErr = err
		return c.snap, err
	}
	c.snap, c.fetchedAt, c.lastErr = snap, time.Now(), nil
	return snap, nil
}

func (e *Edge) flush(ctx context.Context, room string, c *roomCache) error {
	c.mu.Lock()
	if len(c.pending) == 0 {
		c.mu.Unlock()
		return nil
	}
	visitors := make([]string, 0, len(c.pending))
	for v := range c.pending {
		visitors = append(visitors, v)
	}
	c.pending = make(map[string]struct{}, len(visitors))
	c.mu.Unlock()

	if err := e.store.Heartbeat(ctx, room, visitors); err != nil {
		// Put them back so the next tick tries again; a visitor's grace
		// period is many ticks long.
		c.mu.Lock()
		for _, v := range visitors {
			c.pending[v] = struct{}{}
		}
		c.mu.Unlock()
		return err
	}
	return nil
}

func (e *Edge) flushAll(ctx context.Context) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	for id, c := range e.rooms {
		if err := e.flush(ctx, id, c); err != nil {
			e.log.Warn("heartbeat flush at stop failed", "room", id, "err", err)
		}
	}
}

// RoomView is a room's snapshot as this edge holds it.
type RoomView struct {
	Snapshot Snapshot
	// Stale is true when the snapshot could not be refreshed recently, for
	// example because the store is unreachable.
	Stale bool
	// Err is the last refresh error, if any.
	Err error
}

// Room returns the edge's snapshot of room, reading it from the store when
// the edge has none yet. It returns ErrRoomNotFound for an unknown room.
func (e *Edge) Room(ctx context.Context, room string) (RoomView, error) {
	c := e.cache(room)

	c.mu.Lock()
	snap, fetchedAt, lastErr := c.snap, c.fetchedAt, c.lastErr
	c.mu.Unlock()

	if fetchedAt.IsZero() || errors.Is(lastErr, ErrRoomNotFound) {
		fresh, err := e.refreshSnapshot(ctx, room, c)
		if err != nil {
			if errors.Is(err, ErrRoomNotFound) {
				e.forget(room)
			}
			return RoomView{}, err
		}
		return RoomView{Snapshot: fresh}, nil
	}
	stale := lastErr != nil || time.Since(fetchedAt) > e.cfg.StaleAfter
	// The snapshot's clock moves on with the edge's, so state changes such
	// as an opening time passing show without waiting for a refresh.
	snap.Now = snap.Now.Add(time.Since(fetchedAt))
	return RoomView{Snapshot: snap, Stale: stale, Err: lastErr}, nil
}

// forget drops a room the store does not know, so ids probed by clients do
// not pile up in the edge.
func (e *Edge) forget(room string) {
	e.mu.Lock()
	delete(e.rooms, room)
	e.mu.Unlock()
}

// Refresh reads the room's snapshot from the store now.
func (e *Edge) Refresh(ctx context.Context, room string) (Snapshot, error) {
	return e.refreshSnapshot(ctx, room, e.cache(room))
}

func (e *Edge) beat(room, visitor string) {
	c := e.cache(room)
	c.mu.Lock()
	c.pending[visitor] = struct{}{}
	c.mu.Unlock()
}

// JoinResult is the outcome of a join.
type JoinResult struct {
	Place  Place
	Ticket Ticket
}

// Join gives the holder of ticket a place in room, or a new visitor a new
// one. ticket may be nil. A visitor whose place expired gets a new visitor id
// and a new place at the back.
func (e *Edge) Join(ctx context.Context, room string, ticket *Ticket) (JoinResult, error) {
	visitor := NewVisitorID()
	if ticket != nil {
		visitor = ticket.Visitor
	}

	place, err := e.store.Join(ctx, room, visitor, NewPrequeueKey())
	if err != nil {
		return JoinResult{}, err
	}
	if place.State == StateExpired {
		visitor = NewVisitorID()
		place, err = e.store.Join(ctx, room, visitor, NewPrequeueKey())
		if err != nil {
			return JoinResult{}, err
		}
	}

	view, err := e.Room(ctx, room)
	now := time.Now()
	if err == nil {
		now = view.Snapshot.Now
	}
	t := Ticket{Room: room, Visitor: visitor, Sequence: place.Sequence, IssuedAt: now}
	return JoinResult{Place: place, Ticket: t}, nil
}

// Status is the information a waiting visitor gets about their place.
type Status struct {
	State     VisitorState
	RoomState RoomState
	Settings  Settings
	// Sequence is 0 in the pre-queue.
	Sequence int64
	// Ahead is exact near the head and estimated elsewhere; Exact reports which.
	Ahead int64
	Exact bool
	// Wait is the estimated wait; WaitKnown is false when there is none.
	Wait      time.Duration
	WaitKnown bool
	// Refresh is when the visitor should poll again.
	Refresh time.Duration
	// Deadline is the end of an admitted visitor's window or session.
	Deadline time.Time
	// Waiting and Prequeue are the room's counts, for context on the page.
	Waiting  int64
	Prequeue int64
	// Degraded is true when the store could not be reached and the figures
	// are the last known ones.
	Degraded bool
	// Ticket is set when the visitor's ticket must be reissued, for example
	// once a pre-queue visitor has been given a sequence number.
	Ticket *Ticket
	// Places estimates the places left for a waiting visitor, from the
	// count the room's controller last read. PlacesKnown is false when the
	// room has no controller or no recent count.
	Places      PlacesOutlook
	PlacesKnown bool
	// Now is the store's clock as the edge estimates it.
	Now time.Time
}

// Status handles a poll for the holder of ticket. A visitor far from the
// head is served from the room snapshot and the ticket alone, with no store
// call; near the head the exact place is read. Either way the poll counts as
// a heartbeat. ErrVisitorNotFound means the ticket's place no longer exists
// (the room was reset, or the store lost its state).
func (e *Edge) Status(ctx context.Context, t Ticket) (Status, error) {
	view, err := e.Room(ctx, t.Room)
	if err != nil {
		return Status{}, err
	}
	snap := view.Snapshot
	st := Status{
		RoomState: snap.State(),
		Settings:  snap.Settings,
		Sequence:  t.Sequence,
		Waiting:   snap.Waiting,
		Prequeue:  snap.Prequeue,
		Degraded:  view.Stale,
		Now:       snap.Now,
	}

	if e.answerFromSnapshot(t, view) {
		e.beat(t.Room, t.Visitor)
		return e.withPlaces(t.Room, estimateStatus(t, st, snap)), nil
	}

	place, err := e.store.Position(ctx, t.Room, t.Visitor)
	if errors.Is(err, ErrUnavailable) {
		// The visitor keeps the last known estimate, with a warning that it
		// may be out of date.
		st.Degraded = true
		return e.withPlaces(t.Room, estimateStatus(t, st, snap)), nil
	}
	if err != nil {
		return Status{}, err
	}

	st.State, st.Exact, st.Ahead, st.Deadline = place.State, true, place.Ahead, place.Deadline
	if place.Sequence != t.Sequence {
		st.Sequence = place.Sequence
		reissued := Ticket{Room: t.Room, Visitor: t.Visitor, Sequence: place.Sequence, IssuedAt: snap.Now}
		st.Ticket = &reissued
	}
	if place.State == StateWaiting || place.State == StatePrequeue {
		st.Wait, st.WaitKnown = EstimateWait(st.Ahead, snap)
	}
	st.Refresh = RefreshInterval(st.Ahead, st.Wait, st.WaitKnown)
	return e.withPlaces(t.Room, st), nil
}

// answerFromSnapshot reports whether a poll can be served without reading
// the visitor's place: the snapshot is fresh, and the visitor is either far
// from the head or in the pre-queue before opening.
func (e *Edge) answerFromSnapshot(t Ticket, view RoomView) bool {
	if view.Stale {
		return false
	}
	snap := view.Snapshot
	if t.Sequence == 0 {
		return snap.State() == RoomScheduled
	}
	return EstimateAhead(t.Sequence, snap) > NearHead
}

// estimateStatus fills in a status from the ticket and the snapshot alone.
func estimateStatus(t Ticket, st Status, snap Snapshot) Status {
	if t.Sequence == 0 {
		st.State = StatePrequeue
		st.Ahead = max(0, snap.Prequeue-1)
	} else {
		st.State = StateWaiting
		st.Ahead = EstimateAhead(t.Sequence, snap)
	}
	st.Wait, st.WaitKnown = EstimateWait(st.Ahead, snap)
	st.Refresh = RefreshInterval(st.Ahead, st.Wait, st.WaitKnown)
	return st
}

// AdmissionToken signs an admission token for an admitted visitor, valid
// until the end of their admission window.
func (e *Edge) AdmissionToken(room, event, visitor string, now, deadline time.Time) (string, error) {
	if deadline.IsZero() || !deadline.After(now) {
		return "", fmt.Errorf("admission token for room %s: deadline %s is not after now", room, deadline)
	}
	return IssueAdmissionToken(e.keys.Signing, room, event, visitor, now, deadline)
}

// RoomForEvent returns the id of a room in this edge's cache that guards event.
func (e *Edge) RoomForEvent(event string) (string, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	for id, c := range e.rooms {
		c.mu.Lock()
		guards := c.snap.Settings.Event == event
		c.mu.Unlock()
		if guards {
			return id, true
		}
	}
	return "", false
}

// Snapshots returns the edge's latest snapshot of every room it has read.
func (e *Edge) Snapshots() map[string]Snapshot {
	e.mu.RLock()
	defer e.mu.RUnlock()
	out := make(map[string]Snapshot, len(e.rooms))
	for id, c := range e.rooms {
		c.mu.Lock()
		if !c.fetchedAt.IsZero() {
			out[id] = c.snap
		}
		c.mu.Unlock()
	}
	return out
}
