package promsource_test

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"foyer/waitroom/signals/promsource"
)

var now = time.Unix(1_800_000_000, 250_000_000).UTC()

// Canned responses in the shape the Prometheus HTTP API returns them.
const (
	vectorOf  = `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1800000000.25,"%s"]}]}}`
	scalarOf  = `{"status":"success","data":{"resultType":"scalar","result":[1800000000.25,"%s"]}}`
	empty     = `{"status":"success","data":{"resultType":"vector","result":[]}}`
	twoSeries = `{"status":"success","data":{"resultType":"vector","result":[` +
		`{"metric":{"route":"/a"},"value":[1800000000.25,"1"]},` +
		`{"metric":{"route":"/b"},"value":[1800000000.25,"2"]}]}}`
	matrix   = `{"status":"success","data":{"resultType":"matrix","result":[]}}`
	badQuery = `{"status":"error","errorType":"bad_data","error":"1:5: parse error: unexpected identifier"}`
)

func vector(v string) string { return strings.Replace(vectorOf, "%s", v, 1) }
func scalar(v string) string { return strings.Replace(scalarOf, "%s", v, 1) }

// fakePrometheus responds to each PromQL expression with a canned body and
// records the requests it got. It stands in for an organizer's server.
type fakePrometheus struct {
	t       *testing.T
	answers map[string]string
	status  int
	// token, when set, is the bearer token the fake requires, as a proxy
	// in front of Prometheus would: other requests get 401.
	token string

	mu       sync.Mutex
	requests []*http.Request
	forms    []map[string]string
}

func (f *fakePrometheus) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		f.t.Errorf("parse form: %v", err)
	}
	f.mu.Lock()
	f.requests = append(f.requests, r)
	f.forms = append(f.forms, map[string]string{"query": r.PostForm.Get("query"), "time": r.PostForm.Get("time")})
	f.mu.Unlock()

	if r.Method != http.MethodPost || r.URL.Path != "/api/v1/query" {
		http.NotFound(w, r)
		return
	}
	if f.token != "" && r.Header.Get("Authorization") != "Bearer "+f.token {
		w.Header().Set("WWW-Authenticate", "Bearer")
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return
	}
	body, ok := f.answers[r.PostForm.Get("query")]
	if !ok {
		body = empty
	}
	w.Header().Set("Content-Type", "application/json")
	if f.status != 0 {
		w.WriteHeader(f.status)
	}
	_, _ = w.Write([]byte(body))
}

// serve starts the fake on a loopback port for the test. A zero status
// means 200.
func serve(t *testing.T, answers map[string]string, status int) (*fakePrometheus, string) {
	t.Helper()
	f := &fakePrometheus{t: t, answers: answers, status: status}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv.URL
}

func config(url string) promsource.Config {
	return promsource.Config{
		URL:            url,
		LatencyQuery:   "p95",
		SamplesQuery:   "samples",
		ErrorRateQuery: "errors",
		RemainingQuery: "remaining",
		Window:         30 * time.Second,
	}
}

func newSource(t *testing.T, cfg promsource.Config) *promsource.Source {
	t.Helper()
	s, err := promsource.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSignals(t *testing.T) {
	f, url := serve(t, map[string]string{
		"p95":       vector("0.42"),
		"samples":   vector("1234.6"),
		"errors":    scalar("0.02"),
		"remaining": vector("87.9"),
	}, 0)
	s := newSource(t, config(url+"/"))

	sig, err := s.Signals(context.Background(), now)
	if err != nil {
		t.Fatal(err)
	}

	if sig.LatencyP95 != 420*time.Millisecond {
		t.Errorf("p95: got %s, want 420ms", sig.LatencyP95)
	}
	if sig.Samples != 1235 {
		t.Errorf("samples: got %d, want 1235", sig.Samples)
	}
	if sig.ErrorRate != 0.02 {
		t.Errorf("error rate: got %v, want 0.02", sig.ErrorRate)
	}
	if !sig.HasInventory || sig.RemainingPlaces != 87 || sig.MostFreeInSlot != 87 || sig.MostFreeOrHeldInSlot != 87 {
		t.Errorf("inventory: got %+v, want 87 places", sig)
	}
	if !sig.WindowStart.Equal(now.Add(-30*time.Second)) || !sig.WindowEnd.Equal(now) {
		t.Errorf("window: got %s to %s, want the 30s before %s", sig.WindowStart, sig.WindowEnd, now)
	}

	if len(f.forms) != 4 {
		t.Fatalf("got %d requests, want 4", len(f.forms))
	}
	for _, form := range f.forms {
		if form["time"] != "1800000000.250" {
			t.Errorf("query %s evaluated at %q, want 1800000000.250", form["query"], form["time"])
		}
	}
}

func TestSignalsWithoutData(t *testing.T) {
	// No requests in the window: no series, and NaN from a quantile.
	_, url := serve(t, map[string]string{
		"p95":    vector("NaN"),
		"errors": vector("NaN"),
	}, 0)
	s := newSource(t, config(url))

	sig, err := s.Signals(context.Background(), now)
	if err != nil {
		t.Fatal(err)
	}
	if sig.Samples != 0 || sig.LatencyP95 != 0 || sig.ErrorRate != 0 || sig.HasInventory {
		t.Errorf("got %+v, want no samples, latency, errors or inventory", sig)
	}
	if sig.WindowEnd.IsZero() {
		t.Error("window end is zero, so the controller would take the signals as stale")
	}
}

func TestSignalsOptionalQueries(t *testing.T) {
	f, url := serve(t, map[string]string{"p95": vector("0.1"), "samples": vector("50")}, 0)
	cfg := config(url)
	cfg.ErrorRateQuery, cfg.RemainingQuery = "", ""
	s := newSource(t, cfg)

	sig, err := s.Signals(context.Background(), now)
	if err != nil {
		t.Fatal(err)
	}
	if sig.HasInventory || sig.ErrorRate != 0 {
		t.Errorf("got %+v, want no inventory and no errors", sig)
	}
	if len(f.requests) != 2 {
		t.Errorf("got %d requests, want 2", len(f.requests))
	}
}

func TestSignalsInfiniteLatency(t *testing.T) {
	_, url := serve(t, map[string]string{"p95": vector("+Inf"), "samples": vector("50")}, 0)
	s := newSource(t, config(url))

	sig, err := s.Signals(context.Background(), now)
	if err != nil {
		t.Fatal(err)
	}
	if sig.LatencyP95 != math.MaxInt64 {
		t.Errorf("p95: got %s, want the longest duration", sig.LatencyP95)
	}
}

func TestSignalsRejectBadAnswers(t *testing.T) {
	cases := []struct {
		name    string
		answers map[string]string
		status  int
		want    string
	}{
		{"query error", map[string]string{"samples": badQuery}, http.StatusBadRequest, "samples_query failed with HTTP 400: bad_data: 1:5: parse error"},
		{"several series", map[string]string{"samples": twoSeries}, 0, "2 series"},
		{"range vector", map[string]string{"samples": matrix}, 0, "matrix"},
		{"not JSON", map[string]string{"samples": "<html>bad gateway</html>"}, http.StatusBadGateway, "HTTP 502"},
		{"negative samples", map[string]string{"samples": vector("-1")}, 0, "samples_query returned -1"},
		{"negative latency", map[string]string{"samples": vector("1"), "p95": vector("-0.5")}, 0, "latency_query returned -0.5"},
		{"error share above one", map[string]string{"samples": vector("1"), "errors": vector("3")}, 0, "error_rate_query returned 3"},
		{"negative places", map[string]string{"samples": vector("1"), "remaining": vector("-2")}, 0, "remaining_query returned -2"},
		{"text value", map[string]string{"samples": vector("many")}, 0, `"many" is not a number`},
		{"malformed sample", map[string]string{"samples": `{"status":"success","data":{"resultType":"scalar","result":[1]}}`}, 0, "malformed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, url := serve(t, tc.answers, tc.status)
			s := newSource(t, config(url))

			_, err := s.Signals(context.Background(), now)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// serveWithToken starts a fake that requires token and returns a healthy
// reading.
func serveWithToken(t *testing.T, token string) (*fakePrometheus, string) {
	t.Helper()
	f, url := serve(t, map[string]string{"samples": vector("120"), "p95": vector("0.2")}, 0)
	f.token = token
	return f, url
}

func TestSignalsSendBearerToken(t *testing.T) {
	f, url := serveWithToken(t, "s3cret")
	cfg := config(url)
	cfg.BearerToken = "s3cret"
	s := newSource(t, cfg)

	sig, err := s.Signals(context.Background(), now)
	if err != nil {
		t.Fatalf("Signals with the token: %v", err)
	}
	if sig.Samples != 120 {
		t.Errorf("samples: got %d, want 120", sig.Samples)
	}
	if len(f.requests) != 4 {
		t.Errorf("got %d requests, want 4", len(f.requests))
	}
}

func TestSignalsRejectedWithoutToken(t *testing.T) {
	cases := []struct {
		name  string
		token string
	}{
		{"no token", ""},
		{"wrong token", "guess"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, url := serveWithToken(t, "s3cret")
			cfg := config(url)
			cfg.BearerToken = tc.token
			s := newSource(t, cfg)

			_, err := s.Signals(context.Background(), now)
			if err == nil {
				t.Fatal("Signals: got no error from a server that rejected the request, want one")
			}
			for _, part := range []string{"samples_query", "HTTP 401", "bearer token"} {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("got error %q, want it to contain %q", err, part)
				}
			}
			if tc.token != "" && strings.Contains(err.Error(), tc.token) {
				t.Errorf("got error %q, want it without the token", err)
			}
		})
	}
}

func TestSignalsTokenFromFile(t *testing.T) {
	_, url := serveWithToken(t, "first-token")
	path := filepath.Join(t.TempDir(), "token")
	writeToken(t, path, "first-token\n")
	cfg := config(url)
	cfg.BearerTokenFile = path
	s := newSource(t, cfg)

	if _, err := s.Signals(context.Background(), now); err != nil {
		t.Fatalf("Signals with the token from the file: %v", err)
	}

	// A rotated token in the file takes effect at the next call.
	writeToken(t, path, "second-token\n")
	_, err := s.Signals(context.Background(), now)
	if err == nil || !strings.Contains(err.Error(), "HTTP 401") {
		t.Fatalf("Signals after the file changed to a token the server does not take: got %v, want HTTP 401", err)
	}

	_, url = serveWithToken(t, "second-token")
	cfg.URL = url
	s = newSource(t, cfg)
	if _, err := s.Signals(context.Background(), now); err != nil {
		t.Errorf("Signals with the rotated token: %v", err)
	}
}

func TestTokenFileRejected(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	writeToken(t, empty, " \n")
	cases := []struct {
		name string
		path string
		want string
	}{
		{"missing", filepath.Join(dir, "absent"), "absent"},
		{"empty", empty, empty + " is empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config("http://127.0.0.1:9090")
			cfg.BearerTokenFile = tc.path

			_, err := promsource.New(cfg, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
			if err != nil && !strings.Contains(err.Error(), "bearer_token_file") {
				t.Errorf("got %v, want it to name bearer_token_file", err)
			}
		})
	}
}

func writeToken(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatalf("write token file: %v", err)
	}
}

func TestSignalsTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })

	cfg := config(srv.URL)
	cfg.Timeout = 50 * time.Millisecond
	s := newSource(t, cfg)

	_, err := s.Signals(context.Background(), now)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want an error wrapping context.DeadlineExceeded", err)
	}
	if !strings.Contains(err.Error(), "samples_query") {
		t.Errorf("error %q does not name the query", err)
	}
}

func TestSignalsUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()

	s := newSource(t, config(url))
	if _, err := s.Signals(context.Background(), now); err == nil || !strings.Contains(err.Error(), url) {
		t.Errorf("got %v, want an error naming %s", err, url)
	}
}

func TestConfigValidate(t *testing.T) {
	valid := config("http://prometheus:9090")
	cases := []struct {
		name   string
		change func(*promsource.Config)
		want   string
	}{
		{"missing url", func(c *promsource.Config) { c.URL = "" }, "url is missing"},
		{"no scheme", func(c *promsource.Config) { c.URL = "prometheus:9090" }, `"prometheus:9090"`},
		{"ftp", func(c *promsource.Config) { c.URL = "ftp://prometheus" }, `"ftp://prometheus"`},
		{"missing latency", func(c *promsource.Config) { c.LatencyQuery = " " }, "latency_query"},
		{"missing samples", func(c *promsource.Config) { c.SamplesQuery = "" }, "samples_query"},
		{"negative window", func(c *promsource.Config) { c.Window = -time.Second }, "window -1s"},
		{"negative timeout", func(c *promsource.Config) { c.Timeout = -time.Second }, "timeout -1s"},
		{"token and token file", func(c *promsource.Config) { c.BearerToken, c.BearerTokenFile = "t", "/run/secrets/t" }, "both set"},
	}
	if err := valid.Validate(); err != nil {
		t.Fatalf("valid config: got %v", err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := valid
			tc.change(&cfg)
			if _, err := promsource.New(cfg, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
