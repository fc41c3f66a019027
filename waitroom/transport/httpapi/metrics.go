package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/transport/middleware"
)

// Metrics is waitroom's private Prometheus registry (nothing registers into
// the global one, so tests and embedders get clean, predictable output).
type Metrics struct {
	Registry     *prometheus.Registry
	requests     *prometheus.CounterVec
	duration     *prometheus.HistogramVec
	storeErrors  *prometheus.CounterVec
	enqueueBatch prometheus.Histogram
	roomsOnce    sync.Once
}

// NewMetrics builds the registry with the HTTP, store and runtime metrics.
// Per-room gauges are added by New, which knows the service.
func NewMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "waitroom_http_requests_total",
			Help: "HTTP requests answered, by listener, route template, method and status.",
		}, []string{"listener", "route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "waitroom_http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by listener, route template, method and status.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"listener", "route", "method", "status"}),
		storeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "waitroom_store_errors_total",
			Help: "Failures of the backing stores seen by requests and the metrics collector, by error code (unavailable, internal).",
		}, []string{"code"}),
		enqueueBatch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "waitroom_enqueue_batch_size",
			Help:    "Tickets committed together by one group commit of the store.",
			Buckets: []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000},
		}),
	}
	m.Registry.MustRegister(m.requests, m.duration, m.storeErrors, m.enqueueBatch,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// ObserveEnqueueBatch records the size of one group commit. Backends that
// batch enqueues take it as a callback.
func (m *Metrics) ObserveEnqueueBatch(n int) { m.enqueueBatch.Observe(float64(n)) }

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

func (m *Metrics) observe(listener string) func(middleware.Observation) {
	return func(o middleware.Observation) {
		if o.Status >= 500 && o.Status != http.StatusNotImplemented && o.ErrorCode != "" {
			m.storeErrors.WithLabelValues(o.ErrorCode).Inc()
		}
		status := strconv.Itoa(o.Status)
		m.requests.WithLabelValues(listener, o.Route, o.Method, status).Inc()
		m.duration.WithLabelValues(listener, o.Route, o.Method, status).Observe(o.Duration.Seconds())
	}
}

// addRooms registers the per-room gauges once.
func (m *Metrics) addRooms(svc Service, logger *slog.Logger) {
	m.roomsOnce.Do(func() {
		m.Registry.MustRegister(&roomCollector{svc: svc, storeErrors: m.storeErrors, logger: logger})
	})
}

var (
	roomQueueDesc   = prometheus.NewDesc("waitroom_room_queue", "Positions handed out in the room since its last reset.", []string{"room"}, nil)
	roomServingDesc = prometheus.NewDesc("waitroom_room_serving", "The room's serving counter.", []string{"room"}, nil)
	roomWaitingDesc = prometheus.NewDesc("waitroom_room_waiting", "Visitors waiting: queue - tokens issued - expired positions.", []string{"room"}, nil)
	roomActiveDesc  = prometheus.NewDesc("waitroom_room_active_tokens", "Admission tokens not expired whose session is still active.", []string{"room"}, nil)
)

// roomCollector reads the room gauges at scrape time, so they are exact
// and cost nothing between scrapes (every read is O(1) or O(log n)).
type roomCollector struct {
	svc         Service
	storeErrors *prometheus.CounterVec
	logger      *slog.Logger
}

// scrapeTimeout bounds a scrape when a store hangs.
const scrapeTimeout = 5 * time.Second

func (c *roomCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- roomQueueDesc
	ch <- roomServingDesc
	ch <- roomWaitingDesc
	ch <- roomActiveDesc
}

func (c *roomCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	rooms, err := c.svc.Rooms(ctx)
	if err != nil {
		c.failed(err)
		return
	}
	for _, room := range rooms {
		c.collectRoom(ctx, ch, room.ID)
	}
}

func (c *roomCollector) collectRoom(ctx context.Context, ch chan<- prometheus.Metric, id string) {
	counters, err := c.svc.Counters(ctx, id)
	if err != nil {
		c.failed(err)
		return
	}
	active, err := c.svc.ActiveTokens(ctx, id)
	if err != nil {
		c.failed(err)
		return
	}
	gauge := func(d *prometheus.Desc, v int64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), id)
	}
	gauge(roomQueueDesc, counters.Queue)
	gauge(roomServingDesc, counters.Serving)
	gauge(roomWaitingDesc, counters.Waiting())
	gauge(roomActiveDesc, active)
}

func (c *roomCollector) failed(err error) {
	code := waitroom.ErrorCode(err)
	if code == waitroom.CodeNotFound {
		return // a room deleted during the scrape
	}
	c.storeErrors.WithLabelValues(string(code)).Inc()
	c.logger.Warn("metrics: reading room counters failed", "err", err)
}
