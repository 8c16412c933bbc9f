package httpapi

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/projections"
)

// uiMonitorDetailRoutes registers the monitor detail page and its chart data.
func (s *Server) uiMonitorDetailRoutes() {
	s.uiRoute("GET", "/monitors/{id:[0-9]+}", domain.RoleViewer, s.uiMonitorDetail)
	s.uiRoute("GET", "/monitors/{id:[0-9]+}/chart.json", domain.RoleViewer, s.uiMonitorChart)
}

// uiChartRange is a range the response-time chart offers; its bucket grows
// with it so that every range draws about a hundred points.
type uiChartRange struct {
	Key    string // the range query value
	Label  string
	Span   time.Duration
	Bucket time.Duration
	Per    string // the bucket, for people
}

var uiChartRanges = []uiChartRange{
	{"24h", "24 hours", 24 * time.Hour, 15 * time.Minute, "15 minutes"},
	{"7d", "7 days", 7 * 24 * time.Hour, time.Hour, "hour"},
	{"30d", "30 days", 30 * 24 * time.Hour, 6 * time.Hour, "6 hours"},
	{"90d", "90 days", 90 * 24 * time.Hour, 24 * time.Hour, "day"},
}

// chartRange reads the range query parameter (default 24h).
func chartRange(r *http.Request) (uiChartRange, error) {
	key := r.URL.Query().Get("range")
	if key == "" {
		return uiChartRanges[0], nil
	}
	for _, cr := range uiChartRanges {
		if cr.Key == key {
			return cr, nil
		}
	}
	return uiChartRange{}, badRequest("range must be one of 24h, 7d, 30d, 90d")
}

// uiMonitorIncidents is how many of its latest incidents the page lists;
// past that it links to the incidents list filtered by the monitor.
const uiMonitorIncidents = 20

// uiHistoryPage is how many checks the history shows at a time.
const uiHistoryPage = 50

type uiUptime struct {
	Label   string
	Summary projections.Summary
}

// uiCert is what the page says of a monitor's TLS certificate.
type uiCert struct {
	ExpiresAt time.Time
	Days      int // whole days left; negative once expired
	Expired   bool
	// Warn is set inside the monitor's reminder window (ssl_expiry_reminder days).
	Warn bool
}

type uiMonitorDetailData struct {
	Monitor   projections.MonitorView
	Target    string
	Paused    bool
	Uptime    []uiUptime
	Range     uiChartRange
	Ranges    []uiChartRange
	Regions   []projections.RegionLatency
	RegionsOf string // the window the region table covers, for people
	History   []projections.CheckRow
	// Older pages the history on past its last row; Older is empty on the
	// last page, Newer is set when this is not the first.
	Older     string
	Newer     string
	Incidents []projections.IncidentRow
	// MoreIncidents is set when the monitor has more incidents than listed.
	MoreIncidents bool
	ShowCert      bool
	Cert          *uiCert
	PushURL       string
	PushCurl      string
	// LiveURL is this page's own address, which its live parts refetch.
	LiveURL string
}

// uiMonitorDetail is GET /monitors/{id}: one monitor, how it does and what
// happened to it.
func (s *Server) uiMonitorDetail(w http.ResponseWriter, r *http.Request, v *viewer) error {
	ctx, now := r.Context(), s.deps.Now()
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	m, err := s.deps.Queries.Monitor(ctx, v.AccountID, id)
	if err != nil {
		return err
	}
	cr, err := chartRange(r)
	if err != nil {
		return err
	}
	d := uiMonitorDetailData{Monitor: m, Target: uiMonitorTarget(m), Paused: m.Status == "paused",
		Range: cr, Ranges: uiChartRanges, LiveURL: r.URL.RequestURI()}
	for _, up := range uiChartRanges {
		sum, err := s.deps.Queries.Summary(ctx, id, now.Add(-up.Span), now, now)
		if err != nil {
			return err
		}
		d.Uptime = append(d.Uptime, uiUptime{Label: up.Label, Summary: sum})
	}
	// Region figures come from raw results only, so they cover the chosen
	// range up to the raw retention.
	regionSpan, regionLabel := cr.Span, cr.Label
	if regionSpan > projections.RawRetention {
		regionSpan, regionLabel = projections.RawRetention, "30 days (raw results are kept that long)"
	}
	d.RegionsOf = regionLabel
	if d.Regions, err = s.deps.Queries.RegionLatencies(ctx, id, now.Add(-regionSpan), now.Add(time.Second)); err != nil {
		return err
	}
	before, beforeRegion, err := historyCursor(r)
	if err != nil {
		return err
	}
	// One more than a page says whether there is an older one.
	rows, err := s.deps.Queries.HistoryBefore(ctx, id, before, beforeRegion, uiHistoryPage+1)
	if err != nil {
		return err
	}
	if len(rows) > uiHistoryPage {
		rows = rows[:uiHistoryPage]
		last := rows[len(rows)-1]
		d.Older = uiQuery(r.URL.Query(), "before", last.CheckedAt.UTC().Format(time.RFC3339Nano), "before_region", strconv.FormatInt(last.RegionID, 10))
	}
	if !before.IsZero() {
		d.Newer = uiQuery(r.URL.Query(), "before", "", "before_region", "")
	}
	d.History = rows
	// One more than listed says whether there are more.
	if d.Incidents, err = s.deps.Queries.IncidentsList(ctx, v.AccountID, projections.IncidentFilter{MonitorID: id}, 0, uiMonitorIncidents+1); err != nil {
		return err
	}
	if len(d.Incidents) > uiMonitorIncidents {
		d.Incidents, d.MoreIncidents = d.Incidents[:uiMonitorIncidents], true
	}
	switch m.Type {
	case domain.TypeHTTP, domain.TypeHEAD:
		d.ShowCert = strings.HasPrefix(strings.ToLower(m.URL), "https://") || m.CertExpiresAt != nil
	}
	if m.CertExpiresAt != nil {
		left := m.CertExpiresAt.Sub(now)
		c := &uiCert{ExpiresAt: *m.CertExpiresAt, Days: int(left / (24 * time.Hour)), Expired: left <= 0}
		c.Warn = c.Expired || domain.CertExpiresSoon(*m.CertExpiresAt, now, m.SSLExpiryReminder)
		d.Cert = c
	}
	if m.Type == domain.TypePUSH && m.PushToken != "" {
		d.PushURL = strings.TrimRight(s.deps.BaseURL, "/") + "/api/push/" + url.PathEscape(m.PushToken)
		d.PushCurl = "curl -fsS -X POST " + d.PushURL
	}
	return s.render(w, r, http.StatusOK, "monitor", uiPage{Title: m.Name, Nav: "monitors", Viewer: v, Data: d})
}

// historyCursor reads the older-page cursor: the time and region of the
// last check shown (zero: the newest page).
func historyCursor(r *http.Request) (time.Time, int64, error) {
	q := r.URL.Query()
	if q.Get("before") == "" {
		return time.Time{}, 0, nil
	}
	at, err := time.Parse(time.RFC3339Nano, q.Get("before"))
	if err != nil {
		return at, 0, badRequest("before must be a time like 2026-05-01T10:00:00Z")
	}
	region, err := strconv.ParseInt(q.Get("before_region"), 10, 64)
	if err != nil && q.Get("before_region") != "" {
		return at, 0, badRequest("before_region must be a region id")
	}
	return at, region, nil
}

// uiMonitorTarget says what a monitor checks, in the terms of its type.
func uiMonitorTarget(m projections.MonitorView) string {
	switch m.Type {
	case domain.TypePUSH:
		return "heartbeats pushed to Media Luna"
	case domain.TypeTCP, domain.TypeSMTP, domain.TypeSSH:
		if m.Port > 0 {
			return m.URL + ":" + strconv.Itoa(m.Port)
		}
	case domain.TypeDNS:
		t := m.URL
		if m.DNSRecordType != "" {
			t += " (" + m.DNSRecordType + " record"
			if m.DNSResolver != "" {
				t += " via " + m.DNSResolver
			}
			t += ")"
		}
		return t
	case domain.TypeHTTP:
		if m.HTTPMethod != "" && m.HTTPMethod != http.MethodGet {
			return m.HTTPMethod + " " + m.URL
		}
	}
	return m.URL
}

// uiMonitorChart is GET /monitors/{id}/chart.json: the chart's p50 and p95
// per bucket and region. Its errors are JSON, like the API's: a script
// reads them.
func (s *Server) uiMonitorChart(w http.ResponseWriter, r *http.Request, v *viewer) error {
	series, err := s.monitorChart(r, v)
	if err != nil {
		writeError(w, r, s.deps.Log, err)
		return nil
	}
	writeJSON(w, http.StatusOK, series)
	return nil
}

func (s *Server) monitorChart(r *http.Request, v *viewer) (projections.LatencySeries, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return projections.LatencySeries{}, err
	}
	if _, err := s.deps.Queries.Monitor(r.Context(), v.AccountID, id); err != nil {
		return projections.LatencySeries{}, err
	}
	cr, err := chartRange(r)
	if err != nil {
		return projections.LatencySeries{}, err
	}
	now := s.deps.Now()
	return s.deps.Queries.LatencySeries(r.Context(), id, now.Add(-cr.Span), now, now, cr.Bucket)
}
