package booking

import "errors"

// Error is a booking failure that a client can act on. Each Error has a
// stable code that the HTTP API sends as error.code. Compare with errors.Is
// against the sentinel values below. Stores and the service wrap them with
// detail, as in fmt.Errorf("hold slot %s: %w", slot, ErrSoldOut).
type Error struct {
	code    string
	message string
}

// Error returns the message, prefixed with the package name.
func (e *Error) Error() string { return "booking: " + e.message }

// Code returns the stable error code, such as "sold_out".
func (e *Error) Code() string { return e.code }

func newError(code, message string) *Error {
	err := &Error{code: code, message: message}
	errorsByCode[code] = err
	return err
}

var errorsByCode = map[string]*Error{}

// Sentinel errors. Their codes are part of the API contract and never change.
var (
	// ErrSoldOut means that fewer places are free in the slot than requested.
	ErrSoldOut = newError("sold_out", "not enough free places in the slot")
	// ErrHoldExpired means that the hold's places were returned to the
	// slot, because its lifetime ended or the visitor released it.
	ErrHoldExpired = newError("hold_expired", "hold expired")
	// ErrHoldNotFound means that no hold has the id, or it was removed
	// after HoldRetention.
	ErrHoldNotFound = newError("hold_not_found", "hold not found")
	// ErrNotYourHold means that the hold belongs to another visitor.
	ErrNotYourHold = newError("not_your_hold", "hold belongs to another visitor")
	// ErrLimitExceeded means that the request would exceed one of the event's
	// limits: tickets per order, tickets per visitor, concurrent holds per
	// visitor or hold extensions.
	ErrLimitExceeded = newError("limit_exceeded", "limit exceeded")
	// ErrInvalidQuantity means that a quantity or ticket count is zero,
	// negative, above MaxQuantity, or that quantity and tickets disagree.
	ErrInvalidQuantity = newError("invalid_quantity", "invalid quantity")
	// ErrUnknownEvent means that no event has the id.
	ErrUnknownEvent = newError("unknown_event", "unknown event")
	// ErrUnknownSlot means that the event has no slot with the id.
	ErrUnknownSlot = newError("unknown_slot", "unknown slot")
	// ErrUnknownTicketType means that the event has no ticket type with the id.
	ErrUnknownTicketType = newError("unknown_ticket_type", "unknown ticket type")
	// ErrSlotStarted means that the slot's start time has passed, so it can
	// no longer be booked.
	ErrSlotStarted = newError("slot_started", "slot has started")
	// ErrNotOnSale means that the request came before the event's sales
	// start or after its sales end.
	ErrNotOnSale = newError("not_on_sale", "event is not on sale")
	// ErrAlreadyConfirmed means that the hold was already turned into an order.
	ErrAlreadyConfirmed = newError("already_confirmed", "hold already confirmed")
	// ErrPaymentDeclined means that the payment provider declined the card.
	// The hold is kept and its expiry is unchanged.
	ErrPaymentDeclined = newError("payment_declined", "payment declined")
	// ErrInvalidCard means that the card number is malformed.
	ErrInvalidCard = newError("invalid_card", "invalid card number")
	// ErrOrderNotFound means that no order has the id.
	ErrOrderNotFound = newError("order_not_found", "order not found")
	// ErrCapacityTooLow means that a new slot capacity would be below the
	// places already sold plus those held.
	ErrCapacityTooLow = newError("capacity_too_low", "capacity below sold and held places")
	// ErrEventExists means that an event with the id already exists.
	ErrEventExists = newError("event_exists", "event already exists")
	// ErrInvalidEvent means that an event definition is invalid. The wrapped
	// message names the field.
	ErrInvalidEvent = newError("invalid_event", "invalid event")
	// ErrInvalidSlot means that a slot definition or a local slot time is
	// invalid. The wrapped message names the field.
	ErrInvalidSlot = newError("invalid_slot", "invalid slot")
	// ErrInvalidID means that a hold, order, session or event id is malformed.
	ErrInvalidID = newError("invalid_id", "invalid id")
	// ErrInvalidRequest means that a required field, such as the visitor,
	// is missing or malformed.
	ErrInvalidRequest = newError("invalid_request", "invalid request")
	// ErrTokenUsed means that the admission token was already exchanged for
	// a booking session.
	ErrTokenUsed = newError("token_used", "admission token already used")
	// ErrWrongRoom means that the admission token was issued by a room that
	// does not guard the event.
	ErrWrongRoom = newError("wrong_room", "admission token is for another room")
	// ErrSessionNotFound means that no unexpired booking session has the id.
	ErrSessionNotFound = newError("session_not_found", "booking session not found or expired")
	// ErrInvalidSignature means that a payment webhook's signature header is
	// missing, malformed, too old or does not match.
	ErrInvalidSignature = newError("invalid_signature", "invalid webhook signature")
	// ErrAmountMismatch means that a payment's amount or currency differs
	// from the price of the hold it names. Its order needs a refund.
	ErrAmountMismatch = newError("amount_mismatch", "payment amount does not match the hold's price")
	// ErrUnavailable means that the store could not be reached, for example
	// because Redis is down, so the request may succeed when tried again.
	ErrUnavailable = newError("unavailable", "booking store unavailable")
)

// CodeInternal is the code of errors that are not booking errors, such as a
// lost store connection. The API shows them as "internal error".
const CodeInternal = "internal"

// ErrorCode returns the stable code of the first booking Error in err's
// chain, "" for a nil err, and CodeInternal for any other error.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}

	var bookingErr *Error
	if errors.As(err, &bookingErr) {
		return bookingErr.code
	}
	return CodeInternal
}

// ErrorForCode returns the sentinel error with the code, or nil when no
// sentinel has it. Stores use it to turn codes returned by scripts back into
// errors.
func ErrorForCode(code string) error {
	err, ok := errorsByCode[code]
	if !ok {
		return nil
	}
	return err
}
