package booking

import (
	"crypto/rand"
	"fmt"
	"strings"
)

// Hold, order and session ids embed their event, as in h_<event>_<random>,
// so that a request carrying only the id finds the event's keys (and with
// them the event's Redis Cluster hash slot). Event ids may not contain '_',
// which makes the split unambiguous.
const (
	holdPrefix    = "h"
	orderPrefix   = "o"
	sessionPrefix = "s"

	maxEventIDLength  = 64
	maxRandomIDLength = 64
)

// NewHoldID returns a new random hold id for the event.
func NewHoldID(event string) string { return newID(holdPrefix, event) }

// NewOrderID returns a new random order id for the event.
func NewOrderID(event string) string { return newID(orderPrefix, event) }

// NewSessionID returns a new random booking session id for the event.
func NewSessionID(event string) string { return newID(sessionPrefix, event) }

// ParseHoldID returns the event of a hold id, or ErrInvalidID.
func ParseHoldID(id string) (event string, err error) { return parseID(holdPrefix, "hold", id) }

// ParseOrderID returns the event of an order id, or ErrInvalidID.
func ParseOrderID(id string) (event string, err error) { return parseID(orderPrefix, "order", id) }

// ParseSessionID returns the event of a booking session id, or ErrInvalidID.
func ParseSessionID(id string) (event string, err error) {
	return parseID(sessionPrefix, "session", id)
}

// ValidEventID reports whether id can name an event: 1 to 64 characters
// from a-z, 0-9 and '-'. Such ids are safe in Redis key names and hash tags
// and in URLs.
func ValidEventID(id string) bool {
	return validName(id, maxEventIDLength, false)
}

// ValidSlotID reports whether id can name a slot or a ticket type: 1 to 64
// characters from a-z, 0-9, '-' and '_'.
func ValidSlotID(id string) bool {
	return validName(id, maxEventIDLength, true)
}

func newID(prefix, event string) string {
	// rand.Text returns 26 base32 characters (128 bits) from crypto/rand.
	return prefix + "_" + event + "_" + strings.ToLower(rand.Text())
}

func parseID(prefix, kind, id string) (string, error) {
	rest, ok := strings.CutPrefix(id, prefix+"_")
	if !ok {
		return "", fmt.Errorf("parse %s id %q: want prefix %q: %w", kind, id, prefix+"_", ErrInvalidID)
	}

	event, random, ok := strings.Cut(rest, "_")
	if !ok || !ValidEventID(event) {
		return "", fmt.Errorf("parse %s id %q: invalid event part: %w", kind, id, ErrInvalidID)
	}
	if !validRandom(random) {
		return "", fmt.Errorf("parse %s id %q: invalid random part: %w", kind, id, ErrInvalidID)
	}
	return event, nil
}

func validRandom(s string) bool {
	if s == "" || len(s) > maxRandomIDLength {
		return false
	}
	for _, c := range []byte(s) {
		if !isLowerAlnum(c) {
			return false
		}
	}
	return true
}

func validName(s string, maxLength int, underscore bool) bool {
	if s == "" || len(s) > maxLength {
		return false
	}
	for _, c := range []byte(s) {
		switch {
		case isLowerAlnum(c), c == '-':
		case c == '_' && underscore:
		default:
			return false
		}
	}
	return true
}

func isLowerAlnum(c byte) bool {
	return ('a' <= c && c <= 'z') || ('0' <= c && c <= '9')
}
