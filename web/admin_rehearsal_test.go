package web_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"foyer/booking"
	bookingmem "foyer/booking/memstore"
	"foyer/waitroom/memstore"
)

type rehearsalBody struct {
	Concurrency       int     `json:"concurrency"`
	ServiceTimeMS     float64 `json:"service_time_ms"`
	CallsPerSecond    float64 `json:"calls_per_second"`
	BookingsPerSecond float64 `json:"bookings_per_second"`
}

func decodeRehearsal(t *testing.T, r reply) rehearsalBody {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status: got %d %s, want 200", r.status, r.body)
	}
	var b rehearsalBody
	if err := json.Unmarshal(r.body, &b); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
	return b
}

func TestAdminRehearsalLimits(t *testing.T) {
	rehearsal := booking.NewRehearsalStore(bookingmem.New(bookingmem.Options{}), 8, 100*time.Millisecond)
	ts := startServer(t, memstore.New(nil), serverOptions{booking: rehearsal, rehearsal: rehearsal})

	got := decodeRehearsal(t, ts.admin(t, http.MethodGet, "/rehearsal", nil))
	want := rehearsalBody{Concurrency: 8, ServiceTimeMS: 100, CallsPerSecond: 80, BookingsPerSecond: 40}
	if got != want {
		t.Errorf("GET: got %+v, want %+v", got, want)
	}

	// Halving the concurrency halves the capacity; the service time stays.
	got = decodeRehearsal(t, ts.admin(t, http.MethodPut, "/rehearsal", map[string]any{"concurrency": 4}))
	want = rehearsalBody{Concurrency: 4, ServiceTimeMS: 100, CallsPerSecond: 40, BookingsPerSecond: 20}
	if got != want {
		t.Errorf("PUT concurrency 4: got %+v, want %+v", got, want)
	}
	if l := rehearsal.Limits(); l.Concurrency != 4 || l.ServiceTime != 100*time.Millisecond {
		t.Errorf("store limits after PUT: got %+v, want 4 and 100ms", l)
	}

	got = decodeRehearsal(t, ts.admin(t, http.MethodPut, "/rehearsal", map[string]any{"max_wait_ms": 1000}))
	if l := rehearsal.Limits(); l.MaxWait != time.Second || l.Concurrency != 4 {
		t.Errorf("store limits after PUT max_wait_ms: got %+v, want 1s and concurrency 4", l)
	}

	got = decodeRehearsal(t, ts.admin(t, http.MethodPut, "/rehearsal", map[string]any{"service_time_ms": 12.5}))
	if got.ServiceTimeMS != 12.5 || got.Concurrency != 4 {
		t.Errorf("PUT service_time_ms 12.5: got %+v, want 12.5 ms and concurrency 4", got)
	}

	for _, bad := range []map[string]any{
		{"concurrency": -1},
		{"service_time_ms": -5},
		{"service_time_ms": 600000},
		{"max_wait_ms": -1},
		{"concurrenc": 3},
	} {
		r := ts.admin(t, http.MethodPut, "/rehearsal", bad)
		if r.status != http.StatusBadRequest {
			t.Errorf("PUT %v: got %d %s, want 400", bad, r.status, r.body)
		}
	}
	if l := rehearsal.Limits(); l.Concurrency != 4 || l.ServiceTime != 12500*time.Microsecond {
		t.Errorf("store limits after rejected changes: got %+v, want 4 and 12.5ms unchanged", l)
	}

	noAuth, err := http.Get(ts.URL + "/api/v1/admin/rehearsal")
	if err != nil {
		t.Fatal(err)
	}
	noAuth.Body.Close()
	if noAuth.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET without token: got %d, want 401", noAuth.StatusCode)
	}
}

func TestAdminRehearsalOffIsNotFound(t *testing.T) {
	ts := startServer(t, memstore.New(nil), serverOptions{booking: bookingmem.New(bookingmem.Options{})})
	r := ts.admin(t, http.MethodGet, "/rehearsal", nil)
	if r.status != http.StatusNotFound || r.errorCode() != "no_rehearsal" {
		t.Errorf("GET: got %d %s, want 404 no_rehearsal", r.status, r.body)
	}
}
