package main

import (
	"fmt"
	"time"

	"foyer/booking"
	"foyer/waitroom"
	"foyer/waitroom/signals/bookingsource"
	"foyer/waitroom/signals/promsource"
)

// ControllerConfig sets a room's automatic admission rate, used while the
// room is in mode auto. Zero fields take the defaults of
// waitroom.ControllerConfig; docs/controller.md explains each one.
type ControllerConfig struct {
	TargetP95          time.Duration `yaml:"target_p95"`
	ErrorRateThreshold float64       `yaml:"error_rate_threshold"`
	MinRatePerMinute   float64       `yaml:"min_rate_per_minute"`
	MaxRatePerMinute   float64       `yaml:"max_rate_per_minute"`
	StartRatePerMinute float64       `yaml:"start_rate_per_minute"`
	Period             time.Duration `yaml:"period"`
	Settle             time.Duration `yaml:"settle"`
	RampBelow          float64       `yaml:"ramp_below"`
	RampFactor         float64       `yaml:"ramp_factor"`
	AdditiveStep       float64       `yaml:"additive_step"`
	CeilingMargin      float64       `yaml:"ceiling_margin"`
	ProbeAfter         time.Duration `yaml:"probe_after"`
	CutFactor          float64       `yaml:"cut_factor"`
	SevereFactor       float64       `yaml:"severe_factor"`
	DeepCutFactor      float64       `yaml:"deep_cut_factor"`
	HoldOff            time.Duration `yaml:"hold_off"`
	MinSamples         int64         `yaml:"min_samples"`
	StaleAfter         time.Duration `yaml:"stale_after"`
	DecayHalfLife      time.Duration `yaml:"decay_half_life"`
	UsedShare          float64       `yaml:"used_share"`
	MinOrderPlaces     int64         `yaml:"min_order_places"`
	// Prometheus, when set, reads the signals from a Prometheus server, for
	// an external shop. Without it the controller reads the built-in
	// booking core's statistics and the room's event's places.
	Prometheus *PrometheusConfig `yaml:"prometheus"`
}

// PrometheusConfig holds the PromQL queries of promsource.Config.
//
// NOTE: a bearer token for the Prometheus server cannot be configured yet.
type PrometheusConfig struct {
	URL            string        `yaml:"url"`
	LatencyQuery   string        `yaml:"latency_query"`
	SamplesQuery   string        `yaml:"samples_query"`
	ErrorRateQuery string        `yaml:"error_rate_query"`
	RemainingQuery string        `yaml:"remaining_query"`
	Window         time.Duration `yaml:"window"`
	Timeout        time.Duration `yaml:"timeout"`
}

// Law returns the control law's parameters.
func (c ControllerConfig) Law() waitroom.ControllerConfig {
	return waitroom.ControllerConfig{
		TargetP95:          c.TargetP95,
		ErrorRateThreshold: c.ErrorRateThreshold,
		MinRatePerMinute:   c.MinRatePerMinute,
		MaxRatePerMinute:   c.MaxRatePerMinute,
		StartRatePerMinute: c.StartRatePerMinute,
		Period:             c.Period,
		Settle:             c.Settle,
		RampBelow:          c.RampBelow,
		RampFactor:         c.RampFactor,
		AdditiveStep:       c.AdditiveStep,
		CeilingMargin:      c.CeilingMargin,
		ProbeAfter:         c.ProbeAfter,
		CutFactor:          c.CutFactor,
		SevereFactor:       c.SevereFactor,
		DeepCutFactor:      c.DeepCutFactor,
		HoldOff:            c.HoldOff,
		MinSamples:         c.MinSamples,
		StaleAfter:         c.StaleAfter,
		DecayHalfLife:      c.DecayHalfLife,
		UsedShare:          c.UsedShare,
		MinOrderPlaces:     c.MinOrderPlaces,
	}
}

// Validate returns an error naming the first invalid parameter.
func (c ControllerConfig) Validate() error {
	if err := c.Law().Validate(); err != nil {
		return err
	}
	if c.Prometheus != nil {
		return c.Prometheus.source().Validate()
	}
	return nil
}

func (p PrometheusConfig) source() promsource.Config {
	return promsource.Config{
		URL:            p.URL,
		LatencyQuery:   p.LatencyQuery,
		SamplesQuery:   p.SamplesQuery,
		ErrorRateQuery: p.ErrorRateQuery,
		RemainingQuery: p.RemainingQuery,
		Window:         p.Window,
		Timeout:        p.Timeout,
	}
}

// roomControllers builds the admission controller of every configured room:
// a Prometheus source where the room names one, and otherwise a source over
// the booking store that counts the places of the room's event. A
// controller decides only while its room is in mode auto, so an organizer
// may switch a room to auto at any time.
func roomControllers(rooms []RoomConfig, store booking.Store) (map[string]waitroom.RoomController, error) {
	controllers := make(map[string]waitroom.RoomController, len(rooms))
	for _, r := range rooms {
		law := r.Controller.Law()

		var src waitroom.SignalSource
		if p := r.Controller.Prometheus; p != nil {
			prom, err := promsource.New(p.source(), nil)
			if err != nil {
				return nil, fmt.Errorf("room %s: controller: %w", r.ID, err)
			}
			src = prom
		} else {
			cfg := bookingsource.Config{Event: r.Event, MinSamples: law.WithDefaults().MinSamples}
			local, err := bookingsource.New(store, cfg)
			if err != nil {
				return nil, fmt.Errorf("room %s: controller: %w", r.ID, err)
			}
			src = local
		}

		controllers[r.ID] = waitroom.RoomController{Signals: src, Config: law}
	}
	return controllers, nil
}
