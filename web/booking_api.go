package web

import (
	"bytes"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"foyer/booking"
	"foyer/waitroom"
)

// slotJSON is a slot with its free places, times in the event's zone.
type slotJSON struct {
	ID        string `json:"id"`
	StartsAt  string `json:"starts_at"`
	EndsAt    string `json:"ends_at"`
	Capacity  int    `json:"capacity"`
	Available int    `json:"available"`
}

// sessionJSON is a booking session in the visitor API. The id is a
// credential, which the client sends back as the cookie or as a bearer
// token.
type sessionJSON struct {
	ID        string `json:"id"`
	Visitor   string `json:"visitor"`
	ExpiresAt string `json:"expires_at"`
}

func sessionBody(event eventInfo, session booking.Session) *sessionJSON {
	return &sessionJSON{ID: session.ID, Visitor: session.Visitor, ExpiresAt: event.localTime(session.ExpiresAt)}
}

// holdJSON is a hold in the visitor API.
type holdJSON struct {
	HoldID   string         `json:"hold_id"`
	Event    string         `json:"event"`
	Slot     string         `json:"slot"`
	StartsAt string         `json:"starts_at,omitempty"`
	Tickets  map[string]int `json:"tickets"`
	Quantity int            `json:"quantity"`
	// Amount is the price in minor units of Currency, such as cents.
	Amount    int64  `json:"amount"`
	Currency  string `json:"currency"`
	State     string `json:"state"`
	ExpiresAt string `json:"expires_at"`
	OrderID   string `json:"order_id,omitempty"`
	PayURL    string `json:"pay_url,omitempty"`
	// ExtensionsLeft is how often the hold may still be extended.
	ExtensionsLeft int `json:"extensions_left"`
	// Session is set when this request exchanged an admission token.
	Session *sessionJSON `json:"session,omitempty"`
}

func holdBody(event eventInfo, hold booking.Hold) holdJSON {
	body := holdJSON{
		HoldID:    hold.ID,
		Event:     hold.Event,
		Slot:      hold.Slot,
		StartsAt:  event.slotStart(hold.Slot),
		Tickets:   hold.Tickets,
		Quantity:  hold.Quantity,
		Amount:    event.Price(hold.Tickets),
		Currency:  event.Currency,
		State:     string(hold.State),
		ExpiresAt: event.localTime(hold.ExpiresAt),
		OrderID:   hold.OrderID,
	}
	if hold.State == booking.HoldActive {
		body.PayURL = "/api/v1/holds/" + hold.ID + "/pay"
		body.ExtensionsLeft = max(0, event.MaxHoldExtensions-hold.Extensions)
	}
	return body
}

// ticketJSON is one ticket of an order: one place in its slot.
type ticketJSON struct {
	Type  string `json:"type"`
	Name  string `json:"name"`
	Price int64  `json:"price"`
}

// orderJSON is an order with its tickets.
type orderJSON struct {
	OrderID      string `json:"order_id"`
	Event        string `json:"event"`
	Slot         string `json:"slot"`
	StartsAt     string `json:"starts_at,omitempty"`
	HoldID       string `json:"hold_id"`
	State        string `json:"state"`
	RefundReason string `json:"refund_reason,omitempty"`
	Quantity     int    `json:"quantity"`
	// Tickets lists one entry per place, in the order of the event's
	// ticket types, and TicketCounts counts them by type.
	Tickets      []ticketJSON   `json:"tickets"`
	TicketCounts map[string]int `json:"ticket_counts"`
	Amount       int64          `json:"amount"`
	Currency     string         `json:"currency"`
	CreatedAt    string         `json:"created_at"`
	// Visitor, PaymentID, PaidAmount, PaidCurrency and UpdatedAt are
	// shown to admins only.
	Visitor      string `json:"visitor,omitempty"`
	PaymentID    string `json:"payment_id,omitempty"`
	PaidAmount   int64  `json:"paid_amount,omitempty"`
	PaidCurrency string `json:"paid_currency,omitempty"`
	UpdatedAt    string `json:"updated_at,omitempty"`
}

func orderBody(event eventInfo, order booking.Order, admin bool) orderJSON {
	body := orderJSON{
		OrderID:      order.ID,
		Event:        order.Event,
		Slot:         order.Slot,
		StartsAt:     event.slotStart(order.Slot),
		HoldID:       order.HoldID,
		State:        string(order.State),
		RefundReason: order.RefundReason,
		Quantity:     order.Quantity,
		Tickets:      []ticketJSON{},
		TicketCounts: order.Tickets,
		Amount:       event.Price(order.Tickets),
		Currency:     event.Currency,
		CreatedAt:    event.localTime(order.CreatedAt),
	}
	for _, tt := range event.TicketTypes {
		for range order.Tickets[tt.ID] {
			body.Tickets = append(body.Tickets, ticketJSON{Type: tt.ID, Name: tt.Name, Price: tt.Price})
		}
	}
	if admin {
		body.Visitor = order.Visitor
		body.PaymentID = order.PaymentID
		body.PaidAmount, body.PaidCurrency = order.PaidAmount, order.PaidCurrency
		body.UpdatedAt = event.localTime(order.UpdatedAt)
	}
	return body
}

// slotsAPI handles GET /api/v1/events/{event}/slots.
func (s *Server) slotsAPI(c *fiber.Ctx) error {
	eventID, err := eventParam(c)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")

	ctx := c.UserContext()
	event, err := s.bookingEvent(ctx, eventID)
	if err != nil {
		return err
	}
	slots, err := s.opts.Booking.Store.Availability(ctx, eventID)
	if err != nil {
		return err
	}

	out := make([]slotJSON, len(slots))
	for i, slot := range slots {
		out[i] = slotJSON{
			ID:        slot.ID,
			StartsAt:  event.localTime(slot.Start),
			EndsAt:    event.localTime(slot.End),
			Capacity:  slot.Capacity,
			Available: slot.Available(),
		}
	}
	return c.JSON(out)
}

// holdRequestJSON is the body of POST /api/v1/events/{event}/holds. Give
// either quantity, which books the event's first ticket type, or tickets.
type holdRequestJSON struct {
	Slot     string         `json:"slot"`
	Quantity int            `json:"quantity"`
	Tickets  map[string]int `json:"tickets"`
}

// holdAPI handles POST /api/v1/events/{event}/holds. A request with an
// admission token as its bearer token first exchanges it for a booking
// session, which the response returns as "session" and as the cookie. A
// request that fails before the exchange leaves the token unspent. One
// that fails after it, such as on sold_out, still returns the session,
// because the token cannot be used again.
func (s *Server) holdAPI(c *fiber.Ctx) error {
	eventID, err := eventParam(c)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")

	ctx := c.UserContext()
	event, err := s.bookingEvent(ctx, eventID)
	if err != nil {
		return err
	}
	var body holdRequestJSON
	if err := decodeStrict(c.Body(), &body); err != nil {
		return err
	}
	session, claims, err := s.holdAuth(c, event)
	if err != nil {
		return err
	}

	req := booking.HoldRequest{Event: eventID, Slot: body.Slot, Visitor: session.Visitor, Quantity: body.Quantity, Tickets: body.Tickets}
	var started *booking.Session
	if claims != nil {
		req.Visitor = claims.Visitor()
		if err := precheckHold(event, req); err != nil {
			return err
		}
		session, err = s.exchangeAdmission(ctx, event, *claims)
		if err != nil {
			return err
		}
		s.setSession(c, session)
		started = &session
	}

	hold, err := s.opts.Booking.Hold(ctx, req)
	if err != nil && started != nil {
		return s.errorWithSession(c, err, sessionBody(event, *started))
	}
	if err != nil {
		return err
	}

	out := holdBody(event, hold)
	if started != nil {
		out.Session = sessionBody(event, *started)
	}
	return c.Status(http.StatusCreated).JSON(out)
}

// holdAuth returns the visitor's booking session, or, when the bearer
// token is an admission token, its verified claims for an exchange.
func (s *Server) holdAuth(c *fiber.Ctx, event eventInfo) (booking.Session, *waitroom.AdmissionClaims, error) {
	bearer, ok := bearerToken(c)
	if !ok || strings.HasPrefix(bearer, "s_") {
		session, err := s.readSession(c, event.ID)
		return session, nil, err
	}

	claims, err := waitroom.VerifyAdmissionToken(s.edge.Keys().Signing, bearer, event.Room, time.Now())
	if err != nil {
		s.log.Info("admission token rejected", "room", event.Room, "event", event.ID, "err", err)
		return booking.Session{}, nil, err
	}
	return booking.Session{}, &claims, nil
}

// precheckHold checks what a hold request can get wrong without a store
// call: its fields, ticket types, the per-order limit and the slot id.
// Slots never change after an event is created, so the cached ids decide.
func precheckHold(event eventInfo, req booking.HoldRequest) error {
	if err := req.Validate(); err != nil {
		return err
	}
	if _, _, err := event.ResolveTickets(req); err != nil {
		return err
	}
	if _, ok := event.slots[req.Slot]; !ok {
		return fmt.Errorf("hold: slot %q: %w", req.Slot, booking.ErrUnknownSlot)
	}
	return nil
}

// errorWithSession responds to a failed request that started a booking
// session with the error and the session the client must use from now on.
func (s *Server) errorWithSession(c *fiber.Ctx, err error, session *sessionJSON) error {
	api := classify(s.log, err)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(api.Status).JSON(fiber.Map{"error": api, "session": session})
}

// holdPath returns the :hold parameter's id and its event.
func (s *Server) holdPath(c *fiber.Ctx) (string, eventInfo, error) {
	c.Set(fiber.HeaderCacheControl, "no-store")
	holdID, err := holdParam(c, "")
	if err != nil {
		return "", eventInfo{}, err
	}
	eventID, _ := booking.ParseHoldID(holdID)
	event, err := s.bookingEvent(c.UserContext(), eventID)
	if err != nil {
		return "", eventInfo{}, err
	}
	return holdID, event, nil
}

// getHoldAPI handles GET /api/v1/holds/{hold} for the hold's visitor.
func (s *Server) getHoldAPI(c *fiber.Ctx) error {
	holdID, event, err := s.holdPath(c)
	if err != nil {
		return err
	}
	session, err := s.readSession(c, event.ID)
	if err != nil {
		return err
	}

	hold, err := s.opts.Booking.CheckHold(c.UserContext(), holdID, session.Visitor)
	if err != nil {
		return err
	}
	return c.JSON(holdBody(event, hold))
}

// extendHoldAPI handles POST /api/v1/holds/{hold}/extend: the hold lasts
// the event's hold lifetime from now. It fails with limit_exceeded after
// the event's max_hold_extensions, and with hold_expired once the places
// went back on sale; a failed request leaves the hold as it was.
func (s *Server) extendHoldAPI(c *fiber.Ctx) error {
	holdID, event, err := s.holdPath(c)
	if err != nil {
		return err
	}
	session, err := s.readSession(c, event.ID)
	if err != nil {
		return err
	}

	hold, err := s.opts.Booking.Store.ExtendHold(c.UserContext(), holdID, session.Visitor)
	if errors.Is(err, booking.ErrLimitExceeded) {
		return extendProblem(err)
	}
	if err != nil {
		return err
	}
	return c.JSON(holdBody(event, hold))
}

// payRequestJSON is the body of POST /api/v1/holds/{hold}/pay. A client
// that retries a request after a network failure sends the same
// idempotency key, and the payment provider then returns the first
// attempt's result instead of charging the card again.
type payRequestJSON struct {
	// Card is the card number, a secret that is never logged.
	Card           string `json:"card"`
	IdempotencyKey string `json:"idempotency_key"`
}

// payAPI handles POST /api/v1/holds/{hold}/pay. It returns the order, whose
// state is needs_refund when the hold expired during the payment and its
// places were taken.
func (s *Server) payAPI(c *fiber.Ctx) error {
	holdID, event, err := s.holdPath(c)
	if err != nil {
		return err
	}
	session, err := s.readSession(c, event.ID)
	if err != nil {
		return err
	}
	var body payRequestJSON
	if err := decodeStrict(c.Body(), &body); err != nil {
		return err
	}
	key, err := paymentKey(holdID, body.IdempotencyKey)
	if err != nil {
		return err
	}

	order, err := s.opts.Booking.Pay(c.UserContext(), booking.PayRequest{
		HoldID:         holdID,
		Visitor:        session.Visitor,
		Card:           body.Card,
		IdempotencyKey: key,
	})
	if err != nil {
		return err
	}
	return c.JSON(orderBody(event, order, false))
}

// webhookAPI handles POST /api/v1/payments/webhook. A repeated webhook
// returns the same order, and a webhook of another event type returns
// {"received": true} and changes nothing.
func (s *Server) webhookAPI(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	ctx := c.UserContext()

	order, err := s.opts.Booking.HandleWebhook(ctx, bytes.Clone(c.Body()), c.Get(booking.WebhookHeader))
	if err != nil {
		return err
	}
	if order.ID == "" {
		return c.JSON(fiber.Map{"received": true})
	}

	event, err := s.bookingEvent(ctx, order.Event)
	if err != nil {
		return err
	}
	return c.JSON(orderBody(event, order, false))
}

// orderAPI handles GET /api/v1/orders/{order} for the order's visitor, or
// for an admin with the admin token.
func (s *Server) orderAPI(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
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

	admin := s.isAdmin(c)
	visitor := ""
	if !admin {
		session, err := s.readSession(c, eventID)
		if err != nil {
			return err
		}
		visitor = session.Visitor
	}

	order, err := s.opts.Booking.Store.GetOrder(ctx, orderID)
	if err != nil {
		return err
	}
	if !admin && order.Visitor != visitor {
		return errNotYourOrder
	}
	return c.JSON(orderBody(event, order, admin))
}

// isAdmin reports whether the request carries the admin bearer token.
func (s *Server) isAdmin(c *fiber.Ctx) bool {
	got, ok := bearerToken(c)
	return ok && s.opts.AdminToken != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.opts.AdminToken)) == 1
}
