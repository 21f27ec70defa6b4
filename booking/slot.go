package booking

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// MaxCapacity bounds a slot's capacity.
const MaxCapacity = 1_000_000

// Slot is a timed-entry window of an event with a number of places.
//
// Start and End are instants, kept in UTC with millisecond precision, and
// shown in the event's time zone with Start.In(loc). Build them from local
// wall-clock times with LocalTime, LocalSlot or DayPlan, so that a slot
// created as 08:30 Europe/Amsterdam shows 08:30 whatever the UTC offset was
// when it was created.
type Slot struct {
	// ID is unique within the event, as ValidSlotID describes.
	ID string `json:"id"`
	// Start is when the slot's entry window opens. Holds on the slot are
	// rejected with ErrSlotStarted from this instant on.
	Start time.Time `json:"starts_at"`
	// End is when the entry window closes.
	End time.Time `json:"ends_at"`
	// Capacity is the number of places, shared by all ticket types.
	Capacity int `json:"capacity"`
}

// Normalize returns a copy of s with times in UTC truncated to
// milliseconds. It returns an error wrapping ErrInvalidSlot that names the
// first invalid field.
func (s Slot) Normalize() (Slot, error) {
	s.Start = storeTime(s.Start)
	s.End = storeTime(s.End)

	switch {
	case !ValidSlotID(s.ID):
		return Slot{}, fmt.Errorf("slot %q: %w: id must be 1 to %d characters from a-z, 0-9, '-' and '_'", s.ID, ErrInvalidSlot, maxEventIDLength)
	case s.Start.IsZero():
		return Slot{}, fmt.Errorf("slot %q: %w: starts_at is missing", s.ID, ErrInvalidSlot)
	case !s.Start.Before(s.End):
		return Slot{}, fmt.Errorf("slot %q: %w: ends_at %s must be after starts_at %s", s.ID, ErrInvalidSlot, s.End, s.Start)
	case s.Capacity < 0 || s.Capacity > MaxCapacity:
		return Slot{}, fmt.Errorf("slot %q: %w: capacity %d must be between 0 and %d", s.ID, ErrInvalidSlot, s.Capacity, MaxCapacity)
	}
	return s, nil
}

// NormalizeSlots normalizes each slot, rejects duplicate ids and returns the
// slots sorted by start time, then id.
func NormalizeSlots(slots []Slot) ([]Slot, error) {
	out := make([]Slot, 0, len(slots))
	seen := make(map[string]bool, len(slots))
	for _, slot := range slots {
		normalized, err := slot.Normalize()
		if err != nil {
			return nil, err
		}
		if seen[slot.ID] {
			return nil, fmt.Errorf("slot %q: %w: id is listed twice", slot.ID, ErrInvalidSlot)
		}
		seen[slot.ID] = true
		out = append(out, normalized)
	}

	SortSlots(out)
	return out, nil
}

// SortSlots sorts slots by start time, then id.
func SortSlots(slots []Slot) {
	slices.SortFunc(slots, func(a, b Slot) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

// LocalTime returns the instant at which clocks in loc show date
// ("2006-01-02") and clock ("15:04"), in UTC. The clock "24:00" means
// midnight at the end of date.
//
// A wall-clock time skipped by a daylight saving change (02:30 on the
// spring-forward day in Europe) does not exist and returns an error
// wrapping ErrInvalidSlot. A time that occurs twice (02:30 on the fall-back
// day) returns the earlier instant.
func LocalTime(loc *time.Location, date, clock string) (time.Time, error) {
	if loc == nil {
		return time.Time{}, fmt.Errorf("local time: %w: time zone is missing", ErrInvalidSlot)
	}

	day, err := time.ParseInLocation(time.DateOnly, date, time.UTC)
	if err != nil {
		return time.Time{}, fmt.Errorf("local time: %w: date %q must look like 2006-01-02", ErrInvalidSlot, date)
	}

	hour, minute, err := parseClock(clock)
	if err != nil {
		return time.Time{}, err
	}
	if hour == 24 {
		day = day.AddDate(0, 0, 1)
		hour = 0
	}

	wall := time.Date(day.Year(), day.Month(), day.Day(), hour, minute, 0, 0, time.UTC)
	instant, ok := resolveWallClock(loc, wall)
	if !ok {
		return time.Time{}, fmt.Errorf("local time: %w: %s %s does not exist in %s (skipped by a daylight saving change)", ErrInvalidSlot, date, clock, loc)
	}
	return instant, nil
}

// resolveWallClock returns the earliest instant at which loc shows the wall
// time given as UTC fields, trying the zone's offsets a day before and after
// to find both candidates around a daylight saving change.
func resolveWallClock(loc *time.Location, wall time.Time) (time.Time, bool) {
	var best time.Time
	found := false
	for _, probe := range []time.Time{wall.Add(-24 * time.Hour), wall, wall.Add(24 * time.Hour)} {
		_, offset := probe.In(loc).Zone()
		candidate := wall.Add(-time.Duration(offset) * time.Second)

		local := candidate.In(loc)
		if local.Hour() != wall.Hour() || local.Minute() != wall.Minute() || local.Day() != wall.Day() {
			continue
		}
		if !found || candidate.Before(best) {
			best = candidate
			found = true
		}
	}
	return best.UTC(), found
}

func parseClock(clock string) (hour, minute int, err error) {
	if clock == "24:00" {
		return 24, 0, nil
	}

	t, parseErr := time.Parse("15:04", clock)
	if parseErr != nil {
		return 0, 0, fmt.Errorf("local time: %w: clock %q must look like 15:04", ErrInvalidSlot, clock)
	}
	return t.Hour(), t.Minute(), nil
}

// LocalSlot returns a slot that starts when clocks in loc show date and
// clock and lasts length. Its id is the local start, as in "20260601-0830".
func LocalSlot(loc *time.Location, date, clock string, length time.Duration, capacity int) (Slot, error) {
	start, err := LocalTime(loc, date, clock)
	if err != nil {
		return Slot{}, err
	}

	slot := Slot{
		ID:       localSlotID(start.In(loc)),
		Start:    start,
		End:      start.Add(length),
		Capacity: capacity,
	}
	return slot.Normalize()
}

func localSlotID(local time.Time) string {
	return local.Format("20060102-1504")
}

// DayPlan describes a day of back-to-back slots of equal length, such as the
// demo event's 30-minute slots.
type DayPlan struct {
	// Date is the local date, as in "2026-06-01".
	Date string
	// Open is the local start of the first slot, as in "09:00".
	Open string
	// Close is the local time by which the last slot ends, as in "17:00".
	// "24:00" is midnight at the end of Date.
	Close string
	// Length is the duration of each slot. Zero means 30 minutes.
	Length time.Duration
	// Capacity is the capacity of each slot.
	Capacity int
}

// Slots returns the day's slots. Slots follow each other in real time, so on
// a day with a daylight saving change a plan across the change gets one
// slot-hour fewer or more. Ids are the local start, as in "20260601-0830",
// and a local start that repeats after clocks go back gets the suffix "-2".
func (p DayPlan) Slots(loc *time.Location) ([]Slot, error) {
	length := p.Length
	if length == 0 {
		length = 30 * time.Minute
	}
	if length < time.Minute {
		return nil, fmt.Errorf("day plan %s: %w: length %s must be at least 1m", p.Date, ErrInvalidSlot, length)
	}

	open, err := LocalTime(loc, p.Date, p.Open)
	if err != nil {
		return nil, fmt.Errorf("day plan open: %w", err)
	}
	closing, err := LocalTime(loc, p.Date, p.Close)
	if err != nil {
		return nil, fmt.Errorf("day plan close: %w", err)
	}

	var slots []Slot
	seen := make(map[string]bool)
	for start := open; !start.Add(length).After(closing); start = start.Add(length) {
		id := localSlotID(start.In(loc))
		if seen[id] {
			id += "-2"
		}
		seen[id] = true

		slots = append(slots, Slot{ID: id, Start: start, End: start.Add(length), Capacity: p.Capacity})
	}
	return NormalizeSlots(slots)
}
