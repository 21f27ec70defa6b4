package booking_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"foyer/booking"
	"foyer/booking/memstore"
	"foyer/booking/storetest"
)

// countingStore sits under a RehearsalStore and counts the Hold and
// Confirm calls that reach the real store, and the max in flight at once.
type countingStore struct {
	booking.Store

	calls       atomic.Int64
	inFlight    atomic.Int64
	maxInFlight atomic.Int64
	// during runs inside each call while it counts as in flight. It gets
	// the in-flight count including this call.
	during func(inFlight int64)
}

func (s *countingStore) enter() {
	s.calls.Add(1)
	n := s.inFlight.Add(1)
	for {
		peak := s.maxInFlight.Load()
		if n <= peak || s.maxInFlight.CompareAndSwap(peak, n) {
			break
		}
	}
	if s.during != nil {
		s.during(n)
	}
}

func (s *countingStore) Hold(ctx context.Context, req booking.HoldRequest) (booking.Hold, error) {
	s.enter()
	defer s.inFlight.Add(-1)
	return s.Store.Hold(ctx, req)
}

func (s *countingStore) Confirm(ctx context.Context, req booking.ConfirmRequest) (booking.Order, error) {
	s.enter()
	defer s.inFlight.Add(-1)
	return s.Store.Confirm(ctx, req)
}

// newCountingStore returns a memory store with the demo event on 2026-06-01,
// a month before its first slot, wrapped in a countingStore.
func newCountingStore(t *testing.T) *countingStore {
	t.Helper()

	clock := storetest.NewManualClock(time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC))
	store := memstore.New(memstore.Options{Now: clock.Now})
	event, slots, err := booking.DemoEvent("2026-06-01")
	if err != nil {
		t.Fatalf("demo event: %v", err)
	}
	if err := store.CreateEvent(t.Context(), event, slots); err != nil {
		t.Fatalf("create event: %v", err)
	}
	return &countingStore{Store: store}
}

// holdRequest returns a request for one place of the demo event's first slot. The demo
// event allows one hold per visitor, so each caller passes its own visitor.
func holdRequest(visitor string) booking.HoldRequest {
	return booking.HoldRequest{Event: "demo", Slot: "20260601-0900", Visitor: visitor, Quantity: 1}
}

// holdConcurrently runs calls Hold calls on store from as many goroutines
// and returns their errors.
func holdConcurrently(ctx context.Context, store booking.Store, calls int) []error {
	errs := make([]error, calls)
	var wg sync.WaitGroup
	for i := range calls {
		wg.Go(func() {
			_, errs[i] = store.Hold(ctx, holdRequest(fmt.Sprintf("v%d", i)))
		})
	}
	wg.Wait()
	return errs
}

func TestRehearsalStoreLimitsConcurrency(t *testing.T) {
	counting := newCountingStore(t)
	// A call that stays inside a little makes overlapping calls visible,
	// so a missing limit would show as more than 2 in flight.
	counting.during = func(int64) { time.Sleep(5 * time.Millisecond) }
	store := booking.NewRehearsalStore(counting, 2, 20*time.Millisecond)

	errs := holdConcurrently(t.Context(), store, 10)

	for i, err := range errs {
		if err != nil {
			t.Errorf("hold %d: got error %v, want none", i, err)
		}
	}
	if got := counting.calls.Load(); got != 10 {
		t.Errorf("got %d calls to the store, want 10", got)
	}
	if got := counting.maxInFlight.Load(); got > 2 {
		t.Errorf("got %d calls in flight at once, want at most 2", got)
	}
}

func TestRehearsalStoreZeroConcurrencyIsUnlimited(t *testing.T) {
	const calls = 10
	counting := newCountingStore(t)
	// Every call waits until all are inside at once, which only an
	// unlimited store allows. The timeout turns a limit into a failure
	// instead of a hang.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	allInside := make(chan struct{})
	counting.during = func(inFlight int64) {
		if inFlight == calls {
			close(allInside)
		}
		select {
		case <-allInside:
		case <-ctx.Done():
		}
	}
	store := booking.NewRehearsalStore(counting, 0, 0)

	errs := holdConcurrently(ctx, store, calls)

	for i, err := range errs {
		if err != nil {
			t.Errorf("hold %d: got error %v, want none", i, err)
		}
	}
	if got := counting.maxInFlight.Load(); got != calls {
		t.Errorf("got at most %d calls in flight at once, want %d", got, calls)
	}
}

func TestRehearsalStoreCancelledContext(t *testing.T) {
	counting := newCountingStore(t)
	store := booking.NewRehearsalStore(counting, 2, 20*time.Millisecond)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	_, holdErr := store.Hold(ctx, holdRequest("v1"))
	_, confirmErr := store.Confirm(ctx, booking.ConfirmRequest{HoldID: "h_demo_abc", PaymentID: "pay_1"})

	if !errors.Is(holdErr, context.Canceled) {
		t.Errorf("hold: got error %v, want %v", holdErr, context.Canceled)
	}
	if !errors.Is(confirmErr, context.Canceled) {
		t.Errorf("confirm: got error %v, want %v", confirmErr, context.Canceled)
	}
	if got := counting.calls.Load(); got != 0 {
		t.Errorf("got %d calls to the store, want 0", got)
	}
}

func TestRehearsalStoreDeadlineWhileWaiting(t *testing.T) {
	counting := newCountingStore(t)
	// The first call keeps the only place until the test releases it. The
	// timeout turns a missing limit into a failure instead of a hang.
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	counting.during = func(int64) {
		select {
		case entered <- struct{}{}:
		default:
		}
		select {
		case <-release:
		case <-time.After(10 * time.Second):
		}
	}
	store := booking.NewRehearsalStore(counting, 1, 0)
	firstDone := make(chan error, 1)
	go func() {
		_, err := store.Hold(t.Context(), holdRequest("v1"))
		firstDone <- err
	}()
	<-entered

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	_, err := store.Hold(ctx, holdRequest("v2"))
	close(release)

	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waiting hold: got error %v, want %v", err, context.DeadlineExceeded)
	}
	if err := <-firstDone; err != nil {
		t.Errorf("first hold: got error %v, want none", err)
	}
	if got := counting.calls.Load(); got != 1 {
		t.Errorf("got %d calls to the store, want 1", got)
	}
}

func TestRehearsalStoreConfirmPassesThrough(t *testing.T) {
	counting := newCountingStore(t)
	store := booking.NewRehearsalStore(counting, 1, time.Millisecond)
	hold, err := store.Hold(t.Context(), holdRequest("v1"))
	if err != nil {
		t.Fatalf("hold: %v", err)
	}

	order, err := store.Confirm(t.Context(), booking.ConfirmRequest{HoldID: hold.ID, PaymentID: "pay_1"})
	if err != nil {
		t.Fatalf("confirm: %v", err)
	}

	if order.State != booking.OrderConfirmed {
		t.Errorf("got state %q, want %q", order.State, booking.OrderConfirmed)
	}
	if order.HoldID != hold.ID {
		t.Errorf("got hold id %q, want %q", order.HoldID, hold.ID)
	}
	if got := counting.calls.Load(); got != 2 {
		t.Errorf("got %d calls to the store, want 2", got)
	}
}

// waitInFlight waits until want calls are inside the counting store. The
// bound guards against a hang and does not measure speed.
func waitInFlight(t *testing.T, s *countingStore, want int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for s.inFlight.Load() != want {
		if time.Now().After(deadline) {
			t.Fatalf("calls in flight: got %d, want %d", s.inFlight.Load(), want)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestRehearsalStoreLowerLimitWhileCallsRun(t *testing.T) {
	counting := newCountingStore(t)
	inside := make(chan struct{})
	var phase atomic.Int32
	var overLimit atomic.Int64
	counting.during = func(n int64) {
		if phase.Load() == 0 {
			<-inside
			return
		}
		// Later calls run alone under the lowered limit of 1.
		if n > 1 {
			overLimit.Add(1)
		}
		time.Sleep(2 * time.Millisecond)
	}
	store := booking.NewRehearsalStore(counting, 4, 0)

	var wg sync.WaitGroup
	first := make([]error, 4)
	for i := range first {
		wg.Go(func() { _, first[i] = store.Hold(t.Context(), holdRequest(fmt.Sprintf("a%d", i))) })
	}
	waitInFlight(t, counting, 4)

	store.SetLimits(booking.RehearsalLimits{Concurrency: 1})
	phase.Store(1)
	later := make([]error, 6)
	for i := range later {
		wg.Go(func() { _, later[i] = store.Hold(t.Context(), holdRequest(fmt.Sprintf("b%d", i))) })
	}
	close(inside)
	wg.Wait()

	for i, err := range append(first, later...) {
		if err != nil {
			t.Errorf("hold %d: got error %v, want none", i, err)
		}
	}
	if n := overLimit.Load(); n != 0 {
		t.Errorf("got %d calls running beside another after the limit fell to 1, want 0", n)
	}
	if got := store.Limits(); got.Concurrency != 1 {
		t.Errorf("limits: got %+v, want concurrency 1", got)
	}
}

func TestRehearsalStoreHigherLimitLetsWaitersIn(t *testing.T) {
	counting := newCountingStore(t)
	inside := make(chan struct{})
	counting.during = func(int64) { <-inside }
	store := booking.NewRehearsalStore(counting, 1, 0)

	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Go(func() { _, errs[i] = store.Hold(t.Context(), holdRequest(fmt.Sprintf("v%d", i))) })
	}
	waitInFlight(t, counting, 1)

	// Two calls wait behind the limit of 1; raising it to 3 lets both in
	// while the first is still inside.
	store.SetLimits(booking.RehearsalLimits{Concurrency: 3})
	waitInFlight(t, counting, 3)
	close(inside)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("hold %d: got error %v, want none", i, err)
		}
	}
}

func TestRehearsalLimitsCapacity(t *testing.T) {
	cases := []struct {
		limits       booking.RehearsalLimits
		calls, books float64
	}{
		{booking.RehearsalLimits{Concurrency: 8, ServiceTime: 100 * time.Millisecond}, 80, 40},
		{booking.RehearsalLimits{Concurrency: 8}, 0, 0},
		{booking.RehearsalLimits{ServiceTime: time.Second}, 0, 0},
	}
	for _, tc := range cases {
		if got := tc.limits.CallsPerSecond(); got != tc.calls {
			t.Errorf("%+v: calls a second: got %v, want %v", tc.limits, got, tc.calls)
		}
		if got := tc.limits.BookingsPerSecond(); got != tc.books {
			t.Errorf("%+v: bookings a second: got %v, want %v", tc.limits, got, tc.books)
		}
	}
}

func TestRehearsalStoreShedsAfterMaxWait(t *testing.T) {
	counting := newCountingStore(t)
	inside := make(chan struct{})
	counting.during = func(int64) { <-inside }
	store := booking.NewRehearsalStore(counting, 1, 0)
	store.SetLimits(booking.RehearsalLimits{Concurrency: 1, MaxWait: 20 * time.Millisecond})

	var wg sync.WaitGroup
	var first error
	wg.Go(func() { _, first = store.Hold(t.Context(), holdRequest("v0")) })
	waitInFlight(t, counting, 1)

	// The place stays taken, so the second call gives up after MaxWait
	// without reaching the store.
	_, err := store.Hold(t.Context(), holdRequest("v1"))
	if !errors.Is(err, booking.ErrUnavailable) {
		t.Errorf("second hold: got %v, want ErrUnavailable", err)
	}
	close(inside)
	wg.Wait()
	if first != nil {
		t.Errorf("first hold: got %v, want none", first)
	}
	if got := counting.calls.Load(); got != 1 {
		t.Errorf("calls that reached the store: got %d, want 1", got)
	}

	// The shed call left the line: the next one gets the free place.
	counting.during = nil
	if _, err := store.Hold(t.Context(), holdRequest("v2")); err != nil {
		t.Errorf("third hold: got %v, want none", err)
	}
}
