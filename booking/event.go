package booking

import (
	"fmt"
	"time"
)

// Defaults that Event.Normalize applies to zero fields.
const (
	DefaultHoldLifetime         = 10 * time.Minute
	DefaultMaxTicketsPerOrder   = 10
	DefaultMaxTicketsPerVisitor = 10
	DefaultMaxHoldsPerVisitor   = 1
	DefaultCurrency             = "EUR"
)

// Bounds that Event.Normalize enforces.
const (
	MinHoldLifetime = 100 * time.Millisecond
	MaxHoldLifetime = 24 * time.Hour
	maxTitleLength  = 200
	maxRoomLength   = 64
	maxTicketTypes  = 32
)

// HoldRetention is how long a hold stays findable after it expired, was
// released or was confirmed, so that a late payment can still be matched.
const HoldRetention = 24 * time.Hour

// TicketType is a kind of ticket, such as adult, child or member. All ticket
// types of an event share each slot's capacity: one ticket takes one place.
type TicketType struct {
	// ID names the type in requests, as in {"tickets": {"adult": 2}}.
	ID string `json:"id"`
	// Name is shown to visitors.
	Name string `json:"name"`
	// Price is in minor units of the event's currency, such as cents.
	Price int64 `json:"price"`
}

// Event is something visitors book timed entry for, guarded by one waiting
// room. Zero limits take the defaults above when the event is created.
type Event struct {
	// ID is 1 to 64 characters from a-z, 0-9 and '-', as ValidEventID checks.
	ID string `json:"id"`
	// Title is shown to visitors.
	Title string `json:"title"`
	// TimeZone is the IANA name of the zone in which slot times are shown,
	// such as "Europe/Amsterdam".
	TimeZone string `json:"time_zone"`
	// Room is the id of the waiting room whose admission tokens may be
	// exchanged for booking sessions of this event.
	Room string `json:"room"`
	// Currency is the ISO 4217 code of ticket prices. Empty means EUR.
	Currency string `json:"currency"`
	// TicketTypes share each slot's capacity. The first one is the default
	// for a hold request that gives only a quantity.
	TicketTypes []TicketType `json:"ticket_types"`
	// MaxTicketsPerOrder bounds the tickets of one hold, and so of one order.
	MaxTicketsPerOrder int `json:"max_tickets_per_order"`
	// MaxTicketsPerVisitor bounds a visitor's tickets in unexpired holds
	// plus confirmed orders of this event.
	MaxTicketsPerVisitor int `json:"max_tickets_per_visitor"`
	// MaxHoldsPerVisitor bounds a visitor's unexpired holds at one time.
	MaxHoldsPerVisitor int `json:"max_holds_per_visitor"`
	// HoldLifetime is how long a hold keeps its places, from its creation
	// or its last extension. Stores keep it in whole milliseconds.
	HoldLifetime time.Duration `json:"hold_lifetime"`
	// MaxHoldExtensions bounds how often one hold can be extended. Zero
	// means never.
	MaxHoldExtensions int `json:"max_hold_extensions"`
	// SalesStart and SalesEnd bound when holds may be placed. A zero time
	// leaves that side open.
	SalesStart time.Time `json:"sales_start"`
	SalesEnd   time.Time `json:"sales_end"`
}

// Normalize returns a copy of e with defaults applied and times in UTC,
// truncated to milliseconds as the stores keep them. It returns an error
// wrapping ErrInvalidEvent that names the first invalid field.
func (e Event) Normalize() (Event, error) {
	e.applyDefaults()
	e.SalesStart = storeTime(e.SalesStart)
	e.SalesEnd = storeTime(e.SalesEnd)
	e.HoldLifetime = e.HoldLifetime.Truncate(time.Millisecond)
	e.TicketTypes = append([]TicketType(nil), e.TicketTypes...)

	if err := e.validate(); err != nil {
		return Event{}, fmt.Errorf("event %q: %w: %w", e.ID, ErrInvalidEvent, err)
	}
	return e, nil
}

// CheckEventChange returns an error wrapping ErrInvalidEvent when next may
// not replace current. The id and the room stay as they are, and every
// ticket type of current must remain, because holds and orders refer to
// them. Names and prices of ticket types, their order, new types, the
// title, time zone, currency, limits and sales window may all change.
func CheckEventChange(current, next Event) error {
	if next.ID != current.ID {
		return fmt.Errorf("event %q: %w: the id cannot change to %q", current.ID, ErrInvalidEvent, next.ID)
	}
	if next.Room != current.Room {
		return fmt.Errorf("event %q: %w: the room cannot change from %q to %q", current.ID, ErrInvalidEvent, current.Room, next.Room)
	}
	kept := make(map[string]bool, len(next.TicketTypes))
	for _, tt := range next.TicketTypes {
		kept[tt.ID] = true
	}
	for _, tt := range current.TicketTypes {
		if !kept[tt.ID] {
			return fmt.Errorf("event %q: %w: ticket type %q cannot be removed, because holds and orders may refer to it", current.ID, ErrInvalidEvent, tt.ID)
		}
	}
	return nil
}

func (e *Event) applyDefaults() {
	if e.Currency == "" {
		e.Currency = DefaultCurrency
	}
	if e.MaxTicketsPerOrder == 0 {
		e.MaxTicketsPerOrder = DefaultMaxTicketsPerOrder
	}
	if e.MaxTicketsPerVisitor == 0 {
		e.MaxTicketsPerVisitor = DefaultMaxTicketsPerVisitor
	}
	if e.MaxHoldsPerVisitor == 0 {
		e.MaxHoldsPerVisitor = DefaultMaxHoldsPerVisitor
	}
	if e.HoldLifetime == 0 {
		e.HoldLifetime = DefaultHoldLifetime
	}
}

func (e Event) validate() error {
	if !ValidEventID(e.ID) {
		return fmt.Errorf("id %q must be 1 to %d characters from a-z, 0-9 and '-'", e.ID, maxEventIDLength)
	}
	if e.Title == "" || len(e.Title) > maxTitleLength {
		return fmt.Errorf("title must be 1 to %d bytes", maxTitleLength)
	}
	if !validZone(e.TimeZone) {
		return fmt.Errorf("time_zone %q must be an IANA zone name such as Europe/Amsterdam", e.TimeZone)
	}
	if !validName(e.Room, maxRoomLength, true) {
		return fmt.Errorf("room %q must be 1 to %d characters from a-z, 0-9, '-' and '_'", e.Room, maxRoomLength)
	}
	if !validCurrency(e.Currency) {
		return fmt.Errorf("currency %q must be three upper-case letters, such as EUR", e.Currency)
	}
	if err := validateTicketTypes(e.TicketTypes); err != nil {
		return err
	}
	return e.validateLimits()
}

func (e Event) validateLimits() error {
	limits := []struct {
		name  string
		value int
	}{
		{"max_tickets_per_order", e.MaxTicketsPerOrder},
		{"max_tickets_per_visitor", e.MaxTicketsPerVisitor},
		{"max_holds_per_visitor", e.MaxHoldsPerVisitor},
	}
	for _, limit := range limits {
		if limit.value < 1 || limit.value > MaxQuantity {
			return fmt.Errorf("%s %d must be between 1 and %d", limit.name, limit.value, MaxQuantity)
		}
	}

	if e.MaxHoldExtensions < 0 || e.MaxHoldExtensions > 100 {
		return fmt.Errorf("max_hold_extensions %d must be between 0 and 100", e.MaxHoldExtensions)
	}
	if e.HoldLifetime < MinHoldLifetime || e.HoldLifetime > MaxHoldLifetime {
		return fmt.Errorf("hold_lifetime %s must be between %s and %s", e.HoldLifetime, MinHoldLifetime, MaxHoldLifetime)
	}
	if !e.SalesStart.IsZero() && !e.SalesEnd.IsZero() && !e.SalesStart.Before(e.SalesEnd) {
		return fmt.Errorf("sales_start %s must be before sales_end %s", e.SalesStart, e.SalesEnd)
	}
	return nil
}

func validateTicketTypes(types []TicketType) error {
	if len(types) == 0 || len(types) > maxTicketTypes {
		return fmt.Errorf("ticket_types must list 1 to %d types", maxTicketTypes)
	}

	seen := make(map[string]bool, len(types))
	for _, tt := range types {
		if !ValidSlotID(tt.ID) {
			return fmt.Errorf("ticket type id %q must be 1 to %d characters from a-z, 0-9, '-' and '_'", tt.ID, maxEventIDLength)
		}
		if seen[tt.ID] {
			return fmt.Errorf("ticket type id %q is listed twice", tt.ID)
		}
		seen[tt.ID] = true

		if tt.Price < 0 {
			return fmt.Errorf("ticket type %q: price %d must not be negative", tt.ID, tt.Price)
		}
	}
	return nil
}

// validZone reports whether name is an IANA zone name. time.LoadLocation
// also accepts "" and "Local", which name no fixed zone.
func validZone(name string) bool {
	if name == "" || name == "Local" {
		return false
	}
	_, err := time.LoadLocation(name)
	return err == nil
}

func validCurrency(code string) bool {
	if len(code) != 3 {
		return false
	}
	for _, c := range []byte(code) {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

// Location loads the event's time zone.
func (e Event) Location() (*time.Location, error) {
	loc, err := time.LoadLocation(e.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("event %q: load time zone: %w", e.ID, err)
	}
	return loc, nil
}

// TicketType returns the ticket type with the id.
func (e Event) TicketType(id string) (TicketType, bool) {
	for _, tt := range e.TicketTypes {
		if tt.ID == id {
			return tt, true
		}
	}
	return TicketType{}, false
}

// Price returns the total price of the tickets in minor currency units.
// Ticket types that the event does not have count as free.
func (e Event) Price(tickets map[string]int) int64 {
	var total int64
	for id, count := range tickets {
		tt, _ := e.TicketType(id)
		total += tt.Price * int64(count)
	}
	return total
}

// OnSale reports whether holds may be placed at now.
func (e Event) OnSale(now time.Time) bool {
	if !e.SalesStart.IsZero() && now.Before(e.SalesStart) {
		return false
	}
	if !e.SalesEnd.IsZero() && !now.Before(e.SalesEnd) {
		return false
	}
	return true
}

// storeTime returns t in UTC truncated to milliseconds, the precision both
// stores keep. The zero time stays zero.
func storeTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Millisecond)
}
