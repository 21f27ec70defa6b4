package storetest

import (
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"foyer/waitroom"
)

func closeTo(got, want float64) bool { return math.Abs(got-want) < 1e-9 }

// admitConcurrently runs one admission step from each of admitters
// goroutines at once and returns their results.
func admitConcurrently(t *testing.T, f Fixture, admitters int, limits waitroom.AdmitLimits) []waitroom.AdmitResult {
	t.Helper()
	results := make([]waitroom.AdmitResult, admitters)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() {
			res, err := f.Store.Admit(t.Context(), room, limits)
			if err != nil {
				t.Errorf("Admit: %v", err)
			}
			results[i] = res
		})
	}
	wg.Wait()
	return results
}

// testAdmitConcurrentExactlyOnceInOrder lets admitters race until the line
// is empty: the log holds every visitor once, in sequence order, and the
// steps' results add up to the log.
func testAdmitConcurrentExactlyOnceInOrder(t *testing.T, f Fixture) {
	const n, admitters, maxRounds = 600, 8, 200
	frozenRoom(t, f, n, 10*n)
	ids := visitors(n)
	joinAll(t, f, room, ids...)

	returned := make(map[string]int, n)
	for round := 0; round < maxRounds && snapshot(t, f, room).Waiting > 0; round++ {
		for _, res := range admitConcurrently(t, f, admitters, waitroom.AdmitLimits{MaxAdmit: 7, MaxSkip: 10}) {
			if len(res.Admitted) > 7 {
				t.Errorf("Admit with MaxAdmit 7: got %d admitted", len(res.Admitted))
			}
			for _, a := range res.Admitted {
				returned[a.Visitor]++
			}
		}
	}

	log := admissionLog(t, f, room)
	if len(log) != n {
		t.Fatalf("admission log: got %d entries, want %d", len(log), n)
	}
	for i, a := range log {
		if a.Sequence != int64(i+1) || a.Visitor != ids[i] {
			t.Errorf("log entry %d: got %s with sequence %d, want %s with %d", i, a.Visitor, a.Sequence, ids[i], i+1)
		}
		if i > 0 && a.AdmittedAt.Before(log[i-1].AdmittedAt) {
			t.Errorf("log entry %d: admitted at %v, before entry %d at %v", i, a.AdmittedAt, i-1, log[i-1].AdmittedAt)
		}
	}
	for _, id := range ids {
		if returned[id] != 1 {
			t.Errorf("visitor %s: returned by Admit %d times, want 1", id, returned[id])
		}
	}

	snap := snapshot(t, f, room)
	if snap.Admitted != n || snap.Head != n || snap.Waiting != 0 || snap.Active != n {
		t.Errorf("Snapshot: got admitted %d, head %d, waiting %d, active %d, want %d, %d, 0, %d",
			snap.Admitted, snap.Head, snap.Waiting, snap.Active, n, n, n)
	}
}

func testTokenBucketStartsFullAndCaps(t *testing.T, f Fixture) {
	frozenRoom(t, f, 3, 100)
	joinAll(t, f, room, visitors(10)...)

	res := admit(t, f, room, unlimited)
	checkVisitors(t, "first Admit", res.Admitted, visitorID(1), visitorID(2), visitorID(3))
	if res.Tokens != 0 || res.State != waitroom.RoomOpen {
		t.Errorf("first Admit: got %v tokens, state %s, want 0, %s", res.Tokens, res.State, waitroom.RoomOpen)
	}
	if res := admit(t, f, room, unlimited); len(res.Admitted) != 0 {
		t.Errorf("Admit with an empty bucket: got %d admitted, want 0", len(res.Admitted))
	}

	// At the highest rate, 10 ms earn far more than the burst, but the bucket
	// holds only the burst.
	if _, err := f.Store.UpdateRoom(t.Context(), room, waitroom.Patch{RatePerMinute: new(1e6)}); err != nil {
		t.Fatalf("UpdateRoom(rate): %v", err)
	}
	f.Wait(10 * time.Millisecond)
	res = admit(t, f, room, unlimited)
	checkVisitors(t, "Admit after refill", res.Admitted, visitorID(4), visitorID(5), visitorID(6))
	if res.Tokens != 0 {
		t.Errorf("Admit after refill: got %v tokens, want 0", res.Tokens)
	}
}

// testTokenBucketBoundsEveryWindow lets admitters race for a while at a
// modest rate, then checks the admission log: between any two admissions
// at times t1 <= t2, the admissions are at most rate × (t2 - t1) + burst.
func testTokenBucketBoundsEveryWindow(t *testing.T, f Fixture) {
	const ratePerMinute, burst, rounds = 600.0, 4, 25
	createRoom(t, f, waitroom.Settings{ID: room, RatePerMinute: ratePerMinute, Burst: burst, MaxActive: 10000})
	joinAll(t, f, room, visitors(300)...)

	for range rounds {
		admitConcurrently(t, f, 4, waitroom.AdmitLimits{MaxAdmit: 3, MaxSkip: 10})
		f.Wait(40 * time.Millisecond)
	}

	log := admissionLog(t, f, room)
	if len(log) < burst {
		t.Fatalf("admission log: got %d entries, want at least the burst, %d", len(log), burst)
	}
	perSecond := ratePerMinute / 60
	for i := range log {
		for j := i; j < len(log); j++ {
			elapsed := log[j].AdmittedAt.Sub(log[i].AdmittedAt).Seconds()
			limit := perSecond*elapsed + burst
			if count := float64(j - i + 1); count > limit+1e-6 {
				t.Fatalf("admissions %d to %d: got %v within %.6fs, want at most %.3f", i, j, count, elapsed, limit)
			}
		}
	}
}

func testMaxActiveAndRelease(t *testing.T, f Fixture) {
	ctx := t.Context()
	frozenRoom(t, f, 10, 3)
	ids := visitors(8)
	joinAll(t, f, room, ids...)

	res := admit(t, f, room, unlimited)
	checkVisitors(t, "first Admit", res.Admitted, ids[0], ids[1], ids[2])
	if snap := snapshot(t, f, room); snap.Active != 3 {
		t.Errorf("Snapshot: got %d active, want 3", snap.Active)
	}
	if res := admit(t, f, room, unlimited); len(res.Admitted) != 0 {
		t.Errorf("Admit at max active: got %d admitted, want 0", len(res.Admitted))
	}

	if err := f.Store.Release(ctx, room, ids[0]); err != nil {
		t.Fatalf("Release(%s): %v", ids[0], err)
	}
	for _, v := range []string{ids[0], ids[7], "nobody"} {
		if err := f.Store.Release(ctx, room, v); err != nil {
			t.Errorf("Release(%s) of a visitor without an active place: %v", v, err)
		}
	}
	if p := position(t, f, room, ids[7]); p.State != waitroom.StateWaiting {
		t.Errorf("Position(%s) after Release: got state %s, want %s", ids[7], p.State, waitroom.StateWaiting)
	}
	released := position(t, f, room, ids[0])
	if released.State != waitroom.StateExpired || released.Sequence != 1 || released.AdmittedAt.IsZero() {
		t.Errorf("Position(%s) after Release: got %+v, want state %s, sequence 1 and the admission time",
			ids[0], released, waitroom.StateExpired)
	}

	res = admit(t, f, room, unlimited)
	checkVisitors(t, "Admit after Release", res.Admitted, ids[3])
	if snap := snapshot(t, f, room); snap.Active != 3 {
		t.Errorf("Snapshot after Release: got %d active, want 3", snap.Active)
	}
}

// testMaxActiveConcurrent lets admitters race while admission windows end,
// then checks the log: at every admission, the admissions of the last
// window, which are still active, are at most max active.
func testMaxActiveConcurrent(t *testing.T, f Fixture) {
	const maxActive, rounds = 5, 15
	window := time.Second
	createRoom(t, f, waitroom.Settings{ID: room, RatePerMinute: 1e6, Burst: 1000, MaxActive: maxActive, AdmissionWindow: window})
	joinAll(t, f, room, visitors(100)...)

	for range rounds {
		admitConcurrently(t, f, 4, waitroom.AdmitLimits{MaxAdmit: 2, MaxSkip: 10})
		if snap := snapshot(t, f, room); snap.Active > maxActive {
			t.Errorf("Snapshot: got %d active, want at most %d", snap.Active, maxActive)
		}
		f.Wait(100 * time.Millisecond)
	}

	log := admissionLog(t, f, room)
	if len(log) <= maxActive {
		t.Errorf("admission log: got %d entries, want more than %d after windows ended", len(log), maxActive)
	}
	for j := range log {
		active := 0
		for i := 0; i <= j; i++ {
			if log[i].AdmittedAt.Add(window).After(log[j].AdmittedAt) {
				active++
			}
		}
		if active > maxActive {
			t.Errorf("admission %d at %v: got %d active, want at most %d", j, log[j].AdmittedAt, active, maxActive)
		}
	}
}

func testAdmissionWindowExpires(t *testing.T, f Fixture) {
	ctx := t.Context()
	window := time.Second
	createRoom(t, f, waitroom.Settings{ID: room, Burst: 5, MaxActive: 1, AdmissionWindow: window})
	joinAll(t, f, room, "a", "b")

	res := admit(t, f, room, unlimited)
	checkVisitors(t, "first Admit", res.Admitted, "a")
	p := position(t, f, room, "a")
	if p.State != waitroom.StateAdmitted || p.Sequence != 1 {
		t.Errorf("Position(a): got state %s, sequence %d, want %s, 1", p.State, p.Sequence, waitroom.StateAdmitted)
	}
	if !p.AdmittedAt.Equal(res.Admitted[0].AdmittedAt) || !p.Deadline.Equal(p.AdmittedAt.Add(window)) {
		t.Errorf("Position(a): got admitted at %v, deadline %v, want %v and a window later",
			p.AdmittedAt, p.Deadline, res.Admitted[0].AdmittedAt)
	}
	if res := admit(t, f, room, unlimited); len(res.Admitted) != 0 {
		t.Errorf("Admit at max active: got %d admitted, want 0", len(res.Admitted))
	}

	f.Wait(window + 100*time.Millisecond)

	p = position(t, f, room, "a")
	if p.State != waitroom.StateExpired || !p.Deadline.IsZero() || p.AdmittedAt.IsZero() {
		t.Errorf("Position(a) after the window: got %+v, want state %s, the admission time and no deadline", p, waitroom.StateExpired)
	}
	if _, err := f.Store.StartSession(ctx, room, "a"); !errors.Is(err, waitroom.ErrVisitorNotFound) {
		t.Errorf("StartSession(a) after the window: got %v, want ErrVisitorNotFound", err)
	}
	if snap := snapshot(t, f, room); snap.Active != 0 {
		t.Errorf("Snapshot after the window: got %d active, want 0", snap.Active)
	}

	res = admit(t, f, room, unlimited)
	if res.Expired != 1 {
		t.Errorf("Admit after the window: got %d expired, want 1", res.Expired)
	}
	checkVisitors(t, "Admit after the window", res.Admitted, "b")
}

func testStartSessionExtends(t *testing.T, f Fixture) {
	ctx := t.Context()
	s := createRoom(t, f, waitroom.Settings{
		ID: room, Burst: 5, MaxActive: 10, AdmissionWindow: time.Second,
		SessionLifetime: 40 * time.Second, HeartbeatGrace: 38 * time.Second,
	})
	joinAll(t, f, room, "a", "b")
	admit(t, f, room, waitroom.AdmitLimits{MaxAdmit: 1, MaxSkip: 10})

	deadline, err := f.Store.StartSession(ctx, room, "a")
	if err != nil {
		t.Fatalf("StartSession(a): %v", err)
	}
	p := position(t, f, room, "a")
	if !p.Deadline.Equal(deadline) {
		t.Errorf("Position(a).Deadline: got %v, want %v from StartSession", p.Deadline, deadline)
	}
	if got := deadline.Sub(p.AdmittedAt); got < s.SessionLifetime {
		t.Errorf("StartSession(a): got a deadline %v after admission, want at least the session lifetime %v", got, s.SessionLifetime)
	}

	f.Wait(s.AdmissionWindow + 100*time.Millisecond)

	if p := position(t, f, room, "a"); p.State != waitroom.StateAdmitted {
		t.Errorf("Position(a) after the admission window: got state %s, want %s", p.State, waitroom.StateAdmitted)
	}
	if res := admit(t, f, room, waitroom.AdmitLimits{}); res.Expired != 0 {
		t.Errorf("Admit after the admission window: got %d expired, want 0", res.Expired)
	}
	for _, v := range []string{"b", "nobody"} {
		if _, err := f.Store.StartSession(ctx, room, v); !errors.Is(err, waitroom.ErrVisitorNotFound) {
			t.Errorf("StartSession(%s): got %v, want ErrVisitorNotFound", v, err)
		}
	}
}

func testResetEmptiesLine(t *testing.T, f Fixture) {
	ctx := t.Context()
	settings := frozenRoom(t, f, 3, 10)
	createRoom(t, f, waitroom.Settings{ID: "later", OpensAt: time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)})
	joinAll(t, f, room, visitors(5)...)
	joinAll(t, f, "later", "early")
	backdate(t, f, room, visitorID(3), abandonedAgo)
	admit(t, f, room, unlimited)
	admit(t, f, room, unlimited)

	for _, id := range []string{room, "later"} {
		if err := f.Store.ResetRoom(ctx, id); err != nil {
			t.Fatalf("ResetRoom(%s): %v", id, err)
		}
	}

	snap := snapshot(t, f, room)
	checkSettings(t, "Snapshot after ResetRoom", snap.Settings, settings)
	empty := waitroom.Snapshot{Settings: snap.Settings, Now: snap.Now}
	if snap != empty {
		t.Errorf("Snapshot after ResetRoom: got %+v, want all counters 0", snap)
	}
	if snap := snapshot(t, f, "later"); snap.Prequeue != 0 {
		t.Errorf("Snapshot(later) after ResetRoom: got pre-queue %d, want 0", snap.Prequeue)
	}
	if log := admissionLog(t, f, room); len(log) != 0 {
		t.Errorf("admission log after ResetRoom: got %d entries, want 0", len(log))
	}
	for _, v := range []string{visitorID(1), visitorID(3), visitorID(5)} {
		if _, err := f.Store.Position(ctx, room, v); !errors.Is(err, waitroom.ErrVisitorNotFound) {
			t.Errorf("Position(%s) after ResetRoom: got %v, want ErrVisitorNotFound", v, err)
		}
	}

	// The line starts over, with a full bucket.
	places := joinAll(t, f, room, visitorID(1), "x", "y")
	if !places[0].Created || places[0].Sequence != 1 {
		t.Errorf("Join after ResetRoom: got created %v, sequence %d, want true, 1", places[0].Created, places[0].Sequence)
	}
	res := admit(t, f, room, unlimited)
	checkVisitors(t, "Admit after ResetRoom", res.Admitted, visitorID(1), "x", "y")
}

func testAdmissionLogPages(t *testing.T, f Fixture) {
	ctx := t.Context()
	const n = 25
	frozenRoom(t, f, n, n)
	joinAll(t, f, room, visitors(n)...)
	res := admit(t, f, room, unlimited)

	var paged []waitroom.Admission
	for after := 0; after < n; after += 10 {
		page, err := f.Store.AdmissionLog(ctx, room, after, 10)
		if err != nil {
			t.Fatalf("AdmissionLog(after %d): %v", after, err)
		}
		if want := min(10, n-after); len(page) != want {
			t.Errorf("AdmissionLog(after %d, limit 10): got %d entries, want %d", after, len(page), want)
		}
		paged = append(paged, page...)
	}
	if len(paged) != len(res.Admitted) {
		t.Fatalf("pages: got %d entries, want %d", len(paged), len(res.Admitted))
	}
	for i, a := range paged {
		want := res.Admitted[i]
		if a.Visitor != want.Visitor || a.Sequence != want.Sequence || !a.AdmittedAt.Equal(want.AdmittedAt) {
			t.Errorf("log entry %d: got %+v, want %+v as Admit returned it", i, a, want)
		}
	}

	empty := []struct{ after, limit int }{{n, 10}, {-1, 10}, {0, 0}, {0, -3}, {1000, 10}}
	for _, c := range empty {
		page, err := f.Store.AdmissionLog(ctx, room, c.after, c.limit)
		if err != nil || len(page) != 0 {
			t.Errorf("AdmissionLog(after %d, limit %d): got %d entries, error %v, want none", c.after, c.limit, len(page), err)
		}
	}
	if page, err := f.Store.AdmissionLog(ctx, room, 20, math.MaxInt); err != nil || len(page) != 5 {
		t.Errorf("AdmissionLog(after 20, limit MaxInt): got %d entries, error %v, want 5", len(page), err)
	}
}

// testUnknownRoomAndVisitor calls every method on a room that does not exist
// and on an id that cannot name a room.
func testUnknownRoomAndVisitor(t *testing.T, f Fixture) {
	ctx := t.Context()
	frozenRoom(t, f, 10, 10)

	for _, id := range []string{"missing", "Bad{Id}"} {
		calls := map[string]error{
			"UpdateRoom":   second(f.Store.UpdateRoom(ctx, id, waitroom.Patch{Paused: new(true)})),
			"ResetRoom":    f.Store.ResetRoom(ctx, id),
			"Snapshot":     second(f.Store.Snapshot(ctx, id)),
			"Join":         second(f.Store.Join(ctx, id, "a", 0)),
			"Position":     second(f.Store.Position(ctx, id, "a")),
			"Heartbeat":    f.Store.Heartbeat(ctx, id, []string{"a"}),
			"Admit":        second(f.Store.Admit(ctx, id, unlimited)),
			"AdmissionLog": second(f.Store.AdmissionLog(ctx, id, 0, 10)),
			"StartSession": second(f.Store.StartSession(ctx, id, "a")),
			"Release":      f.Store.Release(ctx, id, "a"),
		}
		for name, err := range calls {
			if !errors.Is(err, waitroom.ErrRoomNotFound) {
				t.Errorf("%s(%q): got %v, want ErrRoomNotFound", name, id, err)
			}
		}
	}

	if _, err := f.Store.Position(ctx, room, "nobody"); !errors.Is(err, waitroom.ErrVisitorNotFound) {
		t.Errorf("Position(nobody): got %v, want ErrVisitorNotFound", err)
	}
	if _, err := f.Store.StartSession(ctx, room, "nobody"); !errors.Is(err, waitroom.ErrVisitorNotFound) {
		t.Errorf("StartSession(nobody): got %v, want ErrVisitorNotFound", err)
	}
	if err := f.Store.Release(ctx, room, "nobody"); err != nil {
		t.Errorf("Release(nobody): got %v, want nil", err)
	}
}

func second[T any](_ T, err error) error { return err }

// testRateZeroAdmitsNone sets the rate of a room in each mode to 0 while
// its bucket still has tokens: no visitor is admitted, and when the rate
// rises again the bucket starts empty instead of admitting a burst.
func testRateZeroAdmitsNone(t *testing.T, f Fixture) {
	ctx := t.Context()
	setRate := func(id string, rate float64) waitroom.Settings {
		t.Helper()
		settings, err := f.Store.UpdateRoom(ctx, id, waitroom.Patch{RatePerMinute: new(rate)})
		if err != nil {
			t.Fatalf("UpdateRoom(%s, rate %v): %v", id, rate, err)
		}
		return settings
	}

	for _, mode := range []waitroom.Mode{waitroom.ModeFixed, waitroom.ModeAuto} {
		id := "rate-zero-" + string(mode)
		createRoom(t, f, waitroom.Settings{ID: id, Burst: 5, MaxActive: 100, Mode: mode})
		joinAll(t, f, id, "first")
		checkVisitors(t, string(mode)+": Admit from a full bucket", admit(t, f, id, unlimited).Admitted, "first")
		joinAll(t, f, id, "a", "b", "c")

		settings := setRate(id, 0)
		if settings.RatePerMinute != 0 || settings.Mode != mode {
			t.Errorf("%s: UpdateRoom(rate 0): got rate %v, mode %s, want 0, %s", mode, settings.RatePerMinute, settings.Mode, mode)
		}
		res := admit(t, f, id, unlimited)
		if len(res.Admitted) != 0 {
			t.Errorf("%s: Admit at rate 0 with 4 tokens left: got %d admitted, want 0", mode, len(res.Admitted))
		}
		if res.Tokens != 0 {
			t.Errorf("%s: Admit at rate 0: got %v tokens, want 0", mode, res.Tokens)
		}
		if snap := snapshot(t, f, id); snap.Waiting != 3 || snap.Active != 1 {
			t.Errorf("%s: Snapshot at rate 0: got %d waiting, %d active, want 3, 1", mode, snap.Waiting, snap.Active)
		}

		// Back at a rate that earns no whole token within the test, the
		// tokens from before rate 0 are gone.
		setRate(id, frozenRate)
		if res := admit(t, f, id, unlimited); len(res.Admitted) != 0 {
			t.Errorf("%s: Admit after rate 0 at the frozen rate: got %d admitted, want 0", mode, len(res.Admitted))
		}

		// At the highest rate, 10 ms fill the bucket again.
		setRate(id, 1e6)
		f.Wait(10 * time.Millisecond)
		checkVisitors(t, string(mode)+": Admit at the highest rate", admit(t, f, id, unlimited).Admitted, "a", "b", "c")
	}
}
