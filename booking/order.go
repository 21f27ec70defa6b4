package booking

import (
	"fmt"
	"time"
)

// OrderState is the state of an order. The zero value means unknown.
type OrderState string

// Order states.
const (
	// OrderConfirmed owns its places in the slot.
	OrderConfirmed OrderState = "confirmed"
	// OrderNeedsRefund was paid but got no places, because its hold had
	// expired and the places were taken, the hold was already confirmed by
	// another payment, or the payment's amount was not the hold's price.
	// RefundReason gives the error code of the cause.
	// Someone must refund the payment and then cancel the order to record
	// the refund.
	OrderNeedsRefund OrderState = "needs_refund"
	// OrderCancelled returned its places, if it had any.
	OrderCancelled OrderState = "cancelled"
)

// OrderStates lists every order state.
var OrderStates = []OrderState{OrderConfirmed, OrderNeedsRefund, OrderCancelled}

// ValidOrderState reports whether s is a known order state.
func ValidOrderState(s OrderState) bool {
	for _, state := range OrderStates {
		if s == state {
			return true
		}
	}
	return false
}

// ConfirmRequest applies a successful payment to a hold.
type ConfirmRequest struct {
	HoldID string `json:"hold_id"`
	// PaymentID identifies the payment at the provider. A store applies one
	// payment id at most once: repeating a confirmation returns the order
	// of the first.
	PaymentID string `json:"payment_id"`
	// Refund, when set, is the error code of a reason found before the
	// store was asked, such as "amount_mismatch": the payment becomes an
	// order in OrderNeedsRefund with that reason, and the hold is left as
	// it is.
	Refund string `json:"refund,omitempty"`
	// PaidAmount and PaidCurrency are what the payment provider took, kept
	// on the order so that a refund can return it. Zero and empty when
	// unknown.
	PaidAmount   int64  `json:"paid_amount,omitempty"`
	PaidCurrency string `json:"paid_currency,omitempty"`
}

const (
	maxPaymentIDLength = 128
	maxCurrencyLength  = 16
)

// Validate checks the hold id, that the payment id is set, that a refund
// reason is a known error code, and the paid amount and currency.
func (r ConfirmRequest) Validate() error {
	if _, err := ParseHoldID(r.HoldID); err != nil {
		return fmt.Errorf("confirm: %w", err)
	}
	if r.PaymentID == "" || len(r.PaymentID) > maxPaymentIDLength {
		return fmt.Errorf("confirm hold %s: payment id must be 1 to %d bytes: %w", r.HoldID, maxPaymentIDLength, ErrInvalidRequest)
	}
	if r.Refund != "" && ErrorForCode(r.Refund) == nil {
		return fmt.Errorf("confirm hold %s: refund reason %q is not an error code: %w", r.HoldID, r.Refund, ErrInvalidRequest)
	}
	if r.PaidAmount < 0 {
		return fmt.Errorf("confirm hold %s: paid amount %d is negative: send what was paid, in minor units: %w", r.HoldID, r.PaidAmount, ErrInvalidRequest)
	}
	if len(r.PaidCurrency) > maxCurrencyLength {
		return fmt.Errorf("confirm hold %s: paid currency of %d bytes is too long: use a code such as EUR: %w", r.HoldID, len(r.PaidCurrency), ErrInvalidRequest)
	}
	return nil
}

// Order is the result of a confirmed payment for a hold.
type Order struct {
	ID        string         `json:"order_id"`
	Event     string         `json:"event"`
	Slot      string         `json:"slot"`
	HoldID    string         `json:"hold_id"`
	Visitor   string         `json:"visitor"`
	PaymentID string         `json:"payment_id"`
	Tickets   map[string]int `json:"tickets"`
	Quantity  int            `json:"quantity"`
	State     OrderState     `json:"state"`
	// RefundReason is the error code that explains why an order needs a
	// refund, such as "sold_out". It is empty for other orders.
	RefundReason string `json:"refund_reason,omitempty"`
	// PaidAmount and PaidCurrency are what the payment took, as
	// ConfirmRequest gave them.
	PaidAmount   int64     `json:"paid_amount,omitempty"`
	PaidCurrency string    `json:"paid_currency,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}
