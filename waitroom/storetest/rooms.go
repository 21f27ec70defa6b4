package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"foyer/waitroom"
)

func testSeedKeepsExistingSettings(t *testing.T, f Fixture) {
	ctx := t.Context()
	seed := waitroom.Settings{ID: "seeded", Title: "Seeded", RatePerMinute: 30, Burst: 4}

	got, err := f.Store.SeedRoom(ctx, seed)
	if err != nil {
		t.Fatalf("first SeedRoom: %v", err)
	}
	want := seed.WithDefaults()
	checkSettings(t, "first SeedRoom", got, want)
	joinAll(t, f, "seeded", "early")

	// An organizer changes settings; a restart seeds the room again.
	if _, err := f.Store.UpdateRoom(ctx, "seeded", waitroom.Patch{RatePerMinute: new(90.0), Message: new("Back at ten")}); err != nil {
		t.Fatalf("UpdateRoom: %v", err)
	}
	got, err = f.Store.SeedRoom(ctx, seed)
	if err != nil {
		t.Fatalf("second SeedRoom: %v", err)
	}
	want.RatePerMinute, want.Message = 90, "Back at ten"
	checkSettings(t, "second SeedRoom", got, want)

	snap := snapshot(t, f, "seeded")
	checkSettings(t, "Snapshot after second SeedRoom", snap.Settings, want)
	if snap.Waiting != 1 {
		t.Errorf("Snapshot after second SeedRoom: got %d waiting, want 1", snap.Waiting)
	}

	rooms, err := f.Store.Rooms(ctx)
	if err != nil {
		t.Fatalf("Rooms: %v", err)
	}
	if !slices.Equal(rooms, []string{"seeded"}) {
		t.Errorf("Rooms: got %v, want [seeded]", rooms)
	}
}

func testSeedRejectsInvalidSettings(t *testing.T, f Fixture) {
	ctx := t.Context()
	invalid := []waitroom.Settings{
		{ID: "Not A Room"},
		{ID: "neg-burst", Burst: -1},
		{ID: "short-grace", HeartbeatGrace: 10 * time.Second},
	}
	for _, s := range invalid {
		if _, err := f.Store.SeedRoom(ctx, s); err == nil {
			t.Errorf("SeedRoom(%+v): got no error, want one", s)
		}
	}

	rooms, err := f.Store.Rooms(ctx)
	if err != nil {
		t.Fatalf("Rooms: %v", err)
	}
	if len(rooms) != 0 {
		t.Errorf("Rooms after invalid seeds: got %v, want none", rooms)
	}
}

func testCreateRoom(t *testing.T, f Fixture) {
	ctx := t.Context()

	for _, id := range []string{"b-room", "a-room"} {
		if err := f.Store.CreateRoom(ctx, waitroom.Settings{ID: id}); err != nil {
			t.Fatalf("CreateRoom(%s): %v", id, err)
		}
	}
	err := f.Store.CreateRoom(ctx, waitroom.Settings{ID: "a-room", Burst: 7})
	if !errors.Is(err, waitroom.ErrRoomExists) {
		t.Errorf("CreateRoom(a-room) again: got %v, want ErrRoomExists", err)
	}
	if err := f.Store.CreateRoom(ctx, waitroom.Settings{ID: "c-room", MaxActive: -5}); err == nil {
		t.Errorf("CreateRoom(c-room, max_active -5): got no error, want one")
	}

	rooms, err := f.Store.Rooms(ctx)
	if err != nil {
		t.Fatalf("Rooms: %v", err)
	}
	if !slices.Equal(rooms, []string{"a-room", "b-room"}) {
		t.Errorf("Rooms: got %v, want [a-room b-room]", rooms)
	}

	snap := snapshot(t, f, "a-room")
	checkSettings(t, "Snapshot(a-room)", snap.Settings, waitroom.Settings{ID: "a-room"}.WithDefaults())
	if got := snap.State(); got != waitroom.RoomOpen {
		t.Errorf("Snapshot(a-room).State(): got %s, want %s", got, waitroom.RoomOpen)
	}
	empty := waitroom.Snapshot{Settings: snap.Settings, Now: snap.Now}
	if snap != empty {
		t.Errorf("Snapshot(a-room): got %+v, want all counters 0", snap)
	}
	if snap.Now.IsZero() {
		t.Errorf("Snapshot(a-room).Now: got the zero time, want the store's clock")
	}
}

func testSettingsKeptToMicrosecond(t *testing.T, f Fixture) {
	opensAt := time.Date(2099, 1, 2, 3, 4, 5, 123456789, time.UTC)
	s := waitroom.Settings{
		ID:              "precise",
		OpensAt:         opensAt,
		AdmissionWindow: 90*time.Second + 1500*time.Nanosecond,
	}
	if err := f.Store.CreateRoom(t.Context(), s); err != nil {
		t.Fatalf("CreateRoom: %v", err)
	}

	snap := snapshot(t, f, "precise")
	if want := opensAt.Truncate(time.Microsecond); !snap.Settings.OpensAt.Equal(want) {
		t.Errorf("OpensAt: got %v, want %v", snap.Settings.OpensAt, want)
	}
	if want := 90*time.Second + time.Microsecond; snap.Settings.AdmissionWindow != want {
		t.Errorf("AdmissionWindow: got %v, want %v", snap.Settings.AdmissionWindow, want)
	}
	if got := snap.State(); got != waitroom.RoomScheduled {
		t.Errorf("State(): got %s, want %s", got, waitroom.RoomScheduled)
	}
}

func testUpdateRoomValidates(t *testing.T, f Fixture) {
	ctx := t.Context()
	before := createRoom(t, f, waitroom.Settings{ID: room, RatePerMinute: 60})

	invalid := []waitroom.Patch{
		{Burst: new(0)},
		{SessionLifetime: new(time.Second)},
		{Mode: new(waitroom.Mode("random"))},
		// Valid alone, but the second field makes the whole patch invalid.
		{Paused: new(true), HeartbeatGrace: new(time.Hour)},
	}
	for _, p := range invalid {
		if _, err := f.Store.UpdateRoom(ctx, room, p); err == nil {
			t.Errorf("UpdateRoom(%+v): got no error, want one", p)
		}
	}
	checkSettings(t, "Snapshot after invalid updates", snapshot(t, f, room).Settings, before)

	want := before
	want.Paused, want.Mode, want.Burst, want.Message = true, waitroom.ModeAuto, 3, "Opening soon"
	got, err := f.Store.UpdateRoom(ctx, room, waitroom.Patch{
		Paused: new(true), Mode: new(waitroom.ModeAuto), Burst: new(3), Message: new("Opening soon"),
	})
	if err != nil {
		t.Fatalf("UpdateRoom: %v", err)
	}
	checkSettings(t, "UpdateRoom", got, want)
	checkSettings(t, "Snapshot after UpdateRoom", snapshot(t, f, room).Settings, want)

	_, err = f.Store.UpdateRoom(ctx, "missing", waitroom.Patch{Paused: new(false)})
	if !errors.Is(err, waitroom.ErrRoomNotFound) {
		t.Errorf("UpdateRoom(missing): got %v, want ErrRoomNotFound", err)
	}
}

// testUpdateRoomKeepsConcurrentChanges runs writers that each own one field.
// A read-modify-write that is not atomic would let one writer put back
// another's old value.
func testUpdateRoomKeepsConcurrentChanges(t *testing.T, f Fixture) {
	ctx := t.Context()
	createRoom(t, f, waitroom.Settings{ID: room, RatePerMinute: 60})
	const updates = 25

	patches := []func(i int) waitroom.Patch{
		func(i int) waitroom.Patch { return waitroom.Patch{Title: new(fmt.Sprint("title-", i))} },
		func(i int) waitroom.Patch { return waitroom.Patch{Message: new(fmt.Sprint("message-", i))} },
		func(i int) waitroom.Patch { return waitroom.Patch{Event: new(fmt.Sprint("event-", i))} },
		func(i int) waitroom.Patch { return waitroom.Patch{Burst: new(i + 1)} },
		func(i int) waitroom.Patch { return waitroom.Patch{MaxActive: new(i + 1)} },
		func(i int) waitroom.Patch { return waitroom.Patch{RatePerMinute: new(float64(i + 1))} },
	}
	var wg sync.WaitGroup
	for _, patch := range patches {
		wg.Go(func() {
			for i := range updates {
				if _, err := f.Store.UpdateRoom(ctx, room, patch(i)); err != nil {
					t.Errorf("UpdateRoom(%+v): %v", patch(i), err)
					return
				}
			}
		})
	}
	wg.Wait()

	got := snapshot(t, f, room).Settings
	last := updates - 1
	want := waitroom.Settings{
		ID: room, Title: fmt.Sprint("title-", last), Message: fmt.Sprint("message-", last),
		Event: fmt.Sprint("event-", last), Burst: last + 1, MaxActive: last + 1,
		RatePerMinute: float64(last + 1),
	}.WithDefaults()
	checkSettings(t, "Snapshot after concurrent updates", got, want)
}

// testUpdateRoomConcurrentStaysValid races two writers whose patches are
// each valid alone but not together: a long admission window and a short
// session lifetime. Validation must see the settings it writes over.
func testUpdateRoomConcurrentStaysValid(t *testing.T, f Fixture) {
	ctx := t.Context()
	createRoom(t, f, waitroom.Settings{
		ID: room, RatePerMinute: 60, HeartbeatGrace: 40 * time.Second,
		AdmissionWindow: time.Minute, SessionLifetime: 10 * time.Minute,
	})
	const updates = 40

	writers := []func(i int) waitroom.Patch{
		func(i int) waitroom.Patch {
			return waitroom.Patch{AdmissionWindow: new([]time.Duration{9 * time.Minute, time.Minute}[i%2])}
		},
		func(i int) waitroom.Patch {
			return waitroom.Patch{SessionLifetime: new([]time.Duration{2 * time.Minute, 10 * time.Minute}[i%2])}
		},
	}
	var wg sync.WaitGroup
	for _, patch := range writers {
		wg.Go(func() {
			for i := range updates {
				got, err := f.Store.UpdateRoom(ctx, room, patch(i))
				if errors.Is(err, waitroom.ErrUnavailable) || errors.Is(err, waitroom.ErrRoomNotFound) {
					t.Errorf("UpdateRoom(%+v): %v", patch(i), err)
					return
				}
				if err == nil {
					if verr := got.Validate(); verr != nil {
						t.Errorf("UpdateRoom(%+v) returned invalid settings: %v", patch(i), verr)
					}
				}
			}
		})
	}
	wg.Wait()

	if err := snapshot(t, f, room).Settings.Validate(); err != nil {
		t.Errorf("settings after concurrent updates: got %v, want valid settings", err)
	}
}
