package booking

import "time"

// DemoEventID is the id of the event that DemoEvent returns. The waiting
// room of the same name guards it.
const DemoEventID = "demo"

// DemoEvent returns the event that `foyer serve` starts without
// configuration: a museum open 09:00 to 17:00 in Europe/Amsterdam on date
// ("2006-01-02"), with 30-minute slots of 50 places and three ticket types.
func DemoEvent(date string) (Event, []Slot, error) {
	event := Event{
		ID:       DemoEventID,
		Title:    "Foyer demo museum",
		TimeZone: "Europe/Amsterdam",
		Room:     DemoEventID,
		Currency: "EUR",
		TicketTypes: []TicketType{
			{ID: "adult", Name: "Adult", Price: 1750},
			{ID: "child", Name: "Child (4 to 17)", Price: 850},
			{ID: "member", Name: "Member", Price: 0},
		},
		MaxTicketsPerOrder:   8,
		MaxTicketsPerVisitor: 8,
		MaxHoldsPerVisitor:   1,
		HoldLifetime:         10 * time.Minute,
		MaxHoldExtensions:    1,
	}
	event, err := event.Normalize()
	if err != nil {
		return Event{}, nil, err
	}

	loc, err := event.Location()
	if err != nil {
		return Event{}, nil, err
	}
	slots, err := DayPlan{Date: date, Open: "09:00", Close: "17:00", Length: 30 * time.Minute, Capacity: 50}.Slots(loc)
	if err != nil {
		return Event{}, nil, err
	}
	return event, slots, nil
}
