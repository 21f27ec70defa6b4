package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// statusBody is the body of the join and status endpoints, as far as the
// load tester reads it.
type statusBody struct {
	Visitor        string `json:"visitor"`
	Sequence       *int64 `json:"sequence"`
	State          string `json:"state"`
	RoomState      string `json:"room_state"`
	Ahead          *int64 `json:"ahead"`
	RefreshSeconds int    `json:"refresh_seconds"`
	AdmissionToken string `json:"admission_token"`
}

// Visitor states in the status body.
const (
	statePrequeue = "prequeue"
	stateWaiting  = "waiting"
	stateAdmitted = "admitted"
	stateExpired  = "expired"
)

// errorBody is the JSON error of every endpoint.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Detail  string `json:"detail"`
	} `json:"error"`
}

// response is the outcome of one request.
type response struct {
	status     int
	retryAfter time.Duration
	// code is the JSON error code of a response with status 400 or above.
	code    string
	message string
	header  http.Header
	latency time.Duration
	// err is a transport, timeout or decoding failure; status is then 0
	// unless the body could not be decoded.
	err error
}

// ok reports whether the request succeeded with a 2xx status.
func (r response) ok() bool { return r.err == nil && r.status >= 200 && r.status < 300 }

// retryable reports whether the request may succeed if sent again: a
// transport failure, 429 or a 5xx status.
func (r response) retryable() bool {
	return r.status == 0 || r.status == http.StatusTooManyRequests || r.status >= 500
}

// kind names the failure for the error counts, such as "timeout" or
// "503 unavailable". Its values are bounded by the server's error codes.
func (r response) kind() string {
	switch {
	case r.err != nil && r.status != 0:
		return "invalid response body"
	case r.err != nil && isTimeout(r.err):
		return "timeout"
	case r.err != nil:
		return "connection failed"
	case r.code != "":
		return strconv.Itoa(r.status) + " " + r.code
	}
	return strconv.Itoa(r.status)
}

func (r response) Error() string {
	if r.err != nil {
		return r.err.Error()
	}
	return fmt.Sprintf("HTTP %d %s: %s", r.status, r.code, r.message)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// client sends the requests of every visitor and of the admin calls over
// one shared transport.
type client struct {
	http    *http.Client
	timeout time.Duration
}

// newClient returns a client whose transport keeps at most maxConns
// connections to each target, so the load never uses more sockets than
// that however many visitors wait.
func newClient(maxConns int, timeout time.Duration) *client {
	transport := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        0,
		MaxIdleConnsPerHost: maxConns,
		MaxConnsPerHost:     maxConns,
		IdleConnTimeout:     60 * time.Second,
		ForceAttemptHTTP2:   false,
	}
	return &client{
		http: &http.Client{
			Transport: transport,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
		timeout: timeout,
	}
}

func (c *client) close() {
	c.http.CloseIdleConnections()
}

// request is one HTTP call. body, when set, is sent as JSON; out, when set,
// receives a 2xx JSON body.
type request struct {
	method string
	url    string
	body   any
	// bearer is sent as 'Authorization: Bearer <bearer>' when set.
	bearer string
	jar    *jar
	out    any
}

// do sends req and reads its response. It never returns a Go error: every
// failure is in the response, so callers count it by kind.
func (c *client) do(ctx context.Context, req request) response {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	var body io.Reader
	if req.body != nil {
		b, err := json.Marshal(req.body)
		if err != nil {
			return response{err: fmt.Errorf("encode request body: %w", err)}
		}
		body = bytes.NewReader(b)
	}
	httpReq, err := http.NewRequestWithContext(ctx, req.method, req.url, body)
	if err != nil {
		return response{err: err}
	}
	httpReq.Header.Set("Accept", "application/json")
	if req.body != nil {
		httpReq.Header.Set("Content-Type", "application/json")
	}
	if req.bearer != "" {
		httpReq.Header.Set("Authorization", "Bearer "+req.bearer)
	}
	if req.jar != nil {
		if cookies := req.jar.header(); cookies != "" {
			httpReq.Header.Set("Cookie", cookies)
		}
	}

	start := time.Now()
	resp, err := c.http.Do(httpReq)
	if err != nil {
		return response{err: err, latency: time.Since(start)}
	}
	defer resp.Body.Close()
	r := c.read(resp, req)
	r.latency = time.Since(start)
	return r
}

// maxBody bounds the bytes read of one response body.
const maxBody = 64 << 20

func (c *client) read(resp *http.Response, req request) response {
	r := response{status: resp.StatusCode, header: resp.Header}
	if s := resp.Header.Get("Retry-After"); s != "" {
		if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && n > 0 {
			r.retryAfter = time.Duration(n) * time.Second
		}
	}
	if req.jar != nil {
		req.jar.update(resp.Cookies())
	}

	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		r.status, r.err = 0, fmt.Errorf("read response body: %w", err)
		return r
	}
	if resp.StatusCode >= 400 {
		var e errorBody
		if json.Unmarshal(data, &e) == nil {
			r.code, r.message = e.Error.Code, e.Error.Message
		}
		return r
	}
	if req.out != nil && resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if err := json.Unmarshal(data, req.out); err != nil {
			r.err = fmt.Errorf("decode %s %s response: %w", req.method, req.url, err)
		}
	}
	return r
}

// jar is one visitor's cookies. A visitor talks to one target only, and
// Foyer sets every cookie with path "/", so the jar keeps names and values
// and leaves out domain and path matching. It is much smaller than a
// net/http/cookiejar, which matters with tens of thousands of visitors.
type jar []cookie

type cookie struct {
	name, value string
	expires     time.Time
}

// update stores the response's cookies and deletes those that the server
// expired.
func (j *jar) update(cookies []*http.Cookie) {
	now := time.Now()
	for _, c := range cookies {
		deleted := c.MaxAge < 0 || c.Value == "" || (!c.Expires.IsZero() && !c.Expires.After(now))
		expires := c.Expires
		if c.MaxAge > 0 {
			expires = now.Add(time.Duration(c.MaxAge) * time.Second)
		}
		i := j.index(c.Name)
		switch {
		case deleted && i >= 0:
			*j = append((*j)[:i], (*j)[i+1:]...)
		case deleted:
		case i >= 0:
			(*j)[i] = cookie{name: c.Name, value: c.Value, expires: expires}
		default:
			*j = append(*j, cookie{name: c.Name, value: c.Value, expires: expires})
		}
	}
}

func (j jar) index(name string) int {
	for i, c := range j {
		if c.name == name {
			return i
		}
	}
	return -1
}

// header returns the Cookie header value of the unexpired cookies.
func (j jar) header() string {
	if len(j) == 0 {
		return ""
	}
	now := time.Now()
	var b strings.Builder
	for _, c := range j {
		if !c.expires.IsZero() && !c.expires.After(now) {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		b.WriteString(c.name)
		b.WriteByte('=')
		b.WriteString(c.value)
	}
	return b.String()
}
