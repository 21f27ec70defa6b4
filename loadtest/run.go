package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options are the parts of a run that are not part of its scenario.
type Options struct {
	// Progress receives the live progress; nil prints none.
	Progress io.Writer
	// Terminal draws a progress bar that rewrites one line, instead of
	// printing a plain line every Engine.ProgressEvery.
	Terminal bool
	// Log receives the run's starts, stops and swallowed errors; nil
	// discards them.
	Log *slog.Logger
}

// targetURLs are the endpoints of one target, built once.
type targetURLs struct {
	base, join, status, slots, holds string
}

// runner is one run: the visitors, their scheduler and the live stats.
type runner struct {
	scenario Scenario
	opts     Options
	log      *slog.Logger
	client   *client
	admin    *admin
	urls     []targetURLs
	event    string

	visitors []visitor
	stats    *stats
	sched    *schedule
	series   *series

	// start is the moment offsets count from; opensAt is when the room
	// opens, in wall time.
	start   time.Time
	opensAt time.Time
	// remaining counts visitors that have not finished.
	remaining atomic.Int64
	stopLoad  context.CancelFunc
	// capacity is the rehearsal backends' capacity over the run; nil when
	// unknown.
	capacity *capacityPlan
}

func (r *runner) now() time.Duration { return time.Since(r.start) }

// checkTimeout bounds the admin reads of the checks after the load.
const checkTimeout = 2 * time.Minute

// Run sets up the room and event, sends the scenario's visitors, checks
// the invariants and returns the report. It stops sending load when every
// visitor has finished, when MaxDuration has passed or when ctx is
// cancelled, and in each case still checks what it can and returns the
// report. The error is non-nil only when the run could not start. A failed
// invariant, or a check that could not read the server, is in the report,
// and Report.Passed is then false.
func Run(ctx context.Context, s Scenario, opts Options) (*Report, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	r := newRunner(s, opts)
	defer r.client.close()

	arrivals := ArrivalTimes(s.Arrivals, s.RoomSettings.OpensIn, s.MaxVisitors, s.Seed)
	if len(arrivals) == 0 {
		return nil, errors.New("arrivals: the profiles drew no visitor: raise their rates or durations")
	}

	if err := r.setUp(ctx); err != nil {
		return nil, err
	}
	baseline := liveHeap()
	r.createVisitors(arrivals)
	r.log.Info("load test started", "room", s.Room, "event", r.event, "visitors", len(arrivals), "targets", len(s.Targets), "seed", s.Seed)

	interrupted := r.load(ctx, baseline)
	r.log.Info("load finished, checking invariants", "interrupted", interrupted)

	checkCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), checkTimeout)
	defer cancel()
	report := r.report(checkCtx, interrupted)
	return report, nil
}

func newRunner(s Scenario, opts Options) *runner {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := newClient(s.Engine.Workers, s.Engine.RequestTimeout)
	r := &runner{
		scenario: s,
		opts:     opts,
		log:      log,
		client:   c,
		admin:    &admin{client: c, base: strings.TrimSuffix(s.Targets[0], "/"), token: s.AdminToken},
		stats:    newStats(),
	}
	return r
}

// setUp creates the event and prepares the room, and fixes the start of
// the run and the opening time.
func (r *runner) setUp(ctx context.Context) error {
	s := r.scenario
	r.event = s.Event
	if r.event == "" {
		r.event = eventID(s.Room, time.Now())
	}
	if !s.Behavior.SkipBooking {
		if err := r.admin.createEvent(ctx, r.event, s.Room, s.EventSetup, s.Behavior.TicketsMax, time.Now()); err != nil {
			return err
		}
	}

	r.start = time.Now()
	if s.RoomSettings.OpensIn > 0 {
		r.opensAt = r.start.Add(s.RoomSettings.OpensIn)
	}
	if _, err := r.admin.prepareRoom(ctx, s.Room, r.event, s.RoomSettings, r.opensAt); err != nil {
		return err
	}
	if r.opensAt.IsZero() {
		r.opensAt = time.Now()
	}
	capacity, err := r.readCapacity(ctx)
	if err != nil {
		return err
	}
	r.capacity = capacity

	for _, target := range s.Targets {
		base := strings.TrimSuffix(target, "/")
		r.urls = append(r.urls, targetURLs{
			base:   base,
			join:   base + "/api/v1/rooms/" + s.Room + "/join",
			status: base + "/api/v1/rooms/" + s.Room + "/status",
			slots:  base + "/api/v1/events/" + r.event + "/slots",
			holds:  base + "/api/v1/events/" + r.event + "/holds",
		})
	}
	return nil
}

// eventID returns a new event id for a run in room: events cannot be
// reset, so each run books an event of its own.
func eventID(room string, now time.Time) string {
	suffix := "-" + now.UTC().Format("20060102-150405")
	return room[:min(len(room), 63-len(suffix))] + suffix
}

// createVisitors draws each visitor's arrival and choices from the seed.
func (r *runner) createVisitors(arrivals []time.Duration) {
	s := r.scenario
	b := s.Behavior
	rng := rand.New(rand.NewPCG(s.Seed, 0x76697369)) // second word: "visi" in ASCII

	r.visitors = make([]visitor, len(arrivals))
	r.sched = newSchedule(len(arrivals))
	for i, at := range arrivals {
		v := &r.visitors[i]
		v.arriveAt = at
		v.target = uint16(i % len(s.Targets))
		v.quantity = uint8(b.TicketsMin + rng.IntN(b.TicketsMax-b.TicketsMin+1))
		if rng.Float64() < b.AbandonShare {
			v.abandonAfter = max(time.Millisecond, time.Duration(rng.Float64()*float64(b.AbandonWithin)))
		}
		v.letExpire = rng.Float64() < b.LetExpireShare
		for int(v.declines) <= b.PayRetries && rng.Float64() < b.DeclineShare {
			v.declines++
		}
		r.sched.add(at, int32(i))
	}
	r.remaining.Store(int64(len(arrivals)))
}

// load runs the visitors until all finish, MaxDuration passes or ctx ends.
// It reports whether ctx ended first.
func (r *runner) load(ctx context.Context, baseline uint64) (interrupted bool) {
	loadCtx, cancel := context.WithTimeout(ctx, r.scenario.MaxDuration)
	defer cancel()
	r.stopLoad = cancel

	r.series = newSeries(r, baseline)
	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		r.series.run(loadCtx)
	}()
	go func() {
		defer wg.Done()
		r.applySteps(loadCtx)
	}()
	go func() {
		defer wg.Done()
		r.progress(loadCtx)
	}()

	work := make(chan entry, r.scenario.Engine.Workers)
	var workers sync.WaitGroup
	for range r.scenario.Engine.Workers {
		workers.Add(1)
		go func() {
			defer workers.Done()
			r.work(loadCtx, work)
		}()
	}
	r.sched.dispatch(loadCtx, r.now, work)
	close(work)
	workers.Wait()
	wg.Wait()

	r.finishUnfinished()
	r.series.sample(context.WithoutCancel(ctx), false)
	return ctx.Err() != nil
}

// work runs due visitor steps until work is closed.
func (r *runner) work(ctx context.Context, work <-chan entry) {
	for e := range work {
		if ctx.Err() != nil {
			continue
		}
		r.stats.observeLag(r.now() - e.at)
		v := &r.visitors[e.visitor]
		next, done := r.step(ctx, v, e.visitor)
		if done {
			if r.remaining.Load() == 0 {
				r.stopLoad()
			}
			continue
		}
		if ctx.Err() == nil {
			r.sched.add(next, e.visitor)
		}
	}
}

// finishUnfinished marks every visitor still going, or not yet arrived,
// as unfinished. It runs after the workers have stopped.
func (r *runner) finishUnfinished() {
	for i := range r.visitors {
		if v := &r.visitors[i]; v.phase != phaseDone {
			r.finish(v, OutcomeUnfinished)
		}
	}
}

// liveHeap returns the bytes of live heap objects after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// String returns a one-line description of the scenario's arrivals.
func describeArrivals(arrivals []Arrival) string {
	parts := make([]string, 0, len(arrivals))
	for _, a := range arrivals {
		switch a.Kind {
		case KindBurst:
			parts = append(parts, fmt.Sprintf("burst of %d within %s at %s", a.Visitors, a.Within, a.At))
		case KindPrequeue:
			parts = append(parts, fmt.Sprintf("%d before opening from %s", a.Visitors, a.At))
		case KindPoisson:
			parts = append(parts, fmt.Sprintf("Poisson %.4g/s for %s at %s", a.Rate, a.For, a.At))
		case KindRamp:
			parts = append(parts, fmt.Sprintf("ramp %.4g/s to %.4g/s over %s at %s", a.FromRate, a.ToRate, a.For, a.At))
		}
	}
	return strings.Join(parts, ", ")
}
