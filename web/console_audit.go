package web

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"foyer/waitroom"
)

// auditTimeout bounds the write of an audit entry. The write runs even
// when the request that made the change was cancelled, because the change
// itself is done.
const auditTimeout = 3 * time.Second

// recordChange logs an admin's change to a room and appends it to the
// room's audit log. A failed append is logged, not returned, because the
// change itself has been applied. detail must hold no secret.
func (s *Server) recordChange(ctx context.Context, room, actor, action, detail string) {
	s.log.Info("admin action", "actor", actor, "room", room, "action", action, "change", detail)
	s.live.forget(room)

	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditTimeout)
	defer cancel()
	entry := waitroom.AuditEntry{Actor: actor, Action: action, Detail: truncateUTF8(detail, 2000)}
	if err := s.edge.Store().AppendAudit(ctx, room, entry); err != nil {
		s.log.Warn("append to audit log failed; the change was applied", "actor", actor, "room", room, "action", action, "err", err)
	}
}

// truncateUTF8 cuts s to at most n bytes without splitting a character,
// marking a cut with "…".
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// settingsDiff describes what changed between two settings of a room, as in
// `rate_per_minute 60 → 90, message "" → "Back at ten"`, or returns "" when
// nothing changed.
func settingsDiff(before, after waitroom.Settings) string {
	var changes []string
	add := func(name string, from, to any) {
		if from != to {
			changes = append(changes, fmt.Sprintf("%s %v → %v", name, from, to))
		}
	}
	quote := func(name, from, to string) {
		if from != to {
			changes = append(changes, fmt.Sprintf("%s %q → %q", name, from, to))
		}
	}

	quote("title", before.Title, after.Title)
	quote("event", before.Event, after.Event)
	add("opens_at", formatOpensAt(before.OpensAt), formatOpensAt(after.OpensAt))
	add("rate_per_minute", formatRate(before.RatePerMinute), formatRate(after.RatePerMinute))
	add("burst", before.Burst, after.Burst)
	add("max_active", before.MaxActive, after.MaxActive)
	add("mode", before.Mode, after.Mode)
	add("paused", before.Paused, after.Paused)
	add("closed", before.Closed, after.Closed)
	add("sold_out", before.SoldOut, after.SoldOut)
	add("admission_window", before.AdmissionWindow, after.AdmissionWindow)
	add("session_lifetime", before.SessionLifetime, after.SessionLifetime)
	add("heartbeat_grace", before.HeartbeatGrace, after.HeartbeatGrace)
	quote("message", before.Message, after.Message)
	return strings.Join(changes, ", ")
}

func formatOpensAt(t time.Time) string {
	if t.IsZero() {
		return "none"
	}
	return t.UTC().Format(time.RFC3339)
}

// updateRoom applies p to the room, records the change as action by actor,
// and refreshes this edge's snapshot so the change shows at once. It
// returns the settings before and after, and changes and records nothing
// when the patch is invalid.
func (s *Server) updateRoom(ctx context.Context, room, actor, action string, p waitroom.Patch) (waitroom.Settings, waitroom.Settings, error) {
	before, err := s.edge.Refresh(ctx, room)
	if err != nil {
		return waitroom.Settings{}, waitroom.Settings{}, err
	}
	after, err := s.edge.Store().UpdateRoom(ctx, room, p)
	if err != nil {
		return waitroom.Settings{}, waitroom.Settings{}, invalidSettings(err)
	}

	// The diff is against the settings read just before, so a change by
	// someone else in between shows up in this entry too.
	if detail := settingsDiff(before.Settings, after); detail != "" {
		s.recordChange(ctx, room, actor, action, detail)
	}
	if _, err := s.edge.Refresh(ctx, room); err != nil {
		// The edge reads the room again at its next tick.
		s.log.Warn("snapshot refresh after a settings change failed", "room", room, "err", err)
	}
	// A dashboard may have cached the old snapshot since recordChange
	// dropped the room's figures.
	s.live.forget(room)
	return before.Settings, after, nil
}
