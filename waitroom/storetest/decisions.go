package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"foyer/waitroom"
)

func appendDecision(t *testing.T, f Fixture, roomID string, d waitroom.Decision) {
	t.Helper()
	if err := f.Store.AppendDecision(t.Context(), roomID, d); err != nil {
		t.Fatalf("AppendDecision(%s, %s): %v", roomID, d.Reason, err)
	}
}

func decisions(t *testing.T, f Fixture, roomID string, limit int) []waitroom.Decision {
	t.Helper()
	out, err := f.Store.Decisions(t.Context(), roomID, limit)
	if err != nil {
		t.Fatalf("Decisions(%s, %d): %v", roomID, limit, err)
	}
	return out
}

// sampleDecision returns a decision with every field set, numbered by
// Signals.Samples so that tests can tell entries apart. Its times have
// nanoseconds, which the stores keep.
func sampleDecision(number int64, reason waitroom.Reason) waitroom.Decision {
	at := time.Date(2026, 5, 4, 9, 30, 0, 123456789, time.UTC).Add(time.Duration(number) * 5 * time.Second)
	return waitroom.Decision{
		At:               at,
		OldRatePerMinute: 120.5,
		NewRatePerMinute: 108.45,
		Reason:           reason,
		Signals: waitroom.Signals{
			WindowStart:          at.Add(-10 * time.Second),
			WindowEnd:            at,
			Samples:              number,
			LatencyP95:           time.Second,
			ErrorRate:            0.0125,
			Staleness:            1500 * time.Millisecond,
			HasInventory:         true,
			RemainingPlaces:      340,
			HeldPlaces:           12,
			MostFreeInSlot:       40,
			MostFreeOrHeldInSlot: 44,
			Active:               87,
			MaxActive:            200,
			Waiting:              1234,
			AdmittedPerMinute:    101.25,
		},
	}
}

// storedDecision returns d as it comes back from its JSON encoding, which
// is what a store returns.
func storedDecision(t *testing.T, d waitroom.Decision) waitroom.Decision {
	t.Helper()
	record, err := json.Marshal(d)
	if err != nil {
		t.Fatalf("encode decision: %v", err)
	}
	var out waitroom.Decision
	if err := json.Unmarshal(record, &out); err != nil {
		t.Fatalf("decode decision: %v", err)
	}
	return out
}

func decisionNumbers(ds []waitroom.Decision) []int64 {
	numbers := make([]int64, len(ds))
	for i, d := range ds {
		numbers[i] = d.Signals.Samples
	}
	return numbers
}

func testDecisionsNewestFirst(t *testing.T, f Fixture) {
	ctx := t.Context()
	frozenRoom(t, f, 1, 1)
	if got := decisions(t, f, room, 10); len(got) != 0 {
		t.Errorf("Decisions of a new room: got %d entries, want 0", len(got))
	}

	appended := []waitroom.Decision{
		sampleDecision(1, waitroom.ReasonRampUp),
		sampleDecision(2, waitroom.ReasonCut),
		sampleDecision(3, waitroom.ReasonWaitForHolds),
	}
	for _, d := range appended {
		appendDecision(t, f, room, d)
	}

	all := decisions(t, f, room, 10)
	if got, want := fmt.Sprint(decisionNumbers(all)), "[3 2 1]"; got != want {
		t.Fatalf("Decisions(10): got numbers %s, want %s", got, want)
	}
	for i, got := range all {
		want := storedDecision(t, appended[len(appended)-1-i])
		if got != want {
			t.Errorf("Decisions(10)[%d]: got\n%+v\nwant\n%+v", i, got, want)
		}
	}
	if !all[0].At.Equal(appended[2].At) {
		t.Errorf("Decisions(10)[0]: got time %s, want the decision's own %s", all[0].At, appended[2].At)
	}
	if got, want := fmt.Sprint(decisionNumbers(decisions(t, f, room, 2))), "[3 2]"; got != want {
		t.Errorf("Decisions(2): got numbers %s, want %s", got, want)
	}
	if got := decisions(t, f, room, 0); len(got) != 0 {
		t.Errorf("Decisions(0): got %d entries, want 0", len(got))
	}

	// A NaN has no JSON encoding, so the store rejects it and keeps nothing.
	invalid := sampleDecision(4, waitroom.ReasonHoldErrors)
	invalid.Signals.ErrorRate = math.NaN()
	if err := f.Store.AppendDecision(ctx, room, invalid); err == nil {
		t.Error("AppendDecision with a NaN error rate: got no error, want one")
	}
	if got := decisions(t, f, room, 10); len(got) != 3 {
		t.Errorf("Decisions after a rejected append: got %d entries, want 3", len(got))
	}

	for _, id := range []string{"missing", "Bad{Id}"} {
		if err := f.Store.AppendDecision(ctx, id, sampleDecision(1, waitroom.ReasonCut)); !errors.Is(err, waitroom.ErrRoomNotFound) {
			t.Errorf("AppendDecision(%q): got %v, want ErrRoomNotFound", id, err)
		}
		if _, err := f.Store.Decisions(ctx, id, 10); !errors.Is(err, waitroom.ErrRoomNotFound) {
			t.Errorf("Decisions(%q): got %v, want ErrRoomNotFound", id, err)
		}
	}
}

func testDecisionsCapped(t *testing.T, f Fixture) {
	frozenRoom(t, f, 1, 1)

	total := waitroom.MaxDecisions + 3
	for i := range total {
		appendDecision(t, f, room, sampleDecision(int64(i), waitroom.ReasonIncrease))
	}

	stored := decisions(t, f, room, total)
	if len(stored) != waitroom.MaxDecisions {
		t.Fatalf("Decisions(%d): got %d entries, want %d", total, len(stored), waitroom.MaxDecisions)
	}
	if got, want := stored[0].Signals.Samples, int64(total-1); got != want {
		t.Errorf("Decisions newest: got number %d, want %d", got, want)
	}
	if got, want := stored[len(stored)-1].Signals.Samples, int64(3); got != want {
		t.Errorf("Decisions oldest kept: got number %d, want %d", got, want)
	}
}

// testDecisionsConcurrent races writers that append decisions, first fewer
// than the cap in all and then more. Below the cap every decision is kept.
// Past it exactly MaxDecisions are kept, and for each writer they are its
// newest ones, newest first.
func testDecisionsConcurrent(t *testing.T, f Fixture) {
	const writers = 16
	frozenRoom(t, f, 1, 1)

	race := func(each, from int) {
		t.Helper()
		var wg sync.WaitGroup
		errs := make(chan error, writers*each)
		for w := range writers {
			wg.Go(func() {
				for i := from; i < from+each; i++ {
					d := sampleDecision(int64(w*100000+i), waitroom.ReasonIncrease)
					if err := f.Store.AppendDecision(t.Context(), room, d); err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("concurrent AppendDecision: %v", err)
		}
	}

	// Below the cap: none is lost and none appears twice.
	const first = 25
	race(first, 0)
	stored := decisions(t, f, room, waitroom.MaxDecisions)
	if len(stored) != writers*first {
		t.Fatalf("Decisions after %d appends: got %d entries, want all %d", writers*first, len(stored), writers*first)
	}
	seen := make(map[int64]bool, len(stored))
	for _, d := range stored {
		n := d.Signals.Samples
		if seen[n] {
			t.Errorf("Decisions: number %d appears twice", n)
		}
		seen[n] = true
	}

	// Past the cap.
	const second = 60
	race(second, first)
	total := writers * (first + second)
	stored = decisions(t, f, room, total)
	if len(stored) != waitroom.MaxDecisions {
		t.Fatalf("Decisions after %d appends: got %d entries, want the cap %d", total, len(stored), waitroom.MaxDecisions)
	}
	// Reading each writer's entries from the oldest stored to the newest
	// must give consecutive numbers that end with its last append.
	last := make(map[int64]int64, writers)
	for i := len(stored) - 1; i >= 0; i-- {
		n := stored[i].Signals.Samples
		w, number := n/100000, n%100000
		if previous, ok := last[w]; ok && number != previous+1 {
			t.Errorf("Decisions of writer %d: got %d after %d in append order, want %d", w, number, previous, previous+1)
		}
		last[w] = number
	}
	for w := range int64(writers) {
		if got, ok := last[w]; ok && got != first+second-1 {
			t.Errorf("Decisions of writer %d: newest kept is %d, want its last append %d", w, got, first+second-1)
		}
	}
}

func testResetClearsDecisions(t *testing.T, f Fixture) {
	frozenRoom(t, f, 1, 1)
	appendDecision(t, f, room, sampleDecision(1, waitroom.ReasonRampUp))
	appendDecision(t, f, room, sampleDecision(2, waitroom.ReasonCut))

	if err := f.Store.ResetRoom(t.Context(), room); err != nil {
		t.Fatalf("ResetRoom: %v", err)
	}

	if got := decisions(t, f, room, 10); len(got) != 0 {
		t.Errorf("Decisions after ResetRoom: got %d entries, want 0", len(got))
	}
	appendDecision(t, f, room, sampleDecision(3, waitroom.ReasonHoldFewSamples))
	if got, want := fmt.Sprint(decisionNumbers(decisions(t, f, room, 10))), "[3]"; got != want {
		t.Errorf("Decisions after ResetRoom and one append: got numbers %s, want %s", got, want)
	}
}
