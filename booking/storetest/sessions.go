package storetest

import (
	"errors"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"foyer/booking"
)

func sessionRequest(event booking.Event, now time.Time) booking.SessionRequest {
	return booking.SessionRequest{
		TokenID:        "token-1",
		TokenExpiresAt: now.Add(2 * time.Minute),
		Visitor:        "v1",
		Room:           event.Room,
		Event:          event.ID,
		Lifetime:       30 * time.Minute,
	}
}

func testExchangeTokenOnce(t *testing.T, h *harness) {
	event := h.createEvent(nil)
	req := sessionRequest(event, h.now())

	session, err := h.store.ExchangeToken(h.ctx, req)
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	if session.Visitor != "v1" || session.Room != event.Room || session.Event != event.ID {
		t.Errorf("got session %+v, want visitor v1, room %s, event %s", session, event.Room, event.ID)
	}
	if got := session.ExpiresAt.Sub(session.CreatedAt); got != req.Lifetime {
		t.Errorf("got session lifetime %s, want %s", got, req.Lifetime)
	}
	if eventID, err := booking.ParseSessionID(session.ID); err != nil || eventID != event.ID {
		t.Errorf("got session id %q with event %q (err %v), want event %q", session.ID, eventID, err, event.ID)
	}

	stored, err := h.store.GetSession(h.ctx, session.ID)
	if err != nil {
		t.Fatalf("get session: %v", err)
	}
	if !reflect.DeepEqual(stored, session) {
		t.Errorf("got stored session %+v, want %+v", stored, session)
	}

	_, err = h.store.ExchangeToken(h.ctx, req)
	wantErr(t, err, booking.ErrTokenUsed)

	other := req
	other.TokenID = "token-2"
	other.Room = "another-room"
	_, err = h.store.ExchangeToken(h.ctx, other)
	wantErr(t, err, booking.ErrWrongRoom)

	other = req
	other.TokenID = "token-3"
	other.Event = "no-such-event"
	_, err = h.store.ExchangeToken(h.ctx, other)
	wantErr(t, err, booking.ErrUnknownEvent)

	other = req
	other.TokenID = ""
	_, err = h.store.ExchangeToken(h.ctx, other)
	wantErr(t, err, booking.ErrInvalidRequest)

	_, err = h.store.GetSession(h.ctx, booking.NewSessionID(event.ID))
	wantErr(t, err, booking.ErrSessionNotFound)
}

func testExchangeTokenConcurrent(t *testing.T, h *harness) {
	const exchanges = 20
	event := h.createEvent(nil)
	req := sessionRequest(event, h.now())

	var wg sync.WaitGroup
	var succeeded, used atomic.Int32
	for range exchanges {
		wg.Go(func() {
			_, err := h.store.ExchangeToken(h.ctx, req)
			switch {
			case err == nil:
				succeeded.Add(1)
			case errors.Is(err, booking.ErrTokenUsed):
				used.Add(1)
			default:
				t.Errorf("exchange: %v", err)
			}
		})
	}
	wg.Wait()

	if got := succeeded.Load(); got != 1 {
		t.Errorf("got %d successful exchanges, want 1", got)
	}
	if got := used.Load(); got != exchanges-1 {
		t.Errorf("got %d token_used errors, want %d", got, exchanges-1)
	}
}

func testSessionExpires(t *testing.T, h *harness) {
	event := h.createEvent(nil)
	req := sessionRequest(event, h.now())
	req.Lifetime = time.Second
	req.TokenExpiresAt = h.now().Add(time.Hour)

	session, err := h.store.ExchangeToken(h.ctx, req)
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	h.waitUntilPast(session.ExpiresAt)

	_, err = h.store.GetSession(h.ctx, session.ID)
	wantErr(t, err, booking.ErrSessionNotFound)

	// The token id outlives the session while the token could still verify.
	_, err = h.store.ExchangeToken(h.ctx, req)
	wantErr(t, err, booking.ErrTokenUsed)
}
