package redisstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"foyer/booking"
)

// Confirm implements booking.Store.
func (s *Store) Confirm(ctx context.Context, req booking.ConfirmRequest) (booking.Order, error) {
	if err := req.Validate(); err != nil {
		return booking.Order{}, err
	}
	event, err := booking.ParseHoldID(req.HoldID)
	if err != nil {
		return booking.Order{}, err
	}

	orderID := booking.NewOrderID(event)
	values, err := s.runEvent(ctx, s.scripts.confirm, event, req.HoldID, req.PaymentID, orderID, req.Refund, req.PaidAmount, req.PaidCurrency)
	if err != nil {
		return booking.Order{}, fmt.Errorf("confirm hold %s: %w", req.HoldID, err)
	}
	return s.decodeOrderReply(s.scripts.confirm.name, values)
}

// CancelOrder implements booking.Store.
func (s *Store) CancelOrder(ctx context.Context, orderID string) (booking.Order, error) {
	event, err := booking.ParseOrderID(orderID)
	if err != nil {
		return booking.Order{}, err
	}

	values, err := s.runEvent(ctx, s.scripts.cancelOrder, event, orderID)
	if err != nil {
		return booking.Order{}, fmt.Errorf("cancel order %s: %w", orderID, err)
	}
	return s.decodeOrderReply(s.scripts.cancelOrder.name, values)
}

// GetOrder implements booking.Store.
func (s *Store) GetOrder(ctx context.Context, orderID string) (booking.Order, error) {
	event, err := booking.ParseOrderID(orderID)
	if err != nil {
		return booking.Order{}, err
	}

	values, err := s.runEvent(ctx, s.scripts.getOrder, event, orderID)
	if err != nil {
		return booking.Order{}, fmt.Errorf("get order %s: %w", orderID, err)
	}
	return s.decodeOrderReply(s.scripts.getOrder.name, values)
}

// ListOrders implements booking.Store.
func (s *Store) ListOrders(ctx context.Context, event string, state booking.OrderState) ([]booking.Order, error) {
	if state != "" && !booking.ValidOrderState(state) {
		return nil, fmt.Errorf("list orders: state %q is not one of %v: %w", state, booking.OrderStates, booking.ErrInvalidRequest)
	}
	if !booking.ValidEventID(event) {
		return nil, fmt.Errorf("list orders: event %q: %w", event, booking.ErrUnknownEvent)
	}

	name := s.scripts.listOrders.name
	values, err := s.runEvent(ctx, s.scripts.listOrders, event, string(state))
	if err != nil {
		return nil, fmt.Errorf("list orders of event %s: %w", event, err)
	}

	orders := make([]booking.Order, 0, len(values))
	for _, value := range values {
		raw, ok := value.(string)
		if !ok {
			return nil, fmt.Errorf("redis script %s: got %T for an order, want a string", name, value)
		}
		order, err := decodeOrder(raw)
		if err != nil {
			return nil, err
		}
		orders = append(orders, order)
	}

	slices.SortFunc(orders, func(a, b booking.Order) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return orders, nil
}

func (s *Store) decodeOrderReply(name string, values []any) (booking.Order, error) {
	raw, err := oneString(name, values)
	if err != nil {
		return booking.Order{}, err
	}
	return decodeOrder(raw)
}
