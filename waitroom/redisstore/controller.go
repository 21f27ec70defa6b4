package redisstore

import (
	"context"
	"fmt"
	"strconv"

	"foyer/waitroom"
)

// ControllerState implements waitroom.Store. It reads the state's hash, and
// only when that is empty checks that the room exists.
func (s *Store) ControllerState(ctx context.Context, room string) (waitroom.ControllerState, error) {
	if !waitroom.ValidRoomID(room) {
		return waitroom.ControllerState{}, fmt.Errorf("read controller state of room %q: %w", room, waitroom.ErrRoomNotFound)
	}
	keys := roomKeys(room)

	fields, err := s.client.HGetAll(ctx, keys[keyController]).Result()
	if err != nil {
		return waitroom.ControllerState{}, wrapError(roomOp("read controller state of", room), err)
	}
	if len(fields) == 0 {
		exists, err := s.client.Exists(ctx, keys[keyMeta]).Result()
		if err != nil {
			return waitroom.ControllerState{}, wrapError(roomOp("read controller state of", room), err)
		}
		if exists == 0 {
			return waitroom.ControllerState{}, fmt.Errorf("read controller state of room %q: %w", room, waitroom.ErrRoomNotFound)
		}
	}

	state, err := waitroom.ParseControllerState(fields)
	if err != nil {
		return waitroom.ControllerState{}, fmt.Errorf("read controller state of room %q: %w", room, err)
	}
	return state, nil
}

// SwapControllerState implements waitroom.Store with one script that
// compares the stored version and writes the whole state.
func (s *Store) SwapControllerState(ctx context.Context, room string, expectedVersion int64, next waitroom.ControllerState) (bool, error) {
	fields := next.Fields()
	args := make([]any, 0, 1+2*len(fields))
	args = append(args, strconv.FormatInt(expectedVersion, 10))
	for name, value := range fields {
		args = append(args, name, value)
	}

	reply, err := s.run(ctx, "swap controller state of", swapControllerScript, room, args...)
	if err != nil {
		return false, err
	}
	swapped, _ := reply.(int64)
	return swapped == 1, nil
}
