package booking

import (
	"fmt"
	"time"
)

const maxTokenIDLength = 128

// SessionRequest exchanges a verified admission token for a booking session.
// The caller verifies the token's signature and expiry, and the store only
// ensures that each token id is exchanged once.
type SessionRequest struct {
	// TokenID is the admission token's unique id (its JWT "jti").
	TokenID string
	// TokenExpiresAt is the token's expiry. The store remembers the token id
	// at least until then, or for Lifetime if that is longer.
	TokenExpiresAt time.Time
	Visitor        string
	// Room is the waiting room that issued the token. It must guard Event.
	Room  string
	Event string
	// Lifetime is how long the session lasts, counted from the exchange.
	Lifetime time.Duration
}

// Validate checks that every field is set and well-formed.
func (r SessionRequest) Validate() error {
	switch {
	case r.TokenID == "" || len(r.TokenID) > maxTokenIDLength:
		return fmt.Errorf("exchange token: token id must be 1 to %d bytes: %w", maxTokenIDLength, ErrInvalidRequest)
	case !ValidEventID(r.Event):
		return fmt.Errorf("exchange token: event %q: %w", r.Event, ErrUnknownEvent)
	case r.Room == "":
		return fmt.Errorf("exchange token: room is missing: %w", ErrInvalidRequest)
	case r.Lifetime < time.Second:
		return fmt.Errorf("exchange token: session lifetime %s must be at least 1s: %w", r.Lifetime, ErrInvalidRequest)
	}
	return ValidateVisitor(r.Visitor)
}

// Session is a booking session: proof that a visitor was admitted by the
// event's waiting room, created by exchanging an admission token once.
type Session struct {
	ID        string    `json:"session_id"`
	Visitor   string    `json:"visitor"`
	Room      string    `json:"room"`
	Event     string    `json:"event"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}
