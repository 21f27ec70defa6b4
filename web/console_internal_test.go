package web

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"foyer/waitroom"
)

func TestLoginDelay(t *testing.T) {
	cases := []struct {
		failures int
		want     time.Duration
	}{
		{1, 0},
		{freeLoginFailures, 0},
		{freeLoginFailures + 1, time.Second},
		{freeLoginFailures + 2, 2 * time.Second},
		{freeLoginFailures + 5, 16 * time.Second},
		{freeLoginFailures + 11, maxLoginDelay},
		{freeLoginFailures + 1000, maxLoginDelay},
	}
	for _, tc := range cases {
		if got := loginDelay(tc.failures); got != tc.want {
			t.Errorf("loginDelay(%d): got %s, want %s", tc.failures, got, tc.want)
		}
	}
}

func TestLoginThrottleForgetsOldFailures(t *testing.T) {
	throttle := newLoginThrottle()
	start := time.Date(2031, 3, 14, 9, 0, 0, 0, time.UTC)

	for i := range freeLoginFailures + 1 {
		throttle.fail(start.Add(time.Duration(i)*time.Millisecond), "ip:a", "user:ada")
	}
	if got := throttle.wait(start, "ip:b", "user:ada"); got <= 0 {
		t.Errorf("wait for the slowed account from another address: got %s, want a delay", got)
	}
	if got := throttle.wait(start, "ip:b", "user:bob"); got != 0 {
		t.Errorf("wait for another account and address: got %s, want 0", got)
	}

	// A failure long after the last one starts the count again.
	later := start.Add(loginFailureMemory + time.Minute)
	if got := throttle.fail(later, "ip:a", "user:ada"); got != 0 {
		t.Errorf("first failure after %s: got delay %s, want 0", loginFailureMemory, got)
	}

	throttle.succeed("ip:a", "user:ada")
	if got := throttle.wait(later, "ip:a", "user:ada"); got != 0 {
		t.Errorf("wait after a successful sign-in: got %s, want 0", got)
	}
}

func TestParseMoney(t *testing.T) {
	valid := []struct {
		text     string
		currency string
		want     int64
	}{
		{"18", "EUR", 1800},
		{"18.5", "EUR", 1850},
		{"18.50", "EUR", 1850},
		{"0", "EUR", 0},
		{"1500", "JPY", 1500},
		{"1.234", "KWD", 1234},
	}
	for _, tc := range valid {
		got, err := parseMoney(tc.text, tc.currency)
		if err != nil || got != tc.want {
			t.Errorf("parseMoney(%q, %s): got %d, %v, want %d", tc.text, tc.currency, got, err, tc.want)
		}
	}

	invalid := []struct{ text, currency string }{
		{"", "EUR"}, {"18.505", "EUR"}, {"-1", "EUR"}, {"1,50", "EUR"}, {"18.5", "JPY"}, {".5", "EUR"}, {"1e3", "EUR"}, {"9999999999999", "EUR"},
	}
	for _, tc := range invalid {
		if got, err := parseMoney(tc.text, tc.currency); err == nil {
			t.Errorf("parseMoney(%q, %s): got %d, want an error", tc.text, tc.currency, got)
		}
	}
}

func TestSafeNext(t *testing.T) {
	cases := map[string]string{
		"/admin/rooms/demo":        "/admin/rooms/demo",
		"/admin?done=pause":        "/admin?done=pause",
		"":                         "/admin",
		"/admin/login":             "/admin",
		"https://evil.example/x":   "/admin",
		"//evil.example/admin":     "/admin",
		"/adminx/../r/demo":        "/admin",
		"/admin\\@evil.example":    "/admin",
		"/r/demo":                  "/admin",
		"/admin/rooms/x\r\nSet-Co": "/admin",
	}
	for in, want := range cases {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q): got %q, want %q", in, got, want)
		}
	}
}

func TestTruncateUTF8(t *testing.T) {
	long := strings.Repeat("é", 1500) // 3000 bytes
	got := truncateUTF8(long, 2000)
	if len(got) > 2000 || !utf8.ValidString(got) || !strings.HasSuffix(got, "…") {
		t.Errorf("truncateUTF8 of 3000 bytes: got %d bytes, valid UTF-8 %v, want at most 2000 valid bytes ending in …", len(got), utf8.ValidString(got))
	}
	if got := truncateUTF8("short", 2000); got != "short" {
		t.Errorf("truncateUTF8(short): got %q, want it unchanged", got)
	}
}

func TestSettingsDiff(t *testing.T) {
	before := waitroom.Settings{ID: "demo", RatePerMinute: 60, Burst: 10, Mode: waitroom.ModeFixed}
	after := before
	after.RatePerMinute, after.Paused, after.Message = 7.5, true, `Back at "ten"`

	want := `rate_per_minute 60 → 7.5, paused false → true, message "" → "Back at \"ten\""`
	if got := settingsDiff(before, after); got != want {
		t.Errorf("settingsDiff: got %q, want %q", got, want)
	}
	if got := settingsDiff(before, before); got != "" {
		t.Errorf("settingsDiff of equal settings: got %q, want \"\"", got)
	}
}

func TestAdmittedPerMinute(t *testing.T) {
	now := time.Date(2031, 3, 14, 9, 0, 0, 0, time.UTC)
	sample := func(ago time.Duration, admitted int64) roomSample {
		return roomSample{At: now.Add(-ago), Admitted: admitted}
	}

	samples := []roomSample{sample(2*time.Minute, 0), sample(time.Minute, 100), sample(30*time.Second, 130)}
	if got, ok := admittedPerMinute(samples, 160, now); !ok || got != 60 {
		t.Errorf("60 admitted over the last minute: got %v, %v, want 60, true", got, ok)
	}
	if _, ok := admittedPerMinute([]roomSample{sample(time.Second, 5)}, 6, now); ok {
		t.Errorf("with only a sample from a second ago: got a rate, want none")
	}
	if got, ok := admittedPerMinute([]roomSample{sample(30*time.Second, 500)}, 2, now); !ok || got != 0 {
		t.Errorf("after a reset: got %v, %v, want 0, true", got, ok)
	}

	rates := admissionRates(samples)
	if len(rates) != 2 || rates[0].Value != 100 || rates[1].Value != 60 {
		t.Errorf("admissionRates: got %+v, want 100 then 60 per minute", rates)
	}
}

func TestRoomHistoryRing(t *testing.T) {
	history := newRoomHistory()
	start := time.Date(2031, 3, 14, 9, 0, 0, 0, time.UTC)

	for i := range historySamples + 5 {
		snaps := map[string]waitroom.Snapshot{"demo": {Waiting: int64(i)}}
		history.record(snaps, start.Add(time.Duration(i)*historyEvery))
	}
	samples := history.samples("demo")
	if len(samples) != historySamples {
		t.Fatalf("got %d samples, want %d", len(samples), historySamples)
	}
	if samples[0].Waiting != 5 || samples[len(samples)-1].Waiting != int64(historySamples+4) {
		t.Errorf("got samples from %d to %d waiting, want the newest %d, from 5 to %d", samples[0].Waiting, samples[len(samples)-1].Waiting, historySamples, historySamples+4)
	}

	history.record(map[string]waitroom.Snapshot{}, start)
	if got := history.samples("demo"); got != nil {
		t.Errorf("got %d samples of a room the edge no longer has, want none", len(got))
	}
}

func TestDecisionChartStartsAtControllerStart(t *testing.T) {
	now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	started := now.Add(-10 * time.Minute)
	decisions := []waitroom.Decision{
		{At: now.Add(-5 * time.Minute), Reason: waitroom.ReasonRampUp, OldRatePerMinute: 60, NewRatePerMinute: 120},
		{At: started, Reason: waitroom.ReasonStart, OldRatePerMinute: 600, NewRatePerMinute: 60},
	}

	chart := decisionChart(decisions, now)

	// 20 of the 30 minutes on the axis pass before the controller starts.
	if want := "400.0,"; !strings.HasPrefix(chart.Line, want) {
		t.Errorf("line %q: want it to begin at x %s, the controller's start", chart.Line, want)
	}
	if !strings.Contains(chart.Summary, "between 60 and 120 per minute") {
		t.Errorf("summary %q: want the range 60 to 120, without the organizer's rate 600 before the start", chart.Summary)
	}
}

func TestDecisionChartStartsAtAxisWithEarlierRate(t *testing.T) {
	now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	decisions := []waitroom.Decision{
		{At: now.Add(-5 * time.Minute), Reason: waitroom.ReasonRampUp, OldRatePerMinute: 60, NewRatePerMinute: 120},
		{At: now.Add(-10 * time.Minute), Reason: waitroom.ReasonHoldSettling, OldRatePerMinute: 60, NewRatePerMinute: 60},
	}

	chart := decisionChart(decisions, now)

	if want := "0.0,"; !strings.HasPrefix(chart.Line, want) {
		t.Errorf("line %q: want it to begin at x %s, since the rate before the oldest decision is known", chart.Line, want)
	}
}
