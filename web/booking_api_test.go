package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"foyer/booking"
	"foyer/waitroom"
)

func TestBookingAPIFlow(t *testing.T) {
	forEachStore(t, func(t *testing.T, st openedStore) {
		ts := startBooking(t, st, 10)
		visitor := ts.admitOneVisitor(t, "museum")
		slot := slotID("09:30")

		res := ts.sendAuth(t, http.MethodPost, "/api/v1/events/expo/holds", visitor.token, map[string]any{"slot": slot, "tickets": map[string]int{"adult": 2, "child": 1}})
		if res.status != http.StatusCreated {
			t.Fatalf("hold: got status %d, want 201:\n%s", res.status, res.body)
		}
		var hold holdJSON
		res.decode(t, &hold)
		if !strings.HasPrefix(hold.HoldID, "h_expo_") {
			t.Errorf("got hold id %q, want prefix h_expo_", hold.HoldID)
		}
		if hold.Quantity != 3 || hold.Amount != 2*1750+850 || hold.Currency != "EUR" || hold.State != "active" {
			t.Errorf("got quantity %d amount %d %s state %q, want 3, 4350 EUR, active", hold.Quantity, hold.Amount, hold.Currency, hold.State)
		}
		if offset := wantOffset(t, "09:30"); !strings.HasSuffix(hold.ExpiresAt, offset) || !strings.HasSuffix(hold.StartsAt, offset) {
			t.Errorf("got expires_at %q and starts_at %q, want both with the event zone's offset %s", hold.ExpiresAt, hold.StartsAt, offset)
		}
		if hold.Session == nil || !strings.HasPrefix(hold.Session.ID, "s_expo_") || hold.Session.Visitor != visitor.visitor {
			t.Fatalf("got session %+v, want a session of event expo for visitor %s", hold.Session, visitor.visitor)
		}
		if got := res.cookie("foyer_b_expo"); got != hold.Session.ID {
			t.Errorf("got session cookie %q, want the returned session id", got)
		}
		session := hold.Session.ID
		if held, sold := ts.adminGetEvent(t, "expo").totals(); held != 3 || sold != 0 {
			t.Errorf("after the hold: got held %d sold %d, want 3 and 0", held, sold)
		}

		// A declined card keeps the hold as it was.
		res = ts.sendAuth(t, http.MethodPost, "/api/v1/holds/"+hold.HoldID+"/pay", session, map[string]string{"card": booking.TestCardDeclined})
		if res.status != http.StatusPaymentRequired || res.errorCode() != "payment_declined" {
			t.Fatalf("declined pay: got status %d code %q, want 402 payment_declined:\n%s", res.status, res.errorCode(), res.body)
		}
		// The session also works as the cookie instead of a bearer token.
		req := newRequest(t, http.MethodGet, ts.URL+"/api/v1/holds/"+hold.HoldID, nil)
		req.AddCookie(&http.Cookie{Name: "foyer_b_expo", Value: session})
		res = send(t, nil, req)
		if res.status != http.StatusOK {
			t.Fatalf("GET hold with the session cookie: got status %d, want 200:\n%s", res.status, res.body)
		}
		var after holdJSON
		res.decode(t, &after)
		if after.State != "active" || after.ExpiresAt != hold.ExpiresAt {
			t.Errorf("after a decline: got state %q expires_at %q, want active and %q", after.State, after.ExpiresAt, hold.ExpiresAt)
		}

		order := ts.mustPay(t, hold.HoldID, session)
		if !strings.HasPrefix(order.OrderID, "o_expo_") || order.HoldID != hold.HoldID || order.Quantity != 3 {
			t.Errorf("got order %+v, want an order of hold %s with 3 tickets", order, hold.HoldID)
		}
		if order.Visitor != "" || order.PaymentID != "" {
			t.Errorf("visitor's order shows visitor %q payment %q, want both hidden", order.Visitor, order.PaymentID)
		}
		if got := ts.Payments.Charges(); got != 1 {
			t.Errorf("got %d approved charges, want 1", got)
		}

		res = ts.sendAuth(t, http.MethodGet, "/api/v1/orders/"+order.OrderID, session, nil)
		if res.status != http.StatusOK {
			t.Fatalf("GET order: got status %d, want 200:\n%s", res.status, res.body)
		}
		var read orderJSON
		res.decode(t, &read)
		if read.State != "confirmed" || len(read.Tickets) != 3 || read.TicketCounts["adult"] != 2 || read.TicketCounts["child"] != 1 {
			t.Errorf("GET order: got state %q, %d tickets, counts %v; want confirmed, 3 tickets, 2 adult and 1 child", read.State, len(read.Tickets), read.TicketCounts)
		}
		if len(read.Tickets) == 3 && (read.Tickets[0].Type != "adult" || read.Tickets[2].Type != "child" || read.Tickets[2].Price != 850) {
			t.Errorf("GET order: got tickets %+v, want adult, adult, child at 8.50", read.Tickets)
		}

		if res := ts.sendAuth(t, http.MethodGet, "/api/v1/orders/"+order.OrderID, "", nil); res.status != http.StatusUnauthorized || res.errorCode() != "session_missing" {
			t.Errorf("GET order without a session: got status %d code %q, want 401 session_missing", res.status, res.errorCode())
		}
		res = ts.sendAuth(t, http.MethodGet, "/api/v1/orders/"+order.OrderID, testAdminToken, nil)
		var asAdmin orderJSON
		res.decode(t, &asAdmin)
		if res.status != http.StatusOK || asAdmin.Visitor != visitor.visitor || asAdmin.PaymentID == "" {
			t.Errorf("GET order as admin: got status %d visitor %q payment %q, want 200 with visitor %s and a payment", res.status, asAdmin.Visitor, asAdmin.PaymentID, visitor.visitor)
		}

		if held, sold := ts.adminGetEvent(t, "expo").totals(); held != 0 || sold != 3 {
			t.Errorf("after paying: got held %d sold %d, want 0 and 3", held, sold)
		}
		if got := ts.adminGetRoom(t, "museum").Active; got != 0 {
			t.Errorf("after paying: got %d active visitors in the room, want 0 because confirmation releases the visitor", got)
		}
	})
}

func TestBookingAPISlots(t *testing.T) {
	forEachStore(t, func(t *testing.T, st openedStore) {
		ts := startBooking(t, st, 5)
		visitor := ts.admitOneVisitor(t, "museum")
		ts.mustHold(t, "expo", visitor.token, map[string]any{"slot": slotID("10:00"), "quantity": 2})

		res := ts.get(t, nil, "/api/v1/events/expo/slots")
		if res.status != http.StatusOK {
			t.Fatalf("got status %d, want 200:\n%s", res.status, res.body)
		}
		var slots []struct {
			ID        string `json:"id"`
			StartsAt  string `json:"starts_at"`
			EndsAt    string `json:"ends_at"`
			Capacity  int    `json:"capacity"`
			Available int    `json:"available"`
		}
		res.decode(t, &slots)

		wantIDs := []string{slotID("09:00"), slotID("09:30"), slotID("10:00"), slotID("10:30")}
		if len(slots) != len(wantIDs) {
			t.Fatalf("got %d slots, want %d:\n%s", len(slots), len(wantIDs), res.body)
		}
		for i, slot := range slots {
			if slot.ID != wantIDs[i] {
				t.Errorf("slot %d: got id %q, want %q", i, slot.ID, wantIDs[i])
			}
			start, err := time.Parse(time.RFC3339, slot.StartsAt)
			if err != nil {
				t.Errorf("slot %d: starts_at %q is not RFC 3339: %v", i, slot.StartsAt, err)
				continue
			}
			clock := []string{"09:00", "09:30", "10:00", "10:30"}[i]
			if got := start.Format("15:04-07:00"); got != clock+wantOffset(t, clock) {
				t.Errorf("slot %d: got local start %s, want %s%s", i, got, clock, wantOffset(t, clock))
			}
			wantAvailable := 5
			if slot.ID == slotID("10:00") {
				wantAvailable = 3
			}
			if slot.Capacity != 5 || slot.Available != wantAvailable {
				t.Errorf("slot %s: got capacity %d available %d, want 5 and %d", slot.ID, slot.Capacity, slot.Available, wantAvailable)
			}
		}

		if res := ts.get(t, nil, "/api/v1/events/nowhere/slots"); res.status != http.StatusNotFound || res.errorCode() != "unknown_event" {
			t.Errorf("unknown event: got status %d code %q, want 404 unknown_event", res.status, res.errorCode())
		}
	})
}

func TestBookingAPISoldOut(t *testing.T) {
	forEachStore(t, func(t *testing.T, st openedStore) {
		ts := startBooking(t, st, 3)
		visitors := ts.admitVisitors(t, "museum", 2)
		ts.mustHold(t, "expo", visitors[0].token, map[string]any{"slot": slotID("09:00"), "quantity": 3})

		res := ts.sendAuth(t, http.MethodPost, "/api/v1/events/expo/holds", visitors[1].token, map[string]any{"slot": slotID("09:00"), "quantity": 1})

		if res.status != http.StatusConflict || res.errorCode() != "sold_out" {
			t.Fatalf("got status %d code %q, want 409 sold_out:\n%s", res.status, res.errorCode(), res.body)
		}
		var body struct {
			Error struct {
				Message string `json:"message"`
			} `json:"error"`
			Session struct {
				ID string `json:"id"`
			} `json:"session"`
		}
		res.decode(t, &body)
		if !strings.Contains(body.Error.Message, "Choose fewer tickets or another time slot") {
			t.Errorf("got message %q, want it to say what to do", body.Error.Message)
		}
		// The token was spent by the exchange, so the response carries the
		// session for the retry.
		if body.Session.ID == "" {
			t.Fatalf("sold out response has no session:\n%s", res.body)
		}
		retry := ts.mustHold(t, "expo", body.Session.ID, map[string]any{"slot": slotID("09:30"), "quantity": 1})
		if retry.Session != nil {
			t.Errorf("hold with a session: got a new session %+v, want none", retry.Session)
		}

		event := ts.adminGetEvent(t, "expo")
		for _, slot := range event.Slots {
			if slot.Held+slot.Sold > slot.Capacity {
				t.Errorf("slot %s: held %d + sold %d is above capacity %d", slot.ID, slot.Held, slot.Sold, slot.Capacity)
			}
		}
		if held, _ := event.totals(); held != 4 {
			t.Errorf("got %d places held, want 4", held)
		}
	})
}

func TestBookingAPIRejectsBadInput(t *testing.T) {
	forEachStore(t, func(t *testing.T, st openedStore) {
		ts := startBooking(t, st, 10)
		visitors := ts.admitVisitors(t, "museum", 2)
		owner := ts.mustHold(t, "expo", visitors[0].token, map[string]any{"slot": slotID("09:00"), "quantity": 1})
		ownerSession := owner.Session.ID
		slot := slotID("09:30")

		cases := []struct {
			name       string
			path       string
			body       any
			wantStatus int
			wantCode   string
		}{
			{name: "quantity zero", body: map[string]any{"slot": slot, "quantity": 0}, wantStatus: http.StatusBadRequest, wantCode: "invalid_quantity"},
			{name: "negative quantity", body: map[string]any{"slot": slot, "quantity": -2}, wantStatus: http.StatusBadRequest, wantCode: "invalid_quantity"},
			{name: "negative ticket count", body: map[string]any{"slot": slot, "tickets": map[string]int{"adult": -1}}, wantStatus: http.StatusBadRequest, wantCode: "invalid_quantity"},
			{name: "above order limit", body: map[string]any{"slot": slot, "quantity": 5}, wantStatus: http.StatusUnprocessableEntity, wantCode: "limit_exceeded"},
			{name: "unknown slot", body: map[string]any{"slot": "20990101-0900", "quantity": 1}, wantStatus: http.StatusNotFound, wantCode: "unknown_slot"},
			{name: "unknown ticket type", body: map[string]any{"slot": slot, "tickets": map[string]int{"senior": 1}}, wantStatus: http.StatusNotFound, wantCode: "unknown_ticket_type"},
			{name: "unknown event", path: "/api/v1/events/nowhere/holds", body: map[string]any{"slot": slot, "quantity": 1}, wantStatus: http.StatusNotFound, wantCode: "unknown_event"},
			{name: "unknown field", body: map[string]any{"slot": slot, "quantity": 1, "seats": 1}, wantStatus: http.StatusBadRequest, wantCode: "invalid_json"},
		}
		auths := []struct {
			name string
			auth string
		}{
			{name: "admission token", auth: visitors[1].token},
			{name: "session", auth: ownerSession},
		}
		for _, a := range auths {
			for _, tc := range cases {
				t.Run(a.name+"/"+tc.name, func(t *testing.T) {
					path := tc.path
					if path == "" {
						path = "/api/v1/events/expo/holds"
					}
					res := ts.sendAuth(t, http.MethodPost, path, a.auth, tc.body)

					if res.status != tc.wantStatus || res.errorCode() != tc.wantCode {
						t.Errorf("got status %d code %q, want %d %s:\n%s", res.status, res.errorCode(), tc.wantStatus, tc.wantCode, res.body)
					}
					if strings.Contains(string(res.body), `"session"`) || res.cookie("foyer_b_expo") != "" {
						t.Errorf("rejected request started a session:\n%s", res.body)
					}
				})
			}
		}

		if held, sold := ts.adminGetEvent(t, "expo").totals(); held != 1 || sold != 0 {
			t.Errorf("after rejected holds: got held %d sold %d, want only the owner's 1 held", held, sold)
		}
		// Nothing spent the second visitor's admission token.
		other := ts.mustHold(t, "expo", visitors[1].token, map[string]any{"slot": slot, "quantity": 1})
		otherSession := other.Session.ID

		t.Run("someone else's hold", func(t *testing.T) {
			res := ts.sendAuth(t, http.MethodPost, "/api/v1/holds/"+owner.HoldID+"/pay", otherSession, map[string]string{"card": booking.TestCardApproved})
			if res.status != http.StatusForbidden || res.errorCode() != "not_your_hold" {
				t.Errorf("pay: got status %d code %q, want 403 not_your_hold:\n%s", res.status, res.errorCode(), res.body)
			}
			res = ts.sendAuth(t, http.MethodGet, "/api/v1/holds/"+owner.HoldID, otherSession, nil)
			if res.status != http.StatusForbidden || res.errorCode() != "not_your_hold" {
				t.Errorf("GET: got status %d code %q, want 403 not_your_hold", res.status, res.errorCode())
			}
		})
		t.Run("malformed hold id", func(t *testing.T) {
			res := ts.sendAuth(t, http.MethodPost, "/api/v1/holds/nonsense/pay", otherSession, map[string]string{"card": booking.TestCardApproved})
			if res.status != http.StatusBadRequest || res.errorCode() != "invalid_id" {
				t.Errorf("got status %d code %q, want 400 invalid_id", res.status, res.errorCode())
			}
		})
		t.Run("invalid card", func(t *testing.T) {
			res := ts.sendAuth(t, http.MethodPost, "/api/v1/holds/"+other.HoldID+"/pay", otherSession, map[string]string{"card": "12ab"})
			if res.status != http.StatusBadRequest || res.errorCode() != "invalid_card" {
				t.Errorf("got status %d code %q, want 400 invalid_card", res.status, res.errorCode())
			}
		})
		t.Run("token used", func(t *testing.T) {
			res := ts.sendAuth(t, http.MethodPost, "/api/v1/events/expo/holds", visitors[1].token, map[string]any{"slot": slot, "quantity": 1})
			if res.status != http.StatusConflict || res.errorCode() != "token_used" {
				t.Errorf("got status %d code %q, want 409 token_used", res.status, res.errorCode())
			}
		})
		t.Run("unknown session", func(t *testing.T) {
			res := ts.sendAuth(t, http.MethodPost, "/api/v1/events/expo/holds", booking.NewSessionID("expo"), map[string]any{"slot": slot, "quantity": 1})
			if res.status != http.StatusUnauthorized || res.errorCode() != "session_not_found" {
				t.Errorf("got status %d code %q, want 401 session_not_found", res.status, res.errorCode())
			}
		})

		if held, sold := ts.adminGetEvent(t, "expo").totals(); held != 2 || sold != 0 {
			t.Errorf("at the end: got held %d sold %d, want the two visitors' 2 held", held, sold)
		}
		if orders := ts.adminOrders(t, "expo", ""); len(orders) != 0 {
			t.Errorf("got %d orders, want none", len(orders))
		}
		if got := ts.Payments.Charges(); got != 0 {
			t.Errorf("got %d approved charges, want 0", got)
		}
	})
}

// startExpiringEvent seeds room gallery, which guards event flash, whose
// holds last holdLifetime, on the server's stores.
func startExpiringEvent(t *testing.T, st openedStore, ts *testServer, holdLifetime time.Duration) {
	t.Helper()
	seedRoom(t, st.store, waitroom.Settings{ID: "gallery", Event: "flash"})
	event, slots := testEvent(t, "flash", "gallery", 10)
	event.HoldLifetime = holdLifetime
	createEvent(t, st.booking, event, slots)
}

func TestBookingAPIExpiredHold(t *testing.T) {
	forEachStore(t, func(t *testing.T, st openedStore) {
		ts := startBooking(t, st, 10)
		startExpiringEvent(t, st, ts, 300*time.Millisecond)
		visitor := ts.admitOneVisitor(t, "gallery")
		hold := ts.mustHold(t, "flash", visitor.token, map[string]any{"slot": slotID("09:00"), "quantity": 2})

		time.Sleep(400 * time.Millisecond)
		res := ts.sendAuth(t, http.MethodPost, "/api/v1/holds/"+hold.HoldID+"/pay", hold.Session.ID, map[string]string{"card": booking.TestCardApproved})

		if res.status != http.StatusGone || res.errorCode() != "hold_expired" {
			t.Fatalf("got status %d code %q, want 410 hold_expired:\n%s", res.status, res.errorCode(), res.body)
		}
		if got := ts.Payments.Charges(); got != 0 {
			t.Errorf("got %d approved charges, want 0", got)
		}
		if held, sold := ts.adminGetEvent(t, "flash").totals(); held != 0 || sold != 0 {
			t.Errorf("got held %d sold %d, want 0 and 0", held, sold)
		}
		if orders := ts.adminOrders(t, "flash", ""); len(orders) != 0 {
			t.Errorf("got %d orders, want none", len(orders))
		}
		if got := ts.adminGetRoom(t, "gallery").Active; got != 0 {
			t.Errorf("got %d active visitors in the room, want 0 because expiry releases the visitor", got)
		}
	})
}

func TestBookingAPIWebhookConfirmsOnce(t *testing.T) {
	forEachStore(t, func(t *testing.T, st openedStore) {
		ts := startBooking(t, st, 10)
		visitor := ts.admitOneVisitor(t, "museum")
		hold := ts.mustHold(t, "expo", visitor.token, map[string]any{"slot": slotID("09:00"), "quantity": 2})

		webhook := func(event booking.WebhookEvent, sign bool) reply {
			t.Helper()
			body, err := json.Marshal(event)
			if err != nil {
				t.Fatalf("encode webhook: %v", err)
			}
			req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, ts.URL+"/api/v1/payments/webhook", bytes.NewReader(body))
			if err != nil {
				t.Fatalf("build webhook request: %v", err)
			}
			req.Header.Set("Content-Type", "application/json")
			if sign {
				req.Header.Set(booking.WebhookHeader, ts.Webhooks.Sign(body, time.Now()))
			} else {
				req.Header.Set(booking.WebhookHeader, "t=1,v1=00")
			}
			return send(t, nil, req)
		}
		paid := booking.WebhookEvent{Type: booking.WebhookEventPaymentSucceeded, PaymentID: "pay_webhook_1", HoldID: hold.HoldID, Amount: 3500, Currency: "EUR"}

		if res := webhook(paid, false); res.status != http.StatusBadRequest || res.errorCode() != "invalid_signature" {
			t.Errorf("unsigned webhook: got status %d code %q, want 400 invalid_signature", res.status, res.errorCode())
		}
		var orderIDs []string
		for i := range 2 {
			res := webhook(paid, true)
			if res.status != http.StatusOK {
				t.Fatalf("webhook %d: got status %d, want 200:\n%s", i+1, res.status, res.body)
			}
			var order orderJSON
			res.decode(t, &order)
			if order.State != "confirmed" {
				t.Errorf("webhook %d: got state %q, want confirmed", i+1, order.State)
			}
			orderIDs = append(orderIDs, order.OrderID)
		}
		if orderIDs[0] == "" || orderIDs[0] != orderIDs[1] {
			t.Errorf("got order ids %q, want one order for both webhooks", orderIDs)
		}
		ignored := webhook(booking.WebhookEvent{Type: "payment.refunded", PaymentID: "pay_webhook_1", HoldID: hold.HoldID}, true)
		if ignored.status != http.StatusOK || !strings.Contains(string(ignored.body), `"received":true`) {
			t.Errorf("other webhook type: got status %d body %s, want 200 received", ignored.status, ignored.body)
		}

		if orders := ts.adminOrders(t, "expo", ""); len(orders) != 1 {
			t.Errorf("got %d orders, want 1", len(orders))
		}
		if held, sold := ts.adminGetEvent(t, "expo").totals(); held != 0 || sold != 2 {
			t.Errorf("got held %d sold %d, want 0 and 2", held, sold)
		}
	})
}
