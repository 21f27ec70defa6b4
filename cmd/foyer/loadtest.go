package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"foyer/loadtest"
)

// targetList collects repeated --target flags.
type targetList []string

func (l *targetList) String() string { return strings.Join(*l, ",") }

func (l *targetList) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// loadtestFlags are the flags of foyer loadtest. Each flag set on the
// command line overrides the scenario file.
type loadtestFlags struct {
	fs       *flag.FlagSet
	scenario string
	example  bool
	progress string
	targets  targetList
	s        loadtest.Scenario

	burst    loadtest.Arrival
	prequeue loadtest.Arrival
	poisson  loadtest.Arrival
	ramp     loadtest.Arrival
}

func newLoadtestFlags(stderr io.Writer) *loadtestFlags {
	f := &loadtestFlags{fs: flag.NewFlagSet("loadtest", flag.ContinueOnError), s: loadtest.DefaultScenario()}
	fs, s := f.fs, &f.s
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: foyer loadtest --target URL [--target URL ...] [--scenario FILE] [options]

Rehearses a launch-day spike against running Foyer edges and checks the
invariants afterwards. Set FOYER_ADMIN_TOKEN to the server's admin token.
Exits non-zero when a check fails or the run is interrupted.

Options:
`)
		fs.PrintDefaults()
	}

	fs.StringVar(&f.scenario, "scenario", "", "YAML scenario file; flags given on the command line override it")
	fs.BoolVar(&f.example, "print-scenario", false, "print a commented example scenario file and exit")
	fs.StringVar(&f.progress, "progress", "auto", "live progress: auto (a bar on a terminal, lines otherwise), bar, lines or off")
	fs.Var(&f.targets, "target", "base URL of a Foyer edge; repeat for several edges (default http://127.0.0.1:8080)")
	fs.BoolVar(&s.AllowRemote, "allow-remote", s.AllowRemote, "allow targets that are not loopback addresses: only for servers you run")
	fs.StringVar(&s.Room, "room", s.Room, "waiting room to reset (or create) and use")
	fs.StringVar(&s.Event, "event", s.Event, "event id to create (default: the room id and the start time)")
	fs.Uint64Var(&s.Seed, "seed", s.Seed, "seed of every random choice of the load tester")
	fs.IntVar(&s.MaxVisitors, "max-visitors", s.MaxVisitors, "most visitors the run may create")
	fs.DurationVar(&s.MaxDuration, "max-duration", s.MaxDuration, "longest time the load runs")
	fs.StringVar(&s.ReportDir, "report-dir", s.ReportDir, "directory for summary.txt, report.json and report.html")

	fs.Float64Var(&s.RoomSettings.RatePerMinute, "rate", s.RoomSettings.RatePerMinute, "room admission rate, visitors per minute")
	fs.IntVar(&s.RoomSettings.Burst, "admit-burst", s.RoomSettings.Burst, "room burst: visitors admitted at once after a quiet spell")
	fs.IntVar(&s.RoomSettings.MaxActive, "max-active", s.RoomSettings.MaxActive, "room max_active: admitted visitors not yet done booking")
	fs.DurationVar(&s.RoomSettings.OpensIn, "opens-in", s.RoomSettings.OpensIn, "time from the start until the room opens; 0 opens it at once")
	fs.StringVar(&s.RoomSettings.Mode, "mode", s.RoomSettings.Mode, "admission mode: fixed or auto")

	fs.IntVar(&s.EventSetup.Slots, "slots", s.EventSetup.Slots, "half-hour slots of the event")
	fs.IntVar(&s.EventSetup.Capacity, "capacity", s.EventSetup.Capacity, "places per slot")
	fs.DurationVar(&s.EventSetup.HoldLifetime, "hold-lifetime", s.EventSetup.HoldLifetime, "how long a hold keeps its places; 0 keeps the server's default")

	fs.IntVar(&f.burst.Visitors, "burst", 0, "arrivals: a burst of this many visitors")
	fs.DurationVar(&f.burst.Within, "burst-within", 10*time.Second, "arrivals: the burst's visitors arrive within this time")
	fs.DurationVar(&f.burst.At, "burst-at", 0, "arrivals: the burst starts this long after the start")
	fs.IntVar(&f.prequeue.Visitors, "prequeue", 0, "arrivals: this many visitors arrive before the room opens (needs --opens-in)")
	fs.DurationVar(&f.prequeue.At, "prequeue-at", 0, "arrivals: the pre-opening crowd starts arriving this long after the start")
	fs.Float64Var(&f.poisson.Rate, "poisson", 0, "arrivals: Poisson arrivals at this many visitors per second")
	fs.DurationVar(&f.poisson.For, "poisson-for", time.Minute, "arrivals: how long the Poisson arrivals last")
	fs.DurationVar(&f.poisson.At, "poisson-at", 0, "arrivals: the Poisson arrivals start this long after the start")
	fs.Float64Var(&f.ramp.FromRate, "ramp-from", 0, "arrivals: a ramp starting at this many visitors per second")
	fs.Float64Var(&f.ramp.ToRate, "ramp-to", 0, "arrivals: the ramp ends at this many visitors per second")
	fs.DurationVar(&f.ramp.For, "ramp-for", time.Minute, "arrivals: how long the ramp lasts")
	fs.DurationVar(&f.ramp.At, "ramp-at", 0, "arrivals: the ramp starts this long after the start")

	b := &s.Behavior
	fs.Float64Var(&b.AbandonShare, "abandon", b.AbandonShare, "share of visitors, 0 to 1, who stop polling while waiting")
	fs.DurationVar(&b.AbandonWithin, "abandon-within", b.AbandonWithin, "abandoning visitors leave at a random time within this long after joining")
	fs.DurationVar(&b.ThinkTime, "think", b.ThinkTime, "pause between booking steps")
	fs.IntVar(&b.TicketsMin, "tickets-min", b.TicketsMin, "fewest places a visitor holds")
	fs.IntVar(&b.TicketsMax, "tickets-max", b.TicketsMax, "most places a visitor holds")
	fs.Float64Var(&b.DeclineShare, "decline", b.DeclineShare, "chance, 0 to 1, that a payment attempt uses the declined test card")
	fs.IntVar(&b.PayRetries, "pay-retries", b.PayRetries, "payment attempts after a decline")
	fs.Float64Var(&b.LetExpireShare, "let-expire", b.LetExpireShare, "share of visitors, 0 to 1, who hold places and let the hold expire")
	fs.BoolVar(&b.SkipBooking, "skip-booking", b.SkipBooking, "stop visitors once admitted, for a server without the booking API")

	c := &s.Checks
	fs.Float64Var(&c.MinTau, "min-tau", c.MinTau, "lowest passing Kendall tau of admission order against join order, over joins in clear order")
	fs.DurationVar(&c.TieWindow, "tie-window", c.TieWindow, "joins this close together count as ties in the reported tau-b")
	fs.Float64Var(&c.RateTolerance, "rate-tolerance", c.RateTolerance, "allowed relative difference from the configured admission rate, 0 to 1")

	e := &s.Engine
	fs.IntVar(&e.Workers, "workers", e.Workers, "visitor steps at once, which also bounds connections per target")
	fs.DurationVar(&e.RequestTimeout, "request-timeout", e.RequestTimeout, "timeout of each HTTP request")
	fs.DurationVar(&e.ProgressEvery, "progress-every", e.ProgressEvery, "interval of plain progress lines")
	return f
}

// resolve returns the scenario: defaults, then the scenario file, then
// the flags set on the command line, then the admin token from getenv.
func (f *loadtestFlags) resolve(getenv func(string) string) (loadtest.Scenario, error) {
	s := loadtest.DefaultScenario()
	if f.scenario != "" {
		var err error
		if s, err = loadtest.LoadScenario(f.scenario, s); err != nil {
			return s, err
		}
	}

	fromFlags := f.s
	set := map[string]bool{}
	f.fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	overrides := []struct {
		name  string
		apply func()
	}{
		{"allow-remote", func() { s.AllowRemote = fromFlags.AllowRemote }},
		{"room", func() { s.Room = fromFlags.Room }},
		{"event", func() { s.Event = fromFlags.Event }},
		{"seed", func() { s.Seed = fromFlags.Seed }},
		{"max-visitors", func() { s.MaxVisitors = fromFlags.MaxVisitors }},
		{"max-duration", func() { s.MaxDuration = fromFlags.MaxDuration }},
		{"report-dir", func() { s.ReportDir = fromFlags.ReportDir }},
		{"rate", func() { s.RoomSettings.RatePerMinute = fromFlags.RoomSettings.RatePerMinute }},
		{"admit-burst", func() { s.RoomSettings.Burst = fromFlags.RoomSettings.Burst }},
		{"max-active", func() { s.RoomSettings.MaxActive = fromFlags.RoomSettings.MaxActive }},
		{"opens-in", func() { s.RoomSettings.OpensIn = fromFlags.RoomSettings.OpensIn }},
		{"mode", func() { s.RoomSettings.Mode = fromFlags.RoomSettings.Mode }},
		{"slots", func() { s.EventSetup.Slots = fromFlags.EventSetup.Slots }},
		{"capacity", func() { s.EventSetup.Capacity = fromFlags.EventSetup.Capacity }},
		{"hold-lifetime", func() { s.EventSetup.HoldLifetime = fromFlags.EventSetup.HoldLifetime }},
		{"abandon", func() { s.Behavior.AbandonShare = fromFlags.Behavior.AbandonShare }},
		{"abandon-within", func() { s.Behavior.AbandonWithin = fromFlags.Behavior.AbandonWithin }},
		{"think", func() { s.Behavior.ThinkTime = fromFlags.Behavior.ThinkTime }},
		{"tickets-min", func() { s.Behavior.TicketsMin = fromFlags.Behavior.TicketsMin }},
		{"tickets-max", func() { s.Behavior.TicketsMax = fromFlags.Behavior.TicketsMax }},
		{"decline", func() { s.Behavior.DeclineShare = fromFlags.Behavior.DeclineShare }},
		{"pay-retries", func() { s.Behavior.PayRetries = fromFlags.Behavior.PayRetries }},
		{"let-expire", func() { s.Behavior.LetExpireShare = fromFlags.Behavior.LetExpireShare }},
		{"skip-booking", func() { s.Behavior.SkipBooking = fromFlags.Behavior.SkipBooking }},
		{"min-tau", func() { s.Checks.MinTau = fromFlags.Checks.MinTau }},
		{"tie-window", func() { s.Checks.TieWindow = fromFlags.Checks.TieWindow }},
		{"rate-tolerance", func() { s.Checks.RateTolerance = fromFlags.Checks.RateTolerance }},
		{"workers", func() { s.Engine.Workers = fromFlags.Engine.Workers }},
		{"request-timeout", func() { s.Engine.RequestTimeout = fromFlags.Engine.RequestTimeout }},
		{"progress-every", func() { s.Engine.ProgressEvery = fromFlags.Engine.ProgressEvery }},
	}
	for _, o := range overrides {
		if set[o.name] {
			o.apply()
		}
	}
	if len(f.targets) > 0 {
		s.Targets = f.targets
	}
	s.Arrivals = append(s.Arrivals, f.arrivals(set)...)
	s.AdminToken = getenv("FOYER_ADMIN_TOKEN")
	return s, nil
}

// arrivals returns the profiles that the command line sets. They are
// added to the scenario file's profiles.
func (f *loadtestFlags) arrivals(set map[string]bool) []loadtest.Arrival {
	var out []loadtest.Arrival
	if set["burst"] {
		a := f.burst
		a.Kind = loadtest.KindBurst
		out = append(out, a)
	}
	if set["prequeue"] {
		a := f.prequeue
		a.Kind = loadtest.KindPrequeue
		out = append(out, a)
	}
	if set["poisson"] {
		a := f.poisson
		a.Kind = loadtest.KindPoisson
		out = append(out, a)
	}
	if set["ramp-from"] || set["ramp-to"] {
		a := f.ramp
		a.Kind = loadtest.KindRamp
		out = append(out, a)
	}
	return out
}

// isTerminal reports whether w is a character device such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// loadtestCommand runs foyer loadtest: it parses the flags and the
// scenario, runs the load, prints the summary and writes the report files.
// It returns an error when a check failed or the run was interrupted, so
// the process exits non-zero, and the report is written in either case.
func loadtestCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newLoadtestFlags(stderr)
	if err := f.fs.Parse(args); err != nil {
		return err
	}
	if f.fs.NArg() > 0 {
		return fmt.Errorf("loadtest: unexpected argument %q: options start with --", f.fs.Arg(0))
	}
	if f.example {
		_, err := io.WriteString(stdout, loadtest.ExampleScenario)
		return err
	}
	s, err := f.resolve(os.Getenv)
	if err != nil {
		return err
	}
	if err := s.Validate(); err != nil {
		return fmt.Errorf("loadtest: %w", err)
	}

	opts := loadtest.Options{Log: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	switch f.progress {
	case "auto":
		opts.Progress, opts.Terminal = stdout, isTerminal(stdout)
	case "bar":
		opts.Progress, opts.Terminal = stdout, true
	case "lines":
		opts.Progress = stdout
	case "off":
	default:
		return fmt.Errorf("loadtest: --progress %q is invalid: use auto, bar, lines or off", f.progress)
	}

	report, err := loadtest.Run(ctx, s, opts)
	if err != nil {
		return fmt.Errorf("loadtest: %w", err)
	}
	report.WriteSummary(stdout)
	paths, err := report.WriteFiles(s.ReportDir)
	if err != nil {
		return fmt.Errorf("loadtest: %w", err)
	}
	fmt.Fprintf(stdout, "report:    %s\n", strings.Join(paths, ", "))

	if failed := report.Failed(); len(failed) > 0 {
		names := make([]string, len(failed))
		for i, c := range failed {
			names[i] = c.Name + " (" + c.Summary + ")"
		}
		return fmt.Errorf("loadtest: %d of %d checks failed: %s", len(failed), len(report.Checks), strings.Join(names, "; "))
	}
	if report.Ending == "interrupted" {
		return errors.New("loadtest: interrupted before every visitor finished; the report covers the part that ran")
	}
	return nil
}
