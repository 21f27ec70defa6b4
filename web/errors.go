package web

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/gofiber/fiber/v2"

	"foyer/waitroom"
)

// apiError is an error as clients see it: an HTTP status, a stable code and
// a message that says what to do.
type apiError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	// RetryAfter, in seconds, is sent as the Retry-After header when above 0.
	RetryAfter int `json:"-"`
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func newError(status int, code, message string) *apiError {
	return &apiError{Status: status, Code: code, Message: message}
}

// domainErrors maps domain errors to what clients see. The first match wins.
var domainErrors = []struct {
	err error
	api apiError
}{
	{waitroom.ErrRoomNotFound, apiError{Status: http.StatusNotFound, Code: "room_not_found", Message: "No waiting room has this id. Check the link you followed."}},
	{waitroom.ErrRoomClosed, apiError{Status: http.StatusConflict, Code: "room_closed", Message: "This waiting room is closed and admits nobody more."}},
	{waitroom.ErrRoomSoldOut, apiError{Status: http.StatusConflict, Code: "sold_out", Message: "Everything has been sold; the line is closed."}},
	{waitroom.ErrVisitorNotFound, apiError{Status: http.StatusNotFound, Code: "not_in_line", Message: "Your place in line was not found. Join the line again."}},
	{waitroom.ErrUnavailable, apiError{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: "The waiting room cannot reach its store. Try again shortly; your place is kept.", RetryAfter: 5}},
	{waitroom.ErrTicketExpired, apiError{Status: http.StatusUnauthorized, Code: "ticket_expired", Message: "Your queue ticket has expired. Join the line again."}},
	{waitroom.ErrTicketRoom, apiError{Status: http.StatusForbidden, Code: "ticket_wrong_room", Message: "Your queue ticket is for another waiting room."}},
	{waitroom.ErrTicketInvalid, apiError{Status: http.StatusUnauthorized, Code: "ticket_invalid", Message: "Your queue ticket is invalid. Join the line again."}},
	{waitroom.ErrTokenExpired, apiError{Status: http.StatusUnauthorized, Code: "token_expired", Message: "Your admission has expired. Join the line again."}},
	{waitroom.ErrTokenRoom, apiError{Status: http.StatusForbidden, Code: "token_wrong_room", Message: "Your admission is for another waiting room."}},
	{waitroom.ErrTokenInvalid, apiError{Status: http.StatusUnauthorized, Code: "token_invalid", Message: "Your admission could not be verified. Join the line again."}},
}

// classify returns what clients see for err. Unknown errors are logged and
// shown as an internal error, so no detail of the failure leaks out.
func classify(log *slog.Logger, err error) *apiError {
	var api *apiError
	if errors.As(err, &api) {
		return api
	}
	var fe *fiber.Error
	if errors.As(err, &fe) {
		return fiberError(fe)
	}
	for _, m := range domainErrors {
		if errors.Is(err, m.err) {
			e := m.api
			return &e
		}
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
