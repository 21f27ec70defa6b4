package web_test

import (
	"context"
	"testing"

	"foyer/booking"
	bookingmemstore "foyer/booking/memstore"
	bookingredisstore "foyer/booking/redisstore"
	"foyer/internal/redistest"
	"foyer/waitroom"
	"foyer/waitroom/memstore"
	"foyer/waitroom/redisstore"
)

// openedStore is a store opened for one test.
type openedStore struct {
	store waitroom.Store
	// booking is a booking store of the same kind, on the same Redis
	// server for the Redis backend.
	booking booking.Store
	// redis is the server behind a Redis store, and nil for the memory store.
	redis *redistest.Server
	// ready is the readiness check that cmd/foyer wires for this store.
	ready func(context.Context) error
}

// backend opens one kind of store for a test.
type backend struct {
	name string
	open func(t *testing.T) openedStore
}

// backends are the stores that forEachStore runs a test on. The Redis
// backend skips its subtests when redis-server is missing, and fails them
// when FOYER_REQUIRE_REDIS=1.
var backends = []backend{
	{name: "memory", open: openMemoryStore},
	{name: "redis", open: openRedisStore},
}

func openMemoryStore(t *testing.T) openedStore {
	return openedStore{
		store:   memstore.New(nil),
		booking: bookingmemstore.New(bookingmemstore.Options{}),
		ready:   func(context.Context) error { return nil },
	}
}

func openRedisStore(t *testing.T) openedStore {
	t.Helper()
	srv := redistest.Start(t, redistest.Options{})
	client := srv.Client()
	return openedStore{
		store:   redisstore.New(client),
		booking: bookingredisstore.New(client),
		redis:   srv,
		ready:   func(ctx context.Context) error { return client.Ping(ctx).Err() },
	}
}

// forEachStore runs test as one subtest per backend, named after it.
func forEachStore(t *testing.T, test func(t *testing.T, st openedStore)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			test(t, b.open(t))
		})
	}
}
