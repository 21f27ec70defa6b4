package web

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"

	"foyer/booking"
	"foyer/waitroom"
	"foyer/web/views"
)

const (
	// liveCacheTTL is how long the live figures of a room are shared by
	// every dashboard open on this edge.
	liveCacheTTL = time.Second
	// statsSpan is the span of the booking latency and error figures.
	statsSpan = 5 * time.Minute
	// maxDashboardSlots bounds the slots listed on a dashboard.
	maxDashboardSlots = 60
	// dashboardAuditEntries is how many audit entries a dashboard shows.
	dashboardAuditEntries = 20
)

// liveCache keeps the last live figures of each room, so that several open
// dashboards cost the stores one set of reads per room and second.
type liveCache struct {
	mu    sync.Mutex
	rooms map[string]liveEntry
}

type liveEntry struct {
	view views.DashboardLive
	at   time.Time
}

func (c *liveCache) get(room string, now time.Time) (views.DashboardLive, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.rooms[room]
	if !ok || now.Sub(e.at) > liveCacheTTL {
		return views.DashboardLive{}, false
	}
	return e.view, true
}

func (c *liveCache) put(room string, view views.DashboardLive, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rooms == nil {
		c.rooms = make(map[string]liveEntry)
	}
	c.rooms[room] = liveEntry{view: view, at: now}
}

// forget drops the room's figures, so the next read shows a change at once.
func (c *liveCache) forget(room string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.rooms, room)
}

// liveView returns the live figures of room. It returns ErrRoomNotFound for
// an unknown room. Booking and audit figures that cannot be read are
// replaced by a note saying why, so the rest still shows.
func (s *Server) liveView(ctx context.Context, room string) (views.DashboardLive, error) {
	now := time.Now()
	if v, ok := s.live.get(room, now); ok {
		return v, nil
	}

	view, err := s.edge.Room(ctx, room)
	if err != nil {
		return views.DashboardLive{}, err
	}
	snap := view.Snapshot
	settings := snap.Settings
	v := views.DashboardLive{
		UpdatedAt:      now.UTC().Format("15:04:05 MST"),
		Stale:          view.Stale,
		RoomState:      string(snap.State()),
		Waiting:        snap.Waiting,
		Prequeue:       snap.Prequeue,
		Active:         snap.Active,
		Admitted:       snap.Admitted,
		Abandoned:      snap.Abandoned,
		NewArrivalWait: newArrivalWait(snap),
		Rate:           formatRate(settings.RatePerMinute),
		Burst:          settings.Burst,
		MaxActive:      settings.MaxActive,
		Mode:           string(settings.Mode),
		Paused:         settings.Paused,
		Message:        settings.Message,
	}
	if !settings.OpensAt.IsZero() {
		v.OpensAt = settings.OpensAt.In(s.roomLocation(ctx, settings)).Format("2006-01-02 15:04:05 MST")
	}

	samples := s.history.samples(room)
	v.AdmittedPerMinute = "–"
	if perMinute, ok := admittedPerMinute(samples, snap.Admitted, now); ok {
		v.AdmittedPerMinute = formatRate(math.Round(perMinute*10) / 10)
	}
	v.Charts = roomCharts(samples, v, now)
	v.Decisions = s.decisionTimeline(ctx, room, settings.Mode, now)

	if s.opts.Booking != nil && settings.Event != "" {
		b := s.bookingLive(ctx, settings.Event, now)
		v.Booking = &b
	}
	v.Audit, v.AuditProblem = s.auditRows(ctx, room)

	s.live.put(room, v, now)
	return v, nil
}

// newArrivalWait estimates, in words, the wait of a visitor who joins now.
func newArrivalWait(snap waitroom.Snapshot) string {
	switch snap.State() {
	case waitroom.RoomClosed:
		return "none: the room is closed"
	case waitroom.RoomSoldOut:
		return "none: sold out"
	case waitroom.RoomPaused:
		return "unknown while admission is paused"
	}
	wait, ok := waitroom.EstimateWait(snap.Waiting+snap.Prequeue, snap)
	if !ok {
		return "unknown at a rate of 0"
	}
	return views.Duration(wait)
}

// formatRate formats a rate without trailing zeros, as in "60" or "7.5".
func formatRate(rate float64) string {
	return strconv.FormatFloat(rate, 'f', -1, 64)
}

// roomCharts draws waiting visitors, admissions per minute and active
// visitors over the last historySpan.
func roomCharts(samples []roomSample, live views.DashboardLive, now time.Time) []views.Chart {
	waiting := make([]views.ChartPoint, len(samples))
	active := make([]views.ChartPoint, len(samples))
	for i, sample := range samples {
		waiting[i] = views.ChartPoint{At: sample.At, Value: float64(sample.Waiting)}
		active[i] = views.ChartPoint{At: sample.At, Value: float64(sample.Active)}
	}
	return []views.Chart{
		lineChart("waiting", "Waiting", waiting, strconv.FormatInt(live.Waiting, 10), now),
		lineChart("admitted", "Admitted per minute", admissionRates(samples), live.AdmittedPerMinute, now),
		lineChart("active", "Active admitted", active, strconv.FormatInt(live.Active, 10), now),
	}
}

func lineChart(id, title string, points []views.ChartPoint, latest string, now time.Time) views.Chart {
	values := make([]float64, len(points))
	for i, p := range points {
		values[i] = p.Value
	}
	top := views.ChartTop(values)
	chart := views.Chart{
		ID:     id,
		Title:  title,
		Points: views.ChartPoints(points, now.Add(-historySpan), now, top),
		Top:    formatRate(top),
		Latest: latest,
	}
	if len(points) == 0 {
		chart.Summary = title + ": no samples yet on this edge."
	} else {
		lowest, highest := slicesMinMax(values)
		chart.Summary = fmt.Sprintf("%s over the last %d minutes: between %s and %s, now %s.",
			title, int(historySpan/time.Minute), formatRate(math.Round(lowest)), formatRate(math.Round(highest)), latest)
	}
	return chart
}

func slicesMinMax(values []float64) (float64, float64) {
	lowest, highest := values[0], values[0]
	for _, v := range values[1:] {
		lowest, highest = min(lowest, v), max(highest, v)
	}
	return lowest, highest
}

// bookingLive reads the event's slot counts and the booking figures of
// every edge over statsSpan.
func (s *Server) bookingLive(ctx context.Context, eventID string, now time.Time) views.BookingLive {
	b := views.BookingLive{Event: eventID, Window: fmt.Sprintf("last %d minutes", int(statsSpan/time.Minute))}

	if err := s.fillSlotRows(ctx, &b, eventID, now); err != nil {
		b.Problem = s.storeProblem("read the event's slots", err)
	}

	windows, err := s.opts.Booking.Store.ReadStats(ctx, booking.WindowStart(now.Add(-statsSpan)), now.Add(booking.StatsWindow))
	if err != nil {
		b.StatsProblem = s.storeProblem("read booking latency and errors", err)
		return b
	}
	var total booking.OpStats
	for _, w := range windows {
		for _, op := range []string{booking.OpHold, booking.OpPay} {
			total.Add(w.Ops[op])
		}
	}
	b.Requests = total.Count
	b.P95, b.ErrorRate, b.Rejected = "–", "–", "–"
	if total.Count == 0 {
		return b
	}
	b.P95 = formatLatencyBound(total.Quantile(0.95))
	serverSide := total.Errors[booking.CodeInternal] + total.Errors[booking.ErrorCode(booking.ErrUnavailable)]
	b.ErrorRate = formatShare(serverSide, total.Count)
	b.Rejected = formatShare(total.ErrorCount()-serverSide, total.Count)
	return b
}

// fillSlotRows lists the event's slots that have not ended, with totals.
func (s *Server) fillSlotRows(ctx context.Context, b *views.BookingLive, eventID string, now time.Time) error {
	event, err := s.bookingEvent(ctx, eventID)
	if err != nil {
		return err
	}
	slots, err := s.opts.Booking.Store.Availability(ctx, eventID)
	if err != nil {
		return err
	}

	for _, slot := range slots {
		if !slot.End.After(now) {
			continue
		}
		b.Held += slot.Held
		b.Sold += slot.Sold
		b.Remaining += slot.Available()
		if len(b.Slots) < maxDashboardSlots {
			b.Slots = append(b.Slots, views.SlotRow{
				ID:        slot.ID,
				Label:     event.label(slot.Slot),
				Capacity:  slot.Capacity,
				Held:      slot.Held,
				Sold:      slot.Sold,
				Remaining: slot.Available(),
			})
		}
	}
	return nil
}

// storeProblem explains, for the dashboard, why a read failed. Errors that
// are not the stores' known ones are logged.
func (s *Server) storeProblem(what string, err error) string {
	switch {
	case errors.Is(err, booking.ErrUnknownEvent):
		return "Could not " + what + ": the booking store has no such event. Create it under New event, or fix the room's event."
	case errors.Is(err, booking.ErrUnavailable), errors.Is(err, waitroom.ErrUnavailable):
		return "Could not " + what + ": the store cannot be reached. The figures come back when it can."
	}
	s.log.Error("dashboard read failed", "what", what, "err", err)
	return "Could not " + what + ": internal error, see the server log."
}

// formatLatencyBound formats the upper bound of a latency bucket.
func formatLatencyBound(d time.Duration) string {
	if d == math.MaxInt64 {
		return fmt.Sprintf("over %s", booking.LatencyBounds[len(booking.LatencyBounds)-1])
	}
	return "≤ " + d.String()
}

// formatShare formats part of total as a percentage with the counts, as in
// "0.4% (3 of 712)".
func formatShare(part, total int64) string {
	return fmt.Sprintf("%s%% (%d of %d)", strconv.FormatFloat(float64(part)*100/float64(total), 'f', 1, 64), part, total)
}

// auditRows reads the newest entries of the room's audit log, or returns
// why it could not.
func (s *Server) auditRows(ctx context.Context, room string) ([]views.AuditRow, string) {
	entries, err := s.edge.Store().AuditLog(ctx, room, dashboardAuditEntries)
	if err != nil {
		return nil, s.storeProblem("read the audit log", err)
	}
	rows := make([]views.AuditRow, len(entries))
	for i, e := range entries {
		rows[i] = views.AuditRow{At: e.At.UTC().Format("2006-01-02 15:04:05 MST"), Actor: e.Actor, Action: e.Action, Detail: e.Detail}
	}
	return rows, ""
}
