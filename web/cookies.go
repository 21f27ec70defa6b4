package web

import (
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"

	"foyer/waitroom"
)

// Cookie names carry the room id, so one browser can wait in several rooms.
func ticketCookie(room string) string    { return "foyer_q_" + room }
func admissionCookie(room string) string { return "foyer_a_" + room }

func (s *Server) setCookie(c *fiber.Ctx, name, value string, expires time.Time) {
	c.Cookie(&fiber.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		Expires:  expires,
		HTTPOnly: true,
		Secure:   s.opts.SecureCookies,
		SameSite: fiber.CookieSameSiteLaxMode,
	})
}

// clearCookie sets the cookie empty and expired, so the browser drops it.
func (s *Server) clearCookie(c *fiber.Ctx, name string) {
	s.setCookie(c, name, "", time.Unix(0, 0))
}

// setTicket sets the ticket cookie and returns the encoded ticket.
func (s *Server) setTicket(c *fiber.Ctx, t waitroom.Ticket) string {
	encoded := s.edge.Tickets().Encode(t)
	s.setCookie(c, ticketCookie(t.Room), encoded, t.IssuedAt.Add(24*time.Hour))
	return encoded
}

// rawTicket returns the encoded ticket the request carries for room: the
// Authorization bearer if there is one, else the cookie. The string points
// into Fiber's buffers and must not outlive the handler.
func rawTicket(c *fiber.Ctx, room string) string {
	if bearer, ok := bearerToken(c); ok {
		return bearer
	}
	return c.Cookies(ticketCookie(room))
}

// readTicket returns the room's queue ticket from the Authorization header
// or the cookie. A missing ticket returns (nil, nil); an invalid one returns
// the reason, which callers treat as no ticket for joins.
func (s *Server) readTicket(c *fiber.Ctx, room string) (*waitroom.Ticket, error) {
	value := rawTicket(c, room)
	if value == "" {
		return nil, nil
	}
	t, err := s.edge.Tickets().Decode(value, room, time.Now())
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// ticketForJoin reads the ticket for a join, where a bad ticket is not an
// error: the visitor simply gets a new place. A tampered, expired or
// other-room ticket never yields someone else's place, because the visitor
// id inside is covered by the signature.
func (s *Server) ticketForJoin(c *fiber.Ctx, room string) *waitroom.Ticket {
	t, err := s.readTicket(c, room)
	if err != nil {
		level := slogDebug
		if !errors.Is(err, waitroom.ErrTicketExpired) {
			level = slogInfo
		}
		s.log.Log(c.UserContext(), level, "ignored queue ticket at join", "room", room, "err", err)
		return nil
	}
	return t
}
