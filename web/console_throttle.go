package web

import (
	"math"
	"sync"
	"time"
)

// Limits of loginThrottle.
const (
	// freeLoginFailures is how many failed sign-ins a client address or an
	// account may have before each further failure adds a delay.
	freeLoginFailures = 5
	// maxLoginDelay caps the delay, which doubles with every failure after
	// the free ones: 1s, 2s, 4s and so on.
	maxLoginDelay = 15 * time.Minute
	// loginFailureMemory is how long failures are remembered after the last
	// one, and so how long a client waits for a clean slate.
	loginFailureMemory = 30 * time.Minute
	// maxThrottleEntries bounds the throttle's memory. Past it, the entries
	// that are not blocking anyone are dropped first.
	maxThrottleEntries = 100_000
)

// loginThrottle slows repeated failed sign-ins to the organizer console, per
// client address and per account: after freeLoginFailures failures, each
// new failure blocks further attempts for an exponentially growing delay.
// A blocked attempt is rejected before the password is checked, so guessing
// gains nothing from it.
//
// NOTE: the counts live in each edge's memory, so with several edges a
// client gets each edge's allowance, and a restart clears them.
type loginThrottle struct {
	mu      sync.Mutex
	entries map[string]*throttleEntry
	swept   time.Time
}

type throttleEntry struct {
	failures int
	last     time.Time
	// blockedUntil is when the next attempt may be made.
	blockedUntil time.Time
}

func newLoginThrottle() *loginThrottle {
	return &loginThrottle{entries: make(map[string]*throttleEntry)}
}

// wait returns how long the client must wait before it may try to sign in
// with keys, or 0 when it may try now.
func (t *loginThrottle) wait(now time.Time, keys ...string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()

	var longest time.Duration
	for _, key := range keys {
		if e, ok := t.entries[key]; ok {
			longest = max(longest, e.blockedUntil.Sub(now))
		}
	}
	return longest
}

// fail records a failed sign-in for each key and returns how long the
// client must now wait, or 0 while failures are still free.
func (t *loginThrottle) fail(now time.Time, keys ...string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()

	t.sweep(now)
	var longest time.Duration
	for _, key := range keys {
		e, ok := t.entries[key]
		if !ok || now.Sub(e.last) > loginFailureMemory {
			e = &throttleEntry{}
			t.entries[key] = e
		}
		e.failures++
		e.last = now
		delay := loginDelay(e.failures)
		e.blockedUntil = now.Add(delay)
		longest = max(longest, delay)
	}
	return longest
}

// succeed clears the failures of keys after a successful sign-in.
func (t *loginThrottle) succeed(keys ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()

	for _, key := range keys {
		delete(t.entries, key)
	}
}

// loginDelay returns the delay after the given number of failures.
func loginDelay(failures int) time.Duration {
	extra := failures - freeLoginFailures
	if extra <= 0 {
		return 0
	}
	if extra > 20 {
		return maxLoginDelay
	}
	return min(time.Duration(math.Pow(2, float64(extra-1)))*time.Second, maxLoginDelay)
}

// sweep drops entries whose failures are forgotten, at most once a minute,
// and then, if the map is still too large, those that block no client now.
// The caller holds t.mu.
func (t *loginThrottle) sweep(now time.Time) {
	if now.Sub(t.swept) < time.Minute && len(t.entries) < maxThrottleEntries {
		return
	}
	t.swept = now

	for key, e := range t.entries {
		if now.Sub(e.last) > loginFailureMemory {
			delete(t.entries, key)
		}
	}
	if len(t.entries) < maxThrottleEntries {
		return
	}
	for key, e := range t.entries {
		if !e.blockedUntil.After(now) {
			delete(t.entries, key)
		}
	}
}
