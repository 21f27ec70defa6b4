package waitroom_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"foyer/internal/redistest"
	"foyer/waitroom"
	"foyer/waitroom/memstore"
	"foyer/waitroom/redisstore"
)

// fakeSignals replaces the booking backend in tests: it returns the signals
// it is set to, over the 10 seconds before each read.
type fakeSignals struct {
	mu  sync.Mutex
	sig waitroom.Signals
	err error
}

func (f *fakeSignals) Signals(_ context.Context, now time.Time) (waitroom.Signals, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return waitroom.Signals{}, f.err
	}
	sig := f.sig
	sig.WindowStart, sig.WindowEnd = now.Add(-10*time.Second), now
	return sig, nil
}

func (f *fakeSignals) set(sig waitroom.Signals) {
	f.mu.Lock()
	f.sig = sig
	f.mu.Unlock()
}

// healthySignals are fast, error-free bookings with places to spare.
func healthySignals() waitroom.Signals {
	return waitroom.Signals{
		Samples:              200,
		LatencyP95:           50 * time.Millisecond,
		HasInventory:         true,
		RemainingPlaces:      5000,
		MostFreeInSlot:       500,
		MostFreeOrHeldInSlot: 500,
	}
}

// swap is one compare-and-set of a room's controller state by one edge.
type swap struct {
	edge    string
	version int64
	at      time.Time
}

// swapLog records every successful SwapControllerState of the stores that
// wrap it, so a test can count decisions by state version.
type swapLog struct {
	mu    sync.Mutex
	swaps []swap
}

func (l *swapLog) byEdge(edge string) []swap {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []swap
	for _, s := range l.swaps {
		if s.edge == edge {
			out = append(out, s)
		}
	}
	return out
}

func (l *swapLog) all() []swap {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.swaps)
}

// countingStore is one edge's store, reporting its successful swaps to log.
type countingStore struct {
	waitroom.Store
	edge string
	log  *swapLog
}

func (s *countingStore) SwapControllerState(ctx context.Context, room string, expected int64, next waitroom.ControllerState) (bool, error) {
	swapped, err := s.Store.SwapControllerState(ctx, room, expected, next)
	if swapped {
		s.log.mu.Lock()
		s.log.swaps = append(s.log.swaps, swap{edge: s.edge, version: next.Version, at: next.LastDecision.Truncate(time.Millisecond)})
		s.log.mu.Unlock()
	}
	return swapped, err
}

// decisionRecorder is an edge observer that keeps the decisions it receives.
type decisionRecorder struct {
	mu        sync.Mutex
	decisions []waitroom.Decision
}

func (r *decisionRecorder) ObserveTick(string, waitroom.AdmitResult, error, time.Duration) {}

func (r *decisionRecorder) ObserveDecision(_ string, d waitroom.Decision) {
	r.mu.Lock()
	r.decisions = append(r.decisions, d)
	r.mu.Unlock()
}

func (r *decisionRecorder) reasons() []waitroom.Reason {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]waitroom.Reason, len(r.decisions))
	for i, d := range r.decisions {
		out[i] = d.Reason
	}
	return out
}

// controllerPeriod is the shortest period ControllerConfig allows, so the
// Redis tests, which run on Redis's own clock, wait as little as possible.
const controllerPeriod = time.Second

func newControllerEdge(t *testing.T, store waitroom.Store, keys waitroom.Keys, src waitroom.SignalSource, observer waitroom.TickObserver) *waitroom.Edge {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := waitroom.EdgeConfig{
		Tick:       20 * time.Millisecond,
		StaleAfter: time.Hour,
		Controllers: map[string]waitroom.RoomController{
			"museum": {Signals: src, Config: waitroom.ControllerConfig{Period: controllerPeriod, StartRatePerMinute: 600}},
		},
	}
	return waitroom.NewEdge(store, keys, cfg, log, observer)
}

func seedAutoRoom(t *testing.T, store waitroom.Store, burst int) {
	t.Helper()
	s := waitroom.Settings{ID: "museum", RatePerMinute: 600, Burst: burst, MaxActive: 100000, Mode: waitroom.ModeAuto}
	if _, err := store.SeedRoom(t.Context(), s); err != nil {
		t.Fatalf("SeedRoom: %v", err)
	}
}

func joinVisitors(t *testing.T, edge *waitroom.Edge, n int) []waitroom.Ticket {
	t.Helper()
	tickets := make([]waitroom.Ticket, n)
	for i := range tickets {
		res, err := edge.Join(t.Context(), "museum", nil)
		if err != nil {
			t.Fatalf("Join %d: %v", i, err)
		}
		tickets[i] = res.Ticket
	}
	return tickets
}

func admittedCount(t *testing.T, store waitroom.Store) int64 {
	t.Helper()
	snap, err := store.Snapshot(t.Context(), "museum")
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	return snap.Admitted
}

// tickUntil ticks edge until done reports true, at most maxTicks times and
// until ctx ends, pausing between ticks so that Redis's clock moves on. It
// reports whether done became true.
func tickUntil(ctx context.Context, t *testing.T, edge *waitroom.Edge, maxTicks int, done func() bool) bool {
	t.Helper()
	for range maxTicks {
		if ctx.Err() != nil {
			return false
		}
		if _, err := edge.Tick(ctx, "museum"); err != nil {
			t.Fatalf("Tick: %v", err)
		}
		if done() {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// TestControllerLeaderLoss lets edge A make a decision and then stop. Edge B,
// on the same Redis, decides at the next period and admission goes on.
func TestControllerLeaderLoss(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	keys := waitroom.TemporaryKeys(time.Now())
	swaps := &swapLog{}
	src := &fakeSignals{sig: healthySignals()}
	storeA := &countingStore{Store: redisstore.New(srv.Client()), edge: "A", log: swaps}
	storeB := &countingStore{Store: redisstore.New(srv.Client()), edge: "B", log: swaps}
	seedAutoRoom(t, storeA, 10)
	edgeA := newControllerEdge(t, storeA, keys, src, nil)
	edgeB := newControllerEdge(t, storeB, keys, src, nil)
	joinVisitors(t, edgeA, 100)

	// The deadline bounds the test; it is not what the test asserts.
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	if !tickUntil(ctx, t, edgeA, 100, func() bool { return len(swaps.byEdge("A")) > 0 }) {
		t.Fatal("edge A made no decision within 100 ticks")
	}
	decidedByA := swaps.byEdge("A")[0]
	if decidedByA.version != 1 {
		t.Errorf("edge A's decision: got version %d, want 1", decidedByA.version)
	}

	// Edge A stops here. B's first tick reads A's state and waits out the
	// period; a later tick decides.
	if !tickUntil(ctx, t, edgeB, 500, func() bool { return len(swaps.byEdge("B")) > 0 }) {
		t.Fatal("edge B made no decision within 500 ticks after edge A stopped")
	}
	decidedByB := swaps.byEdge("B")[0]
	if decidedByB.version != 2 {
		t.Errorf("edge B's first decision: got version %d, want 2", decidedByB.version)
	}
	if gap := decidedByB.at.Sub(decidedByA.at); gap < controllerPeriod {
		t.Errorf("edge B decided %s after edge A, want at least the period %s", gap, controllerPeriod)
	}

	admittedAtTakeover := admittedCount(t, storeB)
	if !tickUntil(ctx, t, edgeB, 500, func() bool { return admittedCount(t, storeB) > admittedAtTakeover }) {
		t.Fatalf("edge B admitted nobody within 500 ticks after taking over (admitted %d)", admittedAtTakeover)
	}
}

// TestControllerOneDecisionPerPeriod runs two edges on one Redis for a few
// periods and counts the successful compare-and-sets: one per version, and
// at least a period apart on Redis's clock.
func TestControllerOneDecisionPerPeriod(t *testing.T) {
	const decisions = 4
	srv := redistest.Start(t, redistest.Options{})
	keys := waitroom.TemporaryKeys(time.Now())
	swaps := &swapLog{}
	src := &fakeSignals{sig: healthySignals()}
	setup := redisstore.New(srv.Client())
	seedAutoRoom(t, setup, 10)

	recorders := []*decisionRecorder{{}, {}}
	edges := []*waitroom.Edge{
		newControllerEdge(t, &countingStore{Store: redisstore.New(srv.Client()), edge: "A", log: swaps}, keys, src, recorders[0]),
		newControllerEdge(t, &countingStore{Store: redisstore.New(srv.Client()), edge: "B", log: swaps}, keys, src, recorders[1]),
	}
	joinVisitors(t, edges[0], 100)

	// The deadline bounds the test; it is not what the test asserts.
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, e := range edges {
		wg.Go(func() { e.Run(ctx) })
	}
	var stored waitroom.ControllerState
	for ctx.Err() == nil {
		var err error
		stored, err = setup.ControllerState(t.Context(), "museum")
		if err != nil {
			t.Fatalf("ControllerState: %v", err)
		}
		if stored.Version >= decisions {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	if stored.Version < decisions {
		t.Fatalf("stored version %d before the deadline, want at least %d", stored.Version, decisions)
	}

	all := swaps.all()
	slices.SortFunc(all, func(a, b swap) int { return int(a.version - b.version) })
	for i, s := range all {
		if want := int64(i + 1); s.version != want {
			t.Fatalf("successful swap %d has version %d, want %d (swaps %+v)", i, s.version, want, all)
		}
		if i == 0 {
			continue
		}
		if gap := s.at.Sub(all[i-1].at); gap < controllerPeriod {
			t.Errorf("decision %d came %s after decision %d, want at least the period %s", s.version, gap, all[i-1].version, controllerPeriod)
		}
	}
	applied := len(recorders[0].reasons()) + len(recorders[1].reasons())
	if applied != len(all) {
		t.Errorf("edges applied %d decisions, want one per successful swap, %d", applied, len(all))
	}
}

// TestControllerSoldOut reports no places left: the room becomes sold out,
// a waiting visitor's next poll says so and nobody else is admitted.
func TestControllerSoldOut(t *testing.T) {
	for _, b := range controllerBackends {
		t.Run(b.name, func(t *testing.T) {
			store, advance := b.open(t)
			src := &fakeSignals{sig: healthySignals()}
			recorder := &decisionRecorder{}
			seedAutoRoom(t, store, 2)
			edge := newControllerEdge(t, store, waitroom.TemporaryKeys(time.Now()), src, recorder)
			tickets := joinVisitors(t, edge, 10)

			soldOut := healthySignals()
			soldOut.RemainingPlaces, soldOut.MostFreeInSlot, soldOut.MostFreeOrHeldInSlot = 0, 0, 0
			src.set(soldOut)
			if _, err := edge.Tick(t.Context(), "museum"); err != nil {
				t.Fatalf("Tick: %v", err)
			}

			if got, want := recorder.reasons(), []waitroom.Reason{waitroom.ReasonSoldOut}; !slices.Equal(got, want) {
				t.Fatalf("decisions: got reasons %v, want %v", got, want)
			}
			admitted := admittedCount(t, store)
			last := tickets[len(tickets)-1]
			st, err := edge.Status(t.Context(), last)
			if err != nil {
				t.Fatalf("Status of the last visitor: %v", err)
			}
			if st.RoomState != waitroom.RoomSoldOut {
				t.Errorf("Status of the last visitor: got room state %s, want %s", st.RoomState, waitroom.RoomSoldOut)
			}
			if st.State != waitroom.StateWaiting {
				t.Errorf("Status of the last visitor: got state %s, want %s", st.State, waitroom.StateWaiting)
			}

			for range 5 {
				advance(time.Minute)
				if _, err := edge.Tick(t.Context(), "museum"); err != nil {
					t.Fatalf("Tick after sold out: %v", err)
				}
			}
			if got := admittedCount(t, store); got != admitted {
				t.Errorf("admitted after sold out: got %d in all, want %d as at sold out", got, admitted)
			}
			if got := recorder.reasons(); len(got) != 1 {
				t.Errorf("decisions after sold out: got reasons %v, want only the sold_out one", got)
			}
			if _, err := edge.Join(t.Context(), "museum", nil); !errors.Is(err, waitroom.ErrRoomSoldOut) {
				t.Errorf("Join after sold out: got %v, want ErrRoomSoldOut", err)
			}
		})
	}
}

// TestFixedModeSoldOutFromInventory runs two edges on a room in mode
// fixed, ticking at once, after the booking inventory ran out. The room
// becomes sold out and waiting visitors see it on their next poll. No one
// else is admitted, the organizer's rate stays, and the audit log gives
// the reason.
func TestFixedModeSoldOutFromInventory(t *testing.T) {
	for _, b := range controllerBackends {
		t.Run(b.name, func(t *testing.T) {
			store, advance := b.open(t)
			s := waitroom.Settings{ID: "museum", RatePerMinute: 90, Burst: 2, MaxActive: 100000, Mode: waitroom.ModeFixed}
			if _, err := store.SeedRoom(t.Context(), s); err != nil {
				t.Fatalf("SeedRoom: %v", err)
			}
			src := &fakeSignals{sig: healthySignals()}
			recorder := &decisionRecorder{}
			keys := waitroom.TemporaryKeys(time.Now())
			edges := []*waitroom.Edge{
				newControllerEdge(t, store, keys, src, recorder),
				newControllerEdge(t, store, keys, src, recorder),
			}
			tickets := joinVisitors(t, edges[0], 10)
			tickBoth := func() {
				var wg sync.WaitGroup
				for _, edge := range edges {
					wg.Go(func() {
						if _, err := edge.Tick(t.Context(), "museum"); err != nil {
							t.Errorf("Tick: %v", err)
						}
					})
				}
				wg.Wait()
			}
			if st, err := edges[1].Status(t.Context(), tickets[len(tickets)-1]); err != nil || st.RoomState != waitroom.RoomOpen {
				t.Fatalf("Status with places left: got room state %s (err %v), want %s", st.RoomState, err, waitroom.RoomOpen)
			}

			soldOut := healthySignals()
			soldOut.RemainingPlaces, soldOut.MostFreeInSlot, soldOut.MostFreeOrHeldInSlot = 0, 0, 0
			src.set(soldOut)
			tickBoth()

			admitted := admittedCount(t, store)
			for _, edge := range edges {
				st, err := edge.Status(t.Context(), tickets[len(tickets)-1])
				if err != nil {
					t.Fatalf("Status of the last visitor: %v", err)
				}
				if st.RoomState != waitroom.RoomSoldOut {
					t.Errorf("Status of the last visitor: got room state %s, want %s", st.RoomState, waitroom.RoomSoldOut)
				}
			}
			for range 3 {
				advance(time.Minute)
				tickBoth()
			}
			if got := admittedCount(t, store); got != admitted {
				t.Errorf("admitted after sold out: got %d in all, want %d as at sold out", got, admitted)
			}
			snap, err := store.Snapshot(t.Context(), "museum")
			if err != nil {
				t.Fatalf("Snapshot: %v", err)
			}
			if snap.Settings.RatePerMinute != 90 || snap.Settings.Mode != waitroom.ModeFixed {
				t.Errorf("settings after sold out: got rate %v mode %s, want the organizer's 90 in mode fixed", snap.Settings.RatePerMinute, snap.Settings.Mode)
			}
			if got := recorder.reasons(); len(got) != 0 {
				t.Errorf("decisions in mode fixed: got %v, want none", got)
			}
			audit, err := store.AuditLog(t.Context(), "museum", 10)
			if err != nil {
				t.Fatalf("AuditLog: %v", err)
			}
			if len(audit) == 0 || audit[0].Actor != waitroom.InventoryActor || audit[0].Action != "sold_out" {
				t.Errorf("audit log: got %+v, want a sold_out entry by %q first", audit, waitroom.InventoryActor)
			}
		})
	}
}

// TestStatusPlacesOutlookInFixedMode checks that the places line also
// shows in mode fixed, where the edges read the places without deciding.
func TestStatusPlacesOutlookInFixedMode(t *testing.T) {
	room := startLowPlacesRoom(t, waitroom.ModeFixed)
	store, edge, tickets := room.store, room.edge, room.tickets

	if _, err := edge.Tick(t.Context(), "museum"); err != nil {
		t.Fatalf("Tick: %v", err)
	}
	st, err := edge.Status(t.Context(), tickets[len(tickets)-1])
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	snap, err := store.Snapshot(t.Context(), "museum")
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	if want := waitroom.EstimatePlaces(10, snap.Active, st.Ahead, waitroom.DefaultPlacesPerVisitor); !st.PlacesKnown || st.Places != want {
		t.Errorf("Status places in mode fixed: got known %v %+v, want %+v", st.PlacesKnown, st.Places, want)
	}
	if st.RoomState != waitroom.RoomOpen {
		t.Errorf("Status with 10 places left: got room state %s, want %s", st.RoomState, waitroom.RoomOpen)
	}
}

// TestControllerOffInFixedMode checks that a room in mode fixed keeps its
// rate although its edge has a controller for it.
func TestControllerOffInFixedMode(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	store := memstore.New(clock.Now)
	s := waitroom.Settings{ID: "museum", RatePerMinute: 90, Mode: waitroom.ModeFixed}
	if _, err := store.SeedRoom(t.Context(), s); err != nil {
		t.Fatalf("SeedRoom: %v", err)
	}
	recorder := &decisionRecorder{}
	edge := newControllerEdge(t, store, waitroom.TemporaryKeys(time.Now()), &fakeSignals{sig: healthySignals()}, recorder)

	for range 3 {
		if _, err := edge.Tick(t.Context(), "museum"); err != nil {
			t.Fatalf("Tick: %v", err)
		}
		clock.Advance(controllerPeriod)
	}

	if got := recorder.reasons(); len(got) != 0 {
		t.Errorf("decisions in mode fixed: got %v, want none", got)
	}
	state, err := store.ControllerState(t.Context(), "museum")
	if err != nil {
		t.Fatalf("ControllerState: %v", err)
	}
	if state.Version != 0 {
		t.Errorf("controller state in mode fixed: got version %d, want 0", state.Version)
	}
}

// TestControllerSignalsFailing makes the source fail: the controller still
// decides each period, moving the rate back toward its start, and does not
// declare the room sold out.
func TestControllerSignalsFailing(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	store := memstore.New(clock.Now)
	seedAutoRoom(t, store, 10)
	recorder := &decisionRecorder{}
	src := &fakeSignals{err: errors.New("booking backend unreachable")}
	edge := newControllerEdge(t, store, waitroom.TemporaryKeys(time.Now()), src, recorder)

	for range 3 {
		if _, err := edge.Tick(t.Context(), "museum"); err != nil {
			t.Fatalf("Tick: %v", err)
		}
		clock.Advance(controllerPeriod)
	}

	// The first decision takes over at the starting rate.
	want := []waitroom.Reason{waitroom.ReasonStart, waitroom.ReasonDecayStale, waitroom.ReasonDecayStale}
	if got := recorder.reasons(); !slices.Equal(got, want) {
		t.Errorf("decisions while signals fail: got %v, want %v", got, want)
	}
	snap, err := store.Snapshot(t.Context(), "museum")
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	if snap.Settings.SoldOut {
		t.Error("room sold out while signals fail, want it open")
	}
}

// controllerBackends open a store for the controller tests, with a function
// that lets time pass on its clock. The memory store's clock moves at once.
// Redis's clock is real, so its function only waits briefly, and the cases
// that use it must not depend on how much time passes.
var controllerBackends = []struct {
	name string
	open func(t *testing.T) (waitroom.Store, func(time.Duration))
}{
	{"memory", func(t *testing.T) (waitroom.Store, func(time.Duration)) {
		clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
		return memstore.New(clock.Now), clock.Advance
	}},
	{"redis", func(t *testing.T) (waitroom.Store, func(time.Duration)) {
		srv := redistest.Start(t, redistest.Options{})
		return redisstore.New(srv.Client()), func(time.Duration) { time.Sleep(50 * time.Millisecond) }
	}},
}

// TestStatusPlacesOutlook checks that a waiting visitor's status carries
// the places estimate once the controller has read the free places, and
// none when the source reports no place counts.
// lowPlacesRoom is room museum on a memory store, with an edge whose
// signals report 10 free places and 12 visitors joined.
type lowPlacesRoom struct {
	clock   *fakeClock
	store   *memstore.Store
	src     *fakeSignals
	edge    *waitroom.Edge
	tickets []waitroom.Ticket
}

func startLowPlacesRoom(t *testing.T, mode waitroom.Mode) lowPlacesRoom {
	t.Helper()
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	store := memstore.New(clock.Now)
	s := waitroom.Settings{ID: "museum", RatePerMinute: 0, Burst: 2, MaxActive: 100000, Mode: mode}
	if _, err := store.SeedRoom(t.Context(), s); err != nil {
		t.Fatalf("SeedRoom: %v", err)
	}
	low := healthySignals()
	low.RemainingPlaces, low.MostFreeInSlot, low.MostFreeOrHeldInSlot = 10, 10, 10
	src := &fakeSignals{sig: low}
	edge := newControllerEdge(t, store, waitroom.TemporaryKeys(time.Now()), src, nil)
	return lowPlacesRoom{clock: clock, store: store, src: src, edge: edge, tickets: joinVisitors(t, edge, 12)}
}

func TestStatusPlacesOutlook(t *testing.T) {
	room := startLowPlacesRoom(t, waitroom.ModeAuto)
	clock, src, edge, tickets := room.clock, room.src, room.edge, room.tickets

	if _, err := edge.Tick(t.Context(), "museum"); err != nil {
		t.Fatalf("Tick: %v", err)
	}
	st, err := edge.Status(t.Context(), tickets[len(tickets)-1])
	if err != nil {
		t.Fatalf("Status: %v", err)
	}

	if !st.PlacesKnown {
		t.Fatal("Status after the controller read 10 places: got PlacesKnown false, want true")
	}
	want := waitroom.EstimatePlaces(10, 2, st.Ahead, waitroom.DefaultPlacesPerVisitor)
	if st.Places != want {
		t.Errorf("Status places: got %+v, want %+v", st.Places, want)
	}
	if !st.Places.Low {
		t.Errorf("Status places for 5 orders and %d ahead: got Low false, want true", st.Places.Ahead)
	}

	noCounts := healthySignals()
	noCounts.HasInventory = false
	src.set(noCounts)
	clock.Advance(controllerPeriod)
	if _, err := edge.Tick(t.Context(), "museum"); err != nil {
		t.Fatalf("Tick: %v", err)
	}
	st, err = edge.Status(t.Context(), tickets[len(tickets)-1])
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	if st.PlacesKnown {
		t.Errorf("Status after a read without place counts: got PlacesKnown true (%+v), want false", st.Places)
	}
}
