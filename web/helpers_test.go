package web_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"testing"
	"time"

	"foyer/waitroom"
	"foyer/web"
)

// testAdminToken is the admin bearer token of servers started by startServer.
const testAdminToken = "test-admin-token-0123456789"

// testServer is one edge serving on a real loopback listener.
type testServer struct {
	URL    string
	Edge   *waitroom.Edge
	Server *web.Server
	Store  waitroom.Store
}

type serverOptions struct {
	edge  waitroom.EdgeConfig
	keys  *waitroom.Keys
	ready func(context.Context) error
	// noLoop leaves the admission loop off, so the test steps it with Tick.
	noLoop bool
}

func testLogger() *slog.Logger {
	if os.Getenv("FOYER_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// startServer serves store on 127.0.0.1 until the test ends.
func startServer(t testing.TB, store waitroom.Store, opts serverOptions) *testServer {
	t.Helper()

	keys := waitroom.TemporaryKeys(time.Now())
	if opts.keys != nil {
		keys = *opts.keys
	}
	log := testLogger()
	metrics := web.NewMetrics()
	edge := waitroom.NewEdge(store, keys, opts.edge, log, metrics)
	metrics.WatchEdge(edge)
	srv := web.New(web.Options{
		Edge:       edge,
		AdminToken: testAdminToken,
		Log:        log,
		Metrics:    metrics,
		Ready:      opts.ready,
	})

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	go func() { _ = srv.App().Listener(ln) }()

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if !opts.noLoop {
			edge.Run(ctx)
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		_ = srv.Shutdown(5 * time.Second)
	})
	return &testServer{URL: "http://" + ln.Addr().String(), Edge: edge, Server: srv, Store: store}
}

// browserClient returns a client with its own cookie jar that does not
// follow redirects, so tests can check each 303.
func browserClient(t testing.TB) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatalf("cookie jar: %v", err)
	}
	return &http.Client{
		Jar:     jar,
		Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// seedRoom creates a room with test-friendly settings.
func seedRoom(t testing.TB, store waitroom.Store, s waitroom.Settings) waitroom.Settings {
	t.Helper()
	out, err := store.SeedRoom(context.Background(), s)
	if err != nil {
		t.Fatalf("seed room %s: %v", s.ID, err)
	}
	return out
}
