package storetest

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"foyer/booking"
)

// benchClients are the numbers of concurrent clients that Bench measures.
var benchClients = []int{1, 8, 64}

// benchSlots spreads the benchmark's places over several slots, so that
// confirmed orders do not fill one slot's MaxCapacity.
const benchSlots = 16

// Bench measures Hold, and Hold followed by Confirm, with 1, 8 and 64
// concurrent clients. Each newStore call returns a new, empty store on real
// time.
//
// Holds last booking.MinHoldLifetime, so a long run reaches a steady state
// in which each Hold also reclaims expired ones. Confirmed orders are never
// removed, so the store's memory grows with b.N.
func Bench(b *testing.B, newStore func(b *testing.B) booking.Store) {
	for _, clients := range benchClients {
		b.Run("hold/clients="+strconv.Itoa(clients), func(b *testing.B) {
			benchOps(b, newStore(b), clients, false)
		})
	}
	for _, clients := range benchClients {
		b.Run("hold_and_confirm/clients="+strconv.Itoa(clients), func(b *testing.B) {
			benchOps(b, newStore(b), clients, true)
		})
	}
}

func benchOps(b *testing.B, store booking.Store, clients int, confirm bool) {
	ctx := context.Background()
	event := createBenchEvent(b, ctx, store)

	var nextClient atomic.Int64
	op := func(client int64, i int) error {
		visitor := "bench-" + strconv.FormatInt(client, 10) + "-" + strconv.Itoa(i)
		hold, err := store.Hold(ctx, booking.HoldRequest{
			Event:    event,
			Slot:     "s" + strconv.Itoa(i%benchSlots),
			Visitor:  visitor,
			Quantity: 1,
		})
		if err != nil || !confirm {
			return err
		}

		_, err = store.Confirm(ctx, booking.ConfirmRequest{HoldID: hold.ID, PaymentID: "pay-" + visitor})
		return err
	}

	b.ReportAllocs()
	b.ResetTimer()

	if clients == 1 {
		for i := range b.N {
			if err := op(0, i); err != nil {
				b.Fatalf("operation %d: %v", i, err)
			}
		}
		return
	}

	// RunParallel starts parallelism × GOMAXPROCS goroutines, so the number
	// of clients is rounded up to a multiple of GOMAXPROCS.
	b.SetParallelism((clients + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.RunParallel(func(pb *testing.PB) {
		client := nextClient.Add(1)
		for i := 0; pb.Next(); i++ {
			if err := op(client, i); err != nil {
				b.Errorf("client %d, operation %d: %v", client, i, err)
				return
			}
		}
	})
}

func createBenchEvent(b *testing.B, ctx context.Context, store booking.Store) string {
	b.Helper()

	event := newEvent()
	event.HoldLifetime = booking.MinHoldLifetime
	start := time.Now().Add(24 * time.Hour).Truncate(time.Hour)

	slots := make([]booking.Slot, benchSlots)
	for i := range slots {
		slots[i] = booking.Slot{
			ID:       fmt.Sprintf("s%d", i),
			Start:    start,
			End:      start.Add(30 * time.Minute),
			Capacity: booking.MaxCapacity,
		}
	}
	if err := store.CreateEvent(ctx, event, slots); err != nil {
		b.Fatalf("create event: %v", err)
	}
	return event.ID
}
