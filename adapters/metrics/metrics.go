// Package metrics is the Prometheus adapter: the server's metrics in the
// text exposition format at /metrics, following blackbox_exporter's
// conventions for what a probe found (…_up as 0 or 1, durations in
// seconds, expiries as Unix timestamps) and the Prometheus naming rules
// for the server's own health (base units, _total counters).
//
// Two kinds of series: what the read models hold (monitors, read-model
// lag, the notification outbox) is read at scrape time, so every replica
// reports the same and nothing is kept in memory; what this process did
// (requests served, checks recorded, probe scheduling, notifications
// sent) is counted as it happens, per process, as Prometheus expects of
// counters.
package metrics

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

	"github.com/medialuna/medialuna/projections"
)

// DefaultMaxMonitors bounds the per-monitor series a scrape returns.
const DefaultMaxMonitors = 10000

// Source is what a scrape reads from the read models.
type Source interface {
	MonitorGauges(ctx context.Context, limit int) ([]projections.MonitorGauge, bool, error)
	ProjectorStatuses(ctx context.Context, names []string) ([]projections.ProjectorStatus, error)
	OutboxDepth(ctx context.Context) (int64, error)
}

// Config sets what the registry exposes.
type Config struct {
	// Projectors are the read models and consumers whose lag is reported.
	Projectors []string
	// MaxMonitors bounds the per-monitor series (0: DefaultMaxMonitors;
	// negative: none). Each monitor gives at most 4 series (info, paused,
	// response time, certificate expiry) plus 2 per region (up, last
	// check); past the bound, the lowest ids are reported and
	// medialuna_monitors_unreported is 1 (it is no count).
	MaxMonitors int
	// ScrapeTimeout bounds the read-model queries of one scrape.
	ScrapeTimeout time.Duration
	Log           *slog.Logger
}

// Registry holds the server's metrics.
type Registry struct {
	reg *prometheus.Registry

	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	checks       *prometheus.CounterVec
	sent         *prometheus.CounterVec

	probeDue, probeRun, probeSkipped, probeCancelled, probeDropped, probeRecorded *prometheus.CounterVec
	probeInFlight                                                                 *prometheus.GaugeVec
	probeLateness                                                                 *prometheus.HistogramVec
	// probeLast is each region's last cumulative report, so the counters
	// grow by the difference.
	models    *readModels
	probeMu   sync.Mutex
	probeLast map[string]ProbeStats
}

// New returns a registry with the Go runtime's and the process's metrics,
// the counters this process keeps, and a collector over src.
func New(src Source, cfg Config) *Registry {
	if cfg.MaxMonitors == 0 {
		cfg.MaxMonitors = DefaultMaxMonitors
	}
	if cfg.ScrapeTimeout <= 0 {
		cfg.ScrapeTimeout = 10 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	r := &Registry{reg: prometheus.NewRegistry(), probeLast: map[string]ProbeStats{}, models: &readModels{src: src, cfg: cfg}}
	r.httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "medialuna_http_requests_total",
		Help: "HTTP requests served, by route pattern, method and status code."}, []string{"route", "method", "code"})
	r.httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "medialuna_http_request_duration_seconds",
		Help:    "Time to serve an HTTP request, by route pattern and method (long-lived event streams included).",
		Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}}, []string{"route", "method"})
	r.checks = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "medialuna_check_results_total",
		Help: "Check results this process handed to the log, by region id and result (up, down); a batch a probe sent again after a lost reply counts again, though the log records it once."}, []string{"region_id", "result"})
	r.sent = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "medialuna_notifications_sent_total",
		Help: "Notification delivery attempts this process made, by channel type and outcome (delivered, failed)."}, []string{"channel_type", "outcome"})
	probeCounter := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: "medialuna_probe_" + name, Help: help}, []string{"region"})
	}
	r.probeDue = probeCounter("checks_due_total", "Checks the embedded probe found due, by region.")
	r.probeRun = probeCounter("checks_run_total", "Checks the embedded probe ran to an outcome, by region.")
	r.probeSkipped = probeCounter("checks_skipped_busy_total", "Due checks skipped because the monitor's previous check had not finished.")
	r.probeCancelled = probeCounter("checks_cancelled_total", "Checks stopped in flight because their monitor was paused, deleted or changed.")
	r.probeDropped = probeCounter("results_dropped_total", "Results dropped because too many were held unrecorded (a lost check).")
	r.probeRecorded = probeCounter("results_recorded_total", "Results the embedded probe handed to the log.")
	r.probeInFlight = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "medialuna_probe_checks_in_flight",
		Help: "Checks running now, by region."}, []string{"region"})
	r.probeLateness = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "medialuna_probe_check_start_lateness_seconds",
		Help:    "How late after its scheduled time each check started; above 1 s a check is late.",
		Buckets: []float64{.001, .005, .01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}}, []string{"region"})
	r.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		r.httpRequests, r.httpDuration, r.checks, r.sent,
		r.probeDue, r.probeRun, r.probeSkipped, r.probeCancelled, r.probeDropped, r.probeRecorded, r.probeInFlight, r.probeLateness,
		r.models)
	return r
}

// Handler serves the metrics in the Prometheus text format.
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// ObserveRequest counts one HTTP request. route is the route's pattern
// (never the path itself, which would make a series per id).
func (r *Registry) ObserveRequest(route, method string, status int, took time.Duration) {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
	default:
		method = "other" // a client's invented method is not a new series
	}
	r.httpRequests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	r.httpDuration.WithLabelValues(route, method).Observe(took.Seconds())
}

// ChecksRecorded counts results appended for a region.
func (r *Registry) ChecksRecorded(regionID int64, up, down int) {
	region := strconv.FormatInt(regionID, 10)
	r.checks.WithLabelValues(region, "up").Add(float64(up))
	r.checks.WithLabelValues(region, "down").Add(float64(down))
}

// NotificationSent counts one delivery attempt.
func (r *Registry) NotificationSent(channelType string, err error) {
	outcome := "delivered"
	if err != nil {
		outcome = "failed"
	}
	r.sent.WithLabelValues(channelType, outcome).Inc()
}

// ProbeStats is a probe agent's cumulative report (the probe agent's
// Stats, converted by whoever wires the two).
type ProbeStats struct {
	Due, Run, SkippedBusy, Cancelled, Dropped, Recorded, InFlight int64
	// Lateness holds how late each check since the previous report started.
	Lateness []time.Duration
}

// ProbeReport takes a probe agent's report.
func (r *Registry) ProbeReport(region string, st ProbeStats) {
	r.probeMu.Lock()
	defer r.probeMu.Unlock()
	last := r.probeLast[region]
	add := func(c *prometheus.CounterVec, now, before int64) {
		if now > before {
			c.WithLabelValues(region).Add(float64(now - before))
		}
	}
	add(r.probeDue, st.Due, last.Due)
	add(r.probeRun, st.Run, last.Run)
	add(r.probeSkipped, st.SkippedBusy, last.SkippedBusy)
	add(r.probeCancelled, st.Cancelled, last.Cancelled)
	add(r.probeDropped, st.Dropped, last.Dropped)
	add(r.probeRecorded, st.Recorded, last.Recorded)
	r.probeInFlight.WithLabelValues(region).Set(float64(st.InFlight))
	h := r.probeLateness.WithLabelValues(region)
	for _, l := range st.Lateness {
		h.Observe(l.Seconds())
	}
	st.Lateness = nil
	r.probeLast[region] = st
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// SetProjectors names the read models and consumers whose lag a scrape
// reports; the server knows them once its workers start.
func (r *Registry) SetProjectors(names []string) {
	r.models.mu.Lock()
	defer r.models.mu.Unlock()
	r.models.cfg.Projectors = append([]string(nil), names...)
}
