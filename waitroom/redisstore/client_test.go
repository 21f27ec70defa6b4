package redisstore

import (
	"testing"
	"time"
)

func TestNewClientOptions(t *testing.T) {
	cases := []struct {
		name        string
		url         string
		opts        ClientOptions
		network     string
		addr        string
		poolSize    int
		readTimeout time.Duration
		// maxRetries is as go-redis keeps it, which turns -1 into 0.
		maxRetries int
	}{
		{"defaults", "redis://127.0.0.1:6390/2", ClientOptions{}, "tcp", "127.0.0.1:6390", DefaultPoolSize, DefaultReadTimeout, DefaultMaxRetries},
		{"unix socket", "unix:///tmp/r.sock", ClientOptions{}, "unix", "/tmp/r.sock", DefaultPoolSize, DefaultReadTimeout, DefaultMaxRetries},
		{"URL query wins over defaults", "redis://127.0.0.1:6390?pool_size=7&read_timeout=3s&max_retries=-1", ClientOptions{}, "tcp", "127.0.0.1:6390", 7, 3 * time.Second, 0},
		{"options win over URL query", "redis://127.0.0.1:6390?pool_size=7", ClientOptions{PoolSize: 9, ReadTimeout: 500 * time.Millisecond}, "tcp", "127.0.0.1:6390", 9, 500 * time.Millisecond, DefaultMaxRetries},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			client, err := NewClient(c.url, c.opts)
			if err != nil {
				t.Fatalf("NewClient(%s): %v", c.url, err)
			}
			defer client.Close()
			o := client.Options()
			if o.Network != c.network || o.Addr != c.addr {
				t.Errorf("address: got %s %s, want %s %s", o.Network, o.Addr, c.network, c.addr)
			}
			if o.PoolSize != c.poolSize {
				t.Errorf("PoolSize: got %d, want %d", o.PoolSize, c.poolSize)
			}
			if o.ReadTimeout != c.readTimeout {
				t.Errorf("ReadTimeout: got %v, want %v", o.ReadTimeout, c.readTimeout)
			}
			if o.MaxRetries != c.maxRetries {
				t.Errorf("MaxRetries: got %d, want %d", o.MaxRetries, c.maxRetries)
			}
			if o.DialTimeout != DefaultDialTimeout || o.WriteTimeout != DefaultWriteTimeout || o.PoolTimeout != DefaultPoolTimeout {
				t.Errorf("timeouts: got dial %v, write %v, pool %v, want %v, %v, %v",
					o.DialTimeout, o.WriteTimeout, o.PoolTimeout, DefaultDialTimeout, DefaultWriteTimeout, DefaultPoolTimeout)
			}
			if o.DialerRetries != DefaultDialAttempts {
				t.Errorf("DialerRetries: got %d, want %d", o.DialerRetries, DefaultDialAttempts)
			}
		})
	}
}

func TestNewClientRejectsInvalidURL(t *testing.T) {
	for _, url := range []string{"http://127.0.0.1:6379", "redis://127.0.0.1:6379/notadb", "::"} {
		if client, err := NewClient(url, ClientOptions{}); err == nil {
			client.Close()
			t.Errorf("NewClient(%q): got no error, want one", url)
		}
	}
}
