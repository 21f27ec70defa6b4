package storetest

import (
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"foyer/booking"
)

// errTooManyRetries reports a writer that never got its change in.
var errTooManyRetries = errors.New("change rejected 20 times in a row")

func isInvalidEvent(err error) bool { return errors.Is(err, booking.ErrInvalidEvent) }

func testEventUpdate(t *testing.T, h *harness) {
	event := h.createEvent(nil)
	held := h.hold(event.ID, slotA, "v1", 2)

	next := event
	next.Title = "Renamed museum"
	next.TimeZone = "Europe/London"
	next.TicketTypes = []booking.TicketType{
		{ID: "child", Name: "Child (4 to 17)", Price: 800},
		{ID: "adult", Name: "Adult", Price: 1600},
		{ID: "member", Name: "Member", Price: 0},
		{ID: "senior", Name: "Senior", Price: 1200},
	}
	next.MaxTicketsPerOrder = 6
	next.SalesEnd = h.now().Add(48 * time.Hour)
	if err := h.store.UpdateEvent(h.ctx, next); err != nil {
		t.Fatalf("update event: %v", err)
	}

	got, err := h.store.Event(h.ctx, event.ID)
	if err != nil {
		t.Fatalf("get updated event: %v", err)
	}
	want, err := next.Normalize()
	if err != nil {
		t.Fatalf("normalize event: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got event %+v, want %+v", got, want)
	}

	// Slots, holds and their places stay as they were.
	if stats := h.stats(event.ID, slotA); stats.Held != 2 || stats.Capacity != 10 {
		t.Errorf("got slot stats %+v after the update, want capacity 10 and 2 held", stats)
	}
	if hold, err := h.store.GetHold(h.ctx, held.ID); err != nil || hold.State != booking.HoldActive {
		t.Errorf("got hold %+v, err %v after the update, want it active", hold, err)
	}
	if _, err := h.store.Hold(h.ctx, booking.HoldRequest{Event: event.ID, Slot: slotB, Visitor: "v2", Tickets: map[string]int{"senior": 1}}); err != nil {
		t.Errorf("hold a ticket of the new type: %v", err)
	}
}

func testEventUpdateRejected(t *testing.T, h *harness) {
	event := h.createEvent(nil)

	tests := []struct {
		name string
		edit func(*booking.Event)
		want error
	}{
		{"room changed", func(e *booking.Event) { e.Room = "room-2" }, booking.ErrInvalidEvent},
		{"ticket type removed", func(e *booking.Event) { e.TicketTypes = e.TicketTypes[:2] }, booking.ErrInvalidEvent},
		{"empty title", func(e *booking.Event) { e.Title = "" }, booking.ErrInvalidEvent},
		{"unknown event", func(e *booking.Event) { e.ID = "no-such-event" }, booking.ErrUnknownEvent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			next := event
			next.TicketTypes = append([]booking.TicketType(nil), event.TicketTypes...)
			tc.edit(&next)

			err := h.store.UpdateEvent(h.ctx, next)
			wantErr(t, err, tc.want)
		})
	}

	got, err := h.store.Event(h.ctx, event.ID)
	if err != nil {
		t.Fatalf("get event: %v", err)
	}
	if !reflect.DeepEqual(got, event) {
		t.Errorf("got event %+v after rejected updates, want it unchanged %+v", got, event)
	}
}

func testEventUpdateConcurrent(t *testing.T, h *harness) {
	event := h.createEvent(nil)

	// Each writer adds its own ticket type to the event as it reads it, so
	// a lost update would drop another writer's type and fail its check.
	const writers = 4
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			id := []string{"w0", "w1", "w2", "w3"}[w]
			for range 20 {
				current, err := h.store.Event(h.ctx, event.ID)
				if err != nil {
					errs <- err
					return
				}
				next := current
				next.TicketTypes = append(append([]booking.TicketType(nil), current.TicketTypes...), booking.TicketType{ID: id, Name: id})
				err = h.store.UpdateEvent(h.ctx, next)
				if err == nil {
					return
				}
				if !isInvalidEvent(err) {
					errs <- err
					return
				}
			}
			errs <- errTooManyRetries
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent update: %v", err)
	}

	got, err := h.store.Event(h.ctx, event.ID)
	if err != nil {
		t.Fatalf("get event: %v", err)
	}
	if len(got.TicketTypes) != len(event.TicketTypes)+writers {
		t.Errorf("got %d ticket types after %d concurrent additions, want %d", len(got.TicketTypes), writers, len(event.TicketTypes)+writers)
	}
}

func testAddSlots(t *testing.T, h *harness) {
	event := h.createEvent(nil)
	later := h.slots[1].Start.Add(24 * time.Hour)
	added := []booking.Slot{
		{ID: "c", Start: later, End: later.Add(30 * time.Minute), Capacity: 7},
		{ID: "first", Start: h.slots[2].Start.Add(-time.Minute), End: h.slots[2].Start, Capacity: 1},
	}
	if err := h.store.AddSlots(h.ctx, event.ID, added); err != nil {
		t.Fatalf("add slots: %v", err)
	}

	got, err := h.store.Availability(h.ctx, event.ID)
	if err != nil {
		t.Fatalf("availability: %v", err)
	}
	var ids []string
	for _, slot := range got {
		ids = append(ids, slot.ID)
	}
	if want := []string{"first", slotStarted, slotA, slotB, "c"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("got slots %v, want %v sorted by start", ids, want)
	}
	h.hold(event.ID, "c", "v1", 3)
	if stats := h.stats(event.ID, "c"); stats != (booking.SlotStats{Capacity: 7, Held: 3}) {
		t.Errorf("got stats %+v of the added slot, want capacity 7 and 3 held", stats)
	}

	taken := []booking.Slot{
		{ID: "d", Start: later, End: later.Add(time.Hour), Capacity: 2},
		{ID: slotA, Start: later, End: later.Add(time.Hour), Capacity: 2},
	}
	wantErr(t, h.store.AddSlots(h.ctx, event.ID, taken), booking.ErrInvalidSlot)
	if _, err := h.store.SlotStats(h.ctx, event.ID, "d"); err == nil {
		t.Errorf("slot d exists after a rejected AddSlots, want no slot added")
	}
	wantErr(t, h.store.AddSlots(h.ctx, event.ID, nil), booking.ErrInvalidSlot)
	wantErr(t, h.store.AddSlots(h.ctx, "no-such-event", added), booking.ErrUnknownEvent)
}
