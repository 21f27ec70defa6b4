package web_test

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"foyer/booking"
)

// newEventBody returns a body for POST /api/v1/admin/events with one slot
// in wall-clock times, one in RFC 3339 and a day plan of two slots.
func newEventBody(t testing.TB, id string) map[string]any {
	t.Helper()
	date := eventDate()
	return map[string]any{
		"id":                    id,
		"title":                 "Night at the museum",
		"time_zone":             "Europe/Amsterdam",
		"room":                  "museum",
		"currency":              "EUR",
		"ticket_types":          []map[string]any{{"id": "adult", "name": "Adult", "price": 2000}},
		"max_tickets_per_order": 6,
		"hold_lifetime_seconds": 300,
		"slots": []map[string]any{
			{"date": date, "start": "18:00", "end": "18:30", "capacity": 20},
			{"id": "late", "starts_at": date + "T22:00:00" + wantOffset(t, "22:00"), "ends_at": date + "T23:00:00" + wantOffset(t, "23:00"), "capacity": 5},
		},
		"days": []map[string]any{
			{"date": date, "open": "19:00", "close": "20:00", "length_minutes": 30, "capacity": 10},
		},
	}
}

func TestAdminCreateEvent(t *testing.T) {
	forEachStore(t, func(t *testing.T, st openedStore) {
		ts := startBooking(t, st, 4)

		res := ts.admin(t, http.MethodPost, "/events", newEventBody(t, "night"))

		if res.status != http.StatusCreated {
			t.Fatalf("got status %d, want 201:\n%s", res.status, res.body)
		}
		var created adminEvent
		res.decode(t, &created)
		if created.ID != "night" || created.Room != "museum" || created.TimeZone != "Europe/Amsterdam" || created.HoldLifetimeSeconds != 300 {
			t.Errorf("got event %+v, want night of room museum in Europe/Amsterdam with 300 s holds", created)
		}

		read := ts.adminGetEvent(t, "night")
		want := []struct {
			id, clock string
			capacity  int
		}{
			{slotID("18:00"), "18:00", 20},
			{slotID("19:00"), "19:00", 10},
			{slotID("19:30"), "19:30", 10},
			{"late", "22:00", 5},
		}
		if len(read.Slots) != len(want) {
			t.Fatalf("got %d slots, want %d: %+v", len(read.Slots), len(want), read.Slots)
		}
		for i, w := range want {
			slot := read.Slots[i]
			wantStart := eventDate() + "T" + w.clock + ":00" + wantOffset(t, w.clock)
			if slot.ID != w.id || slot.StartsAt != wantStart || slot.Capacity != w.capacity {
				t.Errorf("slot %d: got id %q starts_at %q capacity %d, want %q %q %d", i, slot.ID, slot.StartsAt, slot.Capacity, w.id, wantStart, w.capacity)
			}
			if slot.Held != 0 || slot.Sold != 0 || slot.Available != w.capacity {
				t.Errorf("slot %s: got held %d sold %d available %d, want 0, 0 and %d", slot.ID, slot.Held, slot.Sold, slot.Available, w.capacity)
			}
		}
	})
}

func TestAdminCreateEventRejects(t *testing.T) {
	forEachStore(t, func(t *testing.T, st openedStore) {
		ts := startBooking(t, st, 4)

		change := func(key string, value any) map[string]any {
			body := newEventBody(t, "night")
			body[key] = value
			return body
		}
		withoutDays := func(body map[string]any) map[string]any {
			delete(body, "days")
			return body
		}
		date := eventDate()
		cases := []struct {
			name       string
			body       map[string]any
			wantStatus int
			wantCode   string
			// wantText is a fragment of the message or the detail.
			wantText string
		}{
			{name: "existing id", body: newEventBody(t, "expo"), wantStatus: http.StatusConflict, wantCode: "event_exists", wantText: "Choose another id"},
			{name: "unknown zone", body: change("time_zone", "Mars/Olympus"), wantStatus: http.StatusBadRequest, wantCode: "invalid_event", wantText: "time_zone"},
			{name: "no ticket types", body: change("ticket_types", []any{}), wantStatus: http.StatusBadRequest, wantCode: "invalid_event", wantText: "ticket_types"},
			{name: "bad sales start", body: change("sales_start", "tomorrow"), wantStatus: http.StatusBadRequest, wantCode: "invalid_event", wantText: "sales_start"},
			{name: "no slots", body: withoutDays(change("slots", []any{})), wantStatus: http.StatusBadRequest, wantCode: "invalid_slot", wantText: "no slots"},
			{name: "slot without capacity", body: change("slots", []any{map[string]any{"date": date, "start": "18:00", "end": "18:30"}}), wantStatus: http.StatusBadRequest, wantCode: "invalid_slot", wantText: "capacity"},
			{name: "slot with both forms", body: change("slots", []any{map[string]any{"date": date, "start": "18:00", "end": "18:30", "starts_at": date + "T18:00:00Z", "capacity": 1}}), wantStatus: http.StatusBadRequest, wantCode: "invalid_slot", wantText: "not both"},
			{name: "slot ends before start", body: change("slots", []any{map[string]any{"date": date, "start": "18:30", "end": "18:00", "capacity": 1}}), wantStatus: http.StatusBadRequest, wantCode: "invalid_slot", wantText: "ends_at"},
			{name: "bad clock", body: change("slots", []any{map[string]any{"date": date, "start": "6pm", "end": "18:30", "capacity": 1}}), wantStatus: http.StatusBadRequest, wantCode: "invalid_slot", wantText: "15:04"},
			{name: "unknown field", body: change("colour", "red"), wantStatus: http.StatusBadRequest, wantCode: "invalid_json", wantText: "colour"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				res := ts.admin(t, http.MethodPost, "/events", tc.body)

				if res.status != tc.wantStatus || res.errorCode() != tc.wantCode {
					t.Errorf("got status %d code %q, want %d %s:\n%s", res.status, res.errorCode(), tc.wantStatus, tc.wantCode, res.body)
				}
				if !strings.Contains(string(res.body), tc.wantText) {
					t.Errorf("error does not mention %q:\n%s", tc.wantText, res.body)
				}
			})
		}

		if res := ts.admin(t, http.MethodGet, "/events/night", nil); res.status != http.StatusNotFound || res.errorCode() != "unknown_event" {
			t.Errorf("GET after rejected creates: got status %d code %q, want 404 unknown_event", res.status, res.errorCode())
		}
		noToken := send(t, nil, newRequest(t, http.MethodPost, ts.URL+"/api/v1/admin/events", newEventBody(t, "night")))
		if noToken.status != http.StatusUnauthorized {
			t.Errorf("create without the admin token: got status %d, want 401", noToken.status)
		}
	})
}

func TestAdminSlotCapacity(t *testing.T) {
	forEachStore(t, func(t *testing.T, st openedStore) {
		ts := startBooking(t, st, 10)
		visitor := ts.admitOneVisitor(t, "museum")
		slot := slotID("09:00")
		ts.mustHold(t, "expo", visitor.token, map[string]any{"slot": slot, "quantity": 3})

		res := ts.admin(t, http.MethodPatch, "/events/expo/slots/"+slot, map[string]int{"capacity": 2})
		if res.status != http.StatusConflict || res.errorCode() != "capacity_too_low" {
			t.Fatalf("capacity below held: got status %d code %q, want 409 capacity_too_low:\n%s", res.status, res.errorCode(), res.body)
		}
		var body errorBody
		res.decode(t, &body)
		if !strings.Contains(body.Error.Message, "below the places already sold plus those held") || !strings.Contains(string(res.body), "3 places are sold or held") {
			t.Errorf("capacity below held: message does not explain the limit:\n%s", res.body)
		}
		if got := ts.adminGetEvent(t, "expo").Slots[0].Capacity; got != 10 {
			t.Errorf("after the rejected change: got capacity %d, want 10", got)
		}

		res = ts.admin(t, http.MethodPatch, "/events/expo/slots/"+slot, map[string]int{"capacity": 3})
		if res.status != http.StatusOK {
			t.Fatalf("capacity equal to held: got status %d, want 200:\n%s", res.status, res.body)
		}
		var changed adminSlot
		res.decode(t, &changed)
		if changed.Capacity != 3 || changed.Held != 3 || changed.Available != 0 {
			t.Errorf("got slot %+v, want capacity 3, held 3, available 0", changed)
		}

		if res := ts.admin(t, http.MethodPatch, "/events/expo/slots/nope", map[string]int{"capacity": 3}); res.status != http.StatusNotFound || res.errorCode() != "unknown_slot" {
			t.Errorf("unknown slot: got status %d code %q, want 404 unknown_slot", res.status, res.errorCode())
		}
		if res := ts.admin(t, http.MethodPatch, "/events/expo/slots/"+slot, map[string]int{}); res.status != http.StatusBadRequest || res.errorCode() != "invalid_request" {
			t.Errorf("no capacity: got status %d code %q, want 400 invalid_request", res.status, res.errorCode())
		}
	})
}

func TestAdminEventOrders(t *testing.T) {
	forEachStore(t, func(t *testing.T, st openedStore) {
		ts := startBooking(t, st, 10)
		visitors := ts.admitVisitors(t, "museum", 2)
		first := ts.mustHold(t, "expo", visitors[0].token, map[string]any{"slot": slotID("09:00"), "quantity": 2})
		second := ts.mustHold(t, "expo", visitors[1].token, map[string]any{"slot": slotID("09:00"), "quantity": 1})
		kept := ts.mustPay(t, first.HoldID, first.Session.ID)
		cancelled := ts.mustPay(t, second.HoldID, second.Session.ID)

		res := ts.admin(t, http.MethodPost, "/orders/"+cancelled.OrderID+"/cancel", nil)
		if res.status != http.StatusOK {
			t.Fatalf("cancel: got status %d, want 200:\n%s", res.status, res.body)
		}
		var order orderJSON
		res.decode(t, &order)
		if order.State != "cancelled" || order.Visitor != visitors[1].visitor {
			t.Errorf("cancel: got state %q visitor %q, want cancelled for %s", order.State, order.Visitor, visitors[1].visitor)
		}

		cases := []struct {
			state string
			want  []string
		}{
			{state: "", want: []string{kept.OrderID, cancelled.OrderID}},
			{state: "confirmed", want: []string{kept.OrderID}},
			{state: "cancelled", want: []string{cancelled.OrderID}},
			{state: "needs_refund", want: nil},
		}
		for _, tc := range cases {
			orders := ts.adminOrders(t, "expo", tc.state)
			var got []string
			for _, o := range orders {
				got = append(got, o.OrderID)
				if o.PaymentID == "" || o.Visitor == "" {
					t.Errorf("state %q: order %s has no payment or visitor in the admin view", tc.state, o.OrderID)
				}
			}
			// Orders made in the same millisecond are sorted by id.
			slices.Sort(got)
			slices.Sort(tc.want)
			if !slices.Equal(got, tc.want) {
				t.Errorf("state %q: got orders %v, want %v", tc.state, got, tc.want)
			}
		}

		if res := ts.admin(t, http.MethodGet, "/events/expo/orders?state=paid", nil); res.status != http.StatusBadRequest || res.errorCode() != "invalid_query" {
			t.Errorf("unknown state: got status %d code %q, want 400 invalid_query", res.status, res.errorCode())
		}
		if res := ts.admin(t, http.MethodGet, "/events/nowhere/orders", nil); res.status != http.StatusNotFound || res.errorCode() != "unknown_event" {
			t.Errorf("unknown event: got status %d code %q, want 404 unknown_event", res.status, res.errorCode())
		}
		if held, sold := ts.adminGetEvent(t, "expo").totals(); held != 0 || sold != 2 {
			t.Errorf("got held %d sold %d, want 0 and 2 after the cancelled order gave its place back", held, sold)
		}
	})
}

func TestAdminNeedsRefundOrder(t *testing.T) {
	forEachStore(t, func(t *testing.T, st openedStore) {
		ts := startBooking(t, st, 10)
		startExpiringEvent(t, st, ts, 300*time.Millisecond)
		if res := ts.admin(t, http.MethodPatch, "/events/flash/slots/"+slotID("09:00"), map[string]int{"capacity": 1}); res.status != http.StatusOK {
			t.Fatalf("set capacity: got status %d, want 200:\n%s", res.status, res.body)
		}
		visitors := ts.admitVisitors(t, "gallery", 2)
		late := ts.mustHold(t, "flash", visitors[0].token, map[string]any{"slot": slotID("09:00"), "quantity": 1})
		time.Sleep(400 * time.Millisecond)
		ts.mustHold(t, "flash", visitors[1].token, map[string]any{"slot": slotID("09:00"), "quantity": 1})

		// The provider confirms the expired hold by webhook after its
		// place went to someone else.
		body := []byte(fmt.Sprintf(`{"type":"payment.succeeded","payment_id":"pay_late","hold_id":%q,"amount":%d,"currency":%q}`,
			late.HoldID, late.Amount, late.Currency))
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, ts.URL+"/api/v1/payments/webhook", bytes.NewReader(body))
		if err != nil {
			t.Fatalf("build webhook request: %v", err)
		}
		req.Header.Set(booking.WebhookHeader, ts.Webhooks.Sign(body, time.Now()))
		res := send(t, nil, req)
		var order orderJSON
		res.decode(t, &order)
		if res.status != http.StatusOK || order.State != "needs_refund" || order.RefundReason != "sold_out" {
			t.Errorf("late webhook: got status %d order %+v, want 200 with state needs_refund for sold_out", res.status, order)
		}

		refunds := ts.adminOrders(t, "flash", "needs_refund")
		if len(refunds) != 1 || refunds[0].HoldID != late.HoldID || refunds[0].RefundReason != "sold_out" {
			t.Fatalf("got needs_refund orders %+v, want the late hold's with reason sold_out", refunds)
		}
		if refunds[0].PaidAmount != late.Amount || refunds[0].PaidCurrency != late.Currency {
			t.Errorf("needs_refund order: got paid %d %q, want %d %q, what the webhook said was paid", refunds[0].PaidAmount, refunds[0].PaidCurrency, late.Amount, late.Currency)
		}
		if held, sold := ts.adminGetEvent(t, "flash").totals(); held != 1 || sold != 0 {
			t.Errorf("got held %d sold %d, want the second visitor's 1 held", held, sold)
		}
	})
}
