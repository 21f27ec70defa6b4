package web

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"foyer/booking"
	"foyer/waitroom"
)

// apiError is an error as clients see it: an HTTP status, a stable code and
// a message that says what to do.
type apiError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	// Detail is the domain error's own text, such as the field that made an
	// event invalid. Only entries of domainErrors marked withDetail fill it,
	// because other errors may carry ids that the client should not see again.
	Detail string `json:"detail,omitempty"`
	// RetryAfter, in seconds, is sent as the Retry-After header when above 0.
	RetryAfter int `json:"-"`
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func newError(status int, code, message string) *apiError {
	return &apiError{Status: status, Code: code, Message: message}
}

// domainErrors maps domain errors to what clients see. The first match wins.
// The code of a booking error is its booking.ErrorCode, which the API
// contract fixes.
var domainErrors = []struct {
	err error
	api apiError
	// withDetail copies the error's own text into apiError.Detail.
	withDetail bool
}{
	{err: waitroom.ErrRoomNotFound, api: apiError{Status: http.StatusNotFound, Code: "room_not_found", Message: "No waiting room has this id. Check the link you followed."}},
	{err: waitroom.ErrRoomClosed, api: apiError{Status: http.StatusConflict, Code: "room_closed", Message: "This waiting room is closed and admits nobody more."}},
	{err: waitroom.ErrRoomSoldOut, api: apiError{Status: http.StatusConflict, Code: "sold_out", Message: "Everything has been sold; the line is closed."}},
	{err: waitroom.ErrVisitorNotFound, api: apiError{Status: http.StatusNotFound, Code: "not_in_line", Message: "Your place in line was not found. Join the line again."}},
	{err: waitroom.ErrUnavailable, api: apiError{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: "The waiting room cannot reach its store. Try again shortly; your place is kept.", RetryAfter: 5}},
	{err: waitroom.ErrTicketExpired, api: apiError{Status: http.StatusUnauthorized, Code: "ticket_expired", Message: "Your queue ticket has expired. Join the line again."}},
	{err: waitroom.ErrTicketRoom, api: apiError{Status: http.StatusForbidden, Code: "ticket_wrong_room", Message: "Your queue ticket is for another waiting room."}},
	{err: waitroom.ErrTicketInvalid, api: apiError{Status: http.StatusUnauthorized, Code: "ticket_invalid", Message: "Your queue ticket is invalid. Join the line again."}},
	{err: waitroom.ErrTokenExpired, api: apiError{Status: http.StatusUnauthorized, Code: "token_expired", Message: "Your admission has expired. Join the line again."}},
	{err: waitroom.ErrTokenRoom, api: apiError{Status: http.StatusForbidden, Code: "token_wrong_room", Message: "Your admission is for another waiting room."}},
	{err: waitroom.ErrTokenInvalid, api: apiError{Status: http.StatusUnauthorized, Code: "token_invalid", Message: "Your admission could not be verified. Join the line again."}},

	{err: booking.ErrSoldOut, withDetail: true, api: apiError{Status: http.StatusConflict, Code: "sold_out", Message: "Not enough places are free in this time slot. Choose fewer tickets or another time slot."}},
	{err: booking.ErrHoldExpired, api: apiError{Status: http.StatusGone, Code: "hold_expired", Message: "Your hold expired and its places went back on sale. Choose a time slot again."}},
	{err: booking.ErrHoldNotFound, api: apiError{Status: http.StatusNotFound, Code: "hold_not_found", Message: "No hold has this id. Holds are kept for a day after they end; choose a time slot again."}},
	{err: booking.ErrNotYourHold, api: apiError{Status: http.StatusForbidden, Code: "not_your_hold", Message: "This hold belongs to another visitor. Use a hold that you placed yourself."}},
	{err: booking.ErrLimitExceeded, withDetail: true, api: apiError{Status: http.StatusUnprocessableEntity, Code: "limit_exceeded", Message: "This is more than the event allows. Check the maximum tickets per order and per visitor, and finish or give up any other hold first."}},
	{err: booking.ErrInvalidQuantity, withDetail: true, api: apiError{Status: http.StatusBadRequest, Code: "invalid_quantity", Message: "Choose at least 1 ticket, and give every count as a whole number that is not negative."}},
	{err: booking.ErrUnknownEvent, api: apiError{Status: http.StatusNotFound, Code: "unknown_event", Message: "No event has this id. Check the link you followed."}},
	{err: booking.ErrUnknownSlot, api: apiError{Status: http.StatusNotFound, Code: "unknown_slot", Message: "This event has no time slot with this id. Choose one of the event's time slots."}},
	{err: booking.ErrUnknownTicketType, api: apiError{Status: http.StatusNotFound, Code: "unknown_ticket_type", Message: "This event has no ticket type with this id. Use one of the event's ticket types."}},
	{err: booking.ErrSlotStarted, api: apiError{Status: http.StatusConflict, Code: "slot_started", Message: "This time slot has started and can no longer be booked. Choose a later time slot."}},
	{err: booking.ErrNotOnSale, api: apiError{Status: http.StatusConflict, Code: "not_on_sale", Message: "Tickets for this event are not on sale at the moment. Check when sales open and close."}},
	{err: booking.ErrAlreadyConfirmed, api: apiError{Status: http.StatusConflict, Code: "already_confirmed", Message: "This hold is already paid and confirmed. Open its order to see your tickets."}},
	{err: booking.ErrPaymentDeclined, api: apiError{Status: http.StatusPaymentRequired, Code: "payment_declined", Message: "Your card was declined. Try another card: your tickets stay held until the time runs out."}},
	{err: booking.ErrInvalidCard, api: apiError{Status: http.StatusBadRequest, Code: "invalid_card", Message: "The card number is invalid. Enter the 12 to 19 digits printed on the card."}},
	{err: booking.ErrOrderNotFound, api: apiError{Status: http.StatusNotFound, Code: "order_not_found", Message: "No order has this id. Check the order reference."}},
	{err: booking.ErrCapacityTooLow, withDetail: true, api: apiError{Status: http.StatusConflict, Code: "capacity_too_low", Message: "The new capacity is below the places already sold plus those held. Set a capacity at least that high, or wait for holds to expire."}},
	{err: booking.ErrEventExists, api: apiError{Status: http.StatusConflict, Code: "event_exists", Message: "An event with this id exists already. Choose another id."}},
	{err: booking.ErrInvalidEvent, withDetail: true, api: apiError{Status: http.StatusBadRequest, Code: "invalid_event", Message: "The event is invalid: the detail names the field. Fix it and send the event again."}},
	{err: booking.ErrInvalidSlot, withDetail: true, api: apiError{Status: http.StatusBadRequest, Code: "invalid_slot", Message: "A slot is invalid: the detail names the slot and the field. Fix it and send the event again."}},
	{err: booking.ErrInvalidID, api: apiError{Status: http.StatusBadRequest, Code: "invalid_id", Message: "The id in the request is malformed. Check that you copied the whole hold, order or session id."}},
	{err: booking.ErrInvalidRequest, withDetail: true, api: apiError{Status: http.StatusBadRequest, Code: "invalid_request", Message: "A required field is missing or malformed: the detail names it."}},
	{err: booking.ErrTokenUsed, api: apiError{Status: http.StatusConflict, Code: "token_used", Message: "This admission was already exchanged for a booking session. Continue with that session, or join the waiting room again."}},
	{err: booking.ErrWrongRoom, api: apiError{Status: http.StatusForbidden, Code: "wrong_room", Message: "Your admission is from a waiting room that does not guard this event. Join this event's waiting room."}},
	{err: booking.ErrSessionNotFound, api: apiError{Status: http.StatusUnauthorized, Code: "session_not_found", Message: "Your booking session has ended or was not found. Join the waiting room again to book."}},
	{err: booking.ErrUnavailable, api: apiError{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: "Booking cannot reach its store. Try again shortly; your hold and session are kept.", RetryAfter: 5}},
	{err: booking.ErrInvalidSignature, api: apiError{Status: http.StatusBadRequest, Code: "invalid_signature", Message: "The webhook signature is missing, malformed, too old or does not match. Sign the body with the shared secret."}},
}

// lookupError returns what clients see for an error that the web layer or
// a domain package defines, and false for any other error.
func lookupError(err error) (*apiError, bool) {
	var api *apiError
	if errors.As(err, &api) {
		return api, true
	}
	var fe *fiber.Error
	if errors.As(err, &fe) {
		return fiberError(fe), true
	}
	for _, m := range domainErrors {
		if !errors.Is(err, m.err) {
			continue
		}
		e := m.api
		if m.withDetail {
			e.Detail = errorDetail(err, m.err)
		}
		return &e, true
	}
	return nil, false
}

// errorDetail returns err's text without the sentinel's own text, such as
// `event "expo": title must be 1 to 200 bytes`, or "" when nothing is left.
func errorDetail(err, sentinel error) string {
	text := err.Error()
	own := sentinel.Error()
	text = strings.Replace(text, own+": ", "", 1)
	text = strings.TrimSuffix(text, ": "+own)
	if text == own {
		return ""
	}
	return text
}

// classify returns what clients see for err. Unknown errors are logged and
// shown as an internal error, so no detail of the failure leaks out.
func classify(log *slog.Logger, err error) *apiError {
	if api, ok := lookupError(err); ok {
		return api
	}
	log.Error("request failed", "err", err)
	return newError(http.StatusInternalServerError, "internal", "Something went wrong on our side. Try again in a moment.")
}

func fiberError(fe *fiber.Error) *apiError {
	switch fe.Code {
	case http.StatusNotFound:
		return newError(fe.Code, "not_found", "No page or endpoint exists at this path.")
	case http.StatusMethodNotAllowed:
		return newError(fe.Code, "method_not_allowed", "This path does not accept that HTTP method.")
	case http.StatusRequestEntityTooLarge:
		return newError(fe.Code, "body_too_large", "The request body is too large.")
	case http.StatusRequestHeaderFieldsTooLarge:
		return newError(fe.Code, "headers_too_large", "The request headers are too large. Clear this site's cookies and try again.")
	}
	return newError(fe.Code, "http_error", fe.Message)
}
