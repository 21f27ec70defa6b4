package redisstore

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"foyer/booking"
	"foyer/internal/redistest"
)

// TestHoldPurgedAfterRetention backdates a hold's expiry by more than
// booking.HoldRetention and checks that the next read reclaims and deletes
// it. The conformance suite checks the exact retention on the memory store,
// whose clock it can move by a day.
func TestHoldPurgedAfterRetention(t *testing.T) {
	ctx := t.Context()
	client := redistest.Start(t, redistest.Options{}).Client()
	store := New(client)

	start := time.Now().Add(24 * time.Hour).Truncate(time.Hour)
	event := booking.Event{
		ID:          "purge",
		Title:       "Purge",
		TimeZone:    "UTC",
		Room:        "purge",
		TicketTypes: []booking.TicketType{{ID: "adult", Name: "Adult"}},
	}
	slots := []booking.Slot{{ID: "a", Start: start, End: start.Add(time.Hour), Capacity: 5}}
	if err := store.CreateEvent(ctx, event, slots); err != nil {
		t.Fatalf("create event: %v", err)
	}
	hold, err := store.Hold(ctx, booking.HoldRequest{Event: "purge", Slot: "a", Visitor: "v1", Quantity: 2})
	if err != nil {
		t.Fatalf("hold: %v", err)
	}

	keys := store.keys.eventKeys("purge")
	holdsKey := keys[slices.Index(eventKeyNames[:], "holds")]
	expiryKey := keys[slices.Index(eventKeyNames[:], "expiry")]
	longAgo := time.Now().Add(-2 * booking.HoldRetention).UnixMilli()

	var stored map[string]any
	if err := json.Unmarshal([]byte(client.HGet(ctx, holdsKey, hold.ID).Val()), &stored); err != nil {
		t.Fatalf("decode stored hold: %v", err)
	}
	stored["expires"] = longAgo
	backdated, err := json.Marshal(stored)
	if err != nil {
		t.Fatalf("encode hold: %v", err)
	}
	if err := client.HSet(ctx, holdsKey, hold.ID, backdated).Err(); err != nil {
		t.Fatalf("backdate hold: %v", err)
	}
	if err := client.ZAdd(ctx, expiryKey, redis.Z{Score: float64(longAgo), Member: hold.ID}).Err(); err != nil {
		t.Fatalf("backdate expiry: %v", err)
	}

	_, err = store.GetHold(ctx, hold.ID)
	if !errors.Is(err, booking.ErrHoldNotFound) {
		t.Errorf("got error %v, want %v", err, booking.ErrHoldNotFound)
	}
	stats, err := store.SlotStats(ctx, "purge", "a")
	if err != nil {
		t.Fatalf("slot stats: %v", err)
	}
	if stats.Held != 0 {
		t.Errorf("got held %d, want 0", stats.Held)
	}
	if n := client.ZCard(ctx, expiryKey).Val(); n != 0 {
		t.Errorf("got %d entries in the expiry set, want 0", n)
	}
}
