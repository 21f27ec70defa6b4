package booking_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"foyer/booking"
	"foyer/booking/memstore"
	"foyer/booking/storetest"
)

// failingReleaser is a Releaser whose every call fails.
type failingReleaser struct{ calls int }

func (r *failingReleaser) Release(context.Context, string, string) error {
	r.calls++
	return errors.New("waiting room store unavailable")
}

type serviceFixture struct {
	ctx     context.Context
	clock   *storetest.ManualClock
	store   *memstore.Store
	service *booking.Service
	logs    *bytes.Buffer
	signer  *booking.WebhookSigner
	event   booking.Event
}

func newServiceFixture(t *testing.T) *serviceFixture {
	t.Helper()

	clock := storetest.NewManualClock(time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC))
	store := memstore.New(memstore.Options{Now: clock.Now})
	event, slots, err := booking.DemoEvent("2026-06-01")
	if err != nil {
		t.Fatalf("demo event: %v", err)
	}
	if err := store.CreateEvent(t.Context(), event, slots); err != nil {
		t.Fatalf("create event: %v", err)
	}

	signer, err := booking.NewWebhookSigner([]byte("0123456789abcdef0123456789abcdef"), 0)
	if err != nil {
		t.Fatalf("new signer: %v", err)
	}
	logs := &bytes.Buffer{}
	service := &booking.Service{
		Store:    store,
		Payments: booking.NewTestPayments(),
		Webhooks: signer,
		Logger:   slog.New(slog.NewTextHandler(logs, nil)),
		Now:      clock.Now,
	}
	return &serviceFixture{ctx: t.Context(), clock: clock, store: store, service: service, logs: logs, signer: signer, event: event}
}

func (f *serviceFixture) hold(t *testing.T) booking.Hold {
	t.Helper()

	hold, err := f.service.Hold(f.ctx, booking.HoldRequest{Event: f.event.ID, Slot: "20260601-0900", Visitor: "v1", Quantity: 2})
	if err != nil {
		t.Fatalf("hold: %v", err)
	}
	return hold
}

func (f *serviceFixture) webhook(t *testing.T, event booking.WebhookEvent) ([]byte, string) {
	t.Helper()

	body, err := json.Marshal(event)
	if err != nil {
		t.Fatalf("encode webhook: %v", err)
	}
	return body, f.signer.Sign(body, f.clock.Now())
}

func TestServicePayWithFailingReleaser(t *testing.T) {
	f := newServiceFixture(t)
	releaser := &failingReleaser{}
	f.service.Releaser = releaser
	hold := f.hold(t)

	order, err := f.service.Pay(f.ctx, booking.PayRequest{HoldID: hold.ID, Visitor: "v1", Card: booking.TestCardApproved})
	if err != nil {
		t.Fatalf("pay: %v", err)
	}

	if order.State != booking.OrderConfirmed {
		t.Errorf("got state %q, want %q", order.State, booking.OrderConfirmed)
	}
	if releaser.calls != 1 {
		t.Errorf("got %d release calls, want 1", releaser.calls)
	}
	if !strings.Contains(f.logs.String(), "release visitor from waiting room failed") {
		t.Errorf("got logs %q, want the failed release logged", f.logs.String())
	}
	if strings.Contains(f.logs.String(), booking.TestCardApproved) {
		t.Errorf("got logs %q, want no card number", f.logs.String())
	}
}

// TestServiceLogsBookings checks that a declined card and a confirmed
// order each leave an info line naming the hold, and that a hold leaves a
// debug line.
func TestServiceLogsBookings(t *testing.T) {
	f := newServiceFixture(t)
	f.service.Logger = slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	hold := f.hold(t)

	if _, err := f.service.Pay(f.ctx, booking.PayRequest{HoldID: hold.ID, Visitor: "v1", Card: booking.TestCardDeclined}); !errors.Is(err, booking.ErrPaymentDeclined) {
		t.Fatalf("pay with the declined card: got %v, want %v", err, booking.ErrPaymentDeclined)
	}
	order, err := f.service.Pay(f.ctx, booking.PayRequest{HoldID: hold.ID, Visitor: "v1", Card: booking.TestCardApproved})
	if err != nil {
		t.Fatalf("pay: %v", err)
	}

	logs := f.logs.String()
	for _, want := range []string{
		`level=DEBUG msg="hold placed" hold=` + hold.ID,
		`level=INFO msg="payment declined" hold=` + hold.ID,
		`level=INFO msg="order confirmed" order=` + order.ID + ` hold=` + hold.ID,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("got logs\n%s\nwant a line with %q", logs, want)
		}
	}
	if strings.Contains(logs, booking.TestCardDeclined) || strings.Contains(logs, booking.TestCardApproved) {
		t.Errorf("got logs\n%s\nwant no card number", logs)
	}
}

func TestServiceWebhookUnknownHoldIsLogged(t *testing.T) {
	f := newServiceFixture(t)
	body, signature := f.webhook(t, booking.WebhookEvent{
		Type:      booking.WebhookEventPaymentSucceeded,
		PaymentID: "pay_orphan",
		HoldID:    booking.NewHoldID(f.event.ID),
	})

	_, err := f.service.HandleWebhook(f.ctx, body, signature)
	if !errors.Is(err, booking.ErrHoldNotFound) {
		t.Fatalf("got error %v, want %v", err, booking.ErrHoldNotFound)
	}

	logs := f.logs.String()
	if !strings.Contains(logs, "level=ERROR") || !strings.Contains(logs, "pay_orphan") {
		t.Errorf("got logs %q, want an error naming payment pay_orphan", logs)
	}
}

func TestServiceWebhookChecksTheAmount(t *testing.T) {
	cases := []struct {
		name     string
		amount   func(price int64) int64
		currency string
		want     booking.OrderState
	}{
		{name: "the price", amount: func(p int64) int64 { return p }, currency: "EUR", want: booking.OrderConfirmed},
		{name: "the price in lower case", amount: func(p int64) int64 { return p }, currency: "eur", want: booking.OrderConfirmed},
		{name: "a cent short", amount: func(p int64) int64 { return p - 1 }, currency: "EUR", want: booking.OrderNeedsRefund},
		{name: "nothing", amount: func(int64) int64 { return 0 }, currency: "EUR", want: booking.OrderNeedsRefund},
		{name: "another currency", amount: func(p int64) int64 { return p }, currency: "USD", want: booking.OrderNeedsRefund},
		{name: "no currency", amount: func(p int64) int64 { return p }, currency: "", want: booking.OrderNeedsRefund},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newServiceFixture(t)
			hold := f.hold(t)
			price := f.event.Price(hold.Tickets)
			body, signature := f.webhook(t, booking.WebhookEvent{
				Type: booking.WebhookEventPaymentSucceeded, PaymentID: "pay_1", HoldID: hold.ID,
				Amount: tc.amount(price), Currency: tc.currency,
			})

			order, err := f.service.HandleWebhook(f.ctx, body, signature)
			if err != nil {
				t.Fatalf("handle webhook: %v", err)
			}

			if order.State != tc.want {
				t.Fatalf("got order state %q (reason %q), want %q", order.State, order.RefundReason, tc.want)
			}
			if tc.want == booking.OrderConfirmed {
				return
			}
			if want := booking.ErrorCode(booking.ErrAmountMismatch); order.RefundReason != want {
				t.Errorf("got refund reason %q, want %q", order.RefundReason, want)
			}
			if paid := tc.amount(price); order.PaidAmount != paid || order.PaidCurrency != tc.currency {
				t.Errorf("got paid %d %q on the order, want %d %q as the webhook said", order.PaidAmount, order.PaidCurrency, paid, tc.currency)
			}
			if got := f.holdState(t, hold.ID); got != booking.HoldActive {
				t.Errorf("got hold state %q, want %q: a wrong payment buys nothing", got, booking.HoldActive)
			}
			logs := f.logs.String()
			if !strings.Contains(logs, "payment amount does not match") || !strings.Contains(logs, fmt.Sprintf("price=%d", price)) {
				t.Errorf("got logs %q, want the mismatch logged with price %d", logs, price)
			}
		})
	}
}

func TestServiceWebhookIgnoresOtherTypes(t *testing.T) {
	f := newServiceFixture(t)
	hold := f.hold(t)
	body, signature := f.webhook(t, booking.WebhookEvent{Type: "payment.refunded", PaymentID: "pay_1", HoldID: hold.ID})

	order, err := f.service.HandleWebhook(f.ctx, body, signature)
	if err != nil {
		t.Fatalf("handle webhook: %v", err)
	}
	if order.ID != "" {
		t.Errorf("got order %s, want none", order.ID)
	}
	if got := f.holdState(t, hold.ID); got != booking.HoldActive {
		t.Errorf("got hold state %q, want %q", got, booking.HoldActive)
	}
}

func TestServiceWebhookWithoutSecret(t *testing.T) {
	f := newServiceFixture(t)
	body, signature := f.webhook(t, booking.WebhookEvent{Type: booking.WebhookEventPaymentSucceeded})
	f.service.Webhooks = nil

	_, err := f.service.HandleWebhook(f.ctx, body, signature)
	if !errors.Is(err, booking.ErrInvalidSignature) {
		t.Errorf("got error %v, want %v", err, booking.ErrInvalidSignature)
	}
}

func TestServiceRecordsOutcomes(t *testing.T) {
	f := newServiceFixture(t)
	f.service.Recorder = booking.NewRecorder(f.store, f.clock.Now, nil)
	hold := f.hold(t)
	_, err := f.service.Hold(f.ctx, booking.HoldRequest{Event: f.event.ID, Slot: "no-such-slot", Visitor: "v2", Quantity: 1})
	if !errors.Is(err, booking.ErrUnknownSlot) {
		t.Fatalf("got error %v, want %v", err, booking.ErrUnknownSlot)
	}
	if _, err := f.service.Pay(f.ctx, booking.PayRequest{HoldID: hold.ID, Visitor: "v1", Card: booking.TestCardDeclined}); !errors.Is(err, booking.ErrPaymentDeclined) {
		t.Fatalf("got error %v, want %v", err, booking.ErrPaymentDeclined)
	}

	if err := f.service.Recorder.Flush(f.ctx); err != nil {
		t.Fatalf("flush: %v", err)
	}
	now := f.clock.Now()
	windows, err := f.store.ReadStats(f.ctx, booking.WindowStart(now), now.Add(booking.StatsWindow))
	if err != nil {
		t.Fatalf("read stats: %v", err)
	}
	if len(windows) != 1 {
		t.Fatalf("got %d windows, want 1", len(windows))
	}

	holds := windows[0].Ops[booking.OpHold]
	if holds.Count != 2 || holds.Errors["unknown_slot"] != 1 {
		t.Errorf("got %d holds with %d unknown_slot, want 2 with 1", holds.Count, holds.Errors["unknown_slot"])
	}
	if pays := windows[0].Ops[booking.OpPay]; pays.Errors["payment_declined"] != 1 {
		t.Errorf("got %d declined payments, want 1", pays.Errors["payment_declined"])
	}
}

func TestServiceCheckHoldReleasesExpired(t *testing.T) {
	f := newServiceFixture(t)
	releaser := &failingReleaser{}
	f.service.Releaser = releaser
	hold := f.hold(t)

	if _, err := f.service.CheckHold(f.ctx, hold.ID, "v1"); err != nil {
		t.Fatalf("check active hold: %v", err)
	}
	if releaser.calls != 0 {
		t.Errorf("active hold: got %d release calls, want 0", releaser.calls)
	}

	f.clock.Advance(f.event.HoldLifetime)
	checked, err := f.service.CheckHold(f.ctx, hold.ID, "v1")
	if err != nil {
		t.Fatalf("check expired hold: %v", err)
	}
	if checked.State != booking.HoldExpired {
		t.Errorf("got state %q, want %q", checked.State, booking.HoldExpired)
	}
	if releaser.calls != 1 {
		t.Errorf("expired hold: got %d release calls, want 1", releaser.calls)
	}

	_, err = f.service.CheckHold(f.ctx, hold.ID, "v2")
	if !errors.Is(err, booking.ErrNotYourHold) {
		t.Errorf("other visitor: got error %v, want %v", err, booking.ErrNotYourHold)
	}
}

func (f *serviceFixture) holdState(t *testing.T, id string) booking.HoldState {
	t.Helper()

	hold, err := f.store.GetHold(f.ctx, id)
	if err != nil {
		t.Fatalf("get hold: %v", err)
	}
	return hold.State
}

// FuzzHandleWebhook signs any body and passes it to a service with one
// hold. The service must not panic, must reject a malformed body with a
// booking error rather than an internal one, and must confirm the hold
// only for a payment of its price.
func FuzzHandleWebhook(f *testing.F) {
	f.Add([]byte(`{"type":"payment.succeeded","payment_id":"pay_1","hold_id":"HOLD","amount":3500,"currency":"EUR"}`))
	f.Add([]byte(`{"type":"payment.succeeded","payment_id":"pay_1","hold_id":"HOLD","amount":1,"currency":"eur"}`))
	f.Add([]byte(`{"type":"payment.succeeded","payment_id":"","hold_id":"HOLD"}`))
	f.Add([]byte(`{"type":"payment.refunded","hold_id":"HOLD"}`))
	f.Add([]byte(`{"type":"payment.succeeded","payment_id":"p","hold_id":"h_x_y","amount":-5}`))
	f.Add([]byte(`[1,2`))

	f.Fuzz(func(t *testing.T, body []byte) {
		fx := newServiceFixture(t)
		hold := fx.hold(t)
		body = bytes.ReplaceAll(body, []byte("HOLD"), []byte(hold.ID))
		signature := fx.signer.Sign(body, fx.clock.Now())

		order, err := fx.service.HandleWebhook(fx.ctx, body, signature)
		if err != nil {
			if code := booking.ErrorCode(err); code == booking.CodeInternal {
				t.Fatalf("body %q: got internal error %v, want a booking error", body, err)
			}
			return
		}
		if order.State != booking.OrderConfirmed {
			return
		}
		var paid booking.WebhookEvent
		if err := json.Unmarshal(body, &paid); err != nil {
			t.Fatalf("body %q: confirmed an order, but it does not decode: %v", body, err)
		}
		if price := fx.event.Price(hold.Tickets); paid.Amount != price || !strings.EqualFold(paid.Currency, fx.event.Currency) {
			t.Fatalf("body %q: confirmed a payment of %d %s, want only the price %d %s", body, paid.Amount, paid.Currency, price, fx.event.Currency)
		}
	})
}
