package redisstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"foyer/booking"
)

// Stats windows are hashes with the fields <op>:count, <op>:lat:<bucket>
// and <op>:err:<code>. Operation names and codes contain no ':'.
const (
	fieldCount   = "count"
	fieldLatency = "lat"
	fieldError   = "err"
)

// AddStats implements booking.Store.
func (s *Store) AddStats(ctx context.Context, window time.Time, stats []booking.OpStats) error {
	if err := booking.ValidateStats(window, stats); err != nil {
		return err
	}

	args := []any{millis(window.Add(booking.StatsRetention))}
	for _, op := range stats {
		args = append(args, op.Op+":"+fieldCount, op.Count)
		for i, n := range op.Latency {
			if n != 0 {
				args = append(args, op.Op+":"+fieldLatency+":"+strconv.Itoa(i), n)
			}
		}
		for code, n := range op.Errors {
			args = append(args, op.Op+":"+fieldError+":"+code, n)
		}
	}

	if _, err := s.run(ctx, s.scripts.addStats, []string{statsKey(window)}, args...); err != nil {
		return fmt.Errorf("add stats for window %s: %w", window.UTC().Format(time.RFC3339), err)
	}
	return nil
}

// ReadStats implements booking.Store. It reads every window in one
// pipeline of HGETALLs. Windows live in different hash slots, and a
// cluster client splits the pipeline by node.
func (s *Store) ReadStats(ctx context.Context, from, to time.Time) ([]booking.WindowStats, error) {
	if err := booking.ValidateStatsRange(from, to); err != nil {
		return nil, err
	}

	first := booking.WindowStart(from)
	if first.Before(from) {
		first = first.Add(booking.StatsWindow)
	}

	pipe := s.client.Pipeline()
	var starts []time.Time
	var reads []*redis.MapStringStringCmd
	for window := first; window.Before(to); window = window.Add(booking.StatsWindow) {
		starts = append(starts, window)
		reads = append(reads, pipe.HGetAll(ctx, statsKey(window)))
	}
	if len(reads) == 0 {
		return []booking.WindowStats{}, nil
	}
	if _, err := pipe.Exec(ctx); err != nil {
		if unavailable(err) {
			return nil, fmt.Errorf("read stats from %s: %w: %w", first.Format(time.RFC3339), booking.ErrUnavailable, err)
		}
		return nil, fmt.Errorf("read stats from %s: %w", first.Format(time.RFC3339), err)
	}

	out := []booking.WindowStats{}
	for i, read := range reads {
		fields := read.Val()
		if len(fields) == 0 {
			continue
		}
		values := make([]any, 0, 2*len(fields))
		for field, value := range fields {
			values = append(values, field, value)
		}
		ws, err := decodeWindow(starts[i], values)
		if err != nil {
			return nil, err
		}
		out = append(out, ws)
	}
	return out, nil
}

func decodeWindow(window time.Time, values []any) (booking.WindowStats, error) {
	ws := booking.WindowStats{Start: window, Ops: make(map[string]booking.OpStats)}
	for i := 0; i+1 < len(values); i += 2 {
		field, _ := values[i].(string)
		raw, _ := values[i+1].(string)
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return booking.WindowStats{}, fmt.Errorf("decode stats field %q: count %q is not an integer", field, raw)
		}

		op, kind, _ := strings.Cut(field, ":")
		stats := ws.Ops[op]
		stats.Op = op
		if err := addField(&stats, kind, n); err != nil {
			return booking.WindowStats{}, fmt.Errorf("decode stats field %q: %w", field, err)
		}
		ws.Ops[op] = stats
	}
	return ws, nil
}

func addField(stats *booking.OpStats, kind string, n int64) error {
	name, arg, _ := strings.Cut(kind, ":")
	switch name {
	case fieldCount:
		stats.Count += n

	case fieldLatency:
		bucket, err := strconv.Atoi(arg)
		if err != nil || bucket < 0 || bucket >= booking.LatencyBuckets {
			return fmt.Errorf("latency bucket %q is not between 0 and %d", arg, booking.LatencyBuckets-1)
		}
		stats.Latency[bucket] += n

	case fieldError:
		if stats.Errors == nil {
			stats.Errors = make(map[string]int64)
		}
		stats.Errors[arg] += n

	default:
		return fmt.Errorf("unknown kind %q", name)
	}
	return nil
}
