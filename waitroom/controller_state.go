package waitroom

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// ControllerState is the controller's memory between decisions. It is
// small and turns into string fields (Fields) or JSON, so that a store can
// keep one per room and replace it by compare-and-set on Version. Then
// whichever edge decides, each control period has one decision. The zero
// value is a controller that has not decided yet.
type ControllerState struct {
	// Version counts decisions; Decide increments it.
	Version int64 `json:"version"`
	// RatePerMinute is the rate the controller has learned the backend
	// takes; 0 means not started. It is not capped by max active.
	RatePerMinute float64 `json:"rate_per_minute"`
	// AppliedPerMinute is the rate the last decision gave the room.
	AppliedPerMinute float64 `json:"applied_per_minute"`
	// CeilingPerMinute is the rate at the last cut. Approaches stay below
	// it, and increases pass it in small steps. 0 means none: before the
	// first cut, or once the rate has passed it by CeilingMargin.
	CeilingPerMinute float64 `json:"ceiling_per_minute"`
	// Increases counts the doublings of the additive step: one more for
	// each increase with headroom, one fewer for each without.
	Increases int64 `json:"increases"`
	// Headroom counts consecutive decisions whose latency showed headroom.
	Headroom int64 `json:"headroom"`
	// LastP95 is the latency p95 at the last decision that had enough
	// samples.
	LastP95 time.Duration `json:"last_p95"`
	// LastActive is the room's active admitted visitors at the last
	// decision: a backlog that keeps growing after a cut is an overload
	// that goes on, not a queue that drains.
	LastActive int64 `json:"last_active"`
	// LastAdmitted is the room's admission count at the last decision.
	// With LastActive it gives how many admitted visitors finished since.
	LastAdmitted int64 `json:"last_admitted"`
	// CapacityPerMinute is the estimate of how many admitted visitors per
	// minute the backend lets finish while it is saturated, 0 before the
	// first estimate. It is SaturatedFinished over SaturatedFor: the visitors that finished
	// during the saturated readings of the last overload, over their time.
	CapacityPerMinute float64       `json:"capacity_per_minute"`
	SaturatedFinished int64         `json:"saturated_finished"`
	SaturatedFor      time.Duration `json:"saturated_for"`
	// CeilingMeasured is true when CeilingPerMinute comes from
	// CapacityPerMinute rather than from the rate at the last cut.
	CeilingMeasured bool `json:"ceiling_measured"`
	// RampWarned is true once a reading before the first cut showed latency
	// without headroom. A ramp then needs two readings with headroom in a
	// row.
	RampWarned bool `json:"ramp_warned"`
	// LastDecision, LastChange and LastCut are when the controller last
	// decided, last changed RatePerMinute and last cut it.
	LastDecision time.Time `json:"last_decision"`
	LastChange   time.Time `json:"last_change"`
	LastCut      time.Time `json:"last_cut"`
	// HoldOffUntil is when the rate may rise again after a deep cut.
	HoldOffUntil time.Time `json:"hold_off_until"`
	// LastReason is the reason of the last decision.
	LastReason Reason `json:"last_reason"`
}

// Field names of ControllerState in Fields and ParseControllerState.
const (
	stateVersion      = "version"
	stateRate         = "rate_per_minute"
	stateApplied      = "applied_per_minute"
	stateCeiling      = "ceiling_per_minute"
	stateIncreases    = "increases"
	stateHeadroom     = "headroom"
	stateLastP95      = "last_p95_ms"
	stateLastDecision = "last_decision_ms"
	stateLastChange   = "last_change_ms"
	stateLastCut      = "last_cut_ms"
	stateHoldOffUntil = "hold_off_until_ms"
	stateLastReason   = "last_reason"
	stateLastActive   = "last_active"
	stateLastAdmitted = "last_admitted"
	stateCapacity     = "capacity_per_minute"
	stateMeasured     = "ceiling_measured"
	stateRampWarned   = "ramp_warned"
	stateSatFinished  = "saturated_finished"
	stateSatFor       = "saturated_for_ms"
)

// Fields returns the state as string fields, such as a Redis hash holds.
// Times are Unix milliseconds, with 0 for the zero time, so a compare-and-set
// script can compare Version without parsing anything else.
func (s ControllerState) Fields() map[string]string {
	return map[string]string{
		stateVersion:      strconv.FormatInt(s.Version, 10),
		stateRate:         formatRate(s.RatePerMinute),
		stateApplied:      formatRate(s.AppliedPerMinute),
		stateCeiling:      formatRate(s.CeilingPerMinute),
		stateIncreases:    strconv.FormatInt(s.Increases, 10),
		stateHeadroom:     strconv.FormatInt(s.Headroom, 10),
		stateLastP95:      strconv.FormatInt(s.LastP95.Milliseconds(), 10),
		stateLastDecision: formatMillis(s.LastDecision),
		stateLastChange:   formatMillis(s.LastChange),
		stateLastCut:      formatMillis(s.LastCut),
		stateHoldOffUntil: formatMillis(s.HoldOffUntil),
		stateLastReason:   string(s.LastReason),
		stateLastActive:   strconv.FormatInt(s.LastActive, 10),
		stateLastAdmitted: strconv.FormatInt(s.LastAdmitted, 10),
		stateCapacity:     formatRate(s.CapacityPerMinute),
		stateMeasured:     strconv.FormatBool(s.CeilingMeasured),
		stateRampWarned:   strconv.FormatBool(s.RampWarned),
		stateSatFinished:  strconv.FormatInt(s.SaturatedFinished, 10),
		stateSatFor:       strconv.FormatInt(s.SaturatedFor.Milliseconds(), 10),
	}
}

// ParseControllerState reads a state written by Fields. Missing fields keep
// their zero value, so an empty map gives the zero state. It returns an
// error naming the first field that does not parse or holds a negative or
// non-finite number.
func ParseControllerState(fields map[string]string) (ControllerState, error) {
	var s ControllerState
	if v, ok := fields[stateLastReason]; ok {
		s.LastReason = Reason(v)
	}
	flags := []struct {
		name string
		dst  *bool
	}{
		{stateMeasured, &s.CeilingMeasured},
		{stateRampWarned, &s.RampWarned},
	}
	for _, f := range flags {
		v, ok := fields[f.name]
		if !ok {
			continue
		}
		flag, err := strconv.ParseBool(v)
		if err != nil {
			return ControllerState{}, invalidStateField(f.name, v, errors.New("want true or false"))
		}
		*f.dst = flag
	}

	counts := []struct {
		name string
		dst  *int64
	}{
		{stateVersion, &s.Version},
		{stateIncreases, &s.Increases},
		{stateHeadroom, &s.Headroom},
		{stateLastActive, &s.LastActive},
		{stateLastAdmitted, &s.LastAdmitted},
		{stateSatFinished, &s.SaturatedFinished},
	}
	for _, f := range counts {
		v, ok := fields[f.name]
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err := nonNegative(float64(n), err); err != nil {
			return ControllerState{}, invalidStateField(f.name, v, err)
		}
		*f.dst = n
	}

	rates := []struct {
		name string
		dst  *float64
	}{
		{stateRate, &s.RatePerMinute},
		{stateApplied, &s.AppliedPerMinute},
		{stateCeiling, &s.CeilingPerMinute},
		{stateCapacity, &s.CapacityPerMinute},
	}
	for _, f := range rates {
		v, ok := fields[f.name]
		if !ok {
			continue
		}
		rate, err := strconv.ParseFloat(v, 64)
		if err := nonNegative(rate, err); err != nil {
			return ControllerState{}, invalidStateField(f.name, v, err)
		}
		*f.dst = rate
	}

	times := []struct {
		name string
		dst  *time.Time
	}{
		{stateLastDecision, &s.LastDecision},
		{stateLastChange, &s.LastChange},
		{stateLastCut, &s.LastCut},
		{stateHoldOffUntil, &s.HoldOffUntil},
	}
	durations := []struct {
		name string
		dst  *time.Duration
	}{
		{stateLastP95, &s.LastP95},
		{stateSatFor, &s.SaturatedFor},
	}
	for _, f := range durations {
		v, ok := fields[f.name]
		if !ok {
			continue
		}
		ms, err := strconv.ParseInt(v, 10, 64)
		if err := nonNegative(float64(ms), err); err != nil {
			return ControllerState{}, invalidStateField(f.name, v, err)
		}
		*f.dst = time.Duration(ms) * time.Millisecond
	}

	for _, f := range times {
		v, ok := fields[f.name]
		if !ok {
			continue
		}
		ms, err := strconv.ParseInt(v, 10, 64)
		if err := nonNegative(float64(ms), err); err != nil {
			return ControllerState{}, invalidStateField(f.name, v, err)
		}
		if ms > 0 {
			*f.dst = time.UnixMilli(ms).UTC()
		}
	}
	return s, nil
}

func invalidStateField(name, value string, err error) error {
	return fmt.Errorf("waitroom: controller state field %s %q is invalid: %w", name, value, err)
}

func formatRate(rate float64) string {
	return strconv.FormatFloat(rate, 'g', -1, 64)
}

func nonNegative(x float64, err error) error {
	switch {
	case err != nil:
		return err
	case x < 0 || math.IsNaN(x) || math.IsInf(x, 0):
		return errors.New("want a finite number of at least 0")
	}
	return nil
}

func formatMillis(t time.Time) string {
	if t.IsZero() {
		return "0"
	}
	return strconv.FormatInt(t.UnixMilli(), 10)
}
