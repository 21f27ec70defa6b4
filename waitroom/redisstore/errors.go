package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"foyer/waitroom"
)

// Error codes that the scripts return with redis.error_reply, and the
// domain errors they stand for.
var scriptErrors = map[string]error{
	"NOROOM":     waitroom.ErrRoomNotFound,
	"ROOMEXISTS": waitroom.ErrRoomExists,
	"CLOSED":     waitroom.ErrRoomClosed,
	"SOLDOUT":    waitroom.ErrRoomSoldOut,
	"NOVISITOR":  waitroom.ErrVisitorNotFound,
}

// Prefixes of Redis error replies that mean the server cannot serve the
// request for now (loading its data set, running a long script, failing
// over or out of memory), as opposed to a bad request.
var unavailablePrefixes = []string{
	"LOADING", "BUSY", "TRYAGAIN", "CLUSTERDOWN", "MASTERDOWN", "READONLY",
	"NOREPLICAS", "OOM", "ERR max number of clients",
}

// wrapError prefixes err with the operation that failed, maps the scripts' error codes to
// the domain's sentinel errors and wraps connection failures with
// waitroom.ErrUnavailable.
func wrapError(operation string, err error) error {
	var replyErr redis.Error
	if !errors.As(err, &replyErr) {
		// Not a reply from the server: a network error, a timeout, a closed
		// client or an empty pool. The caller's own cancellation is passed on
		// as it is.
		if errors.Is(err, context.Canceled) {
			return fmt.Errorf("%s: %w", operation, err)
		}
		return fmt.Errorf("%s: %w: %w", operation, waitroom.ErrUnavailable, err)
	}

	message := replyErr.Error()
	code, _, _ := strings.Cut(message, " ")
	if sentinel, ok := scriptErrors[code]; ok {
		return fmt.Errorf("%s: %w", operation, sentinel)
	}
	for _, prefix := range unavailablePrefixes {
		if strings.HasPrefix(message, prefix) {
			return fmt.Errorf("%s: %w: %w", operation, waitroom.ErrUnavailable, err)
		}
	}
	return fmt.Errorf("%s: %w", operation, err)
}

// roomOp names an operation on a room in error messages, as in
// `join room "demo"`.
func roomOp(op, room string) string {
	return fmt.Sprintf("%s room %q", op, room)
}
