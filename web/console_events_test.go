package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"foyer/booking"
	"foyer/waitroom"
)

// newEventForm is a filled new event form for event spring in room museum,
// with one day of four 30-minute slots of 12 places.
func newEventForm() url.Values {
	return url.Values{
		"id":                      {"spring"},
		"title":                   {"Spring exhibition"},
		"time_zone":               {"Europe/Amsterdam"},
		"room":                    {"museum"},
		"currency":                {"EUR"},
		"tt-id-0":                 {"adult"},
		"tt-name-0":               {"Adult"},
		"tt-price-0":              {"18.50"},
		"tt-id-1":                 {"child"},
		"tt-name-1":               {"Child"},
		"tt-price-1":              {"9"},
		"tt-id-2":                 {""},
		"tt-name-2":               {""},
		"tt-price-2":              {""},
		"max_tickets_per_order":   {"6"},
		"max_tickets_per_visitor": {"6"},
		"max_holds_per_visitor":   {"1"},
		"hold_lifetime_minutes":   {"10"},
		"max_hold_extensions":     {"0"},
		"sales_start":             {""},
		"sales_end":               {""},
		"day-date-0":              {eventDate()},
		"day-open-0":              {"09:00"},
		"day-close-0":             {"11:00"},
		"day-length-0":            {"30"},
		"day-capacity-0":          {"12"},
		"day-date-1":              {""},
		"day-open-1":              {""},
		"day-close-1":             {""},
		"day-length-1":            {"30"},
		"day-capacity-1":          {""},
	}
}

func TestConsoleManagesEvents(t *testing.T) {
	forEachStore(t, func(t *testing.T, st openedStore) {
		ctx := context.Background()
		seedRoom(t, st.store, waitroom.Settings{ID: "museum", Title: "Museum"})
		ts := startServer(t, st.store, serverOptions{noLoop: true, booking: st.booking})
		admin := ts.signIn(t)

		if page := ts.get(t, admin.client, "/admin/events/new"); page.status != http.StatusOK || !strings.Contains(string(page.body), `<option value="museum"`) {
			t.Fatalf("GET /admin/events/new: got status %d, want 200 offering room museum:\n%s", page.status, page.body)
		}
		res := admin.post(t, ts, "/admin/events", newEventForm())
		if res.status != http.StatusSeeOther || res.header.Get("Location") != "/admin/events/spring?done=event-created" {
			t.Fatalf("create event: got status %d to %q, want 303 to the event's page:\n%s", res.status, res.header.Get("Location"), res.body)
		}
		event, err := st.booking.Event(ctx, "spring")
		if err != nil {
			t.Fatalf("read the created event: %v", err)
		}
		if len(event.TicketTypes) != 2 || event.TicketTypes[0].Price != 1850 || event.TicketTypes[1].Price != 900 {
			t.Errorf("got ticket types %+v, want adult at 1850 and child at 900 cents", event.TicketTypes)
		}
		slots, err := st.booking.Availability(ctx, "spring")
		if err != nil {
			t.Fatalf("availability: %v", err)
		}
		if len(slots) != 4 || slots[0].Capacity != 12 {
			t.Fatalf("got %d slots, first with capacity %d, want 4 of 12", len(slots), slots[0].Capacity)
		}

		// The room guards no event yet, and the event's page says so until
		// the room sends its visitors there.
		if page := ts.get(t, admin.client, "/admin/events/spring"); !strings.Contains(string(page.body), `id="room-problem"`) {
			t.Errorf("the event's page does not warn that room museum sends nobody to it:\n%s", page.body)
		}
		if res := ts.admin(t, http.MethodPatch, "/rooms/museum", map[string]any{"event": "spring"}); res.status != http.StatusOK {
			t.Fatalf("set the room's event: got status %d, want 200", res.status)
		}
		if page := ts.get(t, admin.client, "/admin/events/spring"); strings.Contains(string(page.body), `id="room-problem"`) {
			t.Errorf("the event's page still warns after the room was set to guard it")
		}

		// An event that exists already is rejected with the reason.
		res = admin.post(t, ts, "/admin/events", newEventForm())
		if res.status != http.StatusConflict || !strings.Contains(string(res.body), "exists already") {
			t.Errorf("create the event twice: got status %d, want 409 saying it exists:\n%s", res.status, res.body)
		}

		// A capacity below the places sold and held is rejected with a clear
		// message, and the other changes of the same form still apply.
		first, second := slots[0].ID, slots[1].ID
		hold, err := st.booking.Hold(ctx, booking.HoldRequest{Event: "spring", Slot: first, Visitor: "v1", Quantity: 3})
		if err != nil {
			t.Fatalf("hold 3 places: %v", err)
		}
		if _, err := st.booking.Confirm(ctx, booking.ConfirmRequest{HoldID: hold.ID, PaymentID: "pay-1"}); err != nil {
			t.Fatalf("confirm: %v", err)
		}
		if _, err := st.booking.Hold(ctx, booking.HoldRequest{Event: "spring", Slot: first, Visitor: "v2", Quantity: 2}); err != nil {
			t.Fatalf("hold 2 places: %v", err)
		}
		res = admin.post(t, ts, "/admin/events/spring/capacities", url.Values{"capacity-" + first: {"4"}, "capacity-" + second: {"20"}})
		if res.status != http.StatusConflict {
			t.Errorf("capacity below sold and held: got status %d, want 409", res.status)
		}
		for _, want := range []string{"capacity 4 is below the 5 places already sold (3) or held (2)", "Set at least 5", "Saved 1 of the changed capacities."} {
			if !strings.Contains(string(res.body), want) {
				t.Errorf("capacity below sold and held: the page does not say %q:\n%s", want, res.body)
			}
		}
		if got := slotCapacity(t, st.booking, "spring", first); got != 12 {
			t.Errorf("got capacity %d of the rejected slot, want 12 unchanged", got)
		}
		if got := slotCapacity(t, st.booking, "spring", second); got != 20 {
			t.Errorf("got capacity %d of the other slot, want 20", got)
		}
		res = admin.post(t, ts, "/admin/events/spring/capacities", url.Values{"capacity-" + first: {"5"}})
		if res.status != http.StatusSeeOther {
			t.Errorf("capacity equal to sold and held: got status %d, want 303:\n%s", res.status, res.body)
		}

		// Slots can be added, and ticket types added or repriced but not removed.
		res = admin.post(t, ts, "/admin/events/spring/slots", url.Values{
			"day-date-0": {eventDate()}, "day-open-0": {"14:00"}, "day-close-0": {"15:00"}, "day-length-0": {"60"}, "day-capacity-0": {"8"},
		})
		if res.status != http.StatusSeeOther {
			t.Fatalf("add slots: got status %d, want 303:\n%s", res.status, res.body)
		}
		if got := slotCapacity(t, st.booking, "spring", slotID("14:00")); got != 8 {
			t.Errorf("got capacity %d of the added slot, want 8", got)
		}
		res = admin.post(t, ts, "/admin/events/spring/slots", url.Values{
			"day-date-0": {eventDate()}, "day-open-0": {"14:00"}, "day-close-0": {"15:00"}, "day-length-0": {"60"}, "day-capacity-0": {"8"},
		})
		if res.status != http.StatusBadRequest || !strings.Contains(string(res.body), "id is taken") {
			t.Errorf("add a slot twice: got status %d, want 400 saying its id is taken:\n%s", res.status, res.body)
		}

		details := newEventForm()
		details.Set("title", "Spring exhibition, extended")
		details.Set("tt-price-0", "19")
		details.Set("tt-id-2", "member")
		details.Set("tt-name-2", "Member")
		details.Set("tt-price-2", "0")
		if res := admin.post(t, ts, "/admin/events/spring", details); res.status != http.StatusSeeOther {
			t.Fatalf("save details: got status %d, want 303:\n%s", res.status, res.body)
		}
		event, err = st.booking.Event(ctx, "spring")
		if err != nil {
			t.Fatalf("read the changed event: %v", err)
		}
		if event.Title != "Spring exhibition, extended" || len(event.TicketTypes) != 3 || event.TicketTypes[0].Price != 1900 {
			t.Errorf("got event %+v, want the new title, adult at 1900 and a member type", event)
		}
		details.Set("tt-id-1", "")
		details.Set("tt-name-1", "")
		details.Set("tt-price-1", "")
		res = admin.post(t, ts, "/admin/events/spring", details)
		if res.status != http.StatusBadRequest || !strings.Contains(string(res.body), `ticket type &#34;child&#34; cannot be removed`) {
			t.Errorf("remove a ticket type: got status %d, want 400 saying it cannot be removed:\n%s", res.status, res.body)
		}

		log, err := st.store.AuditLog(ctx, "museum", 10)
		if err != nil {
			t.Fatalf("read the audit log: %v", err)
		}
		var actions []string
		for _, e := range log {
			if e.Actor != testAdminUser && e.Actor != "api-token" {
				t.Errorf("got audit actor %q, want %q or api-token", e.Actor, testAdminUser)
			}
			actions = append(actions, e.Action)
		}
		if got, want := strings.Join(actions, " "), "event slots capacity capacity settings event"; got != want {
			t.Errorf("got audit actions %q, want %q", got, want)
		}
	})
}

func slotCapacity(t testing.TB, store booking.Store, event, slot string) int {
	t.Helper()
	stats, err := store.SlotStats(context.Background(), event, slot)
	if err != nil {
		t.Fatalf("stats of slot %s: %v", slot, err)
	}
	return stats.Capacity
}
