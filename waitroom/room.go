// Package waitroom holds the waiting room's domain: rooms and their settings,
// visitors' places in line, admission, queue tickets and admission tokens.
//
// It imports neither Fiber nor Redis. Stores live in the subpackages
// memstore and redisstore and both pass the conformance suite in storetest.
//
// # Line and admission
//
// A visitor who joins an open room gets the room's next sequence number and
// waits in a queue ordered by it. A visitor who joins before the room opens
// draws a random key and waits in a pre-queue, which is given sequence
// numbers in key order at opening, ahead of everyone who joins later.
//
// Every edge runs the store's admission step for each room on each tick. The
// step keeps a token bucket in the store (rate per minute, burst), admits at
// most what the bucket allows and never more than MaxActive active visitors,
// and skips visitors whose last heartbeat is older than the grace period.
package waitroom

import (
	"fmt"
	"regexp"
	"time"
)

// RoomState is the room's state as visitors see it. The zero value is
// unknown.
type RoomState string

// Room states, in the order of precedence used by Settings.State.
const (
	RoomScheduled RoomState = "scheduled"
	RoomOpen      RoomState = "open"
	RoomPaused    RoomState = "paused"
	RoomSoldOut   RoomState = "sold_out"
	RoomClosed    RoomState = "closed"
)

// Mode selects how the admission rate is set.
type Mode string

// Admission modes. ModeFixed admits at RatePerMinute; ModeAuto lets the
// controller move the rate.
const (
	ModeFixed Mode = "fixed"
	ModeAuto  Mode = "auto"
)

// Defaults for a room's settings.
const (
	DefaultRatePerMinute   = 60
	DefaultBurst           = 10
	DefaultMaxActive       = 200
	DefaultAdmissionWindow = 10 * time.Minute
	DefaultSessionLifetime = 30 * time.Minute
	DefaultHeartbeatGrace  = 90 * time.Second
)

// MaxRefreshInterval is the longest interval a waiting page is asked to wait
// before it polls again, jitter included. HeartbeatGrace must be longer than
// this plus a tick, or visitors who poll at that interval would be skipped.
const MaxRefreshInterval = 36 * time.Second

var roomIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// ValidRoomID reports whether id can name a room: 1 to 63 lowercase letters,
// digits and hyphens, not starting with a hyphen.
func ValidRoomID(id string) bool {
	return roomIDPattern.MatchString(id)
}

// Settings are a room's organizer-controlled settings. They live in the
// store's room record, so every edge reads the same values.
type Settings struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	// Event is the id of the booking event this room guards.
	Event string `json:"event"`
	// OpensAt is when the pre-queue is ordered and admission starts. The zero
	// time means the room is open from its creation.
	OpensAt time.Time `json:"opens_at"`
	// RatePerMinute is the admission rate in visitors per minute.
	RatePerMinute float64 `json:"rate_per_minute"`
	// Burst is how many visitors may be admitted at once after a quiet spell.
	Burst int `json:"burst"`
	// MaxActive caps admitted visitors who are still inside their admission
	// window or booking session.
	MaxActive int `json:"max_active"`
	// AdmissionWindow is how long an admitted visitor has to start booking.
	AdmissionWindow time.Duration `json:"admission_window"`
	// SessionLifetime is how long a booking session lasts, and how long a
	// visitor skipped as abandoned may come back to the front of the line.
	SessionLifetime time.Duration `json:"session_lifetime"`
	// HeartbeatGrace is how long a waiting visitor may go without polling
	// before the admission step skips them as abandoned.
	HeartbeatGrace time.Duration `json:"heartbeat_grace"`
	// Message is shown to everyone waiting; empty shows nothing.
	Message string `json:"message"`
	Paused  bool   `json:"paused"`
	Closed  bool   `json:"closed"`
	SoldOut bool   `json:"sold_out"`
	Mode    Mode   `json:"mode"`
}

// WithDefaults returns s with every unset numeric or duration field given its
// default.
func (s Settings) WithDefaults() Settings {
	if s.RatePerMinute == 0 {
		s.RatePerMinute = DefaultRatePerMinute
	}
	if s.Burst == 0 {
		s.Burst = DefaultBurst
	}
	if s.MaxActive == 0 {
		s.MaxActive = DefaultMaxActive
	}
	if s.AdmissionWindow == 0 {
		s.AdmissionWindow = DefaultAdmissionWindow
	}
	if s.SessionLifetime == 0 {
		s.SessionLifetime = DefaultSessionLifetime
	}
	if s.HeartbeatGrace == 0 {
		s.HeartbeatGrace = DefaultHeartbeatGrace
	}
	if s.Mode == "" {
		s.Mode = ModeFixed
	}
	if s.Title == "" {
		s.Title = s.ID
	}
	return s
}

// Validate returns an error naming the first invalid field, its value and
// what is allowed.
func (s Settings) Validate() error {
	switch {
	case !ValidRoomID(s.ID):
		return fmt.Errorf("room id %q is invalid: use 1 to 63 lowercase letters, digits and hyphens", s.ID)
	case !(s.RatePerMinute >= 0 && s.RatePerMinute <= 1e6): // also rejects NaN
		return fmt.Errorf("room %s: rate_per_minute %v is invalid: use a number from 0 to 1000000", s.ID, s.RatePerMinute)
	case s.Burst < 1 || s.Burst > 100000:
		return fmt.Errorf("room %s: burst %d is invalid: use a whole number from 1 to 100000", s.ID, s.Burst)
	case s.MaxActive < 1 || s.MaxActive > 10000000:
		return fmt.Errorf("room %s: max_active %d is invalid: use a whole number from 1 to 10000000", s.ID, s.MaxActive)
	case s.AdmissionWindow < time.Second:
		return fmt.Errorf("room %s: admission_window %s is invalid: use at least 1s", s.ID, s.AdmissionWindow)
	case s.SessionLifetime < s.AdmissionWindow:
		return fmt.Errorf("room %s: session_lifetime %s is invalid: it must be at least admission_window (%s)", s.ID, s.SessionLifetime, s.AdmissionWindow)
	case s.HeartbeatGrace <= MaxRefreshInterval+time.Second:
		return fmt.Errorf("room %s: heartbeat_grace %s is invalid: it must be longer than %s, the longest refresh interval plus a tick", s.ID, s.HeartbeatGrace, MaxRefreshInterval+time.Second)
	case s.HeartbeatGrace > s.SessionLifetime:
		return fmt.Errorf("room %s: heartbeat_grace %s is invalid: it must not exceed session_lifetime (%s)", s.ID, s.HeartbeatGrace, s.SessionLifetime)
	case s.Mode != ModeFixed && s.Mode != ModeAuto:
		return fmt.Errorf("room %s: mode %q is invalid: use fixed or auto", s.ID, s.Mode)
	case len(s.Message) > 1000:
		return fmt.Errorf("room %s: message is %d bytes long: use at most 1000", s.ID, len(s.Message))
	case len(s.Title) > 200:
		return fmt.Errorf("room %s: title is %d bytes long: use at most 200", s.ID, len(s.Title))
	}
	return nil
}

// State returns the room's state at now. Closed wins over sold out, which
// wins over scheduled, which wins over paused.
func (s Settings) State(now time.Time) RoomState {
	switch {
	case s.Closed:
		return RoomClosed
	case s.SoldOut:
		return RoomSoldOut
	case !s.OpensAt.IsZero() && now.Before(s.OpensAt):
		return RoomScheduled
	case s.Paused:
		return RoomPaused
	}
	return RoomOpen
}

// Patch is a partial change to a room's settings; nil fields stay as they are.
type Patch struct {
	Title   *string    `json:"title,omitempty"`
	Event   *string    `json:"event,omitempty"`
	OpensAt *time.Time `json:"opens_at,omitempty"`
	// OpenBy moves OpensAt to this time only when the room would open
	// later, so opening a room that is open already keeps its opening
	// time. It applies after OpensAt.
	OpenBy          *time.Time     `json:"open_by,omitempty"`
	RatePerMinute   *float64       `json:"rate_per_minute,omitempty"`
	Burst           *int           `json:"burst,omitempty"`
	MaxActive       *int           `json:"max_active,omitempty"`
	AdmissionWindow *time.Duration `json:"admission_window,omitempty"`
	SessionLifetime *time.Duration `json:"session_lifetime,omitempty"`
	HeartbeatGrace  *time.Duration `json:"heartbeat_grace,omitempty"`
	Message         *string        `json:"message,omitempty"`
	Paused          *bool          `json:"paused,omitempty"`
	Closed          *bool          `json:"closed,omitempty"`
	SoldOut         *bool          `json:"sold_out,omitempty"`
	Mode            *Mode          `json:"mode,omitempty"`
}

// Apply returns s with the patch's non-nil fields set.
func (p Patch) Apply(s Settings) Settings {
	if p.Title != nil {
		s.Title = *p.Title
	}
	if p.Event != nil {
		s.Event = *p.Event
	}
	if p.OpensAt != nil {
		s.OpensAt = *p.OpensAt
	}
	if p.OpenBy != nil && s.OpensAt.After(*p.OpenBy) {
		s.OpensAt = *p.OpenBy
	}
	if p.RatePerMinute != nil {
		s.RatePerMinute = *p.RatePerMinute
	}
	if p.Burst != nil {
		s.Burst = *p.Burst
	}
	if p.MaxActive != nil {
		s.MaxActive = *p.MaxActive
	}
	if p.AdmissionWindow != nil {
		s.AdmissionWindow = *p.AdmissionWindow
	}
	if p.SessionLifetime != nil {
		s.SessionLifetime = *p.SessionLifetime
	}
	if p.HeartbeatGrace != nil {
		s.HeartbeatGrace = *p.HeartbeatGrace
	}
	if p.Message != nil {
		s.Message = *p.Message
	}
	if p.Paused != nil {
		s.Paused = *p.Paused
	}
	if p.Closed != nil {
		s.Closed = *p.Closed
	}
	if p.SoldOut != nil {
		s.SoldOut = *p.SoldOut
	}
	if p.Mode != nil {
		s.Mode = *p.Mode
	}
	return s
}
