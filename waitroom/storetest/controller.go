package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"foyer/waitroom"
)

func controllerState(t *testing.T, f Fixture, roomID string) waitroom.ControllerState {
	t.Helper()
	state, err := f.Store.ControllerState(t.Context(), roomID)
	if err != nil {
		t.Fatalf("ControllerState(%s): %v", roomID, err)
	}
	return state
}

func swapControllerState(t *testing.T, f Fixture, roomID string, expected int64, next waitroom.ControllerState) bool {
	t.Helper()
	swapped, err := f.Store.SwapControllerState(t.Context(), roomID, expected, next)
	if err != nil {
		t.Fatalf("SwapControllerState(%s, %d): %v", roomID, expected, err)
	}
	return swapped
}

// sampleControllerState returns a state with every field set, at times
// with sub-millisecond parts that the stores round away.
func sampleControllerState(version int64, rate float64) waitroom.ControllerState {
	at := time.Date(2026, 5, 4, 9, 30, 0, 123456789, time.UTC)
	return waitroom.ControllerState{
		Version:           version,
		RatePerMinute:     rate,
		AppliedPerMinute:  rate / 2,
		CeilingPerMinute:  rate * 1.5,
		Increases:         2,
		Headroom:          1,
		LastP95:           250*time.Millisecond + 700*time.Microsecond,
		LastDecision:      at,
		LastChange:        at.Add(-5 * time.Second),
		LastCut:           at.Add(-time.Minute),
		HoldOffUntil:      at.Add(30 * time.Second),
		LastReason:        waitroom.ReasonCut,
		LastActive:        310,
		LastAdmitted:      5200,
		CapacityPerMinute: rate * 1.2,
		SaturatedFinished: 180,
		SaturatedFor:      9*time.Second + 300*time.Microsecond,
		CeilingMeasured:   true,
		RampWarned:        true,
	}
}

// roundedControllerState returns s as Fields and ParseControllerState keep
// it, which is what a store returns.
func roundedControllerState(t *testing.T, s waitroom.ControllerState) waitroom.ControllerState {
	t.Helper()
	rounded, err := waitroom.ParseControllerState(s.Fields())
	if err != nil {
		t.Fatalf("ParseControllerState(Fields()): %v", err)
	}
	return rounded
}

func checkControllerState(t *testing.T, call string, got, want waitroom.ControllerState) {
	t.Helper()
	if got != want {
		t.Errorf("%s: got state\n%+v\nwant\n%+v", call, got, want)
	}
}

func testControllerStateStartsEmpty(t *testing.T, f Fixture) {
	ctx := t.Context()
	frozenRoom(t, f, 1, 1)

	checkControllerState(t, "ControllerState of a new room", controllerState(t, f, room), waitroom.ControllerState{})

	if _, err := f.Store.ControllerState(ctx, "nowhere"); !errors.Is(err, waitroom.ErrRoomNotFound) {
		t.Errorf("ControllerState(nowhere): got %v, want ErrRoomNotFound", err)
	}
	if _, err := f.Store.SwapControllerState(ctx, "nowhere", 0, sampleControllerState(1, 60)); !errors.Is(err, waitroom.ErrRoomNotFound) {
		t.Errorf("SwapControllerState(nowhere): got %v, want ErrRoomNotFound", err)
	}
}

func testControllerStateSwapRoundTrip(t *testing.T, f Fixture) {
	frozenRoom(t, f, 1, 1)
	next := sampleControllerState(1, 120.25)

	if !swapControllerState(t, f, room, 0, next) {
		t.Fatal("SwapControllerState(0 → 1) on a new room: got false, want true")
	}

	checkControllerState(t, "ControllerState after a swap", controllerState(t, f, room), roundedControllerState(t, next))
}

func testControllerStateStaleVersionFails(t *testing.T, f Fixture) {
	frozenRoom(t, f, 1, 1)
	first := sampleControllerState(1, 60)
	second := sampleControllerState(2, 90)
	swapControllerState(t, f, room, 0, first)
	swapControllerState(t, f, room, 1, second)

	if swapControllerState(t, f, room, 1, sampleControllerState(2, 30)) {
		t.Error("SwapControllerState(1) when version 2 is stored: got true, want false")
	}
	if swapControllerState(t, f, room, 5, sampleControllerState(6, 30)) {
		t.Error("SwapControllerState(5) when version 2 is stored: got true, want false")
	}

	checkControllerState(t, "ControllerState after stale swaps", controllerState(t, f, room), roundedControllerState(t, second))
}

// testControllerStateSwapOnceAmongRacers has several callers swap from the
// same version at once, as edges do that read one state in the same
// period: exactly one succeeds, and its state is the one stored.
func testControllerStateSwapOnceAmongRacers(t *testing.T, f Fixture) {
	const racers = 8
	frozenRoom(t, f, 1, 1)
	swapControllerState(t, f, room, 0, sampleControllerState(1, 60))

	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		winners []float64
	)
	for i := range racers {
		rate := float64(100 + i)
		wg.Go(func() {
			swapped, err := f.Store.SwapControllerState(t.Context(), room, 1, sampleControllerState(2, rate))
			if err != nil {
				t.Errorf("SwapControllerState(1) by racer %d: %v", i, err)
				return
			}
			if swapped {
				mu.Lock()
				winners = append(winners, rate)
				mu.Unlock()
			}
		})
	}
	wg.Wait()

	if len(winners) != 1 {
		t.Fatalf("got %d successful swaps from version 1, want 1 (rates %v)", len(winners), winners)
	}
	got := controllerState(t, f, room)
	if got.Version != 2 {
		t.Errorf("ControllerState after the race: got version %d, want 2", got.Version)
	}
	if got.RatePerMinute != winners[0] {
		t.Errorf("ControllerState after the race: got rate %v, want the winner's %v", got.RatePerMinute, winners[0])
	}
}

func testResetClearsControllerState(t *testing.T, f Fixture) {
	frozenRoom(t, f, 1, 1)
	swapControllerState(t, f, room, 0, sampleControllerState(1, 60))

	if err := f.Store.ResetRoom(t.Context(), room); err != nil {
		t.Fatalf("ResetRoom: %v", err)
	}

	checkControllerState(t, "ControllerState after ResetRoom", controllerState(t, f, room), waitroom.ControllerState{})
	if !swapControllerState(t, f, room, 0, sampleControllerState(1, 90)) {
		t.Error("SwapControllerState(0) after ResetRoom: got false, want true")
	}
}
