package booking

import (
	"context"
	"time"
)

// Store keeps events, slots, holds, orders and booking sessions. Every method
// that changes places is one atomic step, and every method reads time from
// the store's own clock (Redis TIME, or the memory store's injected clock),
// so that edges with skewed clocks agree on when a hold expires.
//
// Expired holds are returned to their slot by the next call that looks at
// the event, before it decides anything, so correctness needs no sweeper.
type Store interface {
	// CreateEvent normalizes and stores an event with its slots. It returns
	// ErrEventExists if the id is taken, and ErrInvalidEvent or
	// ErrInvalidSlot for an invalid definition.
	CreateEvent(ctx context.Context, event Event, slots []Slot) error
	// Event returns a normalized event, or ErrUnknownEvent.
	Event(ctx context.Context, id string) (Event, error)
	// UpdateEvent replaces the definition of an existing event with event,
	// normalized. CheckEventChange lists what may change. A new price
	// applies to holds paid after the change. It returns ErrUnknownEvent,
	// or ErrInvalidEvent naming the field.
	UpdateEvent(ctx context.Context, event Event) error
	// AddSlots adds slots to an existing event. It returns ErrUnknownEvent,
	// or ErrInvalidSlot when no slot is given, one is invalid or its id is
	// taken, and then adds none.
	AddSlots(ctx context.Context, event string, slots []Slot) error
	// SetCapacity changes a slot's capacity. It returns ErrCapacityTooLow,
	// and changes nothing, when the capacity is below sold + unexpired held.
	SetCapacity(ctx context.Context, event, slot string, capacity int) error
	// Availability returns every slot of the event with its counts, sorted by
	// start time then id, all read in one atomic step.
	Availability(ctx context.Context, event string) ([]SlotAvailability, error)
	// SlotStats returns one slot's capacity, unexpired held and sold places,
	// read in one atomic step.
	SlotStats(ctx context.Context, event, slot string) (SlotStats, error)

	// Hold takes the requested places from one slot if and only if they are
	// all free, after returning expired holds. It enforces, in this order:
	// the request's validity (ErrInvalidQuantity, ErrInvalidRequest), the
	// event, slot and ticket types (ErrUnknownEvent, ErrUnknownSlot,
	// ErrUnknownTicketType), MaxTicketsPerOrder (ErrLimitExceeded), the
	// sales window (ErrNotOnSale), the slot start (ErrSlotStarted), the
	// visitor's MaxHoldsPerVisitor and MaxTicketsPerVisitor
	// (ErrLimitExceeded) and the free places (ErrSoldOut). A rejected request
	// takes no places and never extends another hold.
	Hold(ctx context.Context, req HoldRequest) (Hold, error)
	// ExtendHold makes an active hold last the event's HoldLifetime from
	// now, at most MaxHoldExtensions times. It returns ErrNotYourHold,
	// ErrHoldExpired, ErrAlreadyConfirmed or ErrLimitExceeded without
	// changing the hold.
	ExtendHold(ctx context.Context, holdID, visitor string) (Hold, error)
	// ReleaseHold gives an active hold's places back. Releasing a hold that
	// is already expired or released does nothing. It returns ErrNotYourHold
	// or ErrAlreadyConfirmed.
	ReleaseHold(ctx context.Context, holdID, visitor string) error
	// GetHold returns a hold, including one that ended less than
	// HoldRetention ago, or ErrHoldNotFound.
	GetHold(ctx context.Context, holdID string) (Hold, error)

	// Confirm applies a payment to a hold and returns the resulting order.
	// It is idempotent by payment id: a repeated confirmation returns the
	// first one's order, as it is now. An active hold becomes a confirmed
	// order. A hold that expired or was released becomes a confirmed order
	// only if its places are free, its slot has not started and the
	// visitor's ticket limit allows it. Otherwise, and for a hold already
	// confirmed by another payment, the order is stored in state
	// OrderNeedsRefund with the cause in RefundReason. Confirm returns
	// ErrHoldNotFound when the hold is unknown, so the payment matches
	// nothing and the caller must report it.
	Confirm(ctx context.Context, req ConfirmRequest) (Order, error)
	// CancelOrder cancels an order and gives a confirmed order's places
	// back. Cancelling a cancelled order returns it unchanged.
	CancelOrder(ctx context.Context, orderID string) (Order, error)
	// GetOrder returns an order, or ErrOrderNotFound.
	GetOrder(ctx context.Context, orderID string) (Order, error)
	// ListOrders returns the event's orders in a state, or in every state
	// for "", sorted by creation time then id.
	ListOrders(ctx context.Context, event string, state OrderState) ([]Order, error)

	// ExchangeToken records the admission token id as used and creates a
	// booking session, in one atomic step. A second exchange of the same
	// token id returns ErrTokenUsed, and a token of a room that does not
	// guard the event returns ErrWrongRoom.
	ExchangeToken(ctx context.Context, req SessionRequest) (Session, error)
	// GetSession returns an unexpired booking session, or ErrSessionNotFound.
	GetSession(ctx context.Context, id string) (Session, error)

	// AddStats adds operation counts to the window that starts at window,
	// which must be a multiple of StatsWindow. Stores keep each window for
	// StatsRetention, so that every edge's counts can be read back together.
	AddStats(ctx context.Context, window time.Time, stats []OpStats) error
	// ReadStats returns the windows that start in [from, to) and have counts,
	// sorted by start.
	ReadStats(ctx context.Context, from, to time.Time) ([]WindowStats, error)
}

// SlotStats are a slot's place counts, read in one atomic step.
type SlotStats struct {
	Capacity int `json:"capacity"`
	// Held counts places in unexpired holds.
	Held int `json:"held"`
	// Sold counts places in confirmed orders.
	Sold int `json:"sold"`
}

// Available returns the free places, capacity minus held and sold.
func (s SlotStats) Available() int {
	return max(0, s.Capacity-s.Held-s.Sold)
}

// SlotAvailability is a slot with its place counts.
type SlotAvailability struct {
	Slot
	// Held counts places in unexpired holds.
	Held int `json:"held"`
	// Sold counts places in confirmed orders.
	Sold int `json:"sold"`
}

// Stats returns the slot's counts as SlotStats.
func (a SlotAvailability) Stats() SlotStats {
	return SlotStats{Capacity: a.Capacity, Held: a.Held, Sold: a.Sold}
}

// Available returns the free places, capacity minus held and sold.
func (a SlotAvailability) Available() int {
	return a.Stats().Available()
}
