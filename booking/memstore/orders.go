package memstore

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"foyer/booking"
)

// Confirm implements booking.Store.
func (s *Store) Confirm(ctx context.Context, req booking.ConfirmRequest) (booking.Order, error) {
	if err := ctx.Err(); err != nil {
		return booking.Order{}, err
	}
	if err := req.Validate(); err != nil {
		return booking.Order{}, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	now := s.clock()
	ev, err := s.holdEvent(req.HoldID)
	if err != nil {
		return booking.Order{}, err
	}
	if orderID, ok := ev.payments[req.PaymentID]; ok {
		return orderView(ev.orders[orderID]), nil
	}

	ev.reclaim(now)
	record, ok := ev.holds[req.HoldID]
	if !ok {
		return booking.Order{}, fmt.Errorf("confirm hold %s: %w", req.HoldID, booking.ErrHoldNotFound)
	}
	hold := &record.hold

	order := &booking.Order{
		ID:        booking.NewOrderID(hold.Event),
		Event:     hold.Event,
		Slot:      hold.Slot,
		HoldID:    hold.ID,
		Visitor:   hold.Visitor,
		PaymentID: req.PaymentID,
		Tickets:   maps.Clone(hold.Tickets),
		Quantity:  hold.Quantity,
		State:     booking.OrderConfirmed,
		CreatedAt: now,
		UpdatedAt: now,

		PaidAmount:   req.PaidAmount,
		PaidCurrency: req.PaidCurrency,
	}

	switch {
	case req.Refund != "":
		order.State = booking.OrderNeedsRefund
		order.RefundReason = req.Refund

	case hold.State == booking.HoldActive:
		ev.endHold(record, booking.HoldConfirmed, now)
		ev.sell(record, order.ID)

	case hold.State == booking.HoldConfirmed:
		order.State = booking.OrderNeedsRefund
		order.RefundReason = booking.ErrorCode(booking.ErrAlreadyConfirmed)

	default:
		if reason := ev.lateConfirmError(hold, now); reason != nil {
			order.State = booking.OrderNeedsRefund
			order.RefundReason = booking.ErrorCode(reason)
			break
		}
		hold.State = booking.HoldConfirmed
		ev.schedulePurge(record, now)
		ev.sell(record, order.ID)
	}

	ev.orders[order.ID] = order
	ev.payments[req.PaymentID] = order.ID
	ev.purgeHolds(now)
	return orderView(order), nil
}

// sell moves a confirmed hold's places to sold.
func (ev *eventState) sell(record *holdRecord, orderID string) {
	hold := &record.hold
	hold.OrderID = orderID
	ev.slots[hold.Slot].sold += hold.Quantity
	ev.visitor(hold.Visitor).sold += hold.Quantity
}

// lateConfirmError returns why a hold that already ended cannot become a
// confirmed order now, or nil if it can.
func (ev *eventState) lateConfirmError(hold *booking.Hold, now time.Time) error {
	slot := ev.slots[hold.Slot]
	if !now.Before(slot.slot.Start) {
		return booking.ErrSlotStarted
	}

	v := ev.visitors[hold.Visitor]
	if v == nil {
		v = &visitorState{}
	}
	if v.sold+v.held+hold.Quantity > ev.event.MaxTicketsPerVisitor {
		return booking.ErrLimitExceeded
	}

	if slot.slot.Capacity-slot.sold-slot.held < hold.Quantity {
		return booking.ErrSoldOut
	}
	return nil
}

// CancelOrder implements booking.Store.
func (s *Store) CancelOrder(ctx context.Context, orderID string) (booking.Order, error) {
	if err := ctx.Err(); err != nil {
		return booking.Order{}, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	now := s.clock()
	ev, order, err := s.order(orderID)
	if err != nil {
		return booking.Order{}, err
	}

	switch order.State {
	case booking.OrderConfirmed:
		ev.slots[order.Slot].sold -= order.Quantity
		ev.visitor(order.Visitor).sold -= order.Quantity
		ev.dropVisitorIfEmpty(order.Visitor)
		fallthrough
	case booking.OrderNeedsRefund:
		order.State = booking.OrderCancelled
		order.UpdatedAt = now
	}
	return orderView(order), nil
}

// GetOrder implements booking.Store.
func (s *Store) GetOrder(ctx context.Context, orderID string) (booking.Order, error) {
	if err := ctx.Err(); err != nil {
		return booking.Order{}, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	_, order, err := s.order(orderID)
	if err != nil {
		return booking.Order{}, err
	}
	return orderView(order), nil
}

// order finds an order by id. The caller must hold s.mu.
func (s *Store) order(orderID string) (*eventState, *booking.Order, error) {
	eventID, err := booking.ParseOrderID(orderID)
	if err != nil {
		return nil, nil, err
	}

	ev, ok := s.events[eventID]
	if !ok {
		return nil, nil, fmt.Errorf("order %s: %w", orderID, booking.ErrOrderNotFound)
	}
	order, ok := ev.orders[orderID]
	if !ok {
		return nil, nil, fmt.Errorf("order %s: %w", orderID, booking.ErrOrderNotFound)
	}
	return ev, order, nil
}

// ListOrders implements booking.Store.
func (s *Store) ListOrders(ctx context.Context, event string, state booking.OrderState) ([]booking.Order, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if state != "" && !booking.ValidOrderState(state) {
		return nil, fmt.Errorf("list orders: state %q is not one of %v: %w", state, booking.OrderStates, booking.ErrInvalidRequest)
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	ev, err := s.event(event)
	if err != nil {
		return nil, err
	}

	out := []booking.Order{}
	for _, order := range ev.orders {
		if state == "" || order.State == state {
			out = append(out, orderView(order))
		}
	}
	slices.SortFunc(out, func(a, b booking.Order) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out, nil
}
