package web

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"foyer/waitroom"
	"foyer/web/views"
)

// consoleRefreshSeconds is how often console pages reload themselves when
// scripts are off and the live stream cannot run.
const consoleRefreshSeconds = 20

// consoleRoutes adds the organizer console under /admin. The sign-in page
// comes first, because the group's session check also matches its path.
func (s *Server) consoleRoutes(app fiber.Router) {
	app.Get("/admin/login", s.loginPage)
	app.Post("/admin/login", s.login)

	console := app.Group("/admin", s.requireConsole)
	console.Post("/logout", s.logout)
	console.Get("/", s.consoleHome)
	console.Get("/rooms/:room", s.dashboardPage)
	console.Get("/rooms/:room/stream", s.dashboardStream)
	console.Post("/rooms/:room/settings", s.roomSettingsForm)
	console.Post("/rooms/:room/state", s.roomStateForm)
	console.Post("/rooms/:room/message", s.roomMessageForm)

	if s.opts.Booking != nil {
		s.consoleEventRoutes(console)
	}
}

// consolePage returns what every console page of the request's session
// shares.
func (s *Server) consolePage(c *fiber.Ctx, title string) views.ConsolePage {
	session := currentAdmin(c)
	return views.ConsolePage{Title: title, User: session.User, CSRF: s.csrfToken(session.ID), Events: s.opts.Booking != nil}
}

// consoleHome handles GET /admin: every room with its main figures.
func (s *Server) consoleHome(c *fiber.Ctx) error {
	ctx := c.UserContext()
	ids, err := s.edge.Store().Rooms(ctx)
	if err != nil {
		return err
	}

	page := views.Home{Console: s.consolePage(c, "Rooms and events"), Booking: s.opts.Booking != nil, Notice: consoleNotices[c.Query("done")]}
	page.Console.RefreshSeconds = consoleRefreshSeconds
	for _, id := range ids {
		view, err := s.edge.Room(ctx, id)
		if errors.Is(err, waitroom.ErrRoomNotFound) {
			continue // removed since the list was read
		}
		if err != nil {
			return err
		}
		snap := view.Snapshot
		page.Rooms = append(page.Rooms, views.RoomRow{
			ID:        id,
			Title:     snap.Settings.Title,
			Event:     snap.Settings.Event,
			RoomState: string(snap.State()),
			Waiting:   snap.Waiting,
			Active:    snap.Active,
			Rate:      formatRate(snap.Settings.RatePerMinute),
		})
	}
	return render(c, http.StatusOK, views.HomePage(page))
}

// consoleNotices confirm a change after the redirect that follows a form,
// by the value of the done query parameter.
var consoleNotices = map[string]string{
	"settings":      "Settings saved. Every edge applies them at its next admission tick.",
	"pause":         "Admission is paused. Visitors keep their places and can still join.",
	"resume":        "Admission resumed.",
	"open":          "The room is open and admitting.",
	"close":         "The room is closed: nobody more is admitted, and new arrivals are turned away.",
	"message":       "Message saved. Waiting pages show it at their next update.",
	"unchanged":     "Nothing changed: the form held the current settings.",
	"event-created": "Event created.",
	"event-saved":   "Event saved. Other edges show the change within 30 seconds.",
	"slots-added":   "Slots added.",
	"capacities":    "Capacities saved.",
}

// dashboardPage handles GET /admin/rooms/{room}.
func (s *Server) dashboardPage(c *fiber.Ctx) error {
	room, err := roomParam(c)
	if err != nil {
		return err
	}
	return s.renderDashboard(c, http.StatusOK, room, consoleNotices[c.Query("done")], "")
}

// renderDashboard renders the room's dashboard with a notice or an error,
// either of which may be empty.
func (s *Server) renderDashboard(c *fiber.Ctx, status int, room, notice, problem string) error {
	ctx := c.UserContext()
	live, err := s.liveView(ctx, room)
	if err != nil {
		return err
	}
	view, err := s.edge.Room(ctx, room)
	if err != nil {
		return err
	}
	settings := view.Snapshot.Settings

	page := views.Dashboard{
		Console:   s.consolePage(c, settings.Title),
		Room:      room,
		Title:     settings.Title,
		StreamURL: "/admin/rooms/" + room + "/stream",
		Live:      live,
		Notice:    notice,
		Error:     problem,
	}
	page.Console.RefreshSeconds = consoleRefreshSeconds
	page.Console.Script = "/static/console.js"
	page.Controls = views.RoomControls{
		Action:        "/admin/rooms/" + room,
		CSRF:          page.Console.CSRF,
		RatePerMinute: formatRate(settings.RatePerMinute),
		Burst:         settings.Burst,
		MaxActive:     settings.MaxActive,
		Mode:          string(settings.Mode),
		Paused:        settings.Paused,
		RoomState:     live.RoomState,
		Message:       settings.Message,
	}
	return render(c, status, views.DashboardPage(page))
}

// roomSettingsForm handles POST /admin/rooms/{room}/settings: rate, burst,
// max active and mode.
func (s *Server) roomSettingsForm(c *fiber.Ctx) error {
	room, err := roomParam(c)
	if err != nil {
		return err
	}

	rate, err := formNumber(c, "rate_per_minute", "Visitors per minute")
	if err != nil {
		return s.controlProblem(c, room, err)
	}
	burst, err := formWhole(c, "burst", "Burst")
	if err != nil {
		return s.controlProblem(c, room, err)
	}
	maxActive, err := formWhole(c, "max_active", "Max active")
	if err != nil {
		return s.controlProblem(c, room, err)
	}
	mode := waitroom.Mode(strings.Clone(c.FormValue("mode")))

	patch := waitroom.Patch{RatePerMinute: &rate, Burst: &burst, MaxActive: &maxActive, Mode: &mode}
	return s.applyControl(c, room, "settings", patch)
}

// roomStateForm handles POST /admin/rooms/{room}/state with action pause,
// resume, open or close.
func (s *Server) roomStateForm(c *fiber.Ctx) error {
	room, err := roomParam(c)
	if err != nil {
		return err
	}

	yes, no := true, false
	var patch waitroom.Patch
	action := c.FormValue("action")
	switch action {
	case "pause":
		patch.Paused = &yes
	case "resume":
		patch.Paused = &no
	case "open":
		now := time.Now()
		patch.OpenBy, patch.Closed, patch.Paused, patch.SoldOut = &now, &no, &no, &no
	case "close":
		patch.Closed = &yes
	default:
		return s.controlProblem(c, room, newError(http.StatusBadRequest, "invalid_action",
			fmt.Sprintf("The room action %q is unknown: use pause, resume, open or close.", action)))
	}
	return s.applyControl(c, room, strings.Clone(action), patch)
}

// roomMessageForm handles POST /admin/rooms/{room}/message.
func (s *Server) roomMessageForm(c *fiber.Ctx) error {
	room, err := roomParam(c)
	if err != nil {
		return err
	}
	message := strings.TrimSpace(strings.ReplaceAll(c.FormValue("message"), "\r\n", "\n"))
	message = strings.Clone(message)
	return s.applyControl(c, room, "message", waitroom.Patch{Message: &message})
}

// applyControl applies a control form's patch as the signed-in organizer
// and goes back to the dashboard, which confirms the change or explains
// why it was rejected.
func (s *Server) applyControl(c *fiber.Ctx, room, action string, patch waitroom.Patch) error {
	actor := currentAdmin(c).User
	before, after, err := s.updateRoom(c.UserContext(), room, actor, action, patch)
	if err != nil {
		return s.controlProblem(c, room, err)
	}

	done := action
	if settingsDiff(before, after) == "" {
		done = "unchanged"
	}
	return c.Redirect("/admin/rooms/"+room+"?done="+done, http.StatusSeeOther)
}

// controlProblem shows a rejected control form on the dashboard with the
// reason, which names the field and what is allowed. Errors that are not
// the form's fault go to the error page.
func (s *Server) controlProblem(c *fiber.Ctx, room string, err error) error {
	var api *apiError
	if !errors.As(err, &api) || api.Status != http.StatusBadRequest {
		return err
	}
	s.log.Info("admin change rejected", "actor", currentAdmin(c).User, "room", room, "path", c.Path(), "reason", api.Message)
	return s.renderDashboard(c, http.StatusBadRequest, room, "", "Nothing was changed. "+api.Message)
}

// formNumber reads a finite decimal number from a form field.
func formNumber(c *fiber.Ctx, field, label string) (float64, error) {
	raw := strings.TrimSpace(c.FormValue(field))
	n, err := strconv.ParseFloat(raw, 64)
	if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
		return 0, newError(http.StatusBadRequest, "invalid_form", fmt.Sprintf("%s %q is not a number: use digits, with a decimal point if needed, as in 7.5.", label, raw))
	}
	return n, nil
}

// formWhole reads a whole number from a form field.
func formWhole(c *fiber.Ctx, field, label string) (int, error) {
	raw := strings.TrimSpace(c.FormValue(field))
	n, err := strconv.Atoi(raw)
	if err != nil {
		return 0, newError(http.StatusBadRequest, "invalid_form", fmt.Sprintf("%s %q is not a whole number: use digits only, as in 20.", label, raw))
	}
	return n, nil
}
