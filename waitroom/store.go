package waitroom

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Errors returned by stores and the edge. Check them with errors.Is.
var (
	ErrRoomNotFound    = errors.New("waitroom: room not found")
	ErrRoomExists      = errors.New("waitroom: room already exists")
	ErrRoomClosed      = errors.New("waitroom: room is closed")
	ErrRoomSoldOut     = errors.New("waitroom: room is sold out")
	ErrVisitorNotFound = errors.New("waitroom: visitor has no place in this room")
	// ErrUnavailable wraps store failures such as a lost connection, so
	// callers can tell "try again shortly" from a bad request.
	ErrUnavailable = errors.New("waitroom: store unavailable")
)

// VisitorState is a visitor's state in one room. The zero value is unknown.
type VisitorState string

// Visitor states.
const (
	// StatePrequeue: joined before opening and waiting for the draw.
	StatePrequeue VisitorState = "prequeue"
	// StateWaiting: in line with a sequence number.
	StateWaiting VisitorState = "waiting"
	// StateAdmitted: admitted and inside the admission window or booking
	// session.
	StateAdmitted VisitorState = "admitted"
	// StateExpired: admitted earlier and the window or session has ended, or
	// skipped as abandoned and last seen longer ago than the session lifetime.
	StateExpired VisitorState = "expired"
)

// Place is a visitor's place in a room as the store records it.
type Place struct {
	Visitor string
	State   VisitorState
	// Sequence is the visitor's place in arrival order; 0 in the pre-queue.
	Sequence int64
	// Ahead is the exact number of visitors waiting before this one. It is
	// 0 unless State is StateWaiting or StatePrequeue. In the pre-queue it is
	// the number of other visitors in the pre-queue, since the order is drawn
	// only at opening.
	Ahead int64
	// AdmittedAt and Deadline are set when State is StateAdmitted: Deadline
	// is the end of the admission window, or of the booking session once
	// StartSession was called.
	AdmittedAt time.Time
	Deadline   time.Time
	// Created is true when Join created this place.
	Created bool
}

// Snapshot is a room's settings and counters read in one store call. Edges
// keep one per room and serve most status polls from it.
type Snapshot struct {
	Settings Settings
	// Now is the store's clock when the snapshot was read.
	Now time.Time
	// Head is the highest sequence number that has left the line, admitted
	// or skipped. Waiting visitors have larger numbers, except abandoned
	// visitors who came back to the front.
	Head int64
	// Tail is the last sequence number given out.
	Tail int64
	// Waiting counts visitors in line with a sequence number.
	Waiting int64
	// Prequeue counts visitors waiting for the draw at opening.
	Prequeue int64
	// Active counts admitted visitors inside their window or session.
	Active int64
	// Admitted and Abandoned count all admissions and skips since the room
	// was created or reset.
	Admitted  int64
	Abandoned int64
	// SkipRatio is a moving average of the share of visitors leaving the
	// line who were skipped as abandoned, from 0 to 1.
	SkipRatio float64
}

// State returns the room's state at the snapshot's time.
func (s Snapshot) State() RoomState { return s.Settings.State(s.Now) }

// AdmitLimits bound the work of one admission step.
type AdmitLimits struct {
	// MaxAdmit caps admissions in one step, whatever the bucket allows.
	MaxAdmit int
	// MaxSkip caps how many abandoned visitors one step skips.
	MaxSkip int
}

// DefaultAdmitLimits keep one admission step short enough not to stall a
// Redis server for other clients.
var DefaultAdmitLimits = AdmitLimits{MaxAdmit: 1000, MaxSkip: 1000}

// AdmitResult reports what one admission step did.
type AdmitResult struct {
	Admitted []Admission
	// Skipped counts visitors skipped as abandoned in this step.
	Skipped int
	// Expired counts active visitors whose window or session ended and
	// whose place in MaxActive was freed in this step.
	Expired int
	// Promoted counts pre-queue visitors given sequence numbers in this step.
	Promoted int
	// Tokens is the bucket's level after the step.
	Tokens float64
	// State is the room's state when the step ran; nothing is admitted unless
	// it is RoomOpen.
	State RoomState
}

// Admission is one entry of a room's admission log.
type Admission struct {
	Visitor    string    `json:"visitor"`
	Sequence   int64     `json:"sequence"`
	AdmittedAt time.Time `json:"admitted_at"`
}

// Store keeps rooms, lines and admissions. Every method is atomic with
// respect to the others, on one process or across many edges sharing a
// store. Time comes from the store's clock (Redis TIME, or the memory
// store's injected clock).
type Store interface {
	// SeedRoom creates the room if it is missing and sets each setting that
	// the store does not have yet, leaving the others as they are, so an
	// organizer's change survives restarts. It returns the room's settings.
	SeedRoom(ctx context.Context, s Settings) (Settings, error)
	// CreateRoom creates a room; ErrRoomExists if it is there already.
	CreateRoom(ctx context.Context, s Settings) error
	// UpdateRoom applies p atomically and returns the new settings. It
	// validates the result and changes nothing when it is invalid.
	UpdateRoom(ctx context.Context, room string, p Patch) (Settings, error)
	// ResetRoom empties the room's line, pre-queue, active set, admission log,
	// counters, bucket, controller state and decision history, keeping its
	// settings and audit log. It is meant for rehearsals.
	ResetRoom(ctx context.Context, room string) error
	// Rooms lists the ids of all rooms.
	Rooms(ctx context.Context) ([]string, error)
	// Snapshot reads the room's settings and counters in one call.
	Snapshot(ctx context.Context, room string) (Snapshot, error)

	// Join gives visitor a place: in the pre-queue under prequeueKey before
	// the room opens, or at the back of the line after. A visitor who has a
	// place keeps it; one who was skipped as abandoned within the session
	// lifetime goes back to the front. For a visitor whose place expired,
	// Join changes nothing and returns a Place with StateExpired, so the
	// caller can issue a new visitor id. Joins fail with ErrRoomClosed or
	// ErrRoomSoldOut in those room states, and ErrRoomNotFound.
	Join(ctx context.Context, room, visitor string, prequeueKey uint64) (Place, error)
	// Position reads the visitor's exact place and records a heartbeat.
	// A visitor skipped as abandoned within the session lifetime goes back
	// to the front. ErrVisitorNotFound when the visitor has no place.
	Position(ctx context.Context, room, visitor string) (Place, error)
	// Heartbeat records that the visitors were seen now. Visitors without a
	// place are ignored.
	Heartbeat(ctx context.Context, room string, visitors []string) error
	// Admit runs one admission step: it orders the pre-queue if the room has
	// opened, frees expired active places, refills the token bucket from the
	// store's clock and admits waiting visitors in sequence order while the
	// bucket, MaxActive and limits allow, skipping abandoned visitors. While
	// the room's RatePerMinute is 0 it admits nobody and empties the bucket,
	// so admission starts again from an empty bucket, not with a burst, when
	// the rate rises.
	Admit(ctx context.Context, room string, limits AdmitLimits) (AdmitResult, error)
	// AdmissionLog returns up to limit entries in admission order, starting
	// after the first `after` entries.
	AdmissionLog(ctx context.Context, room string, after, limit int) ([]Admission, error)

	// StartSession extends an admitted visitor's active place to the session
	// lifetime, counted from now, and returns the new deadline. ErrVisitorNotFound
	// unless the visitor is admitted and active.
	StartSession(ctx context.Context, room, visitor string) (time.Time, error)
	// Release frees the visitor's active place, for example after booking
	// is confirmed or the hold expired. Releasing a visitor who holds no active
	// place does nothing.
	Release(ctx context.Context, room, visitor string) error

	// AppendAudit adds e to the room's audit log with At set to the store's
	// clock, and drops the oldest entries beyond MaxAuditEntries. It returns
	// ErrRoomNotFound for an unknown room and the error of ValidateAudit for
	// an invalid entry.
	AppendAudit(ctx context.Context, room string, e AuditEntry) error
	// AuditLog returns up to limit entries of the room's audit log, newest
	// first.
	AuditLog(ctx context.Context, room string, limit int) ([]AuditEntry, error)

	// ControllerState reads the room's admission controller state: the zero
	// state before the first decision or after ResetRoom. It returns
	// ErrRoomNotFound for an unknown room.
	ControllerState(ctx context.Context, room string) (ControllerState, error)
	// SwapControllerState replaces the room's controller state with next
	// only if the stored Version still equals expectedVersion, and reports
	// whether it did. Of several callers that read one version, exactly one
	// succeeds. Times are kept to the millisecond and LastP95 to whole
	// milliseconds, as ControllerState.Fields writes them. It returns
	// ErrRoomNotFound for an unknown room.
	SwapControllerState(ctx context.Context, room string, expectedVersion int64, next ControllerState) (bool, error)
	// AppendDecision adds d to the room's decision history as it is, with
	// the decision's own At, and drops the oldest entries beyond
	// MaxDecisions. Stores keep d as its JSON encoding, so times and
	// durations come back as encoding/json decodes them. It returns
	// ErrRoomNotFound for an unknown room.
	AppendDecision(ctx context.Context, room string, d Decision) error
	// Decisions returns up to limit entries of the room's decision history,
	// the most recently appended first. It returns ErrRoomNotFound for an
	// unknown room.
	Decisions(ctx context.Context, room string, limit int) ([]Decision, error)

	// RevokeSession records that the organizer session id ended at
	// logout, so that every edge sharing the store refuses copies of its
	// cookie. The record lasts until expires, when the session would have
	// ended anyway; an expiry that has passed records nothing. The id must
	// be 1 to MaxSessionIDLength bytes.
	RevokeSession(ctx context.Context, id string, expires time.Time) error
	// SessionRevoked reports whether RevokeSession recorded id and its
	// expiry has not passed.
	SessionRevoked(ctx context.Context, id string) (bool, error)
}

// MaxSessionIDLength bounds the organizer session ids that RevokeSession
// takes.
const MaxSessionIDLength = 128

// ValidateSessionID checks an organizer session id for RevokeSession and
// SessionRevoked.
func ValidateSessionID(id string) error {
	if id == "" || len(id) > MaxSessionIDLength {
		return fmt.Errorf("session id of %d bytes is invalid: use 1 to %d bytes", len(id), MaxSessionIDLength)
	}
	return nil
}

// MaxDecisions is how many controller decisions a store keeps per room:
// 83 minutes at the default control period of 5 seconds.
const MaxDecisions = 1000

// MaxAuditEntries is how many audit entries a store keeps per room.
const MaxAuditEntries = 1000

// Bounds on the fields of an AuditEntry, in bytes.
const (
	maxAuditActor  = 64
	maxAuditAction = 64
	maxAuditDetail = 2000
)

// AuditEntry is one change to a room in its audit log: who made it, what it
// was and when.
type AuditEntry struct {
	// At is the store's time when the entry was appended.
	At time.Time `json:"at"`
	// Actor is who made the change: an admin account's username, or
	// "api-token" for the admin API's bearer token.
	Actor string `json:"actor"`
	// Action names the kind of change, such as "settings" or "pause".
	Action string `json:"action"`
	// Detail describes the change, such as "rate_per_minute 60 → 90".
	Detail string `json:"detail"`
}

// ValidateAudit returns an error unless the entry's actor and action are 1
// to 64 bytes long and its detail at most 2000 bytes.
func ValidateAudit(e AuditEntry) error {
	switch {
	case e.Actor == "" || len(e.Actor) > maxAuditActor:
		return fmt.Errorf("waitroom: audit actor is %d bytes long: use 1 to %d", len(e.Actor), maxAuditActor)
	case e.Action == "" || len(e.Action) > maxAuditAction:
		return fmt.Errorf("waitroom: audit action is %d bytes long: use 1 to %d", len(e.Action), maxAuditAction)
	case len(e.Detail) > maxAuditDetail:
		return fmt.Errorf("waitroom: audit detail is %d bytes long: use at most %d", len(e.Detail), maxAuditDetail)
	}
	return nil
}
