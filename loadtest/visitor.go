package loadtest

import (
	"context"
	"net/http"
	"strconv"
	"time"
)

// phase is the step a visitor takes next.
type phase uint8

const (
	phaseJoin phase = iota
	phaseWait
	phaseSlots
	phaseHold
	phasePay
	phaseOrder
	phaseDone
)

// visitor is one virtual browser. Its fields are kept small, because a run
// keeps tens of thousands of them. Only the runner's workers touch a
// visitor, and one worker at a time.
type visitor struct {
	// id is the visitor id the server gave at join.
	id  string
	jar jar
	// token is the admission token, until the first hold spends it on a
	// booking session.
	token   string
	slot    string
	holdID  string
	orderID string

	// Offsets from the start of the run.
	arriveAt time.Duration
	// joinedAt is when the successful join request was sent, and
	// joinResponded when its response came back.
	joinedAt, joinResponded time.Duration
	// lastSeen is when the last successful poll was sent, which is the
	// visitor's last heartbeat.
	lastSeen time.Duration
	// abandonAfter is how long after joining the visitor stops polling if
	// still waiting; zero means never.
	abandonAfter time.Duration

	sequence int64
	target   uint16
	phase    phase
	outcome  Outcome
	quantity uint8
	// declines is how many payment attempts use the declined card before
	// one uses the approved card.
	declines    uint8
	payAttempts uint8
	holdTries   uint8
	failures    uint8
	prequeued   bool
	inPrequeue  bool
	letExpire   bool
	// admitted is set once the visitor saw itself admitted.
	admitted bool
	tickets  int32
}

// Test cards of the server's test payment provider.
const (
	cardApproved = "4242424242424242"
	cardDeclined = "4000000000000002"
)

// maxHoldTries is how often a visitor picks a slot again after a hold
// found it sold out.
const maxHoldTries = 3

// slotBody is one slot in GET /api/v1/events/{event}/slots.
type slotBody struct {
	ID        string `json:"id"`
	StartsAt  string `json:"starts_at"`
	Capacity  int    `json:"capacity"`
	Available int    `json:"available"`
}

// holdBody is the response to POST /api/v1/events/{event}/holds.
type holdBody struct {
	HoldID    string `json:"hold_id"`
	ExpiresAt string `json:"expires_at"`
}

// orderBody is an order in the pay, order and admin order endpoints.
// Tickets lists one entry per place.
type orderBody struct {
	OrderID  string `json:"order_id"`
	HoldID   string `json:"hold_id"`
	Slot     string `json:"slot"`
	Visitor  string `json:"visitor"`
	State    string `json:"state"`
	Quantity int    `json:"quantity"`
	Tickets  []struct {
		Type string `json:"type"`
	} `json:"tickets"`
}

// ticketCount returns the number of tickets the order carries.
func (o orderBody) ticketCount() int { return len(o.Tickets) }

// Order states that the load tester distinguishes.
const (
	orderConfirmed   = "confirmed"
	orderNeedsRefund = "needs_refund"
)

// step runs the visitor's next step and returns when it is due again, or
// done when the visitor has finished.
func (r *runner) step(ctx context.Context, v *visitor, index int32) (next time.Duration, done bool) {
	switch v.phase {
	case phaseJoin:
		return r.join(ctx, v)
	case phaseWait:
		return r.poll(ctx, v)
	case phaseSlots:
		return r.chooseSlot(ctx, v, index)
	case phaseHold:
		return r.hold(ctx, v)
	case phasePay:
		return r.pay(ctx, v, index)
	case phaseOrder:
		return r.readOrder(ctx, v)
	}
	return 0, true
}

func (r *runner) join(ctx context.Context, v *visitor) (time.Duration, bool) {
	if v.failures == 0 {
		r.stats.arrived.Add(1)
	}
	sent := r.now()
	var body statusBody
	res := r.client.do(ctx, request{method: http.MethodPost, url: r.urls[v.target].join, jar: &v.jar, out: &body})
	responded := r.now()
	if ctx.Err() != nil {
		return 0, false
	}
	r.stats.observe(opJoin, res, false)
	if !res.ok() {
		return r.retry(v, res)
	}

	v.failures = 0
	v.id = body.Visitor
	v.joinedAt, v.joinResponded, v.lastSeen = sent, responded, sent
	v.phase = phaseWait
	v.prequeued = body.Sequence == nil
	r.stats.joined.Add(1)
	r.stats.waiting.Add(1)
	if v.prequeued {
		v.inPrequeue = true
		r.stats.prequeue.Add(1)
	}
	return r.afterStatus(v, body, res)
}

func (r *runner) poll(ctx context.Context, v *visitor) (time.Duration, bool) {
	if v.abandonAfter > 0 && r.now() >= v.joinedAt+v.abandonAfter {
		r.finish(v, OutcomeAbandoned)
		return 0, true
	}

	sent := r.now()
	var body statusBody
	res := r.client.do(ctx, request{method: http.MethodGet, url: r.urls[v.target].status, jar: &v.jar, out: &body})
	if ctx.Err() != nil {
		return 0, false
	}
	r.stats.observe(opStatus, res, false)
	if !res.ok() {
		return r.retry(v, res)
	}
	v.failures = 0
	v.lastSeen = sent
	return r.afterStatus(v, body, res)
}

// afterStatus acts on a join or status response: start booking once
// admitted, otherwise poll again after the refresh interval or the
// Retry-After header, whichever is longer, and never sooner than a second.
func (r *runner) afterStatus(v *visitor, body statusBody, res response) (time.Duration, bool) {
	if body.Sequence != nil {
		v.sequence = *body.Sequence
	}
	if v.inPrequeue && body.State != statePrequeue {
		v.inPrequeue = false
		r.stats.prequeue.Add(-1)
	}

	switch body.State {
	case stateAdmitted:
		return r.admitted(v, body)
	case stateExpired:
		r.finish(v, OutcomeExpired)
		return 0, true
	}
	if body.RoomState == "closed" || body.RoomState == "sold_out" {
		r.finish(v, OutcomeRoomClosed)
		return 0, true
	}

	wait := max(time.Duration(body.RefreshSeconds)*time.Second, res.retryAfter, time.Second)
	next := r.now() + wait
	if v.abandonAfter > 0 {
		next = min(next, v.joinedAt+v.abandonAfter)
	}
	return next, false
}

func (r *runner) admitted(v *visitor, body statusBody) (time.Duration, bool) {
	r.stats.waiting.Add(-1)
	r.stats.admitted.Add(1)
	v.admitted = true
	if r.scenario.Behavior.SkipBooking {
		r.finish(v, OutcomeAdmitted)
		return 0, true
	}
	v.token = body.AdmissionToken
	v.phase = phaseSlots
	r.stats.booking.Add(1)
	return r.now() + r.scenario.Behavior.ThinkTime, false
}

func (r *runner) chooseSlot(ctx context.Context, v *visitor, index int32) (time.Duration, bool) {
	var slots []slotBody
	res := r.client.do(ctx, request{method: http.MethodGet, url: r.urls[v.target].slots, jar: &v.jar, out: &slots})
	if ctx.Err() != nil {
		return 0, false
	}
	r.stats.observe(opSlots, res, false)
	if !res.ok() {
		return r.retry(v, res)
	}
	v.failures = 0

	candidates := make([]int, 0, len(slots))
	for i, s := range slots {
		if s.Available >= int(v.quantity) {
			candidates = append(candidates, i)
		}
	}
	if len(candidates) == 0 {
		r.finish(v, OutcomeSoldOut)
		return 0, true
	}
	pick := mix(r.scenario.Seed, uint64(index), uint64(v.holdTries)) % uint64(len(candidates))
	v.slot = slots[candidates[pick]].ID
	v.phase = phaseHold
	return r.now(), false
}

// bookingSessionCookie is the prefix of the booking session cookie's
// name; the event id follows it.
const bookingSessionCookie = "foyer_b_"

func (r *runner) hold(ctx context.Context, v *visitor) (time.Duration, bool) {
	var body holdBody
	req := request{
		method: http.MethodPost,
		url:    r.urls[v.target].holds,
		body:   map[string]any{"slot": v.slot, "quantity": int(v.quantity)},
		bearer: v.token,
		jar:    &v.jar,
		out:    &body,
	}
	res := r.client.do(ctx, req)
	if ctx.Err() != nil {
		return 0, false
	}
	soldOut := res.status == http.StatusConflict && res.code == "sold_out"
	r.stats.observe(opHold, res, soldOut)
	if v.token != "" && v.jar.index(bookingSessionCookie+r.event) >= 0 {
		// The server exchanged the token for a booking session before it
		// tried the hold, so a retry after a failed hold, such as a 503,
		// uses the session cookie: the token works only once.
		v.token = ""
	}
	if soldOut {
		v.holdTries++
		if v.holdTries >= maxHoldTries {
			r.finish(v, OutcomeSoldOut)
			return 0, true
		}
		v.phase = phaseSlots
		return r.now() + r.scenario.Behavior.ThinkTime, false
	}
	if !res.ok() {
		return r.retry(v, res)
	}

	v.failures = 0
	v.holdID = body.HoldID
	if v.letExpire {
		r.finish(v, OutcomeLetExpire)
		return 0, true
	}
	v.phase = phasePay
	return r.now() + r.scenario.Behavior.ThinkTime, false
}

func (r *runner) pay(ctx context.Context, v *visitor, index int32) (time.Duration, bool) {
	card := cardApproved
	if v.payAttempts < v.declines {
		card = cardDeclined
	}
	var order orderBody
	req := request{
		method: http.MethodPost,
		url:    r.urls[v.target].base + "/api/v1/holds/" + v.holdID + "/pay",
		body:   map[string]any{"card": card, "idempotency_key": payKey(index, v.payAttempts)},
		jar:    &v.jar,
		out:    &order,
	}
	res := r.client.do(ctx, req)
	if ctx.Err() != nil {
		return 0, false
	}
	declined := res.code == "payment_declined"
	expired := res.code == "hold_expired"
	// A declined card and a hold that ran out while the visitor paid are
	// outcomes a visitor meets, not failures of the server.
	r.stats.observe(opPay, res, declined || expired)

	switch {
	case declined:
		r.stats.declines.Add(1)
		v.payAttempts++
		if int(v.payAttempts) > r.scenario.Behavior.PayRetries {
			r.finish(v, OutcomeGaveUp)
			return 0, true
		}
		return r.now() + r.scenario.Behavior.ThinkTime, false
	case expired:
		r.finish(v, OutcomeHoldExpired)
		return 0, true
	case !res.ok():
		return r.retry(v, res)
	}

	v.failures = 0
	v.orderID = order.OrderID
	if order.State == orderNeedsRefund {
		r.finish(v, OutcomeNeedsRefund)
		return 0, true
	}
	v.phase = phaseOrder
	return r.now() + r.scenario.Behavior.ThinkTime, false
}

func (r *runner) readOrder(ctx context.Context, v *visitor) (time.Duration, bool) {
	var order orderBody
	res := r.client.do(ctx, request{method: http.MethodGet, url: r.urls[v.target].base + "/api/v1/orders/" + v.orderID, jar: &v.jar, out: &order})
	if ctx.Err() != nil {
		return 0, false
	}
	r.stats.observe(opOrder, res, false)
	if !res.ok() {
		return r.retry(v, res)
	}
	v.tickets = int32(order.ticketCount())
	if order.State == orderNeedsRefund {
		r.finish(v, OutcomeNeedsRefund)
		return 0, true
	}
	r.finish(v, OutcomeBooked)
	return 0, true
}

// retry counts a failed request and schedules the step again after a
// backoff that doubles from one second up to 64 seconds, or after the
// Retry-After header if that is longer. A failure that cannot succeed on
// retry, or one too many in a row, ends the visitor as failed.
func (r *runner) retry(v *visitor, res response) (time.Duration, bool) {
	v.failures++
	if !res.retryable() || int(v.failures) > r.scenario.Engine.MaxRetries {
		r.finish(v, OutcomeFailed)
		return 0, true
	}
	backoff := time.Second << min(v.failures-1, 6)
	return r.now() + max(backoff, res.retryAfter), false
}

// finish ends the visitor with outcome and frees what it no longer needs.
func (r *runner) finish(v *visitor, outcome Outcome) {
	switch v.phase {
	case phaseWait:
		r.stats.waiting.Add(-1)
		if v.inPrequeue {
			v.inPrequeue = false
			r.stats.prequeue.Add(-1)
		}
	case phaseSlots, phaseHold, phasePay, phaseOrder:
		r.stats.booking.Add(-1)
	}
	v.phase = phaseDone
	v.outcome = outcome
	v.jar = nil
	v.token = ""
	r.stats.outcomes[outcome].Add(1)
	r.remaining.Add(-1)
}

// payKey is the idempotency key of one payment attempt, the same when a
// request of that attempt is retried.
func payKey(index int32, attempt uint8) string {
	return "lt-" + strconv.Itoa(int(index)) + "-" + strconv.Itoa(int(attempt))
}

// mix hashes its inputs with SplitMix64, for per-visitor choices that
// follow from the seed without a random source per visitor.
func mix(values ...uint64) uint64 {
	var h uint64
	for _, v := range values {
		h ^= v + 0x9e3779b97f4a7c15 + (h << 6) + (h >> 2)
		h ^= h >> 30
		h *= 0xbf58476d1ce4e5b9
		h ^= h >> 27
		h *= 0x94d049bb133111eb
		h ^= h >> 31
	}
	return h
}
