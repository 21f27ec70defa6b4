package redisstore_test

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"foyer/booking"
	"foyer/booking/redisstore"
	"foyer/internal/redistest"
)

// TestConfirmedOrdersSurviveCrash confirms orders on a Redis with
// appendfsync always, kills it with SIGKILL and checks that every order
// whose confirmation returned success is there after a restart.
func TestConfirmedOrdersSurviveCrash(t *testing.T) {
	const (
		orders  = 500
		workers = 32
	)
	ctx := t.Context()
	server := redistest.Start(t, redistest.Options{AppendFsyncAlways: true})
	store := redisstore.New(server.Client())
	event := createDurabilityEvent(t, ctx, store, orders)

	confirmed := make([]booking.Order, orders)
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				confirmed[i] = holdAndConfirm(t, ctx, store, event, i)
			}
		})
	}
	for i := range orders {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	server.Kill()
	server.Restart()
	restarted := redisstore.New(server.Client())

	for _, want := range confirmed {
		got, err := restarted.GetOrder(ctx, want.ID)
		if err != nil {
			t.Fatalf("order %s after restart: %v", want.ID, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("order %s after restart: got %+v, want %+v", want.ID, got, want)
		}
	}

	listed, err := restarted.ListOrders(ctx, event, booking.OrderConfirmed)
	if err != nil {
		t.Fatalf("list orders after restart: %v", err)
	}
	if len(listed) != orders {
		t.Errorf("got %d confirmed orders after restart, want %d", len(listed), orders)
	}
	stats, err := restarted.SlotStats(ctx, event, "a")
	if err != nil {
		t.Fatalf("slot stats after restart: %v", err)
	}
	if stats.Sold != orders || stats.Held != 0 {
		t.Errorf("got sold %d and held %d after restart, want %d and 0", stats.Sold, stats.Held, orders)
	}
}

func createDurabilityEvent(t *testing.T, ctx context.Context, store booking.Store, capacity int) string {
	t.Helper()

	start := time.Now().Add(24 * time.Hour).Truncate(time.Hour)
	event := booking.Event{
		ID:          "durable",
		Title:       "Durability test",
		TimeZone:    "Europe/Amsterdam",
		Room:        "durable",
		TicketTypes: []booking.TicketType{{ID: "adult", Name: "Adult", Price: 1000}},
	}
	slots := []booking.Slot{{ID: "a", Start: start, End: start.Add(time.Hour), Capacity: capacity}}
	if err := store.CreateEvent(ctx, event, slots); err != nil {
		t.Fatalf("create event: %v", err)
	}
	return event.ID
}

func holdAndConfirm(t *testing.T, ctx context.Context, store booking.Store, event string, i int) booking.Order {
	visitor := fmt.Sprintf("visitor-%d", i)
	hold, err := store.Hold(ctx, booking.HoldRequest{Event: event, Slot: "a", Visitor: visitor, Quantity: 1})
	if err != nil {
		t.Errorf("%s: hold: %v", visitor, err)
		return booking.Order{}
	}

	order, err := store.Confirm(ctx, booking.ConfirmRequest{HoldID: hold.ID, PaymentID: "pay-" + visitor})
	if err != nil {
		t.Errorf("%s: confirm: %v", visitor, err)
		return booking.Order{}
	}
	return order
}
