package main

import (
	"strings"
	"testing"
	"time"

	bookingmemstore "foyer/booking/memstore"
	"foyer/waitroom/signals/bookingsource"
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

	controllers, err := roomControllers(rooms, bookingmemstore.New(bookingmemstore.Options{}))
	if err != nil {
		t.Fatalf("roomControllers: %v", err)
	}

	if _, ok := controllers["local"].Signals.(*bookingsource.Source); !ok {
		t.Errorf("room local: got source %T, want *bookingsource.Source", controllers["local"].Signals)
	}
	if got := controllers["local"].Config.StartRatePerMinute; got != 300 {
		t.Errorf("room local: got start rate %v, want 300", got)
	}
	if _, ok := controllers["shop"].Signals.(*promsource.Source); !ok {
		t.Errorf("room shop: got source %T, want *promsource.Source", controllers["shop"].Signals)
	}
}
