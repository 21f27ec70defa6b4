package web_test

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"foyer/booking"
	bookingmemstore "foyer/booking/memstore"
	"foyer/waitroom"
	"foyer/waitroom/memstore"
)

// browserDeadline bounds each browser scenario. It is a limit against a hung
// browser, not a measure of speed: with a visitor near the front, the page
// polls or reloads every 4 to 6 seconds.
const browserDeadline = 30 * time.Second

// startBrowser starts a headless Chromium for t with a fresh profile and
// returns a context for one tab in it. The test is skipped when Chromium is
// not installed, unless FOYER_REQUIRE_BROWSER=1.
func startBrowser(t *testing.T) context.Context {
	t.Helper()

	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("FOYER_REQUIRE_BROWSER") == "1" {
			t.Fatalf("chromium not found on PATH but FOYER_REQUIRE_BROWSER=1: install it (apt-get install chromium)")
		}
		t.Skip("chromium not found on PATH; install it (apt-get install chromium) or set FOYER_REQUIRE_BROWSER=1 to make this a failure")
	}

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Headless,
		// Chromium does not start as root with its sandbox on, and tests in
		// containers often run as root.
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})

	// The first call starts the browser, which lives as long as the context
	// of that call, so this context has no deadline of its own.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium at %s: %v", path, err)
	}
	return ctx
}

// seedBrowserRoom seeds room museum, which guards event expo and admits one
// visitor per second, and puts two visitors in line through the store, so
// the browser's visitor joins third.
func seedBrowserRoom(t *testing.T) *testServer {
	t.Helper()

	store := memstore.New(nil)
	seedRoom(t, store, waitroom.Settings{ID: "museum", Title: "Summer exhibition", Event: "expo", RatePerMinute: 60, Burst: 1})
	ts := startServer(t, store, serverOptions{noLoop: true})
	for i := range 2 {
		if _, err := store.Join(context.Background(), "museum", waitroom.NewVisitorID(), 0); err != nil {
			t.Fatalf("join visitor %d ahead: %v", i+1, err)
		}
	}
	return ts
}

// admitOne steps the edge until it admits one visitor. A step soon after
// another finds the bucket empty and admits nobody, so the steps repeat, at
// most 50 times and 100ms apart.
func admitOne(t *testing.T, ts *testServer) {
	t.Helper()

	for range 50 {
		res, err := ts.Edge.Tick(context.Background(), "museum")
		if err != nil {
			t.Fatalf("admission step: %v", err)
		}
		if n := len(res.Admitted); n > 0 {
			if n != 1 {
				t.Fatalf("admission step admitted %d visitors, want 1", n)
			}
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no visitor admitted after 50 admission steps 100ms apart")
}

// currentPath returns the path of the tab's document. It reads the
// navigation history, so it works with scripts disabled.
func currentPath(t *testing.T, ctx context.Context) string {
	t.Helper()

	history, err := chromedp.Run(ctx, chromedp.NavigationEntries())
	if err != nil {
		t.Fatalf("read navigation history: %v", err)
	}
	entry := history.Entries[history.CurrentIndex]
	u, err := url.Parse(entry.URL)
	if err != nil {
		t.Fatalf("parse page URL %q: %v", entry.URL, err)
	}
	return u.Path
}

// checkWaitingPage checks that the tab shows the waiting page of room museum
// with the visitor at position want.
func checkWaitingPage(t *testing.T, ctx context.Context, want string) {
	t.Helper()

	if got := currentPath(t, ctx); got != "/r/museum/wait" {
		t.Fatalf("got page %s after joining, want /r/museum/wait", got)
	}

	position, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#position")))
	if err != nil {
		t.Fatalf("read #position: %v", err)
	}
	if got := strings.TrimSpace(position); got != want {
		t.Fatalf("got position %q, want %q", got, want)
	}

	live, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS("#status"), "aria-live"))
	if err != nil {
		t.Fatalf("read aria-live of #status: %v", err)
	}
	if live.Value != "polite" {
		t.Fatalf("got #status aria-live %q (present: %v), want \"polite\"", live.Value, live.Exists)
	}
}

// checkEntryPage waits until the tab shows the booking entry page of event
// expo.
func checkEntryPage(t *testing.T, ctx context.Context) {
	t.Helper()

	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#entry-ok"))); err != nil {
		t.Fatalf("wait for the booking entry page (#entry-ok): %v; last page %s", err, currentPath(t, context.WithoutCancel(ctx)))
	}
	if got := currentPath(t, ctx); got != "/e/expo" {
		t.Fatalf("got page %s after admission, want /e/expo", got)
	}
}

// saveScreenshot writes a screenshot of the tab to the file that
// FOYER_BROWSER_SCREENSHOT names, for a person to look at. It does nothing
// when the variable is empty.
func saveScreenshot(t *testing.T, ctx context.Context) {
	t.Helper()

	path := os.Getenv("FOYER_BROWSER_SCREENSHOT")
	if path == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatalf("write screenshot: %v", err)
	}
	t.Logf("wrote a screenshot of the waiting page to %s", path)
}

func TestBrowserWaitsThenBooks(t *testing.T) {
	t.Run("script", func(t *testing.T) {
		t.Parallel()
		ts := seedBrowserRoom(t)
		browser := startBrowser(t)
		ctx, cancel := context.WithTimeout(browser, browserDeadline)
		defer cancel()

		if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/r/museum")); err != nil {
			t.Fatalf("open the join link: %v", err)
		}
		checkWaitingPage(t, ctx, "3")
		saveScreenshot(t, ctx)

		// The marker lives only as long as this document, so finding it
		// after the update shows that the script changed the live region in
		// place instead of reloading the page.
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.foyerTestMarker = true`)); err != nil {
			t.Fatalf("set the page marker: %v", err)
		}
		admitOne(t, ts)
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("position").textContent.trim() === "2"`)); err != nil {
			t.Fatalf("wait for the script to show position 2: %v", err)
		}
		marker, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.foyerTestMarker === true`))
		if err != nil {
			t.Fatalf("read the page marker: %v", err)
		}
		if !marker {
			t.Fatalf("the page reloaded to show position 2, want the script to update it in place")
		}
		sentence, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("ahead").parentElement.textContent.replace(/\s+/g, " ")`))
		if err != nil {
			t.Fatalf("read the people-ahead sentence: %v", err)
		}
		if !strings.HasPrefix(strings.TrimSpace(sentence), "1 person is ahead of you.") {
			t.Fatalf("got %q after the update, want it to say \"1 person is ahead of you.\"", sentence)
		}

		admitOne(t, ts)
		admitOne(t, ts)
		checkEntryPage(t, ctx)
	})

	t.Run("no script", func(t *testing.T) {
		t.Parallel()
		ts := seedBrowserRoom(t)
		browser := startBrowser(t)
		ctx, cancel := context.WithTimeout(browser, browserDeadline)
		defer cancel()

		if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
			t.Fatalf("disable scripts: %v", err)
		}
		if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/r/museum")); err != nil {
			t.Fatalf("open the join link: %v", err)
		}
		checkWaitingPage(t, ctx, "3")

		// With scripts off, the browser parses the content of <noscript> as
		// markup, so the meta refresh is an element. With scripts on it is text.
		refresh, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSS(`noscript meta[http-equiv="refresh"]`), chromedp.AtLeast(0)))
		if err != nil {
			t.Fatalf("look for the meta refresh: %v", err)
		}
		if len(refresh) != 1 {
			t.Fatalf("got %d meta refresh elements inside <noscript>, want 1 with scripts off", len(refresh))
		}

		// Without scripts, only the meta refresh reloads the page, and the
		// reload after the admission is what reaches the entry page.
		for range 3 {
			admitOne(t, ts)
		}
		checkEntryPage(t, ctx)
	})
}

// freePlaces is a booking backend that is fast and has the free places it
// is set to, all in one slot. A test may change them while edges read it.
type freePlaces struct{ free atomic.Int64 }

func (p *freePlaces) Signals(_ context.Context, now time.Time) (waitroom.Signals, error) {
	free := p.free.Load()
	return waitroom.Signals{
		WindowStart:          now.Add(-10 * time.Second),
		WindowEnd:            now,
		Samples:              100,
		LatencyP95:           50 * time.Millisecond,
		HasInventory:         true,
		RemainingPlaces:      free,
		MostFreeInSlot:       free,
		MostFreeOrHeldInSlot: free,
	}, nil
}

// placesLine is a script that evaluates to the places line of the tab's
// waiting page as shown: its text with spaces collapsed, or "hidden".
const placesLine = `(() => {
	const line = document.getElementById("places");
	if (!line) { return "missing"; }
	if (line.hidden) { return "hidden"; }
	return line.textContent.replace(/\s+/g, " ").trim();
})()`

// TestBrowserPlacesLine changes the free places while a visitor waits with
// 2 people before them, one booking and one in line, so the visitor is
// number 2 in line. The page's script
// shows the places line when they run low, updates it, and hides it when
// places are plentiful again, all without reloading the page.
func TestBrowserPlacesLine(t *testing.T) {
	t.Parallel()
	store := memstore.New(nil)
	// Max active 1 keeps the browser's visitor waiting behind the one
	// visitor admitted.
	seedRoom(t, store, waitroom.Settings{ID: "museum", Title: "Summer exhibition", RatePerMinute: 60, Burst: 1, MaxActive: 1, Mode: waitroom.ModeAuto})
	src := &freePlaces{}
	src.free.Store(1000)
	edge := waitroom.EdgeConfig{Controllers: map[string]waitroom.RoomController{
		"museum": {Signals: src, Config: waitroom.ControllerConfig{Period: time.Second}},
	}}
	ts := startServer(t, store, serverOptions{edge: edge})
	for i := range 2 {
		if _, err := store.Join(context.Background(), "museum", waitroom.NewVisitorID(), 0); err != nil {
			t.Fatalf("join visitor %d ahead: %v", i+1, err)
		}
	}
	// The edge's loop admits the first visitor within a few ticks; the
	// checks run at most 50 times, 100ms apart.
	for i := 0; ; i++ {
		snap, err := store.Snapshot(context.Background(), "museum")
		if err != nil {
			t.Fatalf("snapshot: %v", err)
		}
		if snap.Active == 1 {
			break
		}
		if i == 50 {
			t.Fatalf("got %d active visitors after 50 checks 100ms apart, want the first visitor admitted", snap.Active)
		}
		time.Sleep(100 * time.Millisecond)
	}
	browser := startBrowser(t)
	// Each change shows at the page's next poll, 4 to 6 seconds apart.
	ctx, cancel := context.WithTimeout(browser, 2*browserDeadline)
	defer cancel()

	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/r/museum")); err != nil {
		t.Fatalf("open the join link: %v", err)
	}
	checkWaitingPage(t, ctx, "2")
	line, err := chromedp.Run(ctx, chromedp.Evaluate[string](placesLine))
	if err != nil {
		t.Fatalf("read the places line: %v", err)
	}
	if line != "hidden" {
		t.Fatalf("places line with 1000 places left: got %q, want it hidden", line)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.foyerTestMarker = true`)); err != nil {
		t.Fatalf("set the page marker: %v", err)
	}

	steps := []struct {
		free       int64
		want       string
		screenshot bool
	}{
		{free: 6, want: "About 6 places remain for 2 people ahead of you."},
		{free: 2, want: "About 2 places remain for 2 people ahead of you. They may be gone before your turn.", screenshot: true},
		{free: 1000, want: "hidden"},
	}
	for _, step := range steps {
		src.free.Store(step.free)
		wait := placesLine + ` === ` + strconv.Quote(step.want)
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](wait)); err != nil {
			got, _ := chromedp.Run(context.WithoutCancel(ctx), chromedp.Evaluate[string](placesLine))
			t.Fatalf("with %d places left: wait for the places line %q: %v; last seen %q", step.free, step.want, err, got)
		}
		if step.screenshot {
			saveScreenshot(t, ctx)
		}
	}

	marker, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.foyerTestMarker === true`))
	if err != nil {
		t.Fatalf("read the page marker: %v", err)
	}
	if !marker {
		t.Errorf("the page reloaded to change the places line, want the script to change it in place")
	}
}

// seedBookingBrowser seeds room museum and event expo on the memory stores,
// with capacity 4 in each slot except a sold-out one at 10:30, and starts a
// server with booking on and the admission loop off.
func seedBookingBrowser(t *testing.T) (*testServer, booking.Store) {
	t.Helper()

	store := memstore.New(nil)
	bookings := bookingmemstore.New(bookingmemstore.Options{})
	seedRoom(t, store, waitroom.Settings{ID: "museum", Title: "Summer exhibition", Event: "expo", RatePerMinute: 60, Burst: 1})
	event, slots := testEvent(t, "expo", "museum", 4)
	for i := range slots {
		if slots[i].ID == slotID("10:30") {
			slots[i].Capacity = 0
		}
	}
	createEvent(t, bookings, event, slots)
	return startServer(t, store, serverOptions{noLoop: true, booking: bookings}), bookings
}

func TestBrowserBooksTicket(t *testing.T) {
	t.Parallel()
	ts, bookings := seedBookingBrowser(t)
	browser := startBrowser(t)
	ctx, cancel := context.WithTimeout(browser, browserDeadline)
	defer cancel()

	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/r/museum")); err != nil {
		t.Fatalf("open the join link: %v", err)
	}
	checkWaitingPage(t, ctx, "1")

	// The waiting page's script reloads once the visitor is admitted, and
	// the entry page sends the new booking session to the slots page.
	admitOne(t, ts)
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#slots-form"))); err != nil {
		t.Fatalf("wait for the slots page: %v; last page %s", err, currentPath(t, context.WithoutCancel(ctx)))
	}
	if got := currentPath(t, ctx); got != "/e/expo/slots" {
		t.Fatalf("got page %s after admission, want /e/expo/slots", got)
	}
	soldOut, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#available-"+slotID("10:30"))))
	if err != nil {
		t.Fatalf("read the sold-out slot's availability: %v", err)
	}
	if strings.TrimSpace(soldOut) != "Sold out" {
		t.Errorf("got sold-out slot text %q, want \"Sold out\"", soldOut)
	}
	disabled, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("slot-`+slotID("10:30")+`").disabled`))
	if err != nil {
		t.Fatalf("read the sold-out slot's radio button: %v", err)
	}
	if !disabled {
		t.Errorf("the sold-out slot's radio button is enabled, want it disabled")
	}

	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#slot-"+slotID("09:30"))),
		chromedp.SetValue(chromedp.CSS("#qty-adult"), "2"),
		chromedp.Click(chromedp.CSS("#hold")),
		chromedp.WaitVisible(chromedp.CSS("#pay-form")),
	)
	if err != nil {
		t.Fatalf("hold two tickets: %v; last page %s", err, currentPath(t, context.WithoutCancel(ctx)))
	}
	if got := currentPath(t, ctx); !strings.HasPrefix(got, "/e/expo/checkout/h_expo_") {
		t.Fatalf("got page %s after holding, want a checkout page", got)
	}
	shown, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#time-left")))
	if err != nil {
		t.Fatalf("read the countdown: %v", err)
	}
	// The countdown script changes the time left within about a second.
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("time-left").textContent.trim() !== `+strconv.Quote(strings.TrimSpace(shown)))); err != nil {
		t.Errorf("wait for the countdown to change from %q: %v", shown, err)
	}

	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#card"), booking.TestCardApproved),
		chromedp.Click(chromedp.CSS("#pay")),
		chromedp.WaitVisible(chromedp.CSS("#order-ref")),
	)
	if err != nil {
		t.Fatalf("pay with the approved test card: %v; last page %s", err, currentPath(t, context.WithoutCancel(ctx)))
	}
	reference, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#order-ref")))
	if err != nil {
		t.Fatalf("read the order reference: %v", err)
	}
	reference = strings.TrimSpace(reference)
	if got, want := currentPath(t, ctx), "/e/expo/orders/"+reference; got != want {
		t.Errorf("got page %s after paying, want %s", got, want)
	}
	tickets, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#order-tickets")))
	if err != nil {
		t.Fatalf("read the order's tickets: %v", err)
	}
	if !strings.Contains(tickets, "2 × Adult") {
		t.Errorf("got tickets %q, want 2 × Adult", tickets)
	}

	order, err := bookings.GetOrder(context.Background(), reference)
	if err != nil {
		t.Fatalf("the reference %q on the page is no order in the store: %v", reference, err)
	}
	if order.State != booking.OrderConfirmed || order.Slot != slotID("09:30") || order.Quantity != 2 {
		t.Errorf("got order %+v, want 2 confirmed tickets in the 09:30 slot", order)
	}
}
