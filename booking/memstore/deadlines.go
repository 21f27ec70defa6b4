package memstore

import (
	"container/heap"
	"time"
)

// deadline pairs an id with the time at which it falls due.
type deadline struct {
	at time.Time
	id string
}

// deadlines is a min-heap of deadlines by time. Entries are never updated
// in place: a changed deadline is pushed again, and the owner skips stale
// entries when they come due.
type deadlines []deadline

func (d deadlines) Len() int           { return len(d) }
func (d deadlines) Less(i, j int) bool { return d[i].at.Before(d[j].at) }
func (d deadlines) Swap(i, j int)      { d[i], d[j] = d[j], d[i] }
func (d *deadlines) Push(x any)        { *d = append(*d, x.(deadline)) }

func (d *deadlines) Pop() any {
	old := *d
	last := old[len(old)-1]
	*d = old[:len(old)-1]
	return last
}

func (d *deadlines) add(at time.Time, id string) {
	heap.Push(d, deadline{at: at, id: id})
}

// popDue removes and returns the earliest deadline at or before now.
func (d *deadlines) popDue(now time.Time) (deadline, bool) {
	if d.Len() == 0 || (*d)[0].at.After(now) {
		return deadline{}, false
	}
	return heap.Pop(d).(deadline), true
}
