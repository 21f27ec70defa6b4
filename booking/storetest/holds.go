package storetest

import (
	"reflect"
	"testing"
	"time"

	"foyer/booking"
)

func testHoldTakesPlaces(t *testing.T, h *harness) {
	event := h.createEvent(nil)

	hold := h.hold(event.ID, slotA, "v1", 3)

	if hold.State != booking.HoldActive {
		t.Errorf("got state %q, want %q", hold.State, booking.HoldActive)
	}
	if hold.Quantity != 3 {
		t.Errorf("got quantity %d, want 3", hold.Quantity)
	}
	if want := map[string]int{"adult": 3}; !reflect.DeepEqual(hold.Tickets, want) {
		t.Errorf("got tickets %v, want %v", hold.Tickets, want)
	}
	if got := hold.ExpiresAt.Sub(hold.CreatedAt); got != event.HoldLifetime {
		t.Errorf("got expiry %s after creation, want %s", got, event.HoldLifetime)
	}
	if eventID, err := booking.ParseHoldID(hold.ID); err != nil || eventID != event.ID {
		t.Errorf("got hold id %q with event %q (err %v), want event %q", hold.ID, eventID, err, event.ID)
	}
	h.wantStats(event.ID, slotA, 3, 0)

	got := h.getHold(hold.ID)
	if !reflect.DeepEqual(got, hold) {
		t.Errorf("got stored hold %+v, want %+v", got, hold)
	}
}

func testHoldTicketTypes(t *testing.T, h *harness) {
	event := h.createEvent(nil)

	hold, err := h.store.Hold(h.ctx, booking.HoldRequest{
		Event:   event.ID,
		Slot:    slotA,
		Visitor: "v1",
		Tickets: map[string]int{"adult": 2, "child": 1, "member": 0},
	})
	if err != nil {
		t.Fatalf("hold: %v", err)
	}

	if want := map[string]int{"adult": 2, "child": 1}; !reflect.DeepEqual(hold.Tickets, want) {
		t.Errorf("got tickets %v, want %v", hold.Tickets, want)
	}
	if hold.Quantity != 3 {
		t.Errorf("got quantity %d, want 3", hold.Quantity)
	}
	h.wantStats(event.ID, slotA, 3, 0)
}

func testHoldSoldOut(t *testing.T, h *harness) {
	event := h.createEvent(nil)
	h.hold(event.ID, slotB, "v1", 4)

	_, err := h.store.Hold(h.ctx, booking.HoldRequest{Event: event.ID, Slot: slotB, Visitor: "v2", Quantity: 2})
	wantErr(t, err, booking.ErrSoldOut)
	h.wantStats(event.ID, slotB, 4, 0)

	h.hold(event.ID, slotB, "v2", 1)
	h.wantStats(event.ID, slotB, 5, 0)
}

func testHoldBadInput(t *testing.T, h *harness) {
	event := h.createEvent(nil)

	tests := []struct {
		name string
		req  booking.HoldRequest
		want error
	}{
		{"quantity zero", booking.HoldRequest{Slot: slotA, Quantity: 0}, booking.ErrInvalidQuantity},
		{"quantity negative", booking.HoldRequest{Slot: slotA, Quantity: -2}, booking.ErrInvalidQuantity},
		{"quantity above max", booking.HoldRequest{Slot: slotA, Quantity: booking.MaxQuantity + 1}, booking.ErrInvalidQuantity},
		{"ticket count negative", booking.HoldRequest{Slot: slotA, Tickets: map[string]int{"adult": 2, "child": -1}}, booking.ErrInvalidQuantity},
		{"tickets all zero", booking.HoldRequest{Slot: slotA, Tickets: map[string]int{"adult": 0}}, booking.ErrInvalidQuantity},
		{"quantity differs from tickets", booking.HoldRequest{Slot: slotA, Quantity: 3, Tickets: map[string]int{"adult": 2}}, booking.ErrInvalidQuantity},
		{"above order limit", booking.HoldRequest{Slot: slotA, Quantity: 5}, booking.ErrLimitExceeded},
		{"unknown slot", booking.HoldRequest{Slot: "no-such-slot", Quantity: 1}, booking.ErrUnknownSlot},
		{"unknown ticket type", booking.HoldRequest{Slot: slotA, Tickets: map[string]int{"adult": 1, "senior": 1}}, booking.ErrUnknownTicketType},
		{"slot started", booking.HoldRequest{Slot: slotStarted, Quantity: 1}, booking.ErrSlotStarted},
		{"missing visitor", booking.HoldRequest{Slot: slotA, Quantity: 1, Visitor: "-"}, booking.ErrInvalidRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := tc.req
			req.Event = event.ID
			switch req.Visitor {
			case "":
				req.Visitor = "v1"
			case "-":
				req.Visitor = ""
			}

			_, err := h.store.Hold(h.ctx, req)
			wantErr(t, err, tc.want)
		})
	}

	for _, slot := range []string{slotA, slotB, slotStarted} {
		h.wantStats(event.ID, slot, 0, 0)
	}
	// The rejected requests left no holds behind that count against v1.
	h.hold(event.ID, slotA, "v1", 4)
	h.hold(event.ID, slotB, "v1", 4)
}

func testHoldNotOnSale(t *testing.T, h *harness) {
	now := h.now()
	tests := []struct {
		name       string
		start, end time.Time
	}{
		{"before sales start", now.Add(time.Hour), time.Time{}},
		{"after sales end", time.Time{}, now.Add(-time.Hour)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			event := h.createEvent(func(e *booking.Event) {
				e.SalesStart = tc.start
				e.SalesEnd = tc.end
			})

			_, err := h.store.Hold(h.ctx, booking.HoldRequest{Event: event.ID, Slot: slotA, Visitor: "v1", Quantity: 1})
			wantErr(t, err, booking.ErrNotOnSale)
			h.wantStats(event.ID, slotA, 0, 0)
		})
	}
}

func testHoldExpiry(t *testing.T, h *harness) {
	event := h.createEvent(func(e *booking.Event) { e.HoldLifetime = shortLifetime })
	hold := h.hold(event.ID, slotB, "v1", 4)

	_, err := h.store.Hold(h.ctx, booking.HoldRequest{Event: event.ID, Slot: slotB, Visitor: "v2", Quantity: 4})
	wantErr(t, err, booking.ErrSoldOut)

	h.waitUntilPast(hold.ExpiresAt)
	h.wantStats(event.ID, slotB, 0, 0)

	got := h.getHold(hold.ID)
	if got.State != booking.HoldExpired {
		t.Errorf("got state %q, want %q", got.State, booking.HoldExpired)
	}
	if !got.ExpiresAt.Equal(hold.ExpiresAt) {
		t.Errorf("got expiry %s, want %s", got.ExpiresAt, hold.ExpiresAt)
	}

	h.hold(event.ID, slotB, "v2", 4)
	h.wantStats(event.ID, slotB, 4, 0)

	// The expired hold stays findable and no longer counts for v1.
	if got := h.getHold(hold.ID).State; got != booking.HoldExpired {
		t.Errorf("after reclaim: got state %q, want %q", got, booking.HoldExpired)
	}
	h.hold(event.ID, slotA, "v1", 4)
	h.hold(event.ID, slotA, "v1", 4)
}

func testFailedHoldKeepsExpiry(t *testing.T, h *harness) {
	event := h.createEvent(func(e *booking.Event) { e.HoldLifetime = shortLifetime })
	first := h.hold(event.ID, slotB, "v1", 4)
	h.wait(200 * time.Millisecond)

	_, err := h.store.Hold(h.ctx, booking.HoldRequest{Event: event.ID, Slot: slotB, Visitor: "v1", Quantity: 2})
	wantErr(t, err, booking.ErrSoldOut)
	_, err = h.store.Hold(h.ctx, booking.HoldRequest{Event: event.ID, Slot: "no-such-slot", Visitor: "v1", Quantity: 1})
	wantErr(t, err, booking.ErrUnknownSlot)
	_, err = h.store.ExtendHold(h.ctx, first.ID, "v2")
	wantErr(t, err, booking.ErrNotYourHold)

	got := h.getHold(first.ID)
	if !got.ExpiresAt.Equal(first.ExpiresAt) {
		t.Errorf("got expiry %s, want unchanged %s", got.ExpiresAt, first.ExpiresAt)
	}
	if got.Extensions != 0 {
		t.Errorf("got %d extensions, want 0", got.Extensions)
	}

	h.waitUntilPast(first.ExpiresAt)
	if got := h.getHold(first.ID).State; got != booking.HoldExpired {
		t.Errorf("after the original expiry: got state %q, want %q", got, booking.HoldExpired)
	}
}

func testExtendHold(t *testing.T, h *harness) {
	event := h.createEvent(nil)
	hold := h.hold(event.ID, slotA, "v1", 2)
	h.wait(100 * time.Millisecond)

	extended, err := h.store.ExtendHold(h.ctx, hold.ID, "v1")
	if err != nil {
		t.Fatalf("extend: %v", err)
	}
	if extended.Extensions != 1 {
		t.Errorf("got %d extensions, want 1", extended.Extensions)
	}
	if !extended.ExpiresAt.After(hold.ExpiresAt) {
		t.Errorf("got expiry %s, want after %s", extended.ExpiresAt, hold.ExpiresAt)
	}
	if got := h.getHold(hold.ID); !got.ExpiresAt.Equal(extended.ExpiresAt) {
		t.Errorf("got stored expiry %s, want %s", got.ExpiresAt, extended.ExpiresAt)
	}

	_, err = h.store.ExtendHold(h.ctx, hold.ID, "v1")
	wantErr(t, err, booking.ErrLimitExceeded)
	if got := h.getHold(hold.ID); !got.ExpiresAt.Equal(extended.ExpiresAt) || got.Extensions != 1 {
		t.Errorf("after rejected extension: got expiry %s and %d extensions, want %s and 1", got.ExpiresAt, got.Extensions, extended.ExpiresAt)
	}

	h.confirm(hold.ID, "pay-1")
	_, err = h.store.ExtendHold(h.ctx, hold.ID, "v1")
	wantErr(t, err, booking.ErrAlreadyConfirmed)

	_, err = h.store.ExtendHold(h.ctx, booking.NewHoldID(event.ID), "v1")
	wantErr(t, err, booking.ErrHoldNotFound)
}

func testExtendExpiredHold(t *testing.T, h *harness) {
	event := h.createEvent(func(e *booking.Event) { e.HoldLifetime = shortLifetime })
	hold := h.hold(event.ID, slotA, "v1", 2)

	h.waitUntilPast(hold.ExpiresAt)
	_, err := h.store.ExtendHold(h.ctx, hold.ID, "v1")
	wantErr(t, err, booking.ErrHoldExpired)

	got := h.getHold(hold.ID)
	if got.State != booking.HoldExpired || got.Extensions != 0 {
		t.Errorf("got state %q with %d extensions, want %q with 0", got.State, got.Extensions, booking.HoldExpired)
	}
	h.wantStats(event.ID, slotA, 0, 0)
}

func testReleaseHold(t *testing.T, h *harness) {
	event := h.createEvent(nil)
	hold := h.hold(event.ID, slotA, "v1", 3)

	err := h.store.ReleaseHold(h.ctx, hold.ID, "v2")
	wantErr(t, err, booking.ErrNotYourHold)
	h.wantStats(event.ID, slotA, 3, 0)

	if err := h.store.ReleaseHold(h.ctx, hold.ID, "v1"); err != nil {
		t.Fatalf("release: %v", err)
	}
	h.wantStats(event.ID, slotA, 0, 0)
	if got := h.getHold(hold.ID).State; got != booking.HoldReleased {
		t.Errorf("got state %q, want %q", got, booking.HoldReleased)
	}

	if err := h.store.ReleaseHold(h.ctx, hold.ID, "v1"); err != nil {
		t.Errorf("release twice: got %v, want nil", err)
	}
	h.wantStats(event.ID, slotA, 0, 0)

	confirmed := h.hold(event.ID, slotA, "v1", 1)
	h.confirm(confirmed.ID, "pay-1")
	err = h.store.ReleaseHold(h.ctx, confirmed.ID, "v1")
	wantErr(t, err, booking.ErrAlreadyConfirmed)
	h.wantStats(event.ID, slotA, 0, 1)
}

func testGetHoldUnknown(t *testing.T, h *harness) {
	event := h.createEvent(nil)

	_, err := h.store.GetHold(h.ctx, booking.NewHoldID(event.ID))
	wantErr(t, err, booking.ErrHoldNotFound)

	_, err = h.store.GetHold(h.ctx, booking.NewHoldID("no-such-event"))
	wantErr(t, err, booking.ErrHoldNotFound)

	_, err = h.store.GetHold(h.ctx, "h_bad")
	wantErr(t, err, booking.ErrInvalidID)
}

func testHoldPurged(t *testing.T, h *harness) {
	if h.clock == nil {
		t.Skip("needs a store clock that the test can move by a day")
	}
	event := h.createEvent(nil)
	expired := h.hold(event.ID, slotA, "v1", 1)
	confirmed := h.hold(event.ID, slotA, "v2", 1)
	h.confirm(confirmed.ID, "pay-1")
	confirmedAt := h.now()

	// The confirmed hold ended at confirmedAt, the other one at its expiry.
	h.wait(confirmedAt.Add(booking.HoldRetention - time.Millisecond).Sub(h.now()))
	if got := h.getHold(confirmed.ID).State; got != booking.HoldConfirmed {
		t.Errorf("confirmed hold before its retention ends: got state %q, want %q", got, booking.HoldConfirmed)
	}
	h.wait(time.Millisecond)
	_, err := h.store.GetHold(h.ctx, confirmed.ID)
	wantErr(t, err, booking.ErrHoldNotFound)

	h.wait(expired.ExpiresAt.Add(booking.HoldRetention - time.Millisecond).Sub(h.now()))
	if got := h.getHold(expired.ID).State; got != booking.HoldExpired {
		t.Errorf("expired hold before its retention ends: got state %q, want %q", got, booking.HoldExpired)
	}
	h.wait(time.Millisecond)
	_, err = h.store.GetHold(h.ctx, expired.ID)
	wantErr(t, err, booking.ErrHoldNotFound)
}

func testVisitorHoldLimit(t *testing.T, h *harness) {
	event := h.createEvent(nil)
	h.hold(event.ID, slotA, "v1", 1)
	second := h.hold(event.ID, slotB, "v1", 1)

	_, err := h.store.Hold(h.ctx, booking.HoldRequest{Event: event.ID, Slot: slotA, Visitor: "v1", Quantity: 1})
	wantErr(t, err, booking.ErrLimitExceeded)
	h.wantStats(event.ID, slotA, 1, 0)

	if err := h.store.ReleaseHold(h.ctx, second.ID, "v1"); err != nil {
		t.Fatalf("release: %v", err)
	}
	h.hold(event.ID, slotA, "v1", 1)

	// Other visitors have their own limit.
	h.hold(event.ID, slotA, "v2", 1)
}

func testVisitorTicketLimit(t *testing.T, h *harness) {
	event := h.createEvent(nil)
	first := h.hold(event.ID, slotA, "v1", 4)
	order := h.confirm(first.ID, "pay-1")
	h.hold(event.ID, slotA, "v1", 3)

	_, err := h.store.Hold(h.ctx, booking.HoldRequest{Event: event.ID, Slot: slotB, Visitor: "v1", Quantity: 2})
	wantErr(t, err, booking.ErrLimitExceeded)
	h.wantStats(event.ID, slotB, 0, 0)

	if _, err := h.store.CancelOrder(h.ctx, order.ID); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	h.hold(event.ID, slotB, "v1", 2)
}
