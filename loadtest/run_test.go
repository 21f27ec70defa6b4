package loadtest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// launchScenario is a short launch: 500 visitors wait for opening, 1,500
// arrive in a burst after it, a tenth abandon, a third of payment attempts
// are declined and the slots sell out.
func launchScenario(target, reportDir string) Scenario {
	s := DefaultScenario()
	s.Targets = []string{target}
	s.AdminToken = testAdminToken
	s.Room = "launch"
	s.Seed = 7
	s.MaxVisitors = 2000
	s.MaxDuration = 50 * time.Second
	s.RoomSettings = RoomSettings{RatePerMinute: 12000, Burst: 50, MaxActive: 5000, OpensIn: 3 * time.Second, Mode: "fixed"}
	s.EventSetup = EventSetup{Slots: 4, Capacity: 700, HoldLifetime: 30 * time.Second}
	s.Arrivals = []Arrival{
		{Kind: KindPrequeue, Visitors: 500},
		{Kind: KindBurst, Visitors: 1500, At: 3 * time.Second, Within: 4 * time.Second},
	}
	s.Behavior = Behavior{
		AbandonShare:   0.1,
		AbandonWithin:  10 * time.Second,
		ThinkTime:      200 * time.Millisecond,
		TicketsMin:     1,
		TicketsMax:     4,
		DeclineShare:   0.3,
		PayRetries:     2,
		LetExpireShare: 0.05,
	}
	s.Engine.Workers = 128
	s.Engine.RequestTimeout = 10 * time.Second
	s.ReportDir = reportDir
	return s
}

func TestRunLaunchAgainstFoyer(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			url := startFoyer(t, b.open(t), 100*time.Millisecond)
			dir := t.TempDir()
			s := launchScenario(url, dir)

			var progress strings.Builder
			report, err := Run(context.Background(), s, Options{Progress: &progress})
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			var summary strings.Builder
			report.WriteSummary(&summary)
			t.Logf("summary:\n%s", summary.String())

			if !report.Passed {
				t.Errorf("got a failed run, want every check to pass:\n%s", summary.String())
			}
			for _, c := range report.Checks {
				if c.Status == CheckSkipped && c.Name != "abandoned visitors used no admission" && c.Name != "admission rate follows the backend's capacity" {
					t.Errorf("check %q: got skipped (%s), want it judged", c.Name, c.Summary)
				}
			}
			if report.Ending != "all visitors finished" {
				t.Errorf("ending: got %q, want all visitors finished", report.Ending)
			}
			if report.Visitors != 2000 {
				t.Errorf("visitors: got %d, want 2000", report.Visitors)
			}
			if report.JoinedBeforeOpening < 400 {
				t.Errorf("joined before opening: got %d, want about 500", report.JoinedBeforeOpening)
			}
			for _, outcome := range []string{"booked", "abandoned", "sold_out"} {
				if report.Outcomes[outcome] == 0 {
					t.Errorf("outcome %s: got none, want some in %v", outcome, report.Outcomes)
				}
			}
			if report.Declines == 0 {
				t.Errorf("payment declines: got 0, want some")
			}
			if report.Errors != 0 {
				t.Errorf("failed requests: got %d (%v), want 0", report.Errors, report.ErrorsByKind)
			}
			if progress.Len() == 0 {
				t.Errorf("progress: got no lines, want periodic lines")
			}

			checkReportFiles(t, report, dir)
		})
	}
}

// checkReportFiles writes the report files and checks that they parse.
func checkReportFiles(t *testing.T, report *Report, dir string) {
	t.Helper()

	paths, err := report.WriteFiles(dir)
	if err != nil {
		t.Fatalf("write report files: %v", err)
	}
	if len(paths) != 3 {
		t.Fatalf("report files: got %v, want 3", paths)
	}

	data, err := os.ReadFile(filepath.Join(dir, JSONFile))
	if err != nil {
		t.Fatalf("read JSON report: %v", err)
	}
	var decoded Report
	if err := json.Unmarshal(data, &decoded); err != nil {
		t.Fatalf("decode JSON report: %v", err)
	}
	if decoded.Passed != report.Passed || len(decoded.Checks) != len(report.Checks) || len(decoded.Samples) == 0 {
		t.Errorf("decoded JSON report: got passed=%v, %d checks, %d samples; want passed=%v, %d checks, some samples",
			decoded.Passed, len(decoded.Checks), len(decoded.Samples), report.Passed, len(report.Checks))
	}

	page, err := os.ReadFile(filepath.Join(dir, HTMLFile))
	if err != nil {
		t.Fatalf("read HTML report: %v", err)
	}
	html := string(page)
	if n := strings.Count(html, "<svg"); n != 4 {
		t.Errorf("HTML report: got %d inline <svg> charts, want 4", n)
	}
	for _, outside := range []string{"<script", "<link", " src=", "@import"} {
		if strings.Contains(html, outside) {
			t.Errorf("HTML report: contains %q, want a page that loads nothing from elsewhere", outside)
		}
	}

	summary, err := os.ReadFile(filepath.Join(dir, SummaryFile))
	if err != nil {
		t.Fatalf("read summary: %v", err)
	}
	if !strings.Contains(string(summary), "checks:") {
		t.Errorf("summary: got %q, want a list of checks", summary)
	}
}

func TestRunSpreadsVisitorsOverTargets(t *testing.T) {
	t.Parallel()
	st := backends[0].open(t)
	targets := []string{startFoyer(t, st, 100*time.Millisecond), startFoyer(t, st, 100*time.Millisecond)}

	s := launchScenario(targets[0], t.TempDir())
	s.Targets = targets
	s.Room = "two-edges"
	s.MaxVisitors = 300
	s.MaxDuration = 30 * time.Second
	s.RoomSettings.OpensIn = 0
	s.Arrivals = []Arrival{{Kind: KindBurst, Visitors: 300, Within: 2 * time.Second}}
	s.Behavior.AbandonShare = 0
	report, err := Run(t.Context(), s, Options{})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	var summary strings.Builder
	report.WriteSummary(&summary)
	if !report.Passed {
		t.Errorf("got a failed run on two edges, want a pass:\n%s", summary.String())
	}

	// Each edge counts the joins it served.
	for i, target := range targets {
		joins := joinsServed(t, target, s.Room)
		if joins != 150 {
			t.Errorf("edge %d: got %d joins, want 150 of the 300 visitors", i, joins)
		}
	}
}

// joinsServed sums an edge's foyer_joins_total series for room.
func joinsServed(t *testing.T, target, room string) int {
	t.Helper()
	resp, err := http.Get(target + "/metrics")
	if err != nil {
		t.Fatalf("read metrics: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read metrics: %v", err)
	}
	total := 0
	for _, line := range strings.Split(string(body), "\n") {
		if !strings.HasPrefix(line, "foyer_joins_total{") || !strings.Contains(line, `room="`+room+`"`) {
			continue
		}
		fields := strings.Fields(line)
		n, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		if err != nil {
			t.Fatalf("parse metrics line %q: %v", line, err)
		}
		total += int(n)
	}
	return total
}
