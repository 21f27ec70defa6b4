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
)

// startBookingSession admits a browser to room museum and opens the
// booking entry page, which exchanges the admission cookie for a booking
// session. It returns the browser.
func startBookingSession(t *testing.T, ts *testServer) *http.Client {
	t.Helper()
	client, _ := admittedBrowser(t, ts, "museum", "expo")

	res := ts.get(t, client, "/e/expo")
	if res.status != http.StatusSeeOther {
		t.Fatalf("entry page: got status %d, want 303:\n%s", res.status, res.body)
	}
	if got := res.header.Get("Location"); got != "/e/expo/slots" {
		t.Fatalf("entry page: got Location %q, want /e/expo/slots", got)
	}
	if res.cookie("foyer_b_expo") == "" {
		t.Fatalf("entry page: got no foyer_b_expo session cookie")
	}
	return client
}

// mustSlotsPage loads the slots page and fails the test unless it is 200.
func mustSlotsPage(t *testing.T, ts *testServer, client *http.Client) reply {
	t.Helper()
	page := ts.get(t, client, "/e/expo/slots")
	if page.status != http.StatusOK {
		t.Fatalf("slots page: got status %d, want 200:\n%s", page.status, page.body)
	}
	return page
}

var checkoutPath = regexp.MustCompile(`^/e/expo/checkout/(h_expo_[a-z0-9]+)$`)

// holdByForm sends the slots page's form for count adult tickets in slot
// and returns the hold id from the redirect to the checkout page.
func holdByForm(t *testing.T, ts *testServer, client *http.Client, slot string, count string) string {
	t.Helper()
	csrf := csrfField(t, mustSlotsPage(t, ts, client))

	res := ts.postForm(t, client, "/e/expo/holds", url.Values{"csrf": {csrf}, "slot": {slot}, "qty_adult": {count}, "qty_child": {""}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("hold form: got status %d, want 303:\n%s", res.status, res.body)
	}
	m := checkoutPath.FindStringSubmatch(res.header.Get("Location"))
	if m == nil {
		t.Fatalf("hold form: got Location %q, want a checkout page", res.header.Get("Location"))
	}
	return m[1]
}

func TestBookingPagesFlow(t *testing.T) {
	forEachStore(t, func(t *testing.T, st openedStore) {
		ts := startBooking(t, st, 4)
		if err := st.booking.SetCapacity(context.Background(), "expo", slotID("10:30"), 0); err != nil {
			t.Fatalf("set capacity: %v", err)
		}
		client := startBookingSession(t, ts)

		slots := mustSlotsPage(t, ts, client)
		for _, want := range []string{
			"Times are in Europe/Amsterdam.",
			"09:00–09:30",
			`id="available-` + slotID("09:00") + `">4 places left<`,
			`id="available-` + slotID("10:30") + `">Sold out<`,
			`name="qty_adult"`,
			"Adult, EUR 17.50 each",
		} {
			if !strings.Contains(string(slots.body), want) {
				t.Errorf("slots page does not contain %q:\n%s", want, slots.body)
			}
		}
		soldOutRadio := regexp.MustCompile(`<input[^>]*id="slot-` + slotID("10:30") + `"[^>]*>`).Find(slots.body)
		if !strings.Contains(string(soldOutRadio), " disabled") {
			t.Errorf("sold out slot's radio button %s is not disabled", soldOutRadio)
		}

		holdID := holdByForm(t, ts, client, slotID("09:30"), "2")

		checkout := ts.get(t, client, "/e/expo/checkout/"+holdID)
		if checkout.status != http.StatusOK {
			t.Fatalf("checkout page: got status %d, want 200:\n%s", checkout.status, checkout.body)
		}
		for _, want := range []string{"Pay EUR 35.00", `<time id="hold-expires" datetime="`, "09:30–10:00", `id="card"`} {
			if !strings.Contains(string(checkout.body), want) {
				t.Errorf("checkout page does not contain %q:\n%s", want, checkout.body)
			}
		}
		// The default hold lifetime is 10 minutes, and a moment has passed.
		countdown := regexp.MustCompile(`data-seconds="(59\d|600)">(9 minutes \d+ seconds?|10 minutes)<`)
		if !countdown.Match(checkout.body) {
			t.Errorf("checkout page does not count down from about 10 minutes:\n%s", checkout.body)
		}
		before, err := st.booking.GetHold(context.Background(), holdID)
		if err != nil {
			t.Fatalf("get hold: %v", err)
		}

		csrf := csrfField(t, checkout)
		declined := ts.postForm(t, client, "/e/expo/checkout/"+holdID+"/pay", url.Values{"csrf": {csrf}, "card": {booking.TestCardDeclined}})
		if declined.status != http.StatusPaymentRequired {
			t.Errorf("declined card: got status %d, want 402", declined.status)
		}
		if !strings.Contains(string(declined.body), "Your card was declined") || !strings.Contains(string(declined.body), `id="pay-form"`) {
			t.Errorf("declined card: page does not show the error and the card form again:\n%s", declined.body)
		}
		after, err := st.booking.GetHold(context.Background(), holdID)
		if err != nil {
			t.Fatalf("get hold: %v", err)
		}
		if after.State != booking.HoldActive || !after.ExpiresAt.Equal(before.ExpiresAt) {
			t.Errorf("after a decline: got state %s expiry %s, want active with the expiry unchanged at %s", after.State, after.ExpiresAt, before.ExpiresAt)
		}

		paid := ts.postForm(t, client, "/e/expo/checkout/"+holdID+"/pay", url.Values{"csrf": {csrf}, "card": {"4242 4242 4242 4242"}})
		if paid.status != http.StatusSeeOther {
			t.Fatalf("approved card: got status %d, want 303:\n%s", paid.status, paid.body)
		}
		orderURL := paid.header.Get("Location")
		orderID, ok := strings.CutPrefix(orderURL, "/e/expo/orders/")
		if !ok {
			t.Fatalf("approved card: got Location %q, want an order page", orderURL)
		}

		confirmation := ts.get(t, client, orderURL)
		if confirmation.status != http.StatusOK {
			t.Fatalf("order page: got status %d, want 200:\n%s", confirmation.status, confirmation.body)
		}
		for _, want := range []string{"Your booking is confirmed", `<strong id="order-ref">` + orderID + `</strong>`, "2 × Adult", "EUR 35.00"} {
			if !strings.Contains(string(confirmation.body), want) {
				t.Errorf("order page does not contain %q:\n%s", want, confirmation.body)
			}
		}

		// The paid hold's checkout page now leads to its order.
		if res := ts.get(t, client, "/e/expo/checkout/"+holdID); res.status != http.StatusSeeOther || res.header.Get("Location") != orderURL {
			t.Errorf("checkout of a paid hold: got status %d Location %q, want 303 to %s", res.status, res.header.Get("Location"), orderURL)
		}
		if held, sold := ts.adminGetEvent(t, "expo").totals(); held != 0 || sold != 2 {
			t.Errorf("got held %d sold %d, want 0 and 2", held, sold)
		}
	})
}

func TestBookingPagesRejectBadCSRF(t *testing.T) {
	forEachStore(t, func(t *testing.T, st openedStore) {
		ts := startBooking(t, st, 4)
		client := startBookingSession(t, ts)
		other := startBookingSessionFor(t, ts)
		otherCSRF := csrfField(t, mustSlotsPage(t, ts, other))

		cases := []struct {
			name string
			csrf []string
		}{
			{name: "missing"},
			{name: "garbage", csrf: []string{"nonsense"}},
			{name: "unknown key", csrf: []string{"nokey.AAAA"}},
			{name: "another session's", csrf: []string{otherCSRF}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				form := url.Values{"slot": {slotID("09:00")}, "qty_adult": {"1"}}
				if tc.csrf != nil {
					form["csrf"] = tc.csrf
				}
				res := ts.postForm(t, client, "/e/expo/holds", form)

				if res.status != http.StatusForbidden {
					t.Errorf("got status %d, want 403:\n%s", res.status, res.body)
				}
				if !strings.Contains(string(res.body), "Reload the page and send the form again") {
					t.Errorf("page does not say what to do:\n%s", res.body)
				}
			})
		}

		if held, sold := ts.adminGetEvent(t, "expo").totals(); held != 0 || sold != 0 {
			t.Errorf("got held %d sold %d after rejected forms, want 0 and 0", held, sold)
		}
		// The same form with the session's own token goes through.
		holdByForm(t, ts, client, slotID("09:00"), "1")
	})
}

// startBookingSessionFor admits another browser in the same room through
// the API and the entry page.
func startBookingSessionFor(t *testing.T, ts *testServer) *http.Client {
	t.Helper()
	visitor := ts.admitOneVisitor(t, "museum")
	client := browserClient(t)
	u, err := url.Parse(ts.URL)
	if err != nil {
		t.Fatalf("parse server URL: %v", err)
	}
	client.Jar.SetCookies(u, []*http.Cookie{{Name: "foyer_a_museum", Value: visitor.token, Path: "/"}})

	if res := ts.get(t, client, "/e/expo"); res.status != http.StatusSeeOther {
		t.Fatalf("entry page: got status %d, want 303:\n%s", res.status, res.body)
	}
	return client
}

func TestBookingSessionExchangedOnce(t *testing.T) {
	forEachStore(t, func(t *testing.T, st openedStore) {
		ts := startBooking(t, st, 4)
		client, _ := admittedBrowser(t, ts, "museum", "expo")
		u, err := url.Parse(ts.URL)
		if err != nil {
			t.Fatalf("parse server URL: %v", err)
		}
		var token string
		for _, c := range client.Jar.Cookies(u) {
			if c.Name == "foyer_a_museum" {
				token = c.Value
			}
		}

		first := ts.get(t, client, "/e/expo")
		if first.status != http.StatusSeeOther || first.header.Get("Location") != "/e/expo/slots" {
			t.Fatalf("first entry: got status %d Location %q, want 303 to /e/expo/slots", first.status, first.header.Get("Location"))
		}
		for _, line := range first.header.Values("Set-Cookie") {
			if strings.HasPrefix(line, "foyer_b_expo=") && (!strings.Contains(line, "HttpOnly") || !strings.Contains(line, "SameSite=Lax")) {
				t.Errorf("session cookie: got Set-Cookie %q, want HttpOnly and SameSite=Lax", line)
			}
		}

		// A reload finds the session cookie and never spends the token again.
		for i := range 2 {
			res := ts.get(t, client, "/e/expo")
			if res.status != http.StatusSeeOther || res.header.Get("Location") != "/e/expo/slots" {
				t.Errorf("reload %d: got status %d Location %q, want 303 to /e/expo/slots", i+1, res.status, res.header.Get("Location"))
			}
		}
		mustSlotsPage(t, ts, client)

		// Another browser with a copy of the spent token is turned away.
		copied := browserClient(t)
		copied.Jar.SetCookies(u, []*http.Cookie{{Name: "foyer_a_museum", Value: token, Path: "/"}})
		res := ts.get(t, copied, "/e/expo")
		if res.status != http.StatusConflict || !strings.Contains(string(res.body), "This admission was already used") {
			t.Errorf("second exchange: got status %d, want 409 with the already-used page:\n%s", res.status, res.body)
		}
		if res.cookie("foyer_b_expo") != "" {
			t.Errorf("second exchange set a session cookie")
		}

		// The API rejects the spent token too.
		api := ts.sendAuth(t, http.MethodPost, "/api/v1/events/expo/holds", token, map[string]any{"slot": slotID("09:00"), "quantity": 1})
		if api.status != http.StatusConflict || api.errorCode() != "token_used" {
			t.Errorf("API exchange of a spent token: got status %d code %q, want 409 token_used", api.status, api.errorCode())
		}
	})
}

func TestBookingPagesWithoutSession(t *testing.T) {
	forEachStore(t, func(t *testing.T, st openedStore) {
		ts := startBooking(t, st, 4)

		if res := ts.get(t, nil, "/e/expo/slots"); res.status != http.StatusSeeOther || res.header.Get("Location") != "/e/expo" {
			t.Errorf("slots page: got status %d Location %q, want 303 to /e/expo", res.status, res.header.Get("Location"))
		}
		res := ts.get(t, nil, "/e/expo")
		if res.status != http.StatusForbidden || !strings.Contains(string(res.body), "Please wait in line first") || !strings.Contains(string(res.body), `href="/r/museum"`) {
			t.Errorf("entry page: got status %d, want 403 asking to wait in line:\n%s", res.status, res.body)
		}
		res = ts.postForm(t, nil, "/e/expo/holds", url.Values{"slot": {slotID("09:00")}, "qty_adult": {"1"}})
		if res.status != http.StatusUnauthorized || !strings.Contains(string(res.body), "Your booking session has ended") {
			t.Errorf("form without a session: got status %d, want 401 saying the session ended:\n%s", res.status, res.body)
		}
		if res := ts.get(t, nil, "/e/nowhere"); res.status != http.StatusNotFound || !strings.Contains(string(res.body), "No event has this id") {
			t.Errorf("unknown event: got status %d, want 404:\n%s", res.status, res.body)
		}
		req := newRequest(t, http.MethodHead, ts.URL+"/e/expo", nil)
		if res := send(t, nil, req); res.status == http.StatusSeeOther {
			t.Errorf("HEAD on the entry page: got 303, want no session started")
		}
	})
}

func TestBookingPagesShowErrors(t *testing.T) {
	forEachStore(t, func(t *testing.T, st openedStore) {
		ts := startBooking(t, st, 2)
		client := startBookingSession(t, ts)
		csrf := csrfField(t, mustSlotsPage(t, ts, client))

		cases := []struct {
			name       string
			form       url.Values
			wantStatus int
			wantText   string
		}{
			{name: "no tickets", form: url.Values{"slot": {slotID("09:00")}, "qty_adult": {"0"}}, wantStatus: http.StatusBadRequest, wantText: "Choose at least 1 ticket"},
			{name: "negative", form: url.Values{"slot": {slotID("09:00")}, "qty_adult": {"-1"}}, wantStatus: http.StatusBadRequest, wantText: "Choose at least 1 ticket"},
			{name: "not a number", form: url.Values{"slot": {slotID("09:00")}, "qty_adult": {"two"}}, wantStatus: http.StatusBadRequest, wantText: "is not a whole number"},
			{name: "no slot", form: url.Values{"qty_adult": {"1"}}, wantStatus: http.StatusBadRequest, wantText: "Choose a time slot"},
			{name: "unknown slot", form: url.Values{"slot": {"20990101-0900"}, "qty_adult": {"1"}}, wantStatus: http.StatusNotFound, wantText: "This event has no time slot with this id"},
			{name: "more than free", form: url.Values{"slot": {slotID("09:00")}, "qty_adult": {"3"}}, wantStatus: http.StatusConflict, wantText: "Not enough places are free"},
			{name: "above order limit", form: url.Values{"slot": {slotID("09:00")}, "qty_adult": {"3"}, "qty_child": {"2"}}, wantStatus: http.StatusUnprocessableEntity, wantText: "This is more than the event allows"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				tc.form.Set("csrf", csrf)
				res := ts.postForm(t, client, "/e/expo/holds", tc.form)

				if res.status != tc.wantStatus {
					t.Errorf("got status %d, want %d", res.status, tc.wantStatus)
				}
				if !strings.Contains(string(res.body), `id="booking-error"`) || !strings.Contains(string(res.body), tc.wantText) {
					t.Errorf("page does not show the error %q:\n%s", tc.wantText, res.body)
				}
				if !strings.Contains(string(res.body), `id="slots-form"`) {
					t.Errorf("page does not show the slots form again:\n%s", res.body)
				}
			})
		}
		if held, sold := ts.adminGetEvent(t, "expo").totals(); held != 0 || sold != 0 {
			t.Errorf("got held %d sold %d after rejected forms, want 0 and 0", held, sold)
		}

		t.Run("release", func(t *testing.T) {
			holdID := holdByForm(t, ts, client, slotID("09:00"), "2")
			slots := mustSlotsPage(t, ts, client)
			if !strings.Contains(string(slots.body), `href="/e/expo/checkout/`+holdID+`"`) {
				t.Errorf("slots page does not link to the open hold:\n%s", slots.body)
			}
			checkout := ts.get(t, client, "/e/expo/checkout/"+holdID)

			res := ts.postForm(t, client, "/e/expo/checkout/"+holdID+"/release", url.Values{"csrf": {csrfField(t, checkout)}})

			if res.status != http.StatusSeeOther || res.header.Get("Location") != "/e/expo/slots" {
				t.Errorf("got status %d Location %q, want 303 to /e/expo/slots", res.status, res.header.Get("Location"))
			}
			if held, _ := ts.adminGetEvent(t, "expo").totals(); held != 0 {
				t.Errorf("got %d held after the release, want 0", held)
			}
		})

		t.Run("someone else's hold", func(t *testing.T) {
			other := startBookingSessionFor(t, ts)
			holdID := holdByForm(t, ts, other, slotID("09:30"), "1")

			res := ts.get(t, client, "/e/expo/checkout/"+holdID)

			if res.status != http.StatusForbidden || !strings.Contains(string(res.body), "This hold belongs to another visitor") {
				t.Errorf("got status %d, want 403 saying the hold is another visitor's:\n%s", res.status, res.body)
			}
		})
	})
}

func TestBookingPagesExpiredHold(t *testing.T) {
	forEachStore(t, func(t *testing.T, st openedStore) {
		ts := startBooking(t, st, 4)
		startExpiringEvent(t, st, ts, 300*time.Millisecond)
		visitor := ts.admitOneVisitor(t, "gallery")
		client := browserClient(t)
		u, err := url.Parse(ts.URL)
		if err != nil {
			t.Fatalf("parse server URL: %v", err)
		}
		client.Jar.SetCookies(u, []*http.Cookie{{Name: "foyer_a_gallery", Value: visitor.token, Path: "/"}})
		if res := ts.get(t, client, "/e/flash"); res.status != http.StatusSeeOther {
			t.Fatalf("entry page: got status %d, want 303:\n%s", res.status, res.body)
		}
		csrf := csrfField(t, ts.get(t, client, "/e/flash/slots"))
		res := ts.postForm(t, client, "/e/flash/holds", url.Values{"csrf": {csrf}, "slot": {slotID("09:00")}, "qty_adult": {"1"}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("hold form: got status %d, want 303:\n%s", res.status, res.body)
		}
		checkout := res.header.Get("Location")

		time.Sleep(400 * time.Millisecond)
		page := ts.get(t, client, checkout)
		paid := ts.postForm(t, client, checkout+"/pay", url.Values{"csrf": {csrf}, "card": {booking.TestCardApproved}})

		for name, res := range map[string]reply{"checkout page": page, "pay form": paid} {
			if res.status != http.StatusGone {
				t.Errorf("%s: got status %d, want 410", name, res.status)
			}
			if !strings.Contains(string(res.body), "Your hold expired") || !strings.Contains(string(res.body), `href="/e/flash/slots"`) {
				t.Errorf("%s: page does not say the hold expired with a link to the slots:\n%s", name, res.body)
			}
		}
		if got := ts.Payments.Charges(); got != 0 {
			t.Errorf("got %d approved charges, want 0", got)
		}
	})
}
