package waitroom_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"foyer/internal/redistest"
	"foyer/waitroom"
	"foyer/waitroom/memstore"
	"foyer/waitroom/redisstore"
)

const (
	// benchRoom is the room that the edge benchmarks use.
	benchRoom = "launch"
	// benchLine is how many visitors wait in the room before timing starts.
	benchLine = 5000
	// benchPollers is how many distinct visitors the status benchmarks poll
	// for, in turn, so that heartbeats buffer several visitors, not one.
	benchPollers = 100
	// benchParallelism is the number of goroutines per GOMAXPROCS, so that a
	// store behind a round trip has several requests in flight, as an edge
	// serving many visitors has.
	benchParallelism = 8
)

// benchOnEachStore runs bench as one sub-benchmark per store: "memory" and
// "redis", the latter on a redis-server that redistest starts for each
// round of the sub-benchmark.
func benchOnEachStore(b *testing.B, bench func(b *testing.B, store waitroom.Store)) {
	b.Run("memory", func(b *testing.B) {
		bench(b, memstore.New(nil))
	})
	b.Run("redis", func(b *testing.B) {
		srv := redistest.Start(b, redistest.Options{})
		bench(b, redisstore.New(srv.Client()))
	})
}

// newBenchEdge returns an edge whose snapshot of benchRoom is fresh and
// stays fresh for an hour, so no poll becomes exact because of a stale
// snapshot. The edge runs no loop: nothing flushes the heartbeats it buffers.
func newBenchEdge(b *testing.B, store waitroom.Store) *waitroom.Edge {
	b.Helper()

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	edge := waitroom.NewEdge(store, waitroom.TemporaryKeys(time.Now()), waitroom.EdgeConfig{StaleAfter: time.Hour}, log, nil)
	if _, err := edge.Refresh(context.Background(), benchRoom); err != nil {
		b.Fatalf("refresh snapshot: %v", err)
	}
	return edge
}

// seedBenchLine creates benchRoom with a rate of 60 a minute and joins
// benchLine visitors with 16 goroutines. It returns their tickets in
// sequence order.
func seedBenchLine(b *testing.B, store waitroom.Store) []waitroom.Ticket {
	b.Helper()
	const workers = 16
	ctx := context.Background()

	if err := store.CreateRoom(ctx, waitroom.Settings{ID: benchRoom, RatePerMinute: 60}); err != nil {
		b.Fatalf("CreateRoom: %v", err)
	}

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

	// The workers joined in an interleaved order, so sort by sequence.
	bySequence := make([]waitroom.Ticket, benchLine)
	for _, t := range tickets {
		bySequence[t.Sequence-1] = t
	}
	return bySequence
}

// checkPath fails the benchmark unless a poll for t takes the path that the
// benchmark means to measure: exact (read from the store) or estimated
// (from the snapshot alone).
func checkPath(b *testing.B, edge *waitroom.Edge, t waitroom.Ticket, exact bool) {
	b.Helper()

	st, err := edge.Status(context.Background(), t)
	if err != nil {
		b.Fatalf("Status: %v", err)
	}
	if st.State != waitroom.StateWaiting || st.Exact != exact {
		b.Fatalf("poll for sequence %d: got state %s, exact %v, want waiting, exact %v", t.Sequence, st.State, st.Exact, exact)
	}
}

// benchStatus measures Edge.Status for the given tickets, polled in turn by
// parallel goroutines.
func benchStatus(b *testing.B, edge *waitroom.Edge, tickets []waitroom.Ticket) {
	ctx := context.Background()
	var next atomic.Int64

	b.ReportAllocs()
	b.SetParallelism(benchParallelism)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			t := tickets[next.Add(1)%int64(len(tickets))]
			if _, err := edge.Status(ctx, t); err != nil {
				b.Errorf("Status: %v", err)
				return
			}
		}
	})
}

// BenchmarkEdgeStatusFarBack measures status polls of visitors thousands of
// places from the head. The edge computes their status from its room
// snapshot and the ticket, with no store call. It is the poll that most
// visitors make.
func BenchmarkEdgeStatusFarBack(b *testing.B) {
	benchOnEachStore(b, func(b *testing.B, store waitroom.Store) {
		tickets := seedBenchLine(b, store)
		edge := newBenchEdge(b, store)
		farBack := tickets[len(tickets)-benchPollers:]
		checkPath(b, edge, farBack[0], false)

		benchStatus(b, edge, farBack)
	})
}

// BenchmarkEdgeStatusNearHead measures status polls of the first visitors in
// line, for whom the edge reads the exact place from the store.
func BenchmarkEdgeStatusNearHead(b *testing.B) {
	benchOnEachStore(b, func(b *testing.B, store waitroom.Store) {
		tickets := seedBenchLine(b, store)
		edge := newBenchEdge(b, store)
		nearHead := tickets[:benchPollers]
		checkPath(b, edge, nearHead[len(nearHead)-1], true)

		benchStatus(b, edge, nearHead)
	})
}

// BenchmarkEdgeJoin measures Edge.Join of new visitors at the back of a
// line that starts benchLine long and grows by b.N.
func BenchmarkEdgeJoin(b *testing.B) {
	benchOnEachStore(b, func(b *testing.B, store waitroom.Store) {
		seedBenchLine(b, store)
		edge := newBenchEdge(b, store)
		ctx := context.Background()

		b.ReportAllocs()
		b.SetParallelism(benchParallelism)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := edge.Join(ctx, benchRoom, nil); err != nil {
					b.Errorf("Join: %v", err)
					return
				}
			}
		})
	})
}
