package redisstore

import (
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Defaults of ClientOptions. The timeouts are short so that a lost Redis
// fails a request in about a second instead of holding it.
const (
	DefaultPoolSize     = 64
	DefaultDialTimeout  = time.Second
	DefaultReadTimeout  = time.Second
	DefaultWriteTimeout = time.Second
	DefaultPoolTimeout  = time.Second
	DefaultMaxRetries   = 1
	// DefaultDialAttempts is how many times one connection is dialed before
	// the command fails, DefaultDialBackoff apart. go-redis would otherwise
	// try five times, 100ms apart.
	DefaultDialAttempts = 2
	DefaultDialBackoff  = 25 * time.Millisecond
)

// ClientOptions tune the client that NewClient builds. A zero field takes
// the value that the URL's query sets (see redis.ParseURL, for example
// ?pool_size=32&read_timeout=2s), or else the default above.
type ClientOptions struct {
	// PoolSize is the maximum number of connections the client keeps open.
	PoolSize int
	// DialTimeout, ReadTimeout and WriteTimeout bound one dial, one read
	// and one write on a connection.
	DialTimeout  time.Duration
	ReadTimeout  time.Duration
	WriteTimeout time.Duration
	// PoolTimeout is how long a command waits for a free connection when
	// all PoolSize are busy.
	PoolTimeout time.Duration
	// MaxRetries is how often a command that failed on the network is sent
	// again. -1 sends it once only.
	MaxRetries int
}

// NewClient returns a client for a redis://, rediss:// or unix:// URL, for
// example redis://127.0.0.1:6379/0 or unix:///run/redis/redis.sock, with an
// explicit pool size, short timeouts and few retries. The caller closes it.
func NewClient(url string, opts ClientOptions) (*redis.Client, error) {
	o, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis URL is invalid (use redis://host:port/db or unix:///path/to/redis.sock): %w", err)
	}

	o.PoolSize = pick(opts.PoolSize, o.PoolSize, DefaultPoolSize)
	o.DialTimeout = pick(opts.DialTimeout, o.DialTimeout, DefaultDialTimeout)
	o.ReadTimeout = pick(opts.ReadTimeout, o.ReadTimeout, DefaultReadTimeout)
	o.WriteTimeout = pick(opts.WriteTimeout, o.WriteTimeout, DefaultWriteTimeout)
	o.PoolTimeout = pick(opts.PoolTimeout, o.PoolTimeout, DefaultPoolTimeout)
	o.MaxRetries = pick(opts.MaxRetries, o.MaxRetries, DefaultMaxRetries)
	o.DialerRetries = pick(0, o.DialerRetries, DefaultDialAttempts)
	o.DialerRetryTimeout = pick(0, o.DialerRetryTimeout, DefaultDialBackoff)
	return redis.NewClient(o), nil
}

// pick returns the first of explicit, fromURL and fallback that is not zero.
func pick[T comparable](explicit, fromURL, fallback T) T {
	var zero T
	switch {
	case explicit != zero:
		return explicit
	case fromURL != zero:
		return fromURL
	}
	return fallback
}
