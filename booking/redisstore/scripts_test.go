package redisstore

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"

	"foyer/booking"
	"foyer/internal/redistest"
)

// TestScriptHeaders checks that every operation script starts with a
// comment that documents its KEYS, ARGV and return value.
func TestScriptHeaders(t *testing.T) {
	names, err := fs.Glob(luaFiles, "lua/*.lua")
	if err != nil {
		t.Fatalf("list scripts: %v", err)
	}

	operations := 0
	for _, name := range names {
		if name == "lua/common.lua" || name == "lua/lib.lua" {
			continue
		}
		operations++

		source, err := luaFiles.ReadFile(name)
		if err != nil {
			t.Fatalf("read %s: %v", name, err)
		}
		header := leadingComment(string(source))
		for _, want := range []string{"KEYS", "ARGV", "Returns"} {
			if !strings.Contains(header, want) {
				t.Errorf("%s: header comment does not mention %s", name, want)
			}
		}
	}

	if want := len(scriptNames(loadScripts())); operations != want {
		t.Errorf("got %d operation scripts in lua/, want %d as loaded by loadScripts", operations, want)
	}
}

func leadingComment(source string) string {
	var lines []string
	for line := range strings.SplitSeq(source, "\n") {
		if !strings.HasPrefix(line, "--") {
			break
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

func scriptNames(s scripts) []string {
	return []string{
		s.createEvent.name, s.updateEvent.name, s.addSlots.name, s.getEvent.name, s.setCapacity.name, s.availability.name,
		s.slotStats.name, s.hold.name, s.extendHold.name, s.releaseHold.name,
		s.getHold.name, s.confirm.name, s.cancelOrder.name, s.getOrder.name,
		s.listOrders.name, s.exchangeToken.name, s.getSession.name,
		s.addStats.name,
	}
}

// TestEventKeysShareHashTag checks that every key of one event hashes to
// the same Redis Cluster slot, because its hash tag is the event id.
func TestEventKeysShareHashTag(t *testing.T) {
	var cache keyCache
	keys := append([]string{}, cache.eventKeys("spring-2026")...)
	keys = append(keys, tokenKey("spring-2026", "jti-{odd}"), sessionKey("spring-2026", booking.NewSessionID("spring-2026")))

	tag := regexp.MustCompile(`^[^{]*\{([^}]*)\}`)
	for _, key := range keys {
		match := tag.FindStringSubmatch(key)
		if match == nil || match[1] != "spring-2026" {
			t.Errorf("key %q: got hash tag %v, want spring-2026", key, match)
		}
	}
	if len(cache.eventKeys("spring-2026")) != len(eventKeyNames) {
		t.Errorf("got %d event keys, want %d", len(cache.eventKeys("spring-2026")), len(eventKeyNames))
	}
}

// TestScriptsReloadAfterFlush checks the EVAL fallback: after SCRIPT FLUSH
// drops the cached scripts, the next call still works.
func TestScriptsReloadAfterFlush(t *testing.T) {
	ctx := t.Context()
	server := redistest.Start(t, redistest.Options{})
	client := server.Client()
	store := New(client)

	event := booking.Event{
		ID:          "reload",
		Title:       "Reload",
		TimeZone:    "UTC",
		Room:        "reload",
		TicketTypes: []booking.TicketType{{ID: "adult", Name: "Adult"}},
	}
	if err := store.CreateEvent(ctx, event, nil); err != nil {
		t.Fatalf("create event: %v", err)
	}
	if err := client.ScriptFlush(ctx).Err(); err != nil {
		t.Fatalf("script flush: %v", err)
	}

	got, err := store.Event(ctx, "reload")
	if err != nil {
		t.Fatalf("get event after script flush: %v", err)
	}
	if got.ID != "reload" {
		t.Errorf("got event %q, want reload", got.ID)
	}
}
