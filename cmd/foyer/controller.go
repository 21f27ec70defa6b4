package main

import (
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
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

// PrometheusConfig holds the server and the PromQL queries of
// promsource.Config. The bearer token comes from a file or an environment
// variable, never from the configuration file itself.
type PrometheusConfig struct {
	URL            string        `yaml:"url"`
	LatencyQuery   string        `yaml:"latency_query"`
	SamplesQuery   string        `yaml:"samples_query"`
	ErrorRateQuery string        `yaml:"error_rate_query"`
	RemainingQuery string        `yaml:"remaining_query"`
	Window         time.Duration `yaml:"window"`
	Timeout        time.Duration `yaml:"timeout"`
	// BearerTokenFile names a file that holds the bearer token, read at
	// start and before every reading of the signals.
	BearerTokenFile string `yaml:"bearer_token_file"`
	// BearerTokenEnv names an environment variable, starting with FOYER_,
	// that holds the bearer token. ApplyEnv reads it into bearerToken.
	BearerTokenEnv string `yaml:"bearer_token_env"`

	// bearerToken is the value of BearerTokenEnv. It is a secret: never
	// log it.
	bearerToken string
}

// tokenEnvName is the form of PrometheusConfig.BearerTokenEnv. The prefix
// keeps a configuration file from sending other variables of the process,
// such as a cloud credential, to a Prometheus server.
var tokenEnvName = regexp.MustCompile(`^FOYER_[A-Z0-9_]+$`)

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
		return c.Prometheus.validate()
	}
	return nil
}

func (p PrometheusConfig) validate() error {
	switch {
	case p.BearerTokenEnv != "" && !tokenEnvName.MatchString(p.BearerTokenEnv):
		return fmt.Errorf("prometheus: bearer_token_env %q is invalid: name an environment variable of uppercase letters, digits and '_' that starts with FOYER_, such as FOYER_PROMETHEUS_TOKEN", p.BearerTokenEnv)
	case p.BearerTokenEnv != "" && p.BearerTokenFile != "":
		return errors.New("prometheus: bearer_token_file and bearer_token_env are both set: set one of them")
	case p.BearerTokenEnv != "" && p.bearerToken == "":
		return fmt.Errorf("prometheus: bearer_token_env names %s, which is not set or empty: set it to the token the Prometheus server expects, or remove bearer_token_env", p.BearerTokenEnv)
	}
	return p.source().Validate()
}

func (p PrometheusConfig) source() promsource.Config {
	return promsource.Config{
		URL:             p.URL,
		LatencyQuery:    p.LatencyQuery,
		SamplesQuery:    p.SamplesQuery,
		ErrorRateQuery:  p.ErrorRateQuery,
		RemainingQuery:  p.RemainingQuery,
		Window:          p.Window,
		Timeout:         p.Timeout,
		BearerToken:     p.bearerToken,
		BearerTokenFile: p.BearerTokenFile,
	}
}

// withPrometheusTokens returns rooms with the bearer token of each
// Prometheus source that names bearer_token_env read through getenv. It
// copies what it changes, so the caller's rooms stay as they are.
func withPrometheusTokens(rooms []RoomConfig, getenv func(string) string) []RoomConfig {
	out, copied := rooms, false
	for i, r := range rooms {
		p := r.Controller.Prometheus
		if p == nil || p.BearerTokenEnv == "" {
			continue
		}
		if !copied {
			out, copied = slices.Clone(rooms), true
		}
		resolved := *p
		resolved.bearerToken = strings.TrimSpace(getenv(p.BearerTokenEnv))
		out[i].Controller.Prometheus = &resolved
	}
	return out
}

// roomControllers builds the admission controllers of the configured
// rooms that name a Prometheus source, and returns the control law of
// every configured room by room id. The other rooms count the places of
// their event in the booking store. defaultController builds those with
// the room's law for the event the room guards at the time, so a room
// whose event changes through the admin API counts the new one. A
// controller decides only while its room is in mode auto, so an organizer
// may switch a room to auto at any time.
func roomControllers(rooms []RoomConfig) (map[string]waitroom.RoomController, map[string]waitroom.ControllerConfig, error) {
	controllers := make(map[string]waitroom.RoomController)
	laws := make(map[string]waitroom.ControllerConfig, len(rooms))
	for _, r := range rooms {
		law := r.Controller.Law()
		laws[r.ID] = law
		if p := r.Controller.Prometheus; p != nil {
			prom, err := promsource.New(p.source(), nil)
			if err != nil {
				return nil, nil, fmt.Errorf("room %s: controller: %w", r.ID, err)
			}
			controllers[r.ID] = waitroom.RoomController{Signals: prom, Config: law}
		}
	}
	return controllers, laws, nil
}

// defaultController returns the waitroom.EdgeConfig.DefaultController of
// `foyer serve`: a source over the booking store that counts the places of
// the room's event. A room named in the configuration gets its law from
// laws. Any other room, such as one created through the admin API, gets
// the default parameters.
func defaultController(store booking.Store, laws map[string]waitroom.ControllerConfig, log *slog.Logger) func(waitroom.Settings) (waitroom.RoomController, bool) {
	return func(s waitroom.Settings) (waitroom.RoomController, bool) {
		law, configured := laws[s.ID]
		src, err := bookingSource(store, s.Event, law)
		if err != nil {
			log.Error("building the admission controller of a room failed; the room keeps its rate in mode auto", "room", s.ID, "event", s.Event, "err", err)
			return waitroom.RoomController{}, false
		}
		if configured {
			log.Info("admission controller built from the configuration", "room", s.ID, "event", s.Event)
		} else {
			log.Info("admission controller with default parameters built for a room without configuration", "room", s.ID, "event", s.Event)
		}
		return waitroom.RoomController{Signals: src, Config: law}, true
	}
}

// bookingSource returns a signal source over the booking store that
// counts the places of event and reads as many operations as law needs.
func bookingSource(store booking.Store, event string, law waitroom.ControllerConfig) (*bookingsource.Source, error) {
	cfg := bookingsource.Config{Event: event, MinSamples: law.WithDefaults().MinSamples}
	return bookingsource.New(store, cfg)
}
