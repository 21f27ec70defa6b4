package redisstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"foyer/booking"
	"foyer/booking/redisstore"
	"foyer/internal/redistest"
)

func TestStoppedRedisIsUnavailable(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	store := redisstore.New(srv.Client())
	ctx := context.Background()

	srv.Stop()
	_, err := store.Event(ctx, "expo")
	if !errors.Is(err, booking.ErrUnavailable) {
		t.Fatalf("event with Redis stopped: got %v, want ErrUnavailable", err)
	}
	if got := booking.ErrorCode(err); got != "unavailable" {
		t.Fatalf("got code %q, want unavailable", got)
	}
	now := time.Now()
	if _, err := store.ReadStats(ctx, now.Add(-time.Minute), now); !errors.Is(err, booking.ErrUnavailable) {
		t.Fatalf("read stats with Redis stopped: got %v, want ErrUnavailable", err)
	}

	srv.Restart()
	_, err = store.Event(ctx, "expo")
	if !errors.Is(err, booking.ErrUnknownEvent) {
		t.Fatalf("event after restart: got %v, want ErrUnknownEvent", err)
	}
}
