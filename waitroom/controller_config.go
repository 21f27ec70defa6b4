package waitroom

import (
	"fmt"
	"time"
)

// Defaults for ControllerConfig. docs/controller.md gives the reasons.
const (
	DefaultTargetP95          = 500 * time.Millisecond
	DefaultErrorRateThreshold = 0.05
	DefaultMinRatePerMinute   = 6
	DefaultMaxRatePerMinute   = 30000
	DefaultControlPeriod      = 5 * time.Second
	DefaultSettle             = 5 * time.Second
	DefaultRampFactor         = 2
	DefaultRampBelow          = 0.5
	DefaultAdditiveStep       = 0.01
	DefaultCeilingMargin      = 0.08
	DefaultProbeAfter         = 5 * time.Minute
	DefaultCutFactor          = 0.9
	DefaultSevereFactor       = 3
	DefaultDeepCutFactor      = 0.5
	DefaultHoldOff            = 30 * time.Second
	DefaultMinSamples         = 20
	DefaultStaleAfter         = 30 * time.Second
	DefaultDecayHalfLife      = time.Minute
	DefaultUsedShare          = 0.8
	DefaultMinOrderPlaces     = 1
)

// ControllerConfig are the parameters of the automatic admission rate. Rates
// are in visitors per minute, like Settings.RatePerMinute. Zero fields take
// the defaults noted, so a zero value cannot switch a rule off.
type ControllerConfig struct {
	// TargetP95 is the booking latency p95 to stay under. Default 500ms.
	TargetP95 time.Duration `json:"target_p95"`
	// ErrorRateThreshold is the share of errors and timeouts that counts as
	// a severe breach. Above half of it the rate does not rise. Default 0.05.
	ErrorRateThreshold float64 `json:"error_rate_threshold"`
	// MinRatePerMinute and MaxRatePerMinute bound the rate. Defaults 6 and
	// 30000.
	MinRatePerMinute float64 `json:"min_rate_per_minute"`
	MaxRatePerMinute float64 `json:"max_rate_per_minute"`
	// StartRatePerMinute is the first rate, and the rate that the rate
	// decays toward while signals are stale. Default DefaultRatePerMinute.
	StartRatePerMinute float64 `json:"start_rate_per_minute"`
	// Period is the interval between decisions. It sizes the cap that keeps
	// one period of admissions under max active. Default 5s.
	Period time.Duration `json:"period"`
	// Settle is how long after a change of rate the booking signals start to
	// show it: the time an admitted visitor takes to reach the first booking
	// step. Signals from windows that start earlier do not justify a rise or
	// a second cut. Default 5s.
	Settle time.Duration `json:"settle"`
	// RampBelow sets when latency shows headroom: p95 at most RampBelow ×
	// TargetP95. Only then may the rate grow by more than AdditiveStep.
	// Default 0.5.
	RampBelow float64 `json:"ramp_below"`
	// RampFactor multiplies the rate at each rise before the first cut,
	// while latency shows headroom. Default 2.
	RampFactor float64 `json:"ramp_factor"`
	// AdditiveStep is the smallest rise, as a share of the rate. Default
	// 0.01.
	AdditiveStep float64 `json:"additive_step"`
	// CeilingMargin keeps approaches below the rate of the last cut: they
	// stop at that rate × (1 − CeilingMargin). Default 0.08.
	CeilingMargin float64 `json:"ceiling_margin"`
	// ProbeAfter is how long the rate stays just below the rate of the last
	// cut before it rises above it again, to find out whether the backend
	// now takes more. Default 5m.
	ProbeAfter time.Duration `json:"probe_after"`
	// CutFactor is the deepest proportional cut: when p95 exceeds the
	// target the rate becomes rate × TargetP95 / p95, but at least rate ×
	// CutFactor. Default 0.9.
	CutFactor float64 `json:"cut_factor"`
	// SevereFactor marks a severe breach, p95 ≥ SevereFactor × TargetP95.
	// A severe breach multiplies the rate by DeepCutFactor, and the rate
	// may not rise for HoldOff after. Within HoldOff only errors at
	// ErrorRateThreshold cut again, because high latency then may be the
	// queue that built up before the cut. Defaults 3, 0.5 and 30s.
	SevereFactor  float64       `json:"severe_factor"`
	DeepCutFactor float64       `json:"deep_cut_factor"`
	HoldOff       time.Duration `json:"hold_off"`
	// MinSamples is how many operations the signals need before latency
	// and errors are judged. Default 20.
	MinSamples int64 `json:"min_samples"`
	// StaleAfter is the staleness beyond which signals are ignored and the
	// rate decays toward StartRatePerMinute, halving its distance every
	// DecayHalfLife. Defaults 30s and 1m.
	StaleAfter    time.Duration `json:"stale_after"`
	DecayHalfLife time.Duration `json:"decay_half_life"`
	// UsedShare is the share of the current rate that the room must have
	// admitted for the rate to count as used. Default 0.8.
	UsedShare float64 `json:"used_share"`
	// MinOrderPlaces is the smallest order a visitor can place, in places.
	// Default 1.
	MinOrderPlaces int64 `json:"min_order_places"`
}

// WithDefaults returns c with every zero field set to its default.
func (c ControllerConfig) WithDefaults() ControllerConfig {
	setDefault(&c.TargetP95, DefaultTargetP95)
	setDefault(&c.ErrorRateThreshold, DefaultErrorRateThreshold)
	setDefault(&c.MinRatePerMinute, DefaultMinRatePerMinute)
	setDefault(&c.MaxRatePerMinute, DefaultMaxRatePerMinute)
	setDefault(&c.StartRatePerMinute, DefaultRatePerMinute)
	setDefault(&c.Period, DefaultControlPeriod)
	setDefault(&c.Settle, DefaultSettle)
	setDefault(&c.RampBelow, DefaultRampBelow)
	setDefault(&c.RampFactor, DefaultRampFactor)
	setDefault(&c.AdditiveStep, DefaultAdditiveStep)
	setDefault(&c.CeilingMargin, DefaultCeilingMargin)
	setDefault(&c.ProbeAfter, DefaultProbeAfter)
	setDefault(&c.CutFactor, DefaultCutFactor)
	setDefault(&c.SevereFactor, DefaultSevereFactor)
	setDefault(&c.DeepCutFactor, DefaultDeepCutFactor)
	setDefault(&c.HoldOff, DefaultHoldOff)
	setDefault(&c.MinSamples, DefaultMinSamples)
	setDefault(&c.StaleAfter, DefaultStaleAfter)
	setDefault(&c.DecayHalfLife, DefaultDecayHalfLife)
	setDefault(&c.UsedShare, DefaultUsedShare)
	setDefault(&c.MinOrderPlaces, DefaultMinOrderPlaces)
	return c
}

func setDefault[T comparable](field *T, value T) {
	var zero T
	if *field == zero {
		*field = value
	}
}

// Validate returns an error naming the first invalid field of c with
// defaults applied, its value and what is allowed.
func (c ControllerConfig) Validate() error {
	c = c.WithDefaults()

	switch {
	case c.TargetP95 < time.Millisecond:
		return fmt.Errorf("controller: target_p95 %s is invalid: use at least 1ms", c.TargetP95)
	case c.ErrorRateThreshold <= 0 || c.ErrorRateThreshold > 1:
		return fmt.Errorf("controller: error_rate_threshold %v is invalid: use a share above 0 and at most 1", c.ErrorRateThreshold)
	case c.MinRatePerMinute <= 0 || c.MaxRatePerMinute > 1e6 || c.MinRatePerMinute > c.MaxRatePerMinute:
		return fmt.Errorf("controller: min_rate_per_minute %v and max_rate_per_minute %v are invalid: use 0 < min ≤ max ≤ 1000000", c.MinRatePerMinute, c.MaxRatePerMinute)
	case c.StartRatePerMinute < c.MinRatePerMinute || c.StartRatePerMinute > c.MaxRatePerMinute:
		return fmt.Errorf("controller: start_rate_per_minute %v is invalid: use a rate from min_rate_per_minute %v to max_rate_per_minute %v", c.StartRatePerMinute, c.MinRatePerMinute, c.MaxRatePerMinute)
	case c.Period < time.Second:
		return fmt.Errorf("controller: period %s is invalid: use at least 1s", c.Period)
	case c.Settle < 0:
		return fmt.Errorf("controller: settle %s is invalid: use 0s or more", c.Settle)
	case c.RampBelow <= 0 || c.RampBelow >= 1:
		return fmt.Errorf("controller: ramp_below %v is invalid: use a share above 0 and below 1", c.RampBelow)
	case c.RampFactor <= 1 || c.RampFactor > 10:
		return fmt.Errorf("controller: ramp_factor %v is invalid: use a factor above 1 and at most 10", c.RampFactor)
	case c.AdditiveStep <= 0 || c.AdditiveStep > 0.5:
		return fmt.Errorf("controller: additive_step %v is invalid: use a share above 0 and at most 0.5", c.AdditiveStep)
	case c.CeilingMargin <= 0 || c.CeilingMargin >= 0.5:
		return fmt.Errorf("controller: ceiling_margin %v is invalid: use a share above 0 and below 0.5", c.CeilingMargin)
	case c.ProbeAfter < c.Period:
		return fmt.Errorf("controller: probe_after %s is invalid: use at least the period %s", c.ProbeAfter, c.Period)
	case c.CutFactor <= 0 || c.CutFactor >= 1:
		return fmt.Errorf("controller: cut_factor %v is invalid: use a factor above 0 and below 1", c.CutFactor)
	case c.SevereFactor <= 1:
		return fmt.Errorf("controller: severe_factor %v is invalid: use a factor above 1", c.SevereFactor)
	case c.DeepCutFactor <= 0 || c.DeepCutFactor > c.CutFactor:
		return fmt.Errorf("controller: deep_cut_factor %v is invalid: use a factor above 0 and at most cut_factor %v", c.DeepCutFactor, c.CutFactor)
	case c.HoldOff < 0:
		return fmt.Errorf("controller: hold_off %s is invalid: use 0s or more", c.HoldOff)
	case c.MinSamples < 1:
		return fmt.Errorf("controller: min_samples %d is invalid: use at least 1", c.MinSamples)
	case c.StaleAfter < c.Period:
		return fmt.Errorf("controller: stale_after %s is invalid: use at least the period %s", c.StaleAfter, c.Period)
	case c.DecayHalfLife < time.Second:
		return fmt.Errorf("controller: decay_half_life %s is invalid: use at least 1s", c.DecayHalfLife)
	case c.UsedShare <= 0 || c.UsedShare > 1:
		return fmt.Errorf("controller: used_share %v is invalid: use a share above 0 and at most 1", c.UsedShare)
	case c.MinOrderPlaces < 1:
		return fmt.Errorf("controller: min_order_places %d is invalid: use at least 1", c.MinOrderPlaces)
	}
	return nil
}
