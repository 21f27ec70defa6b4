// Package bookingsource reads the admission controller's signals from the
// built-in booking core: latency and errors from the operation counts that
// every edge adds to the booking store, and the places left from the
// event's availability.
package bookingsource

import (
	"context"
	"fmt"
	"time"

	"foyer/booking"
	"foyer/waitroom"
)

// Reader is the part of booking.Store that Source reads.
type Reader interface {
	ReadStats(ctx context.Context, from, to time.Time) ([]booking.WindowStats, error)
	Availability(ctx context.Context, event string) ([]booking.SlotAvailability, error)
}

// Defaults for Config.
const (
	DefaultLookback   = 30 * time.Second
	DefaultMinSamples = waitroom.DefaultMinSamples
)

// DefaultOps are the operations measured by default: the store steps that
// take and confirm places. Pay is left out because its latency includes the
// payment provider's.
var DefaultOps = []string{booking.OpHold, booking.OpConfirm}

// DefaultErrorCodes are the error codes that count as backend errors by
// default: booking.CodeInternal, which includes timeouts, and the store being
// unavailable. Rejections a visitor can act on, such as sold_out, are not
// backend errors.
var DefaultErrorCodes = []string{booking.CodeInternal, booking.ErrUnavailable.Code()}

// Config selects what Source reads. Zero fields take the defaults noted.
type Config struct {
	// Event is the booking event whose places are counted. Empty leaves
	// the inventory out of the signals.
	Event string
	// Ops are the operation names to measure. Default DefaultOps.
	Ops []string
	// ErrorCodes are the error codes counted as errors. Default
	// DefaultErrorCodes.
	ErrorCodes []string
	// MinSamples is how many operations the signals should hold: Source
	// takes windows from the newest back until they hold that many or
	// reach Lookback. Default DefaultMinSamples.
	MinSamples int64
	// Lookback is how far back Source reads windows. Default 30s, at most
	// booking.StatsRetention.
	Lookback time.Duration
}

// Source reads signals from a booking store. It is safe for concurrent use.
//
// NOTE: booking statistics are counted for the whole fleet, not per event,
// so latency and errors include every event the store serves.
type Source struct {
	store      Reader
	event      string
	ops        map[string]bool
	errorCodes []string
	minSamples int64
	lookback   time.Duration
}

var _ waitroom.SignalSource = (*Source)(nil)

// New returns a Source over store. It returns an error naming the field
// when cfg is invalid.
func New(store Reader, cfg Config) (*Source, error) {
	if cfg.Ops == nil {
		cfg.Ops = DefaultOps
	}
	if cfg.ErrorCodes == nil {
		cfg.ErrorCodes = DefaultErrorCodes
	}
	if cfg.MinSamples == 0 {
		cfg.MinSamples = DefaultMinSamples
	}
	if cfg.Lookback == 0 {
		cfg.Lookback = DefaultLookback
	}

	switch {
	case store == nil:
		return nil, fmt.Errorf("bookingsource: store is missing")
	case cfg.Event != "" && !booking.ValidEventID(cfg.Event):
		return nil, fmt.Errorf("bookingsource: event %q is invalid: use 1 to 64 characters from a-z, 0-9 and '-'", cfg.Event)
	case len(cfg.Ops) == 0:
		return nil, fmt.Errorf("bookingsource: ops is empty: name at least one operation, such as %q", booking.OpHold)
	case cfg.MinSamples < 1:
		return nil, fmt.Errorf("bookingsource: min_samples %d is invalid: use at least 1", cfg.MinSamples)
	case cfg.Lookback < booking.StatsWindow || cfg.Lookback > booking.StatsRetention:
		return nil, fmt.Errorf("bookingsource: lookback %s is invalid: use %s to %s", cfg.Lookback, booking.StatsWindow, booking.StatsRetention)
	}

	ops := make(map[string]bool, len(cfg.Ops))
	for _, op := range cfg.Ops {
		ops[op] = true
	}
	return &Source{
		store:      store,
		event:      cfg.Event,
		ops:        ops,
		errorCodes: append([]string(nil), cfg.ErrorCodes...),
		minSamples: cfg.MinSamples,
		lookback:   cfg.Lookback,
	}, nil
}

// Signals reads the operation counts of the last Lookback and, when an
// event is set, its availability. The room's counters are left for the
// caller to add with Signals.WithRoom. Errors from the store are returned
// wrapped.
func (s *Source) Signals(ctx context.Context, now time.Time) (waitroom.Signals, error) {
	sig, err := s.readStats(ctx, now)
	if err != nil {
		return waitroom.Signals{}, err
	}
	if s.event == "" {
		return sig, nil
	}

	slots, err := s.store.Availability(ctx, s.event)
	if err != nil {
		return waitroom.Signals{}, fmt.Errorf("bookingsource: read availability of event %s: %w", s.event, err)
	}
	addInventory(&sig, slots, now)
	return sig, nil
}

// readStats sums the measured operations over the newest windows that hold
// at least minSamples operations, so the signals are as recent as their
// sample count allows.
func (s *Source) readStats(ctx context.Context, now time.Time) (waitroom.Signals, error) {
	from := booking.WindowStart(now.Add(-s.lookback))
	to := booking.WindowStart(now).Add(booking.StatsWindow)

	windows, err := s.store.ReadStats(ctx, from, to)
	if err != nil {
		return waitroom.Signals{}, fmt.Errorf("bookingsource: read stats from %s to %s: %w", from.Format(time.RFC3339), to.Format(time.RFC3339), err)
	}

	// The booking core frees a visitor's active place when their order
	// is confirmed.
	sig := waitroom.Signals{WindowStart: from, WindowEnd: now, ReleasesOnBooking: true}
	var total booking.OpStats
	var newest time.Time
	for i := len(windows) - 1; i >= 0 && total.Count < s.minSamples; i-- {
		w := windows[i]
		added := s.addWindow(&total, w)
		if added == 0 {
			continue
		}
		if newest.IsZero() {
			newest = w.Start
		}
		sig.WindowStart = w.Start
	}

	sig.Samples = total.Count
	sig.LatencyP95 = total.Quantile(0.95)
	if total.Count > 0 {
		sig.ErrorRate = float64(s.errors(total)) / float64(total.Count)
	}
	if !newest.IsZero() {
		sig.Staleness = max(0, now.Sub(newest.Add(booking.StatsWindow)))
	}
	return sig, nil
}

// addWindow adds the window's measured operations to total and returns
// how many it added.
func (s *Source) addWindow(total *booking.OpStats, w booking.WindowStats) int64 {
	var added int64
	for name, op := range w.Ops {
		if !s.ops[name] {
			continue
		}
		total.Add(op)
		added += op.Count
	}
	return added
}

func (s *Source) errors(total booking.OpStats) int64 {
	var n int64
	for _, code := range s.errorCodes {
		n += total.Errors[code]
	}
	return n
}

// addInventory counts the free and held places of the slots that have not
// started at now, since holds on a started slot are rejected.
func addInventory(sig *waitroom.Signals, slots []booking.SlotAvailability, now time.Time) {
	sig.HasInventory = true
	for _, slot := range slots {
		if !slot.Start.After(now) {
			continue
		}
		free := int64(slot.Available())
		held := int64(slot.Held)
		sig.RemainingPlaces += free
		sig.HeldPlaces += held
		sig.MostFreeInSlot = max(sig.MostFreeInSlot, free)
		sig.MostFreeOrHeldInSlot = max(sig.MostFreeOrHeldInSlot, free+held)
	}
}
