package booking

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Releaser frees a visitor's active place in a waiting room, so that the
// room can admit the next visitor. The web layer wires it to the waiting
// room's store.
type Releaser interface {
	Release(ctx context.Context, room, visitor string) error
}

// confirmTimeout bounds the Confirm that follows a successful charge. It
// runs even when the request's context is cancelled, because the card is
// already charged.
const confirmTimeout = 5 * time.Second

// Service runs the booking steps that span several parts: paying a hold,
// confirming it from a webhook, and releasing the visitor's place in the
// waiting room. Store and Payments are required, and the other fields may
// be nil.
type Service struct {
	Store    Store
	Payments Payments
	// Releaser is called when a visitor's hold is confirmed or has expired.
	Releaser Releaser
	// Webhooks verifies payment webhooks. When it is nil, HandleWebhook
	// rejects every webhook.
	Webhooks *WebhookSigner
	// Recorder counts latencies and errors of Hold and Pay.
	Recorder *Recorder
	Logger   *slog.Logger
	// Now is the clock for latencies and webhook timestamps. Nil means
	// time.Now.
	Now func() time.Time
}

// PayRequest pays for a hold with a card.
type PayRequest struct {
	HoldID  string
	Visitor string
	// Card is the card number. It is a secret: never log it.
	Card string
	// IdempotencyKey identifies this payment attempt, and a client's network
	// retry sends the same key. Empty means a new attempt with a random key.
	IdempotencyKey string
}

// Hold places a hold through the store and records its outcome. Holds are
// many at a launch, so they are logged at debug level.
func (s *Service) Hold(ctx context.Context, req HoldRequest) (Hold, error) {
	start := s.now()

	hold, err := s.Store.Hold(ctx, req)
	s.observe(OpHold, start, err)
	// The check spares the hot path the arguments' allocations.
	if log := s.logger(); log.Enabled(ctx, slog.LevelDebug) {
		if err != nil {
			log.Debug("hold refused", "event", req.Event, "slot", req.Slot, "visitor", req.Visitor, "quantity", req.Quantity, "code", ErrorCode(err))
		} else {
			log.Debug("hold placed", "hold", hold.ID, "slot", hold.Slot, "visitor", hold.Visitor, "quantity", hold.Quantity, "expires", hold.ExpiresAt)
		}
	}
	return hold, err
}

// Pay charges the card for an active hold of the visitor and confirms the
// hold into an order. A declined card returns ErrPaymentDeclined and leaves
// the hold as it was, expiry included. A hold that already ended returns
// ErrHoldExpired or ErrAlreadyConfirmed before any charge. If the hold
// expires while the card is charged and its places are taken meanwhile, the
// returned order is in state OrderNeedsRefund, so callers check State.
func (s *Service) Pay(ctx context.Context, req PayRequest) (Order, error) {
	start := s.now()

	order, err := s.pay(ctx, req)
	s.observe(OpPay, start, err)
	return order, err
}

func (s *Service) pay(ctx context.Context, req PayRequest) (Order, error) {
	hold, err := s.Store.GetHold(ctx, req.HoldID)
	if err != nil {
		return Order{}, err
	}
	if err := checkPayable(hold, req.Visitor); err != nil {
		s.releaseIfExpired(ctx, hold, err)
		return Order{}, err
	}

	event, err := s.Store.Event(ctx, hold.Event)
	if err != nil {
		return Order{}, err
	}

	key := req.IdempotencyKey
	if key == "" {
		key = hold.ID + ":" + strings.ToLower(rand.Text())
	}
	payment, err := s.Payments.Charge(ctx, ChargeRequest{
		IdempotencyKey: key,
		HoldID:         hold.ID,
		Amount:         event.Price(hold.Tickets),
		Currency:       event.Currency,
		Card:           req.Card,
	})
	if errors.Is(err, ErrPaymentDeclined) {
		s.logger().Info("payment declined", "hold", hold.ID, "visitor", hold.Visitor)
	}
	if err != nil {
		return Order{}, fmt.Errorf("pay hold %s: %w", hold.ID, err)
	}

	return s.confirm(ctx, event.Room, ConfirmRequest{HoldID: hold.ID, PaymentID: payment.ID, PaidAmount: payment.Amount, PaidCurrency: payment.Currency})
}

func checkPayable(hold Hold, visitor string) error {
	switch {
	case hold.Visitor != visitor:
		return fmt.Errorf("pay hold %s: %w", hold.ID, ErrNotYourHold)
	case hold.State == HoldConfirmed:
		return fmt.Errorf("pay hold %s: %w", hold.ID, ErrAlreadyConfirmed)
	case hold.State != HoldActive:
		return fmt.Errorf("pay hold %s: %w", hold.ID, ErrHoldExpired)
	}
	return nil
}

// confirm applies a charged payment. The card is already charged, so it runs
// with its own timeout even if ctx is cancelled, and it logs any failure so
// that a charged payment without an order is not silent.
func (s *Service) confirm(ctx context.Context, room string, req ConfirmRequest) (Order, error) {
	confirmCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), confirmTimeout)
	defer cancel()

	start := s.now()
	order, err := s.Store.Confirm(confirmCtx, req)
	s.observe(OpConfirm, start, err)
	if err != nil {
		s.logger().Error("confirm paid hold failed, the payment needs a refund or a retry",
			"hold", req.HoldID, "payment", req.PaymentID, "err", err)
		return Order{}, fmt.Errorf("confirm hold %s: %w", req.HoldID, err)
	}

	if order.State == OrderNeedsRefund {
		s.logger().Warn("paid hold could not be confirmed, the order needs a refund",
			"hold", order.HoldID, "order", order.ID, "payment", order.PaymentID, "reason", order.RefundReason)
		return order, nil
	}

	s.logger().Info("order confirmed", "order", order.ID, "hold", order.HoldID, "slot", order.Slot,
		"visitor", order.Visitor, "quantity", order.Quantity, "payment", order.PaymentID)
	s.release(confirmCtx, room, order.Visitor)
	return order, nil
}

// HandleWebhook verifies a payment webhook and confirms the hold it names.
// A repeated webhook returns the same order. Event types other than
// WebhookEventPaymentSucceeded are ignored and return a zero Order.
func (s *Service) HandleWebhook(ctx context.Context, body []byte, signature string) (Order, error) {
	if s.Webhooks == nil {
		return Order{}, fmt.Errorf("handle webhook: no webhook secret is configured: %w", ErrInvalidSignature)
	}
	if err := s.Webhooks.Verify(body, signature, s.now()); err != nil {
		return Order{}, err
	}

	var event WebhookEvent
	if err := json.Unmarshal(body, &event); err != nil {
		return Order{}, fmt.Errorf("handle webhook: body is not a webhook event: %w: %w", ErrInvalidRequest, err)
	}
	if event.Type != WebhookEventPaymentSucceeded {
		s.logger().Info("ignored payment webhook", "type", event.Type, "payment", event.PaymentID)
		return Order{}, nil
	}

	req := ConfirmRequest{HoldID: event.HoldID, PaymentID: event.PaymentID, PaidAmount: event.Amount, PaidCurrency: event.Currency}
	if err := req.Validate(); err != nil {
		return Order{}, fmt.Errorf("handle webhook: %w", err)
	}

	room, refund, err := s.checkAmount(ctx, event)
	if err != nil {
		return Order{}, fmt.Errorf("handle webhook for hold %s: %w", event.HoldID, err)
	}
	req.Refund = refund
	return s.confirm(ctx, room, req)
}

// checkAmount compares a payment webhook's amount and currency with the
// price of the hold it names, and returns the room of the hold's event.
// refund is ErrAmountMismatch's code when they differ: the payment must
// not buy the places. An unknown hold or event is left to Confirm, which
// reports it.
func (s *Service) checkAmount(ctx context.Context, paid WebhookEvent) (room, refund string, err error) {
	eventID, err := ParseHoldID(paid.HoldID)
	if err != nil {
		return "", "", err
	}
	ev, err := s.Store.Event(ctx, eventID)
	if errors.Is(err, ErrUnknownEvent) {
		return "", "", nil
	}
	if err != nil {
		return "", "", err
	}
	hold, err := s.Store.GetHold(ctx, paid.HoldID)
	if errors.Is(err, ErrHoldNotFound) {
		return ev.Room, "", nil
	}
	if err != nil {
		return "", "", err
	}

	price := ev.Price(hold.Tickets)
	if paid.Amount == price && strings.EqualFold(paid.Currency, ev.Currency) {
		return ev.Room, "", nil
	}
	s.logger().Warn("payment amount does not match the hold's price",
		"hold", hold.ID, "payment", paid.PaymentID,
		"amount", paid.Amount, "currency", paid.Currency, "price", price, "price_currency", ev.Currency)
	return ev.Room, ErrorCode(ErrAmountMismatch), nil
}

// CheckHold returns the visitor's hold. When the hold has expired it also
// releases the visitor's place in the waiting room.
func (s *Service) CheckHold(ctx context.Context, holdID, visitor string) (Hold, error) {
	hold, err := s.Store.GetHold(ctx, holdID)
	if err != nil {
		return Hold{}, err
	}
	if hold.Visitor != visitor {
		return Hold{}, fmt.Errorf("check hold %s: %w", holdID, ErrNotYourHold)
	}

	s.releaseIfExpired(ctx, hold, nil)
	return hold, nil
}

func (s *Service) releaseIfExpired(ctx context.Context, hold Hold, err error) {
	if hold.State != HoldExpired || errors.Is(err, ErrNotYourHold) {
		return
	}

	event, eventErr := s.Store.Event(ctx, hold.Event)
	if eventErr != nil {
		s.logger().Warn("load event to release an expired hold's visitor failed", "event", hold.Event, "err", eventErr)
		return
	}
	s.release(ctx, event.Room, hold.Visitor)
}

func (s *Service) release(ctx context.Context, room, visitor string) {
	if s.Releaser == nil || room == "" {
		return
	}
	if err := s.Releaser.Release(ctx, room, visitor); err != nil {
		// The waiting room also drops the visitor when their admission
		// window ends, so a failed release only delays the next admission.
		s.logger().Warn("release visitor from waiting room failed", "room", room, "visitor", visitor, "err", err)
	}
}

func (s *Service) observe(op string, start time.Time, err error) {
	if s.Recorder == nil {
		return
	}
	s.Recorder.Observe(op, s.now().Sub(start), err)
}

func (s *Service) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

func (s *Service) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.Default()
	}
	return s.Logger
}
