package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"foyer/internal/redistest"
	"foyer/waitroom"
	"foyer/waitroom/redisstore"
	"foyer/waitroom/storetest"
)

// newStore returns a store on a client built by NewClient, as foyer serve
// builds it, and closes the client when the test ends.
func newStore(t testing.TB, srv *redistest.Server) (*redisstore.Store, *redis.Client) {
	t.Helper()
	client, err := redisstore.NewClient(srv.URL(), redisstore.ClientOptions{})
	if err != nil {
		t.Fatalf("NewClient(%s): %v", srv.URL(), err)
	}
	t.Cleanup(func() { _ = client.Close() })
	return redisstore.New(client), client
}

func TestConformance(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	store, client := newStore(t, srv)

	storetest.Run(t, func(t *testing.T) storetest.Fixture {
		if err := client.FlushAll(t.Context()).Err(); err != nil {
			t.Fatalf("FLUSHALL: %v", err)
		}
		return storetest.Fixture{
			Store:    store,
			Wait:     time.Sleep,
			Backdate: store.SetLastSeenForTest,
		}
	})
}

// TestKeysShareHashTag checks that every key a room uses carries the room's
// hash tag, so that each script touches one Redis Cluster slot.
func TestKeysShareHashTag(t *testing.T) {
	ctx := t.Context()
	srv := redistest.Start(t, redistest.Options{})
	store, client := newStore(t, srv)

	if err := store.CreateRoom(ctx, waitroom.Settings{ID: "tagged", RatePerMinute: 600}); err != nil {
		t.Fatalf("CreateRoom: %v", err)
	}
	for _, v := range []string{"a", "b", "c", "d"} {
		if _, err := store.Join(ctx, "tagged", v, 0); err != nil {
			t.Fatalf("Join(%s): %v", v, err)
		}
	}
	if err := store.SetLastSeenForTest(ctx, "tagged", "b", time.Hour); err != nil {
		t.Fatalf("SetLastSeenForTest: %v", err)
	}
	// Admit a and c and skip b, leaving d in the queue, so that every key
	// except the empty pre-queue exists.
	if _, err := store.Admit(ctx, "tagged", waitroom.AdmitLimits{MaxAdmit: 2, MaxSkip: 1}); err != nil {
		t.Fatalf("Admit: %v", err)
	}
	if _, err := store.SwapControllerState(ctx, "tagged", 0, waitroom.ControllerState{Version: 1}); err != nil {
		t.Fatalf("SwapControllerState: %v", err)
	}

	keys, err := client.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatalf("KEYS: %v", err)
	}
	want := map[string]bool{"foyer:rooms": true}
	for _, suffix := range []string{"meta", "queue", "seen", "admitted", "active", "skipped", "log", "ctl"} {
		want["foyer:room:{tagged}:"+suffix] = true
	}
	for _, k := range keys {
		if !want[k] {
			t.Errorf("key %q: want only foyer:rooms and keys of the form foyer:room:{tagged}:...", k)
		}
		delete(want, k)
	}
	for k := range want {
		t.Errorf("key %q: got none, want it after create, join, skip, admit and a controller swap", k)
	}
}

// TestUnavailableWhileRedisDown stops and kills Redis under a store: calls
// fail with ErrUnavailable well before a generous deadline, and work again
// once Redis is back.
func TestUnavailableWhileRedisDown(t *testing.T) {
	for _, down := range []string{"stop", "kill"} {
		t.Run(down, func(t *testing.T) {
			srv := redistest.Start(t, redistest.Options{})
			store, _ := newStore(t, srv)
			seed(t, store)

			if down == "stop" {
				srv.Stop()
			} else {
				srv.Kill()
			}

			// The client's timeouts are a second; the deadline is far longer,
			// so a call that hangs instead of failing shows as a deadline error.
			ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
			defer cancel()
			start := time.Now()
			calls := map[string]error{
				"SeedRoom":     second(store.SeedRoom(ctx, waitroom.Settings{ID: "hall"})),
				"Join":         second(store.Join(ctx, "hall", "b", 0)),
				"Position":     second(store.Position(ctx, "hall", "a")),
				"Admit":        second(store.Admit(ctx, "hall", waitroom.DefaultAdmitLimits)),
				"Snapshot":     second(store.Snapshot(ctx, "hall")),
				"Rooms":        second(store.Rooms(ctx)),
				"UpdateRoom":   second(store.UpdateRoom(ctx, "hall", waitroom.Patch{Paused: new(true)})),
				"AdmissionLog": second(store.AdmissionLog(ctx, "hall", 0, 10)),
			}
			for name, err := range calls {
				if !errors.Is(err, waitroom.ErrUnavailable) {
					t.Errorf("%s with Redis down: got %v, want ErrUnavailable", name, err)
				}
			}
			t.Logf("%d calls with Redis down took %v", len(calls), time.Since(start))
			if ctx.Err() != nil {
				t.Errorf("calls with Redis down: got %v, want them to fail before the deadline", ctx.Err())
			}

			srv.Restart()

			// The pool dials again in the background after failed dials, so
			// the first calls after a restart may still fail.
			var err error
			for range 100 {
				if _, err = store.SeedRoom(t.Context(), waitroom.Settings{ID: "hall"}); err == nil {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if err != nil {
				t.Fatalf("SeedRoom after restart: %v", err)
			}
			place, err := store.Join(t.Context(), "hall", "a", 0)
			if err != nil {
				t.Fatalf("Join after restart: %v", err)
			}
			if !place.Created || place.Sequence != 1 {
				t.Errorf("Join after restart: got created %v, sequence %d, want true, 1 (the server kept no data)", place.Created, place.Sequence)
			}
		})
	}
}

func seed(t *testing.T, store *redisstore.Store) {
	t.Helper()
	if _, err := store.SeedRoom(t.Context(), waitroom.Settings{ID: "hall"}); err != nil {
		t.Fatalf("SeedRoom: %v", err)
	}
	if _, err := store.Join(t.Context(), "hall", "a", 0); err != nil {
		t.Fatalf("Join: %v", err)
	}
}

func second[T any](_ T, err error) error { return err }

func BenchmarkStore(b *testing.B) {
	srv := redistest.Start(b, redistest.Options{})
	store, client := newStore(b, srv)
	storetest.Benchmark(b, func(b *testing.B) waitroom.Store {
		if err := client.FlushAll(b.Context()).Err(); err != nil {
			b.Fatalf("FLUSHALL: %v", err)
		}
		return store
	})
}

// BenchmarkMemoryPerVisitor joins 100,000 visitors to one room and reports
// how much Redis memory (INFO memory, used_memory) each one costs. It does
// the same work whatever b.N is, so run it with -benchtime=1x.
func BenchmarkMemoryPerVisitor(b *testing.B) {
	const visitors, workers = 100000, 16
	ctx := b.Context()
	srv := redistest.Start(b, redistest.Options{})
	store, client := newStore(b, srv)
	if err := store.CreateRoom(ctx, waitroom.Settings{ID: "hall"}); err != nil {
		b.Fatalf("CreateRoom: %v", err)
	}
	ids := make([]string, visitors)
	for i := range ids {
		ids[i] = waitroom.NewVisitorID()
	}

	b.ReportAllocs()
	b.ResetTimer()
	before := usedMemory(b, client)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < visitors; i += workers {
				if _, err := store.Join(ctx, "hall", ids[i], 0); err != nil {
					b.Errorf("Join: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	after := usedMemory(b, client)
	b.StopTimer()

	b.ReportMetric(float64(after-before)/visitors, "bytes/visitor")
}

func usedMemory(b *testing.B, client *redis.Client) int64 {
	b.Helper()
	info, err := client.Info(b.Context(), "memory").Result()
	if err != nil {
		b.Fatalf("INFO memory: %v", err)
	}
	for _, line := range strings.Split(info, "\r\n") {
		if value, ok := strings.CutPrefix(line, "used_memory:"); ok {
			n, err := strconv.ParseInt(value, 10, 64)
			if err != nil {
				b.Fatalf("INFO memory: used_memory %q: %v", value, err)
			}
			return n
		}
	}
	b.Fatalf("INFO memory has no used_memory line:\n%s", info)
	return 0
}

func ExampleNewClient() {
	client, err := redisstore.NewClient("unix:///run/redis/redis.sock", redisstore.ClientOptions{PoolSize: 16})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	o := client.Options()
	fmt.Println(o.Network, o.Addr, o.PoolSize, o.ReadTimeout)
	// Output: unix /run/redis/redis.sock 16 1s
}
