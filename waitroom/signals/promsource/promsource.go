// Package promsource reads the admission controller's signals from a
// Prometheus server, for an external shop that Foyer guards. The organizer
// writes PromQL expressions over the shop's own metrics, and Source runs
// them as instant queries through the server's HTTP API
// (POST /api/v1/query).
package promsource

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"foyer/waitroom"
)

// Defaults for Config.
const (
	DefaultWindow  = time.Minute
	DefaultTimeout = 2 * time.Second
)

// maxResponseBytes bounds how much of a response Source reads. An
// aggregated instant query returns one sample, a few hundred bytes.
const maxResponseBytes = 1 << 20

// Config selects the Prometheus server and the queries to run. Each must
// return one series or a scalar, so aggregate it with sum(), max() or
// histogram_quantile(). Zero fields take the defaults noted.
type Config struct {
	// URL is the Prometheus server's base URL, such as
	// http://prometheus:9090. Required.
	URL string `json:"url"`
	// LatencyQuery returns the booking latency p95 in seconds, for example
	// histogram_quantile(0.95, sum by (le) (rate(shop_checkout_seconds_bucket[1m]))).
	// Required.
	LatencyQuery string `json:"latency_query"`
	// SamplesQuery returns how many requests the window holds, for example
	// sum(increase(shop_checkout_seconds_count[1m])). Required.
	SamplesQuery string `json:"samples_query"`
	// ErrorRateQuery returns the share of requests that failed or timed
	// out, from 0 to 1. Empty counts no errors.
	ErrorRateQuery string `json:"error_rate_query"`
	// RemainingQuery returns the free places left. Empty leaves the
	// inventory out of the signals.
	RemainingQuery string `json:"remaining_query"`
	// Window is the range the queries cover, such as the [1m] above. It
	// sets Signals.WindowStart. Default 1m.
	Window time.Duration `json:"window"`
	// Timeout bounds one Signals call, all queries together. Default 2s.
	Timeout time.Duration `json:"timeout"`
	// BearerToken, when set, is sent as "Authorization: Bearer <token>",
	// for a server behind an authenticating proxy. It is a secret: never
	// log it.
	BearerToken string `json:"-"`
	// BearerTokenFile, when set, names a file that holds the bearer token;
	// spaces and line breaks around it are dropped. New reads it, and so
	// does every Signals call, so a rotated token takes effect at the next
	// call. Set BearerToken or BearerTokenFile, not both.
	BearerTokenFile string `json:"bearer_token_file"`
}

// Validate returns an error naming the first invalid field.
func (c Config) Validate() error {
	u, err := url.Parse(c.URL)
	switch {
	case c.URL == "":
		return errors.New("promsource: url is missing: set the Prometheus server's base URL, such as http://prometheus:9090")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Errorf("promsource: url %q is invalid: use an http or https URL with a host, such as http://prometheus:9090", c.URL)
	case strings.TrimSpace(c.LatencyQuery) == "":
		return errors.New("promsource: latency_query is missing: give a PromQL expression for the p95 latency in seconds")
	case strings.TrimSpace(c.SamplesQuery) == "":
		return errors.New("promsource: samples_query is missing: give a PromQL expression for the number of requests in the window")
	case c.Window < 0:
		return fmt.Errorf("promsource: window %s is invalid: use a positive duration", c.Window)
	case c.Timeout < 0:
		return fmt.Errorf("promsource: timeout %s is invalid: use a positive duration", c.Timeout)
	case c.BearerToken != "" && c.BearerTokenFile != "":
		return errors.New("promsource: a bearer token and bearer_token_file are both set: use one of them")
	}
	return nil
}

// Source reads signals from a Prometheus server. It is safe for concurrent
// use.
//
// NOTE: an instant query's sample carries the evaluation time, so Source
// cannot see how old the shop's metrics are. Prometheus drops a series that
// stopped being scraped after its lookback delta (5 minutes by default);
// until then rate() over the window falls to no data, which the controller
// treats as too few samples.
type Source struct {
	cfg      Config
	endpoint string
	client   *http.Client
}

var _ waitroom.SignalSource = (*Source)(nil)

// New returns a Source for cfg. A nil client means http.DefaultClient;
// Config.Timeout bounds every call either way. It returns the error of
// Config.Validate, or of reading Config.BearerTokenFile.
func New(cfg Config, client *http.Client) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.BearerTokenFile != "" {
		if _, err := readToken(cfg.BearerTokenFile); err != nil {
			return nil, err
		}
	}
	if cfg.Window == 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if client == nil {
		client = http.DefaultClient
	}
	endpoint := strings.TrimRight(cfg.URL, "/") + "/api/v1/query"
	return &Source{cfg: cfg, endpoint: endpoint, client: client}, nil
}

// Signals runs the configured queries at now and returns the backend
// signals; the caller adds the room's counters with Signals.WithRoom.
// Errors name the query that failed.
func (s *Source) Signals(ctx context.Context, now time.Time) (waitroom.Signals, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()

	sig := waitroom.Signals{WindowStart: now.Add(-s.cfg.Window), WindowEnd: now}

	token, err := s.token()
	if err != nil {
		return waitroom.Signals{}, err
	}

	samples, ok, err := s.query(ctx, token, "samples_query", s.cfg.SamplesQuery, now)
	if err != nil {
		return waitroom.Signals{}, err
	}
	if ok {
		if samples < 0 || math.IsInf(samples, 0) {
			return waitroom.Signals{}, fmt.Errorf("promsource: samples_query returned %v: want a count of at least 0", samples)
		}
		sig.Samples = int64(math.Round(samples))
	}

	p95, ok, err := s.query(ctx, token, "latency_query", s.cfg.LatencyQuery, now)
	if err != nil {
		return waitroom.Signals{}, err
	}
	if ok {
		if sig.LatencyP95, err = seconds(p95); err != nil {
			return waitroom.Signals{}, fmt.Errorf("promsource: latency_query %w", err)
		}
	}

	if sig.ErrorRate, err = s.share(ctx, token, now); err != nil {
		return waitroom.Signals{}, err
	}
	if err := s.addInventory(ctx, token, &sig, now); err != nil {
		return waitroom.Signals{}, err
	}
	return sig, nil
}

// share runs the error rate query, if there is one.
func (s *Source) share(ctx context.Context, token string, now time.Time) (float64, error) {
	if s.cfg.ErrorRateQuery == "" {
		return 0, nil
	}
	rate, ok, err := s.query(ctx, token, "error_rate_query", s.cfg.ErrorRateQuery, now)
	if err != nil || !ok {
		return 0, err
	}
	if rate < 0 || rate > 1 {
		return 0, fmt.Errorf("promsource: error_rate_query returned %v: want a share from 0 to 1", rate)
	}
	return rate, nil
}

// addInventory runs the remaining places query, if there is one. Prometheus
// gives one total, so it also stands for the most places in one slot.
func (s *Source) addInventory(ctx context.Context, token string, sig *waitroom.Signals, now time.Time) error {
	if s.cfg.RemainingQuery == "" {
		return nil
	}
	places, ok, err := s.query(ctx, token, "remaining_query", s.cfg.RemainingQuery, now)
	if err != nil || !ok {
		return err
	}
	if places < 0 || math.IsInf(places, 0) {
		return fmt.Errorf("promsource: remaining_query returned %v: want a count of at least 0", places)
	}
	remaining := int64(math.Floor(places))
	sig.HasInventory = true
	sig.RemainingPlaces = remaining
	sig.MostFreeInSlot = remaining
	sig.MostFreeOrHeldInSlot = remaining
	return nil
}

// token returns the bearer token to send, reading Config.BearerTokenFile
// again when it is set.
func (s *Source) token() (string, error) {
	if s.cfg.BearerTokenFile == "" {
		return s.cfg.BearerToken, nil
	}
	return readToken(s.cfg.BearerTokenFile)
}

// readToken reads a bearer token from the file at path. The error names
// the file but never shows its content.
func readToken(path string) (string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("promsource: bearer_token_file: %w", err)
	}
	token := strings.TrimSpace(string(raw))
	if token == "" {
		return "", fmt.Errorf("promsource: bearer_token_file %s is empty: write the token the Prometheus server expects into it", path)
	}
	return token, nil
}

// seconds converts a latency in seconds to a Duration; +Inf, which
// histogram_quantile returns when the quantile lies in the last bucket,
// becomes the longest Duration.
func seconds(v float64) (time.Duration, error) {
	switch {
	case math.IsInf(v, 1) || v >= math.MaxInt64/float64(time.Second):
		return math.MaxInt64, nil
	case v < 0:
		return 0, fmt.Errorf("returned %v: want seconds of at least 0", v)
	}
	return time.Duration(v * float64(time.Second)), nil
}

// response is the envelope of every Prometheus API response.
type response struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
	Data      struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	} `json:"data"`
}

// query runs one instant query at now, sending token as a bearer token
// unless it is empty, and returns its single value. ok is false when the
// query returned no series or NaN, which Prometheus gives for a ratio or
// quantile over no requests.
func (s *Source) query(ctx context.Context, token, name, promql string, now time.Time) (value float64, ok bool, err error) {
	form := url.Values{
		"query": {promql},
		"time":  {strconv.FormatFloat(float64(now.UnixMilli())/1000, 'f', 3, 64)},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, false, fmt.Errorf("promsource: %s: build request: %w", name, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}

	res, err := s.client.Do(req)
	if err != nil {
		return 0, false, fmt.Errorf("promsource: %s: query %s: %w", name, s.endpoint, err)
	}
	defer res.Body.Close()

	// These come from a check of credentials, by a proxy in front of the
	// server or by its own web configuration, with a body that is not
	// Prometheus JSON.
	if res.StatusCode == http.StatusUnauthorized || res.StatusCode == http.StatusForbidden {
		return 0, false, fmt.Errorf("promsource: %s: %s returned HTTP %d: check the bearer token the server expects", name, s.endpoint, res.StatusCode)
	}

	var body response
	if err := json.NewDecoder(io.LimitReader(res.Body, maxResponseBytes)).Decode(&body); err != nil {
		return 0, false, fmt.Errorf("promsource: %s: %s returned HTTP %d with a body that is not Prometheus JSON: %w", name, s.endpoint, res.StatusCode, err)
	}
	if body.Status != "success" || res.StatusCode/100 != 2 {
		return 0, false, fmt.Errorf("promsource: %s failed with HTTP %d: %s: %s", name, res.StatusCode, body.ErrorType, body.Error)
	}

	value, ok, err = parseResult(body.Data.ResultType, body.Data.Result)
	if err != nil {
		return 0, false, fmt.Errorf("promsource: %s: %w", name, err)
	}
	return value, ok, nil
}

// parseResult reads the value of a scalar or of a vector with at most one
// series.
func parseResult(resultType string, raw json.RawMessage) (value float64, ok bool, err error) {
	var sample []json.RawMessage
	switch resultType {
	case "scalar":
		if err := json.Unmarshal(raw, &sample); err != nil {
			return 0, false, fmt.Errorf("scalar result is malformed: %w", err)
		}

	case "vector":
		var series []struct {
			Value []json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(raw, &series); err != nil {
			return 0, false, fmt.Errorf("vector result is malformed: %w", err)
		}
		switch len(series) {
		case 0:
			return 0, false, nil
		case 1:
			sample = series[0].Value
		default:
			return 0, false, fmt.Errorf("query returned %d series: aggregate it to one, for example with sum() or max()", len(series))
		}

	default:
		return 0, false, fmt.Errorf("query returned a %s: want an instant vector or a scalar", resultType)
	}

	// A sample is [<unix time>, "<value>"].
	var text string
	if len(sample) != 2 || json.Unmarshal(sample[1], &text) != nil {
		return 0, false, fmt.Errorf("sample %s is malformed: want [time, \"value\"]", raw)
	}
	value, err = strconv.ParseFloat(text, 64)
	if err != nil {
		return 0, false, fmt.Errorf("sample value %q is not a number", text)
	}
	if math.IsNaN(value) {
		return 0, false, nil
	}
	return value, true, nil
}
