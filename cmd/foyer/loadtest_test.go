package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"foyer/loadtest"
)

func TestLoadtestPrintsExampleScenario(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := loadtestCommand(context.Background(), []string{"--print-scenario"}, &stdout, &stderr); err != nil {
		t.Fatalf("print scenario: %v", err)
	}
	if stdout.String() != loadtest.ExampleScenario {
		t.Errorf("got output %q, want the example scenario", stdout.String())
	}
}

func TestLoadtestRejectsRemoteTarget(t *testing.T) {
	t.Setenv("FOYER_ADMIN_TOKEN", "loadtest-admin-token-0123456789")
	var stdout, stderr bytes.Buffer
	err := loadtestCommand(context.Background(), []string{"--target", "http://198.51.100.4:8080", "--burst", "10"}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "--allow-remote") {
		t.Errorf("got error %v, want one that names --allow-remote", err)
	}
}

func TestLoadtestFlagsOverrideScenarioFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "scenario.yaml")
	file := "room: from-file\nseed: 3\nroom_settings:\n  rate_per_minute: 100\n  opens_in: 20s\narrivals:\n  - kind: prequeue\n    visitors: 50\n"
	if err := os.WriteFile(path, []byte(file), 0o644); err != nil {
		t.Fatal(err)
	}

	f := newLoadtestFlags(&bytes.Buffer{})
	args := []string{"--scenario", path, "--seed", "9", "--target", "http://127.0.0.1:1", "--target", "http://[::1]:2", "--burst", "100", "--burst-within", "5s", "--burst-at", "20s"}
	if err := f.fs.Parse(args); err != nil {
		t.Fatalf("parse: %v", err)
	}
	s, err := f.resolve(func(name string) string {
		if name == "FOYER_ADMIN_TOKEN" {
			return "token-from-env-0123456789"
		}
		return ""
	})
	if err != nil {
		t.Fatalf("resolve: %v", err)
	}

	if s.Room != "from-file" || s.RoomSettings.RatePerMinute != 100 || s.RoomSettings.OpensIn != 20*time.Second {
		t.Errorf("file settings: got room %q, rate %v, opens_in %s; want from-file, 100, 20s", s.Room, s.RoomSettings.RatePerMinute, s.RoomSettings.OpensIn)
	}
	if s.Seed != 9 {
		t.Errorf("seed: got %d, want 9 from the flag", s.Seed)
	}
	if len(s.Targets) != 2 {
		t.Errorf("targets: got %v, want the two from the flags", s.Targets)
	}
	if len(s.Arrivals) != 2 || s.Arrivals[1].Kind != loadtest.KindBurst || s.Arrivals[1].Within != 5*time.Second {
		t.Errorf("arrivals: got %+v, want the file's prequeue and the flags' burst", s.Arrivals)
	}
	if s.AdminToken != "token-from-env-0123456789" {
		t.Errorf("admin token: got %q, want the one from FOYER_ADMIN_TOKEN", s.AdminToken)
	}
	if err := s.Validate(); err != nil {
		t.Errorf("validate: %v", err)
	}
}
