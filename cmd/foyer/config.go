package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
	"gopkg.in/yaml.v3"

	"foyer/waitroom"
	"foyer/web"
)

// Config is everything `foyer serve` reads from its file, flags and
// environment. Flags win over environment variables, which win over the file.
type Config struct {
	// Listen is the HTTP listen address.
	Listen string `yaml:"listen"`
	// RedisURL selects the Redis store (redis://, rediss:// or unix://);
	// empty runs on the in-memory store.
	RedisURL string `yaml:"redis_url"`
	// BookingRedisURL puts booking data on its own Redis; empty uses RedisURL.
	BookingRedisURL string `yaml:"booking_redis_url"`
	// RedisPoolSize is the connection pool size of each Redis client.
	RedisPoolSize int `yaml:"redis_pool_size"`
	// AdminToken is the admin API's bearer token; empty turns the API off.
	// Prefer FOYER_ADMIN_TOKEN to keep it out of files.
	AdminToken string `yaml:"admin_token"`
	// AdminAccounts may sign in to the organizer console at /admin.
	AdminAccounts []AdminAccountConfig `yaml:"admin_accounts"`
	// AdminPassword creates the console account "admin", or replaces its
	// password. It is read from FOYER_ADMIN_PASSWORD only, never from the
	// file, and never logged.
	AdminPassword string `yaml:"-"`
	// KeysDir holds the signing and cookie keys made by `foyer keys`; empty
	// makes temporary keys at start.
	KeysDir string `yaml:"keys_dir"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `yaml:"log_level"`
	// LogFormat is json, text, or auto (text on a terminal, JSON elsewhere).
	LogFormat string `yaml:"log_format"`
	// Tick is how often each edge runs the admission step of every room.
	Tick time.Duration `yaml:"tick"`
	// ShutdownTimeout bounds how long requests in flight may take at stop.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// SecureCookies marks cookies Secure; turn it on behind HTTPS.
	SecureCookies bool `yaml:"secure_cookies"`
	// JoinsPerMinutePerIP limits new places per client address; 0 is off.
	JoinsPerMinutePerIP float64 `yaml:"joins_per_minute_per_ip"`
	// ProxyHeader is the header holding the client address behind a proxy.
	ProxyHeader string `yaml:"proxy_header"`
	// TrustedProxies are the addresses or CIDR ranges of the proxies whose
	// ProxyHeader is believed. A request from any other address is known
	// by its connection's address. Empty believes the header from anyone.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// WebhookSecret signs payment webhooks (HMAC-SHA256), at least 32
	// characters; empty makes a temporary one. Prefer FOYER_WEBHOOK_SECRET.
	WebhookSecret string `yaml:"webhook_secret"`
	// RehearsalConcurrency is how many booking holds and confirmations may
	// run at once, for a rehearsal against a known capacity. 0 is no limit.
	RehearsalConcurrency int `yaml:"rehearsal_concurrency"`
	// RehearsalServiceTime is added to each booking hold and confirmation
	// while it takes one of the RehearsalConcurrency places. 0 adds nothing.
	RehearsalServiceTime time.Duration `yaml:"rehearsal_service_time"`
	// RehearsalMaxWait is the longest a booking hold or confirmation waits
	// for one of the RehearsalConcurrency places before it fails as
	// unavailable, as a backend that sheds load would. 0 waits until the
	// request's own deadline.
	RehearsalMaxWait time.Duration `yaml:"rehearsal_max_wait"`
	// Rooms are seeded into the store where absent at every start.
	Rooms []RoomConfig `yaml:"rooms"`
	// Events are created in the booking store where absent at every start.
	Events []EventConfig `yaml:"events"`

	// demoEvent adds the demo event; it is set when the configuration names
	// no rooms, so that the demo room has something to sell.
	demoEvent bool
}

// AdminAccountConfig is one organizer console account.
type AdminAccountConfig struct {
	// Username is 1 to 64 letters, digits, '.', '_', '@' and '-'.
	Username string `yaml:"username"`
	// PasswordHash is a bcrypt hash of cost 10 or more, as `foyer
	// hash-password` prints it.
	PasswordHash string `yaml:"password_hash"`
}

// adminPasswordUser is the account that FOYER_ADMIN_PASSWORD sets.
const adminPasswordUser = "admin"

// Bounds on FOYER_ADMIN_PASSWORD, in bytes. bcrypt reads at most 72.
const (
	minAdminPassword = 12
	maxAdminPassword = 72
)

// RoomConfig is one room in the configuration file. Zero values take the
// defaults of waitroom.Settings.
type RoomConfig struct {
	ID              string        `yaml:"id"`
	Title           string        `yaml:"title"`
	Event           string        `yaml:"event"`
	OpensAt         string        `yaml:"opens_at"`
	RatePerMinute   float64       `yaml:"rate_per_minute"`
	Burst           int           `yaml:"burst"`
	MaxActive       int           `yaml:"max_active"`
	AdmissionWindow time.Duration `yaml:"admission_window"`
	SessionLifetime time.Duration `yaml:"session_lifetime"`
	HeartbeatGrace  time.Duration `yaml:"heartbeat_grace"`
	Message         string        `yaml:"message"`
	Mode            string        `yaml:"mode"`
	Paused          bool          `yaml:"paused"`
	// Controller sets the automatic admission rate of mode auto.
	Controller ControllerConfig `yaml:"controller"`
}

// DefaultConfig is what `foyer serve` runs with no file: room demo guarding
// event demo, open now, on the in-memory store.
func DefaultConfig() Config {
	return Config{
		Listen:              "127.0.0.1:8080",
		RedisPoolSize:       64,
		LogLevel:            "info",
		LogFormat:           "auto",
		Tick:                250 * time.Millisecond,
		ShutdownTimeout:     10 * time.Second,
		JoinsPerMinutePerIP: 0,
	}
}

func defaultRooms() []RoomConfig {
	return []RoomConfig{{
		ID:            "demo",
		Title:         "Foyer demo museum",
		Event:         "demo",
		RatePerMinute: 30,
		Burst:         5,
		Message:       "Welcome! This is Foyer's demo room: you will be let through in a few seconds.",
	}}
}

// LoadConfigFile reads a YAML configuration file over cfg. Unknown keys are
// errors, so a typo does not silently fall back to a default.
func LoadConfigFile(path string, cfg Config) (Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return cfg, fmt.Errorf("read config file: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	// An empty file decodes to io.EOF and leaves the defaults as they are.
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return cfg, fmt.Errorf("config file %s: %w", path, err)
	}
	return cfg, nil
}

// ApplyEnv sets the fields that FOYER_* environment variables name, and
// reads the bearer tokens that rooms' prometheus.bearer_token_env name.
func ApplyEnv(cfg Config, getenv func(string) string) (Config, error) {
	str := map[string]*string{
		"FOYER_LISTEN":            &cfg.Listen,
		"FOYER_REDIS_URL":         &cfg.RedisURL,
		"FOYER_BOOKING_REDIS_URL": &cfg.BookingRedisURL,
		"FOYER_ADMIN_TOKEN":       &cfg.AdminToken,
		"FOYER_KEYS_DIR":          &cfg.KeysDir,
		"FOYER_LOG_LEVEL":         &cfg.LogLevel,
		"FOYER_LOG_FORMAT":        &cfg.LogFormat,
		"FOYER_PROXY_HEADER":      &cfg.ProxyHeader,
		"FOYER_WEBHOOK_SECRET":    &cfg.WebhookSecret,
		"FOYER_ADMIN_PASSWORD":    &cfg.AdminPassword,
	}
	for name, field := range str {
		if v := getenv(name); v != "" {
			*field = v
		}
	}
	if v := getenv("FOYER_TRUSTED_PROXIES"); v != "" {
		cfg.TrustedProxies = nil
		for part := range strings.SplitSeq(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				cfg.TrustedProxies = append(cfg.TrustedProxies, part)
			}
		}
	}
	if v := getenv("FOYER_JOINS_PER_MINUTE_PER_IP"); v != "" {
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return cfg, fmt.Errorf("FOYER_JOINS_PER_MINUTE_PER_IP=%q is invalid: use a number, 0 to turn the limit off", v)
		}
		cfg.JoinsPerMinutePerIP = n
	}
	if v := getenv("FOYER_REHEARSAL_CONCURRENCY"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return cfg, fmt.Errorf("FOYER_REHEARSAL_CONCURRENCY=%q is invalid: use a whole number, 0 for no limit", v)
		}
		cfg.RehearsalConcurrency = n
	}
	if v := getenv("FOYER_REHEARSAL_SERVICE_TIME"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return cfg, fmt.Errorf("FOYER_REHEARSAL_SERVICE_TIME=%q is invalid: use a duration such as 100ms, 0 to add nothing", v)
		}
		cfg.RehearsalServiceTime = d
	}
	if v := getenv("FOYER_REHEARSAL_MAX_WAIT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return cfg, fmt.Errorf("FOYER_REHEARSAL_MAX_WAIT=%q is invalid: use a duration such as 1s, 0 to wait until the request's deadline", v)
		}
		cfg.RehearsalMaxWait = d
	}
	if v := getenv("FOYER_SECURE_COOKIES"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return cfg, fmt.Errorf("FOYER_SECURE_COOKIES=%q is invalid: use true or false", v)
		}
		cfg.SecureCookies = b
	}
	cfg.Rooms = withPrometheusTokens(cfg.Rooms, getenv)
	return cfg, nil
}

// Validate returns an error naming the first invalid field, its value and
// what is allowed.
func (c Config) Validate() error {
	if _, port, err := net.SplitHostPort(c.Listen); err != nil || port == "" {
		return fmt.Errorf("listen %q is invalid: use host:port, for example 127.0.0.1:8080 or :8080", c.Listen)
	}
	for name, u := range map[string]string{"redis_url": c.RedisURL, "booking_redis_url": c.BookingRedisURL} {
		if u == "" {
			continue
		}
		parsed, err := url.Parse(u)
		if err != nil || (parsed.Scheme != "redis" && parsed.Scheme != "rediss" && parsed.Scheme != "unix") {
			return fmt.Errorf("%s %q is invalid: use redis://host:port/db, rediss://... or unix:///path/to/redis.sock", name, redactURL(u))
		}
	}
	if c.BookingRedisURL != "" && c.RedisURL == "" {
		return fmt.Errorf("booking_redis_url is set but redis_url is not: set both, or neither to run on the in-memory store")
	}
	switch {
	case c.RedisPoolSize < 1 || c.RedisPoolSize > 10000:
		return fmt.Errorf("redis_pool_size %d is invalid: use a whole number from 1 to 10000", c.RedisPoolSize)
	case c.LogLevel != "debug" && c.LogLevel != "info" && c.LogLevel != "warn" && c.LogLevel != "error":
		return fmt.Errorf("log_level %q is invalid: use debug, info, warn or error", c.LogLevel)
	case c.LogFormat != "auto" && c.LogFormat != "json" && c.LogFormat != "text":
		return fmt.Errorf("log_format %q is invalid: use auto, json or text", c.LogFormat)
	case c.Tick < 10*time.Millisecond || c.Tick > 10*time.Second:
		return fmt.Errorf("tick %s is invalid: use a duration from 10ms to 10s", c.Tick)
	case c.ShutdownTimeout < time.Second || c.ShutdownTimeout > 10*time.Minute:
		return fmt.Errorf("shutdown_timeout %s is invalid: use a duration from 1s to 10m", c.ShutdownTimeout)
	case c.JoinsPerMinutePerIP < 0:
		return fmt.Errorf("joins_per_minute_per_ip %v is invalid: use 0 (off) or a positive number", c.JoinsPerMinutePerIP)
	case c.RehearsalConcurrency < 0 || c.RehearsalConcurrency > 100000:
		return fmt.Errorf("rehearsal_concurrency %d is invalid: use a whole number from 0 (no limit) to 100000", c.RehearsalConcurrency)
	case c.RehearsalServiceTime < 0 || c.RehearsalServiceTime > 10*time.Second:
		return fmt.Errorf("rehearsal_service_time %s is invalid: use a duration from 0 (none) to 10s", c.RehearsalServiceTime)
	case c.RehearsalMaxWait < 0 || c.RehearsalMaxWait > time.Minute:
		return fmt.Errorf("rehearsal_max_wait %s is invalid: use a duration from 0 (until the request's deadline) to 1m", c.RehearsalMaxWait)
	case c.AdminToken != "" && len(c.AdminToken) < 16:
		return fmt.Errorf("admin token is %d characters long: use at least 16 random characters", len(c.AdminToken))
	}

	for i, proxy := range c.TrustedProxies {
		if !validProxyAddress(proxy) {
			return fmt.Errorf("trusted_proxies[%d] %q is invalid: use an IP address such as 10.0.0.5 or a CIDR range such as 10.0.0.0/8", i, proxy)
		}
	}
	if len(c.TrustedProxies) > 0 && c.ProxyHeader == "" {
		return fmt.Errorf("trusted_proxies is set but proxy_header is not: name the header those proxies set, such as X-Real-IP")
	}

	if c.WebhookSecret != "" && len(c.WebhookSecret) < 32 {
		return fmt.Errorf("webhook secret is %d characters long: use at least 32 random characters", len(c.WebhookSecret))
	}
	if err := c.validateAdminAccounts(); err != nil {
		return err
	}

	seen := map[string]bool{}
	for i, r := range c.Rooms {
		s, err := r.Settings()
		if err != nil {
			return fmt.Errorf("rooms[%d]: %w", i, err)
		}
		if err := s.Validate(); err != nil {
			return fmt.Errorf("rooms[%d]: %w", i, err)
		}
		if err := r.Controller.Validate(); err != nil {
			return fmt.Errorf("rooms[%d]: %w", i, err)
		}
		if seen[s.ID] {
			return fmt.Errorf("rooms[%d]: room id %q appears twice: give each room its own id", i, s.ID)
		}
		seen[s.ID] = true
	}

	events := map[string]bool{}
	for i, ec := range c.Events {
		event, _, err := ec.Build()
		if err != nil {
			return fmt.Errorf("events[%d]: %w", i, err)
		}
		if events[event.ID] {
			return fmt.Errorf("events[%d]: event id %q appears twice: give each event its own id", i, event.ID)
		}
		events[event.ID] = true
		if !seen[event.Room] {
			return fmt.Errorf("events[%d]: event %q names room %q, which is not among the rooms: add that room or fix the event's room", i, event.ID, event.Room)
		}
	}
	return nil
}

// validateAdminAccounts checks the console accounts and FOYER_ADMIN_PASSWORD.
// Usernames must differ in more than letter case, because sign-in attempts
// are counted per username without case.
func (c Config) validateAdminAccounts() error {
	seen := map[string]bool{}
	for i, a := range c.AdminAccounts {
		if !web.ValidUsername(a.Username) {
			return fmt.Errorf("admin_accounts[%d]: username %q is invalid: use 1 to 64 letters, digits, '.', '_', '@' and '-'", i, a.Username)
		}
		if seen[strings.ToLower(a.Username)] {
			return fmt.Errorf("admin_accounts[%d]: username %q appears twice: give each account its own username", i, a.Username)
		}
		seen[strings.ToLower(a.Username)] = true
		cost, err := bcrypt.Cost([]byte(a.PasswordHash))
		if err != nil {
			return fmt.Errorf("admin_accounts[%d]: password_hash of %q is not a bcrypt hash: make one with `foyer hash-password`", i, a.Username)
		}
		if cost < bcrypt.DefaultCost {
			return fmt.Errorf("admin_accounts[%d]: password_hash of %q has bcrypt cost %d: use %d or more, as `foyer hash-password` does", i, a.Username, cost, bcrypt.DefaultCost)
		}
	}
	if c.AdminPassword != "" && (len(c.AdminPassword) < minAdminPassword || len(c.AdminPassword) > maxAdminPassword) {
		return fmt.Errorf("FOYER_ADMIN_PASSWORD is %d bytes long: use %d to %d", len(c.AdminPassword), minAdminPassword, maxAdminPassword)
	}
	return nil
}

// adminAccounts returns the console accounts as web.Options takes them,
// with the account that FOYER_ADMIN_PASSWORD sets, hashed now.
func (c Config) adminAccounts() (map[string][]byte, error) {
	accounts := make(map[string][]byte, len(c.AdminAccounts)+1)
	for _, a := range c.AdminAccounts {
		accounts[a.Username] = []byte(a.PasswordHash)
	}
	if c.AdminPassword != "" {
		hash, err := bcrypt.GenerateFromPassword([]byte(c.AdminPassword), bcrypt.DefaultCost)
		if err != nil {
			return nil, fmt.Errorf("hash FOYER_ADMIN_PASSWORD: %w", err)
		}
		accounts[adminPasswordUser] = hash
	}
	return accounts, nil
}

// Settings converts the room's configuration to store settings with
// defaults filled in.
func (r RoomConfig) Settings() (waitroom.Settings, error) {
	s := waitroom.Settings{
		ID:              r.ID,
		Title:           r.Title,
		Event:           r.Event,
		RatePerMinute:   r.RatePerMinute,
		Burst:           r.Burst,
		MaxActive:       r.MaxActive,
		AdmissionWindow: r.AdmissionWindow,
		SessionLifetime: r.SessionLifetime,
		HeartbeatGrace:  r.HeartbeatGrace,
		Message:         r.Message,
		Mode:            waitroom.Mode(r.Mode),
		Paused:          r.Paused,
	}
	if r.OpensAt != "" {
		at, err := time.Parse(time.RFC3339, r.OpensAt)
		if err != nil {
			return s, fmt.Errorf("room %s: opens_at %q is invalid: use an RFC 3339 time such as 2026-12-04T09:00:00+01:00", r.ID, r.OpensAt)
		}
		s.OpensAt = at
	}
	return s.WithDefaults(), nil
}

// redactURL hides a password in a Redis URL, for messages and logs.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return strings.Replace(u.String(), "xxxxx", "***", 1)
}

// validProxyAddress reports whether s is an IP address or a CIDR range.
func validProxyAddress(s string) bool {
	if _, err := netip.ParsePrefix(s); err == nil {
		return true
	}
	_, err := netip.ParseAddr(s)
	return err == nil
}
