package memstore

import (
	"fmt"
	"maps"
	"time"

	"foyer/booking"
)

// eventState is everything stored for one event. The Store's mutex guards it.
type eventState struct {
	event     booking.Event
	retention time.Duration // how long ended holds stay findable
	slots     map[string]*slotState
	slotOrder []string

	// holds contains active holds and ended ones until their purge time.
	holds map[string]*holdRecord
	// expiry orders active holds by expiry. Extended, released and
	// confirmed holds leave stale entries behind, which reclaim skips.
	expiry deadlines
	// purge orders ended holds by the time they are forgotten.
	purge deadlines

	orders   map[string]*booking.Order
	payments map[string]string // payment id to order id
	visitors map[string]*visitorState
}

type slotState struct {
	slot booking.Slot
	// held counts places in active holds, including holds that expired but
	// were not reclaimed yet. reclaim brings it up to date.
	held int
	sold int
}

type holdRecord struct {
	hold    booking.Hold
	purgeAt time.Time
}

// visitorState counts one visitor's places in one event.
type visitorState struct {
	holds int // active holds
	held  int // places in active holds
	sold  int // places in confirmed orders
}

func newEventState(event booking.Event, slots []booking.Slot, retention time.Duration) *eventState {
	ev := &eventState{
		event:     event,
		retention: retention,
		slots:     make(map[string]*slotState, len(slots)),
		holds:     make(map[string]*holdRecord),
		orders:    make(map[string]*booking.Order),
		payments:  make(map[string]string),
		visitors:  make(map[string]*visitorState),
	}
	ev.addSlots(slots)
	return ev
}

// addSlots adds slots whose ids are new and keeps slotOrder sorted by start
// time, then id.
func (ev *eventState) addSlots(slots []booking.Slot) {
	all := make([]booking.Slot, 0, len(ev.slots)+len(slots))
	for _, state := range ev.slots {
		all = append(all, state.slot)
	}
	for _, slot := range slots {
		ev.slots[slot.ID] = &slotState{slot: slot}
		all = append(all, slot)
	}

	booking.SortSlots(all)
	ev.slotOrder = ev.slotOrder[:0]
	for _, slot := range all {
		ev.slotOrder = append(ev.slotOrder, slot.ID)
	}
}

func (ev *eventState) slot(id string) (*slotState, error) {
	state, ok := ev.slots[id]
	if !ok {
		return nil, fmt.Errorf("event %s: slot %q: %w", ev.event.ID, id, booking.ErrUnknownSlot)
	}
	return state, nil
}

func (ev *eventState) visitor(id string) *visitorState {
	v, ok := ev.visitors[id]
	if !ok {
		v = &visitorState{}
		ev.visitors[id] = v
	}
	return v
}

// dropVisitorIfEmpty keeps the visitors map from growing with visitors who
// hold and own nothing.
func (ev *eventState) dropVisitorIfEmpty(id string) {
	if v, ok := ev.visitors[id]; ok && *v == (visitorState{}) {
		delete(ev.visitors, id)
	}
}

// reclaim returns the places of every hold that expired at or before now.
func (ev *eventState) reclaim(now time.Time) {
	for {
		due, ok := ev.expiry.popDue(now)
		if !ok {
			return
		}

		record, ok := ev.holds[due.id]
		if !ok || record.hold.State != booking.HoldActive || !record.hold.ExpiresAt.Equal(due.at) {
			continue
		}
		ev.endHold(record, booking.HoldExpired, record.hold.ExpiresAt)
	}
}

// endHold returns an active hold's places and gives it its final state.
// Its record is kept until the retention has passed after endedAt.
func (ev *eventState) endHold(record *holdRecord, state booking.HoldState, endedAt time.Time) {
	hold := &record.hold
	ev.slots[hold.Slot].held -= hold.Quantity

	v := ev.visitor(hold.Visitor)
	v.holds--
	v.held -= hold.Quantity
	ev.dropVisitorIfEmpty(hold.Visitor)

	hold.State = state
	ev.schedulePurge(record, endedAt)
}

func (ev *eventState) schedulePurge(record *holdRecord, endedAt time.Time) {
	record.purgeAt = endedAt.Add(ev.retention)
	ev.purge.add(record.purgeAt, record.hold.ID)
}

// purgeHolds deletes ended holds whose retention has passed.
func (ev *eventState) purgeHolds(now time.Time) {
	for {
		due, ok := ev.purge.popDue(now)
		if !ok {
			return
		}

		record, ok := ev.holds[due.id]
		if ok && record.hold.State != booking.HoldActive && record.purgeAt.Equal(due.at) {
			delete(ev.holds, due.id)
		}
	}
}

// holdView returns a copy of a hold as seen at now: an active hold whose
// expiry has passed shows as expired even before reclaim runs.
func holdView(hold booking.Hold, now time.Time) booking.Hold {
	hold.Tickets = maps.Clone(hold.Tickets)
	if hold.State == booking.HoldActive && !now.Before(hold.ExpiresAt) {
		hold.State = booking.HoldExpired
	}
	return hold
}

func orderView(order *booking.Order) booking.Order {
	out := *order
	out.Tickets = maps.Clone(order.Tickets)
	return out
}
