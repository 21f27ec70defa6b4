package booking

import (
	"fmt"
	"time"
)

// MaxQuantity bounds any single quantity or ticket count in a request, and
// the event limits. Larger values are rejected with ErrInvalidQuantity
// before any event limit is consulted.
const MaxQuantity = 10_000

const maxVisitorLength = 128

// HoldState is the state of a hold. The zero value means unknown.
type HoldState string

// Hold states.
const (
	// HoldActive holds places until ExpiresAt.
	HoldActive HoldState = "active"
	// HoldExpired returned its places when its lifetime ended.
	HoldExpired HoldState = "expired"
	// HoldReleased returned its places because the visitor gave it up.
	HoldReleased HoldState = "released"
	// HoldConfirmed became the order OrderID.
	HoldConfirmed HoldState = "confirmed"
)

// HoldRequest is a request for places in one slot. Give either Quantity,
// which books the event's first ticket type, or Tickets. If both are given,
// Quantity must equal the sum of Tickets.
type HoldRequest struct {
	Event   string `json:"event"`
	Slot    string `json:"slot"`
	Visitor string `json:"visitor"`
	// Quantity is the number of places of the default ticket type.
	Quantity int `json:"quantity,omitempty"`
	// Tickets maps ticket type ids to counts. Zero counts are ignored.
	Tickets map[string]int `json:"tickets,omitempty"`
}

// Validate checks the parts of the request that need no event: ids are
// well-formed, the visitor is set, and quantities are positive and at most
// MaxQuantity. Stores call it before touching any data.
func (r HoldRequest) Validate() error {
	if !ValidEventID(r.Event) {
		return fmt.Errorf("hold: event %q: %w", r.Event, ErrUnknownEvent)
	}
	if !ValidSlotID(r.Slot) {
		return fmt.Errorf("hold: slot %q: %w", r.Slot, ErrUnknownSlot)
	}
	if err := ValidateVisitor(r.Visitor); err != nil {
		return fmt.Errorf("hold: %w", err)
	}

	_, _, err := r.Counts()
	return err
}

// Counts returns the positive ticket counts and their total, or
// ErrInvalidQuantity. The map is nil when the request gives only a
// Quantity, which books the event's default ticket type.
func (r HoldRequest) Counts() (map[string]int, int, error) {
	if r.Quantity < 0 || r.Quantity > MaxQuantity {
		return nil, 0, fmt.Errorf("hold: quantity %d must be between 1 and %d: %w", r.Quantity, MaxQuantity, ErrInvalidQuantity)
	}

	tickets := make(map[string]int, len(r.Tickets))
	total := 0
	for id, count := range r.Tickets {
		if count < 0 || count > MaxQuantity {
			return nil, 0, fmt.Errorf("hold: ticket count %d for %q must be between 0 and %d: %w", count, id, MaxQuantity, ErrInvalidQuantity)
		}
		if count > 0 {
			tickets[id] = count
			total += count
		}
	}

	switch {
	case len(tickets) == 0 && r.Quantity == 0:
		return nil, 0, fmt.Errorf("hold: quantity must be at least 1: %w", ErrInvalidQuantity)
	case len(tickets) == 0:
		return nil, r.Quantity, nil
	case r.Quantity != 0 && r.Quantity != total:
		return nil, 0, fmt.Errorf("hold: quantity %d differs from the %d tickets listed: %w", r.Quantity, total, ErrInvalidQuantity)
	}
	return tickets, total, nil
}

// ResolveTickets returns the ticket counts that a valid request books from
// the event, with the default ticket type filled in when only a quantity is
// given, and their total. It returns ErrUnknownTicketType for a type the
// event lacks and ErrLimitExceeded when the total is above the event's
// MaxTicketsPerOrder.
func (e Event) ResolveTickets(r HoldRequest) (map[string]int, int, error) {
	tickets, total, err := r.Counts()
	if err != nil {
		return nil, 0, err
	}

	if tickets == nil {
		tickets = map[string]int{e.TicketTypes[0].ID: total}
	}
	for id := range tickets {
		if _, ok := e.TicketType(id); !ok {
			return nil, 0, fmt.Errorf("hold: ticket type %q: %w", id, ErrUnknownTicketType)
		}
	}

	if total > e.MaxTicketsPerOrder {
		return nil, 0, fmt.Errorf("hold: an order of %d tickets is above the maximum of %d: %w", total, e.MaxTicketsPerOrder, ErrLimitExceeded)
	}
	return tickets, total, nil
}

// ValidateVisitor checks that a visitor id is set and at most 128 bytes.
func ValidateVisitor(visitor string) error {
	if visitor == "" || len(visitor) > maxVisitorLength {
		return fmt.Errorf("visitor id must be 1 to %d bytes: %w", maxVisitorLength, ErrInvalidRequest)
	}
	return nil
}

// Hold is a set of places taken from one slot for one visitor until
// ExpiresAt, unless confirmed or released before.
type Hold struct {
	ID      string `json:"hold_id"`
	Event   string `json:"event"`
	Slot    string `json:"slot"`
	Visitor string `json:"visitor"`
	// Tickets maps ticket type ids to counts.
	Tickets map[string]int `json:"tickets"`
	// Quantity is the number of places, the sum of Tickets.
	Quantity  int       `json:"quantity"`
	CreatedAt time.Time `json:"created_at"`
	// ExpiresAt is the instant from which the places count as free again.
	ExpiresAt time.Time `json:"expires_at"`
	// Extensions counts successful ExtendHold calls.
	Extensions int `json:"extensions"`
	// State is as of the store's clock when the hold was read: an active
	// hold whose ExpiresAt has passed is returned as HoldExpired.
	State HoldState `json:"state"`
	// OrderID is set when State is HoldConfirmed.
	OrderID string `json:"order_id,omitempty"`
}
