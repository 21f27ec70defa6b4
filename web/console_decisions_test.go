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

// adminDecision is the admin API's decision body.
type adminDecision struct {
	At                string  `json:"at"`
	Reason            string  `json:"reason"`
	OldRatePerMinute  float64 `json:"old_rate_per_minute"`
	NewRatePerMinute  float64 `json:"new_rate_per_minute"`
	CapacityPerMinute float64 `json:"capacity_per_minute"`
	Signals           struct {
		WindowStart     *string `json:"window_start"`
		WindowEnd       *string `json:"window_end"`
		Samples         int64   `json:"samples"`
		LatencyP95Ms    int64   `json:"latency_p95_ms"`
		ErrorRate       float64 `json:"error_rate"`
		StalenessMs     int64   `json:"staleness_ms"`
		HasInventory    bool    `json:"has_inventory"`
		RemainingPlaces int64   `json:"remaining_places"`
		Active          int64   `json:"active"`
		MaxActive       int64   `json:"max_active"`
	} `json:"signals"`
}

// testDecision returns a decision at at with signals that a booking
// source could report.
func testDecision(at time.Time, reason waitroom.Reason, oldRate, newRate float64) waitroom.Decision {
	return waitroom.Decision{
		At:               at,
		OldRatePerMinute: oldRate,
		NewRatePerMinute: newRate,
		Reason:           reason,
		Signals: waitroom.Signals{
			WindowStart:     at.Add(-10 * time.Second),
			WindowEnd:       at,
			Samples:         240,
			LatencyP95:      time.Second,
			ErrorRate:       0.025,
			Staleness:       2 * time.Second,
			HasInventory:    true,
			RemainingPlaces: 340,
			HeldPlaces:      12,
			Active:          87,
			MaxActive:       200,
		},
	}
}

func appendDecisions(t testing.TB, store waitroom.Store, room string, decisions ...waitroom.Decision) {
	t.Helper()
	for _, d := range decisions {
		if err := store.AppendDecision(context.Background(), room, d); err != nil {
			t.Fatalf("AppendDecision(%s, %s): %v", room, d.Reason, err)
		}
	}
}

func TestAdminDecisions(t *testing.T) {
	forEachStore(t, func(t *testing.T, st openedStore) {
		seedRoom(t, st.store, waitroom.Settings{ID: "museum", Mode: waitroom.ModeAuto})
		ts := startServer(t, st.store, serverOptions{noLoop: true})
		at := time.Date(2026, 5, 4, 9, 30, 0, 0, time.UTC)
		stale := testDecision(at.Add(10*time.Second), waitroom.ReasonDecayStale, 108, 100)
		stale.Signals = waitroom.Signals{Active: 3}
		measured := testDecision(at.Add(5*time.Second), waitroom.ReasonCut, 120, 108)
		measured.CapacityPerMinute = 115
		appendDecisions(t, st.store, "museum",
			testDecision(at, waitroom.ReasonRampUp, 60, 120),
			measured,
			stale,
		)

		res := ts.admin(t, http.MethodGet, "/rooms/museum/decisions", nil)
		if res.status != http.StatusOK {
			t.Fatalf("GET decisions: got status %d, want 200:\n%s", res.status, res.body)
		}
		var all []adminDecision
		res.decode(t, &all)
		if len(all) != 3 {
			t.Fatalf("GET decisions: got %d, want 3:\n%s", len(all), res.body)
		}
		reasons := []string{all[0].Reason, all[1].Reason, all[2].Reason}
		if got, want := strings.Join(reasons, " "), "decay_stale cut ramp_up"; got != want {
			t.Errorf("GET decisions: got reasons %q, want %q, newest first", got, want)
		}
		cut := all[1]
		if cut.At != "2026-05-04T09:30:05Z" {
			t.Errorf("cut: got at %q, want 2026-05-04T09:30:05Z", cut.At)
		}
		if cut.OldRatePerMinute != 120 || cut.NewRatePerMinute != 108 {
			t.Errorf("cut: got rates %v → %v, want 120 → 108", cut.OldRatePerMinute, cut.NewRatePerMinute)
		}
		if cut.CapacityPerMinute != 115 {
			t.Errorf("cut: got capacity %v per minute, want 115", cut.CapacityPerMinute)
		}
		s := cut.Signals
		if s.LatencyP95Ms != 1000 || s.StalenessMs != 2000 || s.Samples != 240 || s.ErrorRate != 0.025 {
			t.Errorf("cut signals: got p95 %dms, staleness %dms, %d samples, error rate %v, want 1000, 2000, 240, 0.025",
				s.LatencyP95Ms, s.StalenessMs, s.Samples, s.ErrorRate)
		}
		if !s.HasInventory || s.RemainingPlaces != 340 || s.Active != 87 || s.MaxActive != 200 {
			t.Errorf("cut signals: got inventory %v with %d places, %d of %d active, want true, 340, 87 of 200",
				s.HasInventory, s.RemainingPlaces, s.Active, s.MaxActive)
		}
		if s.WindowStart == nil || *s.WindowStart != "2026-05-04T09:29:55Z" {
			t.Errorf("cut signals: got window_start %v, want 2026-05-04T09:29:55Z", s.WindowStart)
		}
		if all[0].Signals.WindowStart != nil || all[0].Signals.WindowEnd != nil {
			t.Errorf("decision without signals: got window %v to %v, want null to null", all[0].Signals.WindowStart, all[0].Signals.WindowEnd)
		}

		res = ts.admin(t, http.MethodGet, "/rooms/museum/decisions?limit=2", nil)
		var page []adminDecision
		res.decode(t, &page)
		if len(page) != 2 || page[0].Reason != "decay_stale" {
			t.Errorf("GET decisions?limit=2: got %d decisions, want the newest 2:\n%s", len(page), res.body)
		}

		for _, query := range []string{"limit=0", "limit=1001", "limit=ten"} {
			res := ts.admin(t, http.MethodGet, "/rooms/museum/decisions?"+query, nil)
			if res.status != http.StatusBadRequest || res.errorCode() != "invalid_query" {
				t.Errorf("GET decisions?%s: got status %d code %q, want 400 invalid_query", query, res.status, res.errorCode())
			}
		}
		res = ts.admin(t, http.MethodGet, "/rooms/nowhere/decisions", nil)
		if res.status != http.StatusNotFound || res.errorCode() != "room_not_found" {
			t.Errorf("GET decisions of an unknown room: got status %d code %q, want 404 room_not_found", res.status, res.errorCode())
		}
	})
}

func TestDashboardShowsDecisions(t *testing.T) {
	forEachStore(t, func(t *testing.T, st openedStore) {
		seedRoom(t, st.store, waitroom.Settings{ID: "museum", Mode: waitroom.ModeAuto})
		ts := startServer(t, st.store, serverOptions{noLoop: true})
		admin := ts.signIn(t)
		now := time.Now().UTC()
		measured := testDecision(now.Add(-time.Minute), waitroom.ReasonHoldOff, 108.45, 108.45)
		measured.CapacityPerMinute = 131.25
		appendDecisions(t, st.store, "museum",
			// Before the chart's 30 minutes: it gives the starting rate.
			testDecision(now.Add(-40*time.Minute), waitroom.ReasonIncrease, 100, 120),
			testDecision(now.Add(-2*time.Minute), waitroom.ReasonCut, 120, 108.45),
			measured,
		)

		page := ts.get(t, admin.client, "/admin/rooms/museum")
		if page.status != http.StatusOK {
			t.Fatalf("GET dashboard: got status %d, want 200", page.status)
		}
		html := string(page.body)
		for _, want := range []string{
			`id="chart-decisions"`,
			"Booking latency above the target: rate cut.",
			`<code class="small">cut</code>`,
			"120 → 108.5",
			"108.5 → 108.5",
			"Too soon after a cut for the rate to rise, or to cut again: rate held.",
			now.Add(-2 * time.Minute).Format("2006-01-02 15:04:05 UTC"),
			"340 (and 12 held)",
			"87 of 200",
			"<td>2.5%</td>",
			"<td>1s</td>",
			"<td>131.3 per minute</td>",
			"<td>–</td>",
			"2 decisions, 1 of them changed the rate; between 108.5 and 120 per minute, now 108.5.",
		} {
			if !strings.Contains(html, want) {
				t.Errorf("dashboard lacks %q", want)
			}
		}
		if got := strings.Count(html, "<circle "); got != 1 {
			t.Errorf("dashboard chart: got %d dots, want 1 for the one change in 30 minutes", got)
		}
		if strings.Contains(html, `id="decisions-note"`) {
			t.Errorf("dashboard shows a note instead of the chart in auto mode with decisions")
		}

		// In fixed mode the dashboard states the mode instead of drawing the chart.
		if res := ts.admin(t, http.MethodPatch, "/rooms/museum", map[string]any{"mode": "fixed"}); res.status != http.StatusOK {
			t.Fatalf("PATCH mode fixed: got status %d, want 200", res.status)
		}
		html = string(ts.get(t, admin.client, "/admin/rooms/museum").body)
		if !strings.Contains(html, "This room is in fixed mode") {
			t.Errorf("dashboard in fixed mode does not say so")
		}
		if strings.Contains(html, `id="chart-decisions"`) {
			t.Errorf("dashboard in fixed mode draws the decision chart")
		}
		if !strings.Contains(html, `<code class="small">cut</code>`) {
			t.Errorf("dashboard in fixed mode does not list the earlier decisions")
		}
	})
}

func TestDashboardWithoutDecisions(t *testing.T) {
	store := memstore.New(nil)
	seedRoom(t, store, waitroom.Settings{ID: "museum", Mode: waitroom.ModeAuto})
	ts := startServer(t, store, serverOptions{noLoop: true})
	admin := ts.signIn(t)

	html := string(ts.get(t, admin.client, "/admin/rooms/museum").body)

	if !strings.Contains(html, "The controller has made no decision for this room yet.") {
		t.Errorf("dashboard of an auto room without decisions does not say so")
	}
	if strings.Contains(html, `id="chart-decisions"`) || strings.Contains(html, `id="decisions"`) {
		t.Errorf("dashboard without decisions draws a chart or a table")
	}
}

func TestDashboardStreamShowsNewDecision(t *testing.T) {
	store := memstore.New(nil)
	seedRoom(t, store, waitroom.Settings{ID: "museum", Mode: waitroom.ModeAuto})
	ts := startServer(t, store, serverOptions{noLoop: true})
	admin := ts.signIn(t)
	stream := ts.openStream(t, admin.client, "museum")
	stream.waitFor(t, `id="decisions-note"`, 5*time.Second)

	appendDecisions(t, store, "museum", testDecision(time.Now(), waitroom.ReasonWaitForHolds, 90, 0))

	update := stream.waitFor(t, `<code class="small">wait_for_holds</code>`, 10*time.Second)
	if !strings.Contains(update.data, "90 → 0") {
		t.Errorf("the update does not show the rate going from 90 to 0:\n%s", update.data)
	}
	if !strings.Contains(update.data, "Only held places are left") {
		t.Errorf("the update does not explain wait_for_holds in words:\n%s", update.data)
	}
}
