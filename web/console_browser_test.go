package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"foyer/waitroom"
	"foyer/waitroom/memstore"
)

// TestBrowserDashboardUpdatesLive signs in with a headless Chromium, opens a
// room's dashboard in one tab and changes the rate with the controls in a
// second tab, as a second organizer would. The first tab must show the new
// rate through its live stream, without reloading.
func TestBrowserDashboardUpdatesLive(t *testing.T) {
	t.Parallel()
	store := memstore.New(nil)
	seedRoom(t, store, waitroom.Settings{ID: "museum", Title: "Summer exhibition", RatePerMinute: 60, Burst: 5})
	ts := startServer(t, store, serverOptions{})
	browser := startBrowser(t)
	ctx, cancel := context.WithTimeout(browser, browserDeadline)
	defer cancel()

	err := chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+"/admin/rooms/museum"),
		chromedp.WaitVisible(chromedp.CSS("#login-form")),
		chromedp.SendKeys(chromedp.CSS("#username"), testAdminUser),
		chromedp.SendKeys(chromedp.CSS("#password"), testAdminPassword),
		chromedp.Click(chromedp.CSS("#sign-in")),
		chromedp.WaitVisible(chromedp.CSS("#live")),
	)
	if err != nil {
		t.Fatalf("sign in and open the dashboard: %v; last page %s", err, currentPath(t, context.WithoutCancel(ctx)))
	}
	if got := currentPath(t, ctx); got != "/admin/rooms/museum" {
		t.Fatalf("got page %s after signing in, want the dashboard the sign-in started from", got)
	}
	rate, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#rate")))
	if err != nil {
		t.Fatalf("read #rate: %v", err)
	}
	if strings.TrimSpace(rate) != "60" {
		t.Fatalf("got rate %q on the dashboard, want 60", rate)
	}

	// The marker lives only as long as this document, so finding it after
	// the update shows that the stream changed the panel in place.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.foyerTestMarker = true`)); err != nil {
		t.Fatalf("set the page marker: %v", err)
	}
	// The live status line changes once the first update arrived.
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("live-status").textContent.indexOf("Live: updated") === 0`)); err != nil {
		t.Fatalf("wait for the first live update: %v", err)
	}

	second, cancelSecond := chromedp.NewContext(ctx)
	defer cancelSecond()
	err = chromedp.Do(second,
		chromedp.Navigate(ts.URL+"/admin/rooms/museum"),
		chromedp.WaitVisible(chromedp.CSS("#settings-form")),
		chromedp.SetValue(chromedp.CSS("#rate_per_minute"), "123"),
		chromedp.Click(chromedp.CSS("#save-settings")),
		chromedp.WaitVisible(chromedp.CSS("#notice")),
	)
	if err != nil {
		t.Fatalf("change the rate in the second tab: %v", err)
	}
	if got := roomRate(t, store, "museum"); got != 123 {
		t.Fatalf("got rate %v in the store after the form, want 123", got)
	}

	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("rate").textContent.trim() === "123"`)); err != nil {
		t.Fatalf("wait for the first tab to show rate 123: %v", err)
	}
	marker, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.foyerTestMarker === true`))
	if err != nil {
		t.Fatalf("read the page marker: %v", err)
	}
	if !marker {
		t.Fatalf("the first tab reloaded to show the new rate, want the stream to update it in place")
	}
	actor, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#audit tbody tr:first-child td:nth-child(2)")))
	if err != nil {
		t.Fatalf("read the newest audit entry: %v", err)
	}
	if strings.TrimSpace(actor) != testAdminUser {
		t.Errorf("got actor %q in the newest audit entry, want %q", actor, testAdminUser)
	}

	// A controller decision stored now reaches the decision table through
	// the stream as well.
	appendDecisions(t, store, "museum", testDecision(time.Now(), waitroom.ReasonWaitForHolds, 123, 0))
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`(function () {
		var code = document.querySelector("#decisions tbody tr:first-child code");
		return code !== null && code.textContent === "wait_for_holds";
	})()`)); err != nil {
		t.Fatalf("wait for the first tab to list the wait_for_holds decision: %v", err)
	}
	note, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#decisions-note")))
	if err != nil {
		t.Fatalf("read the decision note: %v", err)
	}
	if !strings.Contains(note, "fixed mode") {
		t.Errorf("got decision note %q in fixed mode, want it to say the room is in fixed mode", note)
	}
}
