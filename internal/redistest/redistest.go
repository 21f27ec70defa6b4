// Package redistest starts throwaway redis-server processes for tests.
//
// Every server listens on a Unix socket in a temporary directory owned by the
// test, so tests never touch a Redis they did not start and may stop, restart
// or kill their server at will. When redis-server is not installed the test
// is skipped, unless FOYER_REQUIRE_REDIS=1 is set (as CI does), in which case
// it fails.
package redistest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Options configure a test server. The zero value starts a server that keeps
// nothing on disk.
type Options struct {
	// AppendFsyncAlways turns on the append-only file with appendfsync always,
	// the setting that booking data needs to survive a crash.
	AppendFsyncAlways bool
	// TCP also listens on a free loopback TCP port, for clients that need
	// host:port addresses (a browser or a second process).
	TCP bool
}

// Server is one redis-server process started by a test.
type Server struct {
	t       testing.TB
	opts    Options
	dir     string
	socket  string
	port    int
	cmd     *exec.Cmd
	exited  chan struct{}
	binPath string
}

// Start starts a redis-server for t and stops it when t ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()

	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("FOYER_REQUIRE_REDIS") == "1" {
			t.Fatalf("redis-server not found on PATH but FOYER_REQUIRE_REDIS=1: install it (apt-get install redis-server)")
		}
		t.Skip("redis-server not found on PATH; install it or set FOYER_REQUIRE_REDIS=1 to make this a failure")
	}

	// Unix socket paths are limited to about 100 bytes, and t.TempDir can
	// be longer than that, so the socket lives in a short directory of its own.
	dir, err := os.MkdirTemp("", "foyer-redis-")
	if err != nil {
		t.Fatalf("create redis directory: %v", err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })

	s := &Server{t: t, opts: opts, dir: dir, socket: filepath.Join(dir, "redis.sock"), binPath: bin}
	if opts.TCP {
		s.port = FreePort(t)
	}
	s.launch()
	t.Cleanup(s.Stop)
	return s
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	return port
}

func (s *Server) args() []string {
	args := []string{
		"--unixsocket", s.socket,
		"--unixsocketperm", "700",
		"--dir", s.dir,
		"--save", "",
		"--databases", "4",
		"--logfile", filepath.Join(s.dir, "redis.log"),
	}
	if s.opts.TCP {
		args = append(args, "--port", fmt.Sprint(s.port), "--bind", "127.0.0.1")
	} else {
		args = append(args, "--port", "0")
	}
	if s.opts.AppendFsyncAlways {
		args = append(args, "--appendonly", "yes", "--appendfsync", "always")
	} else {
		args = append(args, "--appendonly", "no")
	}
	return args
}

func (s *Server) launch() {
	s.t.Helper()

	s.cmd = exec.Command(s.binPath, s.args()...)
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start redis-server: %v", err)
	}
	s.exited = make(chan struct{})
	go func(cmd *exec.Cmd, exited chan struct{}) {
		_ = cmd.Wait()
		close(exited)
	}(s.cmd, s.exited)

	client := redis.NewClient(s.Options())
	defer client.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := client.Ping(context.Background()).Err()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
			s.t.Fatalf("redis-server did not answer PING within 10s: %v\n%s", err, log)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Options returns client options for this server with short timeouts, so a
// stopped server fails calls quickly.
func (s *Server) Options() *redis.Options {
	return &redis.Options{
		Network:      "unix",
		Addr:         s.socket,
		DialTimeout:  time.Second,
		ReadTimeout:  2 * time.Second,
		WriteTimeout: 2 * time.Second,
		PoolSize:     64,
		MaxRetries:   -1,
	}
}

// Client returns a new client for this server, closed when the test ends.
func (s *Server) Client() *redis.Client {
	c := redis.NewClient(s.Options())
	s.t.Cleanup(func() { _ = c.Close() })
	return c
}

// URL returns a redis:// or unix:// URL that foyer's --redis flag accepts.
func (s *Server) URL() string {
	if s.opts.TCP {
		return fmt.Sprintf("redis://127.0.0.1:%d/0", s.port)
	}
	return "unix://" + s.socket
}

// Addr returns the TCP address, or "" when the server listens only on a socket.
func (s *Server) Addr() string {
	if !s.opts.TCP {
		return ""
	}
	return fmt.Sprintf("127.0.0.1:%d", s.port)
}

// Dir returns the server's data directory.
func (s *Server) Dir() string { return s.dir }

// Stop shuts the server down gracefully and waits for it to exit. Calling
// Stop on a stopped server does nothing.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	s.wait()
}

// Kill ends the server with SIGKILL, as a crash would, and waits for it.
func (s *Server) Kill() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	s.wait()
}

func (s *Server) wait() {
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	s.cmd = nil
}

// Restart starts the server again on the same socket, port and directory,
// so data that it persisted is loaded again.
func (s *Server) Restart() {
	s.t.Helper()
	if s.cmd != nil {
		s.t.Fatalf("restart redis-server: it is still running; call Stop or Kill first")
	}
	_ = os.Remove(s.socket)
	s.launch()
}

// Log returns what redis-server wrote to its log file so far.
func (s *Server) Log() string {
	b, err := os.ReadFile(filepath.Join(s.dir, "redis.log"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "read redis log: " + err.Error()
	}
	return strings.TrimSpace(string(b))
}
