package waitroom_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"foyer/waitroom"
	"foyer/waitroom/memstore"
)

// fakeClock is a clock that moves only when the test advances it.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// watchedStore counts Position calls and can be switched to fail like a lost
// Redis, so tests can see which polls reach the store.
type watchedStore struct {
	waitroom.Store
	positions atomic.Int64
	down      atomic.Bool
}

func (s *watchedStore) Position(ctx context.Context, room, visitor string) (waitroom.Place, error) {
	s.positions.Add(1)
	if s.down.Load() {
		return waitroom.Place{}, fmt.Errorf("position: %w", waitroom.ErrUnavailable)
	}
	return s.Store.Position(ctx, room, visitor)
}

func (s *watchedStore) Snapshot(ctx context.Context, room string) (waitroom.Snapshot, error) {
	if s.down.Load() {
		return waitroom.Snapshot{}, fmt.Errorf("snapshot: %w", waitroom.ErrUnavailable)
	}
	return s.Store.Snapshot(ctx, room)
}

func newTestEdge(t *testing.T, store waitroom.Store) *waitroom.Edge {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	return waitroom.NewEdge(store, waitroom.TemporaryKeys(time.Now()), waitroom.EdgeConfig{StaleAfter: time.Hour}, log, nil)
}

func TestEdgeFarBackPollSkipsStore(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	store := &watchedStore{Store: memstore.New(clock.Now)}
	if _, err := store.SeedRoom(ctx, waitroom.Settings{ID: "museum", RatePerMinute: 60}); err != nil {
		t.Fatal(err)
	}
	edge := newTestEdge(t, store)

	var last waitroom.JoinResult
	for range waitroom.NearHead + 50 {
		res, err := edge.Join(ctx, "museum", nil)
		if err != nil {
			t.Fatal(err)
		}
		last = res
	}
	if _, err := edge.Refresh(ctx, "museum"); err != nil {
		t.Fatal(err)
	}

	st, err := edge.Status(ctx, last.Ticket)
	if err != nil {
		t.Fatal(err)
	}
	if got := store.positions.Load(); got != 0 {
		t.Fatalf("far-back poll made %d Position calls, want 0", got)
	}
	if st.State != waitroom.StateWaiting || st.Exact {
		t.Fatalf("got state %s exact=%v, want an estimated waiting status", st.State, st.Exact)
	}
	if want := int64(waitroom.NearHead + 49); st.Ahead != want {
		t.Fatalf("got %d ahead, want %d", st.Ahead, want)
	}

	// The poll's heartbeat reaches the store at the next tick, so a visitor
	// who keeps polling is not skipped as abandoned.
	clock.Advance(80 * time.Second)
	if _, err := edge.Status(ctx, last.Ticket); err != nil {
		t.Fatal(err)
	}
	if _, err := edge.Tick(ctx, "museum"); err != nil {
		t.Fatal(err)
	}
	clock.Advance(20 * time.Second)
	place, err := store.Store.Position(ctx, "museum", last.Ticket.Visitor)
	if err != nil {
		t.Fatal(err)
	}
	if place.State != waitroom.StateWaiting {
		t.Fatalf("polling visitor: got state %s, want waiting", place.State)
	}
}

func TestEdgeNearHeadPollIsExact(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	store := &watchedStore{Store: memstore.New(clock.Now)}
	if _, err := store.SeedRoom(ctx, waitroom.Settings{ID: "museum", RatePerMinute: 60}); err != nil {
		t.Fatal(err)
	}
	edge := newTestEdge(t, store)

	first, _ := edge.Join(ctx, "museum", nil)
	second, _ := edge.Join(ctx, "museum", nil)
	st, err := edge.Status(ctx, second.Ticket)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Exact || st.Ahead != 1 {
		t.Fatalf("got exact=%v ahead=%d, want the exact count 1", st.Exact, st.Ahead)
	}

	if _, err := edge.Tick(ctx, "museum"); err != nil {
		t.Fatal(err)
	}
	st, err = edge.Status(ctx, first.Ticket)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != waitroom.StateAdmitted || st.Deadline.IsZero() {
		t.Fatalf("got state %s deadline %v, want admitted with a deadline", st.State, st.Deadline)
	}
}

func TestEdgePrequeueTicketReissued(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	store := memstore.New(clock.Now)
	opens := clock.Now().Add(time.Minute)
	if _, err := store.SeedRoom(ctx, waitroom.Settings{ID: "museum", OpensAt: opens}); err != nil {
		t.Fatal(err)
	}
	edge := newTestEdge(t, store)

	res, err := edge.Join(ctx, "museum", nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Place.State != waitroom.StatePrequeue || res.Ticket.Sequence != 0 {
		t.Fatalf("got state %s sequence %d, want the pre-queue with no sequence", res.Place.State, res.Ticket.Sequence)
	}

	clock.Advance(2 * time.Minute)
	if _, err := edge.Refresh(ctx, "museum"); err != nil {
		t.Fatal(err)
	}
	st, err := edge.Status(ctx, res.Ticket)
	if err != nil {
		t.Fatal(err)
	}
	if st.Ticket == nil || st.Ticket.Sequence != 1 {
		t.Fatalf("got reissued ticket %+v, want one with sequence 1", st.Ticket)
	}
	if st.State != waitroom.StateWaiting {
		t.Fatalf("got state %s, want waiting", st.State)
	}
}

func TestEdgeDegradesWhenStoreDown(t *testing.T) {
	ctx := context.Background()
	store := &watchedStore{Store: memstore.New(nil)}
	if _, err := store.SeedRoom(ctx, waitroom.Settings{ID: "museum", RatePerMinute: 60}); err != nil {
		t.Fatal(err)
	}
	edge := newTestEdge(t, store)
	_, _ = edge.Join(ctx, "museum", nil)
	res, err := edge.Join(ctx, "museum", nil)
	if err != nil {
		t.Fatal(err)
	}

	store.down.Store(true)
	if _, err := edge.Tick(ctx, "museum"); err != nil {
		t.Logf("tick with the store down failed as expected: %v", err)
	}
	st, err := edge.Status(ctx, res.Ticket)
	if err != nil {
		t.Fatalf("status with the store down: got %v, want the last known place", err)
	}
	// The snapshot predates the second join, but the ticket's sequence
	// still places one visitor ahead.
	if !st.Degraded || st.State != waitroom.StateWaiting || st.Ahead != 1 {
		t.Fatalf("got degraded=%v state=%s ahead=%d, want a degraded waiting status with 1 ahead", st.Degraded, st.State, st.Ahead)
	}

	store.down.Store(false)
	if _, err := edge.Tick(ctx, "museum"); err != nil {
		t.Fatal(err)
	}
	st, err = edge.Status(ctx, res.Ticket)
	if err != nil {
		t.Fatal(err)
	}
	if st.Degraded {
		t.Fatalf("status after the store came back is still degraded")
	}
}

func TestEdgeExpiredVisitorGetsNewID(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	store := memstore.New(clock.Now)
	if _, err := store.SeedRoom(ctx, waitroom.Settings{ID: "museum", RatePerMinute: 60, AdmissionWindow: time.Minute}); err != nil {
		t.Fatal(err)
	}
	edge := newTestEdge(t, store)
	first, _ := edge.Join(ctx, "museum", nil)
	if _, err := edge.Tick(ctx, "museum"); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Minute)

	again, err := edge.Join(ctx, "museum", &first.Ticket)
	if err != nil {
		t.Fatal(err)
	}
	if again.Ticket.Visitor == first.Ticket.Visitor {
		t.Fatalf("rejoin after expiry kept visitor id %s, want a new one", first.Ticket.Visitor)
	}
	if !again.Place.Created || again.Place.Sequence != 2 {
		t.Fatalf("got place %+v, want a new place with sequence 2", again.Place)
	}
}

func TestEdgeUnknownRoom(t *testing.T) {
	edge := newTestEdge(t, memstore.New(nil))
	_, err := edge.Join(context.Background(), "nowhere", nil)
	if !errors.Is(err, waitroom.ErrRoomNotFound) {
		t.Fatalf("got %v, want ErrRoomNotFound", err)
	}
	if len(edge.Snapshots()) != 0 {
		t.Fatalf("edge keeps a cache entry for an unknown room")
	}
}
