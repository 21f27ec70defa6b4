package loadtest

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"
)

// Check statuses.
const (
	CheckPass    = "pass"
	CheckFail    = "fail"
	CheckSkipped = "skipped"
)

// CheckResult is the outcome of one invariant check.
type CheckResult struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	// Summary states the numbers the verdict rests on, or why the check
	// was skipped.
	Summary string             `json:"summary"`
	Numbers map[string]float64 `json:"numbers,omitempty"`
	// Examples names a few offending visitors, slots or orders.
	Examples []string `json:"examples,omitempty"`
}

// maxExamples bounds CheckResult.Examples.
const maxExamples = 5

// evidence is the input of the checks: the server's records read through
// the admin API, and the load tester's visitors. Read errors are kept, so
// the checks that need the missing part fail and the others still run.
type evidence struct {
	Scenario Scenario
	// OpensAt is when the room opened.
	OpensAt time.Time
	// Start is the start of the run; visitor offsets count from it.
	Start time.Time

	Room       roomBody
	RoomErr    error
	Log        []admissionBody
	LogErr     error
	Event      eventStatsBody
	EventErr   error
	Orders     []orderBody
	OrdersErr  error
	Visitors   []visitor
	MaxActive  int64
	BookingRun bool
	// Controller is the report of an auto room's rate against a
	// rehearsal backend's capacity. It is nil when the capacity is unknown.
	Controller *ControllerReport
}

// gatherEvidence reads the server's records after the run.
func (r *runner) gatherEvidence(ctx context.Context, maxActive int64) evidence {
	e := evidence{
		Scenario:   r.scenario,
		OpensAt:    r.opensAt,
		Start:      r.start,
		Visitors:   r.visitors,
		MaxActive:  maxActive,
		BookingRun: !r.scenario.Behavior.SkipBooking,
	}
	e.Room, e.RoomErr = r.admin.room(ctx, r.scenario.Room)
	e.Log, e.LogErr = r.admin.admissions(ctx, r.scenario.Room)
	if e.BookingRun {
		e.Event, e.EventErr = r.admin.eventStats(ctx, r.event)
		e.Orders, e.OrdersErr = r.admin.orders(ctx, r.event, "")
	}
	return e
}

// check runs every invariant check on the evidence.
func check(e evidence) []CheckResult {
	return []CheckResult{
		checkOversold(e),
		checkAdmittedOnce(e),
		checkAdmissionsLogged(e),
		checkOrder(e),
		checkRate(e),
		checkAbandoned(e),
		checkOrders(e),
		checkController(e),
	}
}

func failRead(name, source string, err error) CheckResult {
	return CheckResult{Name: name, Status: CheckFail, Summary: fmt.Sprintf("could not read %s: %v", source, err)}
}

func skipped(name, reason string) CheckResult {
	return CheckResult{Name: name, Status: CheckSkipped, Summary: reason}
}

func verdict(ok bool) string {
	if ok {
		return CheckPass
	}
	return CheckFail
}

// checkOversold tests sold + held <= capacity for every slot, as the
// server counts, and that the places the visitors bought fit in each slot
// and are all counted as sold.
func checkOversold(e evidence) CheckResult {
	const name = "no slot oversold"
	if !e.BookingRun {
		return skipped(name, "booking was skipped")
	}
	if e.EventErr != nil {
		return failRead(name, "the event's slots", e.EventErr)
	}

	bought := map[string]int{}
	for i := range e.Visitors {
		if v := &e.Visitors[i]; v.outcome == OutcomeBooked {
			bought[v.slot] += int(v.quantity)
		}
	}

	res := CheckResult{Name: name}
	oversold, lost, worst := 0, 0, 0
	for _, s := range e.Event.Slots {
		excess := s.Sold + s.Held - s.Capacity
		if excess > 0 || bought[s.ID] > s.Capacity {
			oversold++
			worst = max(worst, excess, bought[s.ID]-s.Capacity)
			res.example(fmt.Sprintf("slot %s: sold %d + held %d, visitors bought %d, capacity %d", s.ID, s.Sold, s.Held, bought[s.ID], s.Capacity))
		}
		if bought[s.ID] > s.Sold {
			lost++
			res.example(fmt.Sprintf("slot %s: visitors bought %d places but the server counts %d sold", s.ID, bought[s.ID], s.Sold))
		}
	}
	res.Status = verdict(oversold == 0 && lost == 0 && len(e.Event.Slots) > 0)
	res.Numbers = map[string]float64{"slots": float64(len(e.Event.Slots)), "oversold_slots": float64(oversold), "max_excess": float64(worst), "slots_missing_sales": float64(lost)}
	res.Summary = fmt.Sprintf("%d slots, %d oversold (worst by %d places), %d with confirmed purchases missing from sold", len(e.Event.Slots), oversold, worst, lost)
	if len(e.Event.Slots) == 0 {
		res.Summary = "the event has no slots"
	}
	return res
}

func (c *CheckResult) example(s string) {
	if len(c.Examples) < maxExamples {
		c.Examples = append(c.Examples, s)
	}
}

// checkAdmittedOnce tests that no visitor id appears twice in the
// admission log.
func checkAdmittedOnce(e evidence) CheckResult {
	const name = "no visitor admitted twice"
	if e.LogErr != nil {
		return failRead(name, "the admission log", e.LogErr)
	}
	seen := make(map[string]int, len(e.Log))
	duplicates := 0
	res := CheckResult{Name: name}
	for _, a := range e.Log {
		seen[a.Visitor]++
		if seen[a.Visitor] == 2 {
			duplicates++
			res.example("visitor " + a.Visitor)
		}
	}
	res.Status = verdict(duplicates == 0)
	res.Numbers = map[string]float64{"admissions": float64(len(e.Log)), "distinct_visitors": float64(len(seen)), "admitted_twice": float64(duplicates)}
	res.Summary = fmt.Sprintf("%d admissions, %d distinct visitors, %d admitted more than once", len(e.Log), len(seen), duplicates)
	return res
}

// checkAdmissionsLogged tests that every visitor whose status was admitted
// appears in the admission log, so the log the other checks read is
// complete.
func checkAdmissionsLogged(e evidence) CheckResult {
	const name = "every admission logged"
	if e.LogErr != nil {
		return failRead(name, "the admission log", e.LogErr)
	}
	logged := make(map[string]bool, len(e.Log))
	for _, a := range e.Log {
		logged[a.Visitor] = true
	}
	res := CheckResult{Name: name}
	seen, missing := 0, 0
	for i := range e.Visitors {
		v := &e.Visitors[i]
		if !v.admitted {
			continue
		}
		seen++
		if !logged[v.id] {
			missing++
			res.example("visitor " + v.id)
		}
	}
	res.Status = verdict(missing == 0)
	res.Numbers = map[string]float64{"admitted_seen": float64(seen), "missing_from_log": float64(missing)}
	res.Summary = fmt.Sprintf("%d visitors saw an admission, %d of them missing from the log", seen, missing)
	return res
}

// checkOrder compares admission order with join order over the visitors
// who joined after the room opened and were admitted. It judges by
// Kendall's tau over the pairs in clear order, where one join got its
// response before the other was sent. A fair server orders every such pair
// whatever the network does. It also reports tau-b with joins in the same
// TieWindow bin tied.
func checkOrder(e evidence) CheckResult {
	const name = "admission order follows join order"
	if e.LogErr != nil {
		return failRead(name, "the admission log", e.LogErr)
	}
	position := make(map[string]int64, len(e.Log))
	for i, a := range e.Log {
		if _, dup := position[a.Visitor]; !dup {
			position[a.Visitor] = int64(i)
		}
	}
	bin := max(int64(e.Scenario.Checks.TieWindow), 1)
	pairs := make([]Pair, 0, len(position))
	spans := make([]Span, 0, len(position))
	for i := range e.Visitors {
		v := &e.Visitors[i]
		if v.id == "" || v.prequeued {
			continue
		}
		if p, ok := position[v.id]; ok {
			pairs = append(pairs, Pair{X: int64(v.joinedAt) / bin, Y: p})
			spans = append(spans, Span{Sent: int64(v.joinedAt), Received: int64(v.joinResponded), Y: p})
		}
	}

	tau, counted, ok := ClearOrderTau(spans)
	if !ok {
		return skipped(name, fmt.Sprintf("no two of the %d visitors who joined after opening and were admitted joined in clear order (every pair of join requests overlapped)", len(spans)))
	}
	tauB, okB := KendallTauB(pairs)
	tauBText := "undefined"
	if okB {
		tauBText = fmt.Sprintf("%.4f", tauB)
	}
	min := e.Scenario.Checks.MinTau
	numbers := map[string]float64{
		"tau": tau, "min_tau": min, "pairs": float64(counted), "visitors": float64(len(spans)),
		"tie_window_ms": float64(e.Scenario.Checks.TieWindow) / 1e6,
	}
	if okB {
		numbers["tau_b"] = tauB
	}
	return CheckResult{
		Name:    name,
		Status:  verdict(tau >= min),
		Numbers: numbers,
		Summary: fmt.Sprintf("Kendall tau %.4f over %d pairs of %d visitors who joined after opening, counting pairs where one join got its response before the other was sent (minimum %.4f); tau-b with joins in the same %s bin tied: %s",
			tau, counted, len(spans), min, e.Scenario.Checks.TieWindow, tauBText),
	}
}

// checkRate tests the admission log against the room's token bucket. In no
// window may admissions exceed burst + rate × window, with the tolerance
// added to the rate. While visitors waited, the mean rate must be within
// the tolerance of the configured rate.
func checkRate(e evidence) CheckResult {
	const name = "admission rate within tolerance"
	if e.LogErr != nil {
		return failRead(name, "the admission log", e.LogErr)
	}
	s := e.Scenario.RoomSettings
	if s.Mode != "fixed" {
		return skipped(name, "the room's mode is auto, so the rate moves")
	}
	if len(e.Log) < 2 {
		return skipped(name, fmt.Sprintf("only %d admissions", len(e.Log)))
	}
	tol := e.Scenario.Checks.RateTolerance
	perSecond := s.RatePerMinute / 60

	times := make([]float64, len(e.Log))
	for i, a := range e.Log {
		times[i] = a.AdmittedAt.Sub(e.OpensAt).Seconds()
	}
	excess, from, to := bucketExcess(times, perSecond*(1+tol), s.Burst)

	res := CheckResult{Name: name, Numbers: map[string]float64{
		"configured_per_minute": s.RatePerMinute,
		"burst":                 float64(s.Burst),
		"tolerance":             tol,
		"peak_excess":           excess,
	}}
	peakOK := excess <= 1
	if !peakOK {
		res.example(fmt.Sprintf("%d admissions between %.3fs and %.3fs after opening, more than burst %d + %.1f/min × %.3fs", to-from+1, times[from], times[to], s.Burst, s.RatePerMinute*(1+tol), times[to]-times[from]))
	}

	mean, busy, count, reason := busyRate(e, times)
	res.Numbers["busy_seconds"] = busy
	meanOK := true
	meanText := "mean rate not judged: " + reason
	if reason == "" {
		res.Numbers["mean_per_minute"] = mean * 60
		meanOK = math.Abs(mean-perSecond) <= tol*perSecond
		meanText = fmt.Sprintf("mean %.1f/min over %.1fs while visitors waited (%d admissions)", mean*60, busy, count)
	}
	res.Status = verdict(peakOK && meanOK)
	res.Summary = fmt.Sprintf("configured %.1f/min, burst %d, tolerance ±%.0f%%: %s; peak window %+.1f admissions over the bucket", s.RatePerMinute, s.Burst, tol*100, meanText, excess)
	return res
}

// bucketExcess returns how far the busiest window of sorted admission times
// exceeds burst + rate × window, with the window's first and last index. In
// one pass it tracks, for each j, the smallest i - rate × t[i] before it.
func bucketExcess(times []float64, rate float64, burst int) (excess float64, from, to int) {
	excess = math.Inf(-1)
	best, bestAt := math.Inf(1), 0
	for j, t := range times {
		if v := float64(j) - rate*t; v < best {
			best, bestAt = v, j
		}
		// Admissions in [t[i], t[j]] are j - i + 1.
		if x := float64(j) - rate*t - best + 1 - float64(burst); x > excess {
			excess, from, to = x, bestAt, j
		}
	}
	return excess, from, to
}

// minBusy is the shortest stretch of waiting visitors over which the mean
// admission rate is judged.
const minBusy = 5 * time.Second

// busyRate returns the mean admission rate per second over the longest run
// of admissions during which the next visitor to be admitted had already
// joined, the run's length in seconds and its admissions, or why no rate
// is judged. The bucket starts full, so the run's first burst admissions
// are not counted.
func busyRate(e evidence, times []float64) (perSecond, seconds float64, count int, reason string) {
	s := e.Scenario.RoomSettings
	if e.MaxActive >= int64(s.MaxActive)-int64(s.Burst) {
		return 0, 0, 0, fmt.Sprintf("active visitors reached %d of max_active %d, which limits admissions", e.MaxActive, s.MaxActive)
	}
	joined := make(map[string]float64, len(e.Visitors))
	for i := range e.Visitors {
		if v := &e.Visitors[i]; v.id != "" {
			joined[v.id] = e.Start.Add(v.joinedAt).Sub(e.OpensAt).Seconds()
		}
	}

	bestFrom, bestTo := 0, 0
	from := 0
	for k := 0; k+1 < len(times); k++ {
		next, ok := joined[e.Log[k+1].Visitor]
		if !ok || next > times[k] {
			from = k + 1
			continue
		}
		if times[k+1]-times[from] > times[bestTo]-times[bestFrom] {
			bestFrom, bestTo = from, k+1
		}
	}
	seconds = times[bestTo] - times[bestFrom]
	count = bestTo - bestFrom + 1
	if seconds < minBusy.Seconds() {
		return 0, seconds, count, fmt.Sprintf("visitors waited for at most %.1fs at a time, less than %s", seconds, minBusy)
	}
	return float64(count-s.Burst) / seconds, seconds, count, ""
}

// checkAbandoned tests that no visitor who stopped polling was admitted
// later than its last heartbeat plus the room's heartbeat grace and
// AbandonSlack. Admissions inside that time are allowed: the server cannot
// know yet that the visitor left.
func checkAbandoned(e evidence) CheckResult {
	const name = "abandoned visitors used no admission"
	if e.LogErr != nil {
		return failRead(name, "the admission log", e.LogErr)
	}
	if e.RoomErr != nil {
		return failRead(name, "the room's heartbeat grace", e.RoomErr)
	}
	grace := time.Duration(e.Room.HeartbeatGraceSeconds) * time.Second
	if grace <= 0 {
		return skipped(name, "the room reports no heartbeat grace")
	}
	admittedAt := make(map[string]time.Time, len(e.Log))
	for _, a := range e.Log {
		if _, dup := admittedAt[a.Visitor]; !dup {
			admittedAt[a.Visitor] = a.AdmittedAt
		}
	}

	res := CheckResult{Name: name}
	abandoned, inGrace, late := 0, 0, 0
	for i := range e.Visitors {
		v := &e.Visitors[i]
		if v.outcome != OutcomeAbandoned {
			continue
		}
		abandoned++
		at, ok := admittedAt[v.id]
		if !ok {
			continue
		}
		limit := e.Start.Add(v.lastSeen + grace + e.Scenario.Checks.AbandonSlack)
		if at.After(limit) {
			late++
			res.example(fmt.Sprintf("visitor %s: last poll at %.1fs, admitted at %.1fs", v.id, v.lastSeen.Seconds(), at.Sub(e.Start).Seconds()))
		} else {
			inGrace++
		}
	}
	if abandoned == 0 {
		return skipped(name, "no visitor abandoned")
	}
	res.Status = verdict(late == 0)
	res.Numbers = map[string]float64{"abandoned": float64(abandoned), "admitted_within_grace": float64(inGrace), "admitted_after_grace": float64(late), "grace_seconds": grace.Seconds()}
	res.Summary = fmt.Sprintf("%d abandoned: %d admitted after heartbeat grace %s + %s, %d admitted within it, %d never admitted", abandoned, late, grace, e.Scenario.Checks.AbandonSlack, inGrace, abandoned-late-inGrace)
	return res
}

// checkOrders tests that every paid order the server lists has its tickets
// or is flagged needs_refund, and that every order a visitor paid for is
// listed.
func checkOrders(e evidence) CheckResult {
	const name = "paid orders have tickets or need a refund"
	if !e.BookingRun {
		return skipped(name, "booking was skipped")
	}
	if e.OrdersErr != nil {
		return failRead(name, "the event's orders", e.OrdersErr)
	}

	res := CheckResult{Name: name}
	listed := make(map[string]orderBody, len(e.Orders))
	confirmed, refund, bad := 0, 0, 0
	for _, o := range e.Orders {
		listed[o.OrderID] = o
		switch o.State {
		case orderConfirmed:
			confirmed++
			if n := o.ticketCount(); n == 0 || (o.Quantity > 0 && n != o.Quantity) {
				bad++
				res.example(fmt.Sprintf("order %s: confirmed with %d tickets for %d places", o.OrderID, n, o.Quantity))
			}
		case orderNeedsRefund:
			refund++
		case "cancelled":
		default:
			bad++
			res.example(fmt.Sprintf("order %s: unknown state %q", o.OrderID, o.State))
		}
	}

	missing, noTickets := 0, 0
	for i := range e.Visitors {
		v := &e.Visitors[i]
		if v.orderID == "" {
			continue
		}
		if _, ok := listed[v.orderID]; !ok {
			missing++
			res.example(fmt.Sprintf("order %s: paid by visitor %s but not listed", v.orderID, v.id))
		}
		if v.outcome == OutcomeBooked && v.tickets == 0 {
			noTickets++
			res.example(fmt.Sprintf("order %s: visitor %s read it with no tickets", v.orderID, v.id))
		}
	}

	res.Status = verdict(bad == 0 && missing == 0 && noTickets == 0)
	res.Numbers = map[string]float64{"orders": float64(len(e.Orders)), "confirmed": float64(confirmed), "needs_refund": float64(refund), "invalid": float64(bad), "paid_not_listed": float64(missing), "read_without_tickets": float64(noTickets)}
	res.Summary = fmt.Sprintf("%d orders: %d confirmed, %d flagged needs_refund, %d without their tickets; %d paid orders missing from the list, %d read by visitors without tickets", len(e.Orders), confirmed, refund, bad, missing, noTickets)
	return res
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
