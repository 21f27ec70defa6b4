package web

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"foyer/booking"
	"foyer/waitroom"
)

// Booking cookies carry the event id, so one browser can book several
// events. The session cookie holds the booking session id, and the hold
// cookie the id of the visitor's latest hold, so the slots page can link
// back to its checkout.
func sessionCookie(event string) string { return "foyer_b_" + event }
func holdCookie(event string) string    { return "foyer_h_" + event }

// maxIdempotencyKeyLength bounds a client's payment idempotency key.
const maxIdempotencyKeyLength = 100

// errNoSession means that the request carried no booking session at all.
var errNoSession = newError(http.StatusUnauthorized, "session_missing",
	"Send your booking session as the cookie or as 'Authorization: Bearer <session>'. To get one, send your admission token to POST /api/v1/events/{event}/holds, or open the booking page.")

// eventParam returns a copy of the :event parameter, or an error when it is
// not a valid event id.
func eventParam(c *fiber.Ctx) (string, error) {
	event := c.Params("event")
	// The rule is the booking store's, so every event that can be created
	// can also be reached.
	if !booking.ValidEventID(event) {
		return "", newError(http.StatusBadRequest, "invalid_event_id", "The event id in the path is invalid: use 1 to 64 lowercase letters, digits and hyphens.")
	}
	return strings.Clone(event), nil
}

// eventCacheTTL is how long an edge reuses an event it read from the
// booking store. Slot counts are read from the store on every request.
// The TTL bounds how long an edge shows an event's old details and slot
// list after the console changed them on another edge. It also bounds how
// long an edge serves an event that was removed from the store.
const eventCacheTTL = 30 * time.Second

// eventCache keeps the events that an edge has read, with their time zone
// and slot times, so that a booking request costs no extra store round
// trip for them. Only events that exist are kept, so its size is bounded
// by the number of events.
type eventCache struct {
	mu     sync.Mutex
	events map[string]eventInfo
}

// eventInfo is an event as the web layer uses it.
type eventInfo struct {
	booking.Event
	loc *time.Location
	// slots maps slot ids to slots. Their capacities are as they were when
	// the event was read, so read counts from the store instead.
	slots   map[string]booking.Slot
	fetched time.Time
}

// bookingEvent returns the event with its time zone and slot times, from
// the edge's cache when it is younger than eventCacheTTL.
func (s *Server) bookingEvent(ctx context.Context, id string) (eventInfo, error) {
	now := time.Now()

	s.events.mu.Lock()
	info, ok := s.events.events[id]
	s.events.mu.Unlock()
	if ok && now.Sub(info.fetched) < eventCacheTTL {
		return info, nil
	}

	info, err := s.loadEvent(ctx, id)
	if err != nil {
		return eventInfo{}, err
	}
	info.fetched = now

	s.events.mu.Lock()
	if s.events.events == nil {
		s.events.events = make(map[string]eventInfo)
	}
	s.events.events[id] = info
	s.events.mu.Unlock()
	return info, nil
}

// forget drops an event, so the edge reads it again at its next use.
func (c *eventCache) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.events, id)
}

func (s *Server) loadEvent(ctx context.Context, id string) (eventInfo, error) {
	store := s.opts.Booking.Store

	event, err := store.Event(ctx, id)
	if err != nil {
		return eventInfo{}, err
	}
	loc, err := event.Location()
	if err != nil {
		return eventInfo{}, err
	}

	slots, err := store.Availability(ctx, id)
	if err != nil {
		return eventInfo{}, err
	}
	byID := make(map[string]booking.Slot, len(slots))
	for _, slot := range slots {
		byID[slot.ID] = slot.Slot
	}
	return eventInfo{Event: event, loc: loc, slots: byID}, nil
}

// localTime formats t in RFC 3339 with the event's zone offset.
func (e eventInfo) localTime(t time.Time) string {
	return t.In(e.loc).Format(time.RFC3339)
}

// label describes a slot's times in the event's zone, as in
// "Mon 1 Jun 2026, 09:00–09:30 CEST".
func (e eventInfo) label(slot booking.Slot) string {
	start, end := slot.Start.In(e.loc), slot.End.In(e.loc)
	endFormat := "15:04 MST"
	if start.YearDay() != end.YearDay() || start.Year() != end.Year() {
		endFormat = "Mon 2 Jan 2006, 15:04 MST"
	}
	return start.Format("Mon 2 Jan 2006, 15:04") + "–" + end.Format(endFormat)
}

// slotLabel describes the times of the slot with the id, or returns the id
// for a slot that the cache does not have.
func (e eventInfo) slotLabel(slotID string) string {
	slot, ok := e.slots[slotID]
	if !ok {
		return slotID
	}
	return e.label(slot)
}

// slotStart returns the slot's start in RFC 3339 with the event's offset, or
// "" for a slot the cache does not have.
func (e eventInfo) slotStart(slotID string) string {
	slot, ok := e.slots[slotID]
	if !ok {
		return ""
	}
	return e.localTime(slot.Start)
}

// readSession returns the visitor's booking session for event, from an
// `Authorization: Bearer s_…` header or the event's session cookie. It
// returns errNoSession when the request carries neither, and
// booking.ErrSessionNotFound for an unknown or expired session or a
// session of another event.
func (s *Server) readSession(c *fiber.Ctx, event string) (booking.Session, error) {
	id := c.Cookies(sessionCookie(event))
	if bearer, ok := bearerToken(c); ok && strings.HasPrefix(bearer, "s_") {
		id = bearer
	}
	if id == "" {
		return booking.Session{}, errNoSession
	}

	sessionEvent, err := booking.ParseSessionID(id)
	if err != nil || sessionEvent != event {
		return booking.Session{}, fmt.Errorf("read booking session for event %s: %w", event, booking.ErrSessionNotFound)
	}
	return s.opts.Booking.Store.GetSession(c.UserContext(), strings.Clone(id))
}

// exchangeAdmission exchanges verified admission claims for a booking
// session of the event, once per token. It then makes the visitor's active
// place in the waiting room last as long as the session.
func (s *Server) exchangeAdmission(ctx context.Context, event eventInfo, claims waitroom.AdmissionClaims) (booking.Session, error) {
	view, err := s.edge.Room(ctx, event.Room)
	if err != nil {
		return booking.Session{}, err
	}
	lifetime := view.Snapshot.Settings.SessionLifetime
	if lifetime <= 0 {
		lifetime = waitroom.DefaultSessionLifetime
	}

	session, err := s.opts.Booking.Store.ExchangeToken(ctx, booking.SessionRequest{
		TokenID:        claims.ID,
		TokenExpiresAt: claims.ExpiresAt.Time,
		Visitor:        claims.Visitor(),
		Room:           event.Room,
		Event:          event.ID,
		Lifetime:       lifetime,
	})
	if err != nil {
		return booking.Session{}, err
	}

	if _, err := s.edge.Store().StartSession(ctx, event.Room, session.Visitor); err != nil {
		// The session exists and the token is spent, so booking goes on.
		// The visitor's active place then ends with the admission window,
		// which lets the room admit the next visitor a little early.
		s.log.Warn("extend admitted visitor to the session lifetime failed", "room", event.Room, "event", event.ID, "visitor", session.Visitor, "err", err)
	}
	s.log.Info("booking session started", "room", event.Room, "event", event.ID, "visitor", session.Visitor)
	return session, nil
}

// setSession sets the event's booking session cookie.
func (s *Server) setSession(c *fiber.Ctx, session booking.Session) {
	s.setCookie(c, sessionCookie(session.Event), session.ID, session.ExpiresAt)
}

// csrfToken returns the form token of a booking session: an HMAC of the
// session id under the edge's current cookie key, prefixed with the key id
// so that tokens stay valid while keys rotate.
func (s *Server) csrfToken(sessionID string) string {
	kid, key := s.edge.Keys().Cookies.Current()
	return kid + "." + base64.RawURLEncoding.EncodeToString(csrfMAC(key, sessionID))
}

// checkCSRF returns a 403 error unless the form's csrf field is the token
// of the session.
func (s *Server) checkCSRF(c *fiber.Ctx, sessionID string) error {
	if !s.validCSRF(c.FormValue("csrf"), sessionID) {
		return newError(http.StatusForbidden, "csrf_invalid", "This form has expired or did not come from this site. Reload the page and send the form again.")
	}
	return nil
}

// validCSRF reports whether token is the CSRF token of the session.
func (s *Server) validCSRF(token, sessionID string) bool {
	kid, encoded, ok := strings.Cut(token, ".")
	if !ok {
		return false
	}
	key, ok := s.edge.Keys().Cookies.Lookup(kid)
	if !ok {
		return false
	}
	got, err := base64.RawURLEncoding.DecodeString(encoded)
	return err == nil && hmac.Equal(got, csrfMAC(key, sessionID))
}

func csrfMAC(key []byte, sessionID string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte("foyer-csrf\x00"))
	h.Write([]byte(sessionID))
	return h.Sum(nil)
}

// paymentKey scopes a client's idempotency key to the hold, so that a key
// can only ever replay a payment attempt for the same hold. An empty key
// stays empty, which makes the service choose a random one.
func paymentKey(holdID, clientKey string) (string, error) {
	if clientKey == "" {
		return "", nil
	}
	if len(clientKey) > maxIdempotencyKeyLength {
		return "", newError(http.StatusBadRequest, "invalid_idempotency_key", fmt.Sprintf("The idempotency key is %d bytes long: use at most %d.", len(clientKey), maxIdempotencyKeyLength))
	}
	return holdID + ":" + clientKey, nil
}

// minorDigits lists the currencies whose minor unit is not a hundredth,
// from ISO 4217, with their number of decimal digits.
var minorDigits = map[string]int{
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
	"RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}

// formatMoney formats an amount in minor units, as in "EUR 17.50".
func formatMoney(amount int64, currency string) string {
	decimals, ok := minorDigits[currency]
	if !ok {
		decimals = 2
	}

	sign := ""
	if amount < 0 {
		sign, amount = "-", -amount
	}
	if decimals == 0 {
		return fmt.Sprintf("%s %s%d", currency, sign, amount)
	}
	unit := int64(1)
	for range decimals {
		unit *= 10
	}
	return fmt.Sprintf("%s %s%d.%0*d", currency, sign, amount/unit, decimals, amount%unit)
}
