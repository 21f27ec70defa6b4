package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"foyer/booking"
	"foyer/waitroom"
)

// raceClient returns a client that keeps a connection per concurrent
// request, so that a race of a few hundred requests opens each connection
// once.
func raceClient(conns int) *http.Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = conns
	return &http.Client{Timeout: 10 * time.Second, Transport: transport}
}

// raceReply is one response of a race, or the error that prevented it.
type raceReply struct {
	status int
	body   []byte
	err    error
}

// racePost sends a JSON POST from a goroutine other than the test's, which
// must not call t.Fatal.
func racePost(client *http.Client, url, auth string, body any) raceReply {
	raw, err := json.Marshal(body)
	if err != nil {
		return raceReply{err: err}
	}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url, bytes.NewReader(raw))
	if err != nil {
		return raceReply{err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+auth)
	return raceDo(client, req)
}

func raceDo(client *http.Client, req *http.Request) raceReply {
	res, err := client.Do(req)
	if err != nil {
		return raceReply{err: err}
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return raceReply{status: res.StatusCode, body: body, err: err}
}

// watchSlot reads the slot's counts through the admin API until stop is
// closed, at most 5000 times, and returns the reads that break sold + held
// ≤ capacity, and the number of reads.
func watchSlot(client *http.Client, ts *testServer, event, slot string, stop <-chan struct{}) (violations []string, reads int) {
	for reads < 5000 {
		select {
		case <-stop:
			return violations, reads
		default:
		}

		req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, ts.URL+"/api/v1/admin/events/"+event, nil)
		if err != nil {
			return append(violations, err.Error()), reads
		}
		req.Header.Set("Authorization", "Bearer "+testAdminToken)
		res := raceDo(client, req)
		reads++
		var body adminEvent
		if res.err != nil || json.Unmarshal(res.body, &body) != nil {
			violations = append(violations, fmt.Sprintf("read %d failed: %v %s", reads, res.err, res.body))
			continue
		}
		for _, s := range body.Slots {
			if s.ID == slot && s.Held+s.Sold > s.Capacity {
				violations = append(violations, fmt.Sprintf("read %d: held %d + sold %d > capacity %d", reads, s.Held, s.Sold, s.Capacity))
			}
		}
	}
	return violations, reads
}

func TestBookingHoldRace(t *testing.T) {
	const (
		visitors = 200
		capacity = 50
	)
	forEachStore(t, func(t *testing.T, st openedStore) {
		seedRoom(t, st.store, waitroom.Settings{ID: "rush", Event: "rush", RatePerMinute: 60 * visitors, Burst: visitors, MaxActive: 2 * visitors})
		event, slots := testEvent(t, "rush", "rush", capacity)
		createEvent(t, st.booking, event, slots)
		ts := startServer(t, st.store, serverOptions{noLoop: true, booking: st.booking})
		admitted := ts.admitVisitors(t, "rush", visitors)
		slot := slotID("09:00")
		client := raceClient(visitors + 1)

		stop := make(chan struct{})
		type watchResult struct {
			violations []string
			reads      int
		}
		watched := make(chan watchResult, 1)
		go func() {
			violations, reads := watchSlot(client, ts, "rush", slot, stop)
			watched <- watchResult{violations, reads}
		}()

		start := make(chan struct{})
		holds := make([]raceReply, visitors)
		var wg sync.WaitGroup
		for i, v := range admitted {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				holds[i] = racePost(client, ts.URL+"/api/v1/events/rush/holds", v.token, map[string]any{"slot": slot, "quantity": 1})
			}()
		}
		close(start)
		wg.Wait()

		var winners []holdJSON
		soldOut := 0
		for i, res := range holds {
			switch {
			case res.err != nil:
				t.Errorf("visitor %d: hold request failed: %v", i, res.err)
			case res.status == http.StatusCreated:
				var hold holdJSON
				if err := json.Unmarshal(res.body, &hold); err != nil || hold.Session == nil {
					t.Fatalf("visitor %d: hold body without a session: %v\n%s", i, err, res.body)
				}
				winners = append(winners, hold)
			case res.status == http.StatusConflict && (reply{body: res.body}).errorCode() == "sold_out":
				soldOut++
			default:
				t.Errorf("visitor %d: got status %d, want 201 or 409 sold_out:\n%s", i, res.status, res.body)
			}
		}
		if len(winners) != capacity || soldOut != visitors-capacity {
			t.Errorf("got %d holds and %d sold_out, want %d and %d", len(winners), soldOut, capacity, visitors-capacity)
		}
		pays := make([]raceReply, len(winners))
		for i, hold := range winners {
			wg.Add(1)
			go func() {
				defer wg.Done()
				pays[i] = racePost(client, ts.URL+"/api/v1/holds/"+hold.HoldID+"/pay", hold.Session.ID, map[string]string{"card": booking.TestCardApproved})
			}()
		}
		wg.Wait()
		close(stop)
		watch := <-watched
		for _, v := range watch.violations {
			t.Errorf("during the race: %s", v)
		}
		t.Logf("read the slot %d times during the holds and payments", watch.reads)

		for i, res := range pays {
			var order orderJSON
			if res.err != nil || res.status != http.StatusOK || json.Unmarshal(res.body, &order) != nil || order.State != "confirmed" {
				t.Errorf("winner %d: pay got status %d err %v, want 200 confirmed:\n%s", i, res.status, res.err, res.body)
			}
		}

		for _, s := range ts.adminGetEvent(t, "rush").Slots {
			if s.ID != slot {
				continue
			}
			if s.Sold != capacity || s.Held != 0 || s.Available != 0 {
				t.Errorf("after paying: got sold %d held %d available %d, want %d, 0, 0", s.Sold, s.Held, s.Available, capacity)
			}
		}
		if orders := ts.adminOrders(t, "rush", "confirmed"); len(orders) != capacity {
			t.Errorf("got %d confirmed orders, want %d", len(orders), capacity)
		}
		if got := ts.adminGetRoom(t, "rush").Active; got != visitors-capacity {
			t.Errorf("got %d active visitors, want %d: each paid order releases its visitor", got, visitors-capacity)
		}
	})
}
