package loadtest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// Arrival kinds.
const (
	// KindBurst spreads Visitors uniformly at random over Within from At.
	KindBurst = "burst"
	// KindRamp is a Poisson process whose rate moves linearly from FromRate
	// to ToRate over For, from At.
	KindRamp = "ramp"
	// KindPoisson is a Poisson process at Rate for For, from At.
	KindPoisson = "poisson"
	// KindPrequeue spreads Visitors uniformly at random from At until the
	// room opens, so they all wait in the pre-queue.
	KindPrequeue = "prequeue"
)

// Arrival is one arrival profile. Times are offsets from the start of the
// run and rates are visitors per second.
type Arrival struct {
	Kind     string        `yaml:"kind" json:"kind"`
	Visitors int           `yaml:"visitors" json:"visitors,omitempty"`
	At       time.Duration `yaml:"at" json:"at"`
	Within   time.Duration `yaml:"within" json:"within,omitempty"`
	Rate     float64       `yaml:"rate" json:"rate,omitempty"`
	FromRate float64       `yaml:"from_rate" json:"from_rate,omitempty"`
	ToRate   float64       `yaml:"to_rate" json:"to_rate,omitempty"`
	For      time.Duration `yaml:"for" json:"for,omitempty"`
}

func (a Arrival) validate(opensIn, maxDuration time.Duration) error {
	if a.At < 0 {
		return fmt.Errorf("%s: at %s is invalid: use 0 or a positive offset from the start", a.Kind, a.At)
	}
	switch a.Kind {
	case KindBurst:
		if a.Visitors < 1 || a.Within < 0 {
			return fmt.Errorf("burst: visitors %d and within %s are invalid: use at least 1 visitor and a window of 0 or more", a.Visitors, a.Within)
		}
		return checkEnd(a.Kind, a.At+a.Within, maxDuration)
	case KindRamp:
		if a.FromRate < 0 || a.ToRate < 0 || a.FromRate+a.ToRate == 0 || a.For <= 0 {
			return fmt.Errorf("ramp: from_rate %v, to_rate %v and for %s are invalid: use rates of 0 or more, not both 0, and a positive duration", a.FromRate, a.ToRate, a.For)
		}
		return checkEnd(a.Kind, a.At+a.For, maxDuration)
	case KindPoisson:
		if a.Rate <= 0 || a.For <= 0 {
			return fmt.Errorf("poisson: rate %v and for %s are invalid: use a positive rate in visitors per second and a positive duration", a.Rate, a.For)
		}
		return checkEnd(a.Kind, a.At+a.For, maxDuration)
	case KindPrequeue:
		if a.Visitors < 1 {
			return fmt.Errorf("prequeue: visitors %d is invalid: use at least 1", a.Visitors)
		}
		if opensIn <= a.At {
			return fmt.Errorf("prequeue: the room opens %s after the start, not after at %s: set room_settings.opens_in (--opens-in) later than at", opensIn, a.At)
		}
		return checkEnd(a.Kind, opensIn, maxDuration)
	}
	return fmt.Errorf("kind %q is invalid: use burst, ramp, poisson or prequeue", a.Kind)
}

func checkEnd(kind string, end, maxDuration time.Duration) error {
	if end > maxDuration {
		return fmt.Errorf("%s: ends %s after the start, later than max_duration %s: raise --max-duration or move the profile", kind, end, maxDuration)
	}
	return nil
}

// expectedVisitors returns the mean number of visitors the profile creates.
func (a Arrival) expectedVisitors() float64 {
	switch a.Kind {
	case KindRamp:
		return (a.FromRate + a.ToRate) / 2 * a.For.Seconds()
	case KindPoisson:
		return a.Rate * a.For.Seconds()
	}
	return float64(a.Visitors)
}

// times draws the profile's arrival offsets, unsorted, appending at most
// limit of them to out.
func (a Arrival) times(out []time.Duration, opensIn time.Duration, limit int, rng *rand.Rand) []time.Duration {
	uniform := func(n int, from, to time.Duration) {
		for range min(n, limit) {
			out = append(out, from+time.Duration(rng.Float64()*float64(to-from)))
		}
	}
	switch a.Kind {
	case KindBurst:
		uniform(a.Visitors, a.At, a.At+a.Within)
	case KindPrequeue:
		uniform(a.Visitors, a.At, opensIn)
	case KindPoisson:
		out = poisson(out, a.At, a.For, a.Rate, a.Rate, limit, rng)
	case KindRamp:
		out = poisson(out, a.At, a.For, a.FromRate, a.ToRate, limit, rng)
	}
	return out
}

// poisson appends the arrivals of a Poisson process whose rate moves
// linearly from fromRate to toRate (per second) over length, by thinning a
// process at the larger of the two rates.
func poisson(out []time.Duration, at, length time.Duration, fromRate, toRate float64, limit int, rng *rand.Rand) []time.Duration {
	peak := math.Max(fromRate, toRate)
	seconds := length.Seconds()
	added := 0
	for t := rng.ExpFloat64() / peak; t < seconds && added < limit; t += rng.ExpFloat64() / peak {
		rate := fromRate + (toRate-fromRate)*t/seconds
		if rng.Float64()*peak <= rate {
			out = append(out, at+time.Duration(t*float64(time.Second)))
			added++
		}
	}
	return out
}

// ArrivalTimes draws the arrival offsets of all profiles from seed, sorted,
// and at most limit of them. The same profiles and seed give the same times.
func ArrivalTimes(arrivals []Arrival, opensIn time.Duration, limit int, seed uint64) []time.Duration {
	rng := rand.New(rand.NewPCG(seed, 0x6c6f6164)) // second word: "load" in ASCII
	var out []time.Duration
	for _, a := range arrivals {
		out = a.times(out, opensIn, limit-len(out), rng)
	}
	slices.Sort(out)
	return out
}
