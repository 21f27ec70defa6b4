package web_test

import (
	"bufio"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// trySignIn loads the sign-in page with client and sends the form with the
// username and password.
func (ts *testServer) trySignIn(t testing.TB, client *http.Client, user, password string) reply {
	t.Helper()
	page := ts.get(t, client, "/admin/login")
	if page.status != http.StatusOK {
		t.Fatalf("GET /admin/login: got status %d, want 200", page.status)
	}
	return ts.postForm(t, client, "/admin/login", url.Values{
		"csrf":     {csrfField(t, page)},
		"username": {user},
		"password": {password},
	})
}

// signedIn is a browser-like client with an organizer session.
type signedIn struct {
	client *http.Client
	// csrf is the session's form token.
	csrf string
}

// signIn signs in as the test admin with a new client and returns it with
// the session's CSRF token.
func (ts *testServer) signIn(t testing.TB) signedIn {
	t.Helper()
	client := browserClient(t)
	res := ts.trySignIn(t, client, testAdminUser, testAdminPassword)
	if res.status != http.StatusSeeOther {
		t.Fatalf("sign in: got status %d, want 303:\n%s", res.status, res.body)
	}
	home := ts.get(t, client, "/admin")
	if home.status != http.StatusOK {
		t.Fatalf("GET /admin after sign-in: got status %d, want 200:\n%s", home.status, home.body)
	}
	return signedIn{client: client, csrf: csrfField(t, home)}
}

// post sends a console form with the session's CSRF token added.
func (a signedIn) post(t testing.TB, ts *testServer, path string, form url.Values) reply {
	t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", a.csrf)
	return ts.postForm(t, a.client, path, form)
}

// sseEvent is one server-sent event.
type sseEvent struct {
	name string
	data string
}

// sseStream reads the events of one open stream.
type sseStream struct {
	res    *http.Response
	events chan sseEvent
}

// openStream opens the room's dashboard stream with client. The stream is
// closed when the test ends.
func (ts *testServer) openStream(t testing.TB, client *http.Client, room string) *sseStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+"/admin/rooms/"+room+"/stream", nil)
	if err != nil {
		t.Fatalf("build stream request: %v", err)
	}
	// The client's own timeout would cut the stream, so only the context
	// ends it.
	streaming := *client
	streaming.Timeout = 0
	res, err := streaming.Do(req)
	if err != nil {
		cancel()
		t.Fatalf("open the dashboard stream: %v", err)
	}
	if res.StatusCode != http.StatusOK {
		cancel()
		res.Body.Close()
		t.Fatalf("open the dashboard stream: got status %d, want 200", res.StatusCode)
	}
	if got := res.Header.Get("Content-Type"); !strings.HasPrefix(got, "text/event-stream") {
		t.Errorf("got stream Content-Type %q, want text/event-stream", got)
	}

	s := &sseStream{res: res, events: make(chan sseEvent, 16)}
	go s.read()
	t.Cleanup(func() {
		cancel()
		res.Body.Close()
	})
	return s
}

// read parses events until the stream ends, then closes s.events.
func (s *sseStream) read() {
	defer close(s.events)
	scanner := bufio.NewScanner(s.res.Body)
	scanner.Buffer(make([]byte, 64<<10), 1<<20)
	var event sseEvent
	var data []string
	for scanner.Scan() {
		line := scanner.Text()
		switch {
		case line == "":
			if event.name != "" || len(data) > 0 {
				event.data = strings.Join(data, "\n")
				s.events <- event
			}
			event, data = sseEvent{}, nil
		case strings.HasPrefix(line, "event: "):
			event.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = append(data, strings.TrimPrefix(line, "data: "))
		}
	}
}

// next returns the next event, or false when the stream ended or nothing
// came within wait.
func (s *sseStream) next(wait time.Duration) (sseEvent, bool) {
	select {
	case e, ok := <-s.events:
		return e, ok
	case <-time.After(wait):
		return sseEvent{}, false
	}
}

// waitForSignedOut reads events until a "signed-out" one, for at most
// wait in all, and fails the test if the stream ends or stalls first.
func (s *sseStream) waitForSignedOut(t testing.TB, wait time.Duration) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		e, ok := s.next(time.Until(deadline))
		if !ok {
			t.Fatalf("the stream ended or stalled for %s without a signed-out event", wait)
		}
		if e.name == "signed-out" {
			return
		}
	}
}

// waitFor returns the first "update" event whose data contains want,
// reading for at most wait in all.
func (s *sseStream) waitFor(t testing.TB, want string, wait time.Duration) sseEvent {
	t.Helper()
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		e, ok := s.next(time.Until(deadline))
		if !ok {
			break
		}
		if e.name == "update" && strings.Contains(e.data, want) {
			return e
		}
	}
	t.Fatalf("no update containing %q on the stream within %s", want, wait)
	return sseEvent{}
}
