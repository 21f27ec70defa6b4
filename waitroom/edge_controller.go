package waitroom

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// RoomController is the admission controller of one room: where its
// signals come from and the parameters of the control law.
type RoomController struct {
	// Signals reads the booking backend's signals. nil turns the
	// controller off for the room.
	Signals SignalSource
	// Config holds the control law's parameters. Zero fields take the
	// defaults; it should pass ControllerConfig.Validate.
	Config ControllerConfig
}

// DecisionObserver receives every controller decision that an edge won and
// applied to its room, for metrics.
type DecisionObserver interface {
	ObserveDecision(room string, d Decision)
}

// controllerCache is one edge's memory of a room's controller between ticks.
// Its mutex is held for the whole control step, so one edge runs at most
// one step per room at a time.
type controllerCache struct {
	mu sync.Mutex
	// state is the stored state as this edge last read or wrote it, valid
	// when known is true.
	state ControllerState
	known bool
	// base and recent are snapshots kept for ObservedAdmissionRate: recent
	// moves on once it is a period old, and base takes its place, so base
	// is one to two periods older than the newest snapshot.
	base, recent Snapshot
	// lastSignals were read from the source at lastSignalsAt, on the
	// store's clock. They stand in, marked stale, when the source fails.
	lastSignals   Signals
	lastSignalsAt time.Time
	// inventoryAt is when this edge last read the places of a room in
	// mode fixed, on the store's clock.
	inventoryAt time.Time
}

// control runs the room's admission controller for one tick. Every edge
// calls it on every tick and decides once the stored state's last decision
// is a period old. An edge applies its decision only when its
// compare-and-set on the state's version succeeds. So the fleet applies one
// decision per period, and losing an edge does not stop the controller.
func (e *Edge) control(ctx context.Context, room string, c *roomCache) {
	rc, ok := e.controllerFor(c, room)
	if !ok {
		return
	}

	c.mu.Lock()
	snap, fetched, lastErr := c.snap, !c.fetchedAt.IsZero(), c.lastErr
	c.mu.Unlock()
	if !fetched || lastErr != nil {
		// The decision would rest on an old snapshot and an old clock.
		return
	}

	ctl := &c.controller
	ctl.mu.Lock()
	defer ctl.mu.Unlock()

	cfg := rc.Config.WithDefaults()
	now := snap.Now
	ctl.trackAdmissions(snap, cfg.Period)
	if snap.State() != RoomOpen {
		return
	}
	if snap.Settings.Mode != ModeAuto {
		e.watchInventory(ctx, room, c, rc, cfg, snap)
		return
	}
	if ctl.known && now.Before(ctl.state.LastDecision.Add(cfg.Period)) {
		return
	}

	state, err := e.store.ControllerState(ctx, room)
	if err != nil {
		e.log.Warn("reading controller state failed", "room", room, "err", err)
		return
	}
	ctl.state, ctl.known = state, true
	if now.Before(state.LastDecision.Add(cfg.Period)) {
		return
	}

	e.decide(ctx, room, c, rc, cfg, state, snap)
}

// decide makes one decision from state and, when its compare-and-set wins,
// applies it to the room. The caller holds c.controller.mu.
func (e *Edge) decide(ctx context.Context, room string, c *roomCache, rc RoomController, cfg ControllerConfig, state ControllerState, snap Snapshot) {
	ctl := &c.controller
	now := snap.Now

	sig := e.readSignals(ctx, room, rc.Signals, ctl, now)
	base := ctl.base
	if base.Now.IsZero() {
		base = ctl.recent
	}
	sig = sig.WithRoom(snap, ObservedAdmissionRate(base, snap))

	if state.Version == 0 && state.AppliedPerMinute == 0 {
		// The first decision's old rate is the rate the room had.
		state.AppliedPerMinute = snap.Settings.RatePerMinute
	}
	d, next := Decide(cfg, state, sig, now)

	swapped, err := e.store.SwapControllerState(ctx, room, state.Version, next)
	if err != nil {
		e.log.Warn("storing controller state failed", "room", room, "err", err)
		ctl.known = false
		return
	}
	if !swapped {
		// Another edge decided this period; read its state next tick.
		ctl.known = false
		return
	}
	ctl.state = next

	e.applyDecision(ctx, room, c, d)
}

// watchInventory serves a room in mode fixed, whose rate the organizer
// sets. Once a period it reads the free places for the places line of the
// waiting page. When the free and held places together cannot serve one
// more order, it marks the room sold out, as the controller's inventory
// rule does in mode auto. Waiting visitors then learn it on their next poll
// instead of waiting to be admitted to nothing. Every edge reads, so losing
// one changes nothing. The caller holds c.controller.mu.
func (e *Edge) watchInventory(ctx context.Context, room string, c *roomCache, rc RoomController, cfg ControllerConfig, snap Snapshot) {
	ctl := &c.controller
	now := snap.Now
	if !ctl.inventoryAt.IsZero() && now.Before(ctl.inventoryAt.Add(cfg.Period)) {
		return
	}
	ctl.inventoryAt = now

	sig, err := rc.Signals.Signals(ctx, now)
	if err != nil {
		e.log.Warn("reading the places of a room in mode fixed failed", "room", room, "err", err)
		return
	}
	e.notePlaces(room, sig, now)
	if reason, stop := cfg.inventoryRule(sig); !stop || reason != ReasonSoldOut {
		return
	}

	e.log.Info("room sold out: its free and held places cannot serve another order", "room", room,
		"free", sig.RemainingPlaces, "held", sig.HeldPlaces, "most_free_or_held_in_slot", sig.MostFreeOrHeldInSlot)
	// The visitors waiting should learn it even when ctx ends meanwhile.
	ctx = context.WithoutCancel(ctx)
	if _, err := e.store.UpdateRoom(ctx, room, Patch{SoldOut: new(true)}); err != nil {
		e.log.Error("marking the sold-out room sold out failed", "room", room, "err", err)
		return
	}
	entry := AuditEntry{Actor: InventoryActor, Action: "sold_out",
		Detail: fmt.Sprintf("no slot has room for another order: %d places free and %d held in all", sig.RemainingPlaces, sig.HeldPlaces)}
	if err := e.store.AppendAudit(ctx, room, entry); err != nil {
		e.log.Warn("recording the sold-out room in its audit log failed", "room", room, "err", err)
	}
	if _, err := e.refreshSnapshot(ctx, room, c); err != nil {
		e.log.Warn("snapshot refresh failed", "room", room, "err", err)
	}
}

// InventoryActor is the audit log's actor for changes that the edges make
// from the booking inventory, such as marking a room sold out.
const InventoryActor = "inventory"

// applyDecision sets the room's rate, marks the room sold out when the
// decision's reason is ReasonSoldOut, and adds the decision to the room's
// decision history.
func (e *Edge) applyDecision(ctx context.Context, room string, c *roomCache, d Decision) {
	e.log.Info("admission rate decided", "room", room, "decision", d)

	// A rate of 0 (ReasonSoldOut, ReasonWaitForHolds) admits no visitor,
	// even with tokens left in the bucket, because Store.Admit empties it.
	patch := Patch{RatePerMinute: new(d.NewRatePerMinute)}
	if d.SoldOut() {
		patch.SoldOut = new(true)
	}
	// The decision is stored and no other edge will make it, so it is
	// applied even when ctx ends meanwhile, as at shutdown. The store's own
	// timeouts bound the call.
	ctx = context.WithoutCancel(ctx)
	if _, err := e.store.UpdateRoom(ctx, room, patch); err != nil {
		// The state is stored, so this decision is not made again; the
		// next period's decision sets the rate anew.
		e.log.Error("applying controller decision failed", "room", room, "reason", string(d.Reason), "err", err)
		return
	}
	e.recordDecision(ctx, room, d)
	if e.decisions != nil {
		e.decisions.ObserveDecision(room, d)
	}

	// Waiting visitors should see the new rate or sold out on their next
	// poll, not a tick later.
	if _, err := e.refreshSnapshot(ctx, room, c); err != nil {
		e.log.Warn("snapshot refresh failed", "room", room, "err", err)
	}
}

// recordDecision adds an applied decision to the room's decision history,
// for the organizer's dashboard. A failure is logged and changes nothing
// else: the decision stays applied, and only the history misses it.
func (e *Edge) recordDecision(ctx context.Context, room string, d Decision) {
	if err := e.store.AppendDecision(ctx, room, d); err != nil {
		e.log.Warn("storing controller decision failed", "room", room, "reason", string(d.Reason), "err", err)
	}
}

// readSignals reads the room's signals. When the source fails, it logs the
// error and returns the last signals read, aged by the time since and
// without place counts. With no earlier read it returns zero signals,
// which Decide treats as stale.
func (e *Edge) readSignals(ctx context.Context, room string, src SignalSource, ctl *controllerCache, now time.Time) Signals {
	sig, err := src.Signals(ctx, now)
	if err == nil {
		ctl.lastSignals, ctl.lastSignalsAt = sig, now
		e.notePlaces(room, sig, now)
		return sig
	}
	e.log.Warn("reading controller signals failed", "room", room, "err", err)

	stale := ctl.lastSignals
	if !ctl.lastSignalsAt.IsZero() {
		stale.Staleness += now.Sub(ctl.lastSignalsAt)
	}
	// Old place counts must not declare the room sold out.
	stale.HasInventory = false
	stale.RemainingPlaces, stale.HeldPlaces = 0, 0
	stale.MostFreeInSlot, stale.MostFreeOrHeldInSlot = 0, 0
	return stale
}

// trackAdmissions keeps base and recent for ObservedAdmissionRate.
func (ctl *controllerCache) trackAdmissions(snap Snapshot, period time.Duration) {
	switch {
	case ctl.recent.Now.IsZero():
		ctl.recent = snap
	case snap.Now.Sub(ctl.recent.Now) >= period:
		ctl.base, ctl.recent = ctl.recent, snap
	}
}

// notePlaces keeps the free places of sig for the waiting page under the
// room cache's mutex, not the controller's, so that polls do not wait for
// a control step's calls to the source and the store.
func (e *Edge) notePlaces(room string, sig Signals, now time.Time) {
	c := e.cache(room)
	c.mu.Lock()
	defer c.mu.Unlock()
	if !sig.HasInventory {
		c.places, c.placesAt = 0, time.Time{}
		return
	}
	c.places, c.placesAt = sig.RemainingPlaces, now
}

// withPlaces adds the places outlook to the status of a waiting visitor
// when the room's controller has read the free places within its
// StaleAfter. The estimate counts DefaultPlacesPerVisitor places per order.
func (e *Edge) withPlaces(room string, st Status) Status {
	if st.State != StateWaiting {
		return st
	}
	c := e.cache(room)
	rc, ok := e.controllerFor(c, room)
	if !ok {
		return st
	}
	c.mu.Lock()
	places, at, active := c.places, c.placesAt, c.snap.Active
	c.mu.Unlock()

	staleAfter := rc.Config.WithDefaults().StaleAfter
	if at.IsZero() || st.Now.Sub(at) > staleAfter {
		return st
	}
	st.Places = EstimatePlaces(places, active, st.Ahead, DefaultPlacesPerVisitor)
	st.PlacesKnown = true
	return st
}

// builtController is a controller that EdgeConfig.DefaultController built
// for the room's event at the time.
type builtController struct {
	rc    RoomController
	ok    bool
	event string
}

// controllerFor returns the admission controller of room: its entry in
// EdgeConfig.Controllers, or else the one EdgeConfig.DefaultController
// builds from the room's settings. ok is false when the room has none, its
// controller has no signal source, or the edge has not read its settings
// yet.
func (e *Edge) controllerFor(c *roomCache, room string) (RoomController, bool) {
	if rc, ok := e.cfg.Controllers[room]; ok {
		return rc, rc.Signals != nil
	}
	if e.cfg.DefaultController == nil {
		return RoomController{}, false
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fetchedAt.IsZero() {
		return RoomController{}, false
	}
	settings := c.snap.Settings
	if built := c.defaultController; built != nil && built.event == settings.Event {
		return built.rc, built.ok
	}

	// Building under the mutex makes it once per room and event, however
	// many polls and ticks ask at the same time.
	rc, ok := e.cfg.DefaultController(settings)
	c.defaultController = &builtController{rc: rc, ok: ok && rc.Signals != nil, event: settings.Event}
	return rc, c.defaultController.ok
}
