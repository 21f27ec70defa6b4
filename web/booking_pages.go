package web

import (
	"crypto/rand"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"foyer/booking"
	"foyer/waitroom"
	"foyer/web/views"
)

var errNotYourOrder = newError(http.StatusForbidden, "not_your_order", "This order belongs to another visitor. Open the order from the browser that booked it.")

func slotsURL(event string) string            { return "/e/" + event + "/slots" }
func checkoutURL(event, hold string) string   { return "/e/" + event + "/checkout/" + hold }
func orderPageURL(event, order string) string { return "/e/" + event + "/orders/" + order }

// bookingEntry handles GET /e/{event} when booking is on. It exchanges the
// admission cookie for a booking session, once, and sends the visitor to
// the slots page. A visitor who already has a session goes straight there,
// so a reload never meets the spent token.
func (s *Server) bookingEntry(c *fiber.Ctx, eventID string) error {
	ctx := c.UserContext()
	event, err := s.bookingEvent(ctx, eventID)
	if err != nil {
		return s.pageError(c, "", err)
	}

	_, err = s.readSession(c, eventID)
	switch {
	case err == nil:
		return c.Redirect(slotsURL(eventID), http.StatusSeeOther)
	case !isNoSession(err):
		return err
	}
	if isPrefetch(c) {
		// Exchanging spends the token, which only the visitor's own
		// navigation may do.
		return c.SendStatus(http.StatusNoContent)
	}

	token := c.Cookies(admissionCookie(event.Room))
	if token == "" {
		return render(c, http.StatusForbidden, views.MessagePage(waitFirst(event.Room)))
	}
	claims, err := waitroom.VerifyAdmissionToken(s.edge.Keys().Signing, token, event.Room, time.Now())
	if err != nil {
		s.log.Info("admission token rejected", "room", event.Room, "event", eventID, "err", err)
		return render(c, http.StatusForbidden, views.MessagePage(tokenProblem(err, event.Room)))
	}

	session, err := s.exchangeAdmission(ctx, event, claims)
	if errors.Is(err, booking.ErrTokenUsed) {
		return render(c, http.StatusConflict, views.MessagePage(views.Message{
			Title:    "This admission was already used",
			Text:     "Your admission already started a booking session, in this browser or another one. Continue booking there, or join the waiting room again.",
			LinkURL:  "/r/" + event.Room,
			LinkText: "Back to the waiting room",
		}))
	}
	if err != nil {
		return s.pageError(c, "", err)
	}

	s.setSession(c, session)
	return c.Redirect(slotsURL(eventID), http.StatusSeeOther)
}

func waitFirst(room string) views.Message {
	return views.Message{
		Title:    "Please wait in line first",
		Text:     "Booking opens to visitors in the order they arrived. Join the waiting room and you will be sent here when it is your turn.",
		LinkURL:  "/r/" + room,
		LinkText: "Join the waiting room",
	}
}

// isNoSession reports whether err means that the request has no usable
// booking session.
func isNoSession(err error) bool {
	return errors.Is(err, errNoSession) || errors.Is(err, booking.ErrSessionNotFound)
}

// bookingPage is the event and booking session that every booking page
// after the entry needs.
type bookingPage struct {
	event   eventInfo
	session booking.Session
}

// loadPage reads the event and the visitor's booking session. When only
// the session is missing, the returned page still has its event.
func (s *Server) loadPage(c *fiber.Ctx) (bookingPage, error) {
	eventID, err := eventParam(c)
	if err != nil {
		return bookingPage{}, err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")

	event, err := s.bookingEvent(c.UserContext(), eventID)
	if err != nil {
		return bookingPage{}, err
	}
	session, err := s.readSession(c, eventID)
	if err != nil {
		return bookingPage{event: event}, err
	}
	return bookingPage{event: event, session: session}, nil
}

// pageProblem responds to a booking page request whose event or session
// could not be loaded. A GET without a usable session goes to the entry page, which
// starts one from the admission cookie. A form sent without one gets a page
// saying that the session has ended.
func (s *Server) pageProblem(c *fiber.Ctx, p bookingPage, err error) error {
	if !isNoSession(err) || p.event.ID == "" {
		return s.pageError(c, "", err)
	}
	if c.Method() != fiber.MethodPost {
		return c.Redirect("/e/"+p.event.ID, http.StatusSeeOther)
	}
	return render(c, http.StatusUnauthorized, views.MessagePage(views.Message{
		Title:    "Your booking session has ended",
		Text:     "Nothing was booked. Your session is kept in a cookie and lasts a limited time; start booking again from the waiting room.",
		LinkURL:  "/e/" + p.event.ID,
		LinkText: "Start booking again",
	}))
}

// pageError shows an error that the visitor can act on as a page, with a
// link back to the event's time slots unless event is empty. Other errors
// go to the server's error handler, which logs them.
func (s *Server) pageError(c *fiber.Ctx, event string, err error) error {
	api, ok := lookupError(err)
	if !ok || api.Status >= http.StatusInternalServerError {
		return err
	}

	page := views.Message{Title: pageTitle(api), Text: api.Message}
	if event != "" {
		page.LinkURL, page.LinkText = slotsURL(event), "Back to the time slots"
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return render(c, api.Status, views.MessagePage(page))
}

// slotsForm is the slot and ticket counts that a visitor chose on the slots
// page, kept when the page is shown again with an error.
type slotsForm struct {
	slot    string
	tickets map[string]int
}

// slotsPage handles GET /e/{event}/slots.
func (s *Server) slotsPage(c *fiber.Ctx) error {
	p, err := s.loadPage(c)
	if err != nil {
		return s.pageProblem(c, p, err)
	}

	// A first visit offers one ticket of the default type.
	form := slotsForm{tickets: map[string]int{p.event.TicketTypes[0].ID: 1}}
	return s.renderSlots(c, p, http.StatusOK, form, "")
}

// holdForm handles POST /e/{event}/holds, the slots page's form: it holds
// the chosen tickets and sends the visitor to the checkout page.
func (s *Server) holdForm(c *fiber.Ctx) error {
	p, err := s.loadPage(c)
	if err != nil {
		return s.pageProblem(c, p, err)
	}
	if err := s.checkCSRF(c, p.session.ID); err != nil {
		return s.pageError(c, p.event.ID, err)
	}

	form, err := parseSlotsForm(c, p.event)
	if err != nil {
		api, _ := lookupError(err)
		return s.renderSlots(c, p, api.Status, form, api.Message)
	}
	hold, err := s.opts.Booking.Hold(c.UserContext(), booking.HoldRequest{
		Event:   p.event.ID,
		Slot:    form.slot,
		Visitor: p.session.Visitor,
		Tickets: form.tickets,
	})
	if err != nil {
		api, ok := lookupError(err)
		if !ok || api.Status >= http.StatusInternalServerError {
			return err
		}
		return s.renderSlots(c, p, api.Status, form, api.Message)
	}

	s.setCookie(c, holdCookie(p.event.ID), hold.ID, hold.ExpiresAt)
	return c.Redirect(checkoutURL(p.event.ID, hold.ID), http.StatusSeeOther)
}

// parseSlotsForm reads the chosen slot and a count per ticket type. An
// empty count means zero, and the store rejects negative ones.
func parseSlotsForm(c *fiber.Ctx, event eventInfo) (slotsForm, error) {
	form := slotsForm{slot: strings.Clone(c.FormValue("slot")), tickets: make(map[string]int)}
	for _, tt := range event.TicketTypes {
		raw := strings.TrimSpace(c.FormValue("qty_" + tt.ID))
		if raw == "" {
			continue
		}
		n, err := strconv.Atoi(raw)
		if err != nil || n > booking.MaxQuantity || n < -booking.MaxQuantity {
			return form, newError(http.StatusBadRequest, "invalid_quantity", fmt.Sprintf("The number of %s tickets, %q, is not a whole number. Enter 0 or more.", tt.Name, raw))
		}
		form.tickets[tt.ID] = n
	}

	if form.slot == "" {
		return form, newError(http.StatusBadRequest, "slot_missing", "Choose a time slot, then hold your tickets.")
	}
	return form, nil
}

// renderSlots renders the slots page with live availability. problem, when
// not empty, explains why the last form was rejected.
func (s *Server) renderSlots(c *fiber.Ctx, p bookingPage, status int, form slotsForm, problem string) error {
	slots, err := s.opts.Booking.Store.Availability(c.UserContext(), p.event.ID)
	if err != nil {
		return err
	}

	now := time.Now()
	view := views.Slots{
		Title:       p.event.Title,
		TimeZone:    p.event.TimeZone,
		FormAction:  "/e/" + p.event.ID + "/holds",
		CSRF:        s.csrfToken(p.session.ID),
		Error:       problem,
		HoldURL:     s.openHoldURL(c, p),
		OnSale:      p.event.OnSale(now),
		MaxPerOrder: p.event.MaxTicketsPerOrder,
	}
	for _, slot := range slots {
		view.Slots = append(view.Slots, views.SlotChoice{
			ID:        slot.ID,
			Label:     p.event.label(slot.Slot),
			StartsAt:  p.event.localTime(slot.Start),
			Available: slot.Available(),
			SoldOut:   slot.Available() == 0,
			Started:   !now.Before(slot.Start),
			Selected:  slot.ID == form.slot,
		})
	}
	for _, tt := range p.event.TicketTypes {
		view.Tickets = append(view.Tickets, views.TicketChoice{
			ID:       tt.ID,
			Name:     tt.Name,
			Price:    formatMoney(tt.Price, p.event.Currency),
			Quantity: form.tickets[tt.ID],
		})
	}
	return render(c, status, views.SlotsPage(view))
}

// openHoldURL returns the checkout URL of the visitor's latest hold if it
// is still active, and "" otherwise. It reads the hold without the
// service, so that showing the slots page never releases the visitor's
// place in the waiting room.
func (s *Server) openHoldURL(c *fiber.Ctx, p bookingPage) string {
	holdID := c.Cookies(holdCookie(p.event.ID))
	if holdID == "" {
		return ""
	}
	if event, err := booking.ParseHoldID(holdID); err != nil || event != p.event.ID {
		return ""
	}

	hold, err := s.opts.Booking.Store.GetHold(c.UserContext(), strings.Clone(holdID))
	if err != nil {
		if !errors.Is(err, booking.ErrHoldNotFound) {
			s.log.Warn("read the visitor's latest hold for the slots page failed", "event", p.event.ID, "hold", holdID, "err", err)
		}
		return ""
	}
	if hold.Visitor != p.session.Visitor || hold.State != booking.HoldActive {
		return ""
	}
	return checkoutURL(p.event.ID, hold.ID)
}

// holdParam returns a copy of the :hold parameter. A hold id of another
// event returns booking.ErrHoldNotFound.
func holdParam(c *fiber.Ctx, event string) (string, error) {
	id := c.Params("hold")
	holdEvent, err := booking.ParseHoldID(id)
	if err != nil {
		return "", err
	}
	if event != "" && holdEvent != event {
		return "", fmt.Errorf("hold of event %s in a path of event %s: %w", holdEvent, event, booking.ErrHoldNotFound)
	}
	return strings.Clone(id), nil
}

// orderParam returns a copy of the :order parameter. An order id of
// another event returns booking.ErrOrderNotFound.
func orderParam(c *fiber.Ctx, event string) (string, error) {
	id := c.Params("order")
	orderEvent, err := booking.ParseOrderID(id)
	if err != nil {
		return "", err
	}
	if event != "" && orderEvent != event {
		return "", fmt.Errorf("order of event %s in a path of event %s: %w", orderEvent, event, booking.ErrOrderNotFound)
	}
	return strings.Clone(id), nil
}

// checkoutPage handles GET /e/{event}/checkout/{hold}.
func (s *Server) checkoutPage(c *fiber.Ctx) error {
	p, err := s.loadPage(c)
	if err != nil {
		return s.pageProblem(c, p, err)
	}
	holdID, err := holdParam(c, p.event.ID)
	if err != nil {
		return s.pageError(c, p.event.ID, err)
	}

	hold, err := s.opts.Booking.CheckHold(c.UserContext(), holdID, p.session.Visitor)
	if err != nil {
		return s.pageError(c, p.event.ID, err)
	}
	return s.showHold(c, p, hold, http.StatusOK, "")
}

// showHold shows the page for the hold's state: the checkout of an active
// hold, the order of a confirmed one, and the expired page otherwise.
// status and problem apply to the checkout page.
func (s *Server) showHold(c *fiber.Ctx, p bookingPage, hold booking.Hold, status int, problem string) error {
	switch hold.State {
	case booking.HoldActive:
		return s.renderCheckout(c, p, hold, status, problem)
	case booking.HoldConfirmed:
		return c.Redirect(orderPageURL(p.event.ID, hold.OrderID), http.StatusSeeOther)
	}

	s.clearCookie(c, holdCookie(p.event.ID))
	return render(c, http.StatusGone, views.MessagePage(views.Message{
		Title:    "Your hold expired",
		Text:     "The time to pay for these tickets ran out, so their places went back on sale. Nothing was charged. Choose a time slot again.",
		LinkURL:  slotsURL(p.event.ID),
		LinkText: "Choose a time slot again",
	}))
}

func (s *Server) renderCheckout(c *fiber.Ctx, p bookingPage, hold booking.Hold, status int, problem string) error {
	secondsLeft := int(math.Ceil(time.Until(hold.ExpiresAt).Seconds()))

	view := views.Checkout{
		Title:          p.event.Title,
		HoldID:         hold.ID,
		SlotLabel:      p.event.slotLabel(hold.Slot),
		SlotStartsAt:   p.event.slotStart(hold.Slot),
		Lines:          ticketLines(p.event, hold.Tickets),
		Total:          formatMoney(p.event.Price(hold.Tickets), p.event.Currency),
		ExpiresAt:      p.event.localTime(hold.ExpiresAt),
		ExpiresClock:   hold.ExpiresAt.In(p.event.loc).Format("15:04:05 MST"),
		SecondsLeft:    max(0, secondsLeft),
		PayAction:      checkoutURL(p.event.ID, hold.ID) + "/pay",
		ReleaseAction:  checkoutURL(p.event.ID, hold.ID) + "/release",
		ExtendAction:   checkoutURL(p.event.ID, hold.ID) + "/extend",
		ExtensionsLeft: max(0, p.event.MaxHoldExtensions-hold.Extensions),
		ExtendMinutes:  int(math.Ceil(p.event.HoldLifetime.Minutes())),
		CSRF:           s.csrfToken(p.session.ID),
		IdempotencyKey: strings.ToLower(rand.Text()),
		Error:          problem,
	}
	return render(c, status, views.CheckoutPage(view))
}

// ticketLines lists the tickets in the order of the event's ticket types.
func ticketLines(event eventInfo, tickets map[string]int) []views.TicketLine {
	var lines []views.TicketLine
	for _, tt := range event.TicketTypes {
		count := tickets[tt.ID]
		if count <= 0 {
			continue
		}
		lines = append(lines, views.TicketLine{
			Name:      tt.Name,
			Count:     count,
			UnitPrice: formatMoney(tt.Price, event.Currency),
			Total:     formatMoney(tt.Price*int64(count), event.Currency),
		})
	}
	return lines
}

// payForm handles POST /e/{event}/checkout/{hold}/pay. A declined card
// shows the checkout page again with the hold as it was.
func (s *Server) payForm(c *fiber.Ctx) error {
	p, err := s.loadPage(c)
	if err != nil {
		return s.pageProblem(c, p, err)
	}
	if err := s.checkCSRF(c, p.session.ID); err != nil {
		return s.pageError(c, p.event.ID, err)
	}
	holdID, err := holdParam(c, p.event.ID)
	if err != nil {
		return s.pageError(c, p.event.ID, err)
	}
	key, err := paymentKey(holdID, strings.Clone(c.FormValue("idempotency_key")))
	if err != nil {
		return s.pageError(c, p.event.ID, err)
	}

	ctx := c.UserContext()
	order, err := s.opts.Booking.Pay(ctx, booking.PayRequest{
		HoldID:         holdID,
		Visitor:        p.session.Visitor,
		Card:           c.FormValue("card"),
		IdempotencyKey: key,
	})
	switch {
	case err == nil:
		s.clearCookie(c, holdCookie(p.event.ID))
		return c.Redirect(orderPageURL(p.event.ID, order.ID), http.StatusSeeOther)
	case errors.Is(err, booking.ErrPaymentDeclined), errors.Is(err, booking.ErrInvalidCard),
		errors.Is(err, booking.ErrHoldExpired), errors.Is(err, booking.ErrAlreadyConfirmed):
		// Show the hold as it is now: still active after a declined card,
		// or expired or confirmed meanwhile.
		hold, holdErr := s.opts.Booking.CheckHold(ctx, holdID, p.session.Visitor)
		if holdErr != nil {
			return s.pageError(c, p.event.ID, holdErr)
		}
		api, _ := lookupError(err)
		return s.showHold(c, p, hold, api.Status, api.Message)
	}
	return s.pageError(c, p.event.ID, err)
}

// extendForm handles POST /e/{event}/checkout/{hold}/extend: the hold
// lasts a full hold lifetime from now, at most MaxHoldExtensions times and
// only while its places are still the visitor's.
func (s *Server) extendForm(c *fiber.Ctx) error {
	p, err := s.loadPage(c)
	if err != nil {
		return s.pageProblem(c, p, err)
	}
	if err := s.checkCSRF(c, p.session.ID); err != nil {
		return s.pageError(c, p.event.ID, err)
	}
	holdID, err := holdParam(c, p.event.ID)
	if err != nil {
		return s.pageError(c, p.event.ID, err)
	}

	ctx := c.UserContext()
	_, err = s.opts.Booking.Store.ExtendHold(ctx, holdID, p.session.Visitor)
	switch {
	case err == nil:
		return c.Redirect(checkoutURL(p.event.ID, holdID), http.StatusSeeOther)
	case errors.Is(err, booking.ErrLimitExceeded), errors.Is(err, booking.ErrHoldExpired), errors.Is(err, booking.ErrAlreadyConfirmed):
		hold, holdErr := s.opts.Booking.CheckHold(ctx, holdID, p.session.Visitor)
		if holdErr != nil {
			return s.pageError(c, p.event.ID, holdErr)
		}
		api := extendProblem(err)
		return s.showHold(c, p, hold, api.Status, api.Message)
	}
	return s.pageError(c, p.event.ID, err)
}

// extendProblem explains a rejected extension. The generic limit_exceeded
// message speaks of ticket limits, which would mislead here.
func extendProblem(err error) *apiError {
	if errors.Is(err, booking.ErrLimitExceeded) {
		return newError(http.StatusUnprocessableEntity, "limit_exceeded", "This hold has been extended as often as the event allows. Pay now, or give up the tickets.")
	}
	api, _ := lookupError(err)
	return api
}

// backToCheckout redirects a GET of a checkout form's path, which a reload
// after a declined card sends, with a 303 to the checkout page. That page
// shows the hold as it is now.
func (s *Server) backToCheckout(c *fiber.Ctx) error {
	event, err := eventParam(c)
	if err != nil {
		return err
	}
	holdID, err := holdParam(c, event)
	if err != nil {
		return err
	}
	return c.Redirect(checkoutURL(event, holdID), http.StatusSeeOther)
}

// releaseForm handles POST /e/{event}/checkout/{hold}/release: the visitor
// gives the hold up and goes back to the slots page.
func (s *Server) releaseForm(c *fiber.Ctx) error {
	p, err := s.loadPage(c)
	if err != nil {
		return s.pageProblem(c, p, err)
	}
	if err := s.checkCSRF(c, p.session.ID); err != nil {
		return s.pageError(c, p.event.ID, err)
	}
	holdID, err := holdParam(c, p.event.ID)
	if err != nil {
		return s.pageError(c, p.event.ID, err)
	}

	if err := s.opts.Booking.Store.ReleaseHold(c.UserContext(), holdID, p.session.Visitor); err != nil {
		return s.pageError(c, p.event.ID, err)
	}
	s.clearCookie(c, holdCookie(p.event.ID))
	return c.Redirect(slotsURL(p.event.ID), http.StatusSeeOther)
}

// orderPage handles GET /e/{event}/orders/{order}, the confirmation page.
func (s *Server) orderPage(c *fiber.Ctx) error {
	p, err := s.loadPage(c)
	if err != nil {
		return s.pageProblem(c, p, err)
	}
	orderID, err := orderParam(c, p.event.ID)
	if err != nil {
		return s.pageError(c, p.event.ID, err)
	}

	order, err := s.opts.Booking.Store.GetOrder(c.UserContext(), orderID)
	if err != nil {
		return s.pageError(c, p.event.ID, err)
	}
	if order.Visitor != p.session.Visitor {
		return s.pageError(c, p.event.ID, errNotYourOrder)
	}

	return render(c, http.StatusOK, views.OrderPage(views.Order{
		Title:        p.event.Title,
		Reference:    order.ID,
		State:        string(order.State),
		SlotLabel:    p.event.slotLabel(order.Slot),
		SlotStartsAt: p.event.slotStart(order.Slot),
		Lines:        ticketLines(p.event, order.Tickets),
		Total:        formatMoney(p.event.Price(order.Tickets), p.event.Currency),
		SlotsURL:     slotsURL(p.event.ID),
	}))
}
