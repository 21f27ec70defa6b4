package main

import (
	"crypto/rand"
	"log/slog"
	"time"

	"foyer/booking"
)

// webhookTolerance is how far a payment webhook's signed timestamp may be
// from this process's clock.
const webhookTolerance = 5 * time.Minute

// newBookingService wires the booking core: the store, the built-in test
// payment provider, webhook signatures, fleet-wide latency recording, and
// the waiting room store that frees a visitor's place after booking.
func newBookingService(cfg Config, st stores, log *slog.Logger) (*booking.Service, error) {
	secret := []byte(cfg.WebhookSecret)
	if len(secret) == 0 {
		log.Warn("no webhook secret configured: using a temporary one, so payment webhooks signed before a restart or on another edge will be rejected; set FOYER_WEBHOOK_SECRET")
		secret = make([]byte, 32)
		_, _ = rand.Read(secret)
	}
	webhooks, err := booking.NewWebhookSigner(secret, webhookTolerance)
	if err != nil {
		return nil, err
	}
	return &booking.Service{
		Store:    st.booking,
		Payments: booking.NewTestPayments(),
		Releaser: st.rooms,
		Webhooks: webhooks,
		Recorder: booking.NewRecorder(st.booking, nil, log),
		Logger:   log,
	}, nil
}
