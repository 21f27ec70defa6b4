package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"foyer/booking"
	"foyer/waitroom"
	"foyer/web/views"
)

// consoleEventRoutes adds the console's event pages. The path of the new
// event form comes before the event pages, which would otherwise match it.
func (s *Server) consoleEventRoutes(console fiber.Router) {
	console.Get("/events/new", s.newEventPage)
	console.Post("/events", s.createEventForm)
	console.Get("/events/:event", s.eventAdminPage)
	console.Post("/events/:event", s.updateEventForm)
	console.Post("/events/:event/capacities", s.capacitiesForm)
	console.Post("/events/:event/slots", s.addSlotsForm)
}

func eventAdminURL(event string) string { return "/admin/events/" + event }

// formProblem returns the status and the text that explain why the stores
// or the form rejected a change, and false for an error that is not the
// form's fault, such as a store that cannot be reached.
func formProblem(err error) (int, string, bool) {
	api, ok := lookupError(err)
	if !ok || api.Status >= 500 {
		return 0, "", false
	}
	if api.Detail != "" {
		return api.Status, "Nothing was changed: " + api.Detail + ".", true
	}
	return api.Status, "Nothing was changed. " + api.Message, true
}

// newEventPage handles GET /admin/events/new.
func (s *Server) newEventPage(c *fiber.Ctx) error {
	form := views.EventForm{
		New:         true,
		Currency:    booking.DefaultCurrency,
		TimeZone:    "Europe/Amsterdam",
		TicketTypes: []views.TicketTypeRow{{ID: "adult", Name: "Adult"}},
		Days:        blankDays(),
		Room:        c.Query("room"),
	}
	form.TicketTypes = append(form.TicketTypes, make([]views.TicketTypeRow, blankTicketTypeRows)...)
	return s.renderNewEvent(c, http.StatusOK, form, "")
}

func (s *Server) renderNewEvent(c *fiber.Ctx, status int, form views.EventForm, problem string) error {
	rooms, err := s.edge.Store().Rooms(c.UserContext())
	if err != nil {
		return err
	}
	page := views.NewEvent{Console: s.consolePage(c, "Create an event"), Form: form, Error: problem}
	page.Form.Action = "/admin/events"
	page.Form.CSRF = page.Console.CSRF
	page.Form.Rooms = rooms
	return render(c, status, views.NewEventPage(page))
}

// createEventForm handles POST /admin/events.
func (s *Server) createEventForm(c *fiber.Ctx) error {
	form := readEventForm(c, true)
	event, slots, err := buildEvent(form)
	if err == nil {
		err = s.opts.Booking.Store.CreateEvent(c.UserContext(), event, slots)
	}
	if err != nil {
		status, problem, ok := formProblem(err)
		if !ok {
			return err
		}
		return s.renderNewEvent(c, status, form, problem)
	}

	s.recordChange(c.UserContext(), event.Room, currentAdmin(c).User, "event",
		fmt.Sprintf("created event %s with %d slots", event.ID, len(slots)))
	return c.Redirect(eventAdminURL(event.ID)+"?done=event-created", http.StatusSeeOther)
}

// buildEvent turns the new event form into an event and its slots, as the
// admin API does with its JSON body.
func buildEvent(form views.EventForm) (booking.Event, []booking.Slot, error) {
	body, err := eventBody(form)
	if err != nil {
		return booking.Event{}, nil, err
	}
	event, err := body.domainEvent()
	if err != nil {
		return booking.Event{}, nil, err
	}
	loc, err := event.Location()
	if err != nil {
		return booking.Event{}, nil, err
	}
	slots, err := body.domainSlots(loc)
	return event, slots, err
}

// eventPageState is the notice, the error and the values typed into a
// rejected form that an event's page shows. Nil and empty fields show the
// stored values.
type eventPageState struct {
	notice     string
	problem    string
	details    *views.EventForm
	capacities map[string]string
	newSlots   []views.DayRow
}

// eventAdminPage handles GET /admin/events/{event}.
func (s *Server) eventAdminPage(c *fiber.Ctx) error {
	eventID, err := eventParam(c)
	if err != nil {
		return err
	}
	return s.renderEventAdmin(c, http.StatusOK, eventID, eventPageState{notice: consoleNotices[c.Query("done")]})
}

// renderEventAdmin renders an event's page from the store, read fresh.
func (s *Server) renderEventAdmin(c *fiber.Ctx, status int, eventID string, state eventPageState) error {
	ctx := c.UserContext()
	event, err := s.opts.Booking.Store.Event(ctx, eventID)
	if err != nil {
		return err
	}
	loc, err := event.Location()
	if err != nil {
		return err
	}
	slots, err := s.opts.Booking.Store.Availability(ctx, eventID)
	if err != nil {
		return err
	}

	info := eventInfo{Event: event, loc: loc}
	page := views.EventAdmin{
		Console:        s.consolePage(c, event.Title),
		Event:          event.ID,
		Title:          event.Title,
		Room:           event.Room,
		TimeZone:       event.TimeZone,
		Notice:         state.notice,
		Error:          state.problem,
		CapacityAction: eventAdminURL(eventID) + "/capacities",
		SlotsAction:    eventAdminURL(eventID) + "/slots",
		NewSlots:       state.newSlots,
	}
	now := time.Now()
	for _, slot := range slots {
		value, typed := state.capacities[slot.ID]
		if !typed {
			value = strconv.Itoa(slot.Capacity)
		}
		page.Slots = append(page.Slots, views.CapacityRow{
			ID:        slot.ID,
			Label:     info.label(slot.Slot),
			Capacity:  slot.Capacity,
			Held:      slot.Held,
			Sold:      slot.Sold,
			Remaining: slot.Available(),
			Ended:     !slot.End.After(now),
			Value:     value,
		})
	}
	if page.NewSlots == nil {
		page.NewSlots = blankDays()
	}
	page.RoomProblem = s.eventRoomProblem(c, event)
	page.Details = eventFormOf(event, loc)
	if state.details != nil {
		page.Details = *state.details
	}
	page.Details.Action = eventAdminURL(eventID)
	page.Details.CSRF = page.Console.CSRF
	return render(c, status, views.EventAdminPage(page))
}

// eventRoomProblem explains why admitted visitors do not reach the event,
// because its room does not exist or sends them to another event, or
// returns "".
func (s *Server) eventRoomProblem(c *fiber.Ctx, event booking.Event) string {
	view, err := s.edge.Room(c.UserContext(), event.Room)
	switch {
	case errors.Is(err, waitroom.ErrRoomNotFound):
		return fmt.Sprintf("Room %s does not exist, so nobody is admitted to this event. Create the room with the admin API or the configuration file.", event.Room)
	case err != nil:
		return "" // the dashboard of the room shows store problems
	}
	guarded := view.Snapshot.Settings.Event
	if guarded == event.ID {
		return ""
	}
	if guarded == "" {
		guarded = "none"
	}
	return fmt.Sprintf("Room %s sends the visitors it admits to event %s, so nobody reaches this event yet. Set the room's event with PATCH /api/v1/admin/rooms/%s and the body {\"event\": %q}.",
		event.Room, guarded, event.Room, event.ID)
}

// updateEventForm handles POST /admin/events/{event}: details, limits and
// ticket types.
func (s *Server) updateEventForm(c *fiber.Ctx) error {
	eventID, err := eventParam(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	before, err := s.opts.Booking.Store.Event(ctx, eventID)
	if err != nil {
		return err
	}

	form := readEventForm(c, false)
	form.ID, form.Room = eventID, before.Room
	after, err := updatedEvent(form)
	if err == nil {
		err = s.opts.Booking.Store.UpdateEvent(ctx, after)
	}
	if err != nil {
		status, problem, ok := formProblem(err)
		if !ok {
			return err
		}
		return s.renderEventAdmin(c, status, eventID, eventPageState{problem: problem, details: &form})
	}

	s.events.forget(eventID)
	if detail := eventDiff(before, after); detail != "" {
		s.recordChange(ctx, before.Room, currentAdmin(c).User, "event", "event "+eventID+": "+detail)
	}
	return c.Redirect(eventAdminURL(eventID)+"?done=event-saved", http.StatusSeeOther)
}

// updatedEvent turns the details form into the event's new definition.
func updatedEvent(form views.EventForm) (booking.Event, error) {
	body, err := eventBody(form)
	if err != nil {
		return booking.Event{}, err
	}
	return body.domainEvent()
}

// addSlotsForm handles POST /admin/events/{event}/slots.
func (s *Server) addSlotsForm(c *fiber.Ctx) error {
	eventID, err := eventParam(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	event, err := s.opts.Booking.Store.Event(ctx, eventID)
	if err != nil {
		return err
	}

	rows := readDayRows(c)
	slots, err := newSlots(event, rows)
	if err == nil {
		err = s.opts.Booking.Store.AddSlots(ctx, eventID, slots)
	}
	if err != nil {
		status, problem, ok := formProblem(err)
		if !ok {
			return err
		}
		return s.renderEventAdmin(c, status, eventID, eventPageState{problem: problem, newSlots: rows})
	}

	s.events.forget(eventID)
	s.recordChange(ctx, event.Room, currentAdmin(c).User, "slots",
		fmt.Sprintf("event %s: added %d slots, %s", eventID, len(slots), slotSpan(slots, event.TimeZone)))
	return c.Redirect(eventAdminURL(eventID)+"?done=slots-added", http.StatusSeeOther)
}

// newSlots turns the day rows into slots in the event's time zone.
func newSlots(event booking.Event, rows []views.DayRow) ([]booking.Slot, error) {
	days, err := dayPlans(rows)
	if err != nil {
		return nil, err
	}
	if len(days) == 0 {
		return nil, invalidForm("Fill in at least one day: its date, opening and closing times, minutes per slot and capacity.")
	}
	loc, err := event.Location()
	if err != nil {
		return nil, err
	}
	return eventJSON{Days: days}.domainSlots(loc)
}

// slotSpan describes the times that slots cover, as in "2026-06-02 09:00
// to 2026-06-02 17:00 Europe/Amsterdam".
func slotSpan(slots []booking.Slot, zone string) string {
	loc, err := time.LoadLocation(zone)
	if err != nil || len(slots) == 0 {
		return "no times"
	}
	first, last := slots[0].Start, slots[0].End
	for _, slot := range slots[1:] {
		first, last = minTime(first, slot.Start), maxTime(last, slot.End)
	}
	return first.In(loc).Format("2006-01-02 15:04") + " to " + last.In(loc).Format("2006-01-02 15:04") + " " + zone
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// capacitiesForm handles POST /admin/events/{event}/capacities. Each slot
// whose capacity was changed is set on its own, so one capacity that is
// too low does not hold back the others. The page then lists every
// rejected slot with the places it has sold and held.
func (s *Server) capacitiesForm(c *fiber.Ctx) error {
	eventID, err := eventParam(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	event, err := s.bookingEvent(ctx, eventID)
	if err != nil {
		return err
	}
	slots, err := s.opts.Booking.Store.Availability(ctx, eventID)
	if err != nil {
		return err
	}

	actor := currentAdmin(c).User
	typed := make(map[string]string)
	var changed, problems []string
	status := http.StatusOK
	for _, slot := range slots {
		field := "capacity-" + slot.ID
		if !formHas(c, field) {
			continue
		}
		value := formValue(c, field)
		typed[slot.ID] = value
		capacity, err := strconv.Atoi(value)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: capacity %q is not a whole number.", event.label(slot.Slot), value))
			status = max(status, http.StatusBadRequest)
			continue
		}
		if capacity == slot.Capacity {
			continue
		}

		if err := s.opts.Booking.Store.SetCapacity(ctx, eventID, slot.ID, capacity); err != nil {
			code, text, ok := s.capacityProblem(ctx, event, slot, capacity, err)
			if !ok {
				return err
			}
			problems = append(problems, text)
			status = max(status, code)
			continue
		}
		delete(typed, slot.ID)
		changed = append(changed, fmt.Sprintf("slot %s capacity %d → %d", slot.ID, slot.Capacity, capacity))
	}

	if len(changed) > 0 {
		s.recordChange(ctx, event.Room, actor, "capacity", "event "+eventID+": "+strings.Join(changed, ", "))
	}
	if len(problems) == 0 {
		return c.Redirect(eventAdminURL(eventID)+"?done=capacities", http.StatusSeeOther)
	}

	state := eventPageState{capacities: typed, problem: strings.Join(problems, " ")}
	if len(changed) > 0 {
		state.notice = fmt.Sprintf("Saved %d of the changed capacities.", len(changed))
	}
	return s.renderEventAdmin(c, status, eventID, state)
}

// capacityProblem explains why a slot's capacity was rejected. For a
// capacity below the places sold and held, it reads the slot's counts
// again, so the message gives the lowest capacity allowed now.
func (s *Server) capacityProblem(ctx context.Context, event eventInfo, slot booking.SlotAvailability, capacity int, err error) (int, string, bool) {
	label := event.label(slot.Slot)
	if errors.Is(err, booking.ErrCapacityTooLow) {
		stats, serr := s.opts.Booking.Store.SlotStats(ctx, event.ID, slot.ID)
		if serr != nil {
			stats = slot.Stats()
		}
		return http.StatusConflict, fmt.Sprintf("%s: capacity %d is below the %d places already sold (%d) or held (%d), so it was not changed. Set at least %d, or wait for holds to expire.",
			label, capacity, stats.Sold+stats.Held, stats.Sold, stats.Held, stats.Sold+stats.Held), true
	}
	status, text, ok := formProblem(err)
	if !ok {
		return 0, "", false
	}
	return status, label + ": " + strings.TrimPrefix(text, "Nothing was changed: "), true
}
