package web

import (
	"errors"
	"math"
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"

	"foyer/waitroom"
	"foyer/web/views"
)

// entryPage handles GET /e/{event}: the booking entry page, open only to a
// visitor with a valid, unexpired admission token for the room that guards
// the event.
//
// With booking on, the event's room comes from the booking store and the
// page starts a booking session instead, as bookingEntry describes.
func (s *Server) entryPage(c *fiber.Ctx) error {
	event, err := eventParam(c)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	if s.opts.Booking != nil {
		return s.bookingEntry(c, event)
	}

	room, ok := s.edge.RoomForEvent(event)
	if !ok {
		return newError(http.StatusNotFound, "event_not_found", "No waiting room guards this event. Check the link you followed.")
	}
	view, err := s.edge.Room(c.UserContext(), room)
	if err != nil {
		return err
	}

	now := time.Now()
	token := c.Cookies(admissionCookie(room))
	if token == "" {
		return render(c, http.StatusForbidden, views.MessagePage(waitFirst(room)))
	}
	claims, err := waitroom.VerifyAdmissionToken(s.edge.Keys().Signing, token, room, now)
	if err != nil {
		s.log.Info("admission token rejected", "room", room, "event", event, "err", err)
		return render(c, http.StatusForbidden, views.MessagePage(tokenProblem(err, room)))
	}

	return render(c, http.StatusOK, views.EntryPage(views.Entry{
		Event:       event,
		Title:       view.Snapshot.Settings.Title,
		Visitor:     claims.Visitor(),
		MinutesLeft: int(math.Ceil(claims.ExpiresAt.Sub(now).Minutes())),
	}))
}

// tokenProblem explains a rejected admission token and what to do next.
func tokenProblem(err error, room string) views.Message {
	m := views.Message{LinkURL: "/r/" + room, LinkText: "Back to the waiting room"}
	switch {
	case errors.Is(err, waitroom.ErrTokenExpired):
		m.Title = "Your admission has expired"
		m.Text = "The time to start booking has run out. Join the waiting room again to get a new place."
	case errors.Is(err, waitroom.ErrTokenRoom):
		m.Title = "This admission is for another waiting room"
		m.Text = "Your admission was issued by a different waiting room. Join this event's waiting room to book."
	default:
		m.Title = "Your admission could not be verified"
		m.Text = "The admission in your browser is not valid here. Join the waiting room to get a place in line."
	}
	return m
}
