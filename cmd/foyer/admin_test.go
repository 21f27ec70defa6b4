package main

import (
	"bytes"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// adminHash returns a bcrypt hash of password at cost.
func adminHash(t *testing.T, password string, cost int) string {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		t.Fatalf("hash password: %v", err)
	}
	return string(hash)
}

func TestConfigValidateAdminAccounts(t *testing.T) {
	good := adminHash(t, "correct horse battery staple", bcrypt.DefaultCost)
	weak := adminHash(t, "correct horse battery staple", bcrypt.MinCost)

	accepted := []struct {
		name   string
		change func(*Config)
	}{
		{"one account", func(c *Config) { c.AdminAccounts = []AdminAccountConfig{{Username: "ada", PasswordHash: good}} }},
		{"email as username", func(c *Config) {
			c.AdminAccounts = []AdminAccountConfig{{Username: "ada@museum.example", PasswordHash: good}}
		}},
		{"password from the environment", func(c *Config) { c.AdminPassword = "twelve bytes" }},
	}
	for _, tt := range accepted {
		t.Run(tt.name, func(t *testing.T) {
			cfg := validConfig()
			tt.change(&cfg)
			if err := cfg.Validate(); err != nil {
				t.Fatalf("got error %q, want none", err)
			}
		})
	}

	rejected := []struct {
		name   string
		change func(*Config)
		want   []string
		secret string
	}{
		{
			name: "username with a space",
			change: func(c *Config) {
				c.AdminAccounts = []AdminAccountConfig{{Username: "ada lovelace", PasswordHash: good}}
			},
			want: []string{"admin_accounts[0]", `"ada lovelace"`, "letters, digits"},
		},
		{
			name: "username twice in other case",
			change: func(c *Config) {
				c.AdminAccounts = []AdminAccountConfig{{Username: "ada", PasswordHash: good}, {Username: "Ada", PasswordHash: good}}
			},
			want: []string{"admin_accounts[1]", `"Ada"`, "appears twice"},
		},
		{
			name: "password instead of a hash",
			change: func(c *Config) {
				c.AdminAccounts = []AdminAccountConfig{{Username: "ada", PasswordHash: "hunter2hunter2"}}
			},
			want:   []string{"admin_accounts[0]", "not a bcrypt hash", "foyer hash-password"},
			secret: "hunter2hunter2",
		},
		{
			name:   "hash of low cost",
			change: func(c *Config) { c.AdminAccounts = []AdminAccountConfig{{Username: "ada", PasswordHash: weak}} },
			want:   []string{"admin_accounts[0]", "cost 4", "10 or more"},
		},
		{
			name:   "short password from the environment",
			change: func(c *Config) { c.AdminPassword = "short pw" },
			want:   []string{"FOYER_ADMIN_PASSWORD", "8 bytes", "12 to 72"},
			secret: "short pw",
		},
	}
	for _, tt := range rejected {
		t.Run(tt.name, func(t *testing.T) {
			cfg := validConfig()
			tt.change(&cfg)
			err := cfg.Validate()
			if err == nil {
				t.Fatalf("got no error, want one")
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("got error %q, want it to contain %q", err, want)
				}
			}
			if tt.secret != "" && strings.Contains(err.Error(), tt.secret) {
				t.Errorf("got error %q, which shows the secret", err)
			}
		})
	}
}

func TestAdminPasswordFromEnvironment(t *testing.T) {
	good := adminHash(t, "the file's password", bcrypt.DefaultCost)
	cfg := validConfig()
	cfg.AdminAccounts = []AdminAccountConfig{{Username: "ada", PasswordHash: good}, {Username: "admin", PasswordHash: good}}
	cfg, err := ApplyEnv(cfg, func(name string) string {
		if name == "FOYER_ADMIN_PASSWORD" {
			return "the environment's password"
		}
		return ""
	})
	if err != nil {
		t.Fatalf("ApplyEnv: %v", err)
	}

	accounts, err := cfg.adminAccounts()
	if err != nil {
		t.Fatalf("adminAccounts: %v", err)
	}
	if len(accounts) != 2 {
		t.Fatalf("got %d accounts, want ada and admin", len(accounts))
	}
	if err := bcrypt.CompareHashAndPassword(accounts["admin"], []byte("the environment's password")); err != nil {
		t.Errorf("account admin does not take FOYER_ADMIN_PASSWORD: %v", err)
	}
	if err := bcrypt.CompareHashAndPassword(accounts["ada"], []byte("the file's password")); err != nil {
		t.Errorf("account ada lost its password from the file: %v", err)
	}
}

func TestHashPassword(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := hashPassword(nil, strings.NewReader("a password of some length\r\nsecond line\n"), &stdout, &stderr)
	if err != nil {
		t.Fatalf("hash-password: %v", err)
	}
	hash := strings.TrimSpace(stdout.String())
	if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte("a password of some length")); err != nil {
		t.Errorf("the printed hash %q does not match the first line of input: %v", hash, err)
	}
	if cost, err := bcrypt.Cost([]byte(hash)); err != nil || cost != bcrypt.DefaultCost {
		t.Errorf("got cost %d (%v), want %d", cost, err, bcrypt.DefaultCost)
	}

	for _, input := range []string{"", "short\n", strings.Repeat("x", 73) + "\n"} {
		stdout.Reset()
		if err := hashPassword(nil, strings.NewReader(input), &stdout, &stderr); err == nil {
			t.Errorf("hash-password of %d bytes: got no error, want one", len(input))
		}
		if stdout.Len() != 0 {
			t.Errorf("hash-password of %d bytes: got output %q, want none", len(input), stdout.String())
		}
	}
	err = hashPassword([]string{"my password"}, strings.NewReader(""), &stdout, &stderr)
	if err == nil {
		t.Fatalf("hash-password with an argument: got no error, want one")
	}
	if strings.Contains(err.Error(), "my password") {
		t.Errorf("got error %q, which repeats the password given as an argument", err)
	}
}
