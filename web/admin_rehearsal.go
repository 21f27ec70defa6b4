package web

import (
	"fmt"
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"

	"foyer/booking"
)

// rehearsalJSON is the rehearsal throttle in the admin API. The service
// time is in milliseconds, because rehearsal service times are fractions
// of a second.
type rehearsalJSON struct {
	Concurrency   int     `json:"concurrency"`
	ServiceTimeMS float64 `json:"service_time_ms"`
	// MaxWaitMS is the longest a call waits for a place before it fails
	// as unavailable; 0 waits until the request's deadline.
	MaxWaitMS float64 `json:"max_wait_ms"`
	// CallsPerSecond and BookingsPerSecond are the capacity these limits
	// give, 0 when either limit is off. A booking is one hold and one
	// confirmation.
	CallsPerSecond    float64 `json:"calls_per_second"`
	BookingsPerSecond float64 `json:"bookings_per_second"`
}

// rehearsalChangeJSON is the body of PUT /api/v1/admin/rehearsal.
type rehearsalChangeJSON struct {
	Concurrency   *int     `json:"concurrency"`
	ServiceTimeMS *float64 `json:"service_time_ms"`
	MaxWaitMS     *float64 `json:"max_wait_ms"`
}

// maxRehearsalServiceTime bounds the service time a rehearsal may add and
// the longest wait for a place.
const maxRehearsalServiceTime = time.Minute

func rehearsalBody(l booking.RehearsalLimits) rehearsalJSON {
	return rehearsalJSON{
		Concurrency:       l.Concurrency,
		ServiceTimeMS:     float64(l.ServiceTime) / float64(time.Millisecond),
		MaxWaitMS:         float64(l.MaxWait) / float64(time.Millisecond),
		CallsPerSecond:    l.CallsPerSecond(),
		BookingsPerSecond: l.BookingsPerSecond(),
	}
}

// rehearsalStore returns the edge's rehearsal throttle, or a 404 whose
// message explains how to turn it on.
func (s *Server) rehearsalStore() (*booking.RehearsalStore, error) {
	if s.opts.Rehearsal == nil {
		return nil, newError(http.StatusNotFound, "no_rehearsal",
			"This edge is not running a rehearsal: start it with --rehearsal-concurrency or --rehearsal-service-time to give the booking core a known capacity.")
	}
	return s.opts.Rehearsal, nil
}

// adminGetRehearsal handles GET /api/v1/admin/rehearsal: the booking
// core's rehearsal limits on this edge and the capacity they give.
func (s *Server) adminGetRehearsal(c *fiber.Ctx) error {
	r, err := s.rehearsalStore()
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(rehearsalBody(r.Limits()))
}

// adminPutRehearsal handles PUT /api/v1/admin/rehearsal. It changes the
// limits of this edge only: a rehearsal over several edges sends it to
// each. Fields left out keep their value.
func (s *Server) adminPutRehearsal(c *fiber.Ctx) error {
	r, err := s.rehearsalStore()
	if err != nil {
		return err
	}
	var body rehearsalChangeJSON
	if err := decodeStrict(c.Body(), &body); err != nil {
		return err
	}
	limits := r.Limits()
	if body.Concurrency != nil {
		if *body.Concurrency < 0 || *body.Concurrency > 100_000 {
			return newError(http.StatusBadRequest, "invalid_request",
				fmt.Sprintf("concurrency %d is invalid: use 0 (no limit) to 100000.", *body.Concurrency))
		}
		limits.Concurrency = *body.Concurrency
	}
	if body.ServiceTimeMS != nil {
		ms := *body.ServiceTimeMS
		if !(ms >= 0 && ms <= float64(maxRehearsalServiceTime/time.Millisecond)) {
			return newError(http.StatusBadRequest, "invalid_request",
				fmt.Sprintf("service_time_ms %v is invalid: use 0 (no delay) to %d.", ms, maxRehearsalServiceTime/time.Millisecond))
		}
		limits.ServiceTime = time.Duration(ms * float64(time.Millisecond))
	}
	if body.MaxWaitMS != nil {
		ms := *body.MaxWaitMS
		if !(ms >= 0 && ms <= float64(maxRehearsalServiceTime/time.Millisecond)) {
			return newError(http.StatusBadRequest, "invalid_request",
				fmt.Sprintf("max_wait_ms %v is invalid: use 0 (until the request's deadline) to %d.", ms, maxRehearsalServiceTime/time.Millisecond))
		}
		limits.MaxWait = time.Duration(ms * float64(time.Millisecond))
	}
	r.SetLimits(limits)
	s.log.Warn("rehearsal limits changed", "by", apiActor(c), "concurrency", limits.Concurrency,
		"service_time", limits.ServiceTime.String(), "max_wait", limits.MaxWait.String(), "calls_per_second", limits.CallsPerSecond())

	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(rehearsalBody(limits))
}
