package waitroom

import (
	"context"
	"log/slog"
	"time"
)

// SignalSource reads the signals that the admission controller decides on.
// Adapters live in the subpackages of waitroom/signals. A source fills the
// backend fields of Signals (window, samples, latency, errors, inventory,
// staleness); the caller adds the room's counters with WithRoom.
type SignalSource interface {
	Signals(ctx context.Context, now time.Time) (Signals, error)
}

// Signals are the measurements behind one controller decision, taken over
// the window from WindowStart to WindowEnd.
type Signals struct {
	WindowStart time.Time `json:"window_start"`
	WindowEnd   time.Time `json:"window_end"`
	// Samples counts the booking operations measured in the window,
	// successes and failures.
	Samples int64 `json:"samples"`
	// LatencyP95 is the 95th percentile latency of those operations.
	LatencyP95 time.Duration `json:"latency_p95"`
	// ErrorRate is the share of operations that failed on the backend's
	// side or timed out, from 0 to 1. Rejections a visitor can act on, such
	// as "sold out", are not errors here.
	ErrorRate float64 `json:"error_rate"`
	// Staleness is the age of the newest measurement at decision time. The
	// caller sets it from the last successful read when a source fails.
	Staleness time.Duration `json:"staleness"`

	// HasInventory is true when the place counts below were read.
	HasInventory bool `json:"has_inventory"`
	// RemainingPlaces counts free places in slots that can still be booked.
	RemainingPlaces int64 `json:"remaining_places"`
	// HeldPlaces counts places in unexpired holds in those slots. They
	// become free again if their holds expire or are released.
	HeldPlaces int64 `json:"held_places"`
	// MostFreeInSlot is the largest number of free places in one bookable
	// slot, and MostFreeOrHeldInSlot the largest number of free plus held
	// places. An order takes places from one slot, so these decide whether
	// anyone else can still book. A source that has only totals sets them
	// to the totals.
	MostFreeInSlot       int64 `json:"most_free_in_slot"`
	MostFreeOrHeldInSlot int64 `json:"most_free_or_held_in_slot"`

	// Active counts admitted visitors inside their window or session.
	Active int64 `json:"active"`
	// MaxActive is the room's cap on Active; 0 means unknown.
	MaxActive int64 `json:"max_active"`
	// Waiting counts visitors in line, pre-queue included.
	Waiting int64 `json:"waiting"`
	// AdmittedPerMinute is the admission rate the room actually reached
	// recently, in visitors per minute (see ObservedAdmissionRate).
	AdmittedPerMinute float64 `json:"admitted_per_minute"`
	// Admitted counts the room's admissions since it opened or was reset.
	Admitted int64 `json:"admitted"`
	// ReleasesOnBooking is true when the booking backend frees an admitted
	// visitor's active place once their order is confirmed, as the
	// built-in booking core does. Only then do the visitors who leave the
	// active places count completed bookings.
	ReleasesOnBooking bool `json:"releases_on_booking"`
}

// WithRoom returns s with the room's counters from snap and the observed
// admission rate, in visitors per minute, filled in.
func (s Signals) WithRoom(snap Snapshot, admittedPerMinute float64) Signals {
	s.Active = snap.Active
	s.MaxActive = int64(snap.Settings.MaxActive)
	s.Waiting = snap.Waiting + snap.Prequeue
	s.AdmittedPerMinute = admittedPerMinute
	s.Admitted = snap.Admitted
	return s
}

// ObservedAdmissionRate returns the admissions per minute between two
// snapshots of one room. It returns 0 when later is not after earlier or
// the room was reset in between, which lowers its Admitted counter.
func ObservedAdmissionRate(earlier, later Snapshot) float64 {
	elapsed := later.Now.Sub(earlier.Now)
	admitted := later.Admitted - earlier.Admitted
	if elapsed <= 0 || admitted < 0 {
		return 0
	}
	return float64(admitted) / elapsed.Minutes()
}

// Reason names the rule that produced a controller decision. Its values are
// stable: logs, metrics labels and the dashboard use them.
type Reason string

// Decision reasons, roughly in the order Decide checks them.
const (
	// ReasonSoldOut: the free and held places together cannot serve one
	// more order, so admission stops and the room should be marked sold out.
	ReasonSoldOut Reason = "sold_out"
	// ReasonWaitForHolds: no free place can serve an order but unexpired
	// holds may still return some, so admission stops without declaring
	// sold out.
	ReasonWaitForHolds Reason = "wait_for_holds"
	// ReasonDecayStale: the signals are too old, so the rate moves back
	// toward the starting rate.
	ReasonDecayStale Reason = "decay_stale"
	// ReasonHoldFewSamples: too few operations were measured to judge.
	ReasonHoldFewSamples Reason = "hold_few_samples"
	// ReasonDeepCut: latency or errors breached severely.
	ReasonDeepCut Reason = "deep_cut"
	// ReasonCut: latency exceeded the target.
	ReasonCut Reason = "cut"
	// ReasonHoldOff: the rate may not rise yet after a deep cut, or the
	// breach was measured before the last cut could take effect.
	ReasonHoldOff Reason = "hold_off"
	// ReasonHoldSettling: the signals were measured too soon after the
	// last change of rate to show its effect.
	ReasonHoldSettling Reason = "hold_settling"
	// ReasonHoldDraining: latency breached, but less than at the last
	// decision and soon after a cut, so the queue that built up before
	// that cut is draining.
	ReasonHoldDraining Reason = "hold_draining"
	// ReasonHoldErrors: errors are under the threshold but too many to rise.
	ReasonHoldErrors Reason = "hold_errors"
	// ReasonHoldNotUsed: the room admitted less than UsedShare of the
	// current rate, so good latency proves nothing about a higher one.
	ReasonHoldNotUsed Reason = "hold_not_used"
	// ReasonHoldConfirm: latency shows headroom and no cut has happened
	// yet, but an earlier reading did not, so the ramp waits for a second
	// reading with headroom in a row.
	ReasonHoldConfirm Reason = "hold_confirm"
	// ReasonRampUp: latency shows headroom and no cut has happened yet, so
	// the rate grows by RampFactor.
	ReasonRampUp Reason = "ramp_up"
	// ReasonApproach: the rate moves toward just below the rate of the last
	// cut: a quarter of the way while latency shows headroom, and by
	// AdditiveStep otherwise or when that is more.
	ReasonApproach Reason = "approach"
	// ReasonHoldCeiling: the rate sits just below the rate of the last cut
	// until ProbeAfter has passed since that cut.
	ReasonHoldCeiling Reason = "hold_ceiling"
	// ReasonIncrease: the rate grows by the additive step, which doubles
	// with each increase while latency shows headroom.
	ReasonIncrease Reason = "increase"
	// ReasonClamp: the rule's result lay outside the minimum or maximum rate.
	ReasonClamp Reason = "clamp"
	// ReasonMaxActive: the rate was capped so that one control period of
	// admissions fits under max active.
	ReasonMaxActive Reason = "max_active"
	// ReasonStart: the controller's first decision for the room holds
	// the starting rate, which may differ from the rate the room had.
	ReasonStart Reason = "start"
)

// Decision is one controller decision with the signals behind it.
type Decision struct {
	At time.Time `json:"at"`
	// OldRatePerMinute is the rate the previous decision gave the room, 0
	// before the first. NewRatePerMinute is the rate the room should get
	// now; it is 0 when the reason is ReasonSoldOut or ReasonWaitForHolds.
	OldRatePerMinute float64 `json:"old_rate_per_minute"`
	NewRatePerMinute float64 `json:"new_rate_per_minute"`
	Reason           Reason  `json:"reason"`
	Signals          Signals `json:"signals"`
	// CapacityPerMinute is the law's estimate of the backend's capacity
	// in visitors per minute after this decision, 0 while it has none
	// (see ControllerState.CapacityPerMinute).
	CapacityPerMinute float64 `json:"capacity_per_minute"`
}

// SoldOut reports whether the room should be marked sold out.
func (d Decision) SoldOut() bool { return d.Reason == ReasonSoldOut }

// LogValue returns the decision as a group of log attributes, so that
// logger.Info("admission rate decided", "decision", d) logs every field.
// Latency and staleness are whole milliseconds, as in the admin API.
func (d Decision) LogValue() slog.Value {
	s := d.Signals
	return slog.GroupValue(
		slog.String("reason", string(d.Reason)),
		slog.Float64("old_rate_per_minute", d.OldRatePerMinute),
		slog.Float64("new_rate_per_minute", d.NewRatePerMinute),
		slog.Float64("capacity_per_minute", d.CapacityPerMinute),
		slog.Int64("latency_p95_ms", s.LatencyP95.Milliseconds()),
		slog.Float64("error_rate", s.ErrorRate),
		slog.Int64("samples", s.Samples),
		slog.Int64("staleness_ms", s.Staleness.Milliseconds()),
		slog.Int64("active", s.Active),
		slog.Int64("max_active", s.MaxActive),
		slog.Int64("waiting", s.Waiting),
		slog.Float64("admitted_per_minute", s.AdmittedPerMinute),
		slog.Bool("has_inventory", s.HasInventory),
		slog.Int64("remaining_places", s.RemainingPlaces),
		slog.Int64("held_places", s.HeldPlaces),
	)
}

// Decide applies the control law to one set of signals and returns the
// decision and the state to store. It is pure: the same arguments give the
// same result. cfg should pass Validate, and zero fields take defaults.
//
// The caller runs it once per Period for a room that is open in mode auto,
// sets the room's rate to NewRatePerMinute and marks the room sold out when
// Decision.SoldOut reports true. docs/controller.md describes the law.
func Decide(cfg ControllerConfig, state ControllerState, s Signals, now time.Time) (Decision, ControllerState) {
	cfg = cfg.WithDefaults()
	starting := state.RatePerMinute <= 0
	if starting {
		state.RatePerMinute = cfg.clampRate(cfg.StartRatePerMinute)
	}

	next := state
	next.Version++
	next.LastDecision = now
	d := Decision{At: now, OldRatePerMinute: state.AppliedPerMinute, Signals: s}

	if reason, stop := cfg.inventoryRule(s); stop {
		d.Reason = reason
		next.AppliedPerMinute = 0
		next.LastReason = reason
		return d, next
	}

	cfg.estimateCapacity(&state, s, now)
	next.CapacityPerMinute = state.CapacityPerMinute
	next.SaturatedFinished = state.SaturatedFinished
	next.SaturatedFor = state.SaturatedFor
	o := cfg.rateRule(state, s, now)
	if starting && o.rate == state.RatePerMinute {
		// Holding the starting rate still changes the room's rate, which
		// was the organizer's, so the reason names the start, not a hold.
		o.reason = ReasonStart
	}
	rate := cfg.clampRate(o.rate)
	if rate != o.rate {
		o.reason = ReasonClamp
	}
	next.CeilingPerMinute = o.ceiling
	next.Increases = o.increases
	next.CeilingMeasured = state.CeilingMeasured && o.ceiling > 0
	if o.cut {
		next.LastCut = now
		next.CeilingPerMinute = state.RatePerMinute
		next.CeilingMeasured = false
		next.Increases = 0
	}
	if o.deep {
		next.HoldOffUntil = now.Add(cfg.HoldOff)
	}
	// Within two hold-offs of a deep cut, the overload and the queue it
	// left keep the backend saturated, and the capacity measured meanwhile
	// is a better ceiling than the rate at the cut. After a small cut the
	// backend was barely past its capacity, and the rate at the cut is
	// the better one.
	afterDeepCut := !next.HoldOffUntil.IsZero() && now.Sub(next.HoldOffUntil) <= cfg.HoldOff
	if capacity := state.CapacityPerMinute; capacity > 0 && state.SaturatedFor > 0 && afterDeepCut && (capacity < next.CeilingPerMinute || next.CeilingMeasured) {
		next.CeilingPerMinute = capacity
		next.CeilingMeasured = true
	}
	if rate != state.RatePerMinute {
		next.LastChange = now
	}
	next.RatePerMinute = rate
	next.Headroom = o.headroom
	next.LastActive = s.Active
	next.LastAdmitted = s.Admitted
	if s.Samples >= cfg.MinSamples && o.reason != ReasonDecayStale {
		next.LastP95 = s.LatencyP95
		// Latency without headroom before any cut may mean the rate is
		// near what the backend can take, and one reading with headroom
		// after it may be noise. A doubling from there could overshoot
		// twice the capacity, so from now on a ramp needs two.
		if next.LastCut.IsZero() && !state.LastDecision.IsZero() && float64(s.LatencyP95) > cfg.RampBelow*float64(cfg.TargetP95) {
			next.RampWarned = true
		}
	}

	applied := rate
	if limit, ok := cfg.maxActiveLimit(s); ok && limit < applied {
		applied = max(limit, cfg.MinRatePerMinute)
		o.reason = ReasonMaxActive
	}

	d.NewRatePerMinute = applied
	d.Reason = o.reason
	d.CapacityPerMinute = next.CapacityPerMinute
	next.AppliedPerMinute = applied
	next.LastReason = o.reason
	return d, next
}
