package loadtest

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// admin calls the admin API of one target with the bearer token.
type admin struct {
	client *client
	base   string
	token  string
}

// roomBody is a room in the admin API: settings and counters.
type roomBody struct {
	ID                    string  `json:"id"`
	Event                 string  `json:"event"`
	RoomState             string  `json:"room_state"`
	RatePerMinute         float64 `json:"rate_per_minute"`
	Burst                 int     `json:"burst"`
	MaxActive             int     `json:"max_active"`
	Mode                  string  `json:"mode"`
	OpensAt               *string `json:"opens_at"`
	HeartbeatGraceSeconds int64   `json:"heartbeat_grace_seconds"`
	Waiting               int64   `json:"waiting"`
	Prequeue              int64   `json:"prequeue"`
	Admitted              int64   `json:"admitted"`
	Active                int64   `json:"active"`
	Abandoned             int64   `json:"abandoned"`
}

// admissionBody is one entry of the admission log.
type admissionBody struct {
	Visitor    string    `json:"visitor"`
	Sequence   int64     `json:"sequence"`
	AdmittedAt time.Time `json:"admitted_at"`
}

// eventStatsBody is GET /api/v1/admin/events/{event}: per slot counts.
type eventStatsBody struct {
	Slots []slotStatsBody `json:"slots"`
}

// slotStatsBody is one slot's counts, read atomically by the server.
type slotStatsBody struct {
	ID       string `json:"id"`
	Capacity int    `json:"capacity"`
	Held     int    `json:"held"`
	Sold     int    `json:"sold"`
}

// adminError wraps the response of a failed admin call with the action.
func adminError(action string, res response) error {
	return fmt.Errorf("%s: %w", action, res)
}

func (a *admin) call(ctx context.Context, method, path string, body, out any) response {
	return a.client.do(ctx, request{method: method, url: a.base + path, body: body, bearer: a.token, out: out})
}

// prepareRoom resets the room, or creates it when it does not exist, and
// applies settings. The room opens at opensAt, or at once when opensAt is
// the zero time.
func (a *admin) prepareRoom(ctx context.Context, room, event string, s RoomSettings, opensAt time.Time) (roomBody, error) {
	res := a.call(ctx, http.MethodPost, "/api/v1/admin/rooms/"+room+"/reset", nil, nil)
	switch {
	case res.status == http.StatusNotFound:
		create := map[string]any{"id": room, "event": event, "room_state": "closed"}
		if res := a.call(ctx, http.MethodPost, "/api/v1/admin/rooms", create, nil); !res.ok() {
			return roomBody{}, adminError("create room "+room, res)
		}
	case !res.ok():
		return roomBody{}, adminError("reset room "+room, res)
	}

	patch := map[string]any{
		"event":           event,
		"rate_per_minute": s.RatePerMinute,
		"burst":           s.Burst,
		"max_active":      s.MaxActive,
		"mode":            s.Mode,
		"paused":          false,
	}
	if opensAt.IsZero() {
		patch["room_state"] = "open"
	} else {
		patch["opens_at"] = opensAt.UTC().Format(time.RFC3339Nano)
		// A closed room stays closed after its opening time, so reopen it
		// first and let the opening time hold the visitors in the pre-queue.
		if res := a.call(ctx, http.MethodPatch, "/api/v1/admin/rooms/"+room, map[string]any{"room_state": "open"}, nil); !res.ok() {
			return roomBody{}, adminError("open room "+room, res)
		}
	}
	var out roomBody
	if res := a.call(ctx, http.MethodPatch, "/api/v1/admin/rooms/"+room, patch, &out); !res.ok() {
		return roomBody{}, adminError("configure room "+room, res)
	}
	return out, nil
}

// room reads the room's settings and counters.
func (a *admin) room(ctx context.Context, room string) (roomBody, error) {
	var out roomBody
	if res := a.call(ctx, http.MethodGet, "/api/v1/admin/rooms/"+room, nil, &out); !res.ok() {
		return roomBody{}, adminError("read room "+room, res)
	}
	return out, nil
}

// admissionPage is the number of log entries asked for per request.
const admissionPage = 10_000

// admissions reads the whole admission log in admission order, following
// the offset the server returns in X-Next-After.
func (a *admin) admissions(ctx context.Context, room string) ([]admissionBody, error) {
	var all []admissionBody
	after := 0
	for {
		var page []admissionBody
		path := "/api/v1/admin/rooms/" + room + "/admissions?after=" + strconv.Itoa(after) + "&limit=" + strconv.Itoa(admissionPage)
		res := a.call(ctx, http.MethodGet, path, nil, &page)
		if !res.ok() {
			return all, adminError("read admission log of room "+room, res)
		}
		all = append(all, page...)
		if len(page) == 0 {
			return all, nil
		}

		next := after + len(page)
		if h := res.header.Get("X-Next-After"); h != "" {
			n, err := strconv.Atoi(h)
			if err != nil || n <= after {
				return all, fmt.Errorf("read admission log of room %s: X-Next-After %q does not move past %d", room, h, after)
			}
			next = n
		}
		after = next
	}
}

// eventStats reads the event's per slot capacity, held and sold counts.
func (a *admin) eventStats(ctx context.Context, event string) (eventStatsBody, error) {
	var out eventStatsBody
	if res := a.call(ctx, http.MethodGet, "/api/v1/admin/events/"+event, nil, &out); !res.ok() {
		return out, adminError("read event "+event, res)
	}
	return out, nil
}

// orders reads the event's orders in one state, or all of them when state
// is empty.
func (a *admin) orders(ctx context.Context, event, state string) ([]orderBody, error) {
	path := "/api/v1/admin/events/" + event + "/orders"
	if state != "" {
		path += "?state=" + url.QueryEscape(state)
	}
	var out []orderBody
	if res := a.call(ctx, http.MethodGet, path, nil, &out); !res.ok() {
		return nil, adminError("read orders of event "+event, res)
	}
	return out, nil
}

// maxSlots bounds EventSetup.Slots, so that the slots from 09:00 end on
// the same day.
const maxSlots = 28

// createEvent creates the run's event guarded by room: one ticket type,
// Slots half-hour slots from 09:00 UTC on the day after now, and order
// limits that allow the largest order the visitors place.
func (a *admin) createEvent(ctx context.Context, event, room string, setup EventSetup, maxTickets int, now time.Time) error {
	date := now.UTC().AddDate(0, 0, 1).Format(time.DateOnly)
	closing := time.Date(2000, 1, 1, 9, 0, 0, 0, time.UTC).Add(time.Duration(setup.Slots) * 30 * time.Minute)
	body := map[string]any{
		"id":                      event,
		"title":                   "Load test " + event,
		"time_zone":               "UTC",
		"room":                    room,
		"currency":                "EUR",
		"ticket_types":            []map[string]any{{"id": "general", "name": "General admission", "price": 1500}},
		"max_tickets_per_order":   maxTickets,
		"max_tickets_per_visitor": maxTickets,
		"max_holds_per_visitor":   1,
		"days": []map[string]any{{
			"date":           date,
			"open":           "09:00",
			"close":          closing.Format("15:04"),
			"length_minutes": 30,
			"capacity":       setup.Capacity,
		}},
	}
	if setup.HoldLifetime > 0 {
		body["hold_lifetime_seconds"] = setup.HoldLifetime.Seconds()
	}
	if res := a.call(ctx, http.MethodPost, "/api/v1/admin/events", body, nil); !res.ok() {
		return adminError("create event "+event, res)
	}
	return nil
}
