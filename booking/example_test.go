package booking_test

import (
	"errors"
	"fmt"
	"time"

	"foyer/booking"
)

func ExampleLocalTime() {
	loc, _ := time.LoadLocation("Europe/Amsterdam")

	winter, _ := booking.LocalTime(loc, "2026-03-28", "08:30")
	summer, _ := booking.LocalTime(loc, "2026-03-30", "08:30")
	fmt.Println(winter.Format(time.RFC3339), winter.In(loc).Format("15:04 MST"))
	fmt.Println(summer.Format(time.RFC3339), summer.In(loc).Format("15:04 MST"))

	_, err := booking.LocalTime(loc, "2026-03-29", "02:30")
	fmt.Println(errors.Is(err, booking.ErrInvalidSlot))
	// Output:
	// 2026-03-28T07:30:00Z 08:30 CET
	// 2026-03-30T06:30:00Z 08:30 CEST
	// true
}

func ExampleErrorCode() {
	err := fmt.Errorf("hold 3 places in slot a: %w", booking.ErrSoldOut)

	fmt.Println(errors.Is(err, booking.ErrSoldOut))
	fmt.Println(booking.ErrorCode(err))
	fmt.Println(booking.ErrorCode(errors.New("dial tcp: connection refused")))
	// Output:
	// true
	// sold_out
	// internal
}

func ExampleWebhookSigner() {
	signer, err := booking.NewWebhookSigner([]byte("0123456789abcdef0123456789abcdef"), 5*time.Minute)
	if err != nil {
		panic(err)
	}
	body := []byte(`{"type":"payment.succeeded","payment_id":"pay_1","hold_id":"h_demo_abc"}`)
	sentAt := time.Unix(1_780_000_000, 0)

	header := signer.Sign(body, sentAt)
	fmt.Println(signer.Verify(body, header, sentAt.Add(time.Minute)))
	fmt.Println(errors.Is(signer.Verify(body, header, sentAt.Add(time.Hour)), booking.ErrInvalidSignature))
	// Output:
	// <nil>
	// true
}
