package web

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"foyer/waitroom"
)

// Metrics are the edge's Prometheus series. Labels are bounded: room ids,
// routes, results and status codes, never visitor, ticket or order ids.
type Metrics struct {
	registry *prometheus.Registry

	requests       *prometheus.CounterVec
	requestSeconds *prometheus.HistogramVec
	joins          *prometheus.CounterVec
	ticks          *prometheus.CounterVec
	tickSeconds    *prometheus.HistogramVec
	admitted       *prometheus.CounterVec
	skipped        *prometheus.CounterVec
	decisions      *prometheus.CounterVec
	controlledRate *prometheus.GaugeVec
}

// NewMetrics registers the edge's series, and the Go and process collectors,
// on a new registry.
func NewMetrics() *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	m := &Metrics{
		registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "foyer_http_requests_total",
			Help: "HTTP requests answered, by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		requestSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "foyer_http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by route pattern.",
			Buckets: []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5},
		}, []string{"route"}),
		joins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "foyer_joins_total",
			Help: "Joins answered, by room and the visitor's resulting state.",
		}, []string{"room", "state"}),
		ticks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "foyer_admission_ticks_total",
			Help: "Admission steps run by this edge, by room and result (ok or error).",
		}, []string{"room", "result"}),
		tickSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "foyer_admission_tick_duration_seconds",
			Help:    "Time of one admission step, store round trip included.",
			Buckets: []float64{0.0002, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5},
		}, []string{"room"}),
		admitted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "foyer_admitted_total",
			Help: "Visitors admitted by this edge's admission steps.",
		}, []string{"room"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "foyer_skipped_abandoned_total",
			Help: "Visitors skipped as abandoned by this edge's admission steps.",
		}, []string{"room"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "foyer_controller_decisions_total",
			Help: "Admission controller decisions this edge made and applied, by room and reason. Sum over edges for the fleet.",
		}, []string{"room", "reason"}),
		controlledRate: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "foyer_controller_rate_per_minute",
			Help: "Admission rate, visitors per minute, of the last controller decision this edge applied; 0 while admission is stopped for lack of places.",
		}, []string{"room"}),
	}
	reg.MustRegister(m.requests, m.requestSeconds, m.joins, m.ticks, m.tickSeconds, m.admitted, m.skipped, m.decisions, m.controlledRate)
	return m
}

// Registry returns the registry the series are on, for other packages'
// collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }

// ObserveTick implements waitroom.TickObserver.
func (m *Metrics) ObserveTick(room string, res waitroom.AdmitResult, err error, took time.Duration) {
	if err != nil {
		m.ticks.WithLabelValues(room, "error").Inc()
		return
	}
	m.ticks.WithLabelValues(room, "ok").Inc()
	m.tickSeconds.WithLabelValues(room).Observe(took.Seconds())
	if n := len(res.Admitted); n > 0 {
		m.admitted.WithLabelValues(room).Add(float64(n))
	}
	if res.Skipped > 0 {
		m.skipped.WithLabelValues(room).Add(float64(res.Skipped))
	}
}

// ObserveDecision implements waitroom.DecisionObserver. Reasons are the
// fixed set of waitroom.Reason values, so the label stays bounded.
func (m *Metrics) ObserveDecision(room string, d waitroom.Decision) {
	m.decisions.WithLabelValues(room, string(d.Reason)).Inc()
	m.controlledRate.WithLabelValues(room).Set(d.NewRatePerMinute)
}

// WatchEdge exports the edge's room snapshots as gauges. It reads only the
// edge's cache, so a scrape costs no store round trip.
func (m *Metrics) WatchEdge(e *waitroom.Edge) {
	m.registry.MustRegister(&roomCollector{edge: e})
}

func (m *Metrics) handler() fiber.Handler {
	return adaptor.HTTPHandler(promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{}))
}

func (m *Metrics) middleware(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	route := "unmatched"
	if r := c.Route(); r != nil && r.Path != "/" {
		route = r.Path
	}
	code := c.Response().StatusCode()
	if err != nil {
		// The error handler has not run yet; count by the status it will send.
		code = classifyStatus(err)
	}
	m.requests.WithLabelValues(route, methodLabel(c.Method()), strconv.Itoa(code)).Inc()
	m.requestSeconds.WithLabelValues(route).Observe(time.Since(start).Seconds())
	return err
}

// methodLabel returns the method as a constant string. Fiber's c.Method()
// points into a buffer that later requests overwrite, so it must not be kept
// as a label value; any method outside the standard ones counts as "other",
// which also keeps the label bounded.
func methodLabel(method string) string {
	switch method {
	case fiber.MethodGet:
		return fiber.MethodGet
	case fiber.MethodHead:
		return fiber.MethodHead
	case fiber.MethodPost:
		return fiber.MethodPost
	case fiber.MethodPut:
		return fiber.MethodPut
	case fiber.MethodPatch:
		return fiber.MethodPatch
	case fiber.MethodDelete:
		return fiber.MethodDelete
	case fiber.MethodOptions:
		return fiber.MethodOptions
	}
	return "other"
}

func classifyStatus(err error) int {
	if api, ok := lookupError(err); ok {
		return api.Status
	}
	return 500
}

var (
	descWaiting  = prometheus.NewDesc("foyer_room_waiting", "Visitors in line with a sequence number, as of this edge's last snapshot.", []string{"room"}, nil)
	descPrequeue = prometheus.NewDesc("foyer_room_prequeue", "Visitors in the pre-queue, as of this edge's last snapshot.", []string{"room"}, nil)
	descActive   = prometheus.NewDesc("foyer_room_active", "Admitted visitors inside their window or session.", []string{"room"}, nil)
	descRate     = prometheus.NewDesc("foyer_room_rate_per_minute", "The room's admission rate setting, visitors per minute.", []string{"room"}, nil)
	descPaused   = prometheus.NewDesc("foyer_room_paused", "1 when the room's admission is paused.", []string{"room"}, nil)
	descAdmAll   = prometheus.NewDesc("foyer_room_admitted", "Admissions since the room was created or reset, fleet-wide.", []string{"room"}, nil)
	descAbandon  = prometheus.NewDesc("foyer_room_abandoned", "Visitors skipped as abandoned since the room was created or reset, fleet-wide.", []string{"room"}, nil)
)

type roomCollector struct{ edge *waitroom.Edge }

func (rc *roomCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descWaiting, descPrequeue, descActive, descRate, descPaused, descAdmAll, descAbandon} {
		ch <- d
	}
}

func (rc *roomCollector) Collect(ch chan<- prometheus.Metric) {
	for room, snap := range rc.edge.Snapshots() {
		paused := 0.0
		if snap.Settings.Paused {
			paused = 1
		}
		ch <- prometheus.MustNewConstMetric(descWaiting, prometheus.GaugeValue, float64(snap.Waiting), room)
		ch <- prometheus.MustNewConstMetric(descPrequeue, prometheus.GaugeValue, float64(snap.Prequeue), room)
		ch <- prometheus.MustNewConstMetric(descActive, prometheus.GaugeValue, float64(snap.Active), room)
		ch <- prometheus.MustNewConstMetric(descRate, prometheus.GaugeValue, snap.Settings.RatePerMinute, room)
		ch <- prometheus.MustNewConstMetric(descPaused, prometheus.GaugeValue, paused, room)
		ch <- prometheus.MustNewConstMetric(descAdmAll, prometheus.GaugeValue, float64(snap.Admitted), room)
		ch <- prometheus.MustNewConstMetric(descAbandon, prometheus.GaugeValue, float64(snap.Abandoned), room)
	}
}
