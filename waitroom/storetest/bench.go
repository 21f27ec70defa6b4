package storetest

import (
	"strconv"
	"sync/atomic"
	"testing"

	"foyer/waitroom"
)

// parallelism is the number of goroutines per GOMAXPROCS that the
// benchmarks run, so that a store behind a network round trip is measured
// with several requests in flight, as an edge serving many visitors has.
const parallelism = 8

// Benchmark runs the benchmarks of Join, Position and Admit on stores that
// newStore returns, one store per benchmark.
func Benchmark(b *testing.B, newStore func(b *testing.B) waitroom.Store) {
	b.Run("Join", func(b *testing.B) { benchmarkJoin(b, newStore(b)) })
	b.Run("Position", func(b *testing.B) { benchmarkPosition(b, newStore(b)) })
	b.Run("Admit", func(b *testing.B) { benchmarkAdmit(b, newStore(b)) })
}

func benchRoom(b *testing.B, s waitroom.Store, settings waitroom.Settings) {
	b.Helper()
	if err := s.CreateRoom(b.Context(), settings); err != nil {
		b.Fatalf("CreateRoom: %v", err)
	}
}

// benchJoin joins n visitors with ids from visitorID and fails the benchmark
// on any error.
func benchJoin(b *testing.B, s waitroom.Store, n int) {
	b.Helper()
	for i := range n {
		if _, err := s.Join(b.Context(), room, visitorID(i), 0); err != nil {
			b.Fatalf("Join: %v", err)
		}
	}
}

// benchmarkJoin measures joins of new visitors at the back of a growing
// line.
func benchmarkJoin(b *testing.B, s waitroom.Store) {
	benchRoom(b, s, waitroom.Settings{ID: room})
	var next atomic.Int64

	b.ReportAllocs()
	b.SetParallelism(parallelism)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			visitor := "j" + strconv.FormatInt(next.Add(1), 10)
			if _, err := s.Join(b.Context(), room, visitor, 0); err != nil {
				b.Errorf("Join: %v", err)
				return
			}
		}
	})
}

// benchmarkPosition measures exact position reads in a line of 10,000.
func benchmarkPosition(b *testing.B, s waitroom.Store) {
	const waiting = 10000
	benchRoom(b, s, waitroom.Settings{ID: room})
	benchJoin(b, s, waiting)
	var next atomic.Int64

	b.ReportAllocs()
	b.SetParallelism(parallelism)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			visitor := visitorID(int(next.Add(1) % waiting))
			if _, err := s.Position(b.Context(), room, visitor); err != nil {
				b.Errorf("Position: %v", err)
				return
			}
		}
	})
}

// benchmarkAdmit measures admission steps that admit at most one visitor
// each, as edges racing on one room do. Each admitted visitor is released
// at once, inside the timing, so max active never stops the steps.
func benchmarkAdmit(b *testing.B, s waitroom.Store) {
	benchRoom(b, s, waitroom.Settings{ID: room, RatePerMinute: 1e6, Burst: 100000})
	benchJoin(b, s, b.N)
	var admitted atomic.Int64

	b.ReportAllocs()
	b.SetParallelism(parallelism)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			res, err := s.Admit(b.Context(), room, waitroom.AdmitLimits{MaxAdmit: 1, MaxSkip: 10})
			if err != nil {
				b.Errorf("Admit: %v", err)
				return
			}
			for _, a := range res.Admitted {
				if err := s.Release(b.Context(), room, a.Visitor); err != nil {
					b.Errorf("Release: %v", err)
					return
				}
			}
			admitted.Add(int64(len(res.Admitted)))
		}
	})
	b.ReportMetric(float64(admitted.Load())/float64(b.N), "admitted/op")
}
