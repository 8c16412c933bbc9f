package metrics

import (
	"context"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// readModels reads, at each scrape, the monitors' latest results, each
// read model's lag and the notification outbox. It is an unchecked
// collector (Describe sends nothing): its series follow the data.
type readModels struct {
	src Source
	mu  sync.Mutex // guards cfg.Projectors
	cfg Config
}

var (
	descMonitorInfo = prometheus.NewDesc("medialuna_monitor_info",
		"A monitor, with its name and type as labels; always 1. Join on monitor_id.", []string{"account_id", "monitor_id", "name", "type"}, nil)
	descMonitorUp = prometheus.NewDesc("medialuna_monitor_up",
		"Whether the monitor's latest check from the region succeeded (1) or failed (0).", []string{"account_id", "monitor_id", "region"}, nil)
	descMonitorChecked = prometheus.NewDesc("medialuna_monitor_last_check_timestamp_seconds",
		"When the monitor's latest check from the region ran, as a Unix time.", []string{"account_id", "monitor_id", "region"}, nil)
	descMonitorPaused = prometheus.NewDesc("medialuna_monitor_paused",
		"Whether the monitor is paused (1) or checked (0).", []string{"account_id", "monitor_id"}, nil)
	descMonitorResponse = prometheus.NewDesc("medialuna_monitor_response_seconds",
		"Response time of the monitor's latest check.", []string{"account_id", "monitor_id"}, nil)
	descMonitorCert = prometheus.NewDesc("medialuna_monitor_certificate_expiry_timestamp_seconds",
		"When the TLS certificate the monitor's latest check saw expires, as a Unix time.", []string{"account_id", "monitor_id"}, nil)
	descMonitorsUnreported = prometheus.NewDesc("medialuna_monitors_unreported",
		"1 when there are more monitors than --metrics-max-monitors and the ones past it have no series, else 0.", nil, nil)
	descLagEvents = prometheus.NewDesc("medialuna_projection_lag_events",
		"Events in the log that the read model or consumer has not applied yet.", []string{"projector"}, nil)
	descLagSeconds = prometheus.NewDesc("medialuna_projection_lag_seconds",
		"Age of the oldest event the read model or consumer has not applied yet (0 when caught up).", []string{"projector"}, nil)
	descParked = prometheus.NewDesc("medialuna_projection_parked_events",
		"Events the read model or consumer could not apply and went past.", []string{"projector"}, nil)
	descPosition = prometheus.NewDesc("medialuna_projection_position",
		"The log position the read model or consumer has applied up to.", []string{"projector"}, nil)
	descHead   = prometheus.NewDesc("medialuna_event_log_head_position", "The log's latest position.", nil, nil)
	descOutbox = prometheus.NewDesc("medialuna_notification_outbox_depth",
		"Notifications queued and not yet delivered or given up on.", nil, nil)
	descScrapeError = prometheus.NewDesc("medialuna_scrape_read_models_error",
		"1 when this scrape could not read a read model (the server's log says why), else 0.", []string{"part"}, nil)
)

func (c *readModels) Describe(chan<- *prometheus.Desc) {}

func (c *readModels) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.ScrapeTimeout)
	defer cancel()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	failed := func(part string, err error) {
		if err != nil {
			c.cfg.Log.Warn("metrics scrape could not read", "part", part, "err", err)
		}
		gauge(descScrapeError, b2f(err != nil), part)
	}

	if c.cfg.MaxMonitors > 0 {
		monitors, more, err := c.src.MonitorGauges(ctx, c.cfg.MaxMonitors)
		failed("monitors", err)
		gauge(descMonitorsUnreported, b2f(more))
		for _, m := range monitors {
			account, id := itoa(m.AccountID), itoa(m.ID)
			gauge(descMonitorInfo, 1, account, id, m.Name, m.Type)
			gauge(descMonitorPaused, b2f(m.Paused), account, id)
			if m.ResponseTimeMS != nil {
				gauge(descMonitorResponse, *m.ResponseTimeMS/1000, account, id)
			}
			if m.CertExpiresAt != nil {
				gauge(descMonitorCert, float64(m.CertExpiresAt.Unix()), account, id)
			}
			for _, rg := range m.Regions {
				gauge(descMonitorUp, b2f(rg.Up), account, id, rg.Region)
				gauge(descMonitorChecked, float64(rg.CheckedAt.UnixMilli())/1000, account, id, rg.Region)
			}
		}
	}

	c.mu.Lock()
	names := c.cfg.Projectors
	c.mu.Unlock()
	statuses, err := c.src.ProjectorStatuses(ctx, names)
	failed("projections", err)
	var head uint64
	for _, p := range statuses {
		gauge(descLagEvents, float64(p.LagEvents), p.Name)
		gauge(descLagSeconds, p.LagSeconds, p.Name)
		gauge(descParked, float64(p.Parked), p.Name)
		gauge(descPosition, float64(p.Position), p.Name)
		head = max(head, p.HeadPosition)
	}
	if err == nil {
		gauge(descHead, float64(head))
	}

	depth, err := c.src.OutboxDepth(ctx)
	failed("outbox", err)
	if err == nil {
		gauge(descOutbox, float64(depth))
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
