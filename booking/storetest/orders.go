package storetest

import (
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"foyer/booking"
)

func testConfirm(t *testing.T, h *harness) {
	event := h.createEvent(nil)
	hold := h.hold(event.ID, slotA, "v1", 3)

	order := h.confirm(hold.ID, "pay-1")

	if order.State != booking.OrderConfirmed {
		t.Errorf("got state %q, want %q", order.State, booking.OrderConfirmed)
	}
	if order.HoldID != hold.ID || order.Slot != slotA || order.Visitor != "v1" || order.PaymentID != "pay-1" {
		t.Errorf("got order %+v, want hold %s, slot %s, visitor v1, payment pay-1", order, hold.ID, slotA)
	}
	if order.Quantity != 3 || !reflect.DeepEqual(order.Tickets, hold.Tickets) {
		t.Errorf("got %d tickets %v, want 3 tickets %v", order.Quantity, order.Tickets, hold.Tickets)
	}
	if eventID, err := booking.ParseOrderID(order.ID); err != nil || eventID != event.ID {
		t.Errorf("got order id %q with event %q (err %v), want event %q", order.ID, eventID, err, event.ID)
	}
	h.wantStats(event.ID, slotA, 0, 3)

	confirmed := h.getHold(hold.ID)
	if confirmed.State != booking.HoldConfirmed {
		t.Errorf("got hold state %q, want %q", confirmed.State, booking.HoldConfirmed)
	}
	if confirmed.OrderID != order.ID {
		t.Errorf("got hold order id %q, want %q", confirmed.OrderID, order.ID)
	}

	stored, err := h.store.GetOrder(h.ctx, order.ID)
	if err != nil {
		t.Fatalf("get order: %v", err)
	}
	if !reflect.DeepEqual(stored, order) {
		t.Errorf("got stored order %+v, want %+v", stored, order)
	}

	_, err = h.store.GetOrder(h.ctx, booking.NewOrderID(event.ID))
	wantErr(t, err, booking.ErrOrderNotFound)
}

// testConfirmWithRefund applies a payment that the service found wrong,
// such as one of the wrong amount: it becomes an order that needs a refund
// and leaves the hold active, so a right payment can still confirm it.
func testConfirmWithRefund(t *testing.T, h *harness) {
	event := h.createEvent(nil)
	hold := h.hold(event.ID, slotA, "v1", 2)
	mismatch := booking.ErrorCode(booking.ErrAmountMismatch)

	wrong, err := h.store.Confirm(h.ctx, booking.ConfirmRequest{HoldID: hold.ID, PaymentID: "pay-short", Refund: mismatch, PaidAmount: 1999, PaidCurrency: "eur"})
	if err != nil {
		t.Fatalf("confirm with refund %q: %v", mismatch, err)
	}
	if wrong.State != booking.OrderNeedsRefund || wrong.RefundReason != mismatch || wrong.PaymentID != "pay-short" {
		t.Errorf("got order state %q reason %q payment %q, want %q for %q with payment pay-short",
			wrong.State, wrong.RefundReason, wrong.PaymentID, booking.OrderNeedsRefund, mismatch)
	}
	if stored, err := h.store.GetOrder(h.ctx, wrong.ID); err != nil || stored.PaidAmount != 1999 || stored.PaidCurrency != "eur" {
		t.Errorf("stored order: got paid %d %q (err %v), want 1999 \"eur\", what the payment took", stored.PaidAmount, stored.PaidCurrency, err)
	}
	if got := h.getHold(hold.ID); got.State != booking.HoldActive || got.OrderID != "" {
		t.Errorf("got hold state %q order %q, want %q with no order", got.State, got.OrderID, booking.HoldActive)
	}
	h.wantStats(event.ID, slotA, 2, 0)

	again, err := h.store.Confirm(h.ctx, booking.ConfirmRequest{HoldID: hold.ID, PaymentID: "pay-short", Refund: mismatch})
	if err != nil {
		t.Fatalf("repeat confirm with refund: %v", err)
	}
	if again.ID != wrong.ID {
		t.Errorf("repeated payment: got order %s, want %s", again.ID, wrong.ID)
	}

	right := h.confirm(hold.ID, "pay-right")
	if right.State != booking.OrderConfirmed {
		t.Errorf("right payment: got state %q, want %q", right.State, booking.OrderConfirmed)
	}
	h.wantStats(event.ID, slotA, 0, 2)
	if refunds := h.orders(event.ID, booking.OrderNeedsRefund); len(refunds) != 1 || refunds[0].ID != wrong.ID {
		t.Errorf("got needs_refund orders %v, want only %s", orderIDs(refunds), wrong.ID)
	}

	refunded, err := h.store.CancelOrder(h.ctx, wrong.ID)
	if err != nil {
		t.Fatalf("cancel the refunded order: %v", err)
	}
	if refunded.State != booking.OrderCancelled {
		t.Errorf("cancelled refund: got state %q, want %q", refunded.State, booking.OrderCancelled)
	}
	h.wantStats(event.ID, slotA, 0, 2)

	_, err = h.store.Confirm(h.ctx, booking.ConfirmRequest{HoldID: hold.ID, PaymentID: "pay-odd", Refund: "no_such_code"})
	wantErr(t, err, booking.ErrInvalidRequest)
	_, err = h.store.Confirm(h.ctx, booking.ConfirmRequest{HoldID: hold.ID, PaymentID: "pay-negative", Refund: mismatch, PaidAmount: -1})
	wantErr(t, err, booking.ErrInvalidRequest)
}

func testConfirmDuplicate(t *testing.T, h *harness) {
	event := h.createEvent(nil)
	hold := h.hold(event.ID, slotA, "v1", 2)

	first := h.confirm(hold.ID, "pay-1")
	second := h.confirm(hold.ID, "pay-1")

	if second.ID != first.ID {
		t.Errorf("got second order %s, want the first, %s", second.ID, first.ID)
	}
	if got := len(h.orders(event.ID, "")); got != 1 {
		t.Errorf("got %d orders, want 1", got)
	}
	h.wantStats(event.ID, slotA, 0, 2)
}

func testConfirmConcurrentDuplicates(t *testing.T, h *harness) {
	const confirmations = 20
	event := h.createEvent(nil)
	hold := h.hold(event.ID, slotA, "v1", 2)

	ids := make([]string, confirmations)
	var wg sync.WaitGroup
	for i := range confirmations {
		wg.Go(func() {
			order, err := h.store.Confirm(h.ctx, booking.ConfirmRequest{HoldID: hold.ID, PaymentID: "pay-1"})
			if err != nil {
				t.Errorf("confirmation %d: %v", i, err)
				return
			}
			ids[i] = order.ID
		})
	}
	wg.Wait()

	for i, id := range ids {
		if id != ids[0] {
			t.Errorf("confirmation %d: got order %s, want %s like the first", i, id, ids[0])
		}
	}
	if got := len(h.orders(event.ID, "")); got != 1 {
		t.Errorf("got %d orders, want 1", got)
	}
	h.wantStats(event.ID, slotA, 0, 2)
}

func testConfirmSecondPayment(t *testing.T, h *harness) {
	event := h.createEvent(nil)
	hold := h.hold(event.ID, slotA, "v1", 2)
	first := h.confirm(hold.ID, "pay-1")

	second := h.confirm(hold.ID, "pay-2")

	if second.ID == first.ID {
		t.Errorf("got the first order %s for a second payment, want a new order", second.ID)
	}
	if second.State != booking.OrderNeedsRefund {
		t.Errorf("got state %q, want %q", second.State, booking.OrderNeedsRefund)
	}
	if want := booking.ErrorCode(booking.ErrAlreadyConfirmed); second.RefundReason != want {
		t.Errorf("got refund reason %q, want %q", second.RefundReason, want)
	}
	h.wantStats(event.ID, slotA, 0, 2)
}

func testConfirmLateFree(t *testing.T, h *harness) {
	event := h.createEvent(func(e *booking.Event) { e.HoldLifetime = shortLifetime })
	hold := h.hold(event.ID, slotA, "v1", 3)

	h.waitUntilPast(hold.ExpiresAt)
	h.wantStats(event.ID, slotA, 0, 0)
	order := h.confirm(hold.ID, "pay-late")

	if order.State != booking.OrderConfirmed {
		t.Errorf("got state %q (reason %q), want %q", order.State, order.RefundReason, booking.OrderConfirmed)
	}
	h.wantStats(event.ID, slotA, 0, 3)
	if got := h.getHold(hold.ID); got.State != booking.HoldConfirmed || got.OrderID != order.ID {
		t.Errorf("got hold state %q with order %q, want %q with %q", got.State, got.OrderID, booking.HoldConfirmed, order.ID)
	}
}

func testConfirmLateTaken(t *testing.T, h *harness) {
	event := h.createEvent(func(e *booking.Event) { e.HoldLifetime = shortLifetime })
	late := h.hold(event.ID, slotB, "v1", 4)
	h.waitUntilPast(late.ExpiresAt)
	h.hold(event.ID, slotB, "v2", 3)

	order := h.confirm(late.ID, "pay-late")

	if order.State != booking.OrderNeedsRefund {
		t.Errorf("got state %q, want %q", order.State, booking.OrderNeedsRefund)
	}
	if want := booking.ErrorCode(booking.ErrSoldOut); order.RefundReason != want {
		t.Errorf("got refund reason %q, want %q", order.RefundReason, want)
	}
	h.wantStats(event.ID, slotB, 3, 0)

	refunds := h.orders(event.ID, booking.OrderNeedsRefund)
	if len(refunds) != 1 || refunds[0].ID != order.ID {
		t.Errorf("got needs_refund orders %v, want only %s", orderIDs(refunds), order.ID)
	}
	if got := h.orders(event.ID, booking.OrderConfirmed); len(got) != 0 {
		t.Errorf("got confirmed orders %v, want none", orderIDs(got))
	}
	if got := h.getHold(late.ID).State; got != booking.HoldExpired {
		t.Errorf("got hold state %q, want %q", got, booking.HoldExpired)
	}

	again := h.confirm(late.ID, "pay-late")
	if again.ID != order.ID || again.State != booking.OrderNeedsRefund {
		t.Errorf("repeated webhook: got order %s in state %q, want %s in %q", again.ID, again.State, order.ID, booking.OrderNeedsRefund)
	}
}

func testConfirmLateOverLimit(t *testing.T, h *harness) {
	event := h.createEvent(func(e *booking.Event) {
		e.HoldLifetime = shortLifetime
		e.MaxTicketsPerVisitor = 4
	})
	late := h.hold(event.ID, slotA, "v1", 3)
	h.waitUntilPast(late.ExpiresAt)
	h.hold(event.ID, slotA, "v1", 2)

	order := h.confirm(late.ID, "pay-late")

	if order.State != booking.OrderNeedsRefund {
		t.Errorf("got state %q, want %q", order.State, booking.OrderNeedsRefund)
	}
	if want := booking.ErrorCode(booking.ErrLimitExceeded); order.RefundReason != want {
		t.Errorf("got refund reason %q, want %q", order.RefundReason, want)
	}
	h.wantStats(event.ID, slotA, 2, 0)
}

func testConfirmUnknownHold(t *testing.T, h *harness) {
	event := h.createEvent(nil)

	_, err := h.store.Confirm(h.ctx, booking.ConfirmRequest{HoldID: booking.NewHoldID(event.ID), PaymentID: "pay-1"})
	wantErr(t, err, booking.ErrHoldNotFound)

	_, err = h.store.Confirm(h.ctx, booking.ConfirmRequest{HoldID: booking.NewHoldID("no-such-event"), PaymentID: "pay-1"})
	wantErr(t, err, booking.ErrHoldNotFound)

	hold := h.hold(event.ID, slotA, "v1", 1)
	_, err = h.store.Confirm(h.ctx, booking.ConfirmRequest{HoldID: hold.ID})
	wantErr(t, err, booking.ErrInvalidRequest)

	if got := h.orders(event.ID, ""); len(got) != 0 {
		t.Errorf("got orders %v, want none", orderIDs(got))
	}
	h.wantStats(event.ID, slotA, 1, 0)
}

func testCancelOrder(t *testing.T, h *harness) {
	event := h.createEvent(nil)
	hold := h.hold(event.ID, slotB, "v1", 4)
	order := h.confirm(hold.ID, "pay-1")
	h.wantStats(event.ID, slotB, 0, 4)

	cancelled, err := h.store.CancelOrder(h.ctx, order.ID)
	if err != nil {
		t.Fatalf("cancel: %v", err)
	}
	if cancelled.State != booking.OrderCancelled {
		t.Errorf("got state %q, want %q", cancelled.State, booking.OrderCancelled)
	}
	h.wantStats(event.ID, slotB, 0, 0)

	again, err := h.store.CancelOrder(h.ctx, order.ID)
	if err != nil {
		t.Fatalf("cancel twice: %v", err)
	}
	if !reflect.DeepEqual(again, cancelled) {
		t.Errorf("cancel twice: got %+v, want unchanged %+v", again, cancelled)
	}
	h.wantStats(event.ID, slotB, 0, 0)

	h.hold(event.ID, slotB, "v2", 4)
	h.wantStats(event.ID, slotB, 4, 0)

	_, err = h.store.CancelOrder(h.ctx, booking.NewOrderID(event.ID))
	wantErr(t, err, booking.ErrOrderNotFound)
}

func testCancelNeedsRefund(t *testing.T, h *harness) {
	event := h.createEvent(nil)
	hold := h.hold(event.ID, slotA, "v1", 2)
	h.confirm(hold.ID, "pay-1")
	refund := h.confirm(hold.ID, "pay-2")

	cancelled, err := h.store.CancelOrder(h.ctx, refund.ID)
	if err != nil {
		t.Fatalf("cancel: %v", err)
	}
	if cancelled.State != booking.OrderCancelled {
		t.Errorf("got state %q, want %q", cancelled.State, booking.OrderCancelled)
	}
	h.wantStats(event.ID, slotA, 0, 2)
	if got := h.orders(event.ID, booking.OrderNeedsRefund); len(got) != 0 {
		t.Errorf("got needs_refund orders %v, want none", orderIDs(got))
	}
}

func testListOrders(t *testing.T, h *harness) {
	event := h.createEvent(func(e *booking.Event) { e.MaxHoldsPerVisitor = 3 })

	// Orders are created 10ms apart, so their creation times differ.
	var holds, all []string
	for i := range 3 {
		hold := h.hold(event.ID, slotA, fmt.Sprintf("v%d", i), 1)
		holds = append(holds, hold.ID)
		all = append(all, h.confirm(hold.ID, fmt.Sprintf("pay-%d", i)).ID)
		h.wait(10 * time.Millisecond)
	}
	refund := h.confirm(holds[0], "pay-again")
	if _, err := h.store.CancelOrder(h.ctx, all[1]); err != nil {
		t.Fatalf("cancel: %v", err)
	}

	tests := []struct {
		state booking.OrderState
		want  []string
	}{
		{booking.OrderConfirmed, []string{all[0], all[2]}},
		{booking.OrderCancelled, []string{all[1]}},
		{booking.OrderNeedsRefund, []string{refund.ID}},
		{"", append(append([]string(nil), all...), refund.ID)},
	}
	for _, tc := range tests {
		got := orderIDs(h.orders(event.ID, tc.state))
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("state %q: got orders %v, want %v", tc.state, got, tc.want)
		}
	}

	_, err := h.store.ListOrders(h.ctx, event.ID, "paid")
	wantErr(t, err, booking.ErrInvalidRequest)
}

func orderIDs(orders []booking.Order) []string {
	ids := []string{}
	for _, o := range orders {
		ids = append(ids, o.ID)
	}
	return ids
}
