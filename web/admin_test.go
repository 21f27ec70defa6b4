package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"foyer/waitroom"
)

func TestAdminRequiresToken(t *testing.T) {
	forEachStore(t, func(t *testing.T, st openedStore) {
		seedRoom(t, st.store, waitroom.Settings{ID: "museum"})
		ts := startServer(t, st.store, serverOptions{noLoop: true})

		cases := []struct {
			name          string
			authorization string
		}{
			{name: "no header"},
			{name: "wrong token", authorization: "Bearer not-the-token"},
			{name: "token without scheme", authorization: testAdminToken},
			{name: "basic scheme", authorization: "Basic " + testAdminToken},
			{name: "token prefix", authorization: "Bearer " + testAdminToken[:10]},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				for _, req := range []*http.Request{
					newRequest(t, http.MethodGet, ts.URL+"/api/v1/admin/rooms/museum", nil),
					newRequest(t, http.MethodPatch, ts.URL+"/api/v1/admin/rooms/museum", map[string]any{"rate_per_minute": 1}),
					newRequest(t, http.MethodPost, ts.URL+"/api/v1/admin/rooms/museum/reset", nil),
					newRequest(t, http.MethodGet, ts.URL+"/api/v1/admin/rooms/museum/decisions", nil),
				} {
					if tc.authorization != "" {
						req.Header.Set("Authorization", tc.authorization)
					}
					res := send(t, nil, req)

					if res.status != http.StatusUnauthorized {
						t.Errorf("%s %s: got status %d, want 401", req.Method, req.URL.Path, res.status)
					}
					if got := res.errorCode(); got != "unauthorized" {
						t.Errorf("%s %s: got code %q, want unauthorized", req.Method, req.URL.Path, got)
					}
					if got := res.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
						t.Errorf("%s %s: got WWW-Authenticate %q, want a Bearer challenge", req.Method, req.URL.Path, got)
					}
				}
			})
		}

		if got := ts.adminGetRoom(t, "museum").RatePerMinute; got != waitroom.DefaultRatePerMinute {
			t.Errorf("got rate_per_minute %v after unauthorized changes, want the default %v", got, float64(waitroom.DefaultRatePerMinute))
		}
	})
}

func TestAdminGetRoom(t *testing.T) {
	forEachStore(t, func(t *testing.T, st openedStore) {
		seedRoom(t, st.store, waitroom.Settings{ID: "museum", Event: "expo", RatePerMinute: 120, Burst: 2, MaxActive: 50, Message: "Welcome"})
		ts := startServer(t, st.store, serverOptions{noLoop: true})
		for range 5 {
			ts.mustJoin(t, "museum")
		}
		ts.tick(t, "museum")

		got := ts.adminGetRoom(t, "museum")

		want := adminRoom{
			ID: "museum", Event: "expo", RoomState: "open",
			RatePerMinute: 120, Burst: 2, MaxActive: 50, Mode: "fixed", Message: "Welcome",
			Waiting: 3, Admitted: 2, Active: 2, Head: 2, Tail: 5,
		}
		if got != want {
			t.Errorf("got room\n%+v\nwant\n%+v", got, want)
		}

		res := ts.admin(t, http.MethodGet, "/rooms", nil)
		var rooms []adminRoom
		res.decode(t, &rooms)
		if len(rooms) != 1 || rooms[0].ID != "museum" || rooms[0].Waiting != 3 {
			t.Errorf("GET /rooms: got %+v, want museum with 3 waiting", rooms)
		}

		res = ts.admin(t, http.MethodGet, "/rooms/nowhere", nil)
		if res.status != http.StatusNotFound || res.errorCode() != "room_not_found" {
			t.Errorf("unknown room: got status %d code %q, want 404 room_not_found", res.status, res.errorCode())
		}
	})
}

func TestAdminPatchRoom(t *testing.T) {
	forEachStore(t, func(t *testing.T, st openedStore) {
		seedRoom(t, st.store, waitroom.Settings{ID: "museum", Event: "expo"})
		ts := startServer(t, st.store, serverOptions{noLoop: true})

		res := ts.admin(t, http.MethodPatch, "/rooms/museum", map[string]any{"rate_per_minute": 600, "burst": 20, "max_active": 300, "mode": "auto"})
		if res.status != http.StatusOK {
			t.Fatalf("PATCH rate: got status %d, want 200:\n%s", res.status, res.body)
		}
		var patched adminRoom
		res.decode(t, &patched)
		if patched.RatePerMinute != 600 || patched.Burst != 20 || patched.MaxActive != 300 || patched.Mode != "auto" {
			t.Errorf("PATCH rate: got rate %v burst %d max_active %d mode %q, want 600, 20, 300, auto",
				patched.RatePerMinute, patched.Burst, patched.MaxActive, patched.Mode)
		}
		if got := ts.adminGetRoom(t, "museum"); got.RatePerMinute != 600 || got.Burst != 20 {
			t.Errorf("GET after PATCH: got rate %v burst %d, want 600 and 20", got.RatePerMinute, got.Burst)
		}

		steps := []struct {
			roomState  string
			wantState  string
			wantPaused bool
			// wantJoin is the status a new visitor's join gets afterwards.
			wantJoin int
		}{
			{roomState: "closed", wantState: "closed", wantJoin: http.StatusConflict},
			{roomState: "open", wantState: "open", wantJoin: http.StatusCreated},
			{roomState: "paused", wantState: "paused", wantPaused: true, wantJoin: http.StatusCreated},
			{roomState: "open", wantState: "open", wantJoin: http.StatusCreated},
		}
		for _, step := range steps {
			res := ts.admin(t, http.MethodPatch, "/rooms/museum", map[string]any{"room_state": step.roomState})
			if res.status != http.StatusOK {
				t.Fatalf("PATCH room_state %s: got status %d, want 200:\n%s", step.roomState, res.status, res.body)
			}
			got := ts.adminGetRoom(t, "museum")
			if got.RoomState != step.wantState || got.Paused != step.wantPaused {
				t.Errorf("after room_state %s: got room_state %q paused %v, want %q paused %v",
					step.roomState, got.RoomState, got.Paused, step.wantState, step.wantPaused)
			}
			if _, res := ts.join(t, nil, "museum", ""); res.status != step.wantJoin {
				t.Errorf("join after room_state %s: got status %d, want %d:\n%s", step.roomState, res.status, step.wantJoin, res.body)
			}
		}

		res = ts.admin(t, http.MethodPatch, "/rooms/nowhere", map[string]any{"burst": 5})
		if res.status != http.StatusNotFound || res.errorCode() != "room_not_found" {
			t.Errorf("PATCH unknown room: got status %d code %q, want 404 room_not_found", res.status, res.errorCode())
		}
	})
}

// TestAdminOpenKeepsPastOpeningTime checks that room_state open opens a
// scheduled room now but keeps the opening time of a room that opened
// before, even when it was paused in between.
func TestAdminOpenKeepsPastOpeningTime(t *testing.T) {
	forEachStore(t, func(t *testing.T, st openedStore) {
		opened := time.Now().Add(-time.Hour).Truncate(time.Second).UTC()
		seedRoom(t, st.store, waitroom.Settings{ID: "museum", Title: "Museum", OpensAt: opened})
		seedRoom(t, st.store, waitroom.Settings{ID: "hall", Title: "Hall", OpensAt: time.Now().Add(time.Hour)})
		ts := startServer(t, st.store, serverOptions{noLoop: true})

		for _, state := range []string{"paused", "open", "open"} {
			if res := ts.admin(t, http.MethodPatch, "/rooms/museum", map[string]any{"room_state": state}); res.status != http.StatusOK {
				t.Fatalf("PATCH museum room_state %s: got status %d, want 200:\n%s", state, res.status, res.body)
			}
		}
		if got := ts.adminGetRoom(t, "museum"); got.OpensAt == nil || *got.OpensAt != opened.Format(time.RFC3339Nano) || got.RoomState != "open" {
			t.Errorf("museum after pausing and opening: got opens_at %v room_state %q, want %s and open", got.OpensAt, got.RoomState, opened.Format(time.RFC3339Nano))
		}

		before := time.Now()
		if res := ts.admin(t, http.MethodPatch, "/rooms/hall", map[string]any{"room_state": "open"}); res.status != http.StatusOK {
			t.Fatalf("PATCH hall room_state open: got status %d, want 200:\n%s", res.status, res.body)
		}
		got := ts.adminGetRoom(t, "hall")
		if got.RoomState != "open" || got.OpensAt == nil {
			t.Fatalf("hall after opening: got room_state %q opens_at %v, want open with an opening time", got.RoomState, got.OpensAt)
		}
		at, err := time.Parse(time.RFC3339Nano, *got.OpensAt)
		if err != nil || at.Before(before.Add(-time.Second)) || at.After(time.Now()) {
			t.Errorf("hall after opening: got opens_at %s (err %v), want the time of the PATCH, %s", *got.OpensAt, err, before.Format(time.RFC3339))
		}
	})
}

func TestAdminPatchRejectsInvalid(t *testing.T) {
	forEachStore(t, func(t *testing.T, st openedStore) {
		seedRoom(t, st.store, waitroom.Settings{ID: "museum", Event: "expo", RatePerMinute: 90, Burst: 3})
		ts := startServer(t, st.store, serverOptions{noLoop: true})
		before := ts.adminGetRoom(t, "museum")

		cases := []struct {
			name     string
			body     string
			wantCode string
			// wantText names the field and the value.
			wantText []string
		}{
			{name: "burst zero", body: `{"burst": 0}`, wantCode: "invalid_settings", wantText: []string{"burst", "0"}},
			{name: "burst zero with a valid rate", body: `{"rate_per_minute": 500, "burst": 0}`, wantCode: "invalid_settings", wantText: []string{"burst", "0"}},
			{name: "negative rate", body: `{"rate_per_minute": -5}`, wantCode: "invalid_settings", wantText: []string{"rate_per_minute", "-5"}},
			{name: "unknown mode", body: `{"mode": "turbo"}`, wantCode: "invalid_settings", wantText: []string{"mode", `"turbo"`}},
			{name: "unknown room state", body: `{"room_state": "turbo"}`, wantCode: "invalid_room_state", wantText: []string{"room_state", `"turbo"`}},
			{name: "unknown field", body: `{"speed": 5}`, wantCode: "invalid_json", wantText: []string{`"speed"`}},
			{name: "wrong type", body: `{"burst": "many"}`, wantCode: "invalid_json", wantText: []string{"burst"}},
			{name: "bad opening time", body: `{"opens_at": "tomorrow"}`, wantCode: "invalid_opens_at", wantText: []string{"opens_at", `"tomorrow"`}},
			{name: "other id", body: `{"id": "gallery"}`, wantCode: "invalid_settings", wantText: []string{"id"}},
			{name: "not JSON", body: `burst=0`, wantCode: "invalid_json", wantText: []string{"not valid JSON"}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				req, err := http.NewRequest(http.MethodPatch, ts.URL+"/api/v1/admin/rooms/museum", strings.NewReader(tc.body))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+testAdminToken)
				res := send(t, nil, req)

				if res.status != http.StatusBadRequest {
					t.Errorf("got status %d, want 400:\n%s", res.status, res.body)
				}
				var body errorBody
				res.decode(t, &body)
				if body.Error.Code != tc.wantCode {
					t.Errorf("got code %q, want %q", body.Error.Code, tc.wantCode)
				}
				for _, want := range tc.wantText {
					if !strings.Contains(body.Error.Message, want) {
						t.Errorf("got message %q, want it to name %s", body.Error.Message, want)
					}
				}
				if after := ts.adminGetRoom(t, "museum"); after != before {
					t.Errorf("room changed after a rejected PATCH:\ngot  %+v\nwant %+v", after, before)
				}
			})
		}
	})
}

func TestAdminCreateRoom(t *testing.T) {
	forEachStore(t, func(t *testing.T, st openedStore) {
		ts := startServer(t, st.store, serverOptions{noLoop: true})
		settings := map[string]any{"id": "gallery", "event": "art", "rate_per_minute": 30, "burst": 4}

		res := ts.admin(t, http.MethodPost, "/rooms", settings)
		if res.status != http.StatusCreated {
			t.Fatalf("create: got status %d, want 201:\n%s", res.status, res.body)
		}
		var created adminRoom
		res.decode(t, &created)
		if created.ID != "gallery" || created.Event != "art" || created.RatePerMinute != 30 || created.Burst != 4 || created.RoomState != "open" {
			t.Errorf("create: got %+v, want gallery for event art at 30 per minute, burst 4, open", created)
		}
		if created.MaxActive != waitroom.DefaultMaxActive || created.Mode != "fixed" {
			t.Errorf("create: got max_active %d mode %q, want the defaults %d and fixed", created.MaxActive, created.Mode, waitroom.DefaultMaxActive)
		}

		if joined := ts.mustJoin(t, "gallery"); joined.seq() != 1 {
			t.Errorf("join the new room: got sequence %d, want 1", joined.seq())
		}

		res = ts.admin(t, http.MethodPost, "/rooms", map[string]any{"id": "gallery", "rate_per_minute": 999})
		if res.status != http.StatusConflict || res.errorCode() != "room_exists" {
			t.Errorf("create again: got status %d code %q, want 409 room_exists", res.status, res.errorCode())
		}
		if got := ts.adminGetRoom(t, "gallery"); got.RatePerMinute != 30 || got.Waiting != 1 {
			t.Errorf("after creating again: got rate %v waiting %d, want 30 and 1", got.RatePerMinute, got.Waiting)
		}

		for _, tc := range []struct {
			name string
			body map[string]any
			want string
		}{
			{name: "no id", body: map[string]any{"event": "art"}, want: "id"},
			{name: "invalid id", body: map[string]any{"id": "Bad Room"}, want: `"Bad Room"`},
			{name: "invalid burst", body: map[string]any{"id": "hall", "burst": -1}, want: "burst -1"},
		} {
			res := ts.admin(t, http.MethodPost, "/rooms", tc.body)
			if res.status != http.StatusBadRequest || res.errorCode() != "invalid_settings" {
				t.Errorf("create with %s: got status %d code %q, want 400 invalid_settings", tc.name, res.status, res.errorCode())
			}
			var body errorBody
			res.decode(t, &body)
			if !strings.Contains(body.Error.Message, tc.want) {
				t.Errorf("create with %s: got message %q, want it to name %s", tc.name, body.Error.Message, tc.want)
			}
		}
		res = ts.admin(t, http.MethodGet, "/rooms/hall", nil)
		if res.status != http.StatusNotFound {
			t.Errorf("room of a rejected create: got status %d, want 404", res.status)
		}
	})
}

func TestAdminResetRoom(t *testing.T) {
	forEachStore(t, func(t *testing.T, st openedStore) {
		seedRoom(t, st.store, waitroom.Settings{ID: "museum", Event: "expo", Burst: 2, RatePerMinute: 33})
		ts := startServer(t, st.store, serverOptions{noLoop: true})
		var first visitorStatus
		for i := range 5 {
			joined := ts.mustJoin(t, "museum")
			if i == 0 {
				first = joined
			}
		}
		ts.tick(t, "museum")

		res := ts.admin(t, http.MethodPost, "/rooms/museum/reset", nil)
		if res.status != http.StatusOK {
			t.Fatalf("reset: got status %d, want 200:\n%s", res.status, res.body)
		}

		got := ts.adminGetRoom(t, "museum")
		if got.Waiting != 0 || got.Admitted != 0 || got.Active != 0 || got.Tail != 0 || got.Head != 0 {
			t.Errorf("after reset: got waiting %d admitted %d active %d head %d tail %d, want all 0",
				got.Waiting, got.Admitted, got.Active, got.Head, got.Tail)
		}
		if got.RatePerMinute != 33 || got.Burst != 2 {
			t.Errorf("after reset: got rate %v burst %d, want the settings kept, 33 and 2", got.RatePerMinute, got.Burst)
		}
		if log := ts.admissionLog(t, "museum", 100); len(log) != 0 {
			t.Errorf("after reset: got %d admission log entries, want 0", len(log))
		}

		if _, res := ts.status(t, "museum", first.Ticket); res.status != http.StatusNotFound || res.errorCode() != "not_in_line" {
			t.Errorf("status of a visitor from before the reset: got status %d code %q, want 404 not_in_line", res.status, res.errorCode())
		}
		if joined := ts.mustJoin(t, "museum"); joined.seq() != 1 {
			t.Errorf("first join after reset: got sequence %d, want 1", joined.seq())
		}

		res = ts.admin(t, http.MethodPost, "/rooms/nowhere/reset", nil)
		if res.status != http.StatusNotFound || res.errorCode() != "room_not_found" {
			t.Errorf("reset unknown room: got status %d code %q, want 404 room_not_found", res.status, res.errorCode())
		}
	})
}

func TestAdminAdmissionsPaging(t *testing.T) {
	forEachStore(t, func(t *testing.T, st openedStore) {
		seedRoom(t, st.store, waitroom.Settings{ID: "museum", Event: "expo", Burst: 100, MaxActive: 100})
		ts := startServer(t, st.store, serverOptions{noLoop: true})

		const visitors = 25
		joined := make([]string, 0, visitors)
		for range visitors {
			joined = append(joined, ts.mustJoin(t, "museum").Visitor)
		}
		// The bucket starts full, with burst tokens, so one step admits
		// everyone.
		if got := len(ts.tick(t, "museum").Admitted); got != visitors {
			t.Fatalf("admission step: got %d admitted, want %d", got, visitors)
		}

		for _, limit := range []int{1, 7, 25, 1000} {
			log := ts.admissionLog(t, "museum", limit)
			if len(log) != visitors {
				t.Fatalf("limit %d: got %d entries, want %d", limit, len(log), visitors)
			}
			for i, entry := range log {
				if entry.Visitor != joined[i] {
					t.Errorf("limit %d: entry %d: got visitor %s, want %s, the %d. to join", limit, i, entry.Visitor, joined[i], i+1)
				}
				if want := int64(i + 1); entry.Sequence != want {
					t.Errorf("limit %d: entry %d: got sequence %d, want %d", limit, i, entry.Sequence, want)
				}
				if entry.AdmittedAt == "" {
					t.Errorf("limit %d: entry %d has no admitted_at", limit, i)
				}
			}
		}

		for _, query := range []string{"limit=0", "limit=10001", "after=-1", "limit=ten"} {
			res := ts.admin(t, http.MethodGet, "/rooms/museum/admissions?"+query, nil)
			if res.status != http.StatusBadRequest || res.errorCode() != "invalid_query" {
				t.Errorf("%s: got status %d code %q, want 400 invalid_query", query, res.status, res.errorCode())
			}
		}
		res := ts.admin(t, http.MethodGet, "/rooms/nowhere/admissions", nil)
		if res.status != http.StatusNotFound {
			t.Errorf("unknown room: got status %d, want 404", res.status)
		}
	})
}
