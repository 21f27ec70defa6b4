package web

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"foyer/booking"
)

// bookingCodes lists the code of every booking sentinel error.
var bookingCodes = []string{
	"sold_out", "hold_expired", "hold_not_found", "not_your_hold", "limit_exceeded",
	"invalid_quantity", "unknown_event", "unknown_slot", "unknown_ticket_type",
	"slot_started", "not_on_sale", "already_confirmed", "payment_declined",
	"invalid_card", "order_not_found", "capacity_too_low", "event_exists",
	"invalid_event", "invalid_slot", "invalid_id", "invalid_request", "token_used",
	"wrong_room", "session_not_found", "invalid_signature",
}

func TestBookingErrorsMapped(t *testing.T) {
	for _, code := range bookingCodes {
		t.Run(code, func(t *testing.T) {
			sentinel := booking.ErrorForCode(code)
			if sentinel == nil {
				t.Fatalf("booking has no error with code %q", code)
			}
			wrapped := fmt.Errorf("hold slot x: %w", sentinel)

			api, ok := lookupError(wrapped)

			if !ok {
				t.Fatalf("no entry in domainErrors for %v", sentinel)
			}
			if api.Code != code {
				t.Errorf("got code %q, want %q", api.Code, code)
			}
			if api.Status < 400 || api.Status >= http.StatusInternalServerError {
				t.Errorf("got status %d, want a 4xx status", api.Status)
			}
			if api.Message == "" {
				t.Errorf("got an empty message")
			}
		})
	}
}

func TestErrorDetail(t *testing.T) {
	cases := []struct {
		name     string
		err      error
		sentinel error
		want     string
	}{
		{
			name:     "detail before the sentinel",
			err:      fmt.Errorf("hold 3 places in slot a: 1 free: %w", booking.ErrSoldOut),
			sentinel: booking.ErrSoldOut,
			want:     "hold 3 places in slot a: 1 free",
		},
		{
			name:     "sentinel in the middle",
			err:      fmt.Errorf("event %q: %w: %w", "expo", booking.ErrInvalidEvent, errors.New("title must be 1 to 200 bytes")),
			sentinel: booking.ErrInvalidEvent,
			want:     `event "expo": title must be 1 to 200 bytes`,
		},
		{name: "sentinel alone", err: booking.ErrSoldOut, sentinel: booking.ErrSoldOut, want: ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := errorDetail(tc.err, tc.sentinel); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
