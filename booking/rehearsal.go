package booking

import (
	"context"
	"time"
)

// RehearsalStore is a Store whose Hold and Confirm behave like a backend
// with a known capacity, so that a rehearsal can check what the admission
// controller finds against a number known in advance. At most concurrency
// Hold and Confirm calls run at once. Each call waits for a free place,
// then holds it for serviceTime before calling the wrapped store, so the
// capacity is concurrency / serviceTime calls per second, for example
// 8 / 100ms = 80 a second, as long as the wrapped store is faster.
//
// Every other method, including the reads that the controller and the
// statistics recorder use, goes straight to the wrapped store.
type RehearsalStore struct {
	Store

	// places has one buffered element per call in progress. It is nil
	// when there is no concurrency limit.
	places      chan struct{}
	serviceTime time.Duration
}

var _ Store = (*RehearsalStore)(nil)

// NewRehearsalStore wraps store. A concurrency of zero or less means no
// limit, and a service time of zero or less adds no delay.
func NewRehearsalStore(store Store, concurrency int, serviceTime time.Duration) *RehearsalStore {
	r := &RehearsalStore{Store: store, serviceTime: max(0, serviceTime)}
	if concurrency > 0 {
		r.places = make(chan struct{}, concurrency)
	}
	return r
}

// Hold waits for a free place and the service time, then calls the wrapped
// store's Hold. It returns ctx.Err() without calling the store when ctx ends
// first.
func (r *RehearsalStore) Hold(ctx context.Context, req HoldRequest) (Hold, error) {
	release, err := r.enter(ctx)
	if err != nil {
		return Hold{}, err
	}
	defer release()

	return r.Store.Hold(ctx, req)
}

// Confirm waits for a free place and the service time, then calls the
// wrapped store's Confirm. It returns ctx.Err() without calling the store
// when ctx ends first.
func (r *RehearsalStore) Confirm(ctx context.Context, req ConfirmRequest) (Order, error) {
	release, err := r.enter(ctx)
	if err != nil {
		return Order{}, err
	}
	defer release()

	return r.Store.Confirm(ctx, req)
}

// enter takes a place and waits the service time. The service time comes
// before the store call, so a call cancelled during it has changed nothing.
// On success the caller must call release once the store call returns.
func (r *RehearsalStore) enter(ctx context.Context) (release func(), err error) {
	// Check first: select picks at random when a place is also free.
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	release = func() {}
	if r.places != nil {
		select {
		case r.places <- struct{}{}:
			release = func() { <-r.places }
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}

	if r.serviceTime > 0 {
		timer := time.NewTimer(r.serviceTime)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-ctx.Done():
			release()
			return nil, ctx.Err()
		}
	}
	return release, nil
}
