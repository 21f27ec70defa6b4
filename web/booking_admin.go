package web

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"foyer/booking"
)

// eventJSON is the body of POST /api/v1/admin/events. Slots come from
// slots, from days, or from both. Zero limits take the booking package's
// defaults.
type eventJSON struct {
	ID                   string               `json:"id"`
	Title                string               `json:"title"`
	TimeZone             string               `json:"time_zone"`
	Room                 string               `json:"room"`
	Currency             string               `json:"currency"`
	TicketTypes          []booking.TicketType `json:"ticket_types"`
	MaxTicketsPerOrder   int                  `json:"max_tickets_per_order"`
	MaxTicketsPerVisitor int                  `json:"max_tickets_per_visitor"`
	MaxHoldsPerVisitor   int                  `json:"max_holds_per_visitor"`
	// HoldLifetimeSeconds may have a fraction, down to the 0.1 s minimum.
	HoldLifetimeSeconds float64 `json:"hold_lifetime_seconds"`
	MaxHoldExtensions   int     `json:"max_hold_extensions"`
	// SalesStart and SalesEnd are RFC 3339 times, or empty for no bound.
	SalesStart string        `json:"sales_start"`
	SalesEnd   string        `json:"sales_end"`
	Slots      []slotDefJSON `json:"slots"`
	Days       []dayPlanJSON `json:"days"`
}

// slotDefJSON defines one slot, by RFC 3339 instants (starts_at, ends_at)
// or by wall-clock times in the event's zone (date, start, end). The id
// defaults to the local start, as in "20260601-0900".
type slotDefJSON struct {
	ID       string `json:"id"`
	StartsAt string `json:"starts_at"`
	EndsAt   string `json:"ends_at"`
	Date     string `json:"date"`
	Start    string `json:"start"`
	End      string `json:"end"`
	Capacity *int   `json:"capacity"`
}

// dayPlanJSON defines a day of back-to-back slots, as booking.DayPlan does.
type dayPlanJSON struct {
	Date          string `json:"date"`
	Open          string `json:"open"`
	Close         string `json:"close"`
	LengthMinutes int    `json:"length_minutes"`
	Capacity      *int   `json:"capacity"`
}

// adminSlotJSON is a slot with its counts, read in one atomic step.
type adminSlotJSON struct {
	ID        string `json:"id"`
	StartsAt  string `json:"starts_at"`
	EndsAt    string `json:"ends_at"`
	Capacity  int    `json:"capacity"`
	Held      int    `json:"held"`
	Sold      int    `json:"sold"`
	Available int    `json:"available"`
}

// adminEventJSON is an event with its slots' counts in the admin API.
type adminEventJSON struct {
	ID                   string               `json:"id"`
	Title                string               `json:"title"`
	TimeZone             string               `json:"time_zone"`
	Room                 string               `json:"room"`
	Currency             string               `json:"currency"`
	TicketTypes          []booking.TicketType `json:"ticket_types"`
	MaxTicketsPerOrder   int                  `json:"max_tickets_per_order"`
	MaxTicketsPerVisitor int                  `json:"max_tickets_per_visitor"`
	MaxHoldsPerVisitor   int                  `json:"max_holds_per_visitor"`
	HoldLifetimeSeconds  float64              `json:"hold_lifetime_seconds"`
	MaxHoldExtensions    int                  `json:"max_hold_extensions"`
	SalesStart           *string              `json:"sales_start"`
	SalesEnd             *string              `json:"sales_end"`
	Slots                []adminSlotJSON      `json:"slots"`
}

func adminSlotBody(event eventInfo, slot booking.SlotAvailability) adminSlotJSON {
	return adminSlotJSON{
		ID:        slot.ID,
		StartsAt:  event.localTime(slot.Start),
		EndsAt:    event.localTime(slot.End),
		Capacity:  slot.Capacity,
		Held:      slot.Held,
		Sold:      slot.Sold,
		Available: slot.Available(),
	}
}

func adminEventBody(event eventInfo, slots []booking.SlotAvailability) adminEventJSON {
	body := adminEventJSON{
		ID:                   event.ID,
		Title:                event.Title,
		TimeZone:             event.TimeZone,
		Room:                 event.Room,
		Currency:             event.Currency,
		TicketTypes:          event.TicketTypes,
		MaxTicketsPerOrder:   event.MaxTicketsPerOrder,
		MaxTicketsPerVisitor: event.MaxTicketsPerVisitor,
		MaxHoldsPerVisitor:   event.MaxHoldsPerVisitor,
		HoldLifetimeSeconds:  event.HoldLifetime.Seconds(),
		MaxHoldExtensions:    event.MaxHoldExtensions,
		Slots:                make([]adminSlotJSON, len(slots)),
	}
	if !event.SalesStart.IsZero() {
		at := event.localTime(event.SalesStart)
		body.SalesStart = &at
	}
	if !event.SalesEnd.IsZero() {
		at := event.localTime(event.SalesEnd)
		body.SalesEnd = &at
	}
	for i, slot := range slots {
		body.Slots[i] = adminSlotBody(event, slot)
	}
	return body
}

// invalidEvent returns a 400 error with code invalid_event.
func invalidEvent(format string, args ...any) error {
	return newError(http.StatusBadRequest, "invalid_event", fmt.Sprintf(format, args...))
}

// invalidSlot returns a 400 error with code invalid_slot.
func invalidSlot(format string, args ...any) error {
	return newError(http.StatusBadRequest, "invalid_slot", fmt.Sprintf(format, args...))
}

// domainEvent converts the body to a normalized event.
func (b eventJSON) domainEvent() (booking.Event, error) {
	salesStart, err := optionalTime("sales_start", b.SalesStart)
	if err != nil {
		return booking.Event{}, err
	}
	salesEnd, err := optionalTime("sales_end", b.SalesEnd)
	if err != nil {
		return booking.Event{}, err
	}

	event := booking.Event{
		ID:                   b.ID,
		Title:                b.Title,
		TimeZone:             b.TimeZone,
		Room:                 b.Room,
		Currency:             b.Currency,
		TicketTypes:          b.TicketTypes,
		MaxTicketsPerOrder:   b.MaxTicketsPerOrder,
		MaxTicketsPerVisitor: b.MaxTicketsPerVisitor,
		MaxHoldsPerVisitor:   b.MaxHoldsPerVisitor,
		HoldLifetime:         time.Duration(b.HoldLifetimeSeconds * float64(time.Second)),
		MaxHoldExtensions:    b.MaxHoldExtensions,
		SalesStart:           salesStart,
		SalesEnd:             salesEnd,
	}
	return event.Normalize()
}

func optionalTime(field, value string) (time.Time, error) {
	if value == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, value)
	if err != nil {
		return time.Time{}, invalidEvent("%s %q is not an RFC 3339 time such as 2026-06-01T09:00:00+02:00; leave it out for no bound.", field, value)
	}
	return t, nil
}

// domainSlots converts the slot definitions and day plans to slots in loc.
func (b eventJSON) domainSlots(loc *time.Location) ([]booking.Slot, error) {
	if len(b.Slots) == 0 && len(b.Days) == 0 {
		return nil, invalidSlot("The event has no slots: give slots, days or both.")
	}

	var slots []booking.Slot
	for i, def := range b.Slots {
		slot, err := def.slot(loc)
		if err != nil {
			return nil, fmt.Errorf("slots[%d]: %w", i, err)
		}
		slots = append(slots, slot)
	}
	for i, day := range b.Days {
		if day.Capacity == nil {
			return nil, invalidSlot("days[%d]: capacity is missing.", i)
		}
		plan := booking.DayPlan{
			Date:     day.Date,
			Open:     day.Open,
			Close:    day.Close,
			Length:   time.Duration(day.LengthMinutes) * time.Minute,
			Capacity: *day.Capacity,
		}
		daySlots, err := plan.Slots(loc)
		if err != nil {
			return nil, fmt.Errorf("days[%d]: %w", i, err)
		}
		slots = append(slots, daySlots...)
	}
	return slots, nil
}

// slot converts one definition to a slot in loc.
func (d slotDefJSON) slot(loc *time.Location) (booking.Slot, error) {
	if d.Capacity == nil {
		return booking.Slot{}, invalidSlot("Slot %q has no capacity: give the number of places.", d.ID)
	}
	instants := d.StartsAt != "" || d.EndsAt != ""
	local := d.Date != "" || d.Start != "" || d.End != ""
	if instants == local {
		return booking.Slot{}, invalidSlot("Slot %q needs either starts_at and ends_at (RFC 3339) or date, start and end (wall-clock times in the event's zone), not both.", d.ID)
	}

	var start, end time.Time
	var err error
	if instants {
		start, end, err = parseInstants(d)
	} else {
		start, end, err = parseLocalTimes(d, loc)
	}
	if err != nil {
		return booking.Slot{}, err
	}

	id := d.ID
	if id == "" {
		id = start.In(loc).Format("20060102-1504")
	}
	return booking.Slot{ID: id, Start: start, End: end, Capacity: *d.Capacity}, nil
}

func parseInstants(d slotDefJSON) (time.Time, time.Time, error) {
	start, err := time.Parse(time.RFC3339, d.StartsAt)
	if err != nil {
		return time.Time{}, time.Time{}, invalidSlot("Slot %q: starts_at %q is not an RFC 3339 time such as 2026-06-01T09:00:00+02:00.", d.ID, d.StartsAt)
	}
	end, err := time.Parse(time.RFC3339, d.EndsAt)
	if err != nil {
		return time.Time{}, time.Time{}, invalidSlot("Slot %q: ends_at %q is not an RFC 3339 time such as 2026-06-01T09:30:00+02:00.", d.ID, d.EndsAt)
	}
	return start, end, nil
}

// parseLocalTimes resolves date, start and end in loc. An end of "24:00"
// is midnight at the end of the date.
func parseLocalTimes(d slotDefJSON, loc *time.Location) (time.Time, time.Time, error) {
	start, err := booking.LocalTime(loc, d.Date, d.Start)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("slot %q start: %w", d.ID, err)
	}
	end, err := booking.LocalTime(loc, d.Date, d.End)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("slot %q end: %w", d.ID, err)
	}
	return start, end, nil
}

// adminCreateEvent handles POST /api/v1/admin/events.
func (s *Server) adminCreateEvent(c *fiber.Ctx) error {
	var body eventJSON
	if err := decodeStrict(c.Body(), &body); err != nil {
		return err
	}
	event, err := body.domainEvent()
	if err != nil {
		return err
	}
	loc, err := event.Location()
	if err != nil {
		return err
	}
	slots, err := body.domainSlots(loc)
	if err != nil {
		return err
	}

	ctx := c.UserContext()
	if err := s.opts.Booking.Store.CreateEvent(ctx, event, slots); err != nil {
		return err
	}
	s.recordChange(ctx, event.Room, apiActor(c), "event", fmt.Sprintf("created event %s with %d slots", event.ID, len(slots)))

	return s.sendAdminEvent(c, http.StatusCreated, event.ID)
}

// adminGetEvent handles GET /api/v1/admin/events/{event}.
func (s *Server) adminGetEvent(c *fiber.Ctx) error {
	eventID, err := eventParam(c)
	if err != nil {
		return err
	}
	return s.sendAdminEvent(c, http.StatusOK, eventID)
}

// sendAdminEvent responds with the event and every slot's counts, each
// slot's read in one atomic step.
func (s *Server) sendAdminEvent(c *fiber.Ctx, status int, eventID string) error {
	ctx := c.UserContext()
	event, err := s.bookingEvent(ctx, eventID)
	if err != nil {
		return err
	}
	slots, err := s.opts.Booking.Store.Availability(ctx, eventID)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(status).JSON(adminEventBody(event, slots))
}

// adminListOrders handles GET /api/v1/admin/events/{event}/orders?state=.
func (s *Server) adminListOrders(c *fiber.Ctx) error {
	eventID, err := eventParam(c)
	if err != nil {
		return err
	}
	state := booking.OrderState(strings.Clone(c.Query("state")))
	if state != "" && !booking.ValidOrderState(state) {
		return newError(http.StatusBadRequest, "invalid_query", fmt.Sprintf("Query parameter state=%q is invalid: use confirmed, needs_refund or cancelled, or leave it out for every order.", state))
	}

	ctx := c.UserContext()
	event, err := s.bookingEvent(ctx, eventID)
	if err != nil {
		return err
	}
	orders, err := s.opts.Booking.Store.ListOrders(ctx, eventID, state)
	if err != nil {
		return err
	}

	out := make([]orderJSON, len(orders))
	for i, order := range orders {
		out[i] = orderBody(event, order, true)
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(out)
}

// capacityJSON is the body of PATCH /api/v1/admin/events/{event}/slots/{slot}.
type capacityJSON struct {
	Capacity *int `json:"capacity"`
}

// adminPatchSlot handles PATCH /api/v1/admin/events/{event}/slots/{slot}. A
// capacity below the places sold and held is rejected and changes nothing.
func (s *Server) adminPatchSlot(c *fiber.Ctx) error {
	eventID, err := eventParam(c)
	if err != nil {
		return err
	}
	slotID := c.Params("slot")
	if !booking.ValidSlotID(slotID) {
		return newError(http.StatusBadRequest, "invalid_slot_id", "The slot id in the path is invalid: use 1 to 64 lowercase letters, digits, '-' and '_'.")
	}
	slotID = strings.Clone(slotID)
	var body capacityJSON
	if err := decodeStrict(c.Body(), &body); err != nil {
		return err
	}
	if body.Capacity == nil {
		return newError(http.StatusBadRequest, "invalid_request", "The body needs a capacity, as in {\"capacity\": 40}.")
	}

	ctx := c.UserContext()
	event, err := s.bookingEvent(ctx, eventID)
	if err != nil {
		return err
	}
	if err := s.opts.Booking.Store.SetCapacity(ctx, eventID, slotID, *body.Capacity); err != nil {
		return err
	}
	s.recordChange(ctx, event.Room, apiActor(c), "capacity", fmt.Sprintf("event %s: slot %s capacity → %d", eventID, slotID, *body.Capacity))

	slots, err := s.opts.Booking.Store.Availability(ctx, eventID)
	if err != nil {
		return err
	}
	for _, slot := range slots {
		if slot.ID == slotID {
			c.Set(fiber.HeaderCacheControl, "no-store")
			return c.JSON(adminSlotBody(event, slot))
		}
	}
	return fmt.Errorf("slot %s of event %s: capacity changed but the slot is missing when read back", slotID, eventID)
}

// adminCancelOrder handles POST /api/v1/admin/orders/{order}/cancel. A
// confirmed order's places go back on sale. Cancelling an order that
// needs a refund records that it was refunded.
func (s *Server) adminCancelOrder(c *fiber.Ctx) error {
	orderID, err := orderParam(c, "")
	if err != nil {
		return err
	}
	eventID, _ := booking.ParseOrderID(orderID)

	ctx := c.UserContext()
	event, err := s.bookingEvent(ctx, eventID)
	if err != nil {
		return err
	}
	order, err := s.opts.Booking.Store.CancelOrder(ctx, orderID)
	if err != nil {
		return err
	}
	s.recordChange(ctx, event.Room, apiActor(c), "cancel", fmt.Sprintf("event %s: cancelled order %s", eventID, orderID))

	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(orderBody(event, order, true))
}
