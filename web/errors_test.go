package web_test

import (
	"net/http"
	"strings"
	"testing"

	"foyer/waitroom"
	"foyer/waitroom/memstore"
)

func TestErrorResponses(t *testing.T) {
	forEachStore(t, func(t *testing.T, st openedStore) {
		seedRoom(t, st.store, waitroom.Settings{ID: "museum", Event: "expo"})
		seedRoom(t, st.store, waitroom.Settings{ID: "shut", Closed: true})
		ts := startServer(t, st.store, serverOptions{noLoop: true})

		cases := []struct {
			name       string
			method     string
			path       string
			wantStatus int
			// wantCode is the JSON error code; an empty one means an HTML page.
			wantCode string
			// wantText is a fragment of the expected message.
			wantText string
		}{
			{
				name: "unknown room page", method: http.MethodGet, path: "/r/nowhere",
				wantStatus: http.StatusNotFound, wantText: "No waiting room has this id",
			},
			{
				name: "unknown room API", method: http.MethodPost, path: "/api/v1/rooms/nowhere/join",
				wantStatus: http.StatusNotFound, wantCode: "room_not_found", wantText: "No waiting room has this id",
			},
			{
				name: "malformed room id page", method: http.MethodGet, path: "/r/Bad_Room",
				wantStatus: http.StatusBadRequest, wantText: "The room id in the path is invalid",
			},
			{
				name: "malformed room id API", method: http.MethodPost, path: "/api/v1/rooms/Bad_Room/join",
				wantStatus: http.StatusBadRequest, wantCode: "invalid_room_id", wantText: "lowercase letters, digits and hyphens",
			},
			{
				name: "room id too long", method: http.MethodPost, path: "/api/v1/rooms/" + strings.Repeat("a", 64) + "/join",
				wantStatus: http.StatusBadRequest, wantCode: "invalid_room_id", wantText: "1 to 63",
			},
			{
				name: "wrong method", method: http.MethodDelete, path: "/api/v1/rooms/museum/join",
				wantStatus: http.StatusMethodNotAllowed, wantCode: "method_not_allowed", wantText: "does not accept that HTTP method",
			},
			{
				name: "unknown API path", method: http.MethodGet, path: "/api/v1/nothing",
				wantStatus: http.StatusNotFound, wantCode: "not_found", wantText: "No page or endpoint exists",
			},
			{
				name: "status without a ticket", method: http.MethodGet, path: "/api/v1/rooms/museum/status",
				wantStatus: http.StatusUnauthorized, wantCode: "ticket_missing", wantText: "Join first",
			},
			{
				name: "closed room API", method: http.MethodPost, path: "/api/v1/rooms/shut/join",
				wantStatus: http.StatusConflict, wantCode: "room_closed", wantText: "closed",
			},
			{
				name: "closed room page", method: http.MethodGet, path: "/r/shut",
				wantStatus: http.StatusConflict, wantText: "This waiting room is closed",
			},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				res := send(t, nil, newRequest(t, tc.method, ts.URL+tc.path, nil))

				if res.status != tc.wantStatus {
					t.Errorf("got status %d, want %d:\n%s", res.status, tc.wantStatus, res.body)
				}
				if got := res.header.Get("Cache-Control"); got != "no-store" {
					t.Errorf("got Cache-Control %q, want no-store", got)
				}
				if tc.wantCode == "" {
					if !res.isHTML() {
						t.Errorf("got Content-Type %q, want an HTML page", res.header.Get("Content-Type"))
					}
					if !strings.Contains(string(res.body), tc.wantText) {
						t.Errorf("page does not say %q:\n%s", tc.wantText, res.body)
					}
					return
				}

				if !res.isJSON() {
					t.Errorf("got Content-Type %q, want JSON", res.header.Get("Content-Type"))
				}
				var body errorBody
				res.decode(t, &body)
				if body.Error.Code != tc.wantCode {
					t.Errorf("got code %q, want %q", body.Error.Code, tc.wantCode)
				}
				if !strings.Contains(body.Error.Message, tc.wantText) {
					t.Errorf("got message %q, want it to contain %q", body.Error.Message, tc.wantText)
				}
			})
		}

		if got := waiting(t, st.store, "shut"); got != 0 {
			t.Errorf("got %d waiting in the closed room, want 0", got)
		}
	})
}

func TestMethodNotAllowedListsAllowed(t *testing.T) {
	store := memstore.New(nil)
	seedRoom(t, store, waitroom.Settings{ID: "museum"})
	ts := startServer(t, store, serverOptions{noLoop: true})

	res := send(t, nil, newRequest(t, http.MethodDelete, ts.URL+"/api/v1/rooms/museum/join", nil))

	if res.status != http.StatusMethodNotAllowed {
		t.Fatalf("got status %d, want 405", res.status)
	}
	if got := res.header.Get("Allow"); !strings.Contains(got, http.MethodPost) {
		t.Errorf("got Allow %q, want it to list POST", got)
	}
}

func TestOversizedHeaderRejected(t *testing.T) {
	store := memstore.New(nil)
	seedRoom(t, store, waitroom.Settings{ID: "museum"})
	ts := startServer(t, store, serverOptions{noLoop: true})

	// The server sends its 431 response as soon as its 8 KiB read buffer
	// is full, then closes the connection without reading the rest. A
	// client still writing at that moment gets a broken pipe instead of the
	// response, so this client writes the whole request at once.
	// NOTE: a client that writes a large request in small pieces can see a
	// reset instead of the 431 page.
	client := plainClient()
	client.Transport = &http.Transport{WriteBufferSize: 64 << 10}
	defer client.CloseIdleConnections()

	for _, path := range []string{"/r/museum", "/api/v1/rooms/museum/status"} {
		t.Run(path, func(t *testing.T) {
			req := newRequest(t, http.MethodGet, ts.URL+path, nil)
			// A browser sends every cookie of the site, and this one has
			// gathered 16 KiB of them, twice the server's read buffer.
			req.AddCookie(&http.Cookie{Name: "tracking", Value: strings.Repeat("x", 16<<10)})
			res := send(t, client, req)

			if res.status != http.StatusRequestHeaderFieldsTooLarge {
				t.Errorf("got status %d, want 431:\n%s", res.status, res.body)
			}
			if want := "The request headers are too large. Clear this site"; !strings.Contains(string(res.body), want) {
				t.Errorf("body does not say %q:\n%s", want, res.body)
			}
		})
	}

	if got := waiting(t, store, "museum"); got != 0 {
		t.Errorf("got %d waiting after rejected requests, want 0", got)
	}
}

func TestAdminNotFoundMessages(t *testing.T) {
	ts := startBooking(t, openMemoryStore(t), 10)

	cases := []struct {
		path, wantCode, wantText string
	}{
		{"/rooms/nowhere", "room_not_found", "GET /api/v1/admin/rooms"},
		{"/events/nowhere", "unknown_event", "POST /api/v1/admin/events"},
	}
	for _, tc := range cases {
		res := ts.admin(t, http.MethodGet, tc.path, nil)

		if res.status != http.StatusNotFound || res.errorCode() != tc.wantCode {
			t.Errorf("GET %s: got status %d code %q, want 404 %s", tc.path, res.status, res.errorCode(), tc.wantCode)
		}
		if !strings.Contains(string(res.body), tc.wantText) || strings.Contains(string(res.body), "link you followed") {
			t.Errorf("GET %s: got %s, want a message for organizers that names %s", tc.path, res.body, tc.wantText)
		}
	}
}
