package loadtest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"

	"foyer/booking"
	bookingmem "foyer/booking/memstore"
	bookingredis "foyer/booking/redisstore"
	"foyer/internal/redistest"
	"foyer/waitroom"
	"foyer/waitroom/memstore"
	"foyer/waitroom/redisstore"
	"foyer/web"
)

// testAdminToken is the admin token of the servers the tests start.
const testAdminToken = "loadtest-admin-token-0123456789"

// stores are a waiting room store and a booking store of one kind.
type stores struct {
	rooms   waitroom.Store
	booking booking.Store
}

// backend opens the stores of one kind for a test.
type backend struct {
	name string
	open func(t *testing.T) stores
}

// backends are the stores the in-process tests run on. The Redis backend
// is skipped when redis-server is missing, unless FOYER_REQUIRE_REDIS=1.
var backends = []backend{
	{name: "memory", open: func(*testing.T) stores {
		return stores{rooms: memstore.New(nil), booking: bookingmem.New(bookingmem.Options{})}
	}},
	{name: "redis", open: func(t *testing.T) stores {
		client := redistest.Start(t, redistest.Options{}).Client()
		return stores{rooms: redisstore.New(client), booking: bookingredis.New(client)}
	}},
}

func testLogger() *slog.Logger {
	if os.Getenv("FOYER_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// startFoyer serves a Foyer edge with booking on 127.0.0.1 until the test
// ends, the way cmd/foyer wires one, and returns its base URL.
func startFoyer(t *testing.T, st stores, tick time.Duration) string {
	t.Helper()

	log := testLogger()
	metrics := web.NewMetrics()
	edge := waitroom.NewEdge(st.rooms, waitroom.TemporaryKeys(time.Now()), waitroom.EdgeConfig{Tick: tick}, log, metrics)
	service := &booking.Service{
		Store:    st.booking,
		Payments: booking.NewTestPayments(),
		Releaser: st.rooms,
		Logger:   log,
	}
	srv := web.New(web.Options{Edge: edge, AdminToken: testAdminToken, Log: log, Metrics: metrics, Booking: service})

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	go func() { _ = srv.App().Listener(ln) }()

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		edge.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		_ = srv.Shutdown(5 * time.Second)
	})
	return "http://" + ln.Addr().String()
}
