package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"foyer/waitroom"
)

// reply is an HTTP response with its body read.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// errorCode returns the code of a JSON error body, or "" when the body is
// not one.
func (r reply) errorCode() string {
	var e errorBody
	if json.Unmarshal(r.body, &e) != nil {
		return ""
	}
	return e.Error.Code
}

// decode unmarshals the JSON body into v.
func (r reply) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode body of a %d response: %v\n%s", r.status, err, r.body)
	}
}

// cookie returns the value of the cookie name that the response sets, or "".
func (r reply) cookie(name string) string {
	res := http.Response{Header: r.header}
	for _, c := range res.Cookies() {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// errorBody is the JSON API's error body.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// visitorStatus is the body of the join and status endpoints.
type visitorStatus struct {
	Visitor        string `json:"visitor"`
	Sequence       *int64 `json:"sequence"`
	Ticket         string `json:"ticket"`
	State          string `json:"state"`
	RoomState      string `json:"room_state"`
	Position       *int64 `json:"position"`
	Ahead          *int64 `json:"ahead"`
	ETASeconds     *int64 `json:"eta_seconds"`
	OpensAt        string `json:"opens_at"`
	RefreshSeconds int    `json:"refresh_seconds"`
	Degraded       bool   `json:"degraded"`
	AdmissionToken string `json:"admission_token"`
	BookingURL     string `json:"booking_url"`
}

// seq returns the sequence number, or 0 when the body has none.
func (v visitorStatus) seq() int64 {
	if v.Sequence == nil {
		return 0
	}
	return *v.Sequence
}

// newRequest builds a request whose body, when not nil, is body as JSON.
func newRequest(t testing.TB, method, url string, body any) *http.Request {
	t.Helper()
	var reader io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			t.Fatalf("encode request body: %v", err)
		}
		reader = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, url, reader)
	if err != nil {
		t.Fatalf("build request %s %s: %v", method, url, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

// send sends req with client, which may be nil for a client without
// cookies, and reads the whole response.
func send(t testing.TB, client *http.Client, req *http.Request) reply {
	t.Helper()
	if client == nil {
		client = plainClient()
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", req.Method, req.URL.Path, err)
	}
	return reply{status: res.StatusCode, header: res.Header, body: body}
}

// plainClient returns a client without a cookie jar that does not follow
// redirects.
func plainClient() *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// get sends a GET to the server's path.
func (ts *testServer) get(t testing.TB, client *http.Client, path string) reply {
	t.Helper()
	return send(t, client, newRequest(t, http.MethodGet, ts.URL+path, nil))
}

// join sends POST /api/v1/rooms/{room}/join with client, and with the
// ticket as a bearer token unless it is empty.
func (ts *testServer) join(t testing.TB, client *http.Client, room, ticket string) (visitorStatus, reply) {
	t.Helper()
	req := newRequest(t, http.MethodPost, ts.URL+"/api/v1/rooms/"+room+"/join", nil)
	if ticket != "" {
		req.Header.Set("Authorization", "Bearer "+ticket)
	}
	res := send(t, client, req)
	var body visitorStatus
	if res.status == http.StatusOK || res.status == http.StatusCreated {
		res.decode(t, &body)
	}
	return body, res
}

// mustJoin joins room as a new visitor through the API and fails the test
// unless the join returns 201.
func (ts *testServer) mustJoin(t testing.TB, room string) visitorStatus {
	t.Helper()
	body, res := ts.join(t, nil, room, "")
	if res.status != http.StatusCreated {
		t.Fatalf("join %s: got status %d, want 201:\n%s", room, res.status, res.body)
	}
	return body
}

// status sends GET /api/v1/rooms/{room}/status with the ticket as a bearer
// token.
func (ts *testServer) status(t testing.TB, room, ticket string) (visitorStatus, reply) {
	t.Helper()
	req := newRequest(t, http.MethodGet, ts.URL+"/api/v1/rooms/"+room+"/status", nil)
	req.Header.Set("Authorization", "Bearer "+ticket)
	res := send(t, nil, req)
	var body visitorStatus
	if res.status == http.StatusOK {
		res.decode(t, &body)
	}
	return body, res
}

// admin sends an admin API request with the test admin token.
func (ts *testServer) admin(t testing.TB, method, path string, body any) reply {
	t.Helper()
	req := newRequest(t, method, ts.URL+"/api/v1/admin"+path, body)
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	return send(t, nil, req)
}

// adminRoom is the part of the admin API's room body that tests read.
type adminRoom struct {
	ID            string  `json:"id"`
	Event         string  `json:"event"`
	RoomState     string  `json:"room_state"`
	RatePerMinute float64 `json:"rate_per_minute"`
	Burst         int     `json:"burst"`
	MaxActive     int     `json:"max_active"`
	Mode          string  `json:"mode"`
	Paused        bool    `json:"paused"`
	OpensAt       *string `json:"opens_at"`
	Message       string  `json:"message"`
	Waiting       int64   `json:"waiting"`
	Prequeue      int64   `json:"prequeue"`
	Admitted      int64   `json:"admitted"`
	Active        int64   `json:"active"`
	Abandoned     int64   `json:"abandoned"`
	Head          int64   `json:"head"`
	Tail          int64   `json:"tail"`
}

// adminGetRoom reads the room through the admin API.
func (ts *testServer) adminGetRoom(t testing.TB, room string) adminRoom {
	t.Helper()
	res := ts.admin(t, http.MethodGet, "/rooms/"+room, nil)
	if res.status != http.StatusOK {
		t.Fatalf("GET admin room %s: got status %d, want 200:\n%s", room, res.status, res.body)
	}
	var body adminRoom
	res.decode(t, &body)
	return body
}

// admission is one entry of the admin API's admission log.
type admission struct {
	Visitor    string `json:"visitor"`
	Sequence   int64  `json:"sequence"`
	AdmittedAt string `json:"admitted_at"`
}

// admissionLog reads the room's whole admission log, limit entries a page.
func (ts *testServer) admissionLog(t testing.TB, room string, limit int) []admission {
	t.Helper()
	var all []admission
	for after := 0; ; {
		path := "/rooms/" + room + "/admissions?after=" + strconv.Itoa(after) + "&limit=" + strconv.Itoa(limit)
		res := ts.admin(t, http.MethodGet, path, nil)
		if res.status != http.StatusOK {
			t.Fatalf("GET %s: got status %d, want 200:\n%s", path, res.status, res.body)
		}
		var page []admission
		res.decode(t, &page)
		if len(page) > limit {
			t.Fatalf("GET %s: got %d entries, want at most %d", path, len(page), limit)
		}
		if got, want := res.header.Get("X-Next-After"), strconv.Itoa(after+len(page)); got != want {
			t.Fatalf("GET %s: got X-Next-After %q, want %q", path, got, want)
		}
		if len(page) == 0 {
			return all
		}
		all = append(all, page...)
		after += len(page)
	}
}

// waiting returns the number of visitors in the room's line, read from the
// store.
func waiting(t testing.TB, store waitroom.Store, room string) int64 {
	t.Helper()
	snap, err := store.Snapshot(context.Background(), room)
	if err != nil {
		t.Fatalf("snapshot of room %s: %v", room, err)
	}
	return snap.Waiting
}

// tick runs one admission step of the room on the server's edge.
func (ts *testServer) tick(t testing.TB, room string) waitroom.AdmitResult {
	t.Helper()
	res, err := ts.Edge.Tick(context.Background(), room)
	if err != nil {
		t.Fatalf("admission step of room %s: %v", room, err)
	}
	return res
}

// isHTML reports whether the response is an HTML page.
func (r reply) isHTML() bool {
	return strings.HasPrefix(r.header.Get("Content-Type"), "text/html")
}

// isJSON reports whether the response is a JSON body.
func (r reply) isJSON() bool {
	return strings.HasPrefix(r.header.Get("Content-Type"), "application/json")
}
