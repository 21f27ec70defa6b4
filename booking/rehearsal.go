package booking

import (
	"context"
	"sync"
	"time"
)

// RehearsalStore is a Store whose Hold and Confirm behave like a backend
// with a known capacity, so that a rehearsal can check what the admission
// controller finds against a number known in advance. At most concurrency
// Hold and Confirm calls run at once. Each call waits for a free place,
// then holds it for serviceTime before calling the wrapped store, so the
// capacity is concurrency / serviceTime calls per second, for example
// 8 / 100ms = 80 a second, as long as the wrapped store is faster.
// SetLimits changes both while calls run, so a rehearsal can drop the
// capacity and watch the controller follow.
//
// Every other method, including the reads that the controller and the
// statistics recorder use, goes straight to the wrapped store.
type RehearsalStore struct {
	Store

	mu sync.Mutex
	// limits are the current concurrency limit and service time.
	limits RehearsalLimits
	// busy counts the calls holding a place. It may exceed the limit for
	// a while after SetCapacity lowers it.
	busy int
	// waiters are the calls waiting for a place, first come first served.
	// A call gets its place when its channel is closed.
	waiters []chan struct{}
}

// RehearsalLimits is the concurrency limit and the service time of a
// RehearsalStore.
type RehearsalLimits struct {
	// Concurrency is how many holds and confirmations may run at once; 0
	// or less is no limit.
	Concurrency int
	// ServiceTime is added to each hold and confirmation; 0 adds nothing.
	ServiceTime time.Duration
	// MaxWait is the longest a call waits for a place before it fails with
	// ErrUnavailable, as a backend that sheds load would. 0 waits until
	// the call's context ends.
	MaxWait time.Duration
}

// CallsPerSecond is the holds and confirmations a second the capacity
// allows, or 0 when either setting leaves it unbounded.
func (c RehearsalLimits) CallsPerSecond() float64 {
	if c.Concurrency <= 0 || c.ServiceTime <= 0 {
		return 0
	}
	return float64(c.Concurrency) / c.ServiceTime.Seconds()
}

// BookingsPerSecond is the capacity in bookings a second: each booking is
// one hold and one confirmation. It is 0 when the capacity is unbounded.
func (c RehearsalLimits) BookingsPerSecond() float64 {
	return c.CallsPerSecond() / 2
}

var _ Store = (*RehearsalStore)(nil)

// NewRehearsalStore wraps store. A concurrency of zero or less means no
// limit, and a service time of zero or less adds no delay.
func NewRehearsalStore(store Store, concurrency int, serviceTime time.Duration) *RehearsalStore {
	r := &RehearsalStore{Store: store}
	r.SetLimits(RehearsalLimits{Concurrency: concurrency, ServiceTime: serviceTime})
	return r
}

// Limits returns the current concurrency limit and service time.
func (r *RehearsalStore) Limits() RehearsalLimits {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.limits
}

// SetCapacity changes the limit and the service time. Calls already past
// their wait keep their place: after a lower limit, new calls wait until
// the calls in progress have fallen below it. A higher limit lets waiting
// calls in at once.
func (r *RehearsalStore) SetLimits(c RehearsalLimits) {
	c.Concurrency, c.ServiceTime, c.MaxWait = max(0, c.Concurrency), max(0, c.ServiceTime), max(0, c.MaxWait)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.limits = c
	r.admitWaiters()
}

// admitWaiters gives free places to waiting calls in order. The caller
// holds r.mu.
func (r *RehearsalStore) admitWaiters() {
	for len(r.waiters) > 0 && (r.limits.Concurrency == 0 || r.busy < r.limits.Concurrency) {
		close(r.waiters[0])
		r.waiters = r.waiters[1:]
		r.busy++
	}
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

	r.mu.Lock()
	serviceTime, maxWait := r.limits.ServiceTime, r.limits.MaxWait
	if len(r.waiters) == 0 && (r.limits.Concurrency == 0 || r.busy < r.limits.Concurrency) {
		r.busy++
		r.mu.Unlock()
	} else {
		turn := make(chan struct{})
		r.waiters = append(r.waiters, turn)
		r.mu.Unlock()
		var shed <-chan time.Time
		if maxWait > 0 {
			timer := time.NewTimer(maxWait)
			defer timer.Stop()
			shed = timer.C
		}
		select {
		case <-turn:
		case <-ctx.Done():
			r.leaveLine(turn)
			return nil, ctx.Err()
		case <-shed:
			r.leaveLine(turn)
			return nil, ErrUnavailable
		}
	}
	release = r.release

	if serviceTime > 0 {
		timer := time.NewTimer(serviceTime)
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

// release gives a call's place back, to the first waiting call if the
// limit allows.
func (r *RehearsalStore) release() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.busy--
	r.admitWaiters()
}

// leaveLine removes a call that stops waiting from the line. If its place
// was given to it meanwhile, the place goes back.
func (r *RehearsalStore) leaveLine(turn chan struct{}) {
	r.mu.Lock()
	for i, w := range r.waiters {
		if w == turn {
			r.waiters = append(r.waiters[:i:i], r.waiters[i+1:]...)
			r.mu.Unlock()
			return
		}
	}
	r.mu.Unlock()
	// Not in line: turn was closed and the place is this call's.
	r.release()
}
