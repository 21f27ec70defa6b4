package booking

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

func newTestSigner(t *testing.T) *WebhookSigner {
	t.Helper()

	signer, err := NewWebhookSigner(testSecret, time.Minute)
	if err != nil {
		t.Fatalf("new signer: %v", err)
	}
	return signer
}

func TestWebhookSignVerify(t *testing.T) {
	signer := newTestSigner(t)
	body := []byte(`{"type":"payment.succeeded","payment_id":"pay_1","hold_id":"h_demo_abc"}`)
	signedAt := time.Unix(1_780_000_000, 0)
	header := signer.Sign(body, signedAt)

	if !strings.HasPrefix(header, "t=1780000000,v1=") {
		t.Errorf("got header %q, want it to start with t=1780000000,v1=", header)
	}
	if err := signer.Verify(body, header, signedAt.Add(30*time.Second)); err != nil {
		t.Errorf("verify within tolerance: %v", err)
	}
	if err := signer.Verify(body, header, signedAt.Add(-30*time.Second)); err != nil {
		t.Errorf("verify with a receiver clock behind: %v", err)
	}
}

func TestWebhookVerifyRejects(t *testing.T) {
	signer := newTestSigner(t)
	body := []byte(`{"payment_id":"pay_1"}`)
	signedAt := time.Unix(1_780_000_000, 0)
	header := signer.Sign(body, signedAt)

	other, err := NewWebhookSigner([]byte("another secret of thirty-two bytes!"), time.Minute)
	if err != nil {
		t.Fatalf("new signer: %v", err)
	}

	tests := []struct {
		name   string
		body   []byte
		header string
		now    time.Time
	}{
		{"tampered body", []byte(`{"payment_id":"pay_2"}`), header, signedAt},
		{"too old", body, header, signedAt.Add(2 * time.Minute)},
		{"from the future", body, header, signedAt.Add(-2 * time.Minute)},
		{"other secret", body, other.Sign(body, signedAt), signedAt},
		{"empty header", body, "", signedAt},
		{"no timestamp", body, header[strings.Index(header, "v1="):], signedAt},
		{"bad timestamp", body, "t=soon," + header[strings.Index(header, "v1="):], signedAt},
		{"no signature", body, "t=1780000000", signedAt},
		{"short signature", body, "t=1780000000,v1=abcd", signedAt},
		{"changed timestamp", body, strings.Replace(header, "t=1780000000", "t=1780000001", 1), signedAt},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := signer.Verify(tc.body, tc.header, tc.now)
			if !errors.Is(err, ErrInvalidSignature) {
				t.Errorf("got error %v, want %v", err, ErrInvalidSignature)
			}
		})
	}
}

func TestWebhookVerifyAcceptsAnyOfSeveralSignatures(t *testing.T) {
	signer := newTestSigner(t)
	old, err := NewWebhookSigner([]byte("the previous secret, 32 bytes long"), time.Minute)
	if err != nil {
		t.Fatalf("new signer: %v", err)
	}
	body := []byte(`{}`)
	now := time.Unix(1_780_000_000, 0)

	// A sender rotating its secret signs with the old and the new one.
	oldHeader := old.Sign(body, now)
	newHeader := signer.Sign(body, now)
	header := oldHeader + "," + newHeader[strings.Index(newHeader, "v1="):]

	if err := signer.Verify(body, header, now); err != nil {
		t.Errorf("verify: %v", err)
	}
}

func TestNewWebhookSignerRejectsShortSecret(t *testing.T) {
	if _, err := NewWebhookSigner([]byte("short"), 0); err == nil {
		t.Errorf("got no error for a 5-byte secret, want one")
	}
	if _, err := NewWebhookSigner(testSecret, -time.Second); err == nil {
		t.Errorf("got no error for a negative tolerance, want one")
	}
}

// FuzzWebhookVerify feeds Verify any header for a fixed body. It must not
// panic, every failure must wrap ErrInvalidSignature, and a header it
// accepts must carry the signature of the body at the header's own time.
func FuzzWebhookVerify(f *testing.F) {
	signer, err := NewWebhookSigner(testSecret, time.Minute)
	if err != nil {
		f.Fatal(err)
	}
	body := []byte(`{"type":"payment.succeeded","payment_id":"pay_1","hold_id":"h_demo_abc"}`)
	now := time.Unix(1_780_000_000, 0)
	f.Add(signer.Sign(body, now))
	f.Add(signer.Sign(body, now.Add(-2*time.Minute)))
	f.Add("t=1780000000,v1=00,v1=" + strings.Repeat("ab", 32))
	f.Add("t=abc,v1=zz")
	f.Add(",,=,t=,v1=")
	f.Add("t=-9223372036854775808,v1=" + strings.Repeat("0", 64))

	f.Fuzz(func(t *testing.T, header string) {
		err := signer.Verify(body, header, now)
		if err != nil {
			if !errors.Is(err, ErrInvalidSignature) {
				t.Fatalf("header %q: got error %v, want it to wrap %v", header, err, ErrInvalidSignature)
			}
			return
		}
		timestamp, _, perr := parseSignatureHeader(header)
		if perr != nil {
			t.Fatalf("header %q: accepted, but parsing it fails: %v", header, perr)
		}
		want := signer.Sign(body, time.Unix(timestamp, 0))
		_, v1, _ := strings.Cut(want, ",v1=")
		// Hex digits may come in either case.
		if !strings.Contains(strings.ToLower(header), "v1="+v1) {
			t.Fatalf("header %q: accepted without the body's signature %s", header, v1)
		}
	})
}
