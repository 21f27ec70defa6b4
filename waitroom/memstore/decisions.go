package memstore

import (
	"context"
	"encoding/json"
	"fmt"

	"foyer/waitroom"
)

// AppendDecision implements waitroom.Store. It keeps the decision as JSON,
// as the Redis store does, so both stores return the same values.
func (s *Store) AppendDecision(ctx context.Context, id string, d waitroom.Decision) error {
	record, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("append decision to room %q: %w", id, err)
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	r, err := s.room(id)
	if err != nil {
		return err
	}
	r.decisions = append(r.decisions, record)
	if extra := len(r.decisions) - waitroom.MaxDecisions; extra > 0 {
		r.decisions = append(r.decisions[:0:0], r.decisions[extra:]...)
	}
	return nil
}

// Decisions implements waitroom.Store.
func (s *Store) Decisions(ctx context.Context, id string, limit int) ([]waitroom.Decision, error) {
	s.mu.Lock()
	defer s.mu.Unlock()

	r, err := s.room(id)
	if err != nil {
		return nil, err
	}
	out := []waitroom.Decision{}
	for i := len(r.decisions) - 1; i >= 0 && len(out) < limit; i-- {
		var d waitroom.Decision
		if err := json.Unmarshal(r.decisions[i], &d); err != nil {
			return nil, fmt.Errorf("read decisions of room %q: %w", id, err)
		}
		out = append(out, d)
	}
	return out, nil
}
