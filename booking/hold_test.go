package booking

import (
	"errors"
	"reflect"
	"testing"
)

func TestResolveTickets(t *testing.T) {
	event, err := validEvent().Normalize()
	if err != nil {
		t.Fatalf("normalize: %v", err)
	}
	event.MaxTicketsPerOrder = 4

	tests := []struct {
		name        string
		req         HoldRequest
		wantTickets map[string]int
		wantTotal   int
		wantErr     error
	}{
		{"quantity books the first type", HoldRequest{Quantity: 3}, map[string]int{"adult": 3}, 3, nil},
		{"tickets", HoldRequest{Tickets: map[string]int{"adult": 1, "child": 2}}, map[string]int{"adult": 1, "child": 2}, 3, nil},
		{"zero counts are dropped", HoldRequest{Tickets: map[string]int{"adult": 1, "child": 0}}, map[string]int{"adult": 1}, 1, nil},
		{"quantity equal to tickets", HoldRequest{Quantity: 2, Tickets: map[string]int{"child": 2}}, map[string]int{"child": 2}, 2, nil},
		{"at the order limit", HoldRequest{Quantity: 4}, map[string]int{"adult": 4}, 4, nil},
		{"zero", HoldRequest{}, nil, 0, ErrInvalidQuantity},
		{"negative quantity", HoldRequest{Quantity: -1}, nil, 0, ErrInvalidQuantity},
		{"negative count", HoldRequest{Tickets: map[string]int{"adult": -1}}, nil, 0, ErrInvalidQuantity},
		{"count above max", HoldRequest{Tickets: map[string]int{"adult": MaxQuantity + 1}}, nil, 0, ErrInvalidQuantity},
		{"quantity differs", HoldRequest{Quantity: 1, Tickets: map[string]int{"adult": 2}}, nil, 0, ErrInvalidQuantity},
		{"above the order limit", HoldRequest{Quantity: 5}, nil, 0, ErrLimitExceeded},
		{"unknown type", HoldRequest{Tickets: map[string]int{"senior": 1}}, nil, 0, ErrUnknownTicketType},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tickets, total, err := event.ResolveTickets(tc.req)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("got error %v, want %v", err, tc.wantErr)
			}
			if !reflect.DeepEqual(tickets, tc.wantTickets) {
				t.Errorf("got tickets %v, want %v", tickets, tc.wantTickets)
			}
			if total != tc.wantTotal {
				t.Errorf("got total %d, want %d", total, tc.wantTotal)
			}
		})
	}
}

func TestHoldRequestValidate(t *testing.T) {
	valid := HoldRequest{Event: "demo", Slot: "a", Visitor: "v1", Quantity: 1}
	if err := valid.Validate(); err != nil {
		t.Fatalf("valid request: %v", err)
	}

	tests := []struct {
		name string
		edit func(*HoldRequest)
		want error
	}{
		{"bad event id", func(r *HoldRequest) { r.Event = "De mo" }, ErrUnknownEvent},
		{"bad slot id", func(r *HoldRequest) { r.Slot = "" }, ErrUnknownSlot},
		{"missing visitor", func(r *HoldRequest) { r.Visitor = "" }, ErrInvalidRequest},
		{"zero quantity", func(r *HoldRequest) { r.Quantity = 0 }, ErrInvalidQuantity},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := valid
			tc.edit(&req)
			if err := req.Validate(); !errors.Is(err, tc.want) {
				t.Errorf("got error %v, want %v", err, tc.want)
			}
		})
	}
}
