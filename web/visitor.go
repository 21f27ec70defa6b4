package web

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"foyer/waitroom"
	"foyer/web/views"
)

// isPrefetch reports whether the request only looks ahead: a HEAD request
// or a browser prefetch. Such requests must never create a place.
func isPrefetch(c *fiber.Ctx) bool {
	if c.Method() == fiber.MethodHead {
		return true
	}
	purpose := c.Get("Sec-Purpose") + c.Get("Purpose") + c.Get("X-Moz")
	return strings.Contains(purpose, "prefetch") || strings.Contains(purpose, "prerender")
}

// join gives the request's visitor a place, sets the ticket cookie and
// returns the encoded ticket. A request without a usable ticket counts
// against the client address's join limit.
func (s *Server) join(c *fiber.Ctx, room string) (waitroom.JoinResult, string, error) {
	if s.draining.Load() {
		return waitroom.JoinResult{}, "", &apiError{Status: http.StatusServiceUnavailable, Code: "shutting_down", Message: "This server is restarting. Try again in a few seconds.", RetryAfter: 5}
	}
	ticket := s.ticketForJoin(c, room)
	if ticket == nil && s.joins != nil && !s.joins.allow(strings.Clone(c.IP()), time.Now()) {
		return waitroom.JoinResult{}, "", &apiError{Status: http.StatusTooManyRequests, Code: "too_many_joins", Message: "Too many joins from your network. Wait a minute and try again.", RetryAfter: 60}
	}

	res, err := s.edge.Join(c.UserContext(), room, ticket)
	if err != nil {
		return res, "", err
	}
	s.metrics.joins.WithLabelValues(room, string(res.Place.State)).Inc()
	return res, s.setTicket(c, res.Ticket), nil
}

// joinPage handles GET /r/{room}: join or resume, then 303 to the waiting page.
func (s *Server) joinPage(c *fiber.Ctx) error {
	room, err := roomParam(c)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	if isPrefetch(c) {
		// Say whether the room exists, but create no place.
		if _, err := s.edge.Room(c.UserContext(), room); err != nil {
			return err
		}
		return c.SendStatus(http.StatusNoContent)
	}
	if _, _, err := s.join(c, room); err != nil {
		return err
	}
	return c.Redirect("/r/"+room+"/wait?joined=1", http.StatusSeeOther)
}

// waitPage handles GET /r/{room}/wait.
func (s *Server) waitPage(c *fiber.Ctx) error {
	room, err := roomParam(c)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")

	ticket, err := s.readTicket(c, room)
	if err != nil || ticket == nil {
		if c.Query("joined") != "" {
			return render(c, http.StatusBadRequest, views.MessagePage(views.Message{
				Title:    "Cookies are needed",
				Text:     "Your place in line is kept in a cookie, and your browser did not send it back. Allow cookies for this site and join again.",
				LinkURL:  "/r/" + room,
				LinkText: "Join the line",
			}))
		}
		return c.Redirect("/r/"+room, http.StatusSeeOther)
	}

	st, err := s.edge.Status(c.UserContext(), *ticket)
	if errors.Is(err, waitroom.ErrVisitorNotFound) {
		return c.Redirect("/r/"+room, http.StatusSeeOther)
	}
	if err != nil {
		return err
	}
	if st.Ticket != nil {
		s.setTicket(c, *st.Ticket)
	}

	view := s.waitView(c.UserContext(), room, *ticket, st)
	if st.State == waitroom.StateAdmitted && st.Settings.Event != "" {
		if _, err := s.setAdmission(c, room, ticket.Visitor, st); err != nil {
			return err
		}
		return c.Redirect(view.BookingURL, http.StatusSeeOther)
	}
	c.Set(fiber.HeaderRetryAfter, strconv.Itoa(view.RefreshSeconds))
	return render(c, http.StatusOK, views.WaitPage(view))
}

func (s *Server) setAdmission(c *fiber.Ctx, room, visitor string, st waitroom.Status) (string, error) {
	token, err := s.edge.AdmissionToken(room, st.Settings.Event, visitor, st.Now, st.Deadline)
	if err != nil {
		return "", err
	}
	s.setCookie(c, admissionCookie(room), token, st.Deadline)
	return token, nil
}

func (s *Server) waitView(ctx context.Context, room string, t waitroom.Ticket, st waitroom.Status) views.Wait {
	w := views.Wait{
		Room:           room,
		Title:          st.Settings.Title,
		Message:        st.Settings.Message,
		State:          string(st.State),
		RoomState:      string(st.RoomState),
		Position:       st.Ahead + 1,
		Ahead:          st.Ahead,
		Exact:          st.Exact,
		Progress:       progress(st),
		RefreshSeconds: int(st.Refresh / time.Second),
		// The snapshot may predate the visitor's own join.
		Prequeue:  max(st.Prequeue, 1),
		Degraded:  st.Degraded,
		StatusURL: "/api/v1/rooms/" + room + "/status",
	}
	if st.WaitKnown {
		w.WaitText = views.Duration(st.Wait)
	}
	if st.RoomState == waitroom.RoomScheduled {
		w.OpensInText = views.Duration(st.Settings.OpensAt.Sub(st.Now))
		w.OpensAt = st.Settings.OpensAt.In(s.roomLocation(ctx, st.Settings))
	}
	if st.State == waitroom.StateAdmitted {
		w.MinutesLeft = int(math.Ceil(st.Deadline.Sub(st.Now).Minutes()))
	}
	if st.Settings.Event != "" {
		w.BookingURL = "/e/" + st.Settings.Event
	}
	if st.PlacesKnown && st.Places.Low {
		w.ShowPlaces = true
		w.PlacesLeft, w.PlacesAhead = st.Places.Places, st.Places.Ahead
		w.PlacesShort = !st.Places.Enough
	}
	return w
}

// roomLocation returns the time zone of the event that the room guards, in
// which its visitors book and so read its opening time. It is UTC when the
// room guards no event or the event cannot be read.
func (s *Server) roomLocation(ctx context.Context, settings waitroom.Settings) *time.Location {
	if settings.Event == "" || s.opts.Booking == nil {
		return time.UTC
	}
	info, err := s.bookingEvent(ctx, settings.Event)
	if err != nil {
		s.log.Debug("room times shown in UTC: its event cannot be read", "room", settings.ID, "event", settings.Event, "err", err)
		return time.UTC
	}
	return info.loc
}

// progress estimates how far through the line a visitor is, from 0 to 100:
// the share of the visitors who were ahead at join who have gone.
func progress(st waitroom.Status) int {
	switch st.State {
	case waitroom.StateAdmitted, waitroom.StateExpired:
		return 100
	case waitroom.StatePrequeue:
		return 0
	}
	before := st.Sequence - 1
	if before <= 0 {
		return 99
	}
	done := float64(before-st.Ahead) / float64(before)
	return min(99, max(0, int(done*100)))
}

// statusJSON is the body of the join and status endpoints.
type statusJSON struct {
	Visitor        string  `json:"visitor"`
	Sequence       *int64  `json:"sequence"`
	Ticket         string  `json:"ticket"`
	State          string  `json:"state"`
	RoomState      string  `json:"room_state"`
	Position       *int64  `json:"position"`
	Ahead          *int64  `json:"ahead"`
	Exact          bool    `json:"exact"`
	ETASeconds     *int64  `json:"eta_seconds"`
	OpensAt        string  `json:"opens_at,omitempty"`
	RefreshSeconds int     `json:"refresh_seconds"`
	Progress       int     `json:"progress"`
	Message        string  `json:"message,omitempty"`
	Degraded       bool    `json:"degraded,omitempty"`
	Deadline       *string `json:"deadline,omitempty"`
	AdmissionToken string  `json:"admission_token,omitempty"`
	BookingURL     string  `json:"booking_url,omitempty"`
	// PlacesRemaining and PlacesAhead are null unless the status carries
	// the places outlook, as waitroom.Status.PlacesKnown reports.
	PlacesRemaining *int64 `json:"places_remaining"`
	PlacesAhead     *int64 `json:"places_ahead"`
	PlacesLow       bool   `json:"places_low"`
	PlacesShort     bool   `json:"places_short"`
}

// statusBody builds the JSON of the join and status endpoints; encoded is
// the ticket t as the client should send it back.
func (s *Server) statusBody(c *fiber.Ctx, room string, t waitroom.Ticket, encoded string, st waitroom.Status) (statusJSON, error) {
	body := statusJSON{
		Visitor:        t.Visitor,
		Ticket:         encoded,
		State:          string(st.State),
		RoomState:      string(st.RoomState),
		Exact:          st.Exact,
		RefreshSeconds: int(st.Refresh / time.Second),
		Progress:       progress(st),
		Message:        st.Settings.Message,
		Degraded:       st.Degraded,
	}
	if st.Sequence > 0 {
		seq := st.Sequence
		body.Sequence = &seq
	}
	if st.State == waitroom.StateWaiting {
		ahead, position := st.Ahead, st.Ahead+1
		body.Ahead, body.Position = &ahead, &position
	}
	if st.WaitKnown {
		eta := int64(st.Wait / time.Second)
		body.ETASeconds = &eta
	}
	if st.RoomState == waitroom.RoomScheduled {
		body.OpensAt = st.Settings.OpensAt.UTC().Format(time.RFC3339)
	}
	if st.PlacesKnown {
		remaining, ahead := st.Places.Places, st.Places.Ahead
		body.PlacesRemaining, body.PlacesAhead = &remaining, &ahead
		body.PlacesLow, body.PlacesShort = st.Places.Low, !st.Places.Enough
	}
	if st.State == waitroom.StateAdmitted {
		deadline := st.Deadline.UTC().Format(time.RFC3339)
		body.Deadline = &deadline
		token, err := s.setAdmission(c, room, t.Visitor, st)
		if err != nil {
			return body, err
		}
		body.AdmissionToken = token
		if st.Settings.Event != "" {
			body.BookingURL = "/e/" + st.Settings.Event
		}
	}
	return body, nil
}

// joinAPI handles POST /api/v1/rooms/{room}/join.
func (s *Server) joinAPI(c *fiber.Ctx) error {
	room, err := roomParam(c)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	res, encoded, err := s.join(c, room)
	if err != nil {
		return err
	}

	view, err := s.edge.Room(c.UserContext(), room)
	if err != nil {
		return err
	}
	st := waitroom.Status{
		State:     res.Place.State,
		RoomState: view.Snapshot.State(),
		Settings:  view.Snapshot.Settings,
		Sequence:  res.Place.Sequence,
		Ahead:     res.Place.Ahead,
		Exact:     true,
		Deadline:  res.Place.Deadline,
		Prequeue:  view.Snapshot.Prequeue,
		Now:       view.Snapshot.Now,
	}
	st.Wait, st.WaitKnown = waitroom.EstimateWait(st.Ahead, view.Snapshot)
	st.Refresh = waitroom.RefreshInterval(st.Ahead, st.Wait, st.WaitKnown)

	body, err := s.statusBody(c, room, res.Ticket, encoded, st)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderRetryAfter, strconv.Itoa(body.RefreshSeconds))
	status := http.StatusOK
	if res.Place.Created {
		status = http.StatusCreated
	}
	return c.Status(status).JSON(body)
}

// statusAPI handles GET /api/v1/rooms/{room}/status.
func (s *Server) statusAPI(c *fiber.Ctx) error {
	room, err := roomParam(c)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	ticket, err := s.readTicket(c, room)
	if err != nil {
		return err
	}
	if ticket == nil {
		return newError(http.StatusUnauthorized, "ticket_missing", "Send your queue ticket as the cookie or as 'Authorization: Bearer <ticket>'. Join first to get one.")
	}

	st, err := s.edge.Status(c.UserContext(), *ticket)
	if err != nil {
		return err
	}
	// The ticket is signed again only when it changed, because signing is
	// a large share of a poll's cost.
	t, encoded := *ticket, rawTicket(c, room)
	if st.Ticket != nil {
		t = *st.Ticket
		encoded = s.setTicket(c, t)
	}
	body, err := s.statusBody(c, room, t, encoded, st)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderRetryAfter, strconv.Itoa(body.RefreshSeconds))
	return c.JSON(body)
}
