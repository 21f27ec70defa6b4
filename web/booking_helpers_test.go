package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"foyer/booking"
	"foyer/waitroom"
)

// eventDate is the date of the test events' slots, 30 days ahead, so that
// no slot has started.
func eventDate() string {
	return time.Now().AddDate(0, 0, 30).Format(time.DateOnly)
}

// slotID returns the id that booking.DayPlan gives the slot starting at
// clock ("09:30") on eventDate.
func slotID(clock string) string {
	return strings.ReplaceAll(eventDate(), "-", "") + "-" + strings.ReplaceAll(clock, ":", "")
}

// testEvent returns an event guarded by room in Europe/Amsterdam, and its
// slots. The event sells adult tickets at EUR 17.50 and child tickets at
// EUR 8.50, at most 4 per order and one hold per visitor. It has four
// 30-minute slots from 09:00 on eventDate with capacity places each.
func testEvent(t testing.TB, id, room string, capacity int) (booking.Event, []booking.Slot) {
	t.Helper()

	event := booking.Event{
		ID:       id,
		Title:    "Summer exhibition",
		TimeZone: "Europe/Amsterdam",
		Room:     room,
		TicketTypes: []booking.TicketType{
			{ID: "adult", Name: "Adult", Price: 1750},
			{ID: "child", Name: "Child", Price: 850},
		},
		MaxTicketsPerOrder:   4,
		MaxTicketsPerVisitor: 4,
		MaxHoldsPerVisitor:   1,
	}
	loc, err := time.LoadLocation(event.TimeZone)
	if err != nil {
		t.Fatalf("load zone: %v", err)
	}
	slots, err := booking.DayPlan{Date: eventDate(), Open: "09:00", Close: "11:00", Capacity: capacity}.Slots(loc)
	if err != nil {
		t.Fatalf("day plan: %v", err)
	}
	return event, slots
}

// createEvent stores the event with its slots.
func createEvent(t testing.TB, store booking.Store, event booking.Event, slots []booking.Slot) {
	t.Helper()
	if err := store.CreateEvent(context.Background(), event, slots); err != nil {
		t.Fatalf("create event %s: %v", event.ID, err)
	}
}

// startBooking seeds room museum, which guards event expo, creates expo
// with capacity places per slot and starts a server with booking on and
// the admission loop off.
func startBooking(t *testing.T, st openedStore, capacity int) *testServer {
	t.Helper()
	seedRoom(t, st.store, waitroom.Settings{ID: "museum", Title: "Museum", Event: "expo"})
	event, slots := testEvent(t, "expo", "museum", capacity)
	createEvent(t, st.booking, event, slots)
	return startServer(t, st.store, serverOptions{noLoop: true, booking: st.booking})
}

// admittedVisitor is a visitor admitted through the API.
type admittedVisitor struct {
	visitor string
	token   string
}

// admitVisitors joins n new visitors to room through the API, runs
// admission steps until all are admitted (at most 50, 20ms apart), and
// returns their admission tokens from the status API.
func (ts *testServer) admitVisitors(t testing.TB, room string, n int) []admittedVisitor {
	t.Helper()

	joined := make([]visitorStatus, n)
	for i := range joined {
		joined[i] = ts.mustJoin(t, room)
	}
	admitted := 0
	for range 50 {
		admitted += len(ts.tick(t, room).Admitted)
		if admitted >= n {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if admitted != n {
		t.Fatalf("admitted %d of %d visitors after 50 admission steps", admitted, n)
	}

	out := make([]admittedVisitor, n)
	for i, j := range joined {
		status, res := ts.status(t, room, j.Ticket)
		if status.State != "admitted" || status.AdmissionToken == "" {
			t.Fatalf("status of visitor %d: got state %q and token %q, want admitted with a token:\n%s", i, status.State, status.AdmissionToken, res.body)
		}
		out[i] = admittedVisitor{visitor: j.Visitor, token: status.AdmissionToken}
	}
	return out
}

// admitOneVisitor admits one new visitor to room through the API.
func (ts *testServer) admitOneVisitor(t testing.TB, room string) admittedVisitor {
	t.Helper()
	return ts.admitVisitors(t, room, 1)[0]
}

// sendAuth sends a JSON request to the server's path with auth as the
// bearer token unless it is empty.
func (ts *testServer) sendAuth(t testing.TB, method, path, auth string, body any) reply {
	t.Helper()
	req := newRequest(t, method, ts.URL+path, body)
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	return send(t, nil, req)
}

// holdJSON is the body of a hold in the booking API.
type holdJSON struct {
	HoldID    string         `json:"hold_id"`
	Event     string         `json:"event"`
	Slot      string         `json:"slot"`
	StartsAt  string         `json:"starts_at"`
	Tickets   map[string]int `json:"tickets"`
	Quantity  int            `json:"quantity"`
	Amount    int64          `json:"amount"`
	Currency  string         `json:"currency"`
	State     string         `json:"state"`
	ExpiresAt string         `json:"expires_at"`
	OrderID   string         `json:"order_id"`
	PayURL    string         `json:"pay_url"`
	Session   *struct {
		ID        string `json:"id"`
		Visitor   string `json:"visitor"`
		ExpiresAt string `json:"expires_at"`
	} `json:"session"`
}

// orderJSON is the body of an order in the booking API.
type orderJSON struct {
	OrderID      string         `json:"order_id"`
	Event        string         `json:"event"`
	Slot         string         `json:"slot"`
	HoldID       string         `json:"hold_id"`
	State        string         `json:"state"`
	RefundReason string         `json:"refund_reason"`
	Quantity     int            `json:"quantity"`
	TicketCounts map[string]int `json:"ticket_counts"`
	Tickets      []struct {
		Type  string `json:"type"`
		Name  string `json:"name"`
		Price int64  `json:"price"`
	} `json:"tickets"`
	Amount       int64  `json:"amount"`
	Currency     string `json:"currency"`
	Visitor      string `json:"visitor"`
	PaymentID    string `json:"payment_id"`
	PaidAmount   int64  `json:"paid_amount"`
	PaidCurrency string `json:"paid_currency"`
}

// adminSlot is a slot in the admin API's event body.
type adminSlot struct {
	ID        string `json:"id"`
	StartsAt  string `json:"starts_at"`
	EndsAt    string `json:"ends_at"`
	Capacity  int    `json:"capacity"`
	Held      int    `json:"held"`
	Sold      int    `json:"sold"`
	Available int    `json:"available"`
}

// adminEvent is the admin API's event body.
type adminEvent struct {
	ID                  string      `json:"id"`
	Title               string      `json:"title"`
	TimeZone            string      `json:"time_zone"`
	Room                string      `json:"room"`
	Currency            string      `json:"currency"`
	HoldLifetimeSeconds float64     `json:"hold_lifetime_seconds"`
	Slots               []adminSlot `json:"slots"`
}

// mustHold places a hold through the API with auth, an admission token or
// a session id, and fails the test unless it returns 201.
func (ts *testServer) mustHold(t testing.TB, event, auth string, body any) holdJSON {
	t.Helper()
	res := ts.sendAuth(t, http.MethodPost, "/api/v1/events/"+event+"/holds", auth, body)
	if res.status != http.StatusCreated {
		t.Fatalf("hold in event %s: got status %d, want 201:\n%s", event, res.status, res.body)
	}
	var hold holdJSON
	res.decode(t, &hold)
	return hold
}

// mustPay pays the hold with the approved test card through the API and
// fails the test unless the order is confirmed.
func (ts *testServer) mustPay(t testing.TB, holdID, session string) orderJSON {
	t.Helper()
	res := ts.sendAuth(t, http.MethodPost, "/api/v1/holds/"+holdID+"/pay", session, map[string]string{"card": booking.TestCardApproved})
	if res.status != http.StatusOK {
		t.Fatalf("pay hold %s: got status %d, want 200:\n%s", holdID, res.status, res.body)
	}
	var order orderJSON
	res.decode(t, &order)
	if order.State != "confirmed" {
		t.Fatalf("pay hold %s: got order state %q, want confirmed", holdID, order.State)
	}
	return order
}

// adminGetEvent reads the event through the admin API.
func (ts *testServer) adminGetEvent(t testing.TB, event string) adminEvent {
	t.Helper()
	res := ts.admin(t, http.MethodGet, "/events/"+event, nil)
	if res.status != http.StatusOK {
		t.Fatalf("GET admin event %s: got status %d, want 200:\n%s", event, res.status, res.body)
	}
	var body adminEvent
	res.decode(t, &body)
	return body
}

// totals returns the held and sold places over all of the event's slots.
func (e adminEvent) totals() (held, sold int) {
	for _, slot := range e.Slots {
		held += slot.Held
		sold += slot.Sold
	}
	return held, sold
}

// adminOrders lists the event's orders in state, or all for "", through
// the admin API.
func (ts *testServer) adminOrders(t testing.TB, event, state string) []orderJSON {
	t.Helper()
	res := ts.admin(t, http.MethodGet, "/events/"+event+"/orders?state="+state, nil)
	if res.status != http.StatusOK {
		t.Fatalf("GET admin orders of %s: got status %d, want 200:\n%s", event, res.status, res.body)
	}
	var orders []orderJSON
	res.decode(t, &orders)
	return orders
}

var csrfPattern = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrfField returns the csrf field of the first form on a page.
func csrfField(t testing.TB, page reply) string {
	t.Helper()
	m := csrfPattern.FindSubmatch(page.body)
	if m == nil {
		t.Fatalf("page has no csrf field:\n%s", page.body)
	}
	return string(m[1])
}

// postForm sends a form POST to the server's path with client.
func (ts *testServer) postForm(t testing.TB, client *http.Client, path string, form url.Values) reply {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, ts.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatalf("build form POST %s: %v", path, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return send(t, client, req)
}

// wantOffset returns the UTC offset, as in "+02:00", that Europe/Amsterdam
// has at the start of the slot at clock on eventDate.
func wantOffset(t testing.TB, clock string) string {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		t.Fatalf("load zone: %v", err)
	}
	start, err := booking.LocalTime(loc, eventDate(), clock)
	if err != nil {
		t.Fatalf("local time: %v", err)
	}
	return start.In(loc).Format("-07:00")
}
