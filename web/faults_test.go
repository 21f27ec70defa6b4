package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"foyer/waitroom"
)

// retryPause is the pause between attempts while the edge recovers, and
// maxAttempts bounds the attempts of each wait.
const (
	retryPause  = 50 * time.Millisecond
	maxAttempts = 100
)

func TestRedisStopAndRestart(t *testing.T) {
	st := openRedisStore(t)
	settings := waitroom.Settings{ID: "museum", Event: "expo", Paused: true}
	seedRoom(t, st.store, settings)
	ts := startServer(t, st.store, serverOptions{ready: st.ready, edge: waitroom.EdgeConfig{
		Tick:          retryPause,
		RoomListEvery: retryPause,
		Rooms:         []waitroom.Settings{settings},
	}})

	// Two visitors wait through the API and a third in a browser, in a
	// paused room, so that no one is admitted.
	first := ts.mustJoin(t, "museum")
	ts.mustJoin(t, "museum")
	browser := browserClient(t)
	if res := ts.get(t, browser, "/r/museum"); res.status != http.StatusSeeOther {
		t.Fatalf("join page: got status %d, want 303", res.status)
	}
	page := ts.get(t, browser, "/r/museum/wait")
	if page.status != http.StatusOK || !strings.Contains(string(page.body), `id="position">3<`) {
		t.Fatalf("wait page with Redis up: got status %d, want 200 at position 3:\n%s", page.status, page.body)
	}
	if strings.Contains(string(page.body), `id="degraded"`) {
		t.Fatalf("wait page with Redis up shows the degraded notice:\n%s", page.body)
	}

	st.redis.Stop()

	t.Run("stopped", func(t *testing.T) {
		page := ts.get(t, browser, "/r/museum/wait")
		if page.status != http.StatusOK {
			t.Errorf("wait page: got status %d, want 200:\n%s", page.status, page.body)
		}
		if !strings.Contains(string(page.body), `id="position">3<`) {
			t.Errorf("wait page: got no position 3, want the last known position:\n%s", page.body)
		}
		if !strings.Contains(string(page.body), `id="degraded"`) {
			t.Errorf("wait page: got no degraded notice:\n%s", page.body)
		}

		status, res := ts.status(t, "museum", first.Ticket)
		if res.status != http.StatusOK {
			t.Fatalf("status: got status %d, want 200:\n%s", res.status, res.body)
		}
		if !status.Degraded {
			t.Errorf("status: got degraded false, want true:\n%s", res.body)
		}
		if status.State != "waiting" || status.Position == nil || *status.Position != 1 {
			t.Errorf("status: got state %q position %v, want waiting at the last known position 1:\n%s", status.State, status.Position, res.body)
		}

		_, res = ts.join(t, nil, "museum", "")
		if res.status != http.StatusServiceUnavailable {
			t.Errorf("API join: got status %d, want 503:\n%s", res.status, res.body)
		}
		if got := res.errorCode(); got != "unavailable" {
			t.Errorf("API join: got code %q, want unavailable", got)
		}
		if got := res.header.Get("Retry-After"); got == "" {
			t.Errorf("API join: got no Retry-After header")
		}

		res = ts.get(t, nil, "/r/museum")
		if res.status != http.StatusServiceUnavailable || !res.isHTML() {
			t.Errorf("join page: got status %d Content-Type %q, want 503 HTML", res.status, res.header.Get("Content-Type"))
		}
		if got := res.header.Get("Retry-After"); got == "" {
			t.Errorf("join page: got no Retry-After header")
		}
		if !strings.Contains(string(res.body), `http-equiv="refresh"`) {
			t.Errorf("join page: got no refresh, want the page to try again by itself:\n%s", res.body)
		}

		res = ts.admin(t, http.MethodGet, "/rooms/museum", nil)
		if res.status != http.StatusServiceUnavailable || res.errorCode() != "unavailable" {
			t.Errorf("admin GET: got status %d code %q, want 503 unavailable", res.status, res.errorCode())
		}
		if res := ts.get(t, nil, "/readyz"); res.status != http.StatusServiceUnavailable {
			t.Errorf("/readyz: got status %d, want 503", res.status)
		}
		if res := ts.get(t, nil, "/metrics"); res.status != http.StatusOK {
			t.Errorf("/metrics: got status %d, want 200", res.status)
		}
	})

	st.redis.Restart()

	t.Run("restarted", func(t *testing.T) {
		// The test server keeps nothing on disk, so the room is gone; the
		// edge seeds it again from its configuration by itself.
		var err error
		for attempt := 0; attempt < maxAttempts; attempt++ {
			if _, err = st.store.Snapshot(t.Context(), "museum"); err == nil {
				break
			}
			time.Sleep(retryPause)
		}
		if err != nil {
			t.Fatalf("room after restart: got %v after %d attempts, want the edge to seed it again", err, maxAttempts)
		}

		var (
			joined visitorStatus
			res    reply
		)
		for attempt := 0; attempt < maxAttempts; attempt++ {
			joined, res = ts.join(t, nil, "museum", "")
			if res.status != http.StatusServiceUnavailable {
				break
			}
			time.Sleep(retryPause)
		}
		if res.status != http.StatusCreated {
			t.Fatalf("API join after restart: got status %d, want 201:\n%s", res.status, res.body)
		}
		if joined.seq() != 1 {
			t.Errorf("API join after restart: got sequence %d, want 1 in the new line", joined.seq())
		}

		var status visitorStatus
		for attempt := 0; attempt < maxAttempts; attempt++ {
			status, res = ts.status(t, "museum", joined.Ticket)
			if res.status == http.StatusOK && !status.Degraded {
				break
			}
			time.Sleep(retryPause)
		}
		if res.status != http.StatusOK || status.Degraded {
			t.Errorf("status after restart: got status %d degraded %v after %d attempts, want 200 and not degraded:\n%s", res.status, status.Degraded, maxAttempts, res.body)
		}

		// The browser's place was lost with Redis's data: its waiting page
		// sends it to join again, and it gets a new place behind the API
		// visitor.
		page := ts.get(t, browser, "/r/museum/wait")
		if page.status != http.StatusSeeOther || page.header.Get("Location") != "/r/museum" {
			t.Fatalf("wait page of a lost place: got status %d Location %q, want 303 to /r/museum", page.status, page.header.Get("Location"))
		}
		if res := ts.get(t, browser, "/r/museum"); res.status != http.StatusSeeOther {
			t.Fatalf("join page after restart: got status %d, want 303:\n%s", res.status, res.body)
		}
		page = ts.get(t, browser, "/r/museum/wait")
		if page.status != http.StatusOK || !strings.Contains(string(page.body), `id="position">2<`) {
			t.Errorf("wait page after joining again: got status %d, want 200 at position 2:\n%s", page.status, page.body)
		}
		if strings.Contains(string(page.body), `id="degraded"`) {
			t.Errorf("wait page after joining again shows the degraded notice:\n%s", page.body)
		}

		if res := ts.get(t, nil, "/readyz"); res.status != http.StatusOK {
			t.Errorf("/readyz after restart: got status %d, want 200", res.status)
		}
	})
}
