package waitroom_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"foyer/internal/redistest"
	"foyer/waitroom"
	"foyer/waitroom/memstore"
	"foyer/waitroom/redisstore"
)

// checkDecisionHistory checks that a room's stored decisions, newest
// first, are one per control period: their times at least a period apart,
// and each one's old rate the rate the one before it gave the room. The
// times are compared to the millisecond, as the controller state keeps
// the time of the last decision that the period counts from.
func checkDecisionHistory(t *testing.T, stored []waitroom.Decision) {
	t.Helper()
	for i := len(stored) - 2; i >= 0; i-- {
		later, earlier := stored[i], stored[i+1]
		if gap := later.At.Truncate(time.Millisecond).Sub(earlier.At.Truncate(time.Millisecond)); gap < controllerPeriod {
			t.Errorf("stored decision at %s came %s after the one before, want at least the period %s", later.At, gap, controllerPeriod)
		}
		if later.OldRatePerMinute != earlier.NewRatePerMinute {
			t.Errorf("stored decision at %s: got old rate %v, want the rate %v that the decision before gave", later.At, later.OldRatePerMinute, earlier.NewRatePerMinute)
		}
	}
}

// TestControllerStoresOneDecisionPerPeriod steps two edges over one memory
// store through several control periods, both in every period: the
// history holds exactly one decision per period, the one the edges applied.
func TestControllerStoresOneDecisionPerPeriod(t *testing.T) {
	const periods = 6
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	store := memstore.New(clock.Now)
	seedAutoRoom(t, store, 10)
	src := &fakeSignals{sig: healthySignals()}
	keys := waitroom.TemporaryKeys(time.Now())
	recorders := []*decisionRecorder{{}, {}}
	edges := []*waitroom.Edge{
		newControllerEdge(t, store, keys, src, recorders[0]),
		newControllerEdge(t, store, keys, src, recorders[1]),
	}
	joinVisitors(t, edges[0], 50)

	for period := range periods {
		// Take turns at ticking first, so each edge wins some periods.
		order := []*waitroom.Edge{edges[period%2], edges[1-period%2]}
		for _, e := range order {
			if _, err := e.Tick(t.Context(), "museum"); err != nil {
				t.Fatalf("period %d: Tick: %v", period, err)
			}
		}
		clock.Advance(controllerPeriod)
	}

	stored, err := store.Decisions(t.Context(), "museum", waitroom.MaxDecisions)
	if err != nil {
		t.Fatalf("Decisions: %v", err)
	}
	if len(stored) != periods {
		t.Fatalf("stored decisions: got %d, want one per period, %d", len(stored), periods)
	}
	checkDecisionHistory(t, stored)

	var applied []waitroom.Decision
	for _, r := range recorders {
		if len(r.reasons()) == 0 {
			t.Errorf("an edge applied no decision in %d periods of taking turns, want some from each", periods)
		}
		r.mu.Lock()
		applied = append(applied, r.decisions...)
		r.mu.Unlock()
	}
	slices.SortFunc(applied, func(a, b waitroom.Decision) int { return b.At.Compare(a.At) })
	if len(applied) != len(stored) {
		t.Fatalf("edges applied %d decisions, want the %d stored", len(applied), len(stored))
	}
	for i := range stored {
		got, want := stored[i], applied[i]
		if !got.At.Equal(want.At) || got.Reason != want.Reason || got.NewRatePerMinute != want.NewRatePerMinute || got.Signals.Samples != want.Signals.Samples {
			t.Errorf("stored decision %d: got %s at %s to rate %v, want the applied %s at %s to rate %v",
				i, got.Reason, got.At, got.NewRatePerMinute, want.Reason, want.At, want.NewRatePerMinute)
		}
	}

	state, err := store.ControllerState(t.Context(), "museum")
	if err != nil {
		t.Fatalf("ControllerState: %v", err)
	}
	if state.Version != periods {
		t.Errorf("controller state: got version %d, want %d", state.Version, periods)
	}
}

// TestControllerStoresDecisionsOnRedis runs two edges on one Redis for a
// few periods: the history holds one decision per state version, a period
// apart on Redis's clock.
func TestControllerStoresDecisionsOnRedis(t *testing.T) {
	const decisions = 3
	srv := redistest.Start(t, redistest.Options{})
	keys := waitroom.TemporaryKeys(time.Now())
	src := &fakeSignals{sig: healthySignals()}
	setup := redisstore.New(srv.Client())
	seedAutoRoom(t, setup, 10)
	edges := []*waitroom.Edge{
		newControllerEdge(t, redisstore.New(srv.Client()), keys, src, nil),
		newControllerEdge(t, redisstore.New(srv.Client()), keys, src, nil),
	}
	joinVisitors(t, edges[0], 100)

	// The deadline bounds the test; it is not what the test asserts.
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, e := range edges {
		wg.Go(func() { e.Run(ctx) })
	}
	for ctx.Err() == nil {
		state, err := setup.ControllerState(t.Context(), "museum")
		if err != nil {
			t.Fatalf("ControllerState: %v", err)
		}
		if state.Version >= decisions {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	wg.Wait()

	state, err := setup.ControllerState(t.Context(), "museum")
	if err != nil {
		t.Fatalf("ControllerState: %v", err)
	}
	if state.Version < decisions {
		t.Fatalf("stored version %d before the deadline, want at least %d", state.Version, decisions)
	}
	stored, err := setup.Decisions(t.Context(), "museum", waitroom.MaxDecisions)
	if err != nil {
		t.Fatalf("Decisions: %v", err)
	}
	if int64(len(stored)) != state.Version {
		t.Fatalf("stored decisions: got %d, want one per state version, %d", len(stored), state.Version)
	}
	// The state keeps its times to the millisecond, the history exactly.
	if newest := stored[0].At.Truncate(time.Millisecond); !newest.Equal(state.LastDecision) {
		t.Errorf("newest stored decision: got time %s, want the state's last decision %s", newest, state.LastDecision)
	}
	checkDecisionHistory(t, stored)
}

// failingHistoryStore fails every AppendDecision, like a store that lost
// its connection between applying a decision and recording it.
type failingHistoryStore struct {
	waitroom.Store
}

func (s failingHistoryStore) AppendDecision(context.Context, string, waitroom.Decision) error {
	return errors.New("connection reset")
}

// TestControllerDecisionKeptWhenHistoryFails checks that a failed append
// to the history leaves the decision applied: the room has the new rate and
// the observer has the decision.
func TestControllerDecisionKeptWhenHistoryFails(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	inner := memstore.New(clock.Now)
	store := failingHistoryStore{Store: inner}
	s := waitroom.Settings{ID: "museum", RatePerMinute: 90, MaxActive: 100000, Mode: waitroom.ModeAuto}
	if _, err := store.SeedRoom(t.Context(), s); err != nil {
		t.Fatalf("SeedRoom: %v", err)
	}
	stopped := healthySignals()
	stopped.MostFreeInSlot = 0
	recorder := &decisionRecorder{}
	edge := newControllerEdge(t, store, waitroom.TemporaryKeys(time.Now()), &fakeSignals{sig: stopped}, recorder)

	if _, err := edge.Tick(t.Context(), "museum"); err != nil {
		t.Fatalf("Tick: %v", err)
	}

	if got, want := recorder.reasons(), []waitroom.Reason{waitroom.ReasonWaitForHolds}; !slices.Equal(got, want) {
		t.Fatalf("applied decisions: got %v, want %v", got, want)
	}
	snap, err := inner.Snapshot(t.Context(), "museum")
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	if snap.Settings.RatePerMinute != 0 {
		t.Errorf("room rate after wait_for_holds: got %v, want 0", snap.Settings.RatePerMinute)
	}
	stored, err := inner.Decisions(t.Context(), "museum", 10)
	if err != nil {
		t.Fatalf("Decisions: %v", err)
	}
	if len(stored) != 0 {
		t.Errorf("stored decisions with a failing history: got %d, want 0", len(stored))
	}
}

// TestControllerWaitForHoldsAdmitsNone lets the controller stop admission
// while the room's bucket is full: visitors who join afterwards are not
// admitted, not even up to the burst.
func TestControllerWaitForHoldsAdmitsNone(t *testing.T) {
	for _, b := range controllerBackends {
		t.Run(b.name, func(t *testing.T) {
			store, advance := b.open(t)
			seedAutoRoom(t, store, 10)
			waitForHolds := healthySignals()
			waitForHolds.MostFreeInSlot = 0
			recorder := &decisionRecorder{}
			edge := newControllerEdge(t, store, waitroom.TemporaryKeys(time.Now()), &fakeSignals{sig: waitForHolds}, recorder)

			// The first tick fills the bucket with the burst and decides.
			if _, err := edge.Tick(t.Context(), "museum"); err != nil {
				t.Fatalf("Tick: %v", err)
			}
			if got, want := recorder.reasons(), []waitroom.Reason{waitroom.ReasonWaitForHolds}; !slices.Equal(got, want) {
				t.Fatalf("decisions: got reasons %v, want %v", got, want)
			}
			joinVisitors(t, edge, 5)
			for range 3 {
				advance(100 * time.Millisecond)
				if _, err := edge.Tick(t.Context(), "museum"); err != nil {
					t.Fatalf("Tick: %v", err)
				}
			}

			if got := admittedCount(t, store); got != 0 {
				t.Errorf("admitted while waiting for holds: got %d, want 0", got)
			}
		})
	}
}
