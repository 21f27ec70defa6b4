package booking

import (
	"errors"
	"fmt"
	"testing"
)

func TestErrorCode(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, ""},
		{"sentinel", ErrSoldOut, "sold_out"},
		{"wrapped", fmt.Errorf("hold slot a: %w", ErrSoldOut), "sold_out"},
		{"wrapped twice", fmt.Errorf("pay: %w", fmt.Errorf("charge: %w", ErrPaymentDeclined)), "payment_declined"},
		{"other error", errors.New("connection refused"), CodeInternal},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ErrorCode(tc.err); got != tc.want {
				t.Errorf("got code %q, want %q", got, tc.want)
			}
		})
	}
}

func TestErrorForCodeRoundTrip(t *testing.T) {
	for code, sentinel := range errorsByCode {
		got := ErrorForCode(code)
		if !errors.Is(got, sentinel) {
			t.Errorf("code %q: got %v, want %v", code, got, sentinel)
		}
		if ErrorCode(got) != code {
			t.Errorf("code %q: got code %q back", code, ErrorCode(got))
		}
	}

	if got := ErrorForCode("no_such_code"); got != nil {
		t.Errorf("unknown code: got %v, want nil", got)
	}
}

func TestErrorCodesInAPI(t *testing.T) {
	// These codes are part of the HTTP API; renaming one breaks clients.
	want := []string{
		"sold_out", "hold_expired", "hold_not_found", "not_your_hold",
		"limit_exceeded", "invalid_quantity", "unknown_event", "unknown_slot",
		"unknown_ticket_type", "slot_started", "not_on_sale",
		"already_confirmed", "payment_declined", "token_used",
	}
	for _, code := range want {
		if ErrorForCode(code) == nil {
			t.Errorf("code %q: got no sentinel error, want one", code)
		}
	}
}
