package booking

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"sync"
)

// Payments charges cards through a payment provider.
type Payments interface {
	// Charge charges the card once per idempotency key: a repeated call
	// with the same key returns the first call's result and charges
	// nothing more. A declined card returns ErrPaymentDeclined.
	Charge(ctx context.Context, req ChargeRequest) (Payment, error)
}

// ChargeRequest is one payment attempt for a hold.
type ChargeRequest struct {
	// IdempotencyKey is unique per attempt. A network retry of the same
	// attempt reuses it, and a new attempt, such as one with another card
	// after a decline, gets a new key.
	IdempotencyKey string
	HoldID         string
	// Amount is in minor units of Currency.
	Amount   int64
	Currency string
	// Card is the card number. It is a secret: never log it.
	Card string
}

// Payment is a successful charge.
type Payment struct {
	// ID is the provider's payment id, which Confirm uses to apply the
	// payment at most once.
	ID       string
	HoldID   string
	Amount   int64
	Currency string
}

// Card numbers that TestPayments recognizes. They are the test card numbers
// that payment providers such as Stripe publish.
const (
	TestCardApproved = "4242424242424242"
	TestCardDeclined = "4000000000000002"
)

// TestPayments is a payment provider for tests, demos and load tests. It
// approves TestCardApproved and declines every other well-formed number,
// including TestCardDeclined. It charges nothing and keeps every result in
// memory, so it is not for production.
type TestPayments struct {
	mu      sync.Mutex
	results map[string]testResult
	charges int
}

type testResult struct {
	payment Payment
	err     error
}

// NewTestPayments returns an empty test provider.
func NewTestPayments() *TestPayments {
	return &TestPayments{results: make(map[string]testResult)}
}

// Charge approves or declines by card number, once per idempotency key. A
// number with characters other than digits and spaces, or with fewer than
// 12 or more than 19 digits, returns ErrInvalidCard.
func (p *TestPayments) Charge(ctx context.Context, req ChargeRequest) (Payment, error) {
	if err := ctx.Err(); err != nil {
		return Payment{}, err
	}
	if req.IdempotencyKey == "" {
		return Payment{}, fmt.Errorf("charge hold %s: idempotency key is missing: %w", req.HoldID, ErrInvalidRequest)
	}

	p.mu.Lock()
	defer p.mu.Unlock()

	if result, ok := p.results[req.IdempotencyKey]; ok {
		return result.payment, result.err
	}

	result := p.decide(req)
	p.results[req.IdempotencyKey] = result
	return result.payment, result.err
}

func (p *TestPayments) decide(req ChargeRequest) testResult {
	card := strings.ReplaceAll(req.Card, " ", "")
	if !validCardNumber(card) {
		return testResult{err: fmt.Errorf("charge hold %s: %w: want 12 to 19 digits", req.HoldID, ErrInvalidCard)}
	}
	if card != TestCardApproved {
		return testResult{err: fmt.Errorf("charge hold %s: %w", req.HoldID, ErrPaymentDeclined)}
	}

	p.charges++
	payment := Payment{
		ID:       "pay_" + strings.ToLower(rand.Text()),
		HoldID:   req.HoldID,
		Amount:   req.Amount,
		Currency: req.Currency,
	}
	return testResult{payment: payment}
}

// Charges returns the number of approved charges.
func (p *TestPayments) Charges() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.charges
}

func validCardNumber(card string) bool {
	if len(card) < 12 || len(card) > 19 {
		return false
	}
	for _, c := range []byte(card) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
