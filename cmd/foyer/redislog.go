package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// redisLogger sends go-redis's internal messages, such as "failed to dial"
// while Redis is down, to slog. It writes at most one line per interval and
// counts the lines it dropped, because go-redis repeats them many times a
// second during an outage.
type redisLogger struct {
	log      *slog.Logger
	interval time.Duration

	mu      sync.Mutex
	last    time.Time
	dropped int
}

func newRedisLogger(log *slog.Logger) *redisLogger {
	return &redisLogger{log: log, interval: 5 * time.Second}
}

// Printf implements go-redis's internal logging interface.
func (l *redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.mu.Lock()
	now := time.Now()
	if now.Sub(l.last) < l.interval {
		l.dropped++
		l.mu.Unlock()
		return
	}
	dropped := l.dropped
	l.last, l.dropped = now, 0
	l.mu.Unlock()

	l.log.Warn("redis client message", "message", fmt.Sprintf(format, v...), "dropped_since_last", dropped)
}
