package web

import (
	"log/slog"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

const (
	slogDebug = slog.LevelDebug
	slogInfo  = slog.LevelInfo
)

// ipLimiter keeps one token bucket per client address. Buckets idle for
// longer than a few minutes are dropped, so memory stays bounded by the
// addresses seen recently.
type ipLimiter struct {
	perMinute float64

	mu      sync.Mutex
	buckets map[string]*ipBucket
	swept   time.Time
}

type ipBucket struct {
	limiter *rate.Limiter
	seen    time.Time
}

func newIPLimiter(perMinute float64) *ipLimiter {
	return &ipLimiter{perMinute: perMinute, buckets: make(map[string]*ipBucket)}
}

// allow reports whether ip may take one more action now.
func (l *ipLimiter) allow(ip string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()

	if now.Sub(l.swept) > time.Minute {
		for k, b := range l.buckets {
			if now.Sub(b.seen) > 5*time.Minute {
				delete(l.buckets, k)
			}
		}
		l.swept = now
	}

	b, ok := l.buckets[ip]
	if !ok {
		burst := max(1, int(l.perMinute/6))
		b = &ipBucket{limiter: rate.NewLimiter(rate.Limit(l.perMinute/60), burst)}
		l.buckets[ip] = b
	}
	b.seen = now
	return b.limiter.AllowN(now, 1)
}
