package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"foyer/waitroom"
)

func testJoinKeepsPlace(t *testing.T, f Fixture) {
	createRoom(t, f, waitroom.Settings{ID: room, RatePerMinute: 60})

	places := joinAll(t, f, room, "a", "b", "c")
	for i, p := range places {
		want := waitroom.Place{Visitor: p.Visitor, State: waitroom.StateWaiting, Sequence: int64(i + 1), Ahead: int64(i), Created: true}
		if p != want {
			t.Errorf("Join(%s): got %+v, want %+v", p.Visitor, p, want)
		}
	}

	again := joinAll(t, f, room, "b")[0]
	want := waitroom.Place{Visitor: "b", State: waitroom.StateWaiting, Sequence: 2, Ahead: 1}
	if again != want {
		t.Errorf("Join(b) again: got %+v, want %+v", again, want)
	}

	got := position(t, f, room, "c")
	want = waitroom.Place{Visitor: "c", State: waitroom.StateWaiting, Sequence: 3, Ahead: 2}
	if got != want {
		t.Errorf("Position(c): got %+v, want %+v", got, want)
	}

	snap := snapshot(t, f, room)
	if snap.Tail != 3 || snap.Waiting != 3 || snap.Head != 0 {
		t.Errorf("Snapshot: got tail %d, waiting %d, head %d, want 3, 3, 0", snap.Tail, snap.Waiting, snap.Head)
	}
}

// testJoinConcurrentGapFree joins 2,000 visitors at once, then joins them all
// again at once: every visitor gets one place and the sequence numbers are
// 1 to 2,000 without gaps or repeats.
func testJoinConcurrentGapFree(t *testing.T, f Fixture) {
	ctx := t.Context()
	createRoom(t, f, waitroom.Settings{ID: room, RatePerMinute: 60})
	const n = 2000
	ids := visitors(n)

	joinConcurrently := func() []waitroom.Place {
		places := make([]waitroom.Place, n)
		var wg sync.WaitGroup
		for i, id := range ids {
			wg.Go(func() {
				p, err := f.Store.Join(ctx, room, id, 0)
				if err != nil {
					t.Errorf("Join(%s): %v", id, err)
				}
				places[i] = p
			})
		}
		wg.Wait()
		return places
	}

	first := joinConcurrently()
	holder := make(map[int64]string, n)
	for i, p := range first {
		if !p.Created || p.State != waitroom.StateWaiting {
			t.Errorf("first Join(%s): got created %v, state %s, want true, %s", ids[i], p.Created, p.State, waitroom.StateWaiting)
		}
		if p.Sequence < 1 || p.Sequence > n {
			t.Errorf("first Join(%s): got sequence %d, want 1 to %d", ids[i], p.Sequence, n)
		}
		if other, ok := holder[p.Sequence]; ok {
			t.Errorf("sequence %d: got both %s and %s, want one visitor", p.Sequence, other, ids[i])
		}
		holder[p.Sequence] = ids[i]
	}
	if len(holder) != n {
		t.Errorf("distinct sequence numbers: got %d, want %d", len(holder), n)
	}

	second := joinConcurrently()
	for i, p := range second {
		if p.Created || p.Sequence != first[i].Sequence {
			t.Errorf("second Join(%s): got created %v, sequence %d, want false, %d", ids[i], p.Created, p.Sequence, first[i].Sequence)
		}
		if p.Ahead != p.Sequence-1 {
			t.Errorf("second Join(%s): got %d ahead, want %d", ids[i], p.Ahead, p.Sequence-1)
		}
	}

	snap := snapshot(t, f, room)
	if snap.Tail != n || snap.Waiting != n {
		t.Errorf("Snapshot: got tail %d, waiting %d, want %d, %d", snap.Tail, snap.Waiting, n, n)
	}
}

// testJoinSameVisitorConcurrent races joins of one visitor, in an open room
// and in a pre-queue: exactly one of them creates a place.
func testJoinSameVisitorConcurrent(t *testing.T, f Fixture) {
	ctx := t.Context()
	createRoom(t, f, waitroom.Settings{ID: room, RatePerMinute: 60})
	createRoom(t, f, waitroom.Settings{ID: "later", RatePerMinute: 60, OpensAt: time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)})
	const n = 200

	for _, roomID := range []string{room, "later"} {
		places := make([]waitroom.Place, n)
		var wg sync.WaitGroup
		for i := range places {
			wg.Go(func() {
				p, err := f.Store.Join(ctx, roomID, "same", uint64(i)<<20)
				if err != nil {
					t.Errorf("Join(%s, same): %v", roomID, err)
				}
				places[i] = p
			})
		}
		wg.Wait()

		created := 0
		for _, p := range places {
			if p.Created {
				created++
			}
			if p.Sequence != places[0].Sequence || p.State != places[0].State {
				t.Errorf("Join(%s, same): got sequence %d, state %s, want %d, %s like the others",
					roomID, p.Sequence, p.State, places[0].Sequence, places[0].State)
			}
		}
		if created != 1 {
			t.Errorf("Join(%s, same) from %d goroutines: got %d places created, want 1", roomID, n, created)
		}
		snap := snapshot(t, f, roomID)
		if snap.Waiting+snap.Prequeue != 1 {
			t.Errorf("Snapshot(%s): got %d waiting and %d in the pre-queue, want 1 in all", roomID, snap.Waiting, snap.Prequeue)
		}
	}
}

// prequeueKey returns a key whose PrequeueScore is score; low adds to the
// 11 low bits that PrequeueScore drops, so keys differing only there tie.
func prequeueKey(score, low uint64) uint64 { return score<<11 | low }

// testPrequeueKeyOrderAtOpening joins visitors before opening in one order
// and checks that opening numbers them in key order, ties by visitor id,
// ahead of visitors who join after.
func testPrequeueKeyOrderAtOpening(t *testing.T, f Fixture) {
	ctx := t.Context()
	createRoom(t, f, waitroom.Settings{ID: room, Burst: 20, OpensAt: time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)})

	early := []struct {
		visitor string
		key     uint64
	}{
		{"p-a", prequeueKey(5, 0)},
		{"p-b", prequeueKey(1, 0)},
		{"p-c", prequeueKey(3, 0)},
		{"p-d", prequeueKey(3, 7)},
		{"p-e", prequeueKey(2, 1)},
		{"p-0", prequeueKey(3, 1)},
	}
	for i, e := range early {
		p, err := f.Store.Join(ctx, room, e.visitor, e.key)
		if err != nil {
			t.Fatalf("Join(%s) before opening: %v", e.visitor, err)
		}
		want := waitroom.Place{Visitor: e.visitor, State: waitroom.StatePrequeue, Ahead: int64(i), Created: true}
		if p != want {
			t.Errorf("Join(%s) before opening: got %+v, want %+v", e.visitor, p, want)
		}
	}

	if got := position(t, f, room, "p-a"); got.State != waitroom.StatePrequeue || got.Ahead != int64(len(early)-1) {
		t.Errorf("Position(p-a) before opening: got state %s, %d ahead, want %s, %d", got.State, got.Ahead, waitroom.StatePrequeue, len(early)-1)
	}
	snap := snapshot(t, f, room)
	if snap.State() != waitroom.RoomScheduled || snap.Prequeue != int64(len(early)) || snap.Tail != 0 {
		t.Errorf("Snapshot before opening: got state %s, pre-queue %d, tail %d, want %s, %d, 0",
			snap.State(), snap.Prequeue, snap.Tail, waitroom.RoomScheduled, len(early))
	}
	res := admit(t, f, room, unlimited)
	if res.State != waitroom.RoomScheduled || len(res.Admitted) != 0 || res.Promoted != 0 {
		t.Errorf("Admit before opening: got state %s, %d admitted, %d promoted, want %s, 0, 0",
			res.State, len(res.Admitted), res.Promoted, waitroom.RoomScheduled)
	}

	// The organizer opens the room now; the first join after it orders the
	// pre-queue before taking its own number.
	if _, err := f.Store.UpdateRoom(ctx, room, waitroom.Patch{OpensAt: new(snap.Now.Add(-time.Second))}); err != nil {
		t.Fatalf("UpdateRoom(opens_at now): %v", err)
	}
	late := joinAll(t, f, room, "l-1", "l-2")
	if late[0].Sequence != 7 || late[1].Sequence != 8 {
		t.Errorf("Join after opening: got sequences %d and %d, want 7 and 8", late[0].Sequence, late[1].Sequence)
	}

	wantOrder := []string{"p-b", "p-e", "p-0", "p-c", "p-d", "p-a", "l-1", "l-2"}
	for i, v := range wantOrder {
		p := position(t, f, room, v)
		if p.State != waitroom.StateWaiting || p.Sequence != int64(i+1) || p.Ahead != int64(i) {
			t.Errorf("Position(%s) after opening: got state %s, sequence %d, %d ahead, want %s, %d, %d",
				v, p.State, p.Sequence, p.Ahead, waitroom.StateWaiting, i+1, i)
		}
	}

	res = admit(t, f, room, unlimited)
	checkVisitors(t, "Admit after opening", res.Admitted, wantOrder...)
	checkVisitors(t, "admission log", admissionLog(t, f, room), wantOrder...)
}

// testPrequeuePromotedWhenTimeComes lets the opening time pass on the
// store's clock: the admission step orders the pre-queue and admits it.
func testPrequeuePromotedWhenTimeComes(t *testing.T, f Fixture) {
	ctx := t.Context()
	createRoom(t, f, waitroom.Settings{ID: "clock", RatePerMinute: 60})
	opensAt := snapshot(t, f, "clock").Now.Add(time.Second)
	createRoom(t, f, waitroom.Settings{ID: room, Burst: 10, OpensAt: opensAt})

	for _, e := range []struct {
		visitor string
		key     uint64
	}{{"x", prequeueKey(30, 0)}, {"y", prequeueKey(10, 0)}, {"z", prequeueKey(20, 0)}} {
		if _, err := f.Store.Join(ctx, room, e.visitor, e.key); err != nil {
			t.Fatalf("Join(%s): %v", e.visitor, err)
		}
	}

	f.Wait(1100 * time.Millisecond)

	res := admit(t, f, room, unlimited)
	if res.State != waitroom.RoomOpen || res.Promoted != 3 {
		t.Errorf("Admit after opening time: got state %s, %d promoted, want %s, 3", res.State, res.Promoted, waitroom.RoomOpen)
	}
	checkVisitors(t, "Admit after opening time", res.Admitted, "y", "z", "x")
	for i, a := range res.Admitted {
		if a.Sequence != int64(i+1) {
			t.Errorf("admission %d (%s): got sequence %d, want %d", i, a.Visitor, a.Sequence, i+1)
		}
	}
	snap := snapshot(t, f, room)
	if snap.Prequeue != 0 || snap.Tail != 3 || snap.Head != 3 {
		t.Errorf("Snapshot: got pre-queue %d, tail %d, head %d, want 0, 3, 3", snap.Prequeue, snap.Tail, snap.Head)
	}
}

// abandonedAgo is how long ago abandoned visitors last polled in the cases
// below: past the default heartbeat grace, within the default session
// lifetime.
const abandonedAgo = 5 * time.Minute

func testAbandonedSkippedWithoutTokens(t *testing.T, f Fixture) {
	ctx := t.Context()
	frozenRoom(t, f, 2, 10)
	joinAll(t, f, room, "a", "b", "c", "d")
	backdate(t, f, room, "b", abandonedAgo)

	res := admit(t, f, room, unlimited)
	checkVisitors(t, "Admit", res.Admitted, "a", "c")
	if res.Skipped != 1 {
		t.Errorf("Admit: got %d skipped, want 1", res.Skipped)
	}

	snap := snapshot(t, f, room)
	if snap.Admitted != 2 || snap.Abandoned != 1 || snap.Head != 3 || snap.Waiting != 1 {
		t.Errorf("Snapshot: got admitted %d, abandoned %d, head %d, waiting %d, want 2, 1, 3, 1",
			snap.Admitted, snap.Abandoned, snap.Head, snap.Waiting)
	}
	if want := waitroom.NextSkipRatio(0, 2, 1); !closeTo(snap.SkipRatio, want) {
		t.Errorf("Snapshot: got skip ratio %v, want %v", snap.SkipRatio, want)
	}

	// b comes back within the session lifetime and goes to the front, ahead
	// of d, under the old sequence number.
	got := position(t, f, room, "b")
	want := waitroom.Place{Visitor: "b", State: waitroom.StateWaiting, Sequence: 2, Ahead: 0}
	if got != want {
		t.Errorf("Position(b) after skip: got %+v, want %+v", got, want)
	}
	if d := position(t, f, room, "d"); d.Ahead != 1 {
		t.Errorf("Position(d): got %d ahead, want 1", d.Ahead)
	}

	// The bucket is empty; refill it and admit the rest.
	if _, err := f.Store.UpdateRoom(ctx, room, waitroom.Patch{RatePerMinute: new(1e6)}); err != nil {
		t.Fatalf("UpdateRoom(rate): %v", err)
	}
	f.Wait(10 * time.Millisecond)
	res = admit(t, f, room, unlimited)
	checkVisitors(t, "Admit after b returned", res.Admitted, "b", "d")
	if snap := snapshot(t, f, room); snap.Head != 4 {
		t.Errorf("Snapshot: got head %d, want 4", snap.Head)
	}
}

func testMaxSkipBoundsSkips(t *testing.T, f Fixture) {
	frozenRoom(t, f, 10, 10)
	ids := visitors(6)
	joinAll(t, f, room, ids...)
	for _, v := range ids[:4] {
		backdate(t, f, room, v, abandonedAgo)
	}

	res := admit(t, f, room, waitroom.AdmitLimits{MaxAdmit: 10, MaxSkip: 0})
	if res.Skipped != 0 || len(res.Admitted) != 0 {
		t.Errorf("Admit with MaxSkip 0: got %d skipped, %d admitted, want 0, 0", res.Skipped, len(res.Admitted))
	}

	res = admit(t, f, room, waitroom.AdmitLimits{MaxAdmit: 10, MaxSkip: 3})
	if res.Skipped != 3 || len(res.Admitted) != 0 {
		t.Errorf("Admit with MaxSkip 3: got %d skipped, %d admitted, want 3, 0", res.Skipped, len(res.Admitted))
	}

	res = admit(t, f, room, waitroom.AdmitLimits{MaxAdmit: 10, MaxSkip: 3})
	if res.Skipped != 1 {
		t.Errorf("second Admit: got %d skipped, want 1", res.Skipped)
	}
	checkVisitors(t, "second Admit", res.Admitted, ids[4], ids[5])
}

// testSkippedReturnToFront brings skipped visitors back through Heartbeat
// and through Join.
func testSkippedReturnToFront(t *testing.T, f Fixture) {
	ctx := t.Context()
	frozenRoom(t, f, 10, 10)
	joinAll(t, f, room, "a", "b", "c")
	backdate(t, f, room, "a", abandonedAgo)
	backdate(t, f, room, "b", abandonedAgo)

	res := admit(t, f, room, waitroom.AdmitLimits{MaxAdmit: 1, MaxSkip: 10})
	checkVisitors(t, "Admit", res.Admitted, "c")
	if res.Skipped != 2 {
		t.Errorf("Admit: got %d skipped, want 2", res.Skipped)
	}
	if snap := snapshot(t, f, room); snap.Waiting != 0 {
		t.Errorf("Snapshot after skips: got %d waiting, want 0", snap.Waiting)
	}

	if err := f.Store.Heartbeat(ctx, room, []string{"a", "nobody"}); err != nil {
		t.Fatalf("Heartbeat: %v", err)
	}
	got, err := f.Store.Join(ctx, room, "b", 0)
	if err != nil {
		t.Fatalf("Join(b): %v", err)
	}
	want := waitroom.Place{Visitor: "b", State: waitroom.StateWaiting, Sequence: 2, Ahead: 1}
	if got != want {
		t.Errorf("Join(b) after skip: got %+v, want %+v", got, want)
	}
	joinAll(t, f, room, "d")
	if got := position(t, f, room, "a"); got.Sequence != 1 || got.Ahead != 0 {
		t.Errorf("Position(a) after Heartbeat: got sequence %d, %d ahead, want 1, 0", got.Sequence, got.Ahead)
	}
	if _, err := f.Store.Position(ctx, room, "nobody"); !errors.Is(err, waitroom.ErrVisitorNotFound) {
		t.Errorf("Position(nobody) after Heartbeat: got %v, want ErrVisitorNotFound", err)
	}

	res = admit(t, f, room, unlimited)
	checkVisitors(t, "Admit after return", res.Admitted, "a", "b", "d")
}

func testSkippedExpireAfterSessionLifetime(t *testing.T, f Fixture) {
	ctx := t.Context()
	s := frozenRoom(t, f, 10, 10)
	joinAll(t, f, room, "a", "b")
	backdate(t, f, room, "a", s.SessionLifetime+time.Minute)

	res := admit(t, f, room, unlimited)
	checkVisitors(t, "Admit", res.Admitted, "b")

	want := waitroom.Place{Visitor: "a", State: waitroom.StateExpired, Sequence: 1}
	if got := position(t, f, room, "a"); got != want {
		t.Errorf("Position(a): got %+v, want %+v", got, want)
	}
	got, err := f.Store.Join(ctx, room, "a", 0)
	if err != nil {
		t.Fatalf("Join(a): %v", err)
	}
	if got != want {
		t.Errorf("Join(a): got %+v, want %+v", got, want)
	}
	if err := f.Store.Heartbeat(ctx, room, []string{"a"}); err != nil {
		t.Fatalf("Heartbeat(a): %v", err)
	}
	if got := position(t, f, room, "a"); got != want {
		t.Errorf("Position(a) after Heartbeat: got %+v, want %+v", got, want)
	}
	if snap := snapshot(t, f, room); snap.Tail != 2 || snap.Waiting != 0 {
		t.Errorf("Snapshot: got tail %d, waiting %d, want 2, 0", snap.Tail, snap.Waiting)
	}
}

func testHeartbeatKeepsVisitor(t *testing.T, f Fixture) {
	ctx := t.Context()
	frozenRoom(t, f, 10, 10)
	joinAll(t, f, room, "a", "b")
	backdate(t, f, room, "a", abandonedAgo)

	if err := f.Store.Heartbeat(ctx, room, []string{"a", "stranger"}); err != nil {
		t.Fatalf("Heartbeat: %v", err)
	}
	if err := f.Store.Heartbeat(ctx, room, nil); err != nil {
		t.Errorf("Heartbeat with no visitors: %v", err)
	}

	res := admit(t, f, room, unlimited)
	checkVisitors(t, "Admit", res.Admitted, "a", "b")
	if res.Skipped != 0 {
		t.Errorf("Admit: got %d skipped, want 0", res.Skipped)
	}
}

func testClosedSoldOutPaused(t *testing.T, f Fixture) {
	ctx := t.Context()
	frozenRoom(t, f, 10, 10)
	joinAll(t, f, room, "a")

	update := func(p waitroom.Patch) {
		t.Helper()
		if _, err := f.Store.UpdateRoom(ctx, room, p); err != nil {
			t.Fatalf("UpdateRoom(%+v): %v", p, err)
		}
	}
	cases := []struct {
		name    string
		patch   waitroom.Patch
		state   waitroom.RoomState
		joinErr error
	}{
		{"closed", waitroom.Patch{Closed: new(true)}, waitroom.RoomClosed, waitroom.ErrRoomClosed},
		{"sold out", waitroom.Patch{Closed: new(false), SoldOut: new(true)}, waitroom.RoomSoldOut, waitroom.ErrRoomSoldOut},
		{"closed and sold out", waitroom.Patch{Closed: new(true)}, waitroom.RoomClosed, waitroom.ErrRoomClosed},
		{"paused", waitroom.Patch{Closed: new(false), SoldOut: new(false), Paused: new(true)}, waitroom.RoomPaused, nil},
	}
	for _, c := range cases {
		update(c.patch)

		for _, v := range []string{"a", "new-" + c.name} {
			_, err := f.Store.Join(ctx, room, v, 0)
			if !errors.Is(err, c.joinErr) {
				t.Errorf("%s: Join(%s): got %v, want %v", c.name, v, err, c.joinErr)
			}
		}
		if p := position(t, f, room, "a"); p.State != waitroom.StateWaiting {
			t.Errorf("%s: Position(a): got state %s, want %s", c.name, p.State, waitroom.StateWaiting)
		}
		res := admit(t, f, room, unlimited)
		if res.State != c.state || len(res.Admitted) != 0 {
			t.Errorf("%s: Admit: got state %s, %d admitted, want %s, 0", c.name, res.State, len(res.Admitted), c.state)
		}
		if got := snapshot(t, f, room).State(); got != c.state {
			t.Errorf("%s: Snapshot.State(): got %s, want %s", c.name, got, c.state)
		}
	}

	update(waitroom.Patch{Paused: new(false)})
	res := admit(t, f, room, unlimited)
	checkVisitors(t, "Admit after reopening", res.Admitted, "a", "new-paused")
}
