package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"foyer/waitroom"
)

func appendAudit(t *testing.T, f Fixture, roomID string, e waitroom.AuditEntry) {
	t.Helper()
	if err := f.Store.AppendAudit(t.Context(), roomID, e); err != nil {
		t.Fatalf("AppendAudit(%s, %+v): %v", roomID, e, err)
	}
}

func auditLog(t *testing.T, f Fixture, roomID string, limit int) []waitroom.AuditEntry {
	t.Helper()
	log, err := f.Store.AuditLog(t.Context(), roomID, limit)
	if err != nil {
		t.Fatalf("AuditLog(%s, %d): %v", roomID, limit, err)
	}
	return log
}

func auditActions(entries []waitroom.AuditEntry) []string {
	actions := make([]string, len(entries))
	for i, e := range entries {
		actions[i] = e.Action
	}
	return actions
}

func testAuditLogNewestFirst(t *testing.T, f Fixture) {
	ctx := t.Context()
	frozenRoom(t, f, 1, 1)
	before := snapshot(t, f, room).Now

	appendAudit(t, f, room, waitroom.AuditEntry{Actor: "ada", Action: "pause"})
	f.Wait(10 * time.Millisecond)
	appendAudit(t, f, room, waitroom.AuditEntry{Actor: "api-token", Action: "settings", Detail: `rate_per_minute 60 → 90, message "Back at 10:00"`})
	appendAudit(t, f, room, waitroom.AuditEntry{Actor: "ada", Action: "resume"})
	after := snapshot(t, f, room).Now

	all := auditLog(t, f, room, 10)
	if got, want := fmt.Sprint(auditActions(all)), "[resume settings pause]"; got != want {
		t.Fatalf("AuditLog(10): got actions %s, want %s", got, want)
	}
	middle := all[1]
	if middle.Actor != "api-token" {
		t.Errorf("AuditLog(10)[1]: got actor %q, want api-token", middle.Actor)
	}
	if want := `rate_per_minute 60 → 90, message "Back at 10:00"`; middle.Detail != want {
		t.Errorf("AuditLog(10)[1]: got detail %q, want %q", middle.Detail, want)
	}
	for i, e := range all {
		if e.At.Before(before) || e.At.After(after) {
			t.Errorf("AuditLog(10)[%d]: got time %s, want it between %s and %s on the store's clock", i, e.At, before, after)
		}
	}
	if !all[2].At.Before(all[1].At) {
		t.Errorf("AuditLog(10): got pause at %s and settings at %s, want pause earlier after a 10ms wait", all[2].At, all[1].At)
	}

	if got, want := fmt.Sprint(auditActions(auditLog(t, f, room, 2))), "[resume settings]"; got != want {
		t.Errorf("AuditLog(2): got actions %s, want %s", got, want)
	}
	if got := auditLog(t, f, room, 0); len(got) != 0 {
		t.Errorf("AuditLog(0): got %d entries, want 0", len(got))
	}

	// The audit log records rehearsals too, so a reset keeps it.
	if err := f.Store.ResetRoom(ctx, room); err != nil {
		t.Fatalf("ResetRoom: %v", err)
	}
	if got := auditLog(t, f, room, 10); len(got) != 3 {
		t.Errorf("AuditLog after ResetRoom: got %d entries, want 3", len(got))
	}
}

func testAuditLogRejectsInvalid(t *testing.T, f Fixture) {
	ctx := t.Context()
	frozenRoom(t, f, 1, 1)

	invalid := []waitroom.AuditEntry{
		{Action: "pause"},
		{Actor: "ada"},
		{Actor: string(make([]byte, 65)), Action: "pause"},
		{Actor: "ada", Action: "message", Detail: string(make([]byte, 2001))},
	}
	for _, e := range invalid {
		if err := f.Store.AppendAudit(ctx, room, e); err == nil {
			t.Errorf("AppendAudit(actor %d bytes, action %q, detail %d bytes): got no error, want one", len(e.Actor), e.Action, len(e.Detail))
		}
	}
	if got := auditLog(t, f, room, 10); len(got) != 0 {
		t.Errorf("AuditLog after invalid entries: got %d entries, want 0", len(got))
	}

	for _, id := range []string{"missing", "Bad{Id}"} {
		if err := f.Store.AppendAudit(ctx, id, waitroom.AuditEntry{Actor: "ada", Action: "pause"}); !errors.Is(err, waitroom.ErrRoomNotFound) {
			t.Errorf("AppendAudit(%q): got %v, want ErrRoomNotFound", id, err)
		}
		if _, err := f.Store.AuditLog(ctx, id, 10); !errors.Is(err, waitroom.ErrRoomNotFound) {
			t.Errorf("AuditLog(%q): got %v, want ErrRoomNotFound", id, err)
		}
	}
}

func testAuditLogCapped(t *testing.T, f Fixture) {
	frozenRoom(t, f, 1, 1)

	total := waitroom.MaxAuditEntries + 3
	for i := range total {
		appendAudit(t, f, room, waitroom.AuditEntry{Actor: "ada", Action: fmt.Sprintf("change-%d", i)})
	}

	log := auditLog(t, f, room, total)
	if len(log) != waitroom.MaxAuditEntries {
		t.Fatalf("AuditLog(%d): got %d entries, want %d", total, len(log), waitroom.MaxAuditEntries)
	}
	if got, want := log[0].Action, fmt.Sprintf("change-%d", total-1); got != want {
		t.Errorf("AuditLog newest: got %s, want %s", got, want)
	}
	if got, want := log[len(log)-1].Action, "change-3"; got != want {
		t.Errorf("AuditLog oldest kept: got %s, want %s", got, want)
	}
}

func testAuditLogConcurrent(t *testing.T, f Fixture) {
	frozenRoom(t, f, 1, 1)

	const writers, each = 8, 20
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				e := waitroom.AuditEntry{Actor: fmt.Sprintf("admin-%d", w), Action: fmt.Sprintf("change-%d", i)}
				if err := f.Store.AppendAudit(t.Context(), room, e); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent AppendAudit: %v", err)
	}

	log := auditLog(t, f, room, writers*each+10)
	if len(log) != writers*each {
		t.Fatalf("AuditLog: got %d entries, want %d", len(log), writers*each)
	}
	seen := make(map[string]bool, len(log))
	for _, e := range log {
		key := e.Actor + "/" + e.Action
		if seen[key] {
			t.Errorf("AuditLog: entry %s appears twice", key)
		}
		seen[key] = true
	}
}
