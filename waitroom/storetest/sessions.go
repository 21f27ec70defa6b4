package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"foyer/waitroom"
)

func sessionRevoked(t *testing.T, f Fixture, id string) bool {
	t.Helper()
	revoked, err := f.Store.SessionRevoked(t.Context(), id)
	if err != nil {
		t.Fatalf("SessionRevoked(%s): %v", id, err)
	}
	return revoked
}

func testRevokedSessionUntilExpiry(t *testing.T, f Fixture) {
	ctx := t.Context()
	frozenRoom(t, f, 1, 1)
	now := snapshot(t, f, room).Now

	if err := f.Store.RevokeSession(ctx, "s-ended", now.Add(time.Second)); err != nil {
		t.Fatalf("RevokeSession(s-ended): %v", err)
	}
	if err := f.Store.RevokeSession(ctx, "s-past", now.Add(-time.Second)); err != nil {
		t.Fatalf("RevokeSession with a past expiry: %v", err)
	}

	if !sessionRevoked(t, f, "s-ended") {
		t.Errorf("SessionRevoked(s-ended) before its expiry: got false, want true")
	}
	if sessionRevoked(t, f, "s-live") {
		t.Errorf("SessionRevoked(s-live), never revoked: got true, want false")
	}
	if sessionRevoked(t, f, "s-past") {
		t.Errorf("SessionRevoked(s-past), revoked after its expiry: got true, want false")
	}

	f.Wait(1100 * time.Millisecond)
	if sessionRevoked(t, f, "s-ended") {
		t.Errorf("SessionRevoked(s-ended) after its expiry: got true, want false, the record may go")
	}

	for _, id := range []string{"", string(make([]byte, waitroom.MaxSessionIDLength+1))} {
		if err := f.Store.RevokeSession(ctx, id, now.Add(time.Hour)); err == nil {
			t.Errorf("RevokeSession with a %d-byte id: got no error, want one", len(id))
		}
		if _, err := f.Store.SessionRevoked(ctx, id); err == nil {
			t.Errorf("SessionRevoked with a %d-byte id: got no error, want one", len(id))
		}
	}
}

// testRevokeSessionsConcurrent revokes sessions from many goroutines, as
// organizers signing out on several edges would, while others check them.
// Every revoked session must read as revoked afterwards, and no session
// that was never revoked may.
func testRevokeSessionsConcurrent(t *testing.T, f Fixture) {
	ctx := t.Context()
	frozenRoom(t, f, 1, 1)
	expires := snapshot(t, f, room).Now.Add(time.Hour)
	const sessions = 40

	var wg sync.WaitGroup
	errs := make(chan error, 2*sessions)
	for i := range sessions {
		wg.Go(func() {
			errs <- f.Store.RevokeSession(ctx, fmt.Sprintf("s-%02d", i), expires)
		})
		wg.Go(func() {
			_, err := f.Store.SessionRevoked(ctx, fmt.Sprintf("s-%02d", i))
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent revoke or check: %v", err)
		}
	}

	for i := range sessions {
		if id := fmt.Sprintf("s-%02d", i); !sessionRevoked(t, f, id) {
			t.Errorf("SessionRevoked(%s) after concurrent revocations: got false, want true", id)
		}
		if id := fmt.Sprintf("other-%02d", i); sessionRevoked(t, f, id) {
			t.Errorf("SessionRevoked(%s), never revoked: got true, want false", id)
		}
	}
}
