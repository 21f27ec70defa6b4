package loadtest

import (
	"container/heap"
	"context"
	"sync"
	"time"
)

// schedule is a min-heap of the next time each visitor acts, read by one
// dispatcher that hands due visitors to a bounded pool of workers. A
// waiting visitor so costs one heap entry instead of a goroutine and a
// timer.
type schedule struct {
	mu      sync.Mutex
	entries entryHeap
	// wake is signalled when an entry may now be due earlier than the one
	// the dispatcher sleeps for.
	wake chan struct{}
}

// entry is one visitor due at an offset from the start of the run.
type entry struct {
	at      time.Duration
	visitor int32
}

type entryHeap []entry

func (h entryHeap) Len() int           { return len(h) }
func (h entryHeap) Less(i, j int) bool { return h[i].at < h[j].at }
func (h entryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *entryHeap) Push(x any)        { *h = append(*h, x.(entry)) }
func (h *entryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

func newSchedule(capacity int) *schedule {
	return &schedule{entries: make(entryHeap, 0, capacity), wake: make(chan struct{}, 1)}
}

// add schedules visitor at offset at.
func (s *schedule) add(at time.Duration, visitor int32) {
	s.mu.Lock()
	heap.Push(&s.entries, entry{at: at, visitor: visitor})
	first := s.entries[0].visitor == visitor && s.entries[0].at == at
	s.mu.Unlock()

	if first {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// popDue removes up to max entries due at or before now and appends them
// to out. It also returns when the next remaining entry is due, and false
// when none remains.
func (s *schedule) popDue(now time.Duration, max int, out []entry) ([]entry, time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()

	for len(s.entries) > 0 && s.entries[0].at <= now && len(out) < max {
		out = append(out, heap.Pop(&s.entries).(entry))
	}
	if len(s.entries) == 0 {
		return out, 0, false
	}
	return out, s.entries[0].at, true
}

// len returns the number of scheduled entries.
func (s *schedule) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}

// dispatch sends due entries to work until ctx ends. now returns the
// current offset from the start of the run. A full work channel blocks the
// dispatcher, so when the workers fall behind, visitors act late, never
// early; the lateness is measured by the workers.
func (s *schedule) dispatch(ctx context.Context, now func() time.Duration, work chan<- entry) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	batch := make([]entry, 0, 256)

	for {
		var next time.Duration
		var pending bool
		batch, next, pending = s.popDue(now(), cap(batch), batch[:0])
		for _, e := range batch {
			select {
			case work <- e:
			case <-ctx.Done():
				return
			}
		}
		if len(batch) > 0 {
			continue
		}

		sleep := time.Hour
		if pending {
			sleep = max(next-now(), 0)
		}
		timer.Reset(sleep)
		select {
		case <-timer.C:
		case <-s.wake:
			// Since Go 1.23 a stopped timer delivers no stale value, so
			// the channel needs no draining before the next Reset.
			timer.Stop()
		case <-ctx.Done():
			return
		}
	}
}
