package web_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"foyer/waitroom"
	"foyer/waitroom/memstore"
)

func TestJoinPageKeepsOnePlace(t *testing.T) {
	store := memstore.New(nil)
	seedRoom(t, store, waitroom.Settings{ID: "museum", Event: "expo", RatePerMinute: 1, Burst: 1})
	ts := startServer(t, store, serverOptions{noLoop: true})
	client := browserClient(t)

	for i := range 3 {
		res, err := client.Get(ts.URL + "/r/museum")
		if err != nil {
			t.Fatalf("join %d: %v", i, err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("join %d: got status %d, want 303", i, res.StatusCode)
		}
		if got := res.Header.Get("Location"); got != "/r/museum/wait?joined=1" {
			t.Fatalf("join %d: got Location %q, want the waiting page", i, got)
		}
	}

	snap, err := store.Snapshot(context.Background(), "museum")
	if err != nil {
		t.Fatal(err)
	}
	if snap.Waiting != 1 {
		t.Fatalf("got %d waiting after three joins from one browser, want 1", snap.Waiting)
	}

	res, err := client.Get(ts.URL + "/r/museum/wait")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("wait page: got status %d, want 200:\n%s", res.StatusCode, body)
	}
	if !strings.Contains(string(body), `id="position">1<`) {
		t.Fatalf("wait page does not show position 1:\n%s", body)
	}
}

func TestStatusAPIAfterJoin(t *testing.T) {
	store := memstore.New(nil)
	seedRoom(t, store, waitroom.Settings{ID: "museum", Event: "expo", RatePerMinute: 60, Burst: 1})
	ts := startServer(t, store, serverOptions{noLoop: true})
	client := browserClient(t)

	res, err := client.Post(ts.URL+"/api/v1/rooms/museum/join", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	var joined map[string]any
	if err := json.NewDecoder(res.Body).Decode(&joined); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("join: got status %d, want 201: %v", res.StatusCode, joined)
	}
	if joined["state"] != "waiting" || joined["position"] != float64(1) {
		t.Fatalf("join: got %v, want state waiting at position 1", joined)
	}

	if _, err := ts.Edge.Tick(context.Background(), "museum"); err != nil {
		t.Fatal(err)
	}

	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/api/v1/rooms/museum/status", nil)
	req.Header.Set("Authorization", "Bearer "+joined["ticket"].(string))
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var status map[string]any
	if err := json.NewDecoder(res.Body).Decode(&status); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if status["state"] != "admitted" {
		t.Fatalf("status after a tick: got %v, want admitted", status)
	}
	if status["admission_token"] == nil || status["booking_url"] != "/e/expo" {
		t.Fatalf("status: got %v, want an admission token and booking_url /e/expo", status)
	}
}

func TestJoinPrefetchCreatesNoPlace(t *testing.T) {
	forEachStore(t, func(t *testing.T, st openedStore) {
		seedRoom(t, st.store, waitroom.Settings{ID: "museum", Event: "expo"})
		ts := startServer(t, st.store, serverOptions{noLoop: true})

		cases := []struct {
			name   string
			method string
			header string
			value  string
		}{
			{name: "HEAD", method: http.MethodHead},
			{name: "Sec-Purpose prefetch", method: http.MethodGet, header: "Sec-Purpose", value: "prefetch"},
			{name: "Sec-Purpose prerender", method: http.MethodGet, header: "Sec-Purpose", value: "prefetch;prerender"},
			{name: "Purpose prefetch", method: http.MethodGet, header: "Purpose", value: "prefetch"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				req := newRequest(t, tc.method, ts.URL+"/r/museum", nil)
				if tc.header != "" {
					req.Header.Set(tc.header, tc.value)
				}
				res := send(t, browserClient(t), req)

				if res.status != http.StatusNoContent {
					t.Errorf("got status %d, want 204", res.status)
				}
				if got := res.cookie("foyer_q_museum"); got != "" {
					t.Errorf("got a ticket cookie %q, want none", got)
				}
				if got := waiting(t, st.store, "museum"); got != 0 {
					t.Errorf("got %d waiting, want 0", got)
				}
			})
		}

		t.Run("HEAD of an unknown room", func(t *testing.T) {
			res := send(t, browserClient(t), newRequest(t, http.MethodHead, ts.URL+"/r/nowhere", nil))
			if res.status != http.StatusNotFound {
				t.Errorf("got status %d, want 404", res.status)
			}
		})
	})
}

func TestJoinAPIRepeatKeepsOnePlace(t *testing.T) {
	forEachStore(t, func(t *testing.T, st openedStore) {
		seedRoom(t, st.store, waitroom.Settings{ID: "museum", Event: "expo", Paused: true})
		ts := startServer(t, st.store, serverOptions{noLoop: true})
		client := browserClient(t)

		first, res := ts.join(t, client, "museum", "")
		if res.status != http.StatusCreated {
			t.Fatalf("first join: got status %d, want 201:\n%s", res.status, res.body)
		}
		if first.seq() != 1 {
			t.Fatalf("first join: got sequence %d, want 1", first.seq())
		}

		again, res := ts.join(t, client, "museum", "")
		if res.status != http.StatusOK {
			t.Fatalf("join with the cookie: got status %d, want 200:\n%s", res.status, res.body)
		}
		if again.Visitor != first.Visitor || again.seq() != first.seq() {
			t.Errorf("join with the cookie: got visitor %s sequence %d, want %s sequence %d", again.Visitor, again.seq(), first.Visitor, first.seq())
		}

		bearer, res := ts.join(t, nil, "museum", first.Ticket)
		if res.status != http.StatusOK {
			t.Fatalf("join with the bearer ticket: got status %d, want 200:\n%s", res.status, res.body)
		}
		if bearer.Visitor != first.Visitor || bearer.seq() != first.seq() {
			t.Errorf("join with the bearer ticket: got visitor %s sequence %d, want %s sequence %d", bearer.Visitor, bearer.seq(), first.Visitor, first.seq())
		}

		// Several tabs of one browser join at the same moment. Their
		// transport is closed at the end, so that no connection it dialed
		// and never used holds up the server's shutdown.
		const tabs = 8
		tabClient := &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}
		defer tabClient.CloseIdleConnections()
		results := make(chan string, tabs)
		var wg sync.WaitGroup
		for range tabs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results <- joinOnce(tabClient, ts.URL+"/api/v1/rooms/museum/join", first.Ticket)
			}()
		}
		wg.Wait()
		close(results)
		for got := range results {
			if want := "200 " + first.Visitor; got != want {
				t.Errorf("concurrent join: got %q, want %q", got, want)
			}
		}

		res = ts.get(t, client, "/r/museum")
		if res.status != http.StatusSeeOther {
			t.Fatalf("join page with the cookie: got status %d, want 303", res.status)
		}
		res = ts.get(t, client, "/r/museum/wait")
		if !strings.Contains(string(res.body), `id="position">1<`) {
			t.Errorf("wait page: got no position 1, want the first place:\n%s", res.body)
		}

		if got := waiting(t, st.store, "museum"); got != 1 {
			t.Errorf("got %d waiting after repeated joins of one visitor, want 1", got)
		}
	})
}

// joinOnce joins through the API with ticket as a bearer token and returns
// the status code and the visitor id, or the error.
func joinOnce(client *http.Client, url, ticket string) string {
	req, err := http.NewRequest(http.MethodPost, url, nil)
	if err != nil {
		return err.Error()
	}
	req.Header.Set("Authorization", "Bearer "+ticket)
	res, err := client.Do(req)
	if err != nil {
		return err.Error()
	}
	defer res.Body.Close()
	var body visitorStatus
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		return err.Error()
	}
	return strconv.Itoa(res.StatusCode) + " " + body.Visitor
}

func TestJoinIgnoresForeignTickets(t *testing.T) {
	forEachStore(t, func(t *testing.T, st openedStore) {
		seedRoom(t, st.store, waitroom.Settings{ID: "museum", Event: "expo", Paused: true})
		seedRoom(t, st.store, waitroom.Settings{ID: "gallery", Event: "art", Paused: true})
		ts := startServer(t, st.store, serverOptions{noLoop: true})

		victim := ts.mustJoin(t, "museum")
		attacker := ts.mustJoin(t, "museum")
		elsewhere := ts.mustJoin(t, "gallery")
		others := map[string]bool{victim.Visitor: true, attacker.Visitor: true, elsewhere.Visitor: true}

		cases := []struct {
			name     string
			ticket   string
			wantCode string
		}{
			{
				name:     "tampered",
				ticket:   swapTicketVisitor(t, attacker.Ticket, attacker.Visitor, victim.Visitor),
				wantCode: "ticket_invalid",
			},
			{
				name: "expired",
				ticket: ts.Edge.Tickets().Encode(waitroom.Ticket{
					Room: "museum", Visitor: victim.Visitor, Sequence: victim.seq(), IssuedAt: time.Now().Add(-25 * time.Hour),
				}),
				wantCode: "ticket_expired",
			},
			{name: "other room", ticket: elsewhere.Ticket, wantCode: "ticket_wrong_room"},
			{name: "garbage", ticket: "not-a-ticket", wantCode: "ticket_invalid"},
			{name: "oversized", ticket: strings.Repeat("a", waitroom.MaxTicketLength+1), wantCode: "ticket_invalid"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := waiting(t, st.store, "museum")

				req := newRequest(t, http.MethodPost, ts.URL+"/api/v1/rooms/museum/join", nil)
				req.AddCookie(&http.Cookie{Name: "foyer_q_museum", Value: tc.ticket})
				res := send(t, nil, req)
				if res.status != http.StatusCreated {
					t.Fatalf("API join: got status %d, want 201 for a new place:\n%s", res.status, res.body)
				}
				var joined visitorStatus
				res.decode(t, &joined)
				if others[joined.Visitor] {
					t.Errorf("API join: got visitor %s, someone else's id; want a new one", joined.Visitor)
				}
				if joined.seq() <= attacker.seq() {
					t.Errorf("API join: got sequence %d, want a new one after %d", joined.seq(), attacker.seq())
				}

				req = newRequest(t, http.MethodGet, ts.URL+"/r/museum", nil)
				req.AddCookie(&http.Cookie{Name: "foyer_q_museum", Value: tc.ticket})
				res = send(t, nil, req)
				if res.status != http.StatusSeeOther {
					t.Fatalf("join page: got status %d, want 303", res.status)
				}
				issued, err := ts.Edge.Tickets().Decode(res.cookie("foyer_q_museum"), "museum", time.Now())
				if err != nil {
					t.Fatalf("join page: the ticket cookie it set does not decode: %v", err)
				}
				if others[issued.Visitor] || issued.Visitor == joined.Visitor {
					t.Errorf("join page: got visitor %s, someone else's id; want a new one", issued.Visitor)
				}

				if got, want := waiting(t, st.store, "museum"), before+2; got != want {
					t.Errorf("got %d waiting, want %d: each join with a foreign ticket adds a new place", got, want)
				}

				_, res = ts.status(t, "museum", tc.ticket)
				if res.status != http.StatusUnauthorized && res.status != http.StatusForbidden {
					t.Errorf("status: got status %d, want 401 or 403:\n%s", res.status, res.body)
				}
				if got := res.errorCode(); got != tc.wantCode {
					t.Errorf("status: got code %q, want %q", got, tc.wantCode)
				}
				if strings.Contains(string(res.body), victim.Visitor) {
					t.Errorf("status: the body names the victim's visitor id:\n%s", res.body)
				}
			})
		}

		own, _ := ts.status(t, "museum", victim.Ticket)
		if own.Visitor != victim.Visitor || own.seq() != victim.seq() || own.Position == nil || *own.Position != 1 {
			t.Errorf("victim's status: got visitor %s sequence %d position %v, want %s sequence %d position 1",
				own.Visitor, own.seq(), own.Position, victim.Visitor, victim.seq())
		}
	})
}

// swapTicketVisitor returns ticket with visitor from replaced by to in its
// payload, keeping the original signature, as a user editing a cookie would.
func swapTicketVisitor(t *testing.T, ticket, from, to string) string {
	t.Helper()
	parts := strings.Split(ticket, ".")
	if len(parts) != 3 {
		t.Fatalf("ticket %q has %d dot-separated parts, want 3", ticket, len(parts))
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("ticket payload is not base64url: %v", err)
	}
	edited := strings.Replace(string(payload), from, to, 1)
	if edited == string(payload) {
		t.Fatalf("ticket payload %q does not contain visitor %s", payload, from)
	}
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(edited))
	return strings.Join(parts, ".")
}

func TestWaitPageWithoutCookie(t *testing.T) {
	store := memstore.New(nil)
	seedRoom(t, store, waitroom.Settings{ID: "museum", Event: "expo"})
	ts := startServer(t, store, serverOptions{noLoop: true})

	res := ts.get(t, nil, "/r/museum")
	if res.status != http.StatusSeeOther {
		t.Fatalf("join page: got status %d, want 303", res.status)
	}
	next := res.header.Get("Location")
	if next != "/r/museum/wait?joined=1" {
		t.Fatalf("join page: got Location %q, want /r/museum/wait?joined=1", next)
	}

	res = ts.get(t, nil, next)
	if res.status != http.StatusBadRequest {
		t.Errorf("wait page after joining without cookies: got status %d, want 400", res.status)
	}
	if !res.isHTML() {
		t.Errorf("wait page after joining without cookies: got Content-Type %q, want HTML", res.header.Get("Content-Type"))
	}
	if !strings.Contains(string(res.body), "Cookies are needed") {
		t.Errorf("wait page after joining without cookies: got no \"Cookies are needed\" heading:\n%s", res.body)
	}
	if !strings.Contains(string(res.body), `href="/r/museum"`) {
		t.Errorf("wait page after joining without cookies: got no link back to /r/museum:\n%s", res.body)
	}

	res = ts.get(t, nil, "/r/museum/wait")
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/r/museum" {
		t.Errorf("wait page opened directly without a cookie: got status %d Location %q, want 303 to /r/museum", res.status, res.header.Get("Location"))
	}
}

func TestJoinAPIContractFields(t *testing.T) {
	forEachStore(t, func(t *testing.T, st openedStore) {
		seedRoom(t, st.store, waitroom.Settings{ID: "museum", Event: "expo", RatePerMinute: 60})
		ts := startServer(t, st.store, serverOptions{noLoop: true})
		ts.mustJoin(t, "museum")
		client := browserClient(t)

		res := send(t, client, newRequest(t, http.MethodPost, ts.URL+"/api/v1/rooms/museum/join", nil))

		if res.status != http.StatusCreated {
			t.Fatalf("join: got status %d, want 201:\n%s", res.status, res.body)
		}
		if !res.isJSON() {
			t.Errorf("join: got Content-Type %q, want JSON", res.header.Get("Content-Type"))
		}
		if got := res.header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("join: got Cache-Control %q, want no-store", got)
		}
		var fields map[string]any
		res.decode(t, &fields)
		for _, key := range []string{"visitor", "sequence", "ticket", "state", "room_state", "position", "ahead", "eta_seconds", "refresh_seconds"} {
			if _, ok := fields[key]; !ok {
				t.Errorf("join: body has no %q field:\n%s", key, res.body)
			}
		}

		var joined visitorStatus
		res.decode(t, &joined)
		if joined.State != "waiting" || joined.RoomState != "open" {
			t.Errorf("join: got state %q room_state %q, want waiting and open", joined.State, joined.RoomState)
		}
		if joined.seq() != 2 || joined.Ahead == nil || *joined.Ahead != 1 || joined.Position == nil || *joined.Position != 2 {
			t.Errorf("join: got sequence %d ahead %v position %v, want 2, 1 and 2", joined.seq(), joined.Ahead, joined.Position)
		}
		if joined.ETASeconds == nil {
			t.Errorf("join: got eta_seconds null, want an estimate in an open room")
		}
		if joined.RefreshSeconds < 1 {
			t.Errorf("join: got refresh_seconds %d, want at least 1", joined.RefreshSeconds)
		}
		if got, want := res.header.Get("Retry-After"), strconv.Itoa(joined.RefreshSeconds); got != want {
			t.Errorf("join: got Retry-After %q, want refresh_seconds %s", got, want)
		}
		if got := res.cookie("foyer_q_museum"); got != joined.Ticket {
			t.Errorf("join: got ticket cookie %q, want the body's ticket %q", got, joined.Ticket)
		}

		// The browser polls with the cookie alone.
		res = send(t, client, newRequest(t, http.MethodGet, ts.URL+"/api/v1/rooms/museum/status", nil))
		if res.status != http.StatusOK {
			t.Fatalf("status with the cookie: got status %d, want 200:\n%s", res.status, res.body)
		}
		var status visitorStatus
		res.decode(t, &status)
		if status.Visitor != joined.Visitor || status.seq() != 2 || status.Position == nil || *status.Position != 2 {
			t.Errorf("status with the cookie: got visitor %s sequence %d position %v, want %s, 2 and 2", status.Visitor, status.seq(), status.Position, joined.Visitor)
		}
		if got, want := res.header.Get("Retry-After"), strconv.Itoa(status.RefreshSeconds); got != want {
			t.Errorf("status: got Retry-After %q, want refresh_seconds %s", got, want)
		}
	})
}

// TestOpeningTimeInEventZone checks that the waiting page and the
// organizer's dashboard show a scheduled room's opening time in the zone
// of the event it guards, where visitors book, and in UTC without one.
func TestOpeningTimeInEventZone(t *testing.T) {
	forEachStore(t, func(t *testing.T, st openedStore) {
		opens := time.Date(2031, 1, 15, 8, 30, 0, 0, time.UTC)
		seedRoom(t, st.store, waitroom.Settings{ID: "museum", Title: "Museum", Event: "expo", OpensAt: opens})
		seedRoom(t, st.store, waitroom.Settings{ID: "hall", Title: "Hall", OpensAt: opens})
		event, slots := testEvent(t, "expo", "museum", 10)
		createEvent(t, st.booking, event, slots)
		ts := startServer(t, st.store, serverOptions{noLoop: true, booking: st.booking})
		admin := ts.signIn(t)

		cases := []struct {
			room, wait, dashboard string
		}{
			{room: "museum", wait: "09:30 CET, 15 Jan 2031", dashboard: "2031-01-15 09:30:00 CET"},
			{room: "hall", wait: "08:30 UTC, 15 Jan 2031", dashboard: "2031-01-15 08:30:00 UTC"},
		}
		for _, tc := range cases {
			client := browserClient(t)
			joined, res := ts.join(t, client, tc.room, "")
			if res.status != http.StatusCreated {
				t.Fatalf("%s: join before opening: got status %d, want 201:\n%s", tc.room, res.status, res.body)
			}
			if want := opens.Format(time.RFC3339); joined.OpensAt != want {
				t.Errorf("%s: join: got opens_at %q, want %q", tc.room, joined.OpensAt, want)
			}
			page := ts.get(t, client, "/r/"+tc.room+"/wait")
			if want := `>` + tc.wait + `</time>`; !strings.Contains(string(page.body), want) {
				t.Errorf("%s: wait page: got\n%s\nwant the opening time %q", tc.room, page.body, tc.wait)
			}
			// The visitor counts in the early line even before the edge's
			// snapshot shows the join.
			if strings.Contains(string(page.body), `id="prequeue">0<`) {
				t.Errorf("%s: wait page counts 0 in the early line, the visitor included:\n%s", tc.room, page.body)
			}
			dashboard := ts.get(t, admin.client, "/admin/rooms/"+tc.room)
			if want := `id="opens-at">` + tc.dashboard + `<`; !strings.Contains(string(dashboard.body), want) {
				t.Errorf("%s: dashboard: got\n%s\nwant the opening time %q", tc.room, dashboard.body, tc.dashboard)
			}
		}
	})
}

// TestProxyHeaderOnlyFromTrustedProxies joins from this test's address,
// 127.0.0.1, with the proxy header naming two clients, under a join limit
// of one a minute per address. The header counts only when 127.0.0.1 is
// among the trusted proxies or none are listed.
func TestProxyHeaderOnlyFromTrustedProxies(t *testing.T) {
	cases := []struct {
		name    string
		trusted []string
		// second is the status of the join that names the second client.
		second int
	}{
		{name: "from a trusted proxy", trusted: []string{"10.0.0.0/8", "127.0.0.1"}, second: http.StatusCreated},
		{name: "from an address that is no proxy", trusted: []string{"10.0.0.0/8"}, second: http.StatusTooManyRequests},
		{name: "with no proxies listed", second: http.StatusCreated},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			store := memstore.New(nil)
			seedRoom(t, store, waitroom.Settings{ID: "museum", Title: "Museum"})
			ts := startServer(t, store, serverOptions{noLoop: true, proxyHeader: "X-Real-IP", trustedProxies: tc.trusted, joinsPerMinute: 1})
			join := func(client string) int {
				req := newRequest(t, http.MethodPost, ts.URL+"/api/v1/rooms/museum/join", nil)
				req.Header.Set("X-Real-IP", client)
				return send(t, nil, req).status
			}

			if got := join("192.0.2.1"); got != http.StatusCreated {
				t.Fatalf("first client: got status %d, want 201", got)
			}
			if got := join("198.51.100.7"); got != tc.second {
				t.Errorf("second client: got status %d, want %d", got, tc.second)
			}
			if got := join("192.0.2.1"); got != http.StatusTooManyRequests {
				t.Errorf("first client again: got status %d, want 429 from the limit of one a minute", got)
			}
		})
	}
}

func TestPrequeueTicketReissuedAtOpening(t *testing.T) {
	forEachStore(t, func(t *testing.T, st openedStore) {
		seedRoom(t, st.store, waitroom.Settings{ID: "museum", Event: "expo", OpensAt: time.Now().Add(time.Hour)})
		ts := startServer(t, st.store, serverOptions{noLoop: true})
		client := browserClient(t)

		joined, res := ts.join(t, client, "museum", "")
		if res.status != http.StatusCreated {
			t.Fatalf("join before opening: got status %d, want 201:\n%s", res.status, res.body)
		}
		if joined.State != "prequeue" || joined.RoomState != "scheduled" || joined.Sequence != nil {
			t.Errorf("join before opening: got state %q room_state %q sequence %v, want prequeue, scheduled and null", joined.State, joined.RoomState, joined.Sequence)
		}
		page := ts.get(t, client, "/r/museum/wait")
		if page.status != http.StatusOK || !strings.Contains(string(page.body), `id="prequeue"`) {
			t.Errorf("wait page before opening: got status %d, want 200 with the pre-queue count:\n%s", page.status, page.body)
		}

		if res := ts.admin(t, http.MethodPatch, "/rooms/museum", map[string]any{"room_state": "open"}); res.status != http.StatusOK {
			t.Fatalf("PATCH room_state open: got status %d, want 200:\n%s", res.status, res.body)
		}

		res = send(t, client, newRequest(t, http.MethodGet, ts.URL+"/api/v1/rooms/museum/status", nil))
		if res.status != http.StatusOK {
			t.Fatalf("status after opening: got status %d, want 200:\n%s", res.status, res.body)
		}
		var status visitorStatus
		res.decode(t, &status)
		if status.Visitor != joined.Visitor || status.State != "waiting" || status.seq() != 1 {
			t.Errorf("status after opening: got visitor %s state %q sequence %d, want %s waiting with sequence 1", status.Visitor, status.State, status.seq(), joined.Visitor)
		}
		if status.Ticket == joined.Ticket {
			t.Errorf("status after opening: got the pre-queue ticket back, want one with the sequence")
		}
		cookie := res.cookie("foyer_q_museum")
		if cookie != status.Ticket {
			t.Errorf("status after opening: got ticket cookie %q, want the body's ticket %q", cookie, status.Ticket)
		}
		reissued, err := ts.Edge.Tickets().Decode(cookie, "museum", time.Now())
		if err != nil {
			t.Fatalf("reissued ticket does not decode: %v", err)
		}
		if reissued.Visitor != joined.Visitor || reissued.Sequence != 1 {
			t.Errorf("reissued ticket: got visitor %s sequence %d, want %s and 1", reissued.Visitor, reissued.Sequence, joined.Visitor)
		}

		again, res := ts.status(t, "museum", cookie)
		if again.seq() != 1 || res.cookie("foyer_q_museum") != "" {
			t.Errorf("status with the reissued ticket: got sequence %d and cookie %q, want 1 and no new cookie", again.seq(), res.cookie("foyer_q_museum"))
		}
		if got := waiting(t, st.store, "museum"); got != 1 {
			t.Errorf("got %d waiting after opening, want 1", got)
		}
	})
}

// placesFields are the places outlook of a status body.
type placesFields struct {
	Remaining *int64 `json:"places_remaining"`
	Ahead     *int64 `json:"places_ahead"`
	Low       bool   `json:"places_low"`
	Short     bool   `json:"places_short"`
}

// statusPlaces polls the status API for visitor v and returns the places
// fields of the body. It fails the test when a field is missing.
func statusPlaces(t *testing.T, ts *testServer, room string, v visitorStatus) placesFields {
	t.Helper()
	_, res := ts.status(t, room, v.Ticket)
	if res.status != http.StatusOK {
		t.Fatalf("status of visitor %d in %s: got status %d, want 200:\n%s", v.seq(), room, res.status, res.body)
	}
	var fields map[string]any
	res.decode(t, &fields)
	for _, key := range []string{"places_remaining", "places_ahead", "places_low", "places_short"} {
		if _, ok := fields[key]; !ok {
			t.Errorf("status of visitor %d in %s: body has no %q field:\n%s", v.seq(), room, key, res.body)
		}
	}
	var places placesFields
	res.decode(t, &places)
	return places
}

// formatPlaces shows p with its null fields, for failure messages.
func formatPlaces(p placesFields) string {
	show := func(n *int64) string {
		if n == nil {
			return "null"
		}
		return strconv.FormatInt(*n, 10)
	}
	return "remaining " + show(p.Remaining) + ", ahead " + show(p.Ahead) + ", low " + strconv.FormatBool(p.Low) + ", short " + strconv.FormatBool(p.Short)
}

// TestStatusAPIPlacesOutlook runs one control period in two rooms, one
// with 6 free places and one with 1000, and checks the places fields that
// the waiting page's script reads.
func TestStatusAPIPlacesOutlook(t *testing.T) {
	forEachStore(t, func(t *testing.T, st openedStore) {
		for _, id := range []string{"museum", "hall"} {
			seedRoom(t, st.store, waitroom.Settings{ID: id, Burst: 1, Mode: waitroom.ModeAuto})
		}
		edge := waitroom.EdgeConfig{Controllers: map[string]waitroom.RoomController{
			"museum": {Signals: placesSignals{free: 6}},
			"hall":   {Signals: placesSignals{free: 1000}},
		}}
		ts := startServer(t, st.store, serverOptions{edge: edge, noLoop: true})
		museum := make([]visitorStatus, 5)
		for i := range museum {
			museum[i] = ts.mustJoin(t, "museum")
		}
		hall := []visitorStatus{ts.mustJoin(t, "hall"), ts.mustJoin(t, "hall")}

		// The controller has read no places yet.
		if got := statusPlaces(t, ts, "museum", museum[4]); got != (placesFields{}) {
			t.Errorf("before the first control period: got %s, want remaining and ahead null, low and short false", formatPlaces(got))
		}

		// Each step admits the first visitor, who counts as ahead while
		// booking, and reads the places: 6 serve 3 orders of 2 places.
		for _, room := range []string{"museum", "hall"} {
			if res := ts.tick(t, room); len(res.Admitted) != 1 {
				t.Fatalf("admission step of %s: got %d admitted, want 1", room, len(res.Admitted))
			}
		}

		tests := []struct {
			name       string
			room       string
			visitor    visitorStatus
			remaining  int64
			ahead      int64
			low, short bool
		}{
			{name: "second in line, 1 booking", room: "museum", visitor: museum[1], remaining: 6, ahead: 1, low: true, short: false},
			{name: "fifth in line, 4 before", room: "museum", visitor: museum[4], remaining: 6, ahead: 4, low: true, short: true},
			{name: "plenty of places", room: "hall", visitor: hall[1], remaining: 1000, ahead: 1, low: false, short: false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got := statusPlaces(t, ts, tt.room, tt.visitor)
				if got.Remaining == nil || *got.Remaining != tt.remaining {
					t.Errorf("places_remaining: got %s, want %d", formatPlaces(got), tt.remaining)
				}
				if got.Ahead == nil || *got.Ahead != tt.ahead {
					t.Errorf("places_ahead: got %s, want %d", formatPlaces(got), tt.ahead)
				}
				if got.Low != tt.low {
					t.Errorf("places_low: got %v, want %v", got.Low, tt.low)
				}
				if got.Short != tt.short {
					t.Errorf("places_short: got %v, want %v", got.Short, tt.short)
				}
			})
		}
	})
}

// TestWaitPageHidesPlacesLine checks the waiting page while places are
// plentiful. The places line is there, empty and hidden, so the script
// can fill and show it when places run low.
func TestWaitPageHidesPlacesLine(t *testing.T) {
	store := memstore.New(nil)
	seedRoom(t, store, waitroom.Settings{ID: "museum", Burst: 1, Mode: waitroom.ModeAuto})
	edge := waitroom.EdgeConfig{Controllers: map[string]waitroom.RoomController{
		"museum": {Signals: placesSignals{free: 1000}},
	}}
	ts := startServer(t, store, serverOptions{edge: edge, noLoop: true})
	ts.mustJoin(t, "museum")
	client := browserClient(t)
	if res := ts.get(t, client, "/r/museum"); res.status != http.StatusSeeOther {
		t.Fatalf("join page: got status %d, want 303", res.status)
	}
	ts.tick(t, "museum")

	res := ts.get(t, client, "/r/museum/wait")

	if res.status != http.StatusOK {
		t.Fatalf("waiting page: got status %d, want 200", res.status)
	}
	body := string(res.body)
	if want := `<p class="notice" id="places" hidden></p>`; !strings.Contains(body, want) {
		t.Errorf("waiting page: want it to contain %q:\n%s", want, body)
	}
	if strings.Contains(body, "remain") {
		t.Errorf("waiting page with 1000 places left: want no places estimate:\n%s", body)
	}
}
