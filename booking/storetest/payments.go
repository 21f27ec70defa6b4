package storetest

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"foyer/booking"
)

// releaseCall is one call of recordingReleaser.Release.
type releaseCall struct {
	room, visitor string
}

// recordingReleaser is a booking.Releaser that records its calls.
type recordingReleaser struct {
	mu    sync.Mutex
	calls []releaseCall
}

func (r *recordingReleaser) Release(_ context.Context, room, visitor string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, releaseCall{room: room, visitor: visitor})
	return nil
}

func (r *recordingReleaser) released() []releaseCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]releaseCall(nil), r.calls...)
}

func testPayDeclinedThenApproved(t *testing.T, h *harness) {
	event := h.createEvent(nil)
	payments := booking.NewTestPayments()
	releaser := &recordingReleaser{}
	service := &booking.Service{Store: h.store, Payments: payments, Releaser: releaser}
	hold := h.hold(event.ID, slotA, "v1", 2)
	h.wait(100 * time.Millisecond)

	_, err := service.Pay(h.ctx, booking.PayRequest{HoldID: hold.ID, Visitor: "v1", Card: booking.TestCardDeclined})
	wantErr(t, err, booking.ErrPaymentDeclined)

	afterDecline := h.getHold(hold.ID)
	if afterDecline.State != booking.HoldActive {
		t.Errorf("after decline: got state %q, want %q", afterDecline.State, booking.HoldActive)
	}
	if !afterDecline.ExpiresAt.Equal(hold.ExpiresAt) || afterDecline.Extensions != 0 {
		t.Errorf("after decline: got expiry %s and %d extensions, want %s and 0", afterDecline.ExpiresAt, afterDecline.Extensions, hold.ExpiresAt)
	}
	h.wantStats(event.ID, slotA, 2, 0)

	order, err := service.Pay(h.ctx, booking.PayRequest{HoldID: hold.ID, Visitor: "v1", Card: booking.TestCardApproved})
	if err != nil {
		t.Fatalf("pay with an approved card: %v", err)
	}
	if order.State != booking.OrderConfirmed {
		t.Errorf("got state %q, want %q", order.State, booking.OrderConfirmed)
	}
	h.wantStats(event.ID, slotA, 0, 2)
	if got := payments.Charges(); got != 1 {
		t.Errorf("got %d charges, want 1", got)
	}
	if got, want := releaser.released(), []releaseCall{{event.Room, "v1"}}; len(got) != 1 || got[0] != want[0] {
		t.Errorf("got release calls %v, want %v", got, want)
	}

	_, err = service.Pay(h.ctx, booking.PayRequest{HoldID: hold.ID, Visitor: "v1", Card: booking.TestCardApproved})
	wantErr(t, err, booking.ErrAlreadyConfirmed)
	_, err = service.Pay(h.ctx, booking.PayRequest{HoldID: hold.ID, Visitor: "v2", Card: booking.TestCardApproved})
	wantErr(t, err, booking.ErrNotYourHold)
	if got := payments.Charges(); got != 1 {
		t.Errorf("after rejected payments: got %d charges, want 1", got)
	}
}

func testPayExpiredHold(t *testing.T, h *harness) {
	event := h.createEvent(func(e *booking.Event) { e.HoldLifetime = shortLifetime })
	payments := booking.NewTestPayments()
	releaser := &recordingReleaser{}
	service := &booking.Service{Store: h.store, Payments: payments, Releaser: releaser}
	hold := h.hold(event.ID, slotA, "v1", 2)

	h.waitUntilPast(hold.ExpiresAt)
	_, err := service.Pay(h.ctx, booking.PayRequest{HoldID: hold.ID, Visitor: "v1", Card: booking.TestCardApproved})
	wantErr(t, err, booking.ErrHoldExpired)

	if got := payments.Charges(); got != 0 {
		t.Errorf("got %d charges, want 0", got)
	}
	if got, want := releaser.released(), []releaseCall{{event.Room, "v1"}}; len(got) != 1 || got[0] != want[0] {
		t.Errorf("got release calls %v, want %v", got, want)
	}
}

func testWebhookConfirmsOnce(t *testing.T, h *harness) {
	event := h.createEvent(nil)
	signer, err := booking.NewWebhookSigner([]byte("0123456789abcdef0123456789abcdef"), 0)
	if err != nil {
		t.Fatalf("new signer: %v", err)
	}
	releaser := &recordingReleaser{}
	service := &booking.Service{Store: h.store, Payments: booking.NewTestPayments(), Releaser: releaser, Webhooks: signer}
	hold := h.hold(event.ID, slotA, "v1", 2)

	body, err := json.Marshal(booking.WebhookEvent{
		Type:      booking.WebhookEventPaymentSucceeded,
		PaymentID: "pay-webhook",
		HoldID:    hold.ID,
		Amount:    event.Price(hold.Tickets),
		Currency:  event.Currency,
	})
	if err != nil {
		t.Fatalf("encode webhook: %v", err)
	}
	signature := signer.Sign(body, time.Now())

	first, err := service.HandleWebhook(h.ctx, body, signature)
	if err != nil {
		t.Fatalf("first webhook: %v", err)
	}
	second, err := service.HandleWebhook(h.ctx, body, signature)
	if err != nil {
		t.Fatalf("repeated webhook: %v", err)
	}

	if first.State != booking.OrderConfirmed {
		t.Errorf("got state %q, want %q", first.State, booking.OrderConfirmed)
	}
	if second.ID != first.ID {
		t.Errorf("repeated webhook: got order %s, want %s", second.ID, first.ID)
	}
	if got := len(h.orders(event.ID, "")); got != 1 {
		t.Errorf("got %d orders, want 1", got)
	}
	h.wantStats(event.ID, slotA, 0, 2)
	if got := releaser.released(); len(got) == 0 || got[0] != (releaseCall{event.Room, "v1"}) {
		t.Errorf("got release calls %v, want at least one for room %s, visitor v1", got, event.Room)
	}

	tampered := append([]byte(nil), body...)
	tampered[len(tampered)-2] = 'X'
	_, err = service.HandleWebhook(h.ctx, tampered, signature)
	wantErr(t, err, booking.ErrInvalidSignature)
	if got := len(h.orders(event.ID, "")); got != 1 {
		t.Errorf("after a tampered webhook: got %d orders, want 1", got)
	}
}
