package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"foyer/internal/redistest"
)

// testVersion is stamped into the binary that the process tests build.
const testVersion = "v0.0.0-processtest"

// Bounds on waiting for the process. They guard against a hang and do not
// measure speed.
const (
	startTimeout = 15 * time.Second
	stopTimeout  = 15 * time.Second
)

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// foyerBinary builds the foyer command once for all process tests and
// returns its path. The binary lives in a directory of its own rather than
// in one test's t.TempDir, which is removed when that test ends.
func foyerBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("process tests build the binary; skipped with -short")
	}

	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "foyer-bin-")
		if buildErr != nil {
			return
		}
		out, err := exec.Command("go", "build",
			"-ldflags", "-X main.version="+testVersion,
			"-o", filepath.Join(buildDir, "foyer"), ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatalf("build foyer: %v", buildErr)
	}
	return filepath.Join(buildDir, "foyer")
}

// lockedBuffer is a bytes.Buffer that a process can write while the test
// reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// process is a running foyer command and its combined output.
type process struct {
	cmd    *exec.Cmd
	output *lockedBuffer
	exited chan struct{}
}

// startFoyer runs the foyer binary with args and an environment without
// FOYER_* variables. A process still running when the test ends is killed.
func startFoyer(t *testing.T, args ...string) *process {
	t.Helper()

	cmd := exec.Command(foyerBinary(t), args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "FOYER_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	p := &process{cmd: cmd, output: &lockedBuffer{}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.output, p.output

	if err := cmd.Start(); err != nil {
		t.Fatalf("start foyer: %v", err)
	}
	go func() {
		_ = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

// waitExit waits up to timeout for the process to exit and returns its
// exit code.
func (p *process) waitExit(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.exited:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(timeout):
		t.Fatalf("foyer still running %s after it was expected to exit; output:\n%s", timeout, p.output.String())
		return -1
	}
}

// stop sends SIGTERM and checks that the process exits with status 0 and
// logs its stop.
func (p *process) stop(t *testing.T) {
	t.Helper()

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("send SIGTERM: %v", err)
	}
	if code := p.waitExit(t, stopTimeout); code != 0 {
		t.Fatalf("got exit status %d after SIGTERM, want 0; output:\n%s", code, p.output.String())
	}
	if !strings.Contains(p.output.String(), "foyer stopped") {
		t.Fatalf("got output:\n%s\nwant it to log \"foyer stopped\"", p.output.String())
	}
}

// waitHealthy polls /healthz until it returns 200, the process exits or
// startTimeout passes.
func (p *process) waitHealthy(t *testing.T, baseURL string) {
	t.Helper()

	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-p.exited:
			t.Fatalf("foyer exited with status %d before it was healthy; output:\n%s", p.cmd.ProcessState.ExitCode(), p.output.String())
		default:
		}

		res, err := client.Get(baseURL + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("/healthz did not return 200 within %s; output:\n%s", startTimeout, p.output.String())
}

// checkDemoJoin joins room demo as a browser would: /r/demo must return 303
// to the waiting page with a queue ticket cookie, and following the
// redirects must end on a page that returns 200.
func checkDemoJoin(t *testing.T, baseURL string) {
	t.Helper()

	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatalf("cookie jar: %v", err)
	}
	client := &http.Client{
		Jar:     jar,
		Timeout: 5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}

	res, err := client.Get(baseURL + "/r/demo")
	if err != nil {
		t.Fatalf("GET /r/demo: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("GET /r/demo: got status %d, want 303", res.StatusCode)
	}
	if got := res.Header.Get("Location"); got != "/r/demo/wait?joined=1" {
		t.Fatalf("GET /r/demo: got Location %q, want /r/demo/wait?joined=1", got)
	}
	if !strings.Contains(res.Header.Get("Set-Cookie"), "foyer_q_demo=") {
		t.Fatalf("GET /r/demo: got Set-Cookie %q, want the queue ticket cookie foyer_q_demo", res.Header.Get("Set-Cookie"))
	}

	// The demo room admits quickly, so the waiting page may already send
	// the visitor on to the booking entry page.
	client.CheckRedirect = nil
	res, err = client.Get(baseURL + "/r/demo/wait")
	if err != nil {
		t.Fatalf("GET /r/demo/wait: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /r/demo/wait: got status %d at %s, want 200", res.StatusCode, res.Request.URL.Path)
	}
}

func TestServeStopsOnSIGTERM(t *testing.T) {
	addr := fmt.Sprintf("127.0.0.1:%d", redistest.FreePort(t))
	p := startFoyer(t, "serve", "--listen", addr)

	p.waitHealthy(t, "http://"+addr)
	checkDemoJoin(t, "http://"+addr)
	p.stop(t)

	if !strings.Contains(p.output.String(), "in-memory store") {
		t.Errorf("got output:\n%s\nwant a warning that the in-memory store loses its state", p.output.String())
	}
}

// TestServeWarnsOfAnUnguardedProxyHeader starts an edge that reads the
// client address from a header, once without trusted proxies and once
// with them, and checks that only the first warns.
func TestServeWarnsOfAnUnguardedProxyHeader(t *testing.T) {
	const warning = "list the proxies in trusted_proxies"
	cases := []struct {
		name   string
		config string
		warns  bool
	}{
		{name: "header from anyone", config: "proxy_header: X-Real-IP\n", warns: true},
		{name: "header from listed proxies", config: "proxy_header: X-Real-IP\ntrusted_proxies: [127.0.0.1, 10.0.0.0/8]\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "foyer.yaml")
			if err := os.WriteFile(path, []byte(tc.config), 0o600); err != nil {
				t.Fatal(err)
			}
			addr := fmt.Sprintf("127.0.0.1:%d", redistest.FreePort(t))
			p := startFoyer(t, "serve", "--config", path, "--listen", addr)
			p.waitHealthy(t, "http://"+addr)
			p.stop(t)

			if got := strings.Contains(p.output.String(), warning); got != tc.warns {
				t.Errorf("got output:\n%s\nwant the warning %q: %v", p.output.String(), warning, tc.warns)
			}
		})
	}
}

func TestServeWithRedis(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{TCP: true})
	addr := fmt.Sprintf("127.0.0.1:%d", redistest.FreePort(t))
	p := startFoyer(t, "serve", "--listen", addr, "--redis", srv.URL())

	p.waitHealthy(t, "http://"+addr)
	checkDemoJoin(t, "http://"+addr)

	keys, err := srv.Client().DBSize(context.Background()).Result()
	if err != nil {
		t.Fatalf("DBSIZE: %v", err)
	}
	if keys == 0 {
		t.Fatalf("got an empty Redis after a join, want the room and its line stored there")
	}
	p.stop(t)

	if !strings.Contains(p.output.String(), `"store":"redis"`) {
		t.Errorf("got output:\n%s\nwant the start logged with store redis", p.output.String())
	}
}

func TestServeRedisUnreachable(t *testing.T) {
	redisURL := fmt.Sprintf("redis://:s3cret@127.0.0.1:%d/0", redistest.FreePort(t))
	addr := fmt.Sprintf("127.0.0.1:%d", redistest.FreePort(t))
	p := startFoyer(t, "serve", "--listen", addr, "--redis", redisURL)

	if code := p.waitExit(t, startTimeout); code == 0 {
		t.Fatalf("got exit status 0 with no Redis listening, want non-zero; output:\n%s", p.output.String())
	}
	out := p.output.String()
	if !strings.Contains(out, "cannot reach Redis") {
		t.Errorf("got output:\n%s\nwant it to say \"cannot reach Redis\"", out)
	}
	if strings.Contains(out, "s3cret") {
		t.Errorf("got output:\n%s\nwant the Redis password left out", out)
	}
}

func TestVersionFromBuildFlag(t *testing.T) {
	p := startFoyer(t, "version")

	if code := p.waitExit(t, startTimeout); code != 0 {
		t.Fatalf("got exit status %d, want 0; output:\n%s", code, p.output.String())
	}
	if got, want := p.output.String(), "foyer "+testVersion+"\n"; got != want {
		t.Fatalf("got output %q, want %q", got, want)
	}
}

func TestUnknownCommandExitStatus(t *testing.T) {
	p := startFoyer(t, "start")

	if code := p.waitExit(t, startTimeout); code != 1 {
		t.Fatalf("got exit status %d, want 1; output:\n%s", code, p.output.String())
	}
	if !strings.Contains(p.output.String(), `foyer: unknown command "start"`) {
		t.Fatalf("got output:\n%s\nwant the error on stderr", p.output.String())
	}
}
