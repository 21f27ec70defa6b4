package memstore

import (
	"context"
	"fmt"

	"foyer/waitroom"
)

// ControllerState implements waitroom.Store.
func (s *Store) ControllerState(ctx context.Context, id string) (waitroom.ControllerState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()

	r, err := s.room(id)
	if err != nil {
		return waitroom.ControllerState{}, err
	}
	return r.controller, nil
}

// SwapControllerState implements waitroom.Store. It keeps next as it would
// come back from Redis, through ControllerState.Fields and
// waitroom.ParseControllerState, so both stores round times alike.
func (s *Store) SwapControllerState(ctx context.Context, id string, expectedVersion int64, next waitroom.ControllerState) (bool, error) {
	stored, err := waitroom.ParseControllerState(next.Fields())
	if err != nil {
		return false, fmt.Errorf("swap controller state of room %q: %w", id, err)
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	r, err := s.room(id)
	if err != nil {
		return false, err
	}
	if r.controller.Version != expectedVersion {
		return false, nil
	}
	r.controller = stored
	return true, nil
}
