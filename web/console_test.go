package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"foyer/waitroom"
	"foyer/waitroom/memstore"
)

// startConsole seeds room museum at 60 per minute and starts a server with
// the admission loop off.
func startConsole(t *testing.T, store waitroom.Store, opts serverOptions) *testServer {
	t.Helper()
	seedRoom(t, store, waitroom.Settings{ID: "museum", Title: "Summer exhibition", RatePerMinute: 60, Burst: 5})
	opts.noLoop = true
	return startServer(t, store, opts)
}

func roomRate(t testing.TB, store waitroom.Store, room string) float64 {
	t.Helper()
	snap, err := store.Snapshot(context.Background(), room)
	if err != nil {
		t.Fatalf("snapshot of room %s: %v", room, err)
	}
	return snap.Settings.RatePerMinute
}

func TestConsoleNeedsSignIn(t *testing.T) {
	store := memstore.New(nil)
	ts := startConsole(t, store, serverOptions{})

	for _, path := range []string{"/admin", "/admin/", "/admin/rooms/museum", "/admin/rooms/museum/stream", "/admin/unknown"} {
		res := ts.get(t, nil, path)
		if res.status != http.StatusSeeOther {
			t.Errorf("GET %s without a session: got status %d, want 303", path, res.status)
			continue
		}
		if got, want := res.header.Get("Location"), "/admin/login?next="+url.QueryEscape(path); got != want {
			t.Errorf("GET %s without a session: got Location %q, want %q", path, got, want)
		}
	}

	forms := map[string]url.Values{
		"/admin/rooms/museum/settings": {"rate_per_minute": {"5"}, "burst": {"1"}, "max_active": {"1"}, "mode": {"fixed"}},
		"/admin/rooms/museum/state":    {"action": {"close"}},
		"/admin/rooms/museum/message":  {"message": {"hello"}},
		"/admin/logout":                nil,
	}
	for path, form := range forms {
		res := ts.postForm(t, nil, path, form)
		if res.status != http.StatusUnauthorized {
			t.Errorf("POST %s without a session: got status %d, want 401", path, res.status)
		}
	}

	// A cookie that is not a valid session opens nothing either.
	for _, value := range []string{"garbage", "a.b.c", strings.Repeat("x", 200)} {
		req := newRequest(t, http.MethodGet, ts.URL+"/api/v1/admin/rooms/museum", nil)
		req.AddCookie(&http.Cookie{Name: "foyer_admin", Value: value})
		if res := send(t, nil, req); res.status != http.StatusUnauthorized {
			t.Errorf("admin API with session cookie %q: got status %d, want 401", value, res.status)
		}
		req = newRequest(t, http.MethodGet, ts.URL+"/admin", nil)
		req.AddCookie(&http.Cookie{Name: "foyer_admin", Value: value})
		if res := send(t, nil, req); res.status != http.StatusSeeOther {
			t.Errorf("GET /admin with session cookie %q: got status %d, want 303 to the sign-in page", value, res.status)
		}
	}

	snap, err := store.Snapshot(context.Background(), "museum")
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	if snap.Settings.RatePerMinute != 60 || snap.Settings.Closed || snap.Settings.Message != "" {
		t.Errorf("got settings %+v after requests without a session, want them unchanged", snap.Settings)
	}
}

func TestConsoleSignInAndOut(t *testing.T) {
	ts := startConsole(t, memstore.New(nil), serverOptions{})
	client := browserClient(t)

	res := ts.trySignIn(t, client, testAdminUser, testAdminPassword)
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/admin" {
		t.Fatalf("sign in: got status %d to %q, want 303 to /admin:\n%s", res.status, res.header.Get("Location"), res.body)
	}
	cookie := sessionCookie(t, res)
	if !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.Secure {
		t.Errorf("got session cookie HttpOnly %v, SameSite %v, Secure %v, want HttpOnly, Strict and not Secure without SecureCookies",
			cookie.HttpOnly, cookie.SameSite, cookie.Secure)
	}
	if strings.Contains(cookie.Value, testAdminPassword) || strings.Contains(cookie.Value, string(testAdminHash())) {
		t.Errorf("the session cookie contains the password or its hash")
	}

	home := ts.get(t, client, "/admin")
	if home.status != http.StatusOK || !strings.Contains(string(home.body), `href="/admin/rooms/museum"`) {
		t.Fatalf("GET /admin after sign-in: got status %d, want 200 with a link to room museum:\n%s", home.status, home.body)
	}
	if got := home.header.Get("X-Frame-Options"); got != "DENY" {
		t.Errorf("got X-Frame-Options %q on a console page, want DENY", got)
	}

	// The session's cookie also opens the admin API for reading.
	req := newRequest(t, http.MethodGet, ts.URL+"/api/v1/admin/rooms/museum", nil)
	req.AddCookie(&http.Cookie{Name: "foyer_admin", Value: cookie.Value})
	if res := send(t, nil, req); res.status != http.StatusOK {
		t.Errorf("GET the admin API with the session cookie: got status %d, want 200", res.status)
	}

	out := ts.postForm(t, client, "/admin/logout", url.Values{"csrf": {csrfField(t, home)}})
	if out.status != http.StatusSeeOther || out.header.Get("Location") != "/admin/login" {
		t.Fatalf("sign out: got status %d to %q, want 303 to /admin/login", out.status, out.header.Get("Location"))
	}
	if cleared := sessionCookie(t, out); cleared.Value != "" {
		t.Errorf("sign out: got session cookie %q, want it cleared", cleared.Value)
	}
	if res := ts.get(t, client, "/admin"); res.status != http.StatusSeeOther {
		t.Errorf("GET /admin after sign-out: got status %d, want 303 to the sign-in page", res.status)
	}

	// A copy of the cookie from before the sign-out no longer works either.
	for _, path := range []string{"/admin", "/api/v1/admin/rooms/museum"} {
		req := newRequest(t, http.MethodGet, ts.URL+path, nil)
		req.AddCookie(&http.Cookie{Name: "foyer_admin", Value: cookie.Value})
		if res := send(t, nil, req); res.status == http.StatusOK {
			t.Errorf("GET %s with the signed-out session's cookie: got 200, want it rejected", path)
		}
	}
}

// TestConsoleSignOutEndsSessionOnEveryEdge signs in and out on one edge.
// A copy of the session's cookie, taken before, must then no longer open
// the console, the admin API or a dashboard stream on a second edge that
// shares the store and keys.
func TestConsoleSignOutEndsSessionOnEveryEdge(t *testing.T) {
	forEachStore(t, func(t *testing.T, st openedStore) {
		seedRoom(t, st.store, waitroom.Settings{ID: "museum", Title: "Museum", RatePerMinute: 60, Burst: 5})
		keys := waitroom.TemporaryKeys(time.Now())
		first := startServer(t, st.store, serverOptions{noLoop: true, keys: &keys})
		second := startServer(t, st.store, serverOptions{noLoop: true, keys: &keys})
		admin := first.signIn(t)

		firstURL, err := url.Parse(first.URL)
		if err != nil {
			t.Fatal(err)
		}
		var session *http.Cookie
		for _, c := range admin.client.Jar.Cookies(firstURL) {
			if c.Name == "foyer_admin" {
				session = c
			}
		}
		if session == nil {
			t.Fatalf("no foyer_admin cookie after sign-in on the first edge")
		}
		withCopy := func(path string) reply {
			req := newRequest(t, http.MethodGet, second.URL+path, nil)
			req.AddCookie(&http.Cookie{Name: session.Name, Value: session.Value})
			return send(t, nil, req)
		}
		if res := withCopy("/admin"); res.status != http.StatusOK {
			t.Fatalf("GET /admin on the second edge with the copy before sign-out: got status %d, want 200", res.status)
		}
		copyClient := browserClient(t)
		secondURL, err := url.Parse(second.URL)
		if err != nil {
			t.Fatal(err)
		}
		copyClient.Jar.SetCookies(secondURL, []*http.Cookie{{Name: session.Name, Value: session.Value, Path: "/"}})
		stream := second.openStream(t, copyClient, "museum")
		stream.waitFor(t, `id="waiting"`, 5*time.Second)

		page := first.get(t, admin.client, "/admin")
		if res := first.postForm(t, admin.client, "/admin/logout", url.Values{"csrf": {csrfField(t, page)}}); res.status != http.StatusSeeOther {
			t.Fatalf("sign out on the first edge: got status %d, want 303", res.status)
		}

		for _, path := range []string{"/admin", "/api/v1/admin/rooms/museum"} {
			if res := withCopy(path); res.status == http.StatusOK {
				t.Errorf("GET %s on the second edge with the signed-out session's copy: got 200, want it rejected", path)
			}
		}
		stream.waitForSignedOut(t, 10*time.Second)
	})
}

// sessionCookie returns the foyer_admin cookie that a response sets.
func sessionCookie(t testing.TB, res reply) *http.Cookie {
	t.Helper()
	for _, c := range (&http.Response{Header: res.header}).Cookies() {
		if c.Name == "foyer_admin" {
			return c
		}
	}
	t.Fatalf("the %d response sets no foyer_admin cookie", res.status)
	return nil
}

func TestConsoleSecureCookies(t *testing.T) {
	ts := startConsole(t, memstore.New(nil), serverOptions{secureCookies: true})

	res := ts.trySignIn(t, browserClient(t), testAdminUser, testAdminPassword)
	if res.status != http.StatusSeeOther {
		t.Fatalf("sign in: got status %d, want 303", res.status)
	}
	if cookie := sessionCookie(t, res); !cookie.Secure || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode {
		t.Errorf("got session cookie Secure %v, HttpOnly %v, SameSite %v, want all set with SecureCookies", cookie.Secure, cookie.HttpOnly, cookie.SameSite)
	}
}

func TestConsoleRejectsWrongPassword(t *testing.T) {
	ts := startConsole(t, memstore.New(nil), serverOptions{})

	for _, c := range []struct{ user, password string }{
		{testAdminUser, "wrong password"},
		{"nobody", testAdminPassword},
		{"", ""},
	} {
		res := ts.trySignIn(t, browserClient(t), c.user, c.password)
		if res.status != http.StatusUnauthorized {
			t.Errorf("sign in as %q: got status %d, want 401", c.user, res.status)
		}
		for _, cookie := range (&http.Response{Header: res.header}).Cookies() {
			if cookie.Name == "foyer_admin" {
				t.Errorf("sign in as %q: got a session cookie after a failure", c.user)
			}
		}
	}
}

func TestConsoleSlowsRepeatedFailures(t *testing.T) {
	ts := startConsole(t, memstore.New(nil), serverOptions{proxyHeader: "X-Forwarded-For"})

	// signIn sends the sign-in form as if from the client address ip.
	signIn := func(ip, user, password string) reply {
		client := browserClient(t)
		req := newRequest(t, http.MethodGet, ts.URL+"/admin/login", nil)
		req.Header.Set("X-Forwarded-For", ip)
		page := send(t, client, req)
		form := url.Values{"csrf": {csrfField(t, page)}, "username": {user}, "password": {password}}
		req, err := http.NewRequest(http.MethodPost, ts.URL+"/admin/login", strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatalf("build sign-in request: %v", err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", ip)
		return send(t, client, req)
	}

	// Five failures are free: typing mistakes happen.
	for i := range 5 {
		if res := signIn("192.0.2.1", testAdminUser, "wrong password"); res.status != http.StatusUnauthorized {
			t.Fatalf("failure %d: got status %d, want 401", i+1, res.status)
		}
	}
	res := signIn("192.0.2.1", testAdminUser, "wrong password")
	if res.status != http.StatusTooManyRequests {
		t.Fatalf("failure 6: got status %d, want 429", res.status)
	}
	if wait, err := strconv.Atoi(res.header.Get("Retry-After")); err != nil || wait < 1 {
		t.Errorf("failure 6: got Retry-After %q, want a whole number of seconds of at least 1", res.header.Get("Retry-After"))
	}

	// While slowed, even the right password is not checked, from the same
	// address or for the same account from another one.
	for _, ip := range []string{"192.0.2.1", "198.51.100.7"} {
		if res := signIn(ip, testAdminUser, testAdminPassword); res.status != http.StatusTooManyRequests {
			t.Errorf("right password from %s while the account is slowed: got status %d, want 429", ip, res.status)
		}
	}
	if res := signIn("192.0.2.1", "other", "whatever password"); res.status != http.StatusTooManyRequests {
		t.Errorf("another account from the slowed address: got status %d, want 429", res.status)
	}

	// The delay grows: after it passes, one more failure blocks for longer.
	first, _ := strconv.Atoi(res.header.Get("Retry-After"))
	time.Sleep(time.Duration(max(first, 1))*time.Second + 100*time.Millisecond)
	res = signIn("203.0.113.9", testAdminUser, "wrong again")
	if res.status != http.StatusTooManyRequests {
		t.Fatalf("failure 7 after the delay: got status %d, want 429", res.status)
	}
	if second, _ := strconv.Atoi(res.header.Get("Retry-After")); second <= first {
		t.Errorf("failure 7: got Retry-After %d s, want more than the %d s after failure 6", second, first)
	}
}

func TestConsoleFormsNeedCSRF(t *testing.T) {
	store := memstore.New(nil)
	ts := startConsole(t, store, serverOptions{})
	admin := ts.signIn(t)
	other := ts.signIn(t)

	change := url.Values{"rate_per_minute": {"5"}, "burst": {"1"}, "max_active": {"1"}, "mode": {"fixed"}}
	tokens := map[string]string{
		"no token":                "",
		"malformed token":         "not-a-token",
		"another session's token": other.csrf,
	}
	for name, token := range tokens {
		form := url.Values{}
		for k, v := range change {
			form[k] = v
		}
		if token != "" {
			form.Set("csrf", token)
		}
		res := ts.postForm(t, admin.client, "/admin/rooms/museum/settings", form)
		if res.status != http.StatusForbidden {
			t.Errorf("settings form with %s: got status %d, want 403", name, res.status)
		}
	}
	if got := roomRate(t, store, "museum"); got != 60 {
		t.Fatalf("got rate %v after forms without a valid token, want 60", got)
	}

	// Signing in needs the token of the sign-in form too.
	res := ts.postForm(t, browserClient(t), "/admin/login", url.Values{"username": {testAdminUser}, "password": {testAdminPassword}})
	if res.status != http.StatusForbidden {
		t.Errorf("sign-in form without a token: got status %d, want 403", res.status)
	}

	// A change through the API with the session cookie needs the token in
	// a header, since a form cannot set one.
	patch := newRequest(t, http.MethodPatch, ts.URL+"/api/v1/admin/rooms/museum", map[string]any{"rate_per_minute": 7})
	if res := send(t, admin.client, patch); res.status != http.StatusForbidden {
		t.Errorf("API PATCH with the session but no X-CSRF-Token: got status %d, want 403", res.status)
	}
	patch = newRequest(t, http.MethodPatch, ts.URL+"/api/v1/admin/rooms/museum", map[string]any{"rate_per_minute": 7})
	patch.Header.Set("X-CSRF-Token", admin.csrf)
	if res := send(t, admin.client, patch); res.status != http.StatusOK {
		t.Errorf("API PATCH with the session and its X-CSRF-Token: got status %d, want 200:\n%s", res.status, res.body)
	}
	if got := roomRate(t, store, "museum"); got != 7 {
		t.Errorf("got rate %v after the API PATCH, want 7", got)
	}
}

func TestConsoleAuditsChanges(t *testing.T) {
	forEachStore(t, func(t *testing.T, st openedStore) {
		ts := startConsole(t, st.store, serverOptions{})
		admin := ts.signIn(t)
		before := time.Now()

		res := admin.post(t, ts, "/admin/rooms/museum/settings", url.Values{
			"rate_per_minute": {"90"}, "burst": {"5"}, "max_active": {"200"}, "mode": {"fixed"},
		})
		if res.status != http.StatusSeeOther {
			t.Fatalf("settings form: got status %d, want 303:\n%s", res.status, res.body)
		}
		if got := roomRate(t, st.store, "museum"); got != 90 {
			t.Errorf("got rate %v after the settings form, want 90", got)
		}
		if res := ts.admin(t, http.MethodPatch, "/rooms/museum", map[string]any{"paused": true}); res.status != http.StatusOK {
			t.Fatalf("API PATCH: got status %d, want 200", res.status)
		}

		log, err := st.store.AuditLog(context.Background(), "museum", 10)
		if err != nil {
			t.Fatalf("read the audit log: %v", err)
		}
		if len(log) != 2 {
			t.Fatalf("got %d audit entries, want 2: %+v", len(log), log)
		}
		api, form := log[0], log[1]
		if form.Actor != testAdminUser || form.Action != "settings" || form.Detail != "rate_per_minute 60 → 90" {
			t.Errorf("got form entry %+v, want actor %s, action settings, detail \"rate_per_minute 60 → 90\"", form, testAdminUser)
		}
		if form.At.Before(before.Add(-time.Second)) || form.At.After(time.Now().Add(time.Second)) {
			t.Errorf("got form entry time %s, want about now (%s)", form.At, before)
		}
		if api.Actor != "api-token" || api.Detail != "paused false → true" {
			t.Errorf("got API entry %+v, want actor api-token and detail \"paused false → true\"", api)
		}

		// The dashboard lists both, newest first.
		page := ts.get(t, admin.client, "/admin/rooms/museum")
		body := string(page.body)
		apiAt, formAt := strings.Index(body, "paused false → true"), strings.Index(body, "rate_per_minute 60 → 90")
		if apiAt < 0 || formAt < 0 || apiAt > formAt {
			t.Errorf("the dashboard does not list the API change before the form change:\n%s", body)
		}
	})
}

func TestConsoleControls(t *testing.T) {
	forEachStore(t, func(t *testing.T, st openedStore) {
		ts := startConsole(t, st.store, serverOptions{})
		admin := ts.signIn(t)
		settings := func() waitroom.Settings {
			snap, err := st.store.Snapshot(context.Background(), "museum")
			if err != nil {
				t.Fatalf("snapshot: %v", err)
			}
			return snap.Settings
		}
		post := func(path string, form url.Values, wantDone string) {
			t.Helper()
			res := admin.post(t, ts, path, form)
			if res.status != http.StatusSeeOther {
				t.Fatalf("POST %s %v: got status %d, want 303:\n%s", path, form, res.status, res.body)
			}
			if got, want := res.header.Get("Location"), "/admin/rooms/museum?done="+wantDone; got != want {
				t.Errorf("POST %s %v: got Location %q, want %q", path, form, got, want)
			}
		}

		post("/admin/rooms/museum/settings", url.Values{"rate_per_minute": {"7.5"}, "burst": {"3"}, "max_active": {"40"}, "mode": {"auto"}}, "settings")
		if s := settings(); s.RatePerMinute != 7.5 || s.Burst != 3 || s.MaxActive != 40 || s.Mode != waitroom.ModeAuto {
			t.Errorf("got rate %v, burst %d, max active %d, mode %s, want 7.5, 3, 40, auto", s.RatePerMinute, s.Burst, s.MaxActive, s.Mode)
		}
		post("/admin/rooms/museum/settings", url.Values{"rate_per_minute": {"7.5"}, "burst": {"3"}, "max_active": {"40"}, "mode": {"auto"}}, "unchanged")

		post("/admin/rooms/museum/state", url.Values{"action": {"pause"}}, "pause")
		if !settings().Paused {
			t.Errorf("room not paused after pause")
		}
		post("/admin/rooms/museum/state", url.Values{"action": {"resume"}}, "resume")
		if settings().Paused {
			t.Errorf("room still paused after resume")
		}
		post("/admin/rooms/museum/state", url.Values{"action": {"close"}}, "close")
		if !settings().Closed {
			t.Errorf("room not closed after close")
		}
		post("/admin/rooms/museum/state", url.Values{"action": {"open"}}, "open")
		if s := settings(); s.Closed || s.Paused || s.SoldOut || s.State(time.Now().Add(time.Second)) != waitroom.RoomOpen {
			t.Errorf("got settings %+v after open now, want an open room", s)
		}
		post("/admin/rooms/museum/message", url.Values{"message": {"  Back at 10:00.\r\nThank you!  "}}, "message")
		if got := settings().Message; got != "Back at 10:00.\nThank you!" {
			t.Errorf("got message %q, want %q", got, "Back at 10:00.\nThank you!")
		}

		// The waiting page shows the message to everyone in line.
		visitor := browserClient(t)
		if res := ts.get(t, visitor, "/r/museum"); res.status != http.StatusSeeOther {
			t.Fatalf("join: got status %d, want 303", res.status)
		}
		if page := ts.get(t, visitor, "/r/museum/wait"); !strings.Contains(string(page.body), "Back at 10:00.") {
			t.Errorf("the waiting page does not show the organizer's message")
		}

		// An invalid value changes nothing, and the page explains what is
		// allowed.
		for _, form := range []url.Values{
			{"rate_per_minute": {"60"}, "burst": {"0"}, "max_active": {"40"}, "mode": {"fixed"}},
			{"rate_per_minute": {"NaN"}, "burst": {"3"}, "max_active": {"40"}, "mode": {"fixed"}},
			{"rate_per_minute": {"60"}, "burst": {"3"}, "max_active": {"40"}, "mode": {"fast"}},
		} {
			res := admin.post(t, ts, "/admin/rooms/museum/settings", form)
			if res.status != http.StatusBadRequest || !strings.Contains(string(res.body), "Nothing was changed.") {
				t.Errorf("settings %v: got status %d, want 400 with an explanation:\n%s", form, res.status, res.body)
			}
		}
		if res := admin.post(t, ts, "/admin/rooms/museum/state", url.Values{"action": {"explode"}}); res.status != http.StatusBadRequest {
			t.Errorf("unknown room action: got status %d, want 400", res.status)
		}
		if s := settings(); s.RatePerMinute != 7.5 || s.Burst != 3 || s.Mode != waitroom.ModeAuto {
			t.Errorf("got settings %+v after rejected forms, want them unchanged", s)
		}

		log, err := st.store.AuditLog(context.Background(), "museum", 20)
		if err != nil {
			t.Fatalf("read the audit log: %v", err)
		}
		var actions []string
		for _, e := range log {
			actions = append(actions, e.Action)
		}
		if got, want := strings.Join(actions, " "), "message open close resume pause settings"; got != want {
			t.Errorf("got audit actions %q, want %q", got, want)
		}
	})
}

func TestConsoleStreamShowsChanges(t *testing.T) {
	ts := startConsole(t, memstore.New(nil), serverOptions{})
	admin := ts.signIn(t)

	stream := ts.openStream(t, admin.client, "museum")
	stream.waitFor(t, `<dd id="rate">60</dd>`, 5*time.Second)

	if res := ts.admin(t, http.MethodPatch, "/rooms/museum", map[string]any{"rate_per_minute": 95, "message": "Line moves <fast>"}); res.status != http.StatusOK {
		t.Fatalf("API PATCH: got status %d, want 200", res.status)
	}
	update := stream.waitFor(t, `<dd id="rate">95</dd>`, 10*time.Second)
	if !strings.Contains(update.data, "Line moves &lt;fast&gt;") {
		t.Errorf("the update does not carry the new message, escaped:\n%s", update.data)
	}

	// Signing out ends the stream with an event saying so.
	page := ts.get(t, admin.client, "/admin/rooms/museum")
	if res := ts.postForm(t, admin.client, "/admin/logout", url.Values{"csrf": {csrfField(t, page)}}); res.status != http.StatusSeeOther {
		t.Fatalf("sign out: got status %d, want 303", res.status)
	}
	stream.waitForSignedOut(t, 10*time.Second)
	if _, ok := stream.next(5 * time.Second); ok {
		t.Errorf("the stream went on after the signed-out event")
	}
}

func TestShutdownEndsDashboardStream(t *testing.T) {
	ts := startConsole(t, memstore.New(nil), serverOptions{})
	admin := ts.signIn(t)
	stream := ts.openStream(t, admin.client, "museum")
	stream.waitFor(t, `id="waiting"`, 5*time.Second)

	start := time.Now()
	if err := ts.Server.Shutdown(5 * time.Second); err != nil {
		t.Errorf("shutdown with a dashboard stream open: %v", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("shutdown took %s with a dashboard stream open, want under 2s", took)
	}

	timeout := time.After(5 * time.Second)
	for {
		select {
		case _, open := <-stream.events:
			if !open {
				return
			}
		case <-timeout:
			t.Fatalf("the dashboard stream is still open 5s after shutdown")
		}
	}
}
