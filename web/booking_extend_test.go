package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"foyer/booking"
)

// allowOneExtension lets holds of event expo be extended once. It runs
// before the first request, while no edge has the event cached.
func allowOneExtension(t *testing.T, st openedStore) {
	t.Helper()
	ctx := context.Background()
	event, err := st.booking.Event(ctx, "expo")
	if err != nil {
		t.Fatalf("read event: %v", err)
	}
	event.MaxHoldExtensions = 1
	if err := st.booking.UpdateEvent(ctx, event); err != nil {
		t.Fatalf("update event: %v", err)
	}
}

func TestBookingAPIExtendHold(t *testing.T) {
	forEachStore(t, func(t *testing.T, st openedStore) {
		ts := startBooking(t, st, 10)
		allowOneExtension(t, st)
		visitor := ts.admitOneVisitor(t, "museum")
		hold := ts.mustHold(t, "expo", visitor.token, map[string]any{"slot": slotID("09:00"), "quantity": 2})
		session := hold.Session.ID
		before, err := time.Parse(time.RFC3339, hold.ExpiresAt)
		if err != nil {
			t.Fatalf("parse expires_at %q: %v", hold.ExpiresAt, err)
		}

		// Expiry times are kept to the millisecond, so a later one is
		// visible after a few milliseconds.
		time.Sleep(20 * time.Millisecond)
		res := ts.sendAuth(t, http.MethodPost, "/api/v1/holds/"+hold.HoldID+"/extend", session, nil)
		if res.status != http.StatusOK {
			t.Fatalf("first extension: got status %d, want 200:\n%s", res.status, res.body)
		}
		stored, err := st.booking.GetHold(context.Background(), hold.HoldID)
		if err != nil {
			t.Fatal(err)
		}
		if !stored.ExpiresAt.After(before) || stored.Extensions != 1 {
			t.Fatalf("after the extension: got expiry %s and %d extensions, want later than %s and 1", stored.ExpiresAt, stored.Extensions, before)
		}

		res = ts.sendAuth(t, http.MethodPost, "/api/v1/holds/"+hold.HoldID+"/extend", session, nil)
		if res.errorCode() != "limit_exceeded" {
			t.Fatalf("second extension: got status %d code %q, want limit_exceeded:\n%s", res.status, res.errorCode(), res.body)
		}
		again, err := st.booking.GetHold(context.Background(), hold.HoldID)
		if err != nil {
			t.Fatal(err)
		}
		if !again.ExpiresAt.Equal(stored.ExpiresAt) || again.Extensions != 1 {
			t.Fatalf("rejected extension changed the hold: got expiry %s and %d extensions, want %s and 1", again.ExpiresAt, again.Extensions, stored.ExpiresAt)
		}

		other := ts.admitOneVisitor(t, "museum")
		otherHold := ts.mustHold(t, "expo", other.token, map[string]any{"slot": slotID("09:30"), "quantity": 1})
		res = ts.sendAuth(t, http.MethodPost, "/api/v1/holds/"+hold.HoldID+"/extend", otherHold.Session.ID, nil)
		if res.errorCode() != "not_your_hold" {
			t.Fatalf("extension by another visitor: got status %d code %q, want not_your_hold:\n%s", res.status, res.errorCode(), res.body)
		}
	})
}

func TestBookingPagesExtendHold(t *testing.T) {
	forEachStore(t, func(t *testing.T, st openedStore) {
		ts := startBooking(t, st, 4)
		allowOneExtension(t, st)
		client := startBookingSession(t, ts)
		holdID := holdByForm(t, ts, client, slotID("09:30"), "1")

		checkout := ts.get(t, client, "/e/expo/checkout/"+holdID)
		if !strings.Contains(string(checkout.body), `id="extend"`) {
			t.Fatalf("checkout page has no extend button while one extension is left:\n%s", checkout.body)
		}
		csrf := csrfField(t, checkout)

		if res := ts.postForm(t, client, "/e/expo/checkout/"+holdID+"/extend", url.Values{"csrf": {"wrong"}}); res.status != http.StatusForbidden {
			t.Fatalf("extend without a valid CSRF token: got status %d, want 403", res.status)
		}
		res := ts.postForm(t, client, "/e/expo/checkout/"+holdID+"/extend", url.Values{"csrf": {csrf}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("extend form: got status %d, want 303:\n%s", res.status, res.body)
		}
		hold, err := st.booking.GetHold(context.Background(), holdID)
		if err != nil {
			t.Fatal(err)
		}
		if hold.Extensions != 1 || hold.State != booking.HoldActive {
			t.Fatalf("after the extend form: got %d extensions in state %s, want 1 and active", hold.Extensions, hold.State)
		}

		checkout = ts.get(t, client, "/e/expo/checkout/"+holdID)
		if strings.Contains(string(checkout.body), `id="extend"`) {
			t.Fatalf("checkout page still offers an extension after the last one was used")
		}
	})
}
