package e2e

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/medialuna/medialuna/test/smtpcatcher"
	"github.com/medialuna/medialuna/test/testdb"
)

// scrape fetches url (with the bearer token, if any) and parses it with
// the Prometheus text parser.
func scrape(t *testing.T, url, token string) map[string]*dto.MetricFamily {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("the metrics do not parse: %v\n%s", err, body)
	}
	return families
}

// sample is the value of the family's series whose labels include want, or
// false when there is none.
func sample(families map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	f, ok := families[name]
	if !ok {
		return 0, false
	}
	for _, m := range f.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range want {
			if labels[k] != v {
				match = false
			}
		}
		if !match {
			continue
		}
		switch {
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		case m.Untyped != nil:
			return m.GetUntyped().GetValue(), true
		}
	}
	return 0, false
}

// TestPrometheusMetrics scrapes /metrics, parsed with the Prometheus text
// parser: what each monitor's latest check found, per region, in base
// units (up as 0/1, seconds, the certificate's expiry as a timestamp),
// bounded to --metrics-max-monitors; the server's own health (read-model
// lag and parked events, the outbox, checks, notifications sent, requests
// by route and status, the Go runtime). Only the operator token opens it
// on the API's address; --metrics-addr serves it without one.
func TestPrometheusMetrics(t *testing.T) {
	const operatorToken = "e2e-metrics-operator-token-0123"
	metricsAddr := freeAddr(t)
	s := startServer(t, testdb.New(t), smtpcatcher.Start(t), "MEDIALUNA_OPERATOR_TOKEN="+operatorToken,
		"MEDIALUNA_MIN_CHECK_INTERVAL=1", "MEDIALUNA_METRICS_MAX_MONITORS=2", "MEDIALUNA_METRICS_ADDR="+metricsAddr)
	a := signup(t, s, "metrics@example.com", "Metrics")
	unlimited(t, s, a.Account.ID)

	tls := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(tls.Close)
	var web struct {
		ID int64 `json:"id"`
	}
	s.expect(201, "POST", "/api/v1/monitors", a.AccessToken, map[string]any{"name": "web", "type": "HTTP", "url": tls.URL,
		"check_interval": 1, "verify_ssl": false}).json(t, &web)
	var dead struct {
		ID int64 `json:"id"`
	}
	s.expect(201, "POST", "/api/v1/monitors", a.AccessToken, map[string]any{"name": "dead", "type": "TCP", "url": "127.0.0.1:9",
		"check_interval": 1}).json(t, &dead)
	s.expect(201, "POST", "/api/v1/monitors", a.AccessToken, map[string]any{"name": "third", "type": "HTTP", "url": tls.URL,
		"check_interval": 300, "verify_ssl": false})

	// Only the operator: no token, a user's token, a wrong token.
	s.expect(401, "GET", "/metrics", "", nil)
	s.expect(403, "GET", "/metrics", a.AccessToken, nil)
	s.expect(401, "GET", "/metrics", "not-the-operator-token", nil)

	webID, deadID := strconv.FormatInt(web.ID, 10), strconv.FormatInt(dead.ID, 10)
	var families map[string]*dto.MetricFamily
	waitFor(t, func() bool {
		families = scrape(t, s.URL+"/metrics", operatorToken)
		_, webUp := sample(families, "medialuna_monitor_up", map[string]string{"monitor_id": webID, "region": "local"})
		_, deadUp := sample(families, "medialuna_monitor_up", map[string]string{"monitor_id": deadID, "region": "local"})
		return webUp && deadUp
	})
	account := strconv.FormatInt(a.Account.ID, 10)
	for _, c := range []struct {
		name   string
		labels map[string]string
		check  func(float64) bool
	}{
		{"medialuna_monitor_up", map[string]string{"account_id": account, "monitor_id": webID, "region": "local"}, func(v float64) bool { return v == 1 }},
		{"medialuna_monitor_up", map[string]string{"monitor_id": deadID, "region": "local"}, func(v float64) bool { return v == 0 }},
		{"medialuna_monitor_info", map[string]string{"monitor_id": webID, "name": "web", "type": "HTTP"}, func(v float64) bool { return v == 1 }},
		{"medialuna_monitor_response_seconds", map[string]string{"monitor_id": webID}, func(v float64) bool { return v > 0 && v < 5 }},
		{"medialuna_monitor_certificate_expiry_timestamp_seconds", map[string]string{"monitor_id": webID},
			func(v float64) bool { return v > float64(time.Now().Unix()) }},
		{"medialuna_monitor_last_check_timestamp_seconds", map[string]string{"monitor_id": webID, "region": "local"},
			func(v float64) bool { return v > float64(time.Now().Add(-time.Minute).Unix()) }},
		{"medialuna_monitors_unreported", nil, func(v float64) bool { return v == 1 }},
		{"medialuna_projection_lag_events", map[string]string{"projector": "monitors"}, func(v float64) bool { return v >= 0 }},
		{"medialuna_projection_parked_events", map[string]string{"projector": "notifier"}, func(v float64) bool { return v == 0 }},
		{"medialuna_event_log_head_position", nil, func(v float64) bool { return v > 0 }},
		{"medialuna_notification_outbox_depth", nil, func(v float64) bool { return v == 0 }},
		{"medialuna_check_results_total", map[string]string{"result": "up"}, func(v float64) bool { return v >= 1 }},
		{"medialuna_check_results_total", map[string]string{"result": "down"}, func(v float64) bool { return v >= 1 }},
		{"medialuna_probe_checks_due_total", map[string]string{"region": "local"}, func(v float64) bool { return v >= 2 }},
		{"medialuna_probe_check_start_lateness_seconds", map[string]string{"region": "local"}, func(v float64) bool { return v >= 2 }},
		{"medialuna_http_requests_total", map[string]string{"route": "/api/v1/monitors", "method": "POST", "code": "201"}, func(v float64) bool { return v == 3 }},
		{"medialuna_http_requests_total", map[string]string{"route": "/metrics", "method": "GET", "code": "403"}, func(v float64) bool { return v == 1 }},
		{"go_goroutines", nil, func(v float64) bool { return v > 0 }},
		{"process_resident_memory_bytes", nil, func(v float64) bool { return v > 0 }},
	} {
		v, ok := sample(families, c.name, c.labels)
		if !ok || !c.check(v) {
			t.Errorf("%s%v = %v (present %v)", c.name, c.labels, v, ok)
		}
	}
	// The bound: two monitors of three have series; no series names a path.
	if n := len(families["medialuna_monitor_info"].GetMetric()); n != 2 {
		t.Errorf("%d monitors with series, want the bound of 2", n)
	}
	for _, m := range families["medialuna_http_requests_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "route" && (l.GetValue() == "/api/v1/monitors/"+webID) {
				t.Errorf("a route label holds a path: %s", l.GetValue())
			}
		}
	}

	// A delivery attempt is counted by channel type and outcome.
	var ch struct {
		ID int64 `json:"id"`
	}
	receiver := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(receiver.Close)
	s.expect(201, "POST", "/api/notification-channels", a.AccessToken, map[string]any{"name": "hook", "channel_type": "WEBHOOK",
		"webhook_url": receiver.URL}).json(t, &ch)
	s.call("POST", "/api/notification-channels/"+strconv.FormatInt(ch.ID, 10)+"/test", a.AccessToken, nil)
	families = scrape(t, s.URL+"/metrics", operatorToken)
	if v, ok := sample(families, "medialuna_notifications_sent_total", map[string]string{"channel_type": "WEBHOOK", "outcome": "delivered"}); !ok || v != 1 {
		t.Errorf("webhook deliveries counted: %v %v", v, ok)
	}

	// The separate address needs no token and serves nothing else.
	if fam := scrape(t, "http://"+metricsAddr+"/metrics", ""); fam["medialuna_monitor_up"] == nil {
		t.Error("--metrics-addr serves no monitor series")
	}
	if resp, err := http.Get("http://" + metricsAddr + "/api/v1/monitors"); err != nil || resp.StatusCode != 404 {
		t.Errorf("--metrics-addr serves the API: %v %v", err, resp)
	}
}
