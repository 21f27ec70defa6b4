package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"foyer/waitroom"
)

// roomJSON is a room's settings and counters in the admin API. Durations
// are whole seconds and times RFC 3339.
type roomJSON struct {
	ID                     string  `json:"id"`
	Title                  string  `json:"title"`
	Event                  string  `json:"event"`
	RoomState              string  `json:"room_state"`
	RatePerMinute          float64 `json:"rate_per_minute"`
	Burst                  int     `json:"burst"`
	MaxActive              int     `json:"max_active"`
	Mode                   string  `json:"mode"`
	Paused                 bool    `json:"paused"`
	OpensAt                *string `json:"opens_at"`
	AdmissionWindowSeconds int64   `json:"admission_window_seconds"`
	SessionLifetimeSeconds int64   `json:"session_lifetime_seconds"`
	HeartbeatGraceSeconds  int64   `json:"heartbeat_grace_seconds"`
	Message                string  `json:"message"`
	Waiting                int64   `json:"waiting"`
	Prequeue               int64   `json:"prequeue"`
	Admitted               int64   `json:"admitted"`
	Active                 int64   `json:"active"`
	Abandoned              int64   `json:"abandoned"`
	Head                   int64   `json:"head"`
	Tail                   int64   `json:"tail"`
}

func roomBody(snap waitroom.Snapshot) roomJSON {
	s := snap.Settings
	body := roomJSON{
		ID:                     s.ID,
		Title:                  s.Title,
		Event:                  s.Event,
		RoomState:              string(snap.State()),
		RatePerMinute:          s.RatePerMinute,
		Burst:                  s.Burst,
		MaxActive:              s.MaxActive,
		Mode:                   string(s.Mode),
		Paused:                 s.Paused,
		AdmissionWindowSeconds: int64(s.AdmissionWindow / time.Second),
		SessionLifetimeSeconds: int64(s.SessionLifetime / time.Second),
		HeartbeatGraceSeconds:  int64(s.HeartbeatGrace / time.Second),
		Message:                s.Message,
		Waiting:                snap.Waiting,
		Prequeue:               snap.Prequeue,
		Admitted:               snap.Admitted,
		Active:                 snap.Active,
		Abandoned:              snap.Abandoned,
		Head:                   snap.Head,
		Tail:                   snap.Tail,
	}
	if !s.OpensAt.IsZero() {
		at := s.OpensAt.UTC().Format(time.RFC3339Nano)
		body.OpensAt = &at
	}
	return body
}

// roomChange is the body of PATCH and POST on rooms. Every field is optional
// in a PATCH; room_state "open" opens the room now, "closed" closes it.
type roomChange struct {
	ID                     *string  `json:"id"`
	Title                  *string  `json:"title"`
	Event                  *string  `json:"event"`
	RoomState              *string  `json:"room_state"`
	RatePerMinute          *float64 `json:"rate_per_minute"`
	Burst                  *int     `json:"burst"`
	MaxActive              *int     `json:"max_active"`
	Mode                   *string  `json:"mode"`
	Paused                 *bool    `json:"paused"`
	OpensAt                *string  `json:"opens_at"`
	AdmissionWindowSeconds *int64   `json:"admission_window_seconds"`
	SessionLifetimeSeconds *int64   `json:"session_lifetime_seconds"`
	HeartbeatGraceSeconds  *int64   `json:"heartbeat_grace_seconds"`
	Message                *string  `json:"message"`
}

func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return newError(http.StatusBadRequest, "invalid_json", fmt.Sprintf("Field %s has a JSON %s where this endpoint expects %s. Send it as %s.", typeErr.Field, typeErr.Value, jsonKind(typeErr.Type.Kind()), jsonKind(typeErr.Type.Kind())))
	}
	return newError(http.StatusBadRequest, "invalid_json", fmt.Sprintf("The request body is not valid JSON for this endpoint: %v.", err))
}

// jsonKind names the JSON type that decodes into a Go value of kind k.
func jsonKind(k reflect.Kind) string {
	switch k {
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "another type"
}

func seconds(n *int64) *time.Duration {
	if n == nil {
		return nil
	}
	d := time.Duration(*n) * time.Second
	return &d
}

// patch converts the change to a domain patch, reading "now" for
// room_state "open".
func (rc roomChange) patch(now time.Time) (waitroom.Patch, error) {
	p := waitroom.Patch{
		Title:           rc.Title,
		Event:           rc.Event,
		RatePerMinute:   rc.RatePerMinute,
		Burst:           rc.Burst,
		MaxActive:       rc.MaxActive,
		Paused:          rc.Paused,
		AdmissionWindow: seconds(rc.AdmissionWindowSeconds),
		SessionLifetime: seconds(rc.SessionLifetimeSeconds),
		HeartbeatGrace:  seconds(rc.HeartbeatGraceSeconds),
		Message:         rc.Message,
	}
	if rc.Mode != nil {
		mode := waitroom.Mode(*rc.Mode)
		p.Mode = &mode
	}
	if rc.OpensAt != nil {
		at := time.Time{}
		if *rc.OpensAt != "" {
			parsed, err := time.Parse(time.RFC3339Nano, *rc.OpensAt)
			if err != nil {
				return p, newError(http.StatusBadRequest, "invalid_opens_at", fmt.Sprintf("opens_at %q is not an RFC 3339 time such as 2026-12-04T09:00:00+01:00; send \"\" to clear it.", *rc.OpensAt))
			}
			at = parsed
		}
		p.OpensAt = &at
	}
	if rc.RoomState != nil {
		yes, no := true, false
		switch *rc.RoomState {
		case "open":
			p.OpenBy, p.Closed, p.Paused, p.SoldOut = &now, &no, &no, &no
		case "closed":
			p.Closed = &yes
		case "paused":
			p.Paused = &yes
		case "sold_out":
			p.SoldOut = &yes
		default:
			return p, newError(http.StatusBadRequest, "invalid_room_state", fmt.Sprintf("room_state %q is invalid: use open, paused, sold_out or closed.", *rc.RoomState))
		}
	}
	return p, nil
}

// invalidSettings turns a settings validation error into a 400 that carries
// its message, which names the field, the value and what is allowed.
func invalidSettings(err error) error {
	var api *apiError
	if errors.As(err, &api) || errors.Is(err, waitroom.ErrRoomNotFound) || errors.Is(err, waitroom.ErrRoomExists) || errors.Is(err, waitroom.ErrUnavailable) {
		return err
	}
	return newError(http.StatusBadRequest, "invalid_settings", err.Error())
}

func (s *Server) adminListRooms(c *fiber.Ctx) error {
	ids, err := s.edge.Store().Rooms(c.UserContext())
	if err != nil {
		return err
	}
	rooms := make([]roomJSON, 0, len(ids))
	for _, id := range ids {
		snap, err := s.edge.Refresh(c.UserContext(), id)
		if err != nil {
			return err
		}
		rooms = append(rooms, roomBody(snap))
	}
	return c.JSON(rooms)
}

func (s *Server) adminGetRoom(c *fiber.Ctx) error {
	room, err := roomParam(c)
	if err != nil {
		return err
	}
	snap, err := s.edge.Refresh(c.UserContext(), room)
	if err != nil {
		return err
	}
	return c.JSON(roomBody(snap))
}

func (s *Server) adminPatchRoom(c *fiber.Ctx) error {
	room, err := roomParam(c)
	if err != nil {
		return err
	}
	var change roomChange
	if err := decodeStrict(c.Body(), &change); err != nil {
		return err
	}
	if change.ID != nil && *change.ID != room {
		return newError(http.StatusBadRequest, "invalid_settings", "A room's id cannot be changed; leave id out of the body.")
	}
	patch, err := change.patch(time.Now())
	if err != nil {
		return err
	}
	if _, _, err := s.updateRoom(c.UserContext(), room, apiActor(c), "settings", patch); err != nil {
		return err
	}
	snap, err := s.edge.Refresh(c.UserContext(), room)
	if err != nil {
		return err
	}
	return c.JSON(roomBody(snap))
}

func (s *Server) adminCreateRoom(c *fiber.Ctx) error {
	var change roomChange
	if err := decodeStrict(c.Body(), &change); err != nil {
		return err
	}
	if change.ID == nil {
		return newError(http.StatusBadRequest, "invalid_settings", "The body needs an id: 1 to 63 lowercase letters, digits and hyphens.")
	}
	patch, err := change.patch(time.Now())
	if err != nil {
		return err
	}
	settings := patch.Apply(waitroom.Settings{ID: *change.ID}).WithDefaults()
	if err := settings.Validate(); err != nil {
		return invalidSettings(err)
	}
	if err := s.edge.Store().CreateRoom(c.UserContext(), settings); err != nil {
		if errors.Is(err, waitroom.ErrRoomExists) {
			return newError(http.StatusConflict, "room_exists", fmt.Sprintf("Room %q exists already. Use PATCH to change it.", settings.ID))
		}
		return invalidSettings(err)
	}
	s.recordChange(c.UserContext(), settings.ID, apiActor(c), "create", "created room "+settings.ID)
	snap, err := s.edge.Refresh(c.UserContext(), settings.ID)
	if err != nil {
		return err
	}
	return c.Status(http.StatusCreated).JSON(roomBody(snap))
}

func (s *Server) adminResetRoom(c *fiber.Ctx) error {
	room, err := roomParam(c)
	if err != nil {
		return err
	}
	if err := s.edge.Store().ResetRoom(c.UserContext(), room); err != nil {
		return err
	}
	s.recordChange(c.UserContext(), room, apiActor(c), "reset", "emptied the line, pre-queue, active set, admission log, counters, controller state and decision history")
	snap, err := s.edge.Refresh(c.UserContext(), room)
	if err != nil {
		return err
	}
	return c.JSON(roomBody(snap))
}

// maxLogPage is the most admission log entries one request returns.
const maxLogPage = 10000

func (s *Server) adminAdmissions(c *fiber.Ctx) error {
	room, err := roomParam(c)
	if err != nil {
		return err
	}
	after, err := queryInt(c, "after", 0, 0, 1<<40)
	if err != nil {
		return err
	}
	limit, err := queryInt(c, "limit", 1000, 1, maxLogPage)
	if err != nil {
		return err
	}
	if _, err := s.edge.Room(c.UserContext(), room); err != nil {
		return err
	}
	entries, err := s.edge.Store().AdmissionLog(c.UserContext(), room, after, limit)
	if err != nil {
		return err
	}
	type entryJSON struct {
		Visitor    string `json:"visitor"`
		Sequence   int64  `json:"sequence"`
		AdmittedAt string `json:"admitted_at"`
	}
	out := make([]entryJSON, len(entries))
	for i, e := range entries {
		out[i] = entryJSON{Visitor: e.Visitor, Sequence: e.Sequence, AdmittedAt: e.AdmittedAt.UTC().Format(time.RFC3339Nano)}
	}
	c.Set("X-Next-After", strconv.Itoa(after+len(entries)))
	return c.JSON(out)
}

// decisionJSON is a controller decision in the admin API. Times are RFC
// 3339, and latency and signal age are whole milliseconds.
type decisionJSON struct {
	At               string  `json:"at"`
	Reason           string  `json:"reason"`
	OldRatePerMinute float64 `json:"old_rate_per_minute"`
	NewRatePerMinute float64 `json:"new_rate_per_minute"`
	// CapacityPerMinute is the controller's estimate of the backend's
	// capacity after the decision, 0 while it has none.
	CapacityPerMinute float64     `json:"capacity_per_minute"`
	Signals           signalsJSON `json:"signals"`
}

// signalsJSON are the signals behind a decision in the admin API. The
// window's times are null when no signals were read.
type signalsJSON struct {
	WindowStart          *string `json:"window_start"`
	WindowEnd            *string `json:"window_end"`
	Samples              int64   `json:"samples"`
	LatencyP95Ms         int64   `json:"latency_p95_ms"`
	ErrorRate            float64 `json:"error_rate"`
	StalenessMs          int64   `json:"staleness_ms"`
	HasInventory         bool    `json:"has_inventory"`
	RemainingPlaces      int64   `json:"remaining_places"`
	HeldPlaces           int64   `json:"held_places"`
	MostFreeInSlot       int64   `json:"most_free_in_slot"`
	MostFreeOrHeldInSlot int64   `json:"most_free_or_held_in_slot"`
	Active               int64   `json:"active"`
	MaxActive            int64   `json:"max_active"`
	Waiting              int64   `json:"waiting"`
	AdmittedPerMinute    float64 `json:"admitted_per_minute"`
}

func decisionBody(d waitroom.Decision) decisionJSON {
	s := d.Signals
	return decisionJSON{
		At:                d.At.UTC().Format(time.RFC3339Nano),
		Reason:            string(d.Reason),
		OldRatePerMinute:  d.OldRatePerMinute,
		NewRatePerMinute:  d.NewRatePerMinute,
		CapacityPerMinute: d.CapacityPerMinute,
		Signals: signalsJSON{
			WindowStart:          rfc3339OrNull(s.WindowStart),
			WindowEnd:            rfc3339OrNull(s.WindowEnd),
			Samples:              s.Samples,
			LatencyP95Ms:         s.LatencyP95.Milliseconds(),
			ErrorRate:            s.ErrorRate,
			StalenessMs:          s.Staleness.Milliseconds(),
			HasInventory:         s.HasInventory,
			RemainingPlaces:      s.RemainingPlaces,
			HeldPlaces:           s.HeldPlaces,
			MostFreeInSlot:       s.MostFreeInSlot,
			MostFreeOrHeldInSlot: s.MostFreeOrHeldInSlot,
			Active:               s.Active,
			MaxActive:            s.MaxActive,
			Waiting:              s.Waiting,
			AdmittedPerMinute:    s.AdmittedPerMinute,
		},
	}
}

// rfc3339OrNull formats t as RFC 3339, or returns nil for the zero time.
func rfc3339OrNull(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	text := t.UTC().Format(time.RFC3339Nano)
	return &text
}

// adminDecisions handles GET /api/v1/admin/rooms/{room}/decisions: the
// room's newest controller decisions, newest first.
func (s *Server) adminDecisions(c *fiber.Ctx) error {
	room, err := roomParam(c)
	if err != nil {
		return err
	}
	limit, err := queryInt(c, "limit", 100, 1, waitroom.MaxDecisions)
	if err != nil {
		return err
	}
	decisions, err := s.edge.Store().Decisions(c.UserContext(), room, limit)
	if err != nil {
		return err
	}
	out := make([]decisionJSON, len(decisions))
	for i, d := range decisions {
		out[i] = decisionBody(d)
	}
	return c.JSON(out)
}

func queryInt(c *fiber.Ctx, name string, def, lo, hi int) (int, error) {
	raw := c.Query(name)
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < lo || n > hi {
		return 0, newError(http.StatusBadRequest, "invalid_query", fmt.Sprintf("Query parameter %s=%q is invalid: use a whole number from %d to %d.", name, raw, lo, hi))
	}
	return n, nil
}
