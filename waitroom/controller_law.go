package waitroom

import (
	"math"
	"time"
)

// maxStepDoublings bounds how often the additive step doubles: at most 8
// steps in one decision. Within CeilingMargin of the rate of the last cut,
// where the backend broke before, nearCeilingDoublings bounds it instead.
const (
	maxStepDoublings     = 3
	nearCeilingDoublings = 2
)

// approachShare is the share of the distance to just below the rate of the
// last cut that one approach with headroom covers. A quarter rather than a
// half keeps an approach toward a ceiling set by an overshoot from
// breaching again on its way. A ceiling measured as the capacity is not
// above it by an overshoot, so an approach toward it goes all the way.
const approachShare = 0.25

// backlogGrowth and backlogSlack decide when the active admitted visitors
// have grown since the last decision: by more than backlogGrowth of their
// number plus backlogSlack visitors. Small changes are noise.
const (
	backlogGrowth = 0.2
	backlogSlack  = 5
)

// backlogGrowing reports whether the room's active admitted visitors grew
// since the last decision. By Little's law, at a steady admission rate
// they grow when each visitor takes longer to book: the overload goes on.
// A queue left by an overload that a cut has ended shrinks instead.
func backlogGrowing(st ControllerState, s Signals) bool {
	return st.LastActive > 0 && float64(s.Active) > float64(st.LastActive)*(1+backlogGrowth)+backlogSlack
}

// inventoryRule stops admission when no visitor in line could book: sold
// out when even the held places could not serve the smallest order, and a
// wait when only holds that may still expire stand in the way.
func (c ControllerConfig) inventoryRule(s Signals) (Reason, bool) {
	switch {
	case !s.HasInventory:
		return "", false
	case s.MostFreeOrHeldInSlot < c.MinOrderPlaces:
		return ReasonSoldOut, true
	case s.MostFreeInSlot < c.MinOrderPlaces:
		return ReasonWaitForHolds, true
	}
	return "", false
}

// outcome is the result of rateRule, before the bounds are applied.
type outcome struct {
	rate      float64
	ceiling   float64
	increases int64
	headroom  int64
	reason    Reason
	cut       bool
	deep      bool
}

// rateRule applies the staleness, latency, error and usage rules in order
// of precedence. The first rule that matches decides.
func (c ControllerConfig) rateRule(st ControllerState, s Signals, now time.Time) outcome {
	hold := func(reason Reason) outcome {
		return outcome{rate: st.RatePerMinute, ceiling: st.CeilingPerMinute, increases: st.Increases, headroom: st.Headroom, reason: reason}
	}

	if s.WindowEnd.IsZero() || s.Staleness > c.StaleAfter {
		o := hold(ReasonDecayStale)
		o.rate = c.decay(st.RatePerMinute, now.Sub(st.LastDecision))
		o.headroom = 0
		return o
	}
	if s.Samples < c.MinSamples {
		return hold(ReasonHoldFewSamples)
	}
	if o, ok := c.cutRule(st, s, now); ok {
		return o
	}
	switch {
	case now.Before(st.HoldOffUntil) && !c.drained(st, s):
		return hold(ReasonHoldOff)
	case s.WindowStart.Before(st.LastChange.Add(c.Settle)):
		return hold(ReasonHoldSettling)
	case st.LastDecision.IsZero():
		// The signals show the organizer's rate, not the starting rate,
		// so they justify no rise.
		return hold(ReasonStart)
	}

	// From here the signals show the current rate, so they count toward
	// the streak of decisions with headroom.
	var streak int64
	if float64(s.LatencyP95) <= c.RampBelow*float64(c.TargetP95) {
		streak = st.Headroom + 1
	}

	var o outcome
	switch {
	case s.ErrorRate > c.ErrorRateThreshold/2:
		o = hold(ReasonHoldErrors)
	case !c.used(st, s):
		o = hold(ReasonHoldNotUsed)
	default:
		o = c.riseRule(st, streak, now)
	}

	o.headroom = streak
	if o.rate != st.RatePerMinute {
		o.headroom = 0
	}
	return o
}

// cutRule cuts the rate when latency or errors breach. ok is false when
// they do not. A breach measured before the last cut could take effect
// shows the load before it, so it justifies no second cut. After a cut,
// latency stays high while the queue that built up before it drains:
// within a deep cut's hold-off only errors cut again, and a breach no
// larger than at the last decision waits. Both waits end when the active
// admitted visitors keep growing: latency then stays high, or sits at the
// histogram's top bound, because the overload goes on.
func (c ControllerConfig) cutRule(st ControllerState, s Signals, now time.Time) (o outcome, ok bool) {
	target := float64(c.TargetP95)
	p95 := float64(s.LatencyP95)
	measuredBeforeCut := s.WindowStart.Before(st.LastCut.Add(c.Settle))
	growing := backlogGrowing(st, s)
	inHoldOff := now.Before(st.HoldOffUntil) && !growing
	draining := !st.LastCut.IsZero() && now.Sub(st.LastCut) <= 2*c.HoldOff && s.LatencyP95 <= st.LastP95 && !growing
	hold := func(reason Reason) (outcome, bool) {
		return outcome{rate: st.RatePerMinute, ceiling: st.CeilingPerMinute, increases: st.Increases, reason: reason}, true
	}

	switch {
	case s.ErrorRate >= c.ErrorRateThreshold:
		if inHoldOff || measuredBeforeCut {
			return hold(ReasonHoldOff)
		}
		return c.deepCut(st), true

	case p95 >= c.SevereFactor*target:
		if inHoldOff || measuredBeforeCut {
			return hold(ReasonHoldOff)
		}
		if draining {
			return hold(ReasonHoldDraining)
		}
		return c.deepCut(st), true

	case p95 > target:
		if inHoldOff || measuredBeforeCut {
			return hold(ReasonHoldOff)
		}
		if draining {
			return hold(ReasonHoldDraining)
		}
		return outcome{rate: st.RatePerMinute * max(c.CutFactor, target/p95), reason: ReasonCut, cut: true}, true
	}
	return outcome{}, false
}

// drained reports whether the queue that a deep cut to below the
// measured capacity was meant to drain is gone: latency shows headroom and
// nothing failed, measured after the cut took effect. The hold-off after
// such a cut then ends early, since its reason, a queue left from before
// the cut, is gone.
func (c ControllerConfig) drained(st ControllerState, s Signals) bool {
	return st.CeilingMeasured && s.ErrorRate == 0 &&
		float64(s.LatencyP95) <= c.RampBelow*float64(c.TargetP95) &&
		!s.WindowStart.Before(st.LastCut.Add(c.Settle))
}

// deepCut multiplies the rate by DeepCutFactor. With an estimate of the
// capacity from this overload below the rate, it multiplies the estimate
// instead: admitting at that share of what the backend completes drains
// the queue the overload left, where halving a rate far above the
// capacity may not. An estimate from an earlier overload may be stale.
func (c ControllerConfig) deepCut(st ControllerState) outcome {
	rate := st.RatePerMinute * c.DeepCutFactor
	if capacity := st.CapacityPerMinute; capacity > 0 && st.SaturatedFor > 0 {
		rate = min(rate, capacity*c.DeepCutFactor)
	}
	return outcome{rate: rate, reason: ReasonDeepCut, cut: true, deep: true}
}

// saturated reports whether the signals show the backend past its
// capacity: latency over the target or errors at the threshold. A queue
// has then built up, so the backend completes work as fast as it can, and
// what it completes measures its capacity.
func (c ControllerConfig) saturated(s Signals) bool {
	return s.Samples >= c.MinSamples && (s.ErrorRate >= c.ErrorRateThreshold || s.LatencyP95 > c.TargetP95)
}

// finished returns how many admitted visitors left the room's active
// places since the last decision, and over how long: those admitted minus
// the growth of the active count. The booking core frees a visitor's place
// when their order is confirmed, so these are completed bookings. ok is
// false without a recent previous decision or after a reset.
func (c ControllerConfig) finished(st ControllerState, s Signals, now time.Time) (visitors int64, elapsed time.Duration, ok bool) {
	elapsed = now.Sub(st.LastDecision)
	if st.LastDecision.IsZero() || st.LastAdmitted <= 0 || elapsed <= 0 || elapsed > 3*c.Period || s.Admitted < st.LastAdmitted {
		return 0, 0, false
	}
	return max(0, (s.Admitted-st.LastAdmitted)-(s.Active-st.LastActive)), elapsed, true
}

// estimateCapacity adds a saturated reading's finished visitors to st's
// estimate of the capacity. The saturated readings in a row, from the
// first breach until the queue has drained, are one overload and share
// the sums. A reading that is not saturated closes them and keeps the
// estimate. The sums span the whole overload because its readings are
// biased in turn: first new visitors take the backend's calls, then the
// calls that finish their bookings.
func (c ControllerConfig) estimateCapacity(st *ControllerState, s Signals, now time.Time) {
	if s.Samples >= c.MinSamples && !c.saturated(s) {
		st.SaturatedFinished, st.SaturatedFor = 0, 0
		return
	}
	visitors, elapsed, ok := c.finished(*st, s, now)
	if !ok || !s.ReleasesOnBooking || !c.saturated(s) {
		return
	}
	st.SaturatedFinished += visitors
	st.SaturatedFor += elapsed
	st.CapacityPerMinute = float64(st.SaturatedFinished) / st.SaturatedFor.Minutes()
}

// riseRule raises a rate that the signals show to be safe. While latency
// shows headroom the rise is large: by RampFactor before the first cut, a
// share of the way toward just below the rate of the last cut, or by a
// step that doubles with each increase. Without headroom it is
// AdditiveStep. The rate stays just below the rate of the last cut until
// ProbeAfter has passed, and then passes that rate in small steps. streak
// counts the decisions in a row with headroom.
func (c ControllerConfig) riseRule(st ControllerState, streak int64, now time.Time) outcome {
	rate := st.RatePerMinute
	headroom := streak > 0
	o := outcome{rate: rate, ceiling: st.CeilingPerMinute}

	if st.LastCut.IsZero() && headroom {
		if st.RampWarned && streak < 2 {
			o.reason = ReasonHoldConfirm
			return o
		}
		o.rate = rate * c.RampFactor
		o.reason = ReasonRampUp
		return o
	}

	doublings := int64(maxStepDoublings)
	if st.CeilingPerMinute > 0 {
		limit := st.CeilingPerMinute * (1 - c.CeilingMargin)
		switch {
		case rate < limit:
			step := c.AdditiveStep * rate
			switch {
			case headroom && st.CeilingMeasured:
				step = limit - rate
			case headroom:
				step = max(step, (limit-rate)*approachShare)
			}
			o.rate = min(limit, rate+step)
			o.reason = ReasonApproach
			return o

		case rate <= limit && now.Sub(st.LastCut) < c.ProbeAfter:
			o.reason = ReasonHoldCeiling
			return o

		case rate >= st.CeilingPerMinute*(1+c.CeilingMargin):
			o.ceiling = 0

		default:
			doublings = nearCeilingDoublings
		}
	}

	// The step doubles with each increase that has headroom, and one
	// reading without headroom takes one doubling back.
	step := c.AdditiveStep
	o.increases = max(0, st.Increases-1)
	if headroom {
		step *= math.Exp2(float64(min(st.Increases, doublings)))
		o.increases = st.Increases + 1
	}
	o.rate = rate * (1 + step)
	o.reason = ReasonIncrease
	return o
}

// used reports whether the room admitted at about the current rate, so
// that good latency is evidence about that rate. A waiting line alone does not
// count: max active, the bucket's burst or a pause can hold admissions
// below the rate while visitors wait, and the rate would then rise without
// bound.
func (c ControllerConfig) used(st ControllerState, s Signals) bool {
	return s.AdmittedPerMinute >= c.UsedShare*st.AppliedPerMinute
}

// decay moves rate toward StartRatePerMinute, halving the distance every
// DecayHalfLife of elapsed time. Elapsed times outside 0 to 24 hours, such
// as a first decision, count as one Period.
func (c ControllerConfig) decay(rate float64, elapsed time.Duration) float64 {
	if elapsed <= 0 || elapsed > 24*time.Hour {
		elapsed = c.Period
	}
	keep := math.Exp2(-elapsed.Seconds() / c.DecayHalfLife.Seconds())
	return c.StartRatePerMinute + (rate-c.StartRatePerMinute)*keep
}

func (c ControllerConfig) clampRate(rate float64) float64 {
	return min(max(rate, c.MinRatePerMinute), c.MaxRatePerMinute)
}

// maxActiveLimit returns the rate at which one Period of admissions would
// fill the room's free active places, assuming nobody leaves meanwhile.
// ok is false when max active is unknown.
func (c ControllerConfig) maxActiveLimit(s Signals) (perMinute float64, ok bool) {
	if s.MaxActive <= 0 {
		return 0, false
	}
	free := max(0, s.MaxActive-s.Active)
	return float64(free) / c.Period.Minutes(), true
}
