package waitroom

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"math"
	mathrand "math/rand/v2"
	"time"
)

// NewVisitorID returns a random visitor id: 22 URL-safe characters holding
// 128 random bits from crypto/rand.
func NewVisitorID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never returns an error since Go 1.24.
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ValidVisitorID reports whether id has the form NewVisitorID returns: 22
// characters of the URL-safe base64 alphabet. It runs on every poll, so it
// checks bytes directly instead of with a regular expression.
func ValidVisitorID(id string) bool {
	if len(id) != 22 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// NewPrequeueKey draws the random key that orders a pre-queue visitor at
// opening. It uses crypto/rand because Lua's math.random in Redis is seeded
// identically at every start and so cannot be trusted for fairness.
func NewPrequeueKey() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint64(b[:])
}

// PrequeueScore maps a pre-queue key to the sorted-set score that orders it.
// It keeps the top 53 bits, the integers a float64 holds exactly.
func PrequeueScore(key uint64) float64 { return float64(key >> 11) }

// NextSkipRatio folds one admission step into the moving average of the
// share of visitors skipped as abandoned. A step that moved nobody leaves it
// unchanged.
func NextSkipRatio(previous float64, admitted, skipped int) float64 {
	if admitted+skipped == 0 {
		return previous
	}
	ratio := float64(skipped) / float64(admitted+skipped)
	return 0.8*previous + 0.2*ratio
}

// NearHead is how many visitors from the front a place counts as near the
// head, where status polls read the exact rank from the store instead of
// estimating it from the room snapshot.
const NearHead = 200

// EstimateAhead estimates how many visitors wait ahead of sequence seq from a
// snapshot alone: the sequence numbers between the head and seq, less the
// share expected to be skipped as abandoned, and never more than can be
// waiting. A ticket newer than the snapshot (seq above its Tail) may have up
// to seq-Tail visitors ahead that the snapshot's Waiting does not count yet.
func EstimateAhead(seq int64, snap Snapshot) int64 {
	gap := seq - snap.Head - 1
	if gap <= 0 {
		return 0
	}
	est := int64(math.Round(float64(gap) * (1 - snap.SkipRatio)))
	limit := snap.Waiting - 1 + max(0, seq-snap.Tail)
	return max(0, min(est, limit))
}

// EstimateWait estimates how long a visitor with ahead visitors in front of
// them waits at the room's rate. ok is false when there is no estimate: the
// room is paused, closed or sold out, or its rate is zero.
func EstimateWait(ahead int64, snap Snapshot) (wait time.Duration, ok bool) {
	state := snap.State()
	rate := snap.Settings.RatePerMinute
	if rate <= 0 || (state != RoomOpen && state != RoomScheduled) {
		return 0, false
	}
	wait = time.Duration(float64(ahead+1) / rate * float64(time.Minute))
	if state == RoomScheduled {
		wait += snap.Settings.OpensAt.Sub(snap.Now)
	}
	return wait.Round(time.Second), true
}

// RefreshInterval chooses how long a visitor waits before polling again:
// fast near the front, slower far back, with ±20% jitter so pages that
// loaded together do not poll together. The result never exceeds
// MaxRefreshInterval.
func RefreshInterval(ahead int64, wait time.Duration, known bool) time.Duration {
	base := 30 * time.Second
	switch {
	case ahead < 50:
		base = 5 * time.Second
	case known && wait < 2*time.Minute:
		base = 10 * time.Second
	case known && wait < 10*time.Minute:
		base = 20 * time.Second
	}
	jitter := 0.8 + 0.4*mathrand.Float64()
	interval := time.Duration(float64(base) * jitter).Round(time.Second)
	return min(max(interval, time.Second), MaxRefreshInterval)
}
