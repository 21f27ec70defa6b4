package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"foyer/waitroom"
)

// Size of the load test: visitors arriving at once, served by a bounded pool
// of client goroutines.
const (
	loadVisitors = 5000
	loadWorkers  = 200
	// loadDeadline bounds the whole test, so a stuck server fails it
	// instead of hanging it.
	loadDeadline = 60 * time.Second
	// maxPollInterval caps the Retry-After that virtual visitors wait for,
	// because the test should take seconds, not the minutes browsers would.
	maxPollInterval = 20 * time.Millisecond
)

// loadVisitor is what one virtual visitor saw.
type loadVisitor struct {
	visitor  string
	sequence int64
	polls    int
}

func TestLoadFiveThousandVisitors(t *testing.T) {
	forEachStore(t, func(t *testing.T, st openedStore) {
		seedRoom(t, st.store, waitroom.Settings{
			ID: "launch", Event: "expo", RatePerMinute: 600000, Burst: loadVisitors, MaxActive: 2 * loadVisitors,
		})
		ts := startServer(t, st.store, serverOptions{edge: waitroom.EdgeConfig{Tick: 50 * time.Millisecond}})

		ctx, cancel := context.WithTimeout(context.Background(), loadDeadline)
		defer cancel()
		transport := &http.Transport{MaxIdleConns: loadWorkers, MaxIdleConnsPerHost: loadWorkers, MaxConnsPerHost: loadWorkers}
		defer transport.CloseIdleConnections()
		client := &http.Client{Transport: transport}

		start := time.Now()
		seen, err := runLoad(ctx, cancel, client, ts.URL, "launch")
		if err != nil {
			t.Fatalf("load run: %v", err)
		}
		polls := 0
		for _, v := range seen {
			polls += v.polls
		}
		t.Logf("%d visitors joined and were admitted in %s with %d status polls", loadVisitors, time.Since(start).Round(time.Millisecond), polls)

		// Every visitor has their own visitor id and sequence number, and
		// the sequence numbers are 1 to loadVisitors.
		sequenceOf := make(map[string]int64, loadVisitors)
		visitorOf := make(map[int64]string, loadVisitors)
		for i, v := range seen {
			if _, dup := sequenceOf[v.visitor]; dup {
				t.Errorf("visitor %d: got visitor id %s, which another visitor has too", i, v.visitor)
			}
			if other, dup := visitorOf[v.sequence]; dup {
				t.Errorf("visitor %d: got sequence %d, which visitor %s has too", i, v.sequence, other)
			}
			if v.sequence < 1 || v.sequence > loadVisitors {
				t.Errorf("visitor %d: got sequence %d, want 1 to %d", i, v.sequence, loadVisitors)
			}
			sequenceOf[v.visitor] = v.sequence
			visitorOf[v.sequence] = v.visitor
		}
		if len(sequenceOf) != loadVisitors || len(visitorOf) != loadVisitors {
			t.Errorf("got %d distinct visitor ids and %d distinct sequences, want %d of each", len(sequenceOf), len(visitorOf), loadVisitors)
		}

		// The admission log has every visitor exactly once, in sequence order.
		log := ts.admissionLog(t, "launch", 1000)
		if len(log) != loadVisitors {
			t.Errorf("admission log: got %d entries, want %d", len(log), loadVisitors)
		}
		admitted := make(map[string]bool, len(log))
		for i, entry := range log {
			if admitted[entry.Visitor] {
				t.Errorf("admission log: entry %d admits visitor %s a second time", i, entry.Visitor)
			}
			admitted[entry.Visitor] = true
			if want, ok := sequenceOf[entry.Visitor]; !ok {
				t.Errorf("admission log: entry %d admits visitor %s, who never joined", i, entry.Visitor)
			} else if entry.Sequence != want {
				t.Errorf("admission log: entry %d: got sequence %d for visitor %s, want %d from the join", i, entry.Sequence, entry.Visitor, want)
			}
			if i > 0 && entry.Sequence <= log[i-1].Sequence {
				t.Errorf("admission log: entry %d has sequence %d after %d, want increasing order", i, entry.Sequence, log[i-1].Sequence)
			}
		}

		room := ts.adminGetRoom(t, "launch")
		if room.Admitted != loadVisitors || room.Waiting != 0 || room.Abandoned != 0 {
			t.Errorf("room counters: got admitted %d waiting %d abandoned %d, want %d, 0 and 0", room.Admitted, room.Waiting, room.Abandoned, loadVisitors)
		}
	})
}

// runLoad sends loadVisitors virtual visitors through the room with
// loadWorkers goroutines and returns what each saw. The first error cancels
// the run.
func runLoad(ctx context.Context, cancel context.CancelFunc, client *http.Client, baseURL, room string) ([]loadVisitor, error) {
	seen := make([]loadVisitor, loadVisitors)
	jobs := make(chan int)
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	for range loadWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				v, err := visitRoom(ctx, client, baseURL, room)
				if err != nil {
					errOnce.Do(func() {
						firstErr = fmt.Errorf("visitor %d: %w", i, err)
						cancel()
					})
					continue
				}
				seen[i] = v
			}
		}()
	}

send:
	for i := range loadVisitors {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break send
		}
	}
	close(jobs)
	wg.Wait()

	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("not finished within %s: %w", loadDeadline, err)
	}
	return seen, nil
}

// visitRoom joins the room as a new visitor, then polls status with the
// ticket as a bearer token until the visitor is admitted.
func visitRoom(ctx context.Context, client *http.Client, baseURL, room string) (loadVisitor, error) {
	var joined visitorStatus
	status, retryAfter, err := call(ctx, client, http.MethodPost, baseURL+"/api/v1/rooms/"+room+"/join", "", &joined)
	if err != nil {
		return loadVisitor{}, fmt.Errorf("join: %w", err)
	}
	if status != http.StatusCreated {
		return loadVisitor{}, fmt.Errorf("join: got status %d, want 201", status)
	}
	v := loadVisitor{visitor: joined.Visitor, sequence: joined.seq()}

	for {
		if err := pause(ctx, retryAfter); err != nil {
			return v, err
		}
		var st visitorStatus
		status, retryAfter, err = call(ctx, client, http.MethodGet, baseURL+"/api/v1/rooms/"+room+"/status", joined.Ticket, &st)
		v.polls++
		if err != nil {
			return v, fmt.Errorf("status poll %d: %w", v.polls, err)
		}
		if status != http.StatusOK {
			return v, fmt.Errorf("status poll %d: got status %d, want 200", v.polls, status)
		}
		if st.Visitor != v.visitor || st.seq() != v.sequence {
			return v, fmt.Errorf("status poll %d: got visitor %s sequence %d, want %s sequence %d", v.polls, st.Visitor, st.seq(), v.visitor, v.sequence)
		}
		switch st.State {
		case "admitted":
			if st.AdmissionToken == "" {
				return v, fmt.Errorf("status poll %d: admitted without an admission token", v.polls)
			}
			return v, nil
		case "waiting":
		default:
			return v, fmt.Errorf("status poll %d: got state %q, want waiting or admitted", v.polls, st.State)
		}
	}
}

// call sends one request, with ticket as a bearer token unless it is empty,
// decodes a 2xx JSON body into out and returns the status and Retry-After.
func call(ctx context.Context, client *http.Client, method, url, ticket string, out any) (status int, retryAfter time.Duration, err error) {
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return 0, 0, err
	}
	if ticket != "" {
		req.Header.Set("Authorization", "Bearer "+ticket)
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer res.Body.Close()

	if seconds, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil {
		retryAfter = time.Duration(seconds) * time.Second
	}
	if res.StatusCode/100 != 2 {
		_, _ = io.Copy(io.Discard, res.Body)
		return res.StatusCode, retryAfter, nil
	}
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		return res.StatusCode, retryAfter, fmt.Errorf("decode body: %w", err)
	}
	return res.StatusCode, retryAfter, nil
}

// pause waits for the shorter of retryAfter and maxPollInterval, or until
// ctx ends.
func pause(ctx context.Context, retryAfter time.Duration) error {
	timer := time.NewTimer(min(max(retryAfter, time.Millisecond), maxPollInterval))
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return errors.Join(errors.New("stopped while waiting to poll"), ctx.Err())
	}
}
