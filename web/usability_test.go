package web_test

import (
	"net/http"
	"strings"
	"testing"

	"foyer/waitroom"
	"foyer/waitroom/memstore"
)

func TestHomePageExplainsServer(t *testing.T) {
	ts := startServer(t, memstore.New(nil), serverOptions{noLoop: true})
	res := ts.get(t, nil, "/")
	if res.status != http.StatusOK {
		t.Fatalf("got status %d, want 200", res.status)
	}
	if !strings.Contains(string(res.body), "Follow the link") {
		t.Fatalf("home page does not tell a visitor what to do:\n%s", res.body)
	}
}

func TestAdminBearerSchemeIgnoresCase(t *testing.T) {
	store := memstore.New(nil)
	seedRoom(t, store, waitroom.Settings{ID: "museum"})
	ts := startServer(t, store, serverOptions{noLoop: true})

	req := newRequest(t, http.MethodGet, ts.URL+"/api/v1/admin/rooms/museum", nil)
	req.Header.Set("Authorization", "bearer "+testAdminToken)
	if res := send(t, nil, req); res.status != http.StatusOK {
		t.Fatalf("lowercase scheme: got status %d, want 200:\n%s", res.status, res.body)
	}
}

func TestAdminPatchWrongTypeNamesField(t *testing.T) {
	store := memstore.New(nil)
	seedRoom(t, store, waitroom.Settings{ID: "museum"})
	ts := startServer(t, store, serverOptions{noLoop: true})

	res := ts.admin(t, http.MethodPatch, "/rooms/museum", map[string]any{"rate_per_minute": "fast"})
	if res.status != http.StatusBadRequest || res.errorCode() != "invalid_json" {
		t.Fatalf("got status %d code %q, want 400 invalid_json", res.status, res.errorCode())
	}
	body := string(res.body)
	if !strings.Contains(body, "rate_per_minute") || !strings.Contains(body, "a number") {
		t.Errorf("message does not name the field and the expected type:\n%s", body)
	}
	if strings.Contains(body, "Go struct") {
		t.Errorf("message shows Go internals:\n%s", body)
	}
}

func TestSoldOutPageHeading(t *testing.T) {
	store := memstore.New(nil)
	seedRoom(t, store, waitroom.Settings{ID: "museum", SoldOut: true})
	ts := startServer(t, store, serverOptions{noLoop: true})

	res := ts.get(t, browserClient(t), "/r/museum")
	if res.status != http.StatusConflict {
		t.Fatalf("got status %d, want 409", res.status)
	}
	if !strings.Contains(string(res.body), "<h1>Sold out</h1>") {
		t.Fatalf("sold-out page does not say so in its heading:\n%s", res.body)
	}
}

func TestCheckoutFormPathReloads(t *testing.T) {
	forEachStore(t, func(t *testing.T, st openedStore) {
		ts := startBooking(t, st, 4)
		client := startBookingSession(t, ts)
		holdID := holdByForm(t, ts, client, slotID("09:30"), "1")

		res := ts.get(t, client, "/e/expo/checkout/"+holdID+"/pay")
		if res.status != http.StatusSeeOther {
			t.Fatalf("GET of the pay form's path: got status %d, want 303", res.status)
		}
		if got, want := res.header.Get("Location"), "/e/expo/checkout/"+holdID; got != want {
			t.Fatalf("got Location %q, want %q", got, want)
		}
	})
}
