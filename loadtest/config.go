package loadtest

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Hard limits that no scenario may exceed, so that every run stays bounded
// whatever a file or flag sets.
const (
	// MaxVisitorsLimit bounds Scenario.MaxVisitors.
	MaxVisitorsLimit = 1_000_000
	// MaxDurationLimit bounds Scenario.MaxDuration.
	MaxDurationLimit = 6 * time.Hour
	// MaxWorkersLimit bounds Engine.Workers, and so the open connections.
	MaxWorkersLimit = 4096
)

// Scenario is everything one run needs: where to send load, the room and
// event to work on, how visitors arrive and behave, and the thresholds of
// the checks. DefaultScenario fills every field; LoadScenario reads a YAML
// file over it.
type Scenario struct {
	// Targets are base URLs of Foyer edges, such as http://127.0.0.1:8080.
	// Visitors are spread over them round-robin; admin calls use the first.
	Targets []string `yaml:"targets" json:"targets"`
	// AllowRemote permits targets that are not loopback addresses.
	AllowRemote bool `yaml:"allow_remote" json:"allow_remote"`
	// AdminToken is the bearer token of the admin API. It never comes from
	// a scenario file and is never written to a report.
	AdminToken string `yaml:"-" json:"-"`
	// Room is the waiting room the run creates or resets.
	Room string `yaml:"room" json:"room"`
	// Event is the booking event the run creates. Empty means a new id made
	// from the room and the start time, because events cannot be reset.
	Event string `yaml:"event" json:"event"`
	// Seed drives every random choice of the load tester, so a run can be
	// repeated. The server's own randomness is not covered.
	Seed uint64 `yaml:"seed" json:"seed"`
	// MaxVisitors bounds the visitors of the run; arrival profiles that
	// would create more are rejected by Validate.
	MaxVisitors int `yaml:"max_visitors" json:"max_visitors"`
	// MaxDuration bounds the run from its start to the last request; the
	// checks and the report follow it.
	MaxDuration time.Duration `yaml:"max_duration" json:"max_duration"`

	RoomSettings RoomSettings `yaml:"room_settings" json:"room_settings"`
	EventSetup   EventSetup   `yaml:"event_settings" json:"event_settings"`
	Arrivals     []Arrival    `yaml:"arrivals" json:"arrivals"`
	Behavior     Behavior     `yaml:"behavior" json:"behavior"`
	Checks       Thresholds   `yaml:"checks" json:"checks"`
	Engine       Engine       `yaml:"engine" json:"engine"`
	// Rehearsal judges an auto room against edges that run a rehearsal
	// backend of known capacity, and changes that capacity during the run.
	Rehearsal Rehearsal `yaml:"rehearsal" json:"rehearsal"`

	// ReportDir is the directory that receives summary.txt, report.json and
	// report.html; it is created if missing.
	ReportDir string `yaml:"report_dir" json:"report_dir"`
}

// RoomSettings are the waiting room settings the run applies.
type RoomSettings struct {
	// RatePerMinute is the admission rate in visitors per minute.
	RatePerMinute float64 `yaml:"rate_per_minute" json:"rate_per_minute"`
	// Burst is how many visitors the room may admit at once.
	Burst int `yaml:"burst" json:"burst"`
	// MaxActive caps admitted visitors who have not finished booking.
	MaxActive int `yaml:"max_active" json:"max_active"`
	// OpensIn is how long after the start of the run the room opens. Zero
	// opens it at the start; a pre-opening crowd needs it above zero.
	OpensIn time.Duration `yaml:"opens_in" json:"opens_in"`
	// Mode is fixed or auto. The admission rate check applies to fixed only.
	Mode string `yaml:"mode" json:"mode"`
}

// EventSetup describes the event the run creates.
type EventSetup struct {
	// Slots is the number of 30-minute slots, from 09:00 UTC tomorrow.
	Slots int `yaml:"slots" json:"slots"`
	// Capacity is the number of places in each slot.
	Capacity int `yaml:"capacity" json:"capacity"`
	// HoldLifetime is how long a hold keeps its places; zero keeps the
	// server's default.
	HoldLifetime time.Duration `yaml:"hold_lifetime" json:"hold_lifetime"`
}

// Behavior is the set of choices that drive virtual visitors.
type Behavior struct {
	// AbandonShare is the share of visitors, from 0 to 1, who stop polling
	// while they wait, at a time drawn uniformly from AbandonWithin after
	// they join.
	AbandonShare  float64       `yaml:"abandon_share" json:"abandon_share"`
	AbandonWithin time.Duration `yaml:"abandon_within" json:"abandon_within"`
	// ThinkTime is the pause between the booking steps of an admitted
	// visitor.
	ThinkTime time.Duration `yaml:"think_time" json:"think_time"`
	// TicketsMin and TicketsMax bound the places a visitor holds, drawn
	// uniformly.
	TicketsMin int `yaml:"tickets_min" json:"tickets_min"`
	TicketsMax int `yaml:"tickets_max" json:"tickets_max"`
	// DeclineShare is the chance, from 0 to 1, that a payment attempt uses
	// the card the test provider declines.
	DeclineShare float64 `yaml:"decline_share" json:"decline_share"`
	// PayRetries is how many more attempts a visitor makes after a decline.
	PayRetries int `yaml:"pay_retries" json:"pay_retries"`
	// LetExpireShare is the share of visitors who place a hold and then
	// leave, letting it expire.
	LetExpireShare float64 `yaml:"let_expire_share" json:"let_expire_share"`
	// SkipBooking stops visitors once they are admitted, for a waiting
	// room without the booking API.
	SkipBooking bool `yaml:"skip_booking" json:"skip_booking"`
}

// Thresholds are the limits the checks apply.
type Thresholds struct {
	// MinTau is the lowest Kendall tau of admission order against join
	// order that passes, counted over pairs of joins in clear order. A fair
	// server scores 1 on one edge or many.
	MinTau float64 `yaml:"min_tau" json:"min_tau"`
	// TieWindow is the width of the join-time bins whose visitors count as
	// joining at the same moment in the tau-b the report also shows.
	TieWindow time.Duration `yaml:"tie_window" json:"tie_window"`
	// RateTolerance is the allowed relative difference between the mean
	// admission rate while visitors waited and the configured rate.
	RateTolerance float64 `yaml:"rate_tolerance" json:"rate_tolerance"`
	// AbandonSlack is added to the room's heartbeat grace before an
	// admission of an abandoned visitor counts as a failure: it covers the
	// admission tick and heartbeat flushing.
	AbandonSlack time.Duration `yaml:"abandon_slack" json:"abandon_slack"`
}

// Engine tunes the load generator itself.
type Engine struct {
	// Workers is the number of visitor steps run at once, which also
	// bounds the open connections per target.
	Workers int `yaml:"workers" json:"workers"`
	// RequestTimeout bounds each HTTP request.
	RequestTimeout time.Duration `yaml:"request_timeout" json:"request_timeout"`
	// MaxRetries is how many failed requests in a row a visitor accepts
	// before it gives up.
	MaxRetries int `yaml:"max_retries" json:"max_retries"`
	// ProgressEvery is the interval of plain progress lines when the output
	// is not a terminal.
	ProgressEvery time.Duration `yaml:"progress_every" json:"progress_every"`
}

// DefaultScenario returns a scenario with every setting at its default and
// no arrivals.
func DefaultScenario() Scenario {
	return Scenario{
		Targets:     []string{"http://127.0.0.1:8080"},
		Room:        "rehearsal",
		Seed:        1,
		MaxVisitors: 100_000,
		MaxDuration: 10 * time.Minute,
		RoomSettings: RoomSettings{
			RatePerMinute: 600,
			Burst:         20,
			MaxActive:     1000,
			Mode:          "fixed",
		},
		EventSetup: EventSetup{Slots: 8, Capacity: 200},
		Behavior: Behavior{
			AbandonShare:   0.05,
			AbandonWithin:  2 * time.Minute,
			ThinkTime:      time.Second,
			TicketsMin:     1,
			TicketsMax:     4,
			DeclineShare:   0.1,
			PayRetries:     2,
			LetExpireShare: 0.05,
		},
		Checks: Thresholds{
			MinTau:        0.99,
			TieWindow:     5 * time.Millisecond,
			RateTolerance: 0.1,
			AbandonSlack:  2 * time.Second,
		},
		Engine: Engine{
			Workers:        512,
			RequestTimeout: 30 * time.Second,
			MaxRetries:     8,
			ProgressEvery:  10 * time.Second,
		},
		Rehearsal: Rehearsal{
			TargetP95:        500 * time.Millisecond,
			ReachShare:       0.9,
			ReachWithin:      time.Minute,
			UnderTargetShare: 0.95,
			SteadyVariation:  0.15,
			FitWithin:        15 * time.Second,
		},
		ReportDir: "loadtest-report",
	}
}

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// Validate returns an error naming the first invalid setting, its value and
// what is allowed. It also checks that every target is a loopback address
// unless AllowRemote is set.
func (s Scenario) Validate() error {
	if err := s.validateRun(); err != nil {
		return err
	}
	if err := s.RoomSettings.validate(); err != nil {
		return err
	}
	if err := s.EventSetup.validate(); err != nil {
		return err
	}
	if err := s.Behavior.validate(); err != nil {
		return err
	}
	if err := s.Checks.validate(); err != nil {
		return err
	}
	if err := s.Engine.validate(); err != nil {
		return err
	}
	if err := s.Rehearsal.validate(s.MaxDuration); err != nil {
		return err
	}
	return s.validateArrivals()
}

func (s Scenario) validateRun() error {
	if len(s.Targets) == 0 {
		return errors.New("targets: none given: add --target http://127.0.0.1:8080")
	}
	for _, target := range s.Targets {
		if err := CheckTarget(target, s.AllowRemote); err != nil {
			return err
		}
	}
	switch {
	case !idPattern.MatchString(s.Room):
		return fmt.Errorf("room %q is invalid: use 1 to 63 lowercase letters, digits and hyphens", s.Room)
	case s.Event != "" && !idPattern.MatchString(s.Event):
		return fmt.Errorf("event %q is invalid: use 1 to 63 lowercase letters, digits and hyphens", s.Event)
	case s.MaxVisitors < 1 || s.MaxVisitors > MaxVisitorsLimit:
		return fmt.Errorf("max_visitors %d is invalid: use 1 to %d", s.MaxVisitors, MaxVisitorsLimit)
	case s.MaxDuration <= 0 || s.MaxDuration > MaxDurationLimit:
		return fmt.Errorf("max_duration %s is invalid: use more than 0 and at most %s", s.MaxDuration, MaxDurationLimit)
	case s.AdminToken == "":
		return errors.New("admin token is missing: set FOYER_ADMIN_TOKEN to the token the server was started with")
	case s.ReportDir == "":
		return errors.New("report_dir is empty: name a directory for the report files")
	}
	return nil
}

func (r RoomSettings) validate() error {
	switch {
	case r.RatePerMinute <= 0 || r.RatePerMinute > 1e6:
		return fmt.Errorf("room_settings.rate_per_minute %v is invalid: use more than 0 and at most 1000000", r.RatePerMinute)
	case r.Burst < 1 || r.Burst > 100_000:
		return fmt.Errorf("room_settings.burst %d is invalid: use 1 to 100000", r.Burst)
	case r.MaxActive < 1 || r.MaxActive > 10_000_000:
		return fmt.Errorf("room_settings.max_active %d is invalid: use 1 to 10000000", r.MaxActive)
	case r.OpensIn < 0:
		return fmt.Errorf("room_settings.opens_in %s is invalid: use 0 or a positive duration", r.OpensIn)
	case r.Mode != "fixed" && r.Mode != "auto":
		return fmt.Errorf("room_settings.mode %q is invalid: use fixed or auto", r.Mode)
	}
	return nil
}

func (e EventSetup) validate() error {
	switch {
	case e.Slots < 1 || e.Slots > maxSlots:
		return fmt.Errorf("event_settings.slots %d is invalid: use 1 to %d half-hour slots", e.Slots, maxSlots)
	case e.Capacity < 1 || e.Capacity > 1_000_000:
		return fmt.Errorf("event_settings.capacity %d is invalid: use 1 to 1000000", e.Capacity)
	case e.HoldLifetime < 0:
		return fmt.Errorf("event_settings.hold_lifetime %s is invalid: use 0 (server default) or a positive duration", e.HoldLifetime)
	}
	return nil
}

func (b Behavior) validate() error {
	share := func(name string, v float64) error {
		if v < 0 || v > 1 {
			return fmt.Errorf("behavior.%s %v is invalid: use a share from 0 to 1", name, v)
		}
		return nil
	}
	if err := errors.Join(
		share("abandon_share", b.AbandonShare),
		share("decline_share", b.DeclineShare),
		share("let_expire_share", b.LetExpireShare),
	); err != nil {
		return err
	}
	switch {
	case b.AbandonShare > 0 && b.AbandonWithin <= 0:
		return fmt.Errorf("behavior.abandon_within %s is invalid: use a positive duration when abandon_share is above 0", b.AbandonWithin)
	case b.ThinkTime < 0 || b.ThinkTime > 10*time.Minute:
		return fmt.Errorf("behavior.think_time %s is invalid: use 0 to 10m", b.ThinkTime)
	case b.TicketsMin < 1 || b.TicketsMax < b.TicketsMin || b.TicketsMax > 20:
		return fmt.Errorf("behavior.tickets_min %d and tickets_max %d are invalid: use 1 <= tickets_min <= tickets_max <= 20", b.TicketsMin, b.TicketsMax)
	case b.PayRetries < 0 || b.PayRetries > 20:
		return fmt.Errorf("behavior.pay_retries %d is invalid: use 0 to 20", b.PayRetries)
	}
	return nil
}

func (t Thresholds) validate() error {
	switch {
	case t.MinTau < -1 || t.MinTau > 1:
		return fmt.Errorf("checks.min_tau %v is invalid: use a number from -1 to 1", t.MinTau)
	case t.TieWindow < 0 || t.TieWindow > time.Second:
		return fmt.Errorf("checks.tie_window %s is invalid: use 0 to 1s", t.TieWindow)
	case t.RateTolerance <= 0 || t.RateTolerance > 1:
		return fmt.Errorf("checks.rate_tolerance %v is invalid: use a share above 0 and at most 1", t.RateTolerance)
	case t.AbandonSlack < 0:
		return fmt.Errorf("checks.abandon_slack %s is invalid: use 0 or a positive duration", t.AbandonSlack)
	}
	return nil
}

func (e Engine) validate() error {
	switch {
	case e.Workers < 1 || e.Workers > MaxWorkersLimit:
		return fmt.Errorf("engine.workers %d is invalid: use 1 to %d", e.Workers, MaxWorkersLimit)
	case e.RequestTimeout < 100*time.Millisecond || e.RequestTimeout > 5*time.Minute:
		return fmt.Errorf("engine.request_timeout %s is invalid: use 100ms to 5m", e.RequestTimeout)
	case e.MaxRetries < 0 || e.MaxRetries > 100:
		return fmt.Errorf("engine.max_retries %d is invalid: use 0 to 100", e.MaxRetries)
	case e.ProgressEvery < 100*time.Millisecond:
		return fmt.Errorf("engine.progress_every %s is invalid: use at least 100ms", e.ProgressEvery)
	}
	return nil
}

func (s Scenario) validateArrivals() error {
	if len(s.Arrivals) == 0 {
		return errors.New("arrivals: none given: add a profile such as --burst 1000 --burst-within 10s, or a scenario file with arrivals")
	}
	expected := 0.0
	for i, a := range s.Arrivals {
		if err := a.validate(s.RoomSettings.OpensIn, s.MaxDuration); err != nil {
			return fmt.Errorf("arrivals[%d]: %w", i, err)
		}
		expected += a.expectedVisitors()
	}
	if expected > float64(s.MaxVisitors) {
		return fmt.Errorf("arrivals: about %.0f visitors expected, more than max_visitors %d: raise --max-visitors or shrink the profiles", expected, s.MaxVisitors)
	}
	return nil
}

// CheckTarget returns an error when target is not an http or https URL
// with a host, or when its host is not a loopback address and allowRemote
// is false. Host names other than localhost count as remote, because what
// they resolve to can change.
func CheckTarget(target string, allowRemote bool) error {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("target %q is invalid: use a base URL such as http://127.0.0.1:8080", target)
	}
	if u.Path != "" && u.Path != "/" {
		return fmt.Errorf("target %q is invalid: give the base URL without a path", target)
	}
	if allowRemote || isLoopbackHost(u.Hostname()) {
		return nil
	}
	return fmt.Errorf("target %q is not a loopback address: load against other hosts needs --allow-remote, and only on servers you run", target)
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
