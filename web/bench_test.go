package web_test

import (
	"context"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"foyer/internal/redistest"
	"foyer/waitroom"
	"foyer/waitroom/memstore"
	"foyer/waitroom/redisstore"
)

const (
	// benchRoom is the room that the HTTP benchmarks use.
	benchRoom = "launch"
	// benchLine is how many visitors wait in the room before timing starts.
	benchLine = 5000
	// benchPollers is how many far-back visitors the status benchmark polls
	// for, in turn.
	benchPollers = 100
	// benchParallelism is the number of client goroutines per GOMAXPROCS.
	// On the loopback transport each goroutine holds its own connection.
	benchParallelism = 8
	// benchTimeout bounds each request on the loopback transport, so a
	// stuck server fails the benchmark instead of hanging it.
	benchTimeout = 5 * time.Second
)

// benchOnEachStore runs bench as one sub-benchmark per store, "memory" and
// "redis". bench runs once per store, and its own sub-benchmarks share the
// store and any server it starts.
func benchOnEachStore(b *testing.B, bench func(b *testing.B, store waitroom.Store)) {
	b.Run("memory", func(b *testing.B) {
		bench(b, memstore.New(nil))
	})
	b.Run("redis", func(b *testing.B) {
		srv := redistest.Start(b, redistest.Options{})
		bench(b, redisstore.New(srv.Client()))
	})
}

// benchTarget is a server that the transports send requests to.
type benchTarget struct {
	handler fasthttp.RequestHandler
	// addr is the server's loopback address, host:port.
	addr string
}

// buildRequest fills req with the request for iteration i. Each parallel
// goroutine reuses one req, so buildRequest must not keep it.
type buildRequest func(req *fasthttp.Request, i int64)

// benchTransports measures requests from build in two ways: "handler" calls
// the Fiber app's fasthttp handler in process, with no connection and no
// client, and "loopback" sends them over TCP on 127.0.0.1 with a fasthttp
// client. Allocations are those of the whole process: the edge's loop and,
// on loopback, the client's.
func benchTransports(b *testing.B, target benchTarget, wantStatus int, build buildRequest) {
	b.Run("handler", func(b *testing.B) {
		remote := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
		var next atomic.Int64

		b.ReportAllocs()
		b.SetParallelism(benchParallelism)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			var req fasthttp.Request
			var ctx fasthttp.RequestCtx
			for pb.Next() {
				req.Reset()
				build(&req, next.Add(1))
				ctx.Init(&req, remote, nil)
				target.handler(&ctx)
				if got := ctx.Response.StatusCode(); got != wantStatus {
					b.Errorf("got status %d, want %d: %s", got, wantStatus, ctx.Response.Body())
					return
				}
			}
		})
	})

	b.Run("loopback", func(b *testing.B) {
		client := &fasthttp.HostClient{
			Addr:         target.addr,
			MaxConns:     1024,
			ReadTimeout:  benchTimeout,
			WriteTimeout: benchTimeout,
		}
		defer client.CloseIdleConnections()
		var next atomic.Int64

		b.ReportAllocs()
		b.SetParallelism(benchParallelism)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			var req fasthttp.Request
			var resp fasthttp.Response
			for pb.Next() {
				req.Reset()
				build(&req, next.Add(1))
				req.Header.SetHost(target.addr)
				if err := client.Do(&req, &resp); err != nil {
					b.Errorf("request: %v", err)
					return
				}
				if got := resp.StatusCode(); got != wantStatus {
					b.Errorf("got status %d, want %d: %s", got, wantStatus, resp.Body())
					return
				}
			}
		})
	})
}

// startBenchServer starts an edge for store with its admission loop on the
// default tick, serving on a loopback listener until b ends.
func startBenchServer(b *testing.B, store waitroom.Store) (*testServer, benchTarget) {
	b.Helper()

	ts := startServer(b, store, serverOptions{})
	target := benchTarget{
		handler: ts.Server.App().Handler(),
		addr:    strings.TrimPrefix(ts.URL, "http://"),
	}
	return ts, target
}

// seedBenchLine creates benchRoom with a rate of 60 a minute and joins
// benchLine visitors to it with 16 goroutines. It returns their tickets in
// sequence order.
func seedBenchLine(b *testing.B, store waitroom.Store) []waitroom.Ticket {
	b.Helper()
	const workers = 16
	ctx := context.Background()
	seedRoom(b, store, waitroom.Settings{ID: benchRoom, RatePerMinute: 60})

	tickets := make([]waitroom.Ticket, benchLine)
	now := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < benchLine; i += workers {
				visitor := waitroom.NewVisitorID()
				place, err := store.Join(ctx, benchRoom, visitor, 0)
				if err != nil {
					b.Errorf("Join: %v", err)
					return
				}
				tickets[i] = waitroom.Ticket{Room: benchRoom, Visitor: visitor, Sequence: place.Sequence, IssuedAt: now}
			}
		})
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}

	bySequence := make([]waitroom.Ticket, benchLine)
	for _, t := range tickets {
		bySequence[t.Sequence-1] = t
	}
	return bySequence
}

// checkFarBackPoll fails the benchmark unless a status poll with bearer
// returns an estimate, which the edge computes from its snapshot alone.
func checkFarBackPoll(b *testing.B, target benchTarget, bearer string) {
	b.Helper()

	var req fasthttp.Request
	req.SetRequestURI("/api/v1/rooms/" + benchRoom + "/status")
	req.Header.Set(fasthttp.HeaderAuthorization, bearer)
	var ctx fasthttp.RequestCtx
	ctx.Init(&req, nil, nil)
	target.handler(&ctx)

	body := string(ctx.Response.Body())
	if ctx.Response.StatusCode() != fiber.StatusOK || !strings.Contains(body, `"state":"waiting"`) || !strings.Contains(body, `"exact":false`) {
		b.Fatalf("far-back poll: got status %d, body %s, want 200 with an estimated waiting status", ctx.Response.StatusCode(), body)
	}
}

// BenchmarkHTTPStatusFarBack measures GET /api/v1/rooms/{room}/status with a
// Bearer ticket, for visitors thousands of places back. The edge computes
// their status from its room snapshot with no store call. It is the request
// that most waiting visitors send.
func BenchmarkHTTPStatusFarBack(b *testing.B) {
	benchOnEachStore(b, func(b *testing.B, store waitroom.Store) {
		tickets := seedBenchLine(b, store)
		ts, target := startBenchServer(b, store)

		bearers := make([]string, benchPollers)
		for i, t := range tickets[len(tickets)-benchPollers:] {
			bearers[i] = "Bearer " + ts.Edge.Tickets().Encode(t)
		}
		checkFarBackPoll(b, target, bearers[0])

		path := "/api/v1/rooms/" + benchRoom + "/status"
		benchTransports(b, target, fiber.StatusOK, func(req *fasthttp.Request, i int64) {
			req.SetRequestURI(path)
			req.Header.Set(fasthttp.HeaderAuthorization, bearers[i%benchPollers])
		})
	})
}

// BenchmarkHTTPJoin measures POST /api/v1/rooms/{room}/join without a
// ticket: each request is a new visitor at the back of a growing line.
func BenchmarkHTTPJoin(b *testing.B) {
	benchOnEachStore(b, func(b *testing.B, store waitroom.Store) {
		seedBenchLine(b, store)
		_, target := startBenchServer(b, store)

		path := "/api/v1/rooms/" + benchRoom + "/join"
		benchTransports(b, target, fiber.StatusCreated, func(req *fasthttp.Request, _ int64) {
			req.Header.SetMethod(fasthttp.MethodPost)
			req.SetRequestURI(path)
		})
	})
}

// BenchmarkHTTPConstant measures a bare Fiber app whose one handler returns
// a constant, through the same transports: the ceiling that Foyer's
// handlers are compared with.
func BenchmarkHTTPConstant(b *testing.B) {
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/", func(c *fiber.Ctx) error { return c.SendString("ok") })

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatalf("listen: %v", err)
	}
	go func() { _ = app.Listener(ln) }()
	b.Cleanup(func() { _ = app.ShutdownWithTimeout(5 * time.Second) })

	target := benchTarget{handler: app.Handler(), addr: ln.Addr().String()}
	benchTransports(b, target, fiber.StatusOK, func(req *fasthttp.Request, _ int64) {
		req.SetRequestURI("/")
	})
}
