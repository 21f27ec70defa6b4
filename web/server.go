// Package web is Foyer's HTTP edge: the visitor pages, the JSON API, the
// admin API, metrics and health checks, on Fiber. No other package imports
// Fiber.
package web

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/filesystem"

	"foyer/booking"
	"foyer/waitroom"
	"foyer/web/views"
)

// Options configure a Server.
type Options struct {
	Edge *waitroom.Edge
	// AdminToken is the bearer token of the admin API; empty disables it.
	AdminToken string
	Log        *slog.Logger
	// Metrics receives the server's series and is served at /metrics.
	Metrics *Metrics
	// SecureCookies marks cookies Secure; set it when Foyer is served over
	// HTTPS, directly or behind a proxy.
	SecureCookies bool
	// JoinsPerMinutePerIP limits new places per client address; 0 turns
	// the limit off.
	JoinsPerMinutePerIP float64
	// ProxyHeader names the header with the client address when Foyer runs
	// behind a reverse proxy, for example X-Real-IP.
	ProxyHeader string
	// TrustedProxies are the addresses or CIDR ranges of the proxies whose
	// ProxyHeader is believed; other clients are known by the address they
	// connect from. Empty believes the header from every client.
	TrustedProxies []string
	// Ready reports whether the stores can be reached, for /readyz.
	Ready func(ctx context.Context) error
	// Booking serves the booking pages under /e/{event} and the booking
	// API. Its Releaser should be the waiting room's store, so that a
	// confirmed or expired hold frees the visitor's active place. Nil
	// serves only the booking entry page, which checks the admission token.
	Booking *booking.Service
	// Rehearsal is the booking store's rehearsal throttle when the edge
	// runs a rehearsal. The admin API then reads and changes its limits at
	// /api/v1/admin/rehearsal. With nil, that path returns 404.
	Rehearsal *booking.RehearsalStore
	// AdminAccounts are the organizer console's accounts under /admin:
	// username to bcrypt hash of the password. Usernames must pass
	// ValidUsername. Empty turns the console off.
	AdminAccounts map[string][]byte
}

// Server is one edge's HTTP server.
type Server struct {
	app      *fiber.App
	edge     *waitroom.Edge
	opts     Options
	log      *slog.Logger
	metrics  *Metrics
	joins    *ipLimiter
	events   eventCache
	draining atomic.Bool

	// auth and history serve the organizer console.
	auth    *consoleAuth
	history *roomHistory
	live    liveCache
	// stopped is closed by Drain. It ends the console's live streams and
	// the history sampler.
	stopped  chan struct{}
	stopOnce sync.Once
}

// New builds the server and its routes.
func New(opts Options) *Server {
	s := &Server{edge: opts.Edge, opts: opts, log: opts.Log, stopped: make(chan struct{})}
	s.metrics = opts.Metrics
	if s.metrics == nil {
		s.metrics = NewMetrics()
	}
	if opts.JoinsPerMinutePerIP > 0 {
		s.joins = newIPLimiter(opts.JoinsPerMinutePerIP)
	}
	if opts.Booking != nil && opts.Booking.Releaser == nil {
		s.log.Warn("booking has no releaser: confirmed and expired holds will not free the visitor's active place in the waiting room before the session ends")
	}

	s.app = fiber.New(fiber.Config{
		AppName:                 "foyer",
		DisableStartupMessage:   true,
		ErrorHandler:            s.handleError,
		BodyLimit:               64 << 10,
		ReadBufferSize:          8 << 10,
		ReadTimeout:             15 * time.Second,
		WriteTimeout:            15 * time.Second,
		IdleTimeout:             75 * time.Second,
		ProxyHeader:             opts.ProxyHeader,
		EnableTrustedProxyCheck: len(opts.TrustedProxies) > 0,
		TrustedProxies:          opts.TrustedProxies,
	})
	s.history = newRoomHistory()
	if s.consoleEnabled() {
		s.auth = newConsoleAuth(opts.AdminAccounts)
		go s.sampleHistory()
	}
	s.routes()
	return s
}

// App returns the Fiber app, for Listen, Listener and Test.
func (s *Server) App() *fiber.App { return s.app }

// Drain makes the server refuse new joins, fail readiness and end the
// console's live streams, the first step of a graceful shutdown. A browser
// whose stream ended reconnects by itself, to another edge once this one
// has stopped.
func (s *Server) Drain() {
	s.draining.Store(true)
	s.stopOnce.Do(func() { close(s.stopped) })
}

// Shutdown drains the server and waits at most timeout for requests in
// flight to finish.
func (s *Server) Shutdown(timeout time.Duration) error {
	s.Drain()
	return s.app.ShutdownWithTimeout(timeout)
}

func (s *Server) routes() {
	app := s.app
	app.Use(s.metrics.middleware)

	static, _ := fs.Sub(staticFiles, "static")
	app.Use("/static", filesystem.New(filesystem.Config{Root: http.FS(static), MaxAge: 3600}))

	app.Get("/healthz", func(c *fiber.Ctx) error { return c.SendString("ok\n") })
	app.Get("/readyz", s.readyz)
	app.Get("/metrics", s.metrics.handler())
	app.Get("/.well-known/jwks.json", s.jwks)

	app.Get("/", s.homePage)
	app.Get("/r/:room", s.joinPage)
	app.Get("/r/:room/wait", s.waitPage)
	app.Get("/e/:event", s.entryPage)

	api := app.Group("/api/v1")
	api.Post("/rooms/:room/join", s.joinAPI)
	api.Get("/rooms/:room/status", s.statusAPI)

	admin := api.Group("/admin", s.requireAdmin)
	admin.Get("/rooms", s.adminListRooms)
	admin.Post("/rooms", s.adminCreateRoom)
	admin.Get("/rooms/:room", s.adminGetRoom)
	admin.Patch("/rooms/:room", s.adminPatchRoom)
	admin.Post("/rooms/:room/reset", s.adminResetRoom)
	admin.Get("/rooms/:room/admissions", s.adminAdmissions)
	admin.Get("/rooms/:room/decisions", s.adminDecisions)
	admin.Get("/rehearsal", s.adminGetRehearsal)
	admin.Put("/rehearsal", s.adminPutRehearsal)

	if s.opts.Booking != nil {
		s.bookingRoutes(app, api, admin)
	}
	s.consoleRoutes(app)
}

// bookingRoutes adds the booking pages, the booking API and its admin part.
func (s *Server) bookingRoutes(app fiber.Router, api fiber.Router, admin fiber.Router) {
	app.Get("/e/:event/slots", s.slotsPage)
	app.Post("/e/:event/holds", s.holdForm)
	app.Get("/e/:event/checkout/:hold", s.checkoutPage)
	app.Post("/e/:event/checkout/:hold/pay", s.payForm)
	app.Post("/e/:event/checkout/:hold/release", s.releaseForm)
	app.Post("/e/:event/checkout/:hold/extend", s.extendForm)
	// A reload of the page a form post returned asks for the form's path
	// with GET: send it back to the checkout page instead of a 405.
	for _, action := range []string{"pay", "release", "extend"} {
		app.Get("/e/:event/checkout/:hold/"+action, s.backToCheckout)
	}
	app.Get("/e/:event/orders/:order", s.orderPage)

	api.Get("/events/:event/slots", s.slotsAPI)
	api.Post("/events/:event/holds", s.holdAPI)
	api.Get("/holds/:hold", s.getHoldAPI)
	api.Post("/holds/:hold/pay", s.payAPI)
	api.Post("/holds/:hold/extend", s.extendHoldAPI)
	api.Post("/payments/webhook", s.webhookAPI)
	api.Get("/orders/:order", s.orderAPI)

	admin.Post("/events", s.adminCreateEvent)
	admin.Get("/events/:event", s.adminGetEvent)
	admin.Get("/events/:event/orders", s.adminListOrders)
	admin.Patch("/events/:event/slots/:slot", s.adminPatchSlot)
	admin.Post("/orders/:order/cancel", s.adminCancelOrder)
}

// handleError answers every error a handler returns: JSON under /api/ and
// an HTML page elsewhere.
func (s *Server) handleError(c *fiber.Ctx, err error) error {
	api := classify(s.log, err)
	if message, ok := adminMessages[api.Code]; ok && strings.HasPrefix(c.Path(), "/api/v1/admin/") {
		// The shared messages speak to visitors who followed a link.
		admin := *api
		admin.Message = message
		api = &admin
	}
	if api.RetryAfter > 0 {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(api.RetryAfter))
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	if wantsJSON(c) {
		return c.Status(api.Status).JSON(fiber.Map{"error": api})
	}
	page := views.Message{Title: pageTitle(api), Text: api.Message}
	if api.RetryAfter > 0 {
		page.RefreshSeconds = api.RetryAfter
	}
	return render(c, api.Status, views.MessagePage(page))
}

// adminMessages replace, under /api/v1/admin/, the messages of the error
// codes whose shared text speaks to visitors.
var adminMessages = map[string]string{
	"room_not_found": "No room has this id. List the rooms with GET /api/v1/admin/rooms, or create it with POST /api/v1/admin/rooms.",
	"unknown_event":  "No event has this id. Check the id, or create the event with POST /api/v1/admin/events.",
}

// pageTitle chooses the heading of an error page: by code for the outcomes
// a visitor meets in normal use, by status otherwise.
func pageTitle(api *apiError) string {
	switch api.Code {
	case "sold_out":
		return "Sold out"
	case "room_closed":
		return "This waiting room is closed"
	case "hold_expired":
		return "Your hold expired"
	}
	status := api.Status
	switch {
	case status == http.StatusNotFound:
		return "Not found"
	case status == http.StatusServiceUnavailable:
		return "Please try again shortly"
	case status == http.StatusTooManyRequests:
		return "Too many requests"
	case status >= 500:
		return "Something went wrong"
	}
	return "We could not do that"
}

func wantsJSON(c *fiber.Ctx) bool {
	return strings.HasPrefix(c.Path(), "/api/") || strings.HasPrefix(c.Path(), "/.well-known/")
}

func render(c *fiber.Ctx, status int, component templ.Component) error {
	c.Status(status)
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return component.Render(c.UserContext(), c.Response().BodyWriter())
}

// homePage answers the server's root, where a visitor who typed only the
// host lands: rooms are reached by the links organizers share, so it lists
// none.
func (s *Server) homePage(c *fiber.Ctx) error {
	return render(c, http.StatusOK, views.MessagePage(views.Message{
		Title: "Foyer waiting room",
		Text:  "This server runs the waiting rooms for ticket sales. Follow the link to the sale you want from the organizer's website or message.",
	}))
}

func (s *Server) readyz(c *fiber.Ctx) error {
	if s.draining.Load() {
		return c.Status(http.StatusServiceUnavailable).SendString("draining\n")
	}
	if s.opts.Ready != nil {
		ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
		defer cancel()
		if err := s.opts.Ready(ctx); err != nil {
			s.log.Warn("readiness check failed", "err", err)
			return c.Status(http.StatusServiceUnavailable).SendString("store unreachable\n")
		}
	}
	return c.SendString("ready\n")
}

func (s *Server) jwks(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	return c.JSON(waitroom.JWKS(s.edge.Keys().Signing))
}

// roomParam returns a copy of the :room parameter, or an error when it is not
// a valid room id. Fiber reuses the parameter's buffer after the handler
// returns, and room ids outlive requests as cache keys, hence the copy.
func roomParam(c *fiber.Ctx) (string, error) {
	room := c.Params("room")
	if !waitroom.ValidRoomID(room) {
		return "", newError(http.StatusBadRequest, "invalid_room_id", "The room id in the path is invalid: use 1 to 63 lowercase letters, digits and hyphens.")
	}
	return strings.Clone(room), nil
}

// isUnavailable reports whether err means the store could not be reached.
func isUnavailable(err error) bool { return errors.Is(err, waitroom.ErrUnavailable) }

// bearerToken returns the credentials of an "Authorization: Bearer ..."
// header. The scheme name is matched without regard to case, as RFC 7235
// section 2.1 requires. ok is false when the header is missing or uses
// another scheme.
func bearerToken(c *fiber.Ctx) (token string, ok bool) {
	header := c.Get(fiber.HeaderAuthorization)
	if len(header) < len("Bearer ") || !strings.EqualFold(header[:len("Bearer ")], "Bearer ") {
		return "", false
	}
	return header[len("Bearer "):], true
}
