package memstore

import (
	"context"
	"slices"
	"time"

	"foyer/booking"
)

// AddStats implements booking.Store.
func (s *Store) AddStats(ctx context.Context, window time.Time, stats []booking.OpStats) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := booking.ValidateStats(window, stats); err != nil {
		return err
	}
	window = window.UTC()

	s.mu.Lock()
	defer s.mu.Unlock()

	s.pruneStats()
	if !window.Add(booking.StatsRetention).After(s.clock()) {
		return nil
	}

	ops := s.stats[window]
	if ops == nil {
		ops = make(map[string]*booking.OpStats)
		s.stats[window] = ops
	}
	for _, add := range stats {
		if ops[add.Op] == nil {
			ops[add.Op] = &booking.OpStats{Op: add.Op}
		}
		ops[add.Op].Add(add)
	}
	return nil
}

// ReadStats implements booking.Store.
func (s *Store) ReadStats(ctx context.Context, from, to time.Time) ([]booking.WindowStats, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := booking.ValidateStatsRange(from, to); err != nil {
		return nil, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	s.pruneStats()
	out := []booking.WindowStats{}
	for window, ops := range s.stats {
		if window.Before(from) || !window.Before(to) {
			continue
		}

		ws := booking.WindowStats{Start: window, Ops: make(map[string]booking.OpStats, len(ops))}
		for op, stats := range ops {
			var copied booking.OpStats
			copied.Op = op
			copied.Add(*stats)
			ws.Ops[op] = copied
		}
		out = append(out, ws)
	}

	slices.SortFunc(out, func(a, b booking.WindowStats) int { return a.Start.Compare(b.Start) })
	return out, nil
}

// pruneStats deletes windows that started StatsRetention or longer ago, as
// Redis expires them. The caller must hold s.mu.
func (s *Store) pruneStats() {
	now := s.clock()
	for window := range s.stats {
		if !window.Add(booking.StatsRetention).After(now) {
			delete(s.stats, window)
		}
	}
}
