package web_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"foyer/booking"
	"foyer/waitroom"
	"foyer/web"
)

// testAdminToken is the admin bearer token of servers started by startServer.
const testAdminToken = "test-admin-token-0123456789"

// testAdminUser and testAdminPassword are the organizer console account of
// servers started by startServer.
const (
	testAdminUser     = "ada"
	testAdminPassword = "correct horse battery staple"
)

// testAdminHash is the bcrypt hash of testAdminPassword, at the lowest cost
// so that signing in stays fast under the race detector.
var testAdminHash = sync.OnceValue(func() []byte {
	hash, err := bcrypt.GenerateFromPassword([]byte(testAdminPassword), bcrypt.MinCost)
	if err != nil {
		panic("hash the test admin password: " + err.Error())
	}
	return hash
})

// testWebhookSecret is the payment webhook secret of servers started with
// booking on.
const testWebhookSecret = "test-webhook-secret-0123456789abcdef"

// testServer is one edge serving on a real loopback listener.
type testServer struct {
	URL    string
	Edge   *waitroom.Edge
	Server *web.Server
	Store  waitroom.Store
	// Booking is nil unless the server was started with a booking store.
	Booking *booking.Service
	// Payments is the booking service's payment provider.
	Payments *booking.TestPayments
	// Webhooks signs payment webhooks that the server accepts.
	Webhooks *booking.WebhookSigner
}

type serverOptions struct {
	edge  waitroom.EdgeConfig
	keys  *waitroom.Keys
	ready func(context.Context) error
	// noLoop leaves the admission loop off, so the test steps it with Tick.
	noLoop bool
	// booking, when set, turns booking on: a booking.Service on this store
	// with the test payment provider, testWebhookSecret and the waiting
	// room's store as its Releaser.
	booking booking.Store
	// rehearsal sets Options.Rehearsal; pass it as booking too.
	rehearsal *booking.RehearsalStore
	// secureCookies, proxyHeader, trustedProxies and joinsPerMinute set
	// the options of the same names.
	secureCookies  bool
	proxyHeader    string
	trustedProxies []string
	joinsPerMinute float64
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
	ts := &testServer{Edge: edge, Store: store}
	if opts.booking != nil {
		ts.Payments = booking.NewTestPayments()
		signer, err := booking.NewWebhookSigner([]byte(testWebhookSecret), 0)
		if err != nil {
			t.Fatalf("webhook signer: %v", err)
		}
		ts.Webhooks = signer
		ts.Booking = &booking.Service{
			Store:    opts.booking,
			Payments: ts.Payments,
			Releaser: edge.Store(),
			Webhooks: signer,
			Logger:   log,
		}
	}
	srv := web.New(web.Options{
		Edge:                edge,
		AdminToken:          testAdminToken,
		Log:                 log,
		Metrics:             metrics,
		Ready:               opts.ready,
		Booking:             ts.Booking,
		AdminAccounts:       map[string][]byte{testAdminUser: testAdminHash()},
		SecureCookies:       opts.secureCookies,
		ProxyHeader:         opts.proxyHeader,
		TrustedProxies:      opts.trustedProxies,
		JoinsPerMinutePerIP: opts.joinsPerMinute,
		Rehearsal:           opts.rehearsal,
	})
	ts.Server = srv

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
	ts.URL = "http://" + ln.Addr().String()
	return ts
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
