package bookingsource_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"foyer/booking"
	"foyer/booking/memstore"
	"foyer/waitroom/signals/bookingsource"
)

// now is 4 seconds into the stats window that starts at epoch.
var (
	epoch = time.Unix(1_800_000_000, 0).UTC()
	now   = epoch.Add(4 * time.Second)
)

// fakeReader returns fixed windows and slots, and checks the range it is
// asked for as a store would.
type fakeReader struct {
	windows  []booking.WindowStats
	slots    []booking.SlotAvailability
	err      error
	from, to time.Time
}

func (f *fakeReader) ReadStats(_ context.Context, from, to time.Time) ([]booking.WindowStats, error) {
	f.from, f.to = from, to
	if f.err != nil {
		return nil, f.err
	}
	if err := booking.ValidateStatsRange(from, to); err != nil {
		return nil, err
	}
	var out []booking.WindowStats
	for _, w := range f.windows {
		if !w.Start.Before(from) && w.Start.Before(to) {
			out = append(out, w)
		}
	}
	return out, nil
}

func (f *fakeReader) Availability(context.Context, string) ([]booking.SlotAvailability, error) {
	return f.slots, f.err
}

// ops builds the operation counts of one window: n outcomes of op at
// latency, the first errors of them failing with code.
func ops(op string, n int, latency time.Duration, errors int, code string) booking.OpStats {
	s := booking.OpStats{Op: op}
	for i := range n {
		c := ""
		if i < errors {
			c = code
		}
		s.Observe(latency, c)
	}
	return s
}

func window(start time.Time, stats ...booking.OpStats) booking.WindowStats {
	w := booking.WindowStats{Start: start, Ops: map[string]booking.OpStats{}}
	for _, s := range stats {
		w.Ops[s.Op] = s
	}
	return w
}

func newSource(t *testing.T, r bookingsource.Reader, cfg bookingsource.Config) *bookingsource.Source {
	t.Helper()
	s, err := bookingsource.New(r, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSignalsUseNewestWindowWithEnoughSamples(t *testing.T) {
	r := &fakeReader{windows: []booking.WindowStats{
		window(epoch.Add(-20*time.Second), ops(booking.OpHold, 100, 5*time.Second, 0, "")),
		window(epoch.Add(-10*time.Second), ops(booking.OpHold, 100, 2*time.Second, 0, "")),
		window(epoch, ops(booking.OpHold, 30, 40*time.Millisecond, 0, "")),
	}}
	s := newSource(t, r, bookingsource.Config{MinSamples: 20})

	sig, err := s.Signals(context.Background(), now)
	if err != nil {
		t.Fatal(err)
	}
	if sig.Samples != 30 || sig.LatencyP95 != 50*time.Millisecond {
		t.Errorf("got %d samples at p95 %s, want 30 at 50ms from the current window only", sig.Samples, sig.LatencyP95)
	}
	if !sig.WindowStart.Equal(epoch) || !sig.WindowEnd.Equal(now) {
		t.Errorf("window: got %s to %s, want %s to %s", sig.WindowStart, sig.WindowEnd, epoch, now)
	}
	if sig.Staleness != 0 {
		t.Errorf("staleness: got %s, want 0 for the current window", sig.Staleness)
	}
	if want := booking.WindowStart(now.Add(-bookingsource.DefaultLookback)); !r.from.Equal(want) || !r.to.Equal(epoch.Add(booking.StatsWindow)) {
		t.Errorf("read range: got %s to %s, want %s to %s", r.from, r.to, want, epoch.Add(booking.StatsWindow))
	}
}

func TestSignalsReachBackForSamples(t *testing.T) {
	r := &fakeReader{windows: []booking.WindowStats{
		window(epoch.Add(-20*time.Second), ops(booking.OpHold, 100, 5*time.Second, 0, "")),
		window(epoch.Add(-10*time.Second), ops(booking.OpHold, 15, 2*time.Second, 0, "")),
		window(epoch, ops(booking.OpHold, 10, 40*time.Millisecond, 0, "")),
	}}
	s := newSource(t, r, bookingsource.Config{MinSamples: 20})

	sig, err := s.Signals(context.Background(), now)
	if err != nil {
		t.Fatal(err)
	}
	if sig.Samples != 25 {
		t.Errorf("samples: got %d, want 25 from the last two windows", sig.Samples)
	}
	if sig.LatencyP95 != 2*time.Second {
		t.Errorf("p95: got %s, want 2s", sig.LatencyP95)
	}
	if want := epoch.Add(-10 * time.Second); !sig.WindowStart.Equal(want) {
		t.Errorf("window start: got %s, want %s", sig.WindowStart, want)
	}
}

func TestSignalsCountBackendErrorsOnly(t *testing.T) {
	hold := ops(booking.OpHold, 100, 10*time.Millisecond, 10, booking.CodeInternal)
	// A sold_out rejection is a result for the visitor, not a failure.
	hold.Add(ops(booking.OpHold, 50, 10*time.Millisecond, 50, booking.ErrSoldOut.Code()))
	r := &fakeReader{windows: []booking.WindowStats{window(epoch,
		hold,
		ops(booking.OpConfirm, 100, 10*time.Millisecond, 5, booking.ErrUnavailable.Code()),
		// Pay is not measured by default.
		ops(booking.OpPay, 100, 10*time.Second, 100, booking.CodeInternal),
	)}}
	s := newSource(t, r, bookingsource.Config{})

	sig, err := s.Signals(context.Background(), now)
	if err != nil {
		t.Fatal(err)
	}
	if sig.Samples != 250 {
		t.Errorf("samples: got %d, want 250 holds and confirms", sig.Samples)
	}
	if want := 15.0 / 250; sig.ErrorRate != want {
		t.Errorf("error rate: got %v, want %v", sig.ErrorRate, want)
	}
	if sig.LatencyP95 != 10*time.Millisecond {
		t.Errorf("p95: got %s, want 10ms without pay", sig.LatencyP95)
	}
}

func TestSignalsWithoutTraffic(t *testing.T) {
	r := &fakeReader{}
	s := newSource(t, r, bookingsource.Config{})

	sig, err := s.Signals(context.Background(), now)
	if err != nil {
		t.Fatal(err)
	}
	if sig.Samples != 0 || sig.LatencyP95 != 0 || sig.ErrorRate != 0 || sig.Staleness != 0 {
		t.Errorf("got %+v, want no samples and no staleness", sig)
	}
	if sig.WindowEnd.IsZero() {
		t.Error("window end is zero, so the controller would take the signals as stale")
	}
}

func TestSignalsStaleness(t *testing.T) {
	r := &fakeReader{windows: []booking.WindowStats{
		window(epoch.Add(-30*time.Second), ops(booking.OpHold, 50, time.Millisecond, 0, "")),
	}}
	s := newSource(t, r, bookingsource.Config{})

	sig, err := s.Signals(context.Background(), now)
	if err != nil {
		t.Fatal(err)
	}
	// The staleness is the time since the window ended.
	if want := now.Sub(epoch.Add(-30 * time.Second).Add(booking.StatsWindow)); sig.Staleness != want {
		t.Errorf("staleness: got %s, want %s", sig.Staleness, want)
	}
}

func TestSignalsInventory(t *testing.T) {
	slot := func(id string, start time.Time, capacity, held, sold int) booking.SlotAvailability {
		return booking.SlotAvailability{
			Slot: booking.Slot{ID: id, Start: start, End: start.Add(time.Hour), Capacity: capacity},
			Held: held, Sold: sold,
		}
	}
	r := &fakeReader{slots: []booking.SlotAvailability{
		slot("started", now.Add(-time.Minute), 100, 0, 0),
		slot("starts-now", now, 100, 0, 0),
		slot("morning", now.Add(time.Hour), 50, 10, 38),
		slot("noon", now.Add(2*time.Hour), 50, 5, 40),
	}}
	s := newSource(t, r, bookingsource.Config{Event: "museum"})

	sig, err := s.Signals(context.Background(), now)
	if err != nil {
		t.Fatal(err)
	}
	if !sig.HasInventory {
		t.Fatal("has inventory: got false, want true")
	}
	if sig.RemainingPlaces != 7 || sig.HeldPlaces != 15 {
		t.Errorf("got %d free and %d held, want 7 and 15 in slots not started", sig.RemainingPlaces, sig.HeldPlaces)
	}
	if sig.MostFreeInSlot != 5 || sig.MostFreeOrHeldInSlot != 12 {
		t.Errorf("got most free %d and most free or held %d in one slot, want 5 and 12", sig.MostFreeInSlot, sig.MostFreeOrHeldInSlot)
	}
}

func TestSignalsWithoutEventHaveNoInventory(t *testing.T) {
	s := newSource(t, &fakeReader{}, bookingsource.Config{})
	sig, err := s.Signals(context.Background(), now)
	if err != nil {
		t.Fatal(err)
	}
	if sig.HasInventory {
		t.Error("has inventory: got true without an event, want false")
	}
}

func TestSignalsStoreErrors(t *testing.T) {
	s := newSource(t, &fakeReader{err: booking.ErrUnavailable}, bookingsource.Config{Event: "museum"})
	_, err := s.Signals(context.Background(), now)
	if !errors.Is(err, booking.ErrUnavailable) {
		t.Fatalf("got %v, want an error wrapping booking.ErrUnavailable", err)
	}
	if !strings.Contains(err.Error(), "read stats") {
		t.Errorf("error %q does not say which read failed", err)
	}
}

func TestNewValidates(t *testing.T) {
	cases := []struct {
		name  string
		store bookingsource.Reader
		cfg   bookingsource.Config
		want  string
	}{
		{"missing store", nil, bookingsource.Config{}, "store"},
		{"bad event", &fakeReader{}, bookingsource.Config{Event: "Museum!"}, `"Museum!"`},
		{"no ops", &fakeReader{}, bookingsource.Config{Ops: []string{}}, "ops"},
		{"negative samples", &fakeReader{}, bookingsource.Config{MinSamples: -1}, "min_samples"},
		{"short lookback", &fakeReader{}, bookingsource.Config{Lookback: time.Second}, "lookback 1s"},
		{"long lookback", &fakeReader{}, bookingsource.Config{Lookback: 2 * time.Hour}, "lookback 2h0m0s"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := bookingsource.New(tc.store, tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error naming %s", err, tc.want)
			}
		})
	}
}

// TestSignalsFromMemoryStore reads signals from the real memory store after
// a hold, so the adapter is checked against the store's own results.
func TestSignalsFromMemoryStore(t *testing.T) {
	ctx := context.Background()
	clock := now
	store := memstore.New(memstore.Options{Now: func() time.Time { return clock }})

	event, slots, err := booking.DemoEvent(clock.Add(48 * time.Hour).Format("2006-01-02"))
	if err != nil {
		t.Fatal(err)
	}
	if err := store.CreateEvent(ctx, event, slots); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Hold(ctx, booking.HoldRequest{Event: event.ID, Slot: slots[0].ID, Visitor: "AAAAAAAAAAAAAAAAAAAAAA", Quantity: 3}); err != nil {
		t.Fatal(err)
	}
	if err := store.AddStats(ctx, booking.WindowStart(clock), []booking.OpStats{ops(booking.OpHold, 40, 3*time.Millisecond, 2, booking.CodeInternal)}); err != nil {
		t.Fatal(err)
	}

	s := newSource(t, store, bookingsource.Config{Event: event.ID})
	sig, err := s.Signals(ctx, clock)
	if err != nil {
		t.Fatal(err)
	}

	if sig.Samples != 40 || sig.LatencyP95 != 5*time.Millisecond || sig.ErrorRate != 0.05 {
		t.Errorf("got %d samples, p95 %s, error rate %v; want 40, 5ms, 0.05", sig.Samples, sig.LatencyP95, sig.ErrorRate)
	}
	capacity := int64(0)
	for _, slot := range slots {
		capacity += int64(slot.Capacity)
	}
	if sig.RemainingPlaces != capacity-3 || sig.HeldPlaces != 3 {
		t.Errorf("got %d free and %d held, want %d and 3", sig.RemainingPlaces, sig.HeldPlaces, capacity-3)
	}
}
