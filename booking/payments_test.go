package booking

import (
	"context"
	"errors"
	"testing"
)

func TestTestPaymentsCards(t *testing.T) {
	tests := []struct {
		name string
		card string
		want error
	}{
		{"approved", TestCardApproved, nil},
		{"approved with spaces", "4242 4242 4242 4242", nil},
		{"declined", TestCardDeclined, ErrPaymentDeclined},
		{"other number", "5555555555554444", ErrPaymentDeclined},
		{"letters", "4242abcd42424242", ErrInvalidCard},
		{"too short", "42424242", ErrInvalidCard},
		{"empty", "", ErrInvalidCard},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			payments := NewTestPayments()

			payment, err := payments.Charge(context.Background(), ChargeRequest{IdempotencyKey: "k1", HoldID: "h_demo_a", Amount: 3000, Currency: "EUR", Card: tc.card})
			if !errors.Is(err, tc.want) {
				t.Fatalf("got error %v, want %v", err, tc.want)
			}
			if tc.want != nil {
				if payments.Charges() != 0 {
					t.Errorf("got %d charges, want 0", payments.Charges())
				}
				return
			}
			if payment.ID == "" || payment.Amount != 3000 || payment.HoldID != "h_demo_a" {
				t.Errorf("got payment %+v, want an id, amount 3000 and hold h_demo_a", payment)
			}
		})
	}
}

func TestTestPaymentsIdempotency(t *testing.T) {
	ctx := context.Background()
	payments := NewTestPayments()
	req := ChargeRequest{IdempotencyKey: "attempt-1", HoldID: "h_demo_a", Amount: 1500, Currency: "EUR", Card: TestCardApproved}

	first, err := payments.Charge(ctx, req)
	if err != nil {
		t.Fatalf("first charge: %v", err)
	}
	retry, err := payments.Charge(ctx, req)
	if err != nil {
		t.Fatalf("retried charge: %v", err)
	}
	if retry.ID != first.ID {
		t.Errorf("retry: got payment %s, want %s", retry.ID, first.ID)
	}
	if payments.Charges() != 1 {
		t.Errorf("got %d charges, want 1", payments.Charges())
	}

	req.IdempotencyKey = "attempt-2"
	second, err := payments.Charge(ctx, req)
	if err != nil {
		t.Fatalf("second attempt: %v", err)
	}
	if second.ID == first.ID {
		t.Errorf("second attempt: got the first payment %s, want a new one", second.ID)
	}

	_, err = payments.Charge(ctx, ChargeRequest{Card: TestCardApproved})
	if !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("missing key: got error %v, want %v", err, ErrInvalidRequest)
	}
}
