package loadtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fault is the bug a fake server has.
type fault int

const (
	faultNone fault = iota
	// faultOutOfOrder admits the newest visitor first.
	faultOutOfOrder
	// faultOversell takes holds without checking free places and reports
	// every slot as free.
	faultOversell
	// faultAdmitTwice writes every tenth admission into the log twice.
	faultAdmitTwice
	// faultAdmitAbandoned never skips visitors who stopped polling, while
	// it reports a heartbeat grace of one second.
	faultAdmitAbandoned
)

// fakeFoyer implements just the endpoints the load tester calls, in
// memory, with one deliberate fault. It admits at a token-bucket rate, in
// join order unless the fault changes that.
type fakeFoyer struct {
	fault fault

	mu        sync.Mutex
	perSecond float64
	burst     int
	opensAt   time.Time
	tokens    float64
	bucketAt  time.Time
	queue     []string
	admitted  map[string]bool
	log       []admissionBody
	slots     []slotStatsBody
	holds     map[string]fakeHold
	orders    []orderBody
	nextID    int
}

type fakeHold struct {
	visitor string
	slot    int
	qty     int
	paid    bool
}

// startFake serves a fake with fault on 127.0.0.1 until the test ends.
func startFake(t *testing.T, f fault) string {
	t.Helper()
	fake := &fakeFoyer{fault: f, admitted: map[string]bool{}, holds: map[string]fakeHold{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/admin/rooms/{room}/reset", fake.reset)
	mux.HandleFunc("PATCH /api/v1/admin/rooms/{room}", fake.patchRoom)
	mux.HandleFunc("GET /api/v1/admin/rooms/{room}", fake.getRoom)
	mux.HandleFunc("GET /api/v1/admin/rooms/{room}/admissions", fake.admissions)
	mux.HandleFunc("POST /api/v1/admin/events", fake.createEvent)
	mux.HandleFunc("GET /api/v1/admin/events/{event}", fake.getEvent)
	mux.HandleFunc("GET /api/v1/admin/events/{event}/orders", fake.listOrders)
	mux.HandleFunc("POST /api/v1/rooms/{room}/join", fake.join)
	mux.HandleFunc("GET /api/v1/rooms/{room}/status", fake.status)
	mux.HandleFunc("GET /api/v1/events/{event}/slots", fake.listSlots)
	mux.HandleFunc("POST /api/v1/events/{event}/holds", fake.hold)
	mux.HandleFunc("POST /api/v1/holds/{hold}/pay", fake.pay)
	mux.HandleFunc("GET /api/v1/orders/{order}", fake.order)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()

	// Admission ticks, like a real edge's.
	stop := make(chan struct{})
	ticks := time.NewTicker(20 * time.Millisecond)
	go func() {
		for {
			select {
			case now := <-ticks.C:
				fake.mu.Lock()
				fake.admitDue(now)
				fake.mu.Unlock()
			case <-stop:
				return
			}
		}
	}()
	t.Cleanup(func() {
		ticks.Stop()
		close(stop)
		_ = srv.Close()
	})
	return "http://" + ln.Addr().String()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": code}})
}

func (f *fakeFoyer) reset(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queue, f.log, f.admitted = nil, nil, map[string]bool{}
	f.opensAt, f.bucketAt = time.Time{}, time.Time{}
	writeJSON(w, http.StatusOK, map[string]any{"id": r.PathValue("room")})
}

func (f *fakeFoyer) patchRoom(w http.ResponseWriter, r *http.Request) {
	var body struct {
		RatePerMinute *float64 `json:"rate_per_minute"`
		Burst         *int     `json:"burst"`
		RoomState     *string  `json:"room_state"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_json")
		return
	}
	f.mu.Lock()
	if body.RatePerMinute != nil {
		f.perSecond = *body.RatePerMinute / 60
	}
	if body.Burst != nil {
		f.burst = *body.Burst
	}
	if body.RoomState != nil && *body.RoomState == "open" {
		f.opensAt = time.Now()
	}
	f.mu.Unlock()
	f.getRoom(w, r)
}

func (f *fakeFoyer) getRoom(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	grace := int64(3600)
	if f.fault == faultAdmitAbandoned {
		grace = 1
	}
	writeJSON(w, http.StatusOK, roomBody{
		ID:                    r.PathValue("room"),
		RoomState:             "open",
		RatePerMinute:         f.perSecond * 60,
		Burst:                 f.burst,
		MaxActive:             1_000_000,
		Mode:                  "fixed",
		HeartbeatGraceSeconds: grace,
		Waiting:               int64(len(f.queue)),
		Admitted:              int64(len(f.admitted)),
	})
}

// admitDue admits the visitors that the token bucket allows by now. The
// bucket starts full at opening and holds at most burst tokens. The caller
// holds f.mu.
func (f *fakeFoyer) admitDue(now time.Time) {
	if f.opensAt.IsZero() || now.Before(f.opensAt) {
		return
	}
	if f.bucketAt.IsZero() {
		f.tokens, f.bucketAt = float64(f.burst), f.opensAt
	}
	f.tokens = min(float64(f.burst), f.tokens+f.perSecond*now.Sub(f.bucketAt).Seconds())
	f.bucketAt = now

	for ; f.tokens >= 1 && len(f.queue) > 0; f.tokens-- {
		var visitor string
		if f.fault == faultOutOfOrder {
			visitor, f.queue = f.queue[len(f.queue)-1], f.queue[:len(f.queue)-1]
		} else {
			visitor, f.queue = f.queue[0], f.queue[1:]
		}
		f.admitted[visitor] = true
		entry := admissionBody{Visitor: visitor, AdmittedAt: now}
		f.log = append(f.log, entry)
		if f.fault == faultAdmitTwice && len(f.admitted)%10 == 0 {
			f.log = append(f.log, entry)
		}
	}
}

func (f *fakeFoyer) admissions(w http.ResponseWriter, r *http.Request) {
	after, _ := strconv.Atoi(r.URL.Query().Get("after"))
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	f.mu.Lock()
	defer f.mu.Unlock()
	after = min(after, len(f.log))
	end := min(after+limit, len(f.log))
	w.Header().Set("X-Next-After", strconv.Itoa(end))
	writeJSON(w, http.StatusOK, f.log[after:end])
}

func (f *fakeFoyer) createEvent(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Days []struct {
			Open     string `json:"open"`
			Close    string `json:"close"`
			Capacity int    `json:"capacity"`
		} `json:"days"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || len(body.Days) != 1 {
		writeError(w, http.StatusBadRequest, "invalid_event")
		return
	}
	open, err1 := time.Parse("15:04", body.Days[0].Open)
	closing, err2 := time.Parse("15:04", body.Days[0].Close)
	if err1 != nil || err2 != nil {
		writeError(w, http.StatusBadRequest, "invalid_event")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.slots = nil
	for at := open; at.Before(closing); at = at.Add(30 * time.Minute) {
		f.slots = append(f.slots, slotStatsBody{ID: at.Format("1504"), Capacity: body.Days[0].Capacity})
	}
	writeJSON(w, http.StatusCreated, map[string]any{"slots": f.slots})
}

func (f *fakeFoyer) getEvent(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	writeJSON(w, http.StatusOK, eventStatsBody{Slots: f.slots})
}

func (f *fakeFoyer) listOrders(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	writeJSON(w, http.StatusOK, f.orders)
}

func (f *fakeFoyer) join(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.nextID++
	visitor := fmt.Sprintf("v%06d", f.nextID)
	sequence := int64(f.nextID)
	f.queue = append(f.queue, visitor)
	f.mu.Unlock()

	http.SetCookie(w, &http.Cookie{Name: "fake_q", Value: visitor, Path: "/"})
	w.Header().Set("Retry-After", "1")
	writeJSON(w, http.StatusCreated, map[string]any{"visitor": visitor, "sequence": sequence, "state": stateWaiting, "room_state": "open", "refresh_seconds": 1})
}

func (f *fakeFoyer) status(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie("fake_q")
	if err != nil {
		writeError(w, http.StatusUnauthorized, "ticket_missing")
		return
	}
	f.mu.Lock()
	f.admitDue(time.Now())
	admitted := f.admitted[c.Value]
	f.mu.Unlock()

	body := map[string]any{"visitor": c.Value, "state": stateWaiting, "room_state": "open", "refresh_seconds": 1}
	if admitted {
		body["state"] = stateAdmitted
		body["admission_token"] = "tok-" + c.Value
	}
	w.Header().Set("Retry-After", "1")
	writeJSON(w, http.StatusOK, body)
}

func (f *fakeFoyer) listSlots(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]slotBody, len(f.slots))
	for i, s := range f.slots {
		out[i] = slotBody{ID: s.ID, Capacity: s.Capacity, Available: s.Capacity - s.Sold - s.Held}
		if f.fault == faultOversell {
			out[i].Available = s.Capacity
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// sessionVisitor returns the visitor of an admission token or a session
// cookie, and sets the session cookie.
func sessionVisitor(w http.ResponseWriter, r *http.Request) string {
	if token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer tok-"); ok {
		http.SetCookie(w, &http.Cookie{Name: "fake_s", Value: token, Path: "/"})
		return token
	}
	if c, err := r.Cookie("fake_s"); err == nil {
		return c.Value
	}
	return ""
}

func (f *fakeFoyer) hold(w http.ResponseWriter, r *http.Request) {
	visitor := sessionVisitor(w, r)
	var body struct {
		Slot     string `json:"slot"`
		Quantity int    `json:"quantity"`
	}
	if visitor == "" || json.NewDecoder(r.Body).Decode(&body) != nil {
		writeError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.slots {
		s := &f.slots[i]
		if s.ID != body.Slot {
			continue
		}
		if f.fault != faultOversell && s.Capacity-s.Sold-s.Held < body.Quantity {
			writeError(w, http.StatusConflict, "sold_out")
			return
		}
		s.Held += body.Quantity
		f.nextID++
		id := fmt.Sprintf("h%06d", f.nextID)
		f.holds[id] = fakeHold{visitor: visitor, slot: i, qty: body.Quantity}
		writeJSON(w, http.StatusCreated, holdBody{HoldID: id})
		return
	}
	writeError(w, http.StatusNotFound, "unknown_slot")
}

func (f *fakeFoyer) pay(w http.ResponseWriter, r *http.Request) {
	visitor := sessionVisitor(w, r)
	var body struct {
		Card string `json:"card"`
	}
	if visitor == "" || json.NewDecoder(r.Body).Decode(&body) != nil {
		writeError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	if body.Card != cardApproved {
		writeError(w, http.StatusPaymentRequired, "payment_declined")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	hold, ok := f.holds[r.PathValue("hold")]
	if !ok || hold.visitor != visitor || hold.paid {
		writeError(w, http.StatusNotFound, "hold_not_found")
		return
	}
	hold.paid = true
	f.holds[r.PathValue("hold")] = hold
	slot := &f.slots[hold.slot]
	slot.Held -= hold.qty
	slot.Sold += hold.qty

	f.nextID++
	order := orderBody{OrderID: fmt.Sprintf("o%06d", f.nextID), Slot: slot.ID, Visitor: visitor, State: orderConfirmed, Quantity: hold.qty}
	order.Tickets = make([]struct {
		Type string `json:"type"`
	}, hold.qty)
	f.orders = append(f.orders, order)
	writeJSON(w, http.StatusOK, order)
}

func (f *fakeFoyer) order(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, o := range f.orders {
		if o.OrderID == r.PathValue("order") {
			writeJSON(w, http.StatusOK, o)
			return
		}
	}
	writeError(w, http.StatusNotFound, "order_not_found")
}

// fakeScenario is a small run against a fake: 200 visitors in one second,
// admitted quickly, with declined payments.
func fakeScenario(target string) Scenario {
	s := DefaultScenario()
	s.Targets = []string{target}
	s.AdminToken = testAdminToken
	s.Room = "fake"
	s.MaxVisitors = 200
	s.MaxDuration = 20 * time.Second
	s.RoomSettings = RoomSettings{RatePerMinute: 6000, Burst: 20, MaxActive: 1000, Mode: "fixed"}
	s.EventSetup = EventSetup{Slots: 2, Capacity: 100}
	s.Arrivals = []Arrival{{Kind: KindBurst, Visitors: 200, Within: time.Second}}
	s.Behavior = Behavior{TicketsMin: 1, TicketsMax: 4, DeclineShare: 0.2, PayRetries: 2}
	s.Engine.Workers = 32
	s.Engine.RequestTimeout = 5 * time.Second
	return s
}

func TestRunCatchesBrokenServers(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		fault fault
		// check is the check that must fail.
		check string
		edit  func(*Scenario)
	}{
		{name: "admits out of order", fault: faultOutOfOrder, check: "admission order follows join order"},
		{name: "oversells", fault: faultOversell, check: "no slot oversold", edit: func(s *Scenario) {
			s.EventSetup.Capacity = 20
		}},
		{name: "admits a visitor twice", fault: faultAdmitTwice, check: "no visitor admitted twice"},
		{name: "admits abandoned visitors", fault: faultAdmitAbandoned, check: "abandoned visitors used no admission", edit: func(s *Scenario) {
			s.MaxVisitors = 60
			s.Arrivals = []Arrival{{Kind: KindBurst, Visitors: 60, Within: 200 * time.Millisecond}}
			s.RoomSettings.RatePerMinute, s.RoomSettings.Burst = 600, 1
			s.Behavior.AbandonShare, s.Behavior.AbandonWithin = 0.5, 300*time.Millisecond
			s.Checks.AbandonSlack = 500 * time.Millisecond
		}},
		{name: "has no fault", fault: faultNone},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := fakeScenario(startFake(t, tc.fault))
			if tc.edit != nil {
				tc.edit(&s)
			}
			report, err := Run(t.Context(), s, Options{})
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			var summary strings.Builder
			report.WriteSummary(&summary)

			if tc.check == "" {
				if !report.Passed {
					t.Errorf("got a failed run against a correct fake, want a pass:\n%s", summary.String())
				}
				return
			}
			if report.Ending != "all visitors finished" {
				t.Errorf("ending: got %q, want all visitors finished:\n%s", report.Ending, summary.String())
			}
			if report.Passed {
				t.Errorf("got a passed run, want check %q to fail:\n%s", tc.check, summary.String())
			}
			for _, c := range report.Checks {
				if c.Name == tc.check && c.Status != CheckFail {
					t.Errorf("check %q: got %s (%s), want fail", c.Name, c.Status, c.Summary)
				}
				if c.Name == tc.check && c.Status == CheckFail {
					t.Logf("caught: %s: %s %v", c.Name, c.Summary, c.Examples)
				}
			}
		})
	}
}

func TestRunInterruptedStillReports(t *testing.T) {
	t.Parallel()
	s := fakeScenario(startFake(t, faultNone))
	// Visitors arrive over ten seconds, so the cancel lands mid-run.
	s.Arrivals = []Arrival{{Kind: KindBurst, Visitors: 200, Within: 10 * time.Second}}

	ctx, cancel := context.WithTimeout(t.Context(), 1500*time.Millisecond)
	defer cancel()
	start := time.Now()
	report, err := Run(ctx, s, Options{})
	if err != nil {
		t.Fatalf("run: %v", err)
	}

	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("run took %s after a cancel at 1.5s, want it to stop within a few seconds", took)
	}
	if report.Ending != "interrupted" {
		t.Errorf("ending: got %q, want interrupted", report.Ending)
	}
	if n := report.Outcomes["unfinished"]; n == 0 || n == 200 {
		t.Errorf("unfinished visitors: got %d, want some but not all 200", n)
	}
	if len(report.Checks) == 0 {
		t.Errorf("checks: got none, want the checks run on what happened")
	}
	checkReportFiles(t, report, t.TempDir())
}
