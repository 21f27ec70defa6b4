// Package redisstore is the production booking.Store, kept in Redis.
//
// Each atomic operation is one Lua script, embedded from lua/ and called
// with EVALSHA (falling back to EVAL). Scripts read the time with Redis TIME,
// so every edge shares one clock. All keys of one event share the hash tag
// {<event>}, so the store also runs on Redis Cluster.
//
// Booking data must survive a crash: run this store's Redis with
// appendonly yes and appendfsync always.
//
// NOTE: the scripts are tested on Redis 7.0 only. They read TIME before
// writing and use SET with PXAT, which needs Redis 6.2 or later.
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"foyer/booking"
)

var _ booking.Store = (*Store)(nil)

// Store is a booking.Store in Redis. It is safe for concurrent use.
type Store struct {
	client  Client
	scripts scripts
	keys    keyCache
}

// Client is the part of a Redis client that Store uses: scripts, and
// pipelines that read many statistics windows in one round trip.
// *redis.Client, *redis.ClusterClient and any redis.UniversalClient have
// both.
type Client interface {
	redis.Scripter
	Pipeline() redis.Pipeliner
}

// New returns a Store that runs its scripts through client.
func New(client Client) *Store {
	return &Store{client: client, scripts: loadScripts()}
}

// run runs a script and returns the values after its "ok" status. A
// script's failure code becomes the booking sentinel error of that code,
// wrapped with the script's detail if it has one.
func (s *Store) run(ctx context.Context, sc script, keys []string, args ...any) ([]any, error) {
	reply, err := sc.Run(ctx, s.client, keys, args...).Slice()
	if err != nil {
		if unavailable(err) {
			return nil, fmt.Errorf("redis script %s: %w: %w", sc.name, booking.ErrUnavailable, err)
		}
		return nil, fmt.Errorf("redis script %s: %w", sc.name, err)
	}
	if len(reply) == 0 {
		return nil, fmt.Errorf("redis script %s: empty reply", sc.name)
	}

	status, _ := reply[0].(string)
	if status == "ok" {
		return reply[1:], nil
	}

	detail := ""
	if len(reply) > 1 {
		detail, _ = reply[1].(string)
	}
	sentinel := booking.ErrorForCode(status)
	switch {
	case sentinel == nil:
		return nil, fmt.Errorf("redis script %s: unexpected status %q: %s", sc.name, status, detail)
	case detail == "":
		return nil, sentinel
	}
	return nil, fmt.Errorf("%s: %w", detail, sentinel)
}

// runEvent runs an event script with the event's keys.
func (s *Store) runEvent(ctx context.Context, sc script, event string, args ...any) ([]any, error) {
	return s.run(ctx, sc, s.keys.eventKeys(event), args...)
}

// oneString returns the single string value of a reply.
func oneString(name string, values []any) (string, error) {
	if len(values) != 1 {
		return "", fmt.Errorf("redis script %s: got %d values, want 1", name, len(values))
	}
	str, ok := values[0].(string)
	if !ok {
		return "", fmt.Errorf("redis script %s: got %T, want a string", name, values[0])
	}
	return str, nil
}

// toInt converts an integer reply value.
func toInt(name string, value any) (int, error) {
	n, ok := value.(int64)
	if !ok {
		return 0, fmt.Errorf("redis script %s: got %T, want an integer", name, value)
	}
	return int(n), nil
}

// unavailablePrefixes start the Redis error replies that mean the server
// cannot serve the request for now (loading its data set, running a long
// script, failing over or out of memory), as opposed to a bad request.
var unavailablePrefixes = []string{
	"LOADING", "BUSY", "TRYAGAIN", "CLUSTERDOWN", "MASTERDOWN", "READONLY",
	"NOREPLICAS", "OOM", "ERR max number of clients",
}

// unavailable reports whether err means Redis could not be reached or
// cannot serve requests for now: a network error, a timeout, a closed client,
// an empty pool, or one of the replies above. The caller's own cancellation
// is not one.
func unavailable(err error) bool {
	if errors.Is(err, context.Canceled) {
		return false
	}
	var reply redis.Error
	if !errors.As(err, &reply) {
		return true
	}
	for _, prefix := range unavailablePrefixes {
		if strings.HasPrefix(reply.Error(), prefix) {
			return true
		}
	}
	return false
}
