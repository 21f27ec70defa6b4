package waitroom_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"foyer/waitroom"
	"foyer/waitroom/memstore"
)

// controllerBuilder is an EdgeConfig.DefaultController that records the
// settings it was called with and gives every room the same source.
type controllerBuilder struct {
	src waitroom.SignalSource
	// reject lists rooms for which build returns ok false.
	reject map[string]bool

	mu    sync.Mutex
	calls []waitroom.Settings
}

func (b *controllerBuilder) build(s waitroom.Settings) (waitroom.RoomController, bool) {
	b.mu.Lock()
	b.calls = append(b.calls, s)
	b.mu.Unlock()
	if b.reject[s.ID] {
		return waitroom.RoomController{}, false
	}
	return waitroom.RoomController{Signals: b.src, Config: waitroom.ControllerConfig{Period: controllerPeriod, StartRatePerMinute: 600}}, true
}

// built returns "room/event" for each call, in order.
func (b *controllerBuilder) built() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]string, len(b.calls))
	for i, s := range b.calls {
		out[i] = s.ID + "/" + s.Event
	}
	return out
}

// roomDecisions is an edge observer that keeps the decisions it receives
// with their room.
type roomDecisions struct {
	mu        sync.Mutex
	decisions map[string][]waitroom.Decision
}

func (r *roomDecisions) ObserveTick(string, waitroom.AdmitResult, error, time.Duration) {}

func (r *roomDecisions) ObserveDecision(room string, d waitroom.Decision) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.decisions == nil {
		r.decisions = make(map[string][]waitroom.Decision)
	}
	r.decisions[room] = append(r.decisions[room], d)
}

func (r *roomDecisions) of(room string) []waitroom.Decision {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.decisions[room])
}

func newDefaultControllerEdge(store waitroom.Store, cfg waitroom.EdgeConfig, observer waitroom.TickObserver) *waitroom.Edge {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.Tick, cfg.RoomListEvery, cfg.StaleAfter = 20*time.Millisecond, 50*time.Millisecond, time.Hour
	return waitroom.NewEdge(store, waitroom.TemporaryKeys(time.Now()), cfg, log, observer)
}

// TestDefaultControllerRoomCreatedLater creates a room in the store while
// an edge runs, as the admin API does, and switches it to mode auto: the
// edge builds the room's controller and applies its decisions.
func TestDefaultControllerRoomCreatedLater(t *testing.T) {
	for _, b := range controllerBackends {
		t.Run(b.name, func(t *testing.T) {
			store, _ := b.open(t)
			builder := &controllerBuilder{src: &fakeSignals{sig: healthySignals()}}
			decisions := &roomDecisions{}
			edge := newDefaultControllerEdge(store, waitroom.EdgeConfig{DefaultController: builder.build}, decisions)

			// The deadline bounds the test; it is not what the test asserts.
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			var wg sync.WaitGroup
			wg.Go(func() { edge.Run(ctx) })
			defer wg.Wait()
			defer cancel()

			s := waitroom.Settings{ID: "gallery", Event: "art", RatePerMinute: 30, Burst: 10, MaxActive: 100000}.WithDefaults()
			if err := store.CreateRoom(t.Context(), s); err != nil {
				t.Fatalf("CreateRoom: %v", err)
			}
			if _, err := store.UpdateRoom(t.Context(), "gallery", waitroom.Patch{Mode: new(waitroom.ModeAuto)}); err != nil {
				t.Fatalf("UpdateRoom to mode auto: %v", err)
			}

			for ctx.Err() == nil && len(decisions.of("gallery")) == 0 {
				time.Sleep(20 * time.Millisecond)
			}
			cancel()
			wg.Wait()

			got := decisions.of("gallery")
			if len(got) == 0 {
				t.Fatal("room gallery created after start and set to mode auto: got no controller decision before the deadline, want one")
			}
			snap, err := store.Snapshot(t.Context(), "gallery")
			if err != nil {
				t.Fatalf("Snapshot: %v", err)
			}
			if last := got[len(got)-1]; snap.Settings.RatePerMinute != last.NewRatePerMinute {
				t.Errorf("room rate: got %v per minute, want %v from the last decision (%s)", snap.Settings.RatePerMinute, last.NewRatePerMinute, last.Reason)
			}
			if want := []string{"gallery/art"}; !slices.Equal(builder.built(), want) {
				t.Errorf("controllers built: got %v, want %v", builder.built(), want)
			}
		})
	}
}

// TestDefaultControllerBuiltOncePerEvent checks that the edge keeps the
// controller it built across ticks and polls, gives the room's waiting
// visitors the places outlook from it, and builds a new one when the
// room's event changes.
func TestDefaultControllerBuiltOncePerEvent(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	store := memstore.New(clock.Now)
	low := healthySignals()
	low.RemainingPlaces, low.MostFreeInSlot, low.MostFreeOrHeldInSlot = 10, 10, 10
	builder := &controllerBuilder{src: &fakeSignals{sig: low}}
	edge := newDefaultControllerEdge(store, waitroom.EdgeConfig{DefaultController: builder.build}, nil)

	s := waitroom.Settings{ID: "museum", Event: "spring", Burst: 2, MaxActive: 100000, Mode: waitroom.ModeAuto}
	if _, err := store.SeedRoom(t.Context(), s); err != nil {
		t.Fatalf("SeedRoom: %v", err)
	}
	tickets := joinVisitors(t, edge, 12)

	for range 3 {
		if _, err := edge.Tick(t.Context(), "museum"); err != nil {
			t.Fatalf("Tick: %v", err)
		}
		clock.Advance(controllerPeriod)
	}
	st, err := edge.Status(t.Context(), tickets[len(tickets)-1])
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	if !st.PlacesKnown || !st.Places.Low || st.Places.Places != 10 {
		t.Errorf("Status with 10 places left: got known %v, places %+v, want known and low with 10 places", st.PlacesKnown, st.Places)
	}
	if want := []string{"museum/spring"}; !slices.Equal(builder.built(), want) {
		t.Fatalf("controllers built after 3 ticks and a poll: got %v, want %v", builder.built(), want)
	}

	if _, err := store.UpdateRoom(t.Context(), "museum", waitroom.Patch{Event: new("autumn")}); err != nil {
		t.Fatalf("UpdateRoom event: %v", err)
	}
	if _, err := edge.Tick(t.Context(), "museum"); err != nil {
		t.Fatalf("Tick: %v", err)
	}
	if want := []string{"museum/spring", "museum/autumn"}; !slices.Equal(builder.built(), want) {
		t.Errorf("controllers built after the event changed: got %v, want %v", builder.built(), want)
	}
}

// TestDefaultControllerLeavesOthers checks that a room listed in
// EdgeConfig.Controllers keeps its own controller, and that a room the
// builder rejects gets no decision.
func TestDefaultControllerLeavesOthers(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	store := memstore.New(clock.Now)
	configured := &fakeSignals{sig: healthySignals()}
	builder := &controllerBuilder{src: &fakeSignals{sig: healthySignals()}, reject: map[string]bool{"annex": true}}
	decisions := &roomDecisions{}
	cfg := waitroom.EdgeConfig{
		Controllers: map[string]waitroom.RoomController{
			"museum": {Signals: configured, Config: waitroom.ControllerConfig{Period: controllerPeriod}},
		},
		DefaultController: builder.build,
	}
	edge := newDefaultControllerEdge(store, cfg, decisions)

	for _, id := range []string{"museum", "annex"} {
		s := waitroom.Settings{ID: id, RatePerMinute: 60, Burst: 2, MaxActive: 100000, Mode: waitroom.ModeAuto}
		if _, err := store.SeedRoom(t.Context(), s); err != nil {
			t.Fatalf("SeedRoom %s: %v", id, err)
		}
	}
	for range 3 {
		for _, id := range []string{"museum", "annex"} {
			if _, err := edge.Tick(t.Context(), id); err != nil {
				t.Fatalf("Tick %s: %v", id, err)
			}
		}
		clock.Advance(controllerPeriod)
	}

	if want := []string{"annex/"}; !slices.Equal(builder.built(), want) {
		t.Errorf("controllers built: got %v, want %v: none for the configured room, one try for annex", builder.built(), want)
	}
	if got := len(decisions.of("museum")); got != 3 {
		t.Errorf("decisions in the configured room: got %d, want 3, one per period", got)
	}
	if got := decisions.of("annex"); len(got) != 0 {
		t.Errorf("decisions in the room the builder rejected: got %d, want none", len(got))
	}
	state, err := store.ControllerState(t.Context(), "annex")
	if err != nil {
		t.Fatalf("ControllerState: %v", err)
	}
	if state.Version != 0 {
		t.Errorf("controller state of the room the builder rejected: got version %d, want 0", state.Version)
	}
}
