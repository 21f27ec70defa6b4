package waitroom_test

import (
	"context"
	"io"
	"log/slog"
	"sort"
	"sync"
	"testing"
	"time"

	"foyer/internal/redistest"
	"foyer/waitroom"
	"foyer/waitroom/redisstore"
)

// TestThreeEdgesShareOneRate runs three edges, each with its own store
// client and snapshot cache, on one Redis, and checks the admission log: no
// window holds more than rate × window + burst, the rate is not far below the
// setting, and every visitor is admitted once, in sequence order.
func TestThreeEdgesShareOneRate(t *testing.T) {
	const (
		visitors      = 150
		ratePerMinute = 600
		burst         = 10
	)
	srv := redistest.Start(t, redistest.Options{})
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	keys := waitroom.TemporaryKeys(time.Now())

	setup := redisstore.New(srv.Client())
	if _, err := setup.SeedRoom(ctx, waitroom.Settings{ID: "museum", RatePerMinute: ratePerMinute, Burst: burst, MaxActive: 100000}); err != nil {
		t.Fatal(err)
	}

	edges := make([]*waitroom.Edge, 3)
	for i := range edges {
		edges[i] = waitroom.NewEdge(redisstore.New(srv.Client()), keys, waitroom.EdgeConfig{Tick: 20 * time.Millisecond}, log, nil)
	}
	for i := range visitors {
		if _, err := edges[i%3].Join(ctx, "museum", nil); err != nil {
			t.Fatalf("join %d: %v", i, err)
		}
	}

	// The deadline bounds the test; it is not what the test asserts.
	runCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, e := range edges {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.Run(runCtx)
		}()
	}
	for runCtx.Err() == nil {
		snap, err := setup.Snapshot(ctx, "museum")
		if err != nil {
			t.Fatal(err)
		}
		if snap.Admitted == visitors {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	wg.Wait()

	entries, err := setup.AdmissionLog(ctx, "museum", 0, visitors+10)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != visitors {
		t.Fatalf("got %d admissions in the log, want %d", len(entries), visitors)
	}
	checkOrderAndOnce(t, entries)
	checkRateBound(t, entries, ratePerMinute, burst)

	span := entries[len(entries)-1].AdmittedAt.Sub(entries[0].AdmittedAt)
	observed := float64(visitors-burst) / span.Minutes()
	if observed < 0.8*ratePerMinute {
		t.Fatalf("admitted at %.0f per minute after the burst, want at least 80%% of %d", observed, ratePerMinute)
	}
}

func checkOrderAndOnce(t *testing.T, entries []waitroom.Admission) {
	t.Helper()
	seen := make(map[string]bool, len(entries))
	for i, e := range entries {
		if seen[e.Visitor] {
			t.Fatalf("visitor %s admitted twice", e.Visitor)
		}
		seen[e.Visitor] = true
		if i > 0 && e.Sequence <= entries[i-1].Sequence {
			t.Fatalf("admission %d has sequence %d after %d, want increasing", i, e.Sequence, entries[i-1].Sequence)
		}
	}
}

// checkRateBound checks every window that starts at an admission, for
// several window lengths, against rate × window + burst, using the store's
// timestamps from the log.
func checkRateBound(t *testing.T, entries []waitroom.Admission, ratePerMinute float64, burst int) {
	t.Helper()
	times := make([]time.Time, len(entries))
	for i, e := range entries {
		times[i] = e.AdmittedAt
	}
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })

	for _, window := range []time.Duration{500 * time.Millisecond, time.Second, 3 * time.Second, 10 * time.Second} {
		limit := ratePerMinute*window.Minutes() + float64(burst)
		end := 0
		for start := range times {
			for end < len(times) && !times[end].After(times[start].Add(window)) {
				end++
			}
			if n := end - start; float64(n) > limit {
				t.Fatalf("%d admissions within %s of %s, want at most %.1f", n, window, times[start].Format(time.RFC3339Nano), limit)
			}
		}
	}
}
