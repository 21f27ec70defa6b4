package web_test

import (
	"net/http"
	"strings"
	"testing"

	"foyer/waitroom"
	"foyer/waitroom/memstore"
)

// TestMetricsSurviveMixedMethods sends requests with several methods and
// scrapes after each: method labels must not change after they are stored,
// or two series collide and every scrape fails.
func TestMetricsSurviveMixedMethods(t *testing.T) {
	store := memstore.New(nil)
	seedRoom(t, store, waitroom.Settings{ID: "museum"})
	ts := startServer(t, store, serverOptions{noLoop: true})

	for range 5 {
		for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete, http.MethodHead} {
			send(t, nil, newRequest(t, method, ts.URL+"/api/v1/rooms/museum/join", nil))
			send(t, nil, newRequest(t, method, ts.URL+"/r/museum", nil))
		}
		res := ts.get(t, nil, "/metrics")
		if res.status != http.StatusOK {
			t.Fatalf("scrape: got status %d, want 200:\n%s", res.status, res.body)
		}
		for _, line := range strings.Split(string(res.body), "\n") {
			if !strings.HasPrefix(line, "foyer_http_requests_total{") {
				continue
			}
			if !strings.Contains(line, `method="GET"`) && !strings.Contains(line, `method="POST"`) &&
				!strings.Contains(line, `method="PATCH"`) && !strings.Contains(line, `method="DELETE"`) &&
				!strings.Contains(line, `method="HEAD"`) {
				t.Fatalf("series with an unexpected method label: %s", line)
			}
		}
	}
}
