package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"foyer/waitroom"
	"foyer/waitroom/memstore"
)

// placesSignals replaces a booking backend that is fast and has free
// places left, all in one slot.
type placesSignals struct{ free int64 }

func (p placesSignals) Signals(_ context.Context, now time.Time) (waitroom.Signals, error) {
	return waitroom.Signals{
		WindowStart:          now.Add(-10 * time.Second),
		WindowEnd:            now,
		Samples:              100,
		LatencyP95:           50 * time.Millisecond,
		HasInventory:         true,
		RemainingPlaces:      p.free,
		MostFreeInSlot:       p.free,
		MostFreeOrHeldInSlot: p.free,
	}, nil
}

// TestControllerSoldOutReachesVisitors runs one control period in a room in
// mode auto whose backend reports no places: the waiting visitors' next
// poll says sold_out, nobody is admitted, and the decision is exported.
func TestControllerSoldOutReachesVisitors(t *testing.T) {
	forEachStore(t, func(t *testing.T, st openedStore) {
		seedRoom(t, st.store, waitroom.Settings{ID: "museum", RatePerMinute: 0, Burst: 1, Mode: waitroom.ModeAuto})
		edge := waitroom.EdgeConfig{Controllers: map[string]waitroom.RoomController{
			"museum": {Signals: placesSignals{free: 0}},
		}}
		ts := startServer(t, st.store, serverOptions{edge: edge, noLoop: true})
		visitors := []visitorStatus{ts.mustJoin(t, "museum"), ts.mustJoin(t, "museum"), ts.mustJoin(t, "museum")}

		res := ts.tick(t, "museum")
		admitted := len(res.Admitted)
		for _, v := range visitors[admitted:] {
			body, reply := ts.status(t, "museum", v.Ticket)
			if reply.status != http.StatusOK {
				t.Fatalf("status: got %d, want 200:\n%s", reply.status, reply.body)
			}
			if body.RoomState != "sold_out" {
				t.Errorf("status of visitor %d: got room_state %q, want sold_out", v.seq(), body.RoomState)
			}
			if body.State != "waiting" {
				t.Errorf("status of visitor %d: got state %q, want waiting", v.seq(), body.State)
			}
		}

		if again := ts.tick(t, "museum"); len(again.Admitted) != 0 {
			t.Errorf("admission step after sold out: got %d admitted, want 0", len(again.Admitted))
		}

		families := scrape(t, ts)
		decisions, ok := sample(families["foyer_controller_decisions_total"], map[string]string{"room": "museum", "reason": "sold_out"})
		if !ok || decisions != 1 {
			t.Errorf("foyer_controller_decisions_total{room=museum,reason=sold_out}: got %v (present %v), want 1", decisions, ok)
		}
		rate, ok := sample(families["foyer_controller_rate_per_minute"], map[string]string{"room": "museum"})
		if !ok || rate != 0 {
			t.Errorf("foyer_controller_rate_per_minute{room=museum}: got %v (present %v), want 0", rate, ok)
		}
	})
}

// TestWaitPageShowsPlacesLeft runs one control period with 6 free places
// and 5 people ahead of a browser visitor: the waiting page shows both
// counts and warns that the places may be gone before their turn.
func TestWaitPageShowsPlacesLeft(t *testing.T) {
	store := memstore.New(nil)
	seedRoom(t, store, waitroom.Settings{ID: "museum", Burst: 1, Mode: waitroom.ModeAuto})
	edge := waitroom.EdgeConfig{Controllers: map[string]waitroom.RoomController{
		"museum": {Signals: placesSignals{free: 6}},
	}}
	ts := startServer(t, store, serverOptions{edge: edge, noLoop: true})
	for range 5 {
		ts.mustJoin(t, "museum")
	}
	client := browserClient(t)
	if res := ts.get(t, client, "/r/museum"); res.status != http.StatusSeeOther {
		t.Fatalf("join page: got status %d, want 303", res.status)
	}

	// The step admits the first visitor, who counts as ahead while booking.
	ts.tick(t, "museum")
	res := ts.get(t, client, "/r/museum/wait")

	if res.status != http.StatusOK {
		t.Fatalf("waiting page: got status %d, want 200", res.status)
	}
	body := string(res.body)
	for _, want := range []string{
		`id="places"`,
		`<span id="places-left">6</span> places remain`,
		`<span id="places-ahead">5</span> people ahead of you.`,
		"They may be gone before your turn.",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("waiting page: want it to contain %q", want)
		}
	}
}
