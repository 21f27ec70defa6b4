package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	bookingmemstore "foyer/booking/memstore"
	"foyer/waitroom"
	"foyer/waitroom/signals/promsource"
)

func TestConfigValidateRejectsController(t *testing.T) {
	tests := []struct {
		name   string
		change func(*ControllerConfig)
		want   []string
	}{
		{
			name:   "period under a second",
			change: func(c *ControllerConfig) { c.Period = 500 * time.Millisecond },
			want:   []string{"rooms[0]", "period", "500ms", "at least 1s"},
		},
		{
			name:   "start rate above max rate",
			change: func(c *ControllerConfig) { c.StartRatePerMinute, c.MaxRatePerMinute = 600, 300 },
			want:   []string{"rooms[0]", "start_rate_per_minute", "600"},
		},
		{
			name: "prometheus without url",
			change: func(c *ControllerConfig) {
				c.Prometheus = &PrometheusConfig{LatencyQuery: "q", SamplesQuery: "q"}
			},
			want: []string{"rooms[0]", "url is missing"},
		},
		{
			name: "token variable without the FOYER_ prefix",
			change: func(c *ControllerConfig) {
				c.Prometheus = &PrometheusConfig{URL: "http://127.0.0.1:9090", LatencyQuery: "q", SamplesQuery: "q", BearerTokenEnv: "AWS_SECRET_ACCESS_KEY"}
			},
			want: []string{"rooms[0]", "bearer_token_env", `"AWS_SECRET_ACCESS_KEY"`, "starts with FOYER_"},
		},
		{
			name: "token file and variable",
			change: func(c *ControllerConfig) {
				c.Prometheus = &PrometheusConfig{URL: "http://127.0.0.1:9090", LatencyQuery: "q", SamplesQuery: "q", BearerTokenFile: "/run/secrets/token", BearerTokenEnv: "FOYER_PROMETHEUS_TOKEN"}
			},
			want: []string{"rooms[0]", "bearer_token_file and bearer_token_env", "set one"},
		},
		{
			name: "token variable not set",
			change: func(c *ControllerConfig) {
				c.Prometheus = &PrometheusConfig{URL: "http://127.0.0.1:9090", LatencyQuery: "q", SamplesQuery: "q", BearerTokenEnv: "FOYER_PROMETHEUS_TOKEN"}
			},
			want: []string{"rooms[0]", "FOYER_PROMETHEUS_TOKEN", "not set"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := validConfig()
			tt.change(&cfg.Rooms[0].Controller)

			err := cfg.Validate()
			if err == nil {
				t.Fatal("Validate: got nil, want an error")
			}
			for _, part := range tt.want {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("Validate: got %q, want it to contain %q", err, part)
				}
			}
		})
	}
}

func TestRoomControllersPickSource(t *testing.T) {
	rooms := []RoomConfig{
		{ID: "local", Event: "expo", Controller: ControllerConfig{StartRatePerMinute: 300}},
		{ID: "shop", Controller: ControllerConfig{Prometheus: &PrometheusConfig{
			URL: "http://127.0.0.1:9090", LatencyQuery: "q", SamplesQuery: "q",
		}}},
	}

	controllers, laws, err := roomControllers(rooms)
	if err != nil {
		t.Fatalf("roomControllers: %v", err)
	}

	// A booking-store room is built on demand for its current event.
	if _, ok := controllers["local"]; ok {
		t.Errorf("room local: got a controller built at start, want it built on demand")
	}
	if got := laws["local"].StartRatePerMinute; got != 300 {
		t.Errorf("room local: got start rate %v, want 300", got)
	}
	if _, ok := controllers["shop"].Signals.(*promsource.Source); !ok {
		t.Errorf("room shop: got source %T, want *promsource.Source", controllers["shop"].Signals)
	}
}

// TestConfiguredControllerFollowsEvent builds the controller of a
// configured room whose event differs from the configuration, as after a
// change through the admin API: it takes the configured law and counts
// the places of the room's current event.
func TestConfiguredControllerFollowsEvent(t *testing.T) {
	store := bookingmemstore.New(bookingmemstore.Options{})
	event, slots, err := demoEvent(time.Now())
	if err != nil {
		t.Fatalf("demo event: %v", err)
	}
	if err := store.CreateEvent(t.Context(), event, slots); err != nil {
		t.Fatalf("create event %s: %v", event.ID, err)
	}
	laws := map[string]waitroom.ControllerConfig{"local": {StartRatePerMinute: 300}}
	build := defaultController(store, laws, slog.New(slog.NewTextHandler(io.Discard, nil)))

	rc, ok := build(waitroom.Settings{ID: "local", Event: event.ID})
	if !ok {
		t.Fatal("controller for room local: got ok false, want a controller")
	}
	if rc.Config.StartRatePerMinute != 300 {
		t.Errorf("controller for room local: got start rate %v, want the configured 300", rc.Config.StartRatePerMinute)
	}
	sig, err := rc.Signals.Signals(t.Context(), time.Now())
	if err != nil {
		t.Fatalf("read signals: %v", err)
	}
	if !sig.HasInventory || sig.RemainingPlaces == 0 {
		t.Errorf("signals: got inventory %v with %d places, want the places of event %s", sig.HasInventory, sig.RemainingPlaces, event.ID)
	}
}

// TestDefaultControllerCountsRoomEvent builds the controller of a room
// without configuration: it reads the places of the room's event from the
// booking store and takes the default parameters.
func TestDefaultControllerCountsRoomEvent(t *testing.T) {
	store := bookingmemstore.New(bookingmemstore.Options{})
	event, slots, err := demoEvent(time.Now())
	if err != nil {
		t.Fatalf("demo event: %v", err)
	}
	if err := store.CreateEvent(t.Context(), event, slots); err != nil {
		t.Fatalf("create event %s: %v", event.ID, err)
	}
	var capacity int64
	for _, s := range slots {
		capacity += int64(s.Capacity)
	}
	build := defaultController(store, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))

	rc, ok := build(waitroom.Settings{ID: "gallery", Event: event.ID})
	if !ok {
		t.Fatal("default controller for room gallery: got ok false, want a controller")
	}
	if rc.Config != (waitroom.ControllerConfig{}) {
		t.Errorf("default controller: got parameters %+v, want the zero value, which takes the defaults", rc.Config)
	}
	sig, err := rc.Signals.Signals(t.Context(), time.Now())
	if err != nil {
		t.Fatalf("read signals: %v", err)
	}
	if !sig.HasInventory || sig.RemainingPlaces != capacity {
		t.Errorf("signals of the default controller: got inventory %v with %d places, want the event's %d places", sig.HasInventory, sig.RemainingPlaces, capacity)
	}
}

// TestServeControlsRoomCreatedThroughAdminAPI starts `foyer serve`, creates
// a room in mode auto through the admin API and waits for the controller's
// first decision in that room, which the metrics count.
func TestServeControlsRoomCreatedThroughAdminAPI(t *testing.T) {
	const token = "test-admin-token-0123456789"
	env := map[string]string{"FOYER_ADMIN_TOKEN": token}
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--listen", "127.0.0.1:0"}, func(name string) string { return env[name] }, &stdout, &stderr)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: got error %v, want a clean stop", err)
		}
	}()
	base := "http://" + listenAddress(t, &stderr)

	body := strings.NewReader(`{"id": "gallery", "rate_per_minute": 30, "mode": "auto"}`)
	req, err := http.NewRequest(http.MethodPost, base+"/api/v1/admin/rooms", body)
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("create room gallery: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("create room gallery: got status %d, want 201", res.StatusCode)
	}

	// The deadline bounds the test; it is not what the test asserts. The
	// first decision comes at the first tick that finds the room in mode
	// auto.
	const counter = "foyer_controller_decisions_total{"
	deadline := time.Now().Add(20 * time.Second)
	var metrics string
	for time.Now().Before(deadline) {
		metrics = scrapeMetrics(t, base)
		if decidedIn(metrics, counter, `room="gallery"`) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !decidedIn(metrics, counter, `room="gallery"`) {
		t.Fatalf("no %s...room=\"gallery\"} sample within 20s of creating the room; metrics:\n%s", counter, metrics)
	}
	if out := stderr.String(); !strings.Contains(out, "admission controller with default parameters built") {
		t.Errorf("got output:\n%s\nwant it to log that the room's controller was built", out)
	}
}

// listenAddress waits until serve logs that it started and returns the
// address it listens on.
func listenAddress(t *testing.T, out *lockedBuffer) string {
	t.Helper()
	waitForOutput(t, out, "foyer started", 10*time.Second)
	for line := range strings.Lines(out.String()) {
		var entry struct {
			Msg    string `json:"msg"`
			Listen string `json:"listen"`
		}
		if json.Unmarshal([]byte(line), &entry) == nil && entry.Msg == "foyer started" {
			return entry.Listen
		}
	}
	t.Fatalf("no JSON line \"foyer started\" with the listen address in the output:\n%s", out.String())
	return ""
}

func scrapeMetrics(t *testing.T, base string) string {
	t.Helper()
	res, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read /metrics: %v", err)
	}
	return string(raw)
}

// decidedIn reports whether metrics has a sample of the metric that
// starts with prefix and carries label.
func decidedIn(metrics, prefix, label string) bool {
	for line := range strings.Lines(metrics) {
		if strings.HasPrefix(line, prefix) && strings.Contains(line, label) {
			return true
		}
	}
	return false
}

// tokenPrometheus starts a stand-in for a Prometheus server behind a proxy
// that requires token. It returns one sample for every query that carries
// the token, and 401 for other requests.
func tokenPrometheus(t *testing.T, token string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1800000000,"50"]}]}}`)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestPrometheusBearerToken configures a room's Prometheus source through
// the configuration file and the environment, as `foyer serve` reads them,
// and reads its signals from a server that rejects requests without the
// token.
func TestPrometheusBearerToken(t *testing.T) {
	const token = "prometheus-token-0123456789"
	url := tokenPrometheus(t, token)
	tokenFile := writeFile(t, "token", token+"\n")
	wrongFile := writeFile(t, "wrong", "guess\n")

	tests := []struct {
		name string
		// source is the YAML of the token's keys under prometheus.
		source string
		env    map[string]string
		// wantErr is empty when the signals should be read.
		wantErr string
	}{
		{name: "from a variable", source: "bearer_token_env: FOYER_SHOP_PROMETHEUS_TOKEN", env: map[string]string{"FOYER_SHOP_PROMETHEUS_TOKEN": token}},
		{name: "from a file", source: "bearer_token_file: " + tokenFile},
		{name: "none", source: "", wantErr: "HTTP 401"},
		{name: "wrong token in the file", source: "bearer_token_file: " + wrongFile, wantErr: "HTTP 401"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			config := writeFile(t, "foyer.yaml", "rooms:\n"+
				"  - id: shop\n"+
				"    mode: auto\n"+
				"    controller:\n"+
				"      prometheus:\n"+
				"        url: "+url+"\n"+
				"        latency_query: p95\n"+
				"        samples_query: samples\n"+
				"        "+tt.source+"\n")
			cfg, err := parseServe([]string{"--config", config}, func(name string) string { return tt.env[name] }, io.Discard)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			controllers, _, err := roomControllers(cfg.Rooms)
			if err != nil {
				t.Fatalf("roomControllers: %v", err)
			}

			sig, err := controllers["shop"].Signals.Signals(t.Context(), time.Now())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("read signals: got %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("read signals: %v", err)
			}
			if sig.Samples != 50 {
				t.Errorf("samples: got %d, want 50 from the server", sig.Samples)
			}
		})
	}
}

func TestPrometheusTokenVariableMissing(t *testing.T) {
	config := writeFile(t, "foyer.yaml", `rooms:
  - id: shop
    controller:
      prometheus:
        url: http://127.0.0.1:9090
        latency_query: p95
        samples_query: samples
        bearer_token_env: FOYER_SHOP_PROMETHEUS_TOKEN
`)

	_, err := parseServe([]string{"--config", config}, noEnv, io.Discard)
	if err == nil {
		t.Fatal("parse without FOYER_SHOP_PROMETHEUS_TOKEN: got no error, want one")
	}
	for _, part := range []string{"rooms[0]", "bearer_token_env", "FOYER_SHOP_PROMETHEUS_TOKEN", "not set"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("got error %q, want it to contain %q", err, part)
		}
	}
}
