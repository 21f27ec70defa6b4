package storetest

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"foyer/booking"
)

// The oversell race: raceVisitors goroutines ask for 1 to 4 places each in
// a slot of raceCapacity places, far more than it has.
const (
	raceVisitors = 1000
	raceCapacity = 100
	// maxSamples bounds the sampler's loop.
	maxSamples = 1_000_000
)

// createRaceEvent creates an event whose slotA has raceCapacity places.
func (h *harness) createRaceEvent(lifetime time.Duration) booking.Event {
	h.t.Helper()

	event := h.createEvent(func(e *booking.Event) {
		e.MaxTicketsPerVisitor = 4
		e.MaxHoldsPerVisitor = 1
		e.HoldLifetime = lifetime
	})
	if err := h.store.SetCapacity(h.ctx, event.ID, slotA, raceCapacity); err != nil {
		h.t.Fatalf("set capacity: %v", err)
	}
	return event
}

// sampleInvariant reads the slot's stats atomically until done is closed
// and checks sold + unexpired held ≤ capacity at every sample. It returns
// the number of samples, at least one unless a read failed.
func (h *harness) sampleInvariant(event, slot string, done <-chan struct{}) int {
	for i := range maxSamples {
		stats, err := h.store.SlotStats(h.ctx, event, slot)
		if err != nil {
			h.t.Errorf("sample %d: %v", i, err)
			return i
		}
		if soldAndHeld := stats.Sold + stats.Held; soldAndHeld > stats.Capacity {
			h.t.Errorf("sample %d: got sold %d + held %d = %d, want at most capacity %d",
				i, stats.Sold, stats.Held, soldAndHeld, stats.Capacity)
			return i + 1
		}

		select {
		case <-done:
			return i + 1
		default:
			// Let the racing goroutines run, so that samples fall between
			// their steps rather than before them.
			runtime.Gosched()
		}
	}
	return maxSamples
}

// samplers is the number of goroutines that sample the invariant. Several
// samplers get a larger share of a store's connection pool, which the
// racing goroutines otherwise fill.
const samplers = 16

// startSamplers runs sampleInvariant in several goroutines. The returned
// function stops them and returns the total number of samples.
func (h *harness) startSamplers(event, slot string) (stop func() int) {
	done := make(chan struct{})
	results := make(chan int, samplers)
	for range samplers {
		go func() { results <- h.sampleInvariant(event, slot, done) }()
	}

	return func() int {
		close(done)
		total := 0
		for range samplers {
			total += <-results
		}
		return total
	}
}

func testOversellRace(t *testing.T, h *harness) {
	event := h.createRaceEvent(10 * time.Minute)
	stop := h.startSamplers(event.ID, slotA)

	var wg sync.WaitGroup
	var rejected, confirmedPlaces atomic.Int64
	for i := range raceVisitors {
		wg.Go(func() {
			visitor := fmt.Sprintf("racer-%d", i)
			arrive(i)
			hold, err := h.store.Hold(h.ctx, booking.HoldRequest{Event: event.ID, Slot: slotA, Visitor: visitor, Quantity: 1 + i%4})
			if errors.Is(err, booking.ErrSoldOut) {
				// A single place may still be free. Retrying with one
				// guarantees that the slot ends full: once a request for
				// one place is rejected, no place is free, and no place is
				// ever given back in this race.
				hold, err = h.store.Hold(h.ctx, booking.HoldRequest{Event: event.ID, Slot: slotA, Visitor: visitor, Quantity: 1})
			}
			if errors.Is(err, booking.ErrSoldOut) {
				rejected.Add(1)
				return
			}
			if err != nil {
				t.Errorf("%s: hold: %v", visitor, err)
				return
			}

			// A short pause, as for a payment, keeps holds in flight while
			// the samplers read.
			time.Sleep(time.Duration(i%10) * time.Millisecond)
			order, err := h.store.Confirm(h.ctx, booking.ConfirmRequest{HoldID: hold.ID, PaymentID: "pay-" + visitor})
			if err != nil {
				t.Errorf("%s: confirm: %v", visitor, err)
				return
			}
			if order.State != booking.OrderConfirmed {
				t.Errorf("%s: got order state %q, want %q", visitor, order.State, booking.OrderConfirmed)
			}
			confirmedPlaces.Add(int64(order.Quantity))
		})
	}
	wg.Wait()
	samples := stop()

	if samples < samplers {
		t.Errorf("got %d invariant samples, want at least %d", samples, samplers)
	}
	if rejected.Load() == 0 {
		t.Errorf("got 0 rejected visitors, want demand above supply")
	}
	h.wantStats(event.ID, slotA, 0, raceCapacity)
	if got := confirmedPlaces.Load(); got != raceCapacity {
		t.Errorf("got %d places in confirmations, want %d", got, raceCapacity)
	}
	if got := sumPlaces(h.orders(event.ID, booking.OrderConfirmed)); got != raceCapacity {
		t.Errorf("got %d places in confirmed orders, want %d", got, raceCapacity)
	}
	if got := h.orders(event.ID, booking.OrderNeedsRefund); len(got) != 0 {
		t.Errorf("got %d orders needing a refund, want 0", len(got))
	}
	t.Logf("%d invariant samples, %d visitors rejected", samples, rejected.Load())
}

// testOversellRaceWithExpiry races with holds that expire during the race:
// a third of the visitors abandon their hold, a third confirm at once and a
// third confirm after a pause of up to one hold lifetime, sometimes late.
func testOversellRaceWithExpiry(t *testing.T, h *harness) {
	// Real-time stores get a lifetime short enough to expire many holds
	// during the race. With a manual clock, the pauses move the clock.
	lifetime := time.Second
	if h.clock == nil {
		lifetime = 250 * time.Millisecond
	}
	event := h.createRaceEvent(lifetime)
	stop := h.startSamplers(event.ID, slotA)

	var wg sync.WaitGroup
	var confirmedPlaces, refunds atomic.Int64
	for i := range raceVisitors {
		wg.Go(func() {
			visitor := fmt.Sprintf("racer-%d", i)
			arrive(i)
			hold, ok := h.raceHold(event.ID, visitor, 1+i%4)
			if !ok {
				return
			}

			switch i % 3 {
			case 0:
				return // abandoned: the hold expires
			case 2:
				h.wait(lifetime * time.Duration(i%5) / 4)
			}

			order, err := h.store.Confirm(h.ctx, booking.ConfirmRequest{HoldID: hold.ID, PaymentID: "pay-" + visitor})
			switch {
			case err != nil:
				t.Errorf("%s: confirm: %v", visitor, err)
			case order.State == booking.OrderConfirmed:
				confirmedPlaces.Add(int64(order.Quantity))
			case order.State == booking.OrderNeedsRefund:
				refunds.Add(1)
			default:
				t.Errorf("%s: got order state %q, want confirmed or needs_refund", visitor, order.State)
			}
		})
	}
	wg.Wait()
	samples := stop()

	// Let every remaining hold expire.
	h.wait(lifetime + 10*time.Millisecond)

	if samples < samplers {
		t.Errorf("got %d invariant samples, want at least %d", samples, samplers)
	}
	stats := h.stats(event.ID, slotA)
	if stats.Held != 0 {
		t.Errorf("after expiry: got held %d, want 0", stats.Held)
	}
	if stats.Sold > raceCapacity {
		t.Errorf("got sold %d, want at most %d", stats.Sold, raceCapacity)
	}
	if got := int64(stats.Sold); got != confirmedPlaces.Load() {
		t.Errorf("got sold %d, want %d places in confirmations", got, confirmedPlaces.Load())
	}
	if got := sumPlaces(h.orders(event.ID, booking.OrderConfirmed)); got != stats.Sold {
		t.Errorf("got %d places in confirmed orders, want sold %d", got, stats.Sold)
	}
	if got := int64(len(h.orders(event.ID, booking.OrderNeedsRefund))); got != refunds.Load() {
		t.Errorf("got %d orders needing a refund, want %d", got, refunds.Load())
	}
	t.Logf("%d invariant samples, %d places sold, %d refunds", samples, stats.Sold, refunds.Load())
}

// raceHold tries up to three times to hold places, pausing after each
// ErrSoldOut so that expiring holds can free places.
func (h *harness) raceHold(event, visitor string, quantity int) (booking.Hold, bool) {
	for attempt := range 3 {
		hold, err := h.store.Hold(h.ctx, booking.HoldRequest{Event: event, Slot: slotA, Visitor: visitor, Quantity: quantity})
		if err == nil {
			return hold, true
		}
		if !errors.Is(err, booking.ErrSoldOut) {
			h.t.Errorf("%s: hold: %v", visitor, err)
			return booking.Hold{}, false
		}
		h.wait(time.Duration(attempt+1) * 20 * time.Millisecond)
	}
	return booking.Hold{}, false
}

// arrive spreads the racers' first requests over 100ms of real time, as in
// a launch spike. The store stays saturated, but its connection pool is not
// so full that the samplers never get a turn.
func arrive(racer int) {
	time.Sleep(time.Duration(racer%100) * time.Millisecond)
}

func sumPlaces(orders []booking.Order) int {
	total := 0
	for _, o := range orders {
		total += o.Quantity
	}
	return total
}
