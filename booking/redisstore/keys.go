package redisstore

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// keyPrefix starts every booking key. The event id follows in braces, so
// Redis Cluster hashes only the event id and puts all of an event's keys in
// one hash slot, which lets one script touch them all.
const keyPrefix = "foyer:ev:{"

// statsKeyPrefix starts the key of each stats window. The window's start in
// Unix seconds is the hash tag.
const statsKeyPrefix = "foyer:bookstats:{"

// eventKeyNames are the suffixes of an event's keys, in the order that
// lib.lua gives them as KEYS[1] to KEYS[16].
var eventKeyNames = [...]string{
	"event",
	"slots",
	"capacity",
	"sold",
	"held",
	"holds",
	"expiry",
	"purge",
	"orders",
	"orders:confirmed",
	"orders:needs_refund",
	"orders:cancelled",
	"payments",
	"visitor_holds",
	"visitor_held",
	"visitor_sold",
}

// maxCachedEvents bounds keyCache, because requests can name any number of
// well-formed event ids that do not exist.
const maxCachedEvents = 1024

// keyCache maps event ids to their key lists, so hot paths do not build
// sixteen strings per call. Past maxCachedEvents entries it builds the keys
// of further events on each call.
type keyCache struct {
	events sync.Map // event id to []string
	size   atomic.Int64
}

// eventKeys returns the KEYS of every event script for the event. Callers
// must not modify the slice.
func (c *keyCache) eventKeys(event string) []string {
	if keys, ok := c.events.Load(event); ok {
		return keys.([]string)
	}

	prefix := eventPrefix(event)
	keys := make([]string, len(eventKeyNames))
	for i, name := range eventKeyNames {
		keys[i] = prefix + name
	}

	if c.size.Load() < maxCachedEvents {
		if _, loaded := c.events.LoadOrStore(event, keys); !loaded {
			c.size.Add(1)
		}
	}
	return keys
}

func eventPrefix(event string) string {
	return keyPrefix + event + "}:"
}

func eventKey(event string) string { return eventPrefix(event) + eventKeyNames[0] }

func tokenKey(event, tokenID string) string { return eventPrefix(event) + "token:" + tokenID }

func sessionKey(event, sessionID string) string { return eventPrefix(event) + "session:" + sessionID }

func statsKey(window time.Time) string {
	return statsKeyPrefix + strconv.FormatInt(window.Unix(), 10) + "}"
}
