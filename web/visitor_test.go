package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"foyer/waitroom"
	"foyer/waitroom/memstore"
)

func TestJoinPageKeepsOnePlace(t *testing.T) {
	store := memstore.New(nil)
	seedRoom(t, store, waitroom.Settings{ID: "museum", Event: "expo", RatePerMinute: 1, Burst: 1})
	ts := startServer(t, store, serverOptions{noLoop: true})
	client := browserClient(t)

	for i := range 3 {
		res, err := client.Get(ts.URL + "/r/museum")
		if err != nil {
			t.Fatalf("join %d: %v", i, err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("join %d: got status %d, want 303", i, res.StatusCode)
		}
		if got := res.Header.Get("Location"); got != "/r/museum/wait?joined=1" {
			t.Fatalf("join %d: got Location %q, want the waiting page", i, got)
		}
	}

	snap, err := store.Snapshot(context.Background(), "museum")
	if err != nil {
		t.Fatal(err)
	}
	if snap.Waiting != 1 {
		t.Fatalf("got %d waiting after three joins from one browser, want 1", snap.Waiting)
	}

	res, err := client.Get(ts.URL + "/r/museum/wait")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("wait page: got status %d, want 200:\n%s", res.StatusCode, body)
	}
	if !strings.Contains(string(body), `id="position">1<`) {
		t.Fatalf("wait page does not show position 1:\n%s", body)
	}
}

func TestStatusAPIAfterJoin(t *testing.T) {
	store := memstore.New(nil)
	seedRoom(t, store, waitroom.Settings{ID: "museum", Event: "expo", RatePerMinute: 60, Burst: 1})
	ts := startServer(t, store, serverOptions{noLoop: true})
	client := browserClient(t)

	res, err := client.Post(ts.URL+"/api/v1/rooms/museum/join", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	var joined map[string]any
	if err := json.NewDecoder(res.Body).Decode(&joined); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("join: got status %d, want 201: %v", res.StatusCode, joined)
	}
	if joined["state"] != "waiting" || joined["position"] != float64(1) {
		t.Fatalf("join: got %v, want state waiting at position 1", joined)
	}

	if _, err := ts.Edge.Tick(context.Background(), "museum"); err != nil {
		t.Fatal(err)
	}

	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/api/v1/rooms/museum/status", nil)
	req.Header.Set("Authorization", "Bearer "+joined["ticket"].(string))
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var status map[string]any
	if err := json.NewDecoder(res.Body).Decode(&status); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if status["state"] != "admitted" {
		t.Fatalf("status after a tick: got %v, want admitted", status)
	}
	if status["admission_token"] == nil || status["booking_url"] != "/e/expo" {
		t.Fatalf("status: got %v, want an admission token and booking_url /e/expo", status)
	}
}
