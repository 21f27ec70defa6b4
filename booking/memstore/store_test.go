package memstore_test

import (
	"testing"
	"time"

	"foyer/booking"
	"foyer/booking/memstore"
	"foyer/booking/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (booking.Store, storetest.Clock) {
		clock := storetest.NewManualClock(time.Date(2026, 6, 1, 6, 0, 0, 0, time.UTC))
		return memstore.New(memstore.Options{Now: clock.Now}), clock
	})
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) booking.Store {
		return memstore.New(memstore.Options{HoldRetention: time.Second})
	})
}
