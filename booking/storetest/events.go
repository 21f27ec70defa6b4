package storetest

import (
	"reflect"
	"testing"
	"time"

	"foyer/booking"
)

func testEventCreateAndGet(t *testing.T, h *harness) {
	event := newEvent()
	event.MaxTicketsPerVisitor = 0
	event.HoldLifetime = 0
	event.SalesStart = time.Date(2026, 1, 2, 3, 4, 5, 678_900_000, time.FixedZone("X", 3600))

	if err := h.store.CreateEvent(h.ctx, event, defaultSlots(h.now())); err != nil {
		t.Fatalf("create event: %v", err)
	}
	got, err := h.store.Event(h.ctx, event.ID)
	if err != nil {
		t.Fatalf("get event: %v", err)
	}

	want, err := event.Normalize()
	if err != nil {
		t.Fatalf("normalize event: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got event %+v, want %+v", got, want)
	}
	if got.MaxTicketsPerVisitor != booking.DefaultMaxTicketsPerVisitor {
		t.Errorf("got max tickets per visitor %d, want default %d", got.MaxTicketsPerVisitor, booking.DefaultMaxTicketsPerVisitor)
	}
	if got.HoldLifetime != booking.DefaultHoldLifetime {
		t.Errorf("got hold lifetime %s, want default %s", got.HoldLifetime, booking.DefaultHoldLifetime)
	}
	wantSalesStart := time.Date(2026, 1, 2, 2, 4, 5, 678_000_000, time.UTC)
	if !got.SalesStart.Equal(wantSalesStart) || got.SalesStart.Location() != time.UTC {
		t.Errorf("got sales start %s, want %s in UTC", got.SalesStart, wantSalesStart)
	}
}

func testEventCreateTwice(t *testing.T, h *harness) {
	event := h.createEvent(nil)

	err := h.store.CreateEvent(h.ctx, event, defaultSlots(h.now()))
	wantErr(t, err, booking.ErrEventExists)
}

func testEventInvalid(t *testing.T, h *harness) {
	now := h.now()
	tests := []struct {
		name string
		edit func(*booking.Event, *[]booking.Slot)
		want error
	}{
		{"id with underscore", func(e *booking.Event, _ *[]booking.Slot) { e.ID = "bad_id" }, booking.ErrInvalidEvent},
		{"unknown time zone", func(e *booking.Event, _ *[]booking.Slot) { e.TimeZone = "Mars/Olympus" }, booking.ErrInvalidEvent},
		{"no ticket types", func(e *booking.Event, _ *[]booking.Slot) { e.TicketTypes = nil }, booking.ErrInvalidEvent},
		{"negative limit", func(e *booking.Event, _ *[]booking.Slot) { e.MaxHoldsPerVisitor = -1 }, booking.ErrInvalidEvent},
		{"duplicate slot id", func(_ *booking.Event, s *[]booking.Slot) { *s = append(*s, (*s)[0]) }, booking.ErrInvalidSlot},
		{"slot ends before start", func(_ *booking.Event, s *[]booking.Slot) { (*s)[0].End = (*s)[0].Start.Add(-time.Minute) }, booking.ErrInvalidSlot},
		{"negative capacity", func(_ *booking.Event, s *[]booking.Slot) { (*s)[1].Capacity = -1 }, booking.ErrInvalidSlot},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			event := newEvent()
			slots := defaultSlots(now)
			tc.edit(&event, &slots)

			err := h.store.CreateEvent(h.ctx, event, slots)
			wantErr(t, err, tc.want)

			_, err = h.store.Event(h.ctx, event.ID)
			wantErr(t, err, booking.ErrUnknownEvent)
		})
	}
}

func testEventUnknown(t *testing.T, h *harness) {
	const event = "no-such-event"

	_, err := h.store.Event(h.ctx, event)
	wantErr(t, err, booking.ErrUnknownEvent)

	_, err = h.store.Availability(h.ctx, event)
	wantErr(t, err, booking.ErrUnknownEvent)

	_, err = h.store.SlotStats(h.ctx, event, slotA)
	wantErr(t, err, booking.ErrUnknownEvent)

	_, err = h.store.ListOrders(h.ctx, event, "")
	wantErr(t, err, booking.ErrUnknownEvent)

	err = h.store.SetCapacity(h.ctx, event, slotA, 3)
	wantErr(t, err, booking.ErrUnknownEvent)

	_, err = h.store.Hold(h.ctx, booking.HoldRequest{Event: event, Slot: slotA, Visitor: "v1", Quantity: 1})
	wantErr(t, err, booking.ErrUnknownEvent)
}

func testAvailabilitySorted(t *testing.T, h *harness) {
	event := h.createEvent(nil)
	h.hold(event.ID, slotB, "v1", 2)

	got, err := h.store.Availability(h.ctx, event.ID)
	if err != nil {
		t.Fatalf("availability: %v", err)
	}

	slots := h.slots
	want := []booking.SlotAvailability{
		{Slot: slots[2], Held: 0},
		{Slot: slots[0], Held: 0},
		{Slot: slots[1], Held: 2},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d slots, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].ID != want[i].ID {
			t.Errorf("slot %d: got id %s, want %s", i, got[i].ID, want[i].ID)
		}
		if !got[i].Start.Equal(want[i].Start) || !got[i].End.Equal(want[i].End) {
			t.Errorf("slot %s: got %s to %s, want %s to %s", got[i].ID, got[i].Start, got[i].End, want[i].Start, want[i].End)
		}
		if got[i].Capacity != want[i].Capacity {
			t.Errorf("slot %s: got capacity %d, want %d", got[i].ID, got[i].Capacity, want[i].Capacity)
		}
		if got[i].Held != want[i].Held {
			t.Errorf("slot %s: got held %d, want %d", got[i].ID, got[i].Held, want[i].Held)
		}
	}
	if avail := got[2].Available(); avail != 3 {
		t.Errorf("slot %s: got available %d, want 3", slotB, avail)
	}
}

func testSetCapacity(t *testing.T, h *harness) {
	event := h.createEvent(nil)

	if err := h.store.SetCapacity(h.ctx, event.ID, slotA, 25); err != nil {
		t.Fatalf("raise capacity: %v", err)
	}
	if got := h.stats(event.ID, slotA).Capacity; got != 25 {
		t.Errorf("got capacity %d, want 25", got)
	}

	if err := h.store.SetCapacity(h.ctx, event.ID, slotA, 0); err != nil {
		t.Fatalf("lower capacity to 0: %v", err)
	}
	_, err := h.store.Hold(h.ctx, booking.HoldRequest{Event: event.ID, Slot: slotA, Visitor: "v1", Quantity: 1})
	wantErr(t, err, booking.ErrSoldOut)

	err = h.store.SetCapacity(h.ctx, event.ID, "no-such-slot", 3)
	wantErr(t, err, booking.ErrUnknownSlot)

	err = h.store.SetCapacity(h.ctx, event.ID, slotA, -1)
	wantErr(t, err, booking.ErrInvalidSlot)
}

func testSetCapacityBelowSoldAndHeld(t *testing.T, h *harness) {
	event := h.createEvent(func(e *booking.Event) { e.HoldLifetime = shortLifetime })

	sold := h.hold(event.ID, slotA, "v1", 3)
	h.confirm(sold.ID, "pay-1")
	held := h.hold(event.ID, slotA, "v2", 4)

	err := h.store.SetCapacity(h.ctx, event.ID, slotA, 6)
	wantErr(t, err, booking.ErrCapacityTooLow)
	if got := h.stats(event.ID, slotA).Capacity; got != 10 {
		t.Errorf("after rejected change: got capacity %d, want 10", got)
	}

	if err := h.store.SetCapacity(h.ctx, event.ID, slotA, 7); err != nil {
		t.Fatalf("set capacity to sold + held: %v", err)
	}

	// Once the hold expires its places no longer count.
	h.waitUntilPast(held.ExpiresAt)
	if err := h.store.SetCapacity(h.ctx, event.ID, slotA, 3); err != nil {
		t.Fatalf("set capacity to sold after expiry: %v", err)
	}
	if got := h.stats(event.ID, slotA); got != (booking.SlotStats{Capacity: 3, Held: 0, Sold: 3}) {
		t.Errorf("got stats %+v, want capacity 3, held 0, sold 3", got)
	}
}

func testTimeZoneRoundTrip(t *testing.T, h *harness) {
	loc, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		t.Fatalf("load zone: %v", err)
	}

	// 2026-03-29 and 2026-10-25 are the Sundays when Europe/Amsterdam
	// changes between CET (+01:00) and CEST (+02:00).
	var slots []booking.Slot
	for _, date := range []string{"2026-03-28", "2026-03-30", "2026-10-24", "2026-10-26"} {
		slot, err := booking.LocalSlot(loc, date, "08:30", 30*time.Minute, 10)
		if err != nil {
			t.Fatalf("local slot on %s: %v", date, err)
		}
		slots = append(slots, slot)
	}
	overlap, err := booking.LocalSlot(loc, "2026-10-25", "02:30", 30*time.Minute, 10)
	if err != nil {
		t.Fatalf("local slot in the repeated hour: %v", err)
	}
	slots = append(slots, overlap)

	_, err = booking.LocalSlot(loc, "2026-03-29", "02:30", 30*time.Minute, 10)
	wantErr(t, err, booking.ErrInvalidSlot)

	event := newEvent()
	if err := h.store.CreateEvent(h.ctx, event, slots); err != nil {
		t.Fatalf("create event: %v", err)
	}
	got, err := h.store.Availability(h.ctx, event.ID)
	if err != nil {
		t.Fatalf("availability: %v", err)
	}

	wantUTC := map[string]string{
		"20260328-0830": "2026-03-28T07:30:00Z",
		"20260330-0830": "2026-03-30T06:30:00Z",
		"20261024-0830": "2026-10-24T06:30:00Z",
		"20261026-0830": "2026-10-26T07:30:00Z",
		"20261025-0230": "2026-10-25T00:30:00Z", // the first 02:30, still CEST
	}
	if len(got) != len(wantUTC) {
		t.Fatalf("got %d slots, want %d", len(got), len(wantUTC))
	}
	for _, slot := range got {
		if want := wantUTC[slot.ID]; slot.Start.Format(time.RFC3339) != want {
			t.Errorf("slot %s: got start %s, want %s", slot.ID, slot.Start.Format(time.RFC3339), want)
		}
		if slot.Start.Location() != time.UTC {
			t.Errorf("slot %s: got location %s, want UTC", slot.ID, slot.Start.Location())
		}
		if local := slot.Start.In(loc).Format("20060102-1504"); local != slot.ID {
			t.Errorf("slot %s: got local start %s, want %s", slot.ID, local, slot.ID)
		}
	}
}
