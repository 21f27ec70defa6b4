package web

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"foyer/booking"
	"foyer/web/views"
)

// Rows of the event forms.
const (
	// blankTicketTypeRows is how many empty ticket type rows a form offers
	// after the event's own.
	blankTicketTypeRows = 3
	// dayRowCount is how many day rows the forms that make slots offer.
	dayRowCount = 3
	// maxFormRows bounds the rows read back from a form.
	maxFormRows = 64
	// localTimeLayout is the value format of an HTML datetime-local input.
	localTimeLayout = "2006-01-02T15:04"
)

// formValue returns a trimmed copy of a form field, safe to keep after the
// handler returns.
func formValue(c *fiber.Ctx, name string) string {
	return strings.Clone(strings.TrimSpace(c.FormValue(name)))
}

// readEventForm reads an event form as typed. isNew adds the id, the room
// and the day rows.
func readEventForm(c *fiber.Ctx, isNew bool) views.EventForm {
	f := views.EventForm{
		New:                  isNew,
		Title:                formValue(c, "title"),
		TimeZone:             formValue(c, "time_zone"),
		Currency:             strings.ToUpper(formValue(c, "currency")),
		MaxTicketsPerOrder:   formValue(c, "max_tickets_per_order"),
		MaxTicketsPerVisitor: formValue(c, "max_tickets_per_visitor"),
		MaxHoldsPerVisitor:   formValue(c, "max_holds_per_visitor"),
		HoldLifetimeMinutes:  formValue(c, "hold_lifetime_minutes"),
		MaxHoldExtensions:    formValue(c, "max_hold_extensions"),
		SalesStart:           formValue(c, "sales_start"),
		SalesEnd:             formValue(c, "sales_end"),
	}
	if isNew {
		f.ID = formValue(c, "id")
		f.Room = formValue(c, "room")
		f.Days = readDayRows(c)
	}
	for i := range maxFormRows {
		n := strconv.Itoa(i)
		if !formHas(c, "tt-id-"+n) {
			break
		}
		f.TicketTypes = append(f.TicketTypes, views.TicketTypeRow{
			ID:    formValue(c, "tt-id-"+n),
			Name:  formValue(c, "tt-name-"+n),
			Price: formValue(c, "tt-price-"+n),
		})
	}
	return f
}

// readDayRows reads the day rows of a form as typed.
func readDayRows(c *fiber.Ctx) []views.DayRow {
	var days []views.DayRow
	for i := range maxFormRows {
		n := strconv.Itoa(i)
		if !formHas(c, "day-date-"+n) {
			break
		}
		days = append(days, views.DayRow{
			Date:     formValue(c, "day-date-"+n),
			Open:     formValue(c, "day-open-"+n),
			Close:    formValue(c, "day-close-"+n),
			Length:   formValue(c, "day-length-"+n),
			Capacity: formValue(c, "day-capacity-"+n),
		})
	}
	return days
}

func formHas(c *fiber.Ctx, name string) bool {
	return c.Request().PostArgs().Has(name)
}

// invalidForm returns a 400 error with code invalid_form.
func invalidForm(format string, args ...any) error {
	return newError(http.StatusBadRequest, "invalid_form", fmt.Sprintf(format, args...))
}

// eventBody converts an event form to the admin API's event body, so the
// console builds events exactly as the API does.
func eventBody(f views.EventForm) (eventJSON, error) {
	body := eventJSON{ID: f.ID, Title: f.Title, TimeZone: f.TimeZone, Room: f.Room, Currency: f.Currency}
	currency := f.Currency
	if currency == "" {
		currency = booking.DefaultCurrency
	}

	for i, row := range f.TicketTypes {
		if row.ID == "" && row.Name == "" && row.Price == "" {
			continue
		}
		price, err := parseMoney(row.Price, currency)
		if err != nil {
			return body, invalidForm("Ticket type %d: %v.", i+1, err)
		}
		name := row.Name
		if name == "" {
			name = row.ID
		}
		body.TicketTypes = append(body.TicketTypes, booking.TicketType{ID: row.ID, Name: name, Price: price})
	}

	limits := []struct {
		label string
		text  string
		into  *int
	}{
		{"Tickets per order", f.MaxTicketsPerOrder, &body.MaxTicketsPerOrder},
		{"Tickets per visitor", f.MaxTicketsPerVisitor, &body.MaxTicketsPerVisitor},
		{"Holds per visitor", f.MaxHoldsPerVisitor, &body.MaxHoldsPerVisitor},
		{"Extensions per hold", f.MaxHoldExtensions, &body.MaxHoldExtensions},
	}
	for _, limit := range limits {
		if limit.text == "" {
			continue
		}
		n, err := strconv.Atoi(limit.text)
		if err != nil {
			return body, invalidForm("%s %q is not a whole number.", limit.label, limit.text)
		}
		*limit.into = n
	}
	if f.HoldLifetimeMinutes != "" {
		minutes, err := strconv.ParseFloat(f.HoldLifetimeMinutes, 64)
		if err != nil || minutes <= 0 || minutes > 24*60 {
			return body, invalidForm("Minutes a hold keeps its places %q is invalid: use a number above 0 and at most 1440.", f.HoldLifetimeMinutes)
		}
		body.HoldLifetimeSeconds = minutes * 60
	}

	var err error
	if body.SalesStart, err = salesBound("Sales start", f.SalesStart, f.TimeZone); err != nil {
		return body, err
	}
	if body.SalesEnd, err = salesBound("Sales end", f.SalesEnd, f.TimeZone); err != nil {
		return body, err
	}

	body.Days, err = dayPlans(f.Days)
	return body, err
}

// salesBound converts a datetime-local value in the event's zone to RFC
// 3339, or "" for an empty value.
func salesBound(label, value, zone string) (string, error) {
	if value == "" {
		return "", nil
	}
	loc, err := time.LoadLocation(zone)
	if err != nil || zone == "" {
		return "", invalidForm("The time zone %q is not an IANA name such as Europe/Amsterdam, so %s cannot be read.", zone, strings.ToLower(label))
	}
	t, err := time.ParseInLocation(localTimeLayout, value, loc)
	if err != nil {
		return "", invalidForm("%s %q is not a date and time such as 2026-06-01T09:00.", label, value)
	}
	return t.Format(time.RFC3339), nil
}

// dayPlans converts the filled day rows to day plans.
func dayPlans(rows []views.DayRow) ([]dayPlanJSON, error) {
	var days []dayPlanJSON
	for i, row := range rows {
		// A blank row still carries the default minutes per slot.
		if row.Date == "" && row.Open == "" && row.Close == "" && row.Capacity == "" {
			continue
		}
		length, err := strconv.Atoi(row.Length)
		if err != nil || length < 1 {
			return nil, invalidForm("Day %d: minutes per slot %q is not a whole number of at least 1.", i+1, row.Length)
		}
		capacity, err := strconv.Atoi(row.Capacity)
		if err != nil {
			return nil, invalidForm("Day %d: capacity per slot %q is not a whole number.", i+1, row.Capacity)
		}
		days = append(days, dayPlanJSON{Date: row.Date, Open: row.Open, Close: row.Close, LengthMinutes: length, Capacity: &capacity})
	}
	return days, nil
}

// currencyDecimals returns the digits of the currency's minor unit.
func currencyDecimals(currency string) int {
	if decimals, ok := minorDigits[currency]; ok {
		return decimals
	}
	return 2
}

// parseMoney reads an amount in major units, as in "18" or "18.50", as
// minor units of currency.
func parseMoney(text, currency string) (int64, error) {
	decimals := currencyDecimals(currency)
	whole, fraction, _ := strings.Cut(text, ".")
	valid := whole != "" && len(whole) <= 12 && len(fraction) <= decimals && onlyDigits(whole) && onlyDigits(fraction)
	if !valid {
		example := "18"
		if decimals > 0 {
			example = "18." + strings.Repeat("5", decimals)
		}
		return 0, fmt.Errorf("price %q is not an amount in %s such as %s", text, currency, example)
	}
	minor, err := strconv.ParseInt(whole+fraction+strings.Repeat("0", decimals-len(fraction)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("price %q is too large", text)
	}
	return minor, nil
}

func onlyDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// formatAmount formats minor units of currency in major units without the
// currency code, as in "17.50".
func formatAmount(amount int64, currency string) string {
	return strings.TrimPrefix(formatMoney(amount, currency), currency+" ")
}

// eventFormOf fills the details form with a stored event.
func eventFormOf(event booking.Event, loc *time.Location) views.EventForm {
	f := views.EventForm{
		ID:                   event.ID,
		Title:                event.Title,
		TimeZone:             event.TimeZone,
		Room:                 event.Room,
		Currency:             event.Currency,
		MaxTicketsPerOrder:   strconv.Itoa(event.MaxTicketsPerOrder),
		MaxTicketsPerVisitor: strconv.Itoa(event.MaxTicketsPerVisitor),
		MaxHoldsPerVisitor:   strconv.Itoa(event.MaxHoldsPerVisitor),
		HoldLifetimeMinutes:  strconv.FormatFloat(event.HoldLifetime.Minutes(), 'f', -1, 64),
		MaxHoldExtensions:    strconv.Itoa(event.MaxHoldExtensions),
	}
	if !event.SalesStart.IsZero() {
		f.SalesStart = event.SalesStart.In(loc).Format(localTimeLayout)
	}
	if !event.SalesEnd.IsZero() {
		f.SalesEnd = event.SalesEnd.In(loc).Format(localTimeLayout)
	}
	for _, tt := range event.TicketTypes {
		f.TicketTypes = append(f.TicketTypes, views.TicketTypeRow{ID: tt.ID, Name: tt.Name, Price: formatAmount(tt.Price, event.Currency)})
	}
	f.TicketTypes = append(f.TicketTypes, make([]views.TicketTypeRow, blankTicketTypeRows)...)
	return f
}

// blankDays returns the empty day rows of a form that makes slots.
func blankDays() []views.DayRow {
	days := make([]views.DayRow, dayRowCount)
	for i := range days {
		days[i].Length = "30"
	}
	return days
}

// eventDiff describes what changed between two definitions of an event, as
// in `title "Expo" → "Summer expo", ticket type adult price 1800 → 1900`.
func eventDiff(before, after booking.Event) string {
	var changes []string
	add := func(name string, from, to any) {
		if from != to {
			changes = append(changes, fmt.Sprintf("%s %v → %v", name, from, to))
		}
	}
	add("title", strconv.Quote(before.Title), strconv.Quote(after.Title))
	add("time_zone", before.TimeZone, after.TimeZone)
	add("currency", before.Currency, after.Currency)
	add("max_tickets_per_order", before.MaxTicketsPerOrder, after.MaxTicketsPerOrder)
	add("max_tickets_per_visitor", before.MaxTicketsPerVisitor, after.MaxTicketsPerVisitor)
	add("max_holds_per_visitor", before.MaxHoldsPerVisitor, after.MaxHoldsPerVisitor)
	add("hold_lifetime", before.HoldLifetime, after.HoldLifetime)
	add("max_hold_extensions", before.MaxHoldExtensions, after.MaxHoldExtensions)
	add("sales_start", formatOpensAt(before.SalesStart), formatOpensAt(after.SalesStart))
	add("sales_end", formatOpensAt(before.SalesEnd), formatOpensAt(after.SalesEnd))

	old := make(map[string]booking.TicketType, len(before.TicketTypes))
	for _, tt := range before.TicketTypes {
		old[tt.ID] = tt
	}
	for _, tt := range after.TicketTypes {
		prev, ok := old[tt.ID]
		if !ok {
			changes = append(changes, fmt.Sprintf("ticket type %s added (%q, price %d)", tt.ID, tt.Name, tt.Price))
			continue
		}
		add("ticket type "+tt.ID+" name", strconv.Quote(prev.Name), strconv.Quote(tt.Name))
		add("ticket type "+tt.ID+" price", prev.Price, tt.Price)
	}
	if !slices.EqualFunc(before.TicketTypes, after.TicketTypes, func(a, b booking.TicketType) bool { return a.ID == b.ID }) && len(before.TicketTypes) == len(after.TicketTypes) {
		changes = append(changes, "ticket types reordered")
	}
	return strings.Join(changes, ", ")
}
