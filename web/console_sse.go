package web

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"foyer/web/views"
)

const (
	// streamEvery is how often a dashboard stream sends the live panel.
	streamEvery = 2 * time.Second
	// maxStreamDuration ends each stream after a while. The browser then
	// connects again, which checks the session again and moves the stream
	// to another edge when this one is draining.
	maxStreamDuration = 10 * time.Minute
	// streamRetry is the reconnection delay that streams ask browsers for.
	streamRetry = 3 * time.Second
	// streamWriteTimeout bounds each write to the client, so a client that
	// stopped reading does not hold its stream open.
	streamWriteTimeout = 15 * time.Second
	// streamReadTimeout bounds the store reads behind one update.
	streamReadTimeout = 2 * time.Second
)

// dashboardStream handles GET /admin/rooms/{room}/stream: server-sent events
// named "update" whose data is the room's live panel as HTML, every
// streamEvery. The stream ends when the server drains, when the session
// ends (with an event named "signed-out"), when the client goes away, and
// after maxStreamDuration.
func (s *Server) dashboardStream(c *fiber.Ctx) error {
	room, err := roomParam(c)
	if err != nil {
		return err
	}
	if _, err := s.edge.Room(c.UserContext(), room); err != nil {
		return err
	}
	session := currentAdmin(c)

	c.Set(fiber.HeaderContentType, "text/event-stream; charset=utf-8")
	c.Set(fiber.HeaderCacheControl, "no-store")
	// Proxies such as nginx would otherwise buffer the stream.
	c.Set("X-Accel-Buffering", "no")
	conn := c.Context().Conn()
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		s.streamDashboard(w, conn, room, session)
	})
	return nil
}

// streamDashboard writes the stream until one of its ends. It runs after
// the handler returned, so it uses no fiber.Ctx.
func (s *Server) streamDashboard(w *bufio.Writer, conn net.Conn, room string, session adminSession) {
	s.log.Debug("dashboard stream started", "actor", session.User, "room", room)
	defer s.log.Debug("dashboard stream ended", "actor", session.User, "room", room)

	w.WriteString("retry: " + strconv.Itoa(int(streamRetry/time.Millisecond)) + "\n\n")
	ends := time.Now().Add(maxStreamDuration)
	ticker := time.NewTicker(streamEvery)
	defer ticker.Stop()

	for {
		if s.draining.Load() {
			return
		}
		now := time.Now()
		if !now.Before(session.Expires) || s.auth.isRevoked(session.ID) || s.streamSignedOut(session, now) {
			w.WriteString("event: signed-out\ndata: \n\n")
			_ = w.Flush()
			return
		}
		if conn != nil {
			// fasthttp set one write deadline for the whole response from
			// WriteTimeout, which a stream outlives.
			_ = conn.SetWriteDeadline(now.Add(streamWriteTimeout))
		}
		if err := s.writeLivePanel(w, room); err != nil {
			return
		}
		if now.After(ends) {
			return
		}

		select {
		case <-s.stopped:
			return
		case <-ticker.C:
		}
	}
}

// writeLivePanel sends one "update" event and flushes it. It returns the
// error of a write to a client that went away.
func (s *Server) writeLivePanel(w *bufio.Writer, room string) error {
	ctx, cancel := context.WithTimeout(context.Background(), streamReadTimeout)
	defer cancel()

	live, err := s.liveView(ctx, room)
	if err != nil {
		// The room may be gone, or the store down; the browser keeps the
		// last panel and the stream tries again at the next update.
		w.WriteString(": " + strings.ReplaceAll(classify(s.log, err).Code, "\n", " ") + "\n\n")
		return w.Flush()
	}
	var html bytes.Buffer
	if err := views.DashboardLivePanel(live).Render(ctx, &html); err != nil {
		s.log.Error("render live panel failed", "room", room, "err", err)
		return w.Flush()
	}
	writeEvent(w, "update", html.String())
	return w.Flush()
}

// writeEvent writes one server-sent event. Every line of data gets its own
// "data:" field, which the browser joins with newlines again. A carriage
// return also ends a line in an event stream, so it becomes a space, which
// HTML treats alike.
func writeEvent(w *bufio.Writer, name, data string) {
	w.WriteString("event: " + name + "\n")
	for line := range strings.SplitSeq(strings.ReplaceAll(data, "\r", " "), "\n") {
		w.WriteString("data: ")
		w.WriteString(line)
		w.WriteString("\n")
	}
	w.WriteString("\n")
}

// streamSignedOut reads from the store whether a stream's session was signed out
// on another edge, within streamEvery.
func (s *Server) streamSignedOut(session adminSession, now time.Time) bool {
	ctx, cancel := context.WithTimeout(context.Background(), streamEvery)
	defer cancel()
	return s.signedOutElsewhere(ctx, session, now)
}
