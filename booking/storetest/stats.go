package storetest

import (
	"testing"
	"time"

	"foyer/booking"
)

func testStats(t *testing.T, h *harness) {
	first := booking.WindowStart(h.now()).Add(-booking.StatsWindow)
	second := first.Add(booking.StatsWindow)

	var hold booking.OpStats
	hold.Op = booking.OpHold
	hold.Observe(3*time.Millisecond, "")
	hold.Observe(40*time.Millisecond, booking.ErrorCode(booking.ErrSoldOut))
	var confirm booking.OpStats
	confirm.Op = booking.OpConfirm
	confirm.Observe(7*time.Second, "")

	for _, add := range []struct {
		window time.Time
		stats  []booking.OpStats
	}{
		{first, []booking.OpStats{hold}},
		{first, []booking.OpStats{hold, confirm}},
		{second, []booking.OpStats{confirm}},
	} {
		if err := h.store.AddStats(h.ctx, add.window, add.stats); err != nil {
			t.Fatalf("add stats to %s: %v", add.window, err)
		}
	}

	got, err := h.store.ReadStats(h.ctx, first, second.Add(booking.StatsWindow))
	if err != nil {
		t.Fatalf("read stats: %v", err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d windows, want 2", len(got))
	}
	if !got[0].Start.Equal(first) || !got[1].Start.Equal(second) {
		t.Errorf("got windows %s and %s, want %s and %s", got[0].Start, got[1].Start, first, second)
	}

	holds := got[0].Ops[booking.OpHold]
	if holds.Count != 4 {
		t.Errorf("got %d holds, want 4", holds.Count)
	}
	if n := holds.Errors["sold_out"]; n != 2 {
		t.Errorf("got %d sold_out errors, want 2", n)
	}
	if n := holds.ErrorCount(); n != 2 {
		t.Errorf("got %d errors, want 2", n)
	}
	if q := holds.Quantile(0.5); q != 5*time.Millisecond {
		t.Errorf("got median bound %s, want 5ms", q)
	}
	if q := holds.Quantile(0.95); q != 50*time.Millisecond {
		t.Errorf("got p95 bound %s, want 50ms", q)
	}
	if n := got[0].Ops[booking.OpConfirm].Count; n != 1 {
		t.Errorf("first window: got %d confirms, want 1", n)
	}
	if n := got[1].Ops[booking.OpConfirm].Latency[booking.LatencyBuckets-1]; n != 1 {
		t.Errorf("second window: got %d confirms slower than the last bound, want 1", n)
	}

	only, err := h.store.ReadStats(h.ctx, second, second.Add(booking.StatsWindow))
	if err != nil {
		t.Fatalf("read one window: %v", err)
	}
	if len(only) != 1 || !only[0].Start.Equal(second) {
		t.Errorf("got %d windows, want only %s", len(only), second)
	}
}

func testStatsInvalid(t *testing.T, h *harness) {
	window := booking.WindowStart(h.now())

	err := h.store.AddStats(h.ctx, window.Add(time.Second), nil)
	wantErr(t, err, booking.ErrInvalidRequest)

	err = h.store.AddStats(h.ctx, window, []booking.OpStats{{Op: "Hold:1", Count: 1}})
	wantErr(t, err, booking.ErrInvalidRequest)

	_, err = h.store.ReadStats(h.ctx, window, window.Add(-time.Second))
	wantErr(t, err, booking.ErrInvalidRequest)

	_, err = h.store.ReadStats(h.ctx, window.Add(-2*booking.StatsRetention), window)
	wantErr(t, err, booking.ErrInvalidRequest)
}
