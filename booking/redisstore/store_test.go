package redisstore_test

import (
	"testing"

	"foyer/booking"
	"foyer/booking/redisstore"
	"foyer/booking/storetest"
	"foyer/internal/redistest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (booking.Store, storetest.Clock) {
		server := redistest.Start(t, redistest.Options{})
		return redisstore.New(server.Client()), nil
	})
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) booking.Store {
		server := redistest.Start(b, redistest.Options{AppendFsyncAlways: true})
		return redisstore.New(server.Client())
	})
}
