package booking

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// WebhookHeader is the HTTP header that carries a payment webhook's signature.
const WebhookHeader = "Foyer-Signature"

// DefaultWebhookTolerance is how far a webhook's timestamp may be from the
// receiver's clock, in either direction, when NewWebhookSigner is given 0.
const DefaultWebhookTolerance = 5 * time.Minute

const minWebhookSecretLength = 32

// WebhookEventPaymentSucceeded is the webhook event type that confirms a hold.
const WebhookEventPaymentSucceeded = "payment.succeeded"

// WebhookEvent is the JSON body of a payment webhook.
type WebhookEvent struct {
	// Type is the event type. Only WebhookEventPaymentSucceeded confirms.
	Type      string `json:"type"`
	PaymentID string `json:"payment_id"`
	HoldID    string `json:"hold_id"`
	Amount    int64  `json:"amount"`
	Currency  string `json:"currency"`
}

// WebhookSigner signs and verifies payment webhooks with HMAC-SHA256.
//
// A signature header looks like "t=1767225600,v1=5257a8…": t is the Unix
// time of signing and v1 is the hex HMAC-SHA256 of "<t>.<body>" under the
// shared secret. Verify accepts several v1 values, so a sender can sign
// with an old and a new secret while the secret rotates.
type WebhookSigner struct {
	secret    []byte
	tolerance time.Duration
}

// NewWebhookSigner returns a signer for a secret of at least 32 bytes. A
// zero tolerance means DefaultWebhookTolerance.
func NewWebhookSigner(secret []byte, tolerance time.Duration) (*WebhookSigner, error) {
	if len(secret) < minWebhookSecretLength {
		return nil, fmt.Errorf("webhook signer: secret has %d bytes, want at least %d", len(secret), minWebhookSecretLength)
	}
	if tolerance == 0 {
		tolerance = DefaultWebhookTolerance
	}
	if tolerance < 0 {
		return nil, fmt.Errorf("webhook signer: tolerance %s must not be negative", tolerance)
	}
	return &WebhookSigner{secret: append([]byte(nil), secret...), tolerance: tolerance}, nil
}

// Sign returns the signature header value for body signed at now.
func (s *WebhookSigner) Sign(body []byte, now time.Time) string {
	timestamp := now.Unix()
	return "t=" + strconv.FormatInt(timestamp, 10) + ",v1=" + hex.EncodeToString(s.mac(timestamp, body))
}

// Verify checks that header signs body with the secret and that its
// timestamp is within the tolerance of now. Every failure wraps
// ErrInvalidSignature.
func (s *WebhookSigner) Verify(body []byte, header string, now time.Time) error {
	timestamp, signatures, err := parseSignatureHeader(header)
	if err != nil {
		return err
	}

	age := now.Sub(time.Unix(timestamp, 0))
	if age > s.tolerance || age < -s.tolerance {
		return fmt.Errorf("verify webhook: timestamp is %s away from now, more than the tolerance of %s: %w", age.Round(time.Second), s.tolerance, ErrInvalidSignature)
	}

	want := s.mac(timestamp, body)
	for _, signature := range signatures {
		if hmac.Equal(signature, want) {
			return nil
		}
	}
	return fmt.Errorf("verify webhook: no v1 signature matches: %w", ErrInvalidSignature)
}

func (s *WebhookSigner) mac(timestamp int64, body []byte) []byte {
	h := hmac.New(sha256.New, s.secret)
	h.Write([]byte(strconv.FormatInt(timestamp, 10)))
	h.Write([]byte("."))
	h.Write(body)
	return h.Sum(nil)
}

func parseSignatureHeader(header string) (int64, [][]byte, error) {
	var (
		timestamp  int64
		haveTime   bool
		signatures [][]byte
	)
	for part := range strings.SplitSeq(header, ",") {
		key, value, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch key {
		case "t":
			t, err := strconv.ParseInt(value, 10, 64)
			if err != nil {
				return 0, nil, fmt.Errorf("verify webhook: timestamp %q is not a Unix time: %w", value, ErrInvalidSignature)
			}
			timestamp, haveTime = t, true
		case "v1":
			signature, err := hex.DecodeString(value)
			if err == nil && len(signature) == sha256.Size {
				signatures = append(signatures, signature)
			}
		}
	}

	if !haveTime {
		return 0, nil, fmt.Errorf("verify webhook: header has no t= timestamp: %w", ErrInvalidSignature)
	}
	if len(signatures) == 0 {
		return 0, nil, fmt.Errorf("verify webhook: header has no well-formed v1= signature: %w", ErrInvalidSignature)
	}
	return timestamp, signatures, nil
}
