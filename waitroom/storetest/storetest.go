// Package storetest is the conformance suite that every waitroom.Store
// passes, so the memory store and the Redis store behave alike.
//
// A store's tests call Run with a Harness that builds empty stores:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) storetest.Fixture { ... })
//	}
//
// # Time
//
// Some cases need time to pass on the store's clock. The memory store's
// clock is injected and moves at once. Redis reads its own clock, so a Redis
// harness sleeps, and the suite waits a few seconds in all. Cases of
// abandonment need a visitor's last heartbeat to be older than the heartbeat
// grace, which is at least 37 seconds. They age that one visitor's heartbeat
// through Fixture.Backdate instead of waiting.
//
// No case asserts how long a call took. Assertions that depend on time read
// the store's own clock: Snapshot.Now and the times in the admission log.
//
// NOTE: on a store that runs on real time, a few cases assume that a couple
// of calls in a row finish within one second, the shortest valid admission
// window, and fail on a machine that stalls longer than that.
package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"foyer/waitroom"
)

// Fixture is one store under test and the controls of its clock.
type Fixture struct {
	Store waitroom.Store
	// Wait lets at least d pass on the store's clock. The suite passes
	// durations of 1.1 seconds at most, so a store on real time may sleep.
	Wait func(d time.Duration)
	// Backdate records the visitor's last heartbeat as ago before the
	// store's now, as if the visitor had stopped polling then. The suite
	// calls it only for visitors who wait in line.
	Backdate func(ctx context.Context, room, visitor string, ago time.Duration) error
}

// Harness returns a Fixture whose store holds no rooms. Run calls it once in
// each case's subtest and runs the cases one at a time, so a harness may
// reuse one server and empty it.
type Harness func(t *testing.T) Fixture

// Run runs every case of the suite, each in its own subtest on a new
// Fixture from h.
func Run(t *testing.T, h Harness) {
	cases := []struct {
		name string
		run  func(t *testing.T, f Fixture)
	}{
		{"SeedKeepsExistingSettings", testSeedKeepsExistingSettings},
		{"SeedRejectsInvalidSettings", testSeedRejectsInvalidSettings},
		{"CreateRoom", testCreateRoom},
		{"SettingsKeptToMicrosecond", testSettingsKeptToMicrosecond},
		{"UpdateRoomValidates", testUpdateRoomValidates},
		{"UpdateRoomKeepsConcurrentChanges", testUpdateRoomKeepsConcurrentChanges},
		{"UpdateRoomConcurrentStaysValid", testUpdateRoomConcurrentStaysValid},
		{"JoinKeepsPlace", testJoinKeepsPlace},
		{"JoinConcurrentGapFree", testJoinConcurrentGapFree},
		{"JoinSameVisitorConcurrent", testJoinSameVisitorConcurrent},
		{"AdmitConcurrentExactlyOnceInOrder", testAdmitConcurrentExactlyOnceInOrder},
		{"TokenBucketStartsFullAndCaps", testTokenBucketStartsFullAndCaps},
		{"TokenBucketBoundsEveryWindow", testTokenBucketBoundsEveryWindow},
		{"MaxActiveAndRelease", testMaxActiveAndRelease},
		{"MaxActiveConcurrent", testMaxActiveConcurrent},
		{"AdmissionWindowExpires", testAdmissionWindowExpires},
		{"StartSessionExtends", testStartSessionExtends},
		{"PrequeueKeyOrderAtOpening", testPrequeueKeyOrderAtOpening},
		{"PrequeuePromotedWhenTimeComes", testPrequeuePromotedWhenTimeComes},
		{"AbandonedSkippedWithoutTokens", testAbandonedSkippedWithoutTokens},
		{"MaxSkipBoundsSkips", testMaxSkipBoundsSkips},
		{"SkippedReturnToFront", testSkippedReturnToFront},
		{"SkippedExpireAfterSessionLifetime", testSkippedExpireAfterSessionLifetime},
		{"HeartbeatKeepsVisitor", testHeartbeatKeepsVisitor},
		{"ClosedSoldOutPaused", testClosedSoldOutPaused},
		{"ResetEmptiesLine", testResetEmptiesLine},
		{"AdmissionLogPages", testAdmissionLogPages},
		{"UnknownRoomAndVisitor", testUnknownRoomAndVisitor},
		{"AuditLogNewestFirst", testAuditLogNewestFirst},
		{"AuditLogRejectsInvalid", testAuditLogRejectsInvalid},
		{"AuditLogCapped", testAuditLogCapped},
		{"AuditLogConcurrent", testAuditLogConcurrent},
		{"ControllerStateStartsEmpty", testControllerStateStartsEmpty},
		{"ControllerStateSwapRoundTrip", testControllerStateSwapRoundTrip},
		{"ControllerStateStaleVersionFails", testControllerStateStaleVersionFails},
		{"ControllerStateSwapOnceAmongRacers", testControllerStateSwapOnceAmongRacers},
		{"ResetClearsControllerState", testResetClearsControllerState},
		{"RateZeroAdmitsNone", testRateZeroAdmitsNone},
		{"DecisionsNewestFirst", testDecisionsNewestFirst},
		{"DecisionsCapped", testDecisionsCapped},
		{"DecisionsConcurrent", testDecisionsConcurrent},
		{"ResetClearsDecisions", testResetClearsDecisions},
		{"RevokedSessionUntilExpiry", testRevokedSessionUntilExpiry},
		{"RevokeSessionsConcurrent", testRevokeSessionsConcurrent},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.run(t, h(t))
		})
	}
}

// room is the id of the room most cases use.
const room = "hall"

// unlimited lets one admission step admit and skip as many as the bucket and
// MaxActive allow.
var unlimited = waitroom.AdmitLimits{MaxAdmit: 100000, MaxSkip: 100000}

// frozenRate is a rate, in visitors per minute, at which the bucket earns
// one token in about 1,900 years. A room at this rate admits its burst once
// and then nothing, so counts do not depend on time. A rate of 0 would
// admit no visitor at all.
const frozenRate = 1e-9

// createRoom creates a room with settings s, given defaults for zero fields.
// Unlike CreateRoom it turns a RatePerMinute of zero into frozenRate, not
// the default rate.
func createRoom(t *testing.T, f Fixture, s waitroom.Settings) waitroom.Settings {
	t.Helper()
	ctx := t.Context()

	if err := f.Store.CreateRoom(ctx, s); err != nil {
		t.Fatalf("CreateRoom(%s): %v", s.ID, err)
	}
	rate := s.RatePerMinute
	if rate == 0 {
		rate = frozenRate
	}
	got, err := f.Store.UpdateRoom(ctx, s.ID, waitroom.Patch{RatePerMinute: new(rate)})
	if err != nil {
		t.Fatalf("UpdateRoom(%s, rate %v): %v", s.ID, rate, err)
	}
	return got
}

// frozenRoom creates room at frozenRate with the given burst and max
// active, so the bucket admits burst visitors in all.
func frozenRoom(t *testing.T, f Fixture, burst, maxActive int) waitroom.Settings {
	t.Helper()
	return createRoom(t, f, waitroom.Settings{ID: room, Burst: burst, MaxActive: maxActive})
}

func visitorID(i int) string { return fmt.Sprintf("v%05d", i) }

// joinAll joins visitors one after another with pre-queue key 0 and fails
// the test on any error.
func joinAll(t *testing.T, f Fixture, roomID string, visitors ...string) []waitroom.Place {
	t.Helper()
	places := make([]waitroom.Place, len(visitors))
	for i, v := range visitors {
		p, err := f.Store.Join(t.Context(), roomID, v, 0)
		if err != nil {
			t.Fatalf("Join(%s, %s): %v", roomID, v, err)
		}
		places[i] = p
	}
	return places
}

func visitors(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = visitorID(i + 1)
	}
	return ids
}

func snapshot(t *testing.T, f Fixture, roomID string) waitroom.Snapshot {
	t.Helper()
	snap, err := f.Store.Snapshot(t.Context(), roomID)
	if err != nil {
		t.Fatalf("Snapshot(%s): %v", roomID, err)
	}
	return snap
}

func admit(t *testing.T, f Fixture, roomID string, limits waitroom.AdmitLimits) waitroom.AdmitResult {
	t.Helper()
	res, err := f.Store.Admit(t.Context(), roomID, limits)
	if err != nil {
		t.Fatalf("Admit(%s): %v", roomID, err)
	}
	return res
}

func position(t *testing.T, f Fixture, roomID, visitor string) waitroom.Place {
	t.Helper()
	p, err := f.Store.Position(t.Context(), roomID, visitor)
	if err != nil {
		t.Fatalf("Position(%s, %s): %v", roomID, visitor, err)
	}
	return p
}

func backdate(t *testing.T, f Fixture, roomID, visitor string, ago time.Duration) {
	t.Helper()
	if err := f.Backdate(t.Context(), roomID, visitor, ago); err != nil {
		t.Fatalf("Backdate(%s, %s, %s): %v", roomID, visitor, ago, err)
	}
}

func admissionLog(t *testing.T, f Fixture, roomID string) []waitroom.Admission {
	t.Helper()
	log, err := f.Store.AdmissionLog(t.Context(), roomID, 0, 1<<30)
	if err != nil {
		t.Fatalf("AdmissionLog(%s): %v", roomID, err)
	}
	return log
}

// admittedVisitors returns the visitors of admissions in order.
func admittedVisitors(admissions []waitroom.Admission) []string {
	ids := make([]string, len(admissions))
	for i, a := range admissions {
		ids[i] = a.Visitor
	}
	return ids
}

func checkVisitors(t *testing.T, call string, got []waitroom.Admission, want ...string) {
	t.Helper()
	ids := admittedVisitors(got)
	if fmt.Sprint(ids) != fmt.Sprint(want) {
		t.Errorf("%s: got visitors %v, want %v", call, ids, want)
	}
}

// sameSettings compares settings, with OpensAt compared as an instant so a
// store may return it in another location.
func sameSettings(a, b waitroom.Settings) bool {
	if !a.OpensAt.Equal(b.OpensAt) {
		return false
	}
	a.OpensAt, b.OpensAt = time.Time{}, time.Time{}
	return a == b
}

func checkSettings(t *testing.T, call string, got, want waitroom.Settings) {
	t.Helper()
	if !sameSettings(got, want) {
		t.Errorf("%s: got settings\n%+v\nwant\n%+v", call, got, want)
	}
}
