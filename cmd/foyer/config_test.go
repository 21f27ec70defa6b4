package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

// exampleConfig is the commented example configuration shipped in deploy/.
const exampleConfig = "../../deploy/foyer.example.yaml"

// validConfig returns the configuration `foyer serve` runs with no file.
func validConfig() Config {
	cfg := DefaultConfig()
	cfg.Rooms = defaultRooms()
	return cfg
}

// writeFile writes content to a new file in a temporary directory and
// returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatalf("write %s: %v", name, err)
	}
	return path
}

func TestConfigValidateAccepts(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
	}{
		{"defaults", func(*Config) {}},
		{"listen on every interface", func(c *Config) { c.Listen = ":8080" }},
		{"redis over TCP", func(c *Config) { c.RedisURL = "redis://127.0.0.1:6379/0" }},
		{"redis over TLS", func(c *Config) { c.RedisURL = "rediss://user:secret@redis.example:6380/1" }},
		{"redis over a socket", func(c *Config) { c.RedisURL = "unix:///run/redis/redis.sock" }},
		{"booking on its own redis", func(c *Config) {
			c.RedisURL = "redis://127.0.0.1:6379/0"
			c.BookingRedisURL = "redis://127.0.0.1:6380/0"
		}},
		{"admin token of 16 characters", func(c *Config) { c.AdminToken = "0123456789abcdef" }},
		{"joins limit off", func(c *Config) { c.JoinsPerMinutePerIP = 0 }},
		{"shortest tick", func(c *Config) { c.Tick = 10 * time.Millisecond }},
		{"longest shutdown timeout", func(c *Config) { c.ShutdownTimeout = 10 * time.Minute }},
		{"no rooms", func(c *Config) { c.Rooms = nil }},
		{"rehearsal at its largest", func(c *Config) {
			c.RehearsalConcurrency = 100000
			c.RehearsalServiceTime = 10 * time.Second
		}},
		{"room opening at a time with offset", func(c *Config) {
			c.Rooms = []RoomConfig{{ID: "expo", Event: "expo", OpensAt: "2026-03-02T09:00:00+01:00"}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := validConfig()
			tt.change(&cfg)
			if err := cfg.Validate(); err != nil {
				t.Fatalf("got error %q, want none", err)
			}
		})
	}
}

func TestConfigValidateRejects(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		// want lists parts of the message: the field, the value and what
		// is allowed.
		want []string
		// secret must not appear in the message.
		secret string
	}{
		{
			name:   "listen without port",
			change: func(c *Config) { c.Listen = "localhost" },
			want:   []string{"listen", `"localhost"`, "host:port"},
		},
		{
			name:   "listen with empty port",
			change: func(c *Config) { c.Listen = "127.0.0.1:" },
			want:   []string{"listen", `"127.0.0.1:"`, "host:port"},
		},
		{
			name:   "redis_url with another scheme",
			change: func(c *Config) { c.RedisURL = "http://127.0.0.1:6379" },
			want:   []string{"redis_url", "http://127.0.0.1:6379", "redis://host:port/db", "rediss://", "unix://"},
		},
		{
			name:   "redis_url hides its password",
			change: func(c *Config) { c.RedisURL = "http://user:s3cret@127.0.0.1:6379" },
			want:   []string{"redis_url", "http://user:***@127.0.0.1:6379", "redis://"},
			secret: "s3cret",
		},
		{
			name: "booking_redis_url with another scheme",
			change: func(c *Config) {
				c.RedisURL = "redis://127.0.0.1:6379/0"
				c.BookingRedisURL = "mysql://127.0.0.1:3306"
			},
			want: []string{"booking_redis_url", "mysql://127.0.0.1:3306", "redis://"},
		},
		{
			name:   "booking_redis_url without redis_url",
			change: func(c *Config) { c.BookingRedisURL = "redis://127.0.0.1:6380/0" },
			want:   []string{"booking_redis_url", "redis_url is not", "set both"},
		},
		{
			name:   "redis_pool_size zero",
			change: func(c *Config) { c.RedisPoolSize = 0 },
			want:   []string{"redis_pool_size", " 0 ", "1 to 10000"},
		},
		{
			name:   "redis_pool_size too large",
			change: func(c *Config) { c.RedisPoolSize = 10001 },
			want:   []string{"redis_pool_size", "10001", "1 to 10000"},
		},
		{
			name:   "log_level unknown",
			change: func(c *Config) { c.LogLevel = "verbose" },
			want:   []string{"log_level", `"verbose"`, "debug, info, warn or error"},
		},
		{
			name:   "log_format unknown",
			change: func(c *Config) { c.LogFormat = "xml" },
			want:   []string{"log_format", `"xml"`, "auto, json or text"},
		},
		{
			name:   "tick too short",
			change: func(c *Config) { c.Tick = 5 * time.Millisecond },
			want:   []string{"tick", "5ms", "10ms to 10s"},
		},
		{
			name:   "tick too long",
			change: func(c *Config) { c.Tick = 11 * time.Second },
			want:   []string{"tick", "11s", "10ms to 10s"},
		},
		{
			name:   "shutdown_timeout too short",
			change: func(c *Config) { c.ShutdownTimeout = 500 * time.Millisecond },
			want:   []string{"shutdown_timeout", "500ms", "1s to 10m"},
		},
		{
			name: "trusted_proxies with a host name",
			change: func(c *Config) {
				c.ProxyHeader = "X-Real-IP"
				c.TrustedProxies = []string{"10.0.0.0/8", "proxy.internal"}
			},
			want: []string{"trusted_proxies[1]", `"proxy.internal"`, "IP address", "CIDR range"},
		},
		{
			name:   "trusted_proxies without proxy_header",
			change: func(c *Config) { c.TrustedProxies = []string{"10.0.0.5"} },
			want:   []string{"trusted_proxies", "proxy_header is not", "X-Real-IP"},
		},
		{
			name:   "joins_per_minute_per_ip negative",
			change: func(c *Config) { c.JoinsPerMinutePerIP = -1 },
			want:   []string{"joins_per_minute_per_ip", "-1", "0 (off) or a positive number"},
		},
		{
			name:   "rehearsal_concurrency negative",
			change: func(c *Config) { c.RehearsalConcurrency = -1 },
			want:   []string{"rehearsal_concurrency", "-1", "0 (no limit) to 100000"},
		},
		{
			name:   "rehearsal_concurrency too large",
			change: func(c *Config) { c.RehearsalConcurrency = 100001 },
			want:   []string{"rehearsal_concurrency", "100001", "0 (no limit) to 100000"},
		},
		{
			name:   "rehearsal_service_time negative",
			change: func(c *Config) { c.RehearsalServiceTime = -time.Millisecond },
			want:   []string{"rehearsal_service_time", "-1ms", "0 (none) to 10s"},
		},
		{
			name:   "rehearsal_service_time too long",
			change: func(c *Config) { c.RehearsalServiceTime = 11 * time.Second },
			want:   []string{"rehearsal_service_time", "11s", "0 (none) to 10s"},
		},
		{
			name:   "rehearsal_max_wait too long",
			change: func(c *Config) { c.RehearsalMaxWait = 2 * time.Minute },
			want:   []string{"rehearsal_max_wait", "2m0s", "0 (until the request's deadline) to 1m"},
		},
		{
			name:   "admin token too short",
			change: func(c *Config) { c.AdminToken = "hunter2" },
			want:   []string{"admin token", "7 characters", "at least 16"},
			secret: "hunter2",
		},
		{
			name:   "room id with spaces",
			change: func(c *Config) { c.Rooms = []RoomConfig{{ID: "Spring Expo"}} },
			want:   []string{"rooms[0]", `"Spring Expo"`, "lowercase letters, digits and hyphens"},
		},
		{
			name:   "room opens_at without offset",
			change: func(c *Config) { c.Rooms = []RoomConfig{{ID: "expo", OpensAt: "2026-03-02 09:00"}} },
			want:   []string{"rooms[0]", "opens_at", `"2026-03-02 09:00"`, "RFC 3339"},
		},
		{
			name:   "room rate negative",
			change: func(c *Config) { c.Rooms = []RoomConfig{{ID: "expo", RatePerMinute: -5}} },
			want:   []string{"rooms[0]", "rate_per_minute", "-5", "0 to 1000000"},
		},
		{
			name:   "room mode unknown",
			change: func(c *Config) { c.Rooms = []RoomConfig{{ID: "expo", Mode: "turbo"}} },
			want:   []string{"rooms[0]", "mode", `"turbo"`, "fixed or auto"},
		},
		{
			name:   "room heartbeat_grace too short",
			change: func(c *Config) { c.Rooms = []RoomConfig{{ID: "expo", HeartbeatGrace: 10 * time.Second}} },
			want:   []string{"rooms[0]", "heartbeat_grace", "10s", "longer than 37s"},
		},
		{
			name: "room session_lifetime shorter than window",
			change: func(c *Config) {
				c.Rooms = []RoomConfig{{ID: "expo", AdmissionWindow: time.Hour, SessionLifetime: 30 * time.Minute}}
			},
			want: []string{"rooms[0]", "session_lifetime", "30m0s", "at least admission_window (1h0m0s)"},
		},
		{
			name: "room id twice",
			change: func(c *Config) {
				c.Rooms = []RoomConfig{{ID: "expo"}, {ID: "expo"}}
			},
			want: []string{"rooms[1]", `"expo"`, "appears twice", "its own id"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := validConfig()
			tt.change(&cfg)

			err := cfg.Validate()
			if err == nil {
				t.Fatal("got no error, want one")
			}
			for _, part := range tt.want {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("got error %q, want it to contain %q", err, part)
				}
			}
			if tt.secret != "" && strings.Contains(err.Error(), tt.secret) {
				t.Errorf("got error %q, want it without the secret %q", err, tt.secret)
			}
		})
	}
}

func TestLoadConfigFileRejectsUnknownKeys(t *testing.T) {
	tests := []struct {
		name    string
		content string
		key     string
	}{
		{"top level", "listen: \":8080\"\nlisten_address: \":9090\"\n", "listen_address"},
		{"inside a room", "rooms:\n  - id: expo\n    rate: 120\n", "rate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, "foyer.yaml", tt.content)

			_, err := LoadConfigFile(path, DefaultConfig())
			if err == nil {
				t.Fatalf("got no error for unknown key %q, want one", tt.key)
			}
			if !strings.Contains(err.Error(), tt.key) {
				t.Errorf("got error %q, want it to name the key %q", err, tt.key)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("got error %q, want it to name the file %s", err, path)
			}
		})
	}
}

func TestLoadConfigFileEmptyKeepsDefaults(t *testing.T) {
	path := writeFile(t, "foyer.yaml", "# nothing set yet\n")

	got, err := LoadConfigFile(path, DefaultConfig())
	if err != nil {
		t.Fatalf("load empty file: %v", err)
	}
	if !reflect.DeepEqual(got, DefaultConfig()) {
		t.Fatalf("got %+v from an empty file, want the defaults %+v", got, DefaultConfig())
	}
}

func TestLoadConfigFileOverridesOnlyItsKeys(t *testing.T) {
	path := writeFile(t, "foyer.yaml", "tick: 100ms\nlog_level: debug\n")

	got, err := LoadConfigFile(path, DefaultConfig())
	if err != nil {
		t.Fatalf("load file: %v", err)
	}
	if got.Tick != 100*time.Millisecond {
		t.Errorf("got tick %s, want 100ms", got.Tick)
	}
	if got.LogLevel != "debug" {
		t.Errorf("got log_level %q, want debug", got.LogLevel)
	}
	if got.Listen != DefaultConfig().Listen {
		t.Errorf("got listen %q, want the default %q", got.Listen, DefaultConfig().Listen)
	}
}

func TestLoadConfigFileMissing(t *testing.T) {
	_, err := LoadConfigFile(filepath.Join(t.TempDir(), "absent.yaml"), DefaultConfig())
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("got error %v, want one wrapping fs.ErrNotExist", err)
	}
}

func TestLoadConfigFileExample(t *testing.T) {
	cfg, err := LoadConfigFile(exampleConfig, DefaultConfig())
	if err != nil {
		t.Fatalf("load example: %v", err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("example is invalid: %v", err)
	}

	if cfg.Tick != 250*time.Millisecond {
		t.Errorf("got tick %s, want 250ms", cfg.Tick)
	}
	if len(cfg.Rooms) != 1 {
		t.Fatalf("got %d rooms, want 1", len(cfg.Rooms))
	}
	room, err := cfg.Rooms[0].Settings()
	if err != nil {
		t.Fatalf("room settings: %v", err)
	}
	if room.ID != "spring-expo" {
		t.Errorf("got room %q, want spring-expo", room.ID)
	}
	if room.Event != "spring-expo" {
		t.Errorf("got event %q, want spring-expo", room.Event)
	}
	if want := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC); !room.OpensAt.Equal(want) {
		t.Errorf("got opens_at %s, want %s", room.OpensAt, want)
	}
	if room.HeartbeatGrace != 90*time.Second {
		t.Errorf("got heartbeat_grace %s, want 90s", room.HeartbeatGrace)
	}
}

// TestExampleConfigNamesEveryKey keeps the example in step with Config: each
// key appears, set or in a commented-out line.
func TestExampleConfigNamesEveryKey(t *testing.T) {
	raw, err := os.ReadFile(exampleConfig)
	if err != nil {
		t.Fatalf("read example: %v", err)
	}

	for _, typ := range []reflect.Type{reflect.TypeFor[Config](), reflect.TypeFor[RoomConfig](), reflect.TypeFor[EventConfig](), reflect.TypeFor[AdminAccountConfig](), reflect.TypeFor[ControllerConfig](), reflect.TypeFor[PrometheusConfig]()} {
		for field := range typ.Fields() {
			key, _, _ := strings.Cut(field.Tag.Get("yaml"), ",")
			if key == "" || key == "-" {
				continue
			}
			pattern := regexp.MustCompile(`(?m)^\s*(#\s*)?(-\s+)?` + regexp.QuoteMeta(key) + `:`)
			if !pattern.Match(raw) {
				t.Errorf("example does not mention %s.%s (key %q)", typ.Name(), field.Name, key)
			}
		}
	}
}

func TestApplyEnvSetsFields(t *testing.T) {
	env := map[string]string{
		"FOYER_LISTEN":                  "0.0.0.0:9000",
		"FOYER_REDIS_URL":               "redis://10.0.0.5:6379/0",
		"FOYER_BOOKING_REDIS_URL":       "redis://10.0.0.6:6379/0",
		"FOYER_ADMIN_TOKEN":             "0123456789abcdef0123",
		"FOYER_KEYS_DIR":                "/etc/foyer/keys",
		"FOYER_LOG_LEVEL":               "warn",
		"FOYER_LOG_FORMAT":              "text",
		"FOYER_PROXY_HEADER":            "X-Real-IP",
		"FOYER_TRUSTED_PROXIES":         "10.0.0.0/8, ::1,",
		"FOYER_JOINS_PER_MINUTE_PER_IP": "12.5",
		"FOYER_SECURE_COOKIES":          "true",
		"FOYER_REHEARSAL_CONCURRENCY":   "8",
		"FOYER_REHEARSAL_SERVICE_TIME":  "100ms",
		"FOYER_REHEARSAL_MAX_WAIT":      "1s",
	}

	got, err := ApplyEnv(DefaultConfig(), func(name string) string { return env[name] })
	if err != nil {
		t.Fatalf("apply env: %v", err)
	}

	checks := []struct {
		name      string
		got, want any
	}{
		{"Listen", got.Listen, "0.0.0.0:9000"},
		{"RedisURL", got.RedisURL, "redis://10.0.0.5:6379/0"},
		{"BookingRedisURL", got.BookingRedisURL, "redis://10.0.0.6:6379/0"},
		{"AdminToken", got.AdminToken, "0123456789abcdef0123"},
		{"KeysDir", got.KeysDir, "/etc/foyer/keys"},
		{"LogLevel", got.LogLevel, "warn"},
		{"LogFormat", got.LogFormat, "text"},
		{"ProxyHeader", got.ProxyHeader, "X-Real-IP"},
		{"TrustedProxies", fmt.Sprint(got.TrustedProxies), "[10.0.0.0/8 ::1]"},
		{"JoinsPerMinutePerIP", got.JoinsPerMinutePerIP, 12.5},
		{"SecureCookies", got.SecureCookies, true},
		{"RehearsalConcurrency", got.RehearsalConcurrency, 8},
		{"RehearsalServiceTime", got.RehearsalServiceTime, 100 * time.Millisecond},
		{"RehearsalMaxWait", got.RehearsalMaxWait, time.Second},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestApplyEnvKeepsUnsetFields(t *testing.T) {
	base := DefaultConfig()
	base.Listen = "127.0.0.1:7000"
	base.SecureCookies = true
	base.JoinsPerMinutePerIP = 30

	got, err := ApplyEnv(base, func(string) string { return "" })
	if err != nil {
		t.Fatalf("apply empty env: %v", err)
	}
	if !reflect.DeepEqual(got, base) {
		t.Fatalf("got %+v with no variables set, want it unchanged %+v", got, base)
	}
}

func TestApplyEnvRejectsInvalid(t *testing.T) {
	tests := []struct {
		name  string
		value string
		want  []string
	}{
		{"FOYER_JOINS_PER_MINUTE_PER_IP", "lots", []string{"FOYER_JOINS_PER_MINUTE_PER_IP", `"lots"`, "use a number"}},
		{"FOYER_SECURE_COOKIES", "yes please", []string{"FOYER_SECURE_COOKIES", `"yes please"`, "true or false"}},
		{"FOYER_REHEARSAL_CONCURRENCY", "eight", []string{"FOYER_REHEARSAL_CONCURRENCY", `"eight"`, "whole number"}},
		{"FOYER_REHEARSAL_SERVICE_TIME", "100", []string{"FOYER_REHEARSAL_SERVICE_TIME", `"100"`, "duration such as 100ms"}},
		{"FOYER_REHEARSAL_MAX_WAIT", "soon", []string{"FOYER_REHEARSAL_MAX_WAIT", `"soon"`, "duration such as 1s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(name string) string {
				if name == tt.name {
					return tt.value
				}
				return ""
			}

			_, err := ApplyEnv(DefaultConfig(), getenv)
			if err == nil {
				t.Fatalf("got no error for %s=%q, want one", tt.name, tt.value)
			}
			for _, part := range tt.want {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("got error %q, want it to contain %q", err, part)
				}
			}
		})
	}
}

// TestParseServeRehearsalPrecedence checks where `foyer serve` takes the
// rehearsal settings from: flags over environment variables over the
// file, and a flag given as 0 still overrides.
func TestParseServeRehearsalPrecedence(t *testing.T) {
	const file = "rehearsal_concurrency: 4\nrehearsal_service_time: 50ms\n"
	fileAndEnv := map[string]string{"FOYER_REHEARSAL_CONCURRENCY": "6", "FOYER_REHEARSAL_SERVICE_TIME": "75ms"}

	tests := []struct {
		name            string
		file            string
		env             map[string]string
		args            []string
		wantConcurrency int
		wantServiceTime time.Duration
	}{
		{name: "off by default"},
		{name: "file alone", file: file, wantConcurrency: 4, wantServiceTime: 50 * time.Millisecond},
		{name: "environment alone", env: fileAndEnv, wantConcurrency: 6, wantServiceTime: 75 * time.Millisecond},
		{
			name: "flags alone", args: []string{"--rehearsal-concurrency", "8", "--rehearsal-service-time", "100ms"},
			wantConcurrency: 8, wantServiceTime: 100 * time.Millisecond,
		},
		{
			name: "flags override file", file: file, args: []string{"--rehearsal-concurrency", "8", "--rehearsal-service-time", "100ms"},
			wantConcurrency: 8, wantServiceTime: 100 * time.Millisecond,
		},
		{name: "environment overrides file", file: file, env: fileAndEnv, wantConcurrency: 6, wantServiceTime: 75 * time.Millisecond},
		{
			name: "flags override environment", env: fileAndEnv, args: []string{"--rehearsal-concurrency=8", "--rehearsal-service-time=100ms"},
			wantConcurrency: 8, wantServiceTime: 100 * time.Millisecond,
		},
		{
			name: "flags override environment and file", file: file, env: fileAndEnv, args: []string{"--rehearsal-concurrency", "8", "--rehearsal-service-time", "100ms"},
			wantConcurrency: 8, wantServiceTime: 100 * time.Millisecond,
		},
		{
			name: "one flag leaves the other setting", file: file, env: map[string]string{"FOYER_REHEARSAL_SERVICE_TIME": "75ms"}, args: []string{"--rehearsal-concurrency", "8"},
			wantConcurrency: 8, wantServiceTime: 75 * time.Millisecond,
		},
		{
			name: "flags of 0 turn the file's settings off", file: file, args: []string{"--rehearsal-concurrency", "0", "--rehearsal-service-time", "0s"},
			wantConcurrency: 0, wantServiceTime: 0,
		},
		{
			name: "environment of 0 turns the file's settings off", file: file, env: map[string]string{"FOYER_REHEARSAL_CONCURRENCY": "0", "FOYER_REHEARSAL_SERVICE_TIME": "0"},
			wantConcurrency: 0, wantServiceTime: 0,
		},
		{
			// A concurrency limit alone caps the store's own calls, and a
			// service time alone slows them without a limit.
			name: "concurrency without service time", args: []string{"--rehearsal-concurrency", "8"},
			wantConcurrency: 8, wantServiceTime: 0,
		},
		{
			name: "service time without concurrency", args: []string{"--rehearsal-service-time", "100ms"},
			wantConcurrency: 0, wantServiceTime: 100 * time.Millisecond,
		},
		{
			name: "flag replaces an invalid file value", file: "rehearsal_concurrency: -1\n", args: []string{"--rehearsal-concurrency", "8"},
			wantConcurrency: 8,
		},
		{
			name: "largest values", args: []string{"--rehearsal-concurrency", "100000", "--rehearsal-service-time", "10s"},
			wantConcurrency: 100000, wantServiceTime: 10 * time.Second,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if tt.file != "" {
				args = append([]string{"--config", writeFile(t, "foyer.yaml", tt.file)}, args...)
			}

			cfg, err := parseServe(args, func(name string) string { return tt.env[name] }, io.Discard)
			if err != nil {
				t.Fatalf("parse %q: %v", args, err)
			}
			if cfg.RehearsalConcurrency != tt.wantConcurrency {
				t.Errorf("rehearsal_concurrency: got %d, want %d", cfg.RehearsalConcurrency, tt.wantConcurrency)
			}
			if cfg.RehearsalServiceTime != tt.wantServiceTime {
				t.Errorf("rehearsal_service_time: got %s, want %s", cfg.RehearsalServiceTime, tt.wantServiceTime)
			}
		})
	}
}

// TestParseServeRehearsalRejects checks that an invalid rehearsal setting,
// from any source, stops `foyer serve` with a message naming the setting,
// the value and what is allowed.
func TestParseServeRehearsalRejects(t *testing.T) {
	tests := []struct {
		name string
		file string
		env  map[string]string
		args []string
		// want lists parts of the error.
		want []string
		// wantUsage lists parts of the usage that the flag package writes
		// to stderr, which describes the values the flag accepts.
		wantUsage []string
	}{
		{
			name: "negative max wait flag", args: []string{"--rehearsal-concurrency", "8", "--rehearsal-max-wait", "-1s"},
			want: []string{"rehearsal_max_wait", "-1s", "0 (until the request's deadline) to 1m"},
		},
		{
			name: "negative concurrency flag", args: []string{"--rehearsal-concurrency", "-1"},
			want: []string{"rehearsal_concurrency", "-1", "0 (no limit) to 100000"},
		},
		{
			name: "concurrency flag too large", args: []string{"--rehearsal-concurrency", "100001"},
			want: []string{"rehearsal_concurrency", "100001", "0 (no limit) to 100000"},
		},
		{
			name: "negative service time flag", args: []string{"--rehearsal-concurrency", "8", "--rehearsal-service-time", "-5ms"},
			want: []string{"rehearsal_service_time", "-5ms", "0 (none) to 10s"},
		},
		{
			name: "service time flag too long", args: []string{"--rehearsal-service-time", "11s"},
			want: []string{"rehearsal_service_time", "11s", "0 (none) to 10s"},
		},
		{
			name: "concurrency flag not a number", args: []string{"--rehearsal-concurrency", "eight"},
			want:      []string{"rehearsal-concurrency", `"eight"`},
			wantUsage: []string{"-rehearsal-concurrency", "0 is no limit"},
		},
		{
			name: "service time flag without unit", args: []string{"--rehearsal-service-time", "100"},
			want:      []string{"rehearsal-service-time", `"100"`},
			wantUsage: []string{"-rehearsal-service-time", "such as 100ms"},
		},
		{
			name: "negative concurrency in environment", env: map[string]string{"FOYER_REHEARSAL_CONCURRENCY": "-2"},
			want: []string{"rehearsal_concurrency", "-2", "0 (no limit) to 100000"},
		},
		{
			name: "service time in environment without unit", env: map[string]string{"FOYER_REHEARSAL_SERVICE_TIME": "100"},
			want: []string{"FOYER_REHEARSAL_SERVICE_TIME", `"100"`, "duration such as 100ms"},
		},
		{
			name: "negative service time in file", file: "rehearsal_service_time: -1s\n",
			want: []string{"rehearsal_service_time", "-1s", "0 (none) to 10s"},
		},
		{
			name: "flag makes a valid file value invalid", file: "rehearsal_concurrency: 4\n", args: []string{"--rehearsal-concurrency", "-4"},
			want: []string{"rehearsal_concurrency", "-4", "0 (no limit) to 100000"},
		},
		{
			name: "environment makes a valid file value invalid", file: "rehearsal_service_time: 50ms\n", env: map[string]string{"FOYER_REHEARSAL_SERVICE_TIME": "1m"},
			want: []string{"rehearsal_service_time", "1m0s", "0 (none) to 10s"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if tt.file != "" {
				args = append([]string{"--config", writeFile(t, "foyer.yaml", tt.file)}, args...)
			}
			var stderr strings.Builder

			_, err := parseServe(args, func(name string) string { return tt.env[name] }, &stderr)
			if err == nil {
				t.Fatalf("parse %q: got no error, want one", args)
			}
			for _, part := range tt.want {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("got error %q, want it to contain %q", err, part)
				}
			}
			for _, part := range tt.wantUsage {
				if !strings.Contains(stderr.String(), part) {
					t.Errorf("got usage %q, want it to contain %q", stderr.String(), part)
				}
			}
		})
	}
}
