package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"foyer/waitroom"
)

// noEnv is a getenv that finds no variable set.
func noEnv(string) string { return "" }

func TestRunVersion(t *testing.T) {
	var stdout, stderr bytes.Buffer

	if err := run(context.Background(), []string{"version"}, noEnv, &stdout, &stderr); err != nil {
		t.Fatalf("version: %v", err)
	}
	got := stdout.String()
	version, ok := strings.CutPrefix(got, "foyer ")
	if !ok {
		t.Fatalf("got output %q, want it to start with \"foyer \"", got)
	}
	if strings.TrimSpace(version) == "" {
		t.Errorf("got output %q, want a version after \"foyer \"", got)
	}
	if !strings.HasSuffix(got, "\n") {
		t.Errorf("got output %q, want it to end with a newline", got)
	}
	if stderr.Len() != 0 {
		t.Errorf("got stderr %q, want nothing", stderr.String())
	}
}

func TestRunUnknownCommand(t *testing.T) {
	var stdout, stderr bytes.Buffer

	err := run(context.Background(), []string{"start"}, noEnv, &stdout, &stderr)
	if err == nil {
		t.Fatal("got no error for an unknown command, want one")
	}
	if !strings.Contains(err.Error(), `unknown command "start"`) {
		t.Errorf("got error %q, want it to name the command", err)
	}
	if !strings.Contains(err.Error(), "serve, keys, hash-password, loadtest or version") {
		t.Errorf("got error %q, want it to list the commands", err)
	}
	if !strings.Contains(stderr.String(), "Usage:") {
		t.Errorf("got stderr %q, want the usage", stderr.String())
	}
}

func TestRunMissingCommand(t *testing.T) {
	var stdout, stderr bytes.Buffer

	err := run(context.Background(), nil, noEnv, &stdout, &stderr)
	if err == nil {
		t.Fatal("got no error without a command, want one")
	}
	if !strings.Contains(err.Error(), "missing command") {
		t.Errorf("got error %q, want it to say the command is missing", err)
	}
	if !strings.Contains(stderr.String(), "Usage:") {
		t.Errorf("got stderr %q, want the usage", stderr.String())
	}
}

func TestRunHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer

	if err := run(context.Background(), []string{"help"}, noEnv, &stdout, &stderr); err != nil {
		t.Fatalf("help: %v", err)
	}
	if !strings.Contains(stdout.String(), "foyer serve") {
		t.Errorf("got stdout %q, want the usage", stdout.String())
	}
}

func TestRunKeysWritesLoadableKeys(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	var stdout, stderr bytes.Buffer

	if err := run(context.Background(), []string{"keys", "--dir", dir}, noEnv, &stdout, &stderr); err != nil {
		t.Fatalf("keys: %v", err)
	}
	if !strings.Contains(stdout.String(), dir) {
		t.Errorf("got stdout %q, want it to name %s", stdout.String(), dir)
	}
	if _, err := waitroom.LoadKeys(dir); err != nil {
		t.Fatalf("load the written keys: %v", err)
	}
}

func TestRunKeysWithoutDir(t *testing.T) {
	var stdout, stderr bytes.Buffer

	err := run(context.Background(), []string{"keys"}, noEnv, &stdout, &stderr)
	if err == nil {
		t.Fatal("got no error without --dir, want one")
	}
	if !strings.Contains(err.Error(), "--dir is required") {
		t.Errorf("got error %q, want it to say --dir is required", err)
	}
}

func TestParseServeDefaults(t *testing.T) {
	cfg, err := parseServe(nil, noEnv, &bytes.Buffer{})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if cfg.Listen != "127.0.0.1:8080" {
		t.Errorf("got listen %q, want 127.0.0.1:8080", cfg.Listen)
	}
	if cfg.RedisURL != "" {
		t.Errorf("got redis_url %q, want empty for the in-memory store", cfg.RedisURL)
	}
	if len(cfg.Rooms) != 1 {
		t.Fatalf("got %d rooms, want 1", len(cfg.Rooms))
	}
	if cfg.Rooms[0].ID != "demo" {
		t.Errorf("got room %q, want demo", cfg.Rooms[0].ID)
	}
	if cfg.Rooms[0].Event != "demo" {
		t.Errorf("got room demo guarding event %q, want demo", cfg.Rooms[0].Event)
	}
}

func TestParseServePrecedence(t *testing.T) {
	file := writeFile(t, "foyer.yaml", "listen: 127.0.0.1:1111\nlog_level: warn\n")
	env := map[string]string{"FOYER_CONFIG": file, "FOYER_LISTEN": "127.0.0.1:2222"}
	getenv := func(name string) string { return env[name] }

	tests := []struct {
		name string
		args []string
		env  bool
		want string
	}{
		{"file alone", []string{"--config", file}, false, "127.0.0.1:1111"},
		{"environment over file", nil, true, "127.0.0.1:2222"},
		{"flag over environment", []string{"--listen", "127.0.0.1:3333"}, true, "127.0.0.1:3333"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lookup := noEnv
			if tt.env {
				lookup = getenv
			}

			cfg, err := parseServe(tt.args, lookup, &bytes.Buffer{})
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if cfg.Listen != tt.want {
				t.Errorf("got listen %q, want %q", cfg.Listen, tt.want)
			}
			if cfg.LogLevel != "warn" {
				t.Errorf("got log_level %q, want warn from the file", cfg.LogLevel)
			}
		})
	}
}

func TestParseServeExampleConfig(t *testing.T) {
	cfg, err := parseServe([]string{"--config", exampleConfig}, noEnv, &bytes.Buffer{})
	if err != nil {
		t.Fatalf("parse with the example: %v", err)
	}
	if len(cfg.Rooms) != 1 {
		t.Fatalf("got %d rooms, want only the example's room", len(cfg.Rooms))
	}
	if cfg.Rooms[0].ID != "spring-expo" {
		t.Errorf("got room %q, want spring-expo from the example", cfg.Rooms[0].ID)
	}
}

func TestParseServeRejects(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"argument without dashes", []string{"now"}, `unexpected argument "now"`},
		{"unknown flag", []string{"--port", "80"}, "flag provided but not defined"},
		{"invalid flag value", []string{"--log-level", "loud"}, `invalid configuration: log_level "loud" is invalid`},
		{"missing config file", []string{"--config", "/nonexistent/foyer.yaml"}, "read config file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseServe(tt.args, noEnv, &bytes.Buffer{})
			if err == nil {
				t.Fatalf("got no error for %q, want one", tt.args)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestRunServeStopsWhenContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--listen", "127.0.0.1:0"}, noEnv, &stdout, &stderr)
	}()

	waitForOutput(t, &stderr, "foyer started", 10*time.Second)
	cancel()

	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: got error %v, want a clean stop", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("serve still running 15s after its context ended; output:\n%s", stderr.String())
	}
	if !strings.Contains(stderr.String(), "foyer stopped") {
		t.Errorf("got output:\n%s\nwant it to log \"foyer stopped\"", stderr.String())
	}
}

// waitForOutput waits until out contains text, failing the test after timeout.
func waitForOutput(t *testing.T, out *lockedBuffer, text string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !strings.Contains(out.String(), text) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the output after %s:\n%s", text, timeout, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
