package waitroom

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Ticket is a visitor's queue ticket. It travels in a signed cookie, so an
// edge can serve a status poll from the ticket and its room snapshot alone.
type Ticket struct {
	Room    string
	Visitor string
	// Sequence is 0 while the visitor is in the pre-queue.
	Sequence int64
	IssuedAt time.Time
}

// MaxTicketLength is the longest encoded ticket accepted. Anything longer
// is rejected before it is decoded.
const MaxTicketLength = 512

// Ticket errors. ErrTicketInvalid covers every malformed or forged ticket, on
// purpose: a client learns nothing about which check failed.
var (
	ErrTicketInvalid = errors.New("waitroom: queue ticket is invalid")
	ErrTicketExpired = errors.New("waitroom: queue ticket has expired")
	ErrTicketRoom    = errors.New("waitroom: queue ticket is for another room")
)

// TicketCodec signs and verifies queue tickets with HMAC-SHA256. It signs
// with the newest key and accepts any key it holds, so keys can rotate
// without logging visitors out.
type TicketCodec struct {
	keys    *HMACKeys
	maxAge  time.Duration
	encoder *base64.Encoding
	// macs pools one HMAC hasher per key id: every poll signs or verifies
	// a ticket, and hmac.New allocates.
	macs map[string]*sync.Pool
}

// NewTicketCodec returns a codec that rejects tickets older than maxAge.
func NewTicketCodec(keys *HMACKeys, maxAge time.Duration) *TicketCodec {
	c := &TicketCodec{keys: keys, maxAge: maxAge, encoder: base64.RawURLEncoding, macs: make(map[string]*sync.Pool, len(keys.keys))}
	for id, key := range keys.keys {
		c.macs[id] = &sync.Pool{New: func() any { return hmac.New(sha256.New, key) }}
	}
	return c
}

// Encode returns the ticket as "<key id>.<payload>.<signature>", with the
// payload and signature in unpadded base64url.
func (c *TicketCodec) Encode(t Ticket) string {
	payload := strings.Join([]string{
		t.Room,
		t.Visitor,
		strconv.FormatInt(t.Sequence, 10),
		strconv.FormatInt(t.IssuedAt.Unix(), 10),
	}, "|")
	kid, _ := c.keys.Current()
	p := c.encoder.EncodeToString([]byte(payload))
	return kid + "." + p + "." + c.encoder.EncodeToString(c.sign(kid, p))
}

// sign returns the MAC of "<kid>.<payload>" under the key kid, which must be
// one of the codec's keys.
func (c *TicketCodec) sign(kid, payload string) []byte {
	pool := c.macs[kid]
	m := pool.Get().(hash.Hash)
	defer pool.Put(m)

	m.Reset()
	m.Write([]byte(kid))
	m.Write([]byte{'.'})
	m.Write([]byte(payload))
	return m.Sum(nil)
}

// Decode verifies and parses a ticket for room at now. It returns
// ErrTicketInvalid for anything malformed or forged, ErrTicketExpired for a
// ticket older than the codec's maximum age, and ErrTicketRoom for a valid
// ticket of another room.
func (c *TicketCodec) Decode(value, room string, now time.Time) (Ticket, error) {
	if len(value) > MaxTicketLength {
		return Ticket{}, fmt.Errorf("%w: %d bytes long, at most %d allowed", ErrTicketInvalid, len(value), MaxTicketLength)
	}
	kid, rest, ok := strings.Cut(value, ".")
	if !ok {
		return Ticket{}, ErrTicketInvalid
	}
	payload, mac, ok := strings.Cut(rest, ".")
	if !ok {
		return Ticket{}, ErrTicketInvalid
	}
	if _, ok := c.macs[kid]; !ok {
		return Ticket{}, ErrTicketInvalid
	}
	gotMAC, err := c.encoder.DecodeString(mac)
	if err != nil || !hmac.Equal(gotMAC, c.sign(kid, payload)) {
		return Ticket{}, ErrTicketInvalid
	}

	raw, err := c.encoder.DecodeString(payload)
	if err != nil {
		return Ticket{}, ErrTicketInvalid
	}
	t, err := parseTicketPayload(string(raw))
	if err != nil {
		return Ticket{}, err
	}
	if t.Room != room {
		return Ticket{}, ErrTicketRoom
	}
	if now.Sub(t.IssuedAt) > c.maxAge {
		return Ticket{}, ErrTicketExpired
	}
	return t, nil
}

func parseTicketPayload(s string) (Ticket, error) {
	fields := strings.Split(s, "|")
	if len(fields) != 4 || !ValidRoomID(fields[0]) || !ValidVisitorID(fields[1]) {
		return Ticket{}, ErrTicketInvalid
	}
	seq, err := strconv.ParseInt(fields[2], 10, 64)
	if err != nil || seq < 0 {
		return Ticket{}, ErrTicketInvalid
	}
	issued, err := strconv.ParseInt(fields[3], 10, 64)
	if err != nil || issued <= 0 {
		return Ticket{}, ErrTicketInvalid
	}
	return Ticket{Room: fields[0], Visitor: fields[1], Sequence: seq, IssuedAt: time.Unix(issued, 0)}, nil
}
