package redisstore

import (
	"encoding/json"
	"fmt"
	"time"

	"foyer/booking"
)

// The wire types are the JSON that scripts read and write. Times are
// milliseconds since the Unix epoch, because Lua numbers are doubles and
// Redis's cjson encodes them with 14 significant digits, enough for 13-digit
// millisecond times until the year 2286.

type eventWire struct {
	ID                   string               `json:"id"`
	Title                string               `json:"title"`
	TimeZone             string               `json:"time_zone"`
	Room                 string               `json:"room"`
	Currency             string               `json:"currency"`
	TicketTypes          []booking.TicketType `json:"ticket_types"`
	MaxTicketsPerOrder   int                  `json:"max_tickets_per_order"`
	MaxTicketsPerVisitor int                  `json:"max_tickets_per_visitor"`
	MaxHoldsPerVisitor   int                  `json:"max_holds_per_visitor"`
	HoldLifetimeMS       int64                `json:"hold_lifetime_ms"`
	MaxHoldExtensions    int                  `json:"max_hold_extensions"`
	SalesStart           int64                `json:"sales_start"`
	SalesEnd             int64                `json:"sales_end"`
}

type slotWire struct {
	ID       string `json:"id"`
	Start    int64  `json:"start"`
	End      int64  `json:"end"`
	Capacity int    `json:"capacity"`
}

type holdWire struct {
	ID         string         `json:"id"`
	Event      string         `json:"event"`
	Slot       string         `json:"slot"`
	Visitor    string         `json:"visitor"`
	Tickets    map[string]int `json:"tickets"`
	Quantity   int            `json:"qty"`
	Created    int64          `json:"created"`
	Expires    int64          `json:"expires"`
	Extensions int            `json:"ext"`
	State      string         `json:"state"`
	Order      string         `json:"order"`
}

type orderWire struct {
	ID           string         `json:"id"`
	Event        string         `json:"event"`
	Slot         string         `json:"slot"`
	Hold         string         `json:"hold"`
	Visitor      string         `json:"visitor"`
	Payment      string         `json:"payment"`
	Tickets      map[string]int `json:"tickets"`
	Quantity     int            `json:"qty"`
	State        string         `json:"state"`
	Reason       string         `json:"reason"`
	Paid         int64          `json:"paid"`
	PaidCurrency string         `json:"paid_currency"`
	Created      int64          `json:"created"`
	Updated      int64          `json:"updated"`
}

type sessionWire struct {
	ID      string `json:"id"`
	Visitor string `json:"visitor"`
	Room    string `json:"room"`
	Event   string `json:"event"`
	Created int64  `json:"created"`
	Expires int64  `json:"expires"`
}

// millis returns t in ms since the epoch, and 0 for the zero time.
func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMillis is the inverse of millis.
func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

func encodeEvent(e booking.Event) (string, error) {
	wire := eventWire{
		ID:                   e.ID,
		Title:                e.Title,
		TimeZone:             e.TimeZone,
		Room:                 e.Room,
		Currency:             e.Currency,
		TicketTypes:          e.TicketTypes,
		MaxTicketsPerOrder:   e.MaxTicketsPerOrder,
		MaxTicketsPerVisitor: e.MaxTicketsPerVisitor,
		MaxHoldsPerVisitor:   e.MaxHoldsPerVisitor,
		HoldLifetimeMS:       e.HoldLifetime.Milliseconds(),
		MaxHoldExtensions:    e.MaxHoldExtensions,
		SalesStart:           millis(e.SalesStart),
		SalesEnd:             millis(e.SalesEnd),
	}
	return encode(wire)
}

func decodeEvent(raw string) (booking.Event, error) {
	var wire eventWire
	if err := json.Unmarshal([]byte(raw), &wire); err != nil {
		return booking.Event{}, fmt.Errorf("decode stored event: %w", err)
	}
	return booking.Event{
		ID:                   wire.ID,
		Title:                wire.Title,
		TimeZone:             wire.TimeZone,
		Room:                 wire.Room,
		Currency:             wire.Currency,
		TicketTypes:          wire.TicketTypes,
		MaxTicketsPerOrder:   wire.MaxTicketsPerOrder,
		MaxTicketsPerVisitor: wire.MaxTicketsPerVisitor,
		MaxHoldsPerVisitor:   wire.MaxHoldsPerVisitor,
		HoldLifetime:         time.Duration(wire.HoldLifetimeMS) * time.Millisecond,
		MaxHoldExtensions:    wire.MaxHoldExtensions,
		SalesStart:           fromMillis(wire.SalesStart),
		SalesEnd:             fromMillis(wire.SalesEnd),
	}, nil
}

func encodeSlots(slots []booking.Slot) (string, error) {
	wire := make([]slotWire, len(slots))
	for i, s := range slots {
		wire[i] = slotWire{ID: s.ID, Start: millis(s.Start), End: millis(s.End), Capacity: s.Capacity}
	}
	return encode(wire)
}

func decodeSlot(raw string) (booking.Slot, error) {
	var wire slotWire
	if err := json.Unmarshal([]byte(raw), &wire); err != nil {
		return booking.Slot{}, fmt.Errorf("decode stored slot: %w", err)
	}
	return booking.Slot{ID: wire.ID, Start: fromMillis(wire.Start), End: fromMillis(wire.End)}, nil
}

func decodeHold(raw string) (booking.Hold, error) {
	var wire holdWire
	if err := json.Unmarshal([]byte(raw), &wire); err != nil {
		return booking.Hold{}, fmt.Errorf("decode stored hold: %w", err)
	}
	return booking.Hold{
		ID:         wire.ID,
		Event:      wire.Event,
		Slot:       wire.Slot,
		Visitor:    wire.Visitor,
		Tickets:    wire.Tickets,
		Quantity:   wire.Quantity,
		CreatedAt:  fromMillis(wire.Created),
		ExpiresAt:  fromMillis(wire.Expires),
		Extensions: wire.Extensions,
		State:      booking.HoldState(wire.State),
		OrderID:    wire.Order,
	}, nil
}

func decodeOrder(raw string) (booking.Order, error) {
	var wire orderWire
	if err := json.Unmarshal([]byte(raw), &wire); err != nil {
		return booking.Order{}, fmt.Errorf("decode stored order: %w", err)
	}
	return booking.Order{
		ID:           wire.ID,
		Event:        wire.Event,
		Slot:         wire.Slot,
		HoldID:       wire.Hold,
		Visitor:      wire.Visitor,
		PaymentID:    wire.Payment,
		Tickets:      wire.Tickets,
		Quantity:     wire.Quantity,
		State:        booking.OrderState(wire.State),
		RefundReason: wire.Reason,
		PaidAmount:   wire.Paid,
		PaidCurrency: wire.PaidCurrency,
		CreatedAt:    fromMillis(wire.Created),
		UpdatedAt:    fromMillis(wire.Updated),
	}, nil
}

func decodeSession(raw string) (booking.Session, error) {
	var wire sessionWire
	if err := json.Unmarshal([]byte(raw), &wire); err != nil {
		return booking.Session{}, fmt.Errorf("decode stored session: %w", err)
	}
	return booking.Session{
		ID:        wire.ID,
		Visitor:   wire.Visitor,
		Room:      wire.Room,
		Event:     wire.Event,
		CreatedAt: fromMillis(wire.Created),
		ExpiresAt: fromMillis(wire.Expires),
	}, nil
}

func encode(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode %T: %w", v, err)
	}
	return string(b), nil
}
