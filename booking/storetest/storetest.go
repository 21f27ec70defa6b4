// Package storetest is the conformance suite that every booking.Store
// passes. A store's own test calls Run with a constructor. The suite covers
// events, holds and their expiry, limits, confirmation, cancellation,
// sessions, stats and the oversell race.
//
// Stores with an injected clock hand the suite a Clock, and the suite moves
// time instead of sleeping. Stores on real time (Redis) get nil, and the
// suite sleeps past hold expiries, so their run takes a few seconds longer.
package storetest

import (
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"foyer/booking"
)

// Clock is the clock of a store under test, which the suite can move.
type Clock interface {
	Now() time.Time
	Advance(d time.Duration)
}

// NewStore returns a new, empty store for one test, and its clock, or a nil
// Clock when the store runs on real time.
type NewStore func(t *testing.T) (booking.Store, Clock)

// ManualClock is a Clock that moves only when Advance is called. It is
// safe for concurrent use. Pass its Now method to a store as the store's clock.
type ManualClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewManualClock returns a clock that shows start.
func NewManualClock(start time.Time) *ManualClock {
	return &ManualClock{now: start}
}

// Now returns the clock's time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Run runs the whole suite. Each subtest calls newStore once.
func Run(t *testing.T, newStore NewStore) {
	// The races run first and alone, before the parallel subtests start.
	t.Run("oversell race", func(t *testing.T) { testOversellRace(t, newHarness(t, newStore)) })
	t.Run("oversell race with expiring holds", func(t *testing.T) {
		testOversellRaceWithExpiry(t, newHarness(t, newStore))
	})

	tests := []struct {
		name string
		fn   func(*testing.T, *harness)
	}{
		{"event create and get", testEventCreateAndGet},
		{"event create twice", testEventCreateTwice},
		{"event invalid definition", testEventInvalid},
		{"event unknown", testEventUnknown},
		{"availability sorted by start", testAvailabilitySorted},
		{"set capacity", testSetCapacity},
		{"set capacity below sold and held", testSetCapacityBelowSoldAndHeld},
		{"time zone round trip", testTimeZoneRoundTrip},
		{"event update", testEventUpdate},
		{"event update rejected", testEventUpdateRejected},
		{"event update concurrent", testEventUpdateConcurrent},
		{"add slots", testAddSlots},

		{"hold takes places", testHoldTakesPlaces},
		{"hold with ticket types", testHoldTicketTypes},
		{"hold sold out", testHoldSoldOut},
		{"hold bad input writes nothing", testHoldBadInput},
		{"hold not on sale", testHoldNotOnSale},
		{"hold expiry returns places", testHoldExpiry},
		{"failed hold keeps other expiry", testFailedHoldKeepsExpiry},
		{"extend hold", testExtendHold},
		{"extend expired hold", testExtendExpiredHold},
		{"release hold", testReleaseHold},
		{"get hold unknown", testGetHoldUnknown},
		{"hold purged after retention", testHoldPurged},
		{"visitor hold limit", testVisitorHoldLimit},
		{"visitor ticket limit", testVisitorTicketLimit},

		{"confirm creates order", testConfirm},
		{"confirm duplicate payment", testConfirmDuplicate},
		{"confirm concurrent duplicates", testConfirmConcurrentDuplicates},
		{"confirm second payment", testConfirmSecondPayment},
		{"confirm late with places free", testConfirmLateFree},
		{"confirm late with places taken", testConfirmLateTaken},
		{"confirm late over visitor limit", testConfirmLateOverLimit},
		{"confirm unknown hold", testConfirmUnknownHold},
		{"confirm with a refund reason", testConfirmWithRefund},
		{"cancel order returns places", testCancelOrder},
		{"cancel order needing refund", testCancelNeedsRefund},
		{"list orders by state", testListOrders},

		{"pay declined then approved", testPayDeclinedThenApproved},
		{"pay expired hold", testPayExpiredHold},
		{"webhook confirms once", testWebhookConfirmsOnce},

		{"exchange token once", testExchangeTokenOnce},
		{"exchange token concurrently", testExchangeTokenConcurrent},
		{"session expires", testSessionExpires},

		{"stats add and read", testStats},
		{"stats invalid input", testStatsInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newHarness(t, newStore))
		})
	}
}

// harness is one subtest's store with helpers.
type harness struct {
	t     *testing.T
	ctx   context.Context
	store booking.Store
	clock Clock
	// slots are the normalized slots of the last createEvent, in the order
	// of defaultSlots.
	slots []booking.Slot
}

func newHarness(t *testing.T, newStore NewStore) *harness {
	t.Helper()

	store, clock := newStore(t)
	return &harness{t: t, ctx: t.Context(), store: store, clock: clock}
}

// now returns the store's current time: the manual clock's, or the system
// clock's for stores on real time.
func (h *harness) now() time.Time {
	if h.clock == nil {
		return time.Now()
	}
	return h.clock.Now()
}

// wait lets d pass on the store's clock.
func (h *harness) wait(d time.Duration) {
	if h.clock == nil {
		time.Sleep(d)
		return
	}
	h.clock.Advance(d)
}

// waitUntilPast lets time pass until t is in the past on the store's clock.
// Real-time stores run on this machine's clock, so sleeping until a little
// after t is enough.
func (h *harness) waitUntilPast(t time.Time) {
	if h.clock == nil {
		time.Sleep(time.Until(t) + 20*time.Millisecond)
		return
	}
	if d := t.Sub(h.clock.Now()); d >= 0 {
		h.clock.Advance(d + time.Millisecond)
	}
}

// shortLifetime is the hold lifetime of tests that wait for expiry. It is
// long enough for the steps before the wait to finish on a loaded machine.
const shortLifetime = time.Second

// Slot ids of the default event.
const (
	slotA       = "a"     // capacity 10, starts in a day
	slotB       = "b"     // capacity 5, starts an hour after slotA
	slotStarted = "early" // started an hour ago
)

// newEvent returns a valid event with a unique id and three ticket types.
func newEvent() booking.Event {
	return booking.Event{
		ID:       "ev-" + strings.ToLower(rand.Text()[:12]),
		Title:    "Test museum",
		TimeZone: "Europe/Amsterdam",
		Room:     "room-1",
		TicketTypes: []booking.TicketType{
			{ID: "adult", Name: "Adult", Price: 1500},
			{ID: "child", Name: "Child", Price: 750},
			{ID: "member", Name: "Member", Price: 0},
		},
		MaxTicketsPerOrder:   4,
		MaxTicketsPerVisitor: 8,
		MaxHoldsPerVisitor:   2,
		HoldLifetime:         10 * time.Minute,
		MaxHoldExtensions:    1,
	}
}

// defaultSlots returns slotA, slotB and slotStarted relative to now.
func defaultSlots(now time.Time) []booking.Slot {
	day := now.Add(24 * time.Hour).Truncate(time.Hour)
	return []booking.Slot{
		{ID: slotA, Start: day, End: day.Add(30 * time.Minute), Capacity: 10},
		{ID: slotB, Start: day.Add(time.Hour), End: day.Add(90 * time.Minute), Capacity: 5},
		{ID: slotStarted, Start: now.Add(-time.Hour), End: now.Add(time.Hour), Capacity: 10},
	}
}

// createEvent stores newEvent, changed by edit if not nil, with the default
// slots, and returns it as the store normalized it.
func (h *harness) createEvent(edit func(*booking.Event)) booking.Event {
	h.t.Helper()

	event := newEvent()
	if edit != nil {
		edit(&event)
	}
	slots := defaultSlots(h.now())
	if err := h.store.CreateEvent(h.ctx, event, slots); err != nil {
		h.t.Fatalf("create event: %v", err)
	}

	h.slots = nil
	for _, slot := range slots {
		normalized, err := slot.Normalize()
		if err != nil {
			h.t.Fatalf("normalize slot: %v", err)
		}
		h.slots = append(h.slots, normalized)
	}

	stored, err := h.store.Event(h.ctx, event.ID)
	if err != nil {
		h.t.Fatalf("get created event: %v", err)
	}
	return stored
}

// hold places a hold of quantity places of the default ticket type and
// fails the test on error.
func (h *harness) hold(event, slot, visitor string, quantity int) booking.Hold {
	h.t.Helper()

	hold, err := h.store.Hold(h.ctx, booking.HoldRequest{Event: event, Slot: slot, Visitor: visitor, Quantity: quantity})
	if err != nil {
		h.t.Fatalf("hold %d places in %s for %s: %v", quantity, slot, visitor, err)
	}
	return hold
}

// confirm confirms a hold with a payment id and fails the test on error.
func (h *harness) confirm(holdID, paymentID string) booking.Order {
	h.t.Helper()

	order, err := h.store.Confirm(h.ctx, booking.ConfirmRequest{HoldID: holdID, PaymentID: paymentID})
	if err != nil {
		h.t.Fatalf("confirm hold %s with payment %s: %v", holdID, paymentID, err)
	}
	return order
}

// getHold reads a hold and fails the test on error.
func (h *harness) getHold(id string) booking.Hold {
	h.t.Helper()

	hold, err := h.store.GetHold(h.ctx, id)
	if err != nil {
		h.t.Fatalf("get hold %s: %v", id, err)
	}
	return hold
}

// stats reads a slot's counts and fails the test on error.
func (h *harness) stats(event, slot string) booking.SlotStats {
	h.t.Helper()

	stats, err := h.store.SlotStats(h.ctx, event, slot)
	if err != nil {
		h.t.Fatalf("slot stats of %s: %v", slot, err)
	}
	return stats
}

// wantStats checks a slot's held and sold counts.
func (h *harness) wantStats(event, slot string, held, sold int) {
	h.t.Helper()

	stats := h.stats(event, slot)
	if stats.Held != held {
		h.t.Errorf("slot %s: got held %d, want %d", slot, stats.Held, held)
	}
	if stats.Sold != sold {
		h.t.Errorf("slot %s: got sold %d, want %d", slot, stats.Sold, sold)
	}
}

// orders lists an event's orders in a state and fails the test on error.
func (h *harness) orders(event string, state booking.OrderState) []booking.Order {
	h.t.Helper()

	orders, err := h.store.ListOrders(h.ctx, event, state)
	if err != nil {
		h.t.Fatalf("list %q orders: %v", state, err)
	}
	return orders
}

// wantErr checks that err matches target with errors.Is.
func wantErr(t *testing.T, err, target error) {
	t.Helper()

	if !errors.Is(err, target) {
		t.Fatalf("got error %v, want %v", err, target)
	}
}
