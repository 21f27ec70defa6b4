package web_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"foyer/waitroom"
	"foyer/waitroom/memstore"
)

// scrape reads /metrics and parses it as the Prometheus text format.
func scrape(t *testing.T, ts *testServer) map[string]*dto.MetricFamily {
	t.Helper()
	res := ts.get(t, nil, "/metrics")
	if res.status != http.StatusOK {
		t.Fatalf("GET /metrics: got status %d, want 200", res.status)
	}
	if got := res.header.Get("Content-Type"); !strings.HasPrefix(got, "text/plain") {
		t.Errorf("GET /metrics: got Content-Type %q, want the text format", got)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(res.body))
	if err != nil {
		t.Fatalf("GET /metrics: does not parse: %v\n%s", err, res.body)
	}
	return families
}

// sample returns the value of the family's series with exactly the labels
// given, and whether there is one.
func sample(family *dto.MetricFamily, labels map[string]string) (float64, bool) {
	if family == nil {
		return 0, false
	}
	for _, m := range family.GetMetric() {
		if len(m.GetLabel()) != len(labels) {
			continue
		}
		match := true
		for _, l := range m.GetLabel() {
			if labels[l.GetName()] != l.GetValue() {
				match = false
			}
		}
		if !match {
			continue
		}
		switch family.GetType() {
		case dto.MetricType_COUNTER:
			return m.GetCounter().GetValue(), true
		case dto.MetricType_GAUGE:
			return m.GetGauge().GetValue(), true
		}
	}
	return 0, false
}

func TestMetricsExposition(t *testing.T) {
	store := memstore.New(nil)
	seedRoom(t, store, waitroom.Settings{ID: "museum", Event: "expo", Paused: true})
	ts := startServer(t, store, serverOptions{noLoop: true})
	for range 3 {
		if res := ts.get(t, nil, "/r/museum"); res.status != http.StatusSeeOther {
			t.Fatalf("join page: got status %d, want 303", res.status)
		}
	}
	ts.tick(t, "museum")
	probe := "/probe-" + strings.Repeat("z", 12)
	if res := ts.get(t, nil, probe); res.status != http.StatusNotFound {
		t.Fatalf("GET %s: got status %d, want 404", probe, res.status)
	}

	families := scrape(t, ts)

	wantTypes := map[string]dto.MetricType{
		"foyer_http_requests_total":   dto.MetricType_COUNTER,
		"foyer_admission_ticks_total": dto.MetricType_COUNTER,
		"foyer_joins_total":           dto.MetricType_COUNTER,
		"foyer_room_waiting":          dto.MetricType_GAUGE,
		"foyer_room_rate_per_minute":  dto.MetricType_GAUGE,
		"foyer_room_paused":           dto.MetricType_GAUGE,
	}
	for name, want := range wantTypes {
		family, ok := families[name]
		if !ok {
			t.Errorf("%s is missing", name)
			continue
		}
		if got := family.GetType(); got != want {
			t.Errorf("%s: got type %s, want %s", name, got, want)
		}
	}

	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{name: "foyer_http_requests_total", labels: map[string]string{"route": "/r/:room", "method": "GET", "code": "303"}, want: 3},
		{name: "foyer_http_requests_total", labels: map[string]string{"route": "unmatched", "method": "GET", "code": "404"}, want: 1},
		{name: "foyer_admission_ticks_total", labels: map[string]string{"room": "museum", "result": "ok"}, want: 1},
		{name: "foyer_joins_total", labels: map[string]string{"room": "museum", "state": "waiting"}, want: 3},
		{name: "foyer_room_waiting", labels: map[string]string{"room": "museum"}, want: 3},
		{name: "foyer_room_paused", labels: map[string]string{"room": "museum"}, want: 1},
		{name: "foyer_room_rate_per_minute", labels: map[string]string{"room": "museum"}, want: waitroom.DefaultRatePerMinute},
	}
	for _, c := range checks {
		got, ok := sample(families[c.name], c.labels)
		if !ok {
			t.Errorf("%s%v: series is missing", c.name, c.labels)
			continue
		}
		if got != c.want {
			t.Errorf("%s%v: got %v, want %v", c.name, c.labels, got, c.want)
		}
	}

	// Labels stay bounded: a path that no route matches is not a label value.
	for name, family := range families {
		for _, m := range family.GetMetric() {
			for _, l := range m.GetLabel() {
				if strings.Contains(l.GetValue(), "probe-") {
					t.Errorf("%s has label %s=%q, the path of an unmatched request", name, l.GetName(), l.GetValue())
				}
			}
		}
	}
}

func TestHealthAndReadiness(t *testing.T) {
	forEachStore(t, func(t *testing.T, st openedStore) {
		seedRoom(t, st.store, waitroom.Settings{ID: "museum"})
		ts := startServer(t, st.store, serverOptions{noLoop: true, ready: st.ready})

		if res := ts.get(t, nil, "/healthz"); res.status != http.StatusOK {
			t.Errorf("/healthz: got status %d, want 200", res.status)
		}
		if res := ts.get(t, nil, "/readyz"); res.status != http.StatusOK {
			t.Errorf("/readyz: got status %d, want 200:\n%s", res.status, res.body)
		}

		ts.Server.Drain()
		res := ts.get(t, nil, "/readyz")
		if res.status != http.StatusServiceUnavailable {
			t.Errorf("/readyz while draining: got status %d, want 503", res.status)
		}
		if res := ts.get(t, nil, "/healthz"); res.status != http.StatusOK {
			t.Errorf("/healthz while draining: got status %d, want 200", res.status)
		}
		_, res = ts.join(t, nil, "museum", "")
		if res.status != http.StatusServiceUnavailable || res.errorCode() != "shutting_down" {
			t.Errorf("join while draining: got status %d code %q, want 503 shutting_down", res.status, res.errorCode())
		}
		if got := res.header.Get("Retry-After"); got == "" {
			t.Errorf("join while draining: got no Retry-After header")
		}
		if got := waiting(t, st.store, "museum"); got != 0 {
			t.Errorf("got %d waiting after a join while draining, want 0", got)
		}
	})
}

func TestReadinessFollowsRedis(t *testing.T) {
	st := openRedisStore(t)
	ts := startServer(t, st.store, serverOptions{noLoop: true, ready: st.ready})

	if res := ts.get(t, nil, "/readyz"); res.status != http.StatusOK {
		t.Fatalf("/readyz with Redis up: got status %d, want 200:\n%s", res.status, res.body)
	}

	st.redis.Stop()
	res := ts.get(t, nil, "/readyz")
	if res.status != http.StatusServiceUnavailable {
		t.Errorf("/readyz with Redis stopped: got status %d, want 503", res.status)
	}
	if !strings.Contains(string(res.body), "store unreachable") {
		t.Errorf("/readyz with Redis stopped: got body %q, want it to say the store is unreachable", res.body)
	}
	if res := ts.get(t, nil, "/healthz"); res.status != http.StatusOK {
		t.Errorf("/healthz with Redis stopped: got status %d, want 200, since the process is alive", res.status)
	}

	st.redis.Restart()
	// The client's pool dials again on the next command. A few attempts are
	// allowed in case the first one gets a connection from before the stop.
	var status int
	for attempt := 0; attempt < 20; attempt++ {
		status = ts.get(t, nil, "/readyz").status
		if status == http.StatusOK {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if status != http.StatusOK {
		t.Errorf("/readyz after Redis restarted: got status %d after 20 attempts, want 200", status)
	}
}
