package httpapi

import (
	"crypto/subtle"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/projections"
)

// monitorWindow reads the path's monitor (which must be the account's)
// and the hours query parameter (default 24, at most maxHours).
func (s *Server) monitorWindow(r *http.Request, p *principal, maxHours int) (int64, int, error) {
	id, err := s.ownMonitor(r, p)
	if err != nil {
		return 0, 0, err
	}
	hours, err := intParam(r, "hours", 24, 1, maxHours)
	return id, hours, err
}

// metricsRange reads start_time/end_time (default: the last 24 hours).
func (s *Server) metricsRange(r *http.Request) (time.Time, time.Time, error) {
	now := s.deps.Now()
	start, err := timeParam(r, "start_time")
	if err != nil {
		return start, start, err
	}
	end, err := timeParam(r, "end_time")
	if err != nil {
		return start, end, err
	}
	if end.IsZero() {
		end = now
	}
	if start.IsZero() {
		start = end.Add(-24 * time.Hour)
	}
	if !start.Before(end) {
		return start, end, badRequest("start_time must be before end_time")
	}
	return start, end, nil
}

// v1Metrics is GET /api/v1/metrics/monitors/{id}: the summary over a range
// plus a per-region breakdown.
func (s *Server) v1Metrics(w http.ResponseWriter, r *http.Request, p *principal) error {
	id, err := s.ownMonitor(r, p)
	if err != nil {
		return err
	}
	start, end, err := s.metricsRange(r)
	if err != nil {
		return err
	}
	sum, err := s.deps.Queries.Summary(r.Context(), id, start, end, s.deps.Now())
	if err != nil {
		return err
	}
	regions, err := s.deps.Queries.RegionLatencies(r.Context(), id, start, end)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"summary": sum, "regions": regions, "monitor_id": id,
		"start_time": start, "end_time": end})
	return nil
}

func (s *Server) metricsSummary(w http.ResponseWriter, r *http.Request, p *principal) error {
	id, hours, err := s.monitorWindow(r, p, 24*400)
	if err != nil {
		return err
	}
	now := s.deps.Now()
	sum, err := s.deps.Queries.Summary(r.Context(), id, now.Add(-time.Duration(hours)*time.Hour), now, now)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sum)
	return nil
}

func (s *Server) metricsTimeseries(w http.ResponseWriter, r *http.Request, p *principal) error {
	id, hours, err := s.monitorWindow(r, p, 24*400)
	if err != nil {
		return err
	}
	bucket, err := intParam(r, "bucket_minutes", 5, 1, 60*24*31)
	if err != nil {
		return err
	}
	if hours*60/bucket > 10000 {
		return badRequest("too many points: hours*60/bucket_minutes must be at most 10000; use a larger bucket_minutes")
	}
	now := s.deps.Now()
	pts, err := s.deps.Queries.Timeseries(r.Context(), id, now.Add(-time.Duration(hours)*time.Hour), now, now, time.Duration(bucket)*time.Minute)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pts)
	return nil
}

func (s *Server) regionLatency(w http.ResponseWriter, r *http.Request, p *principal) error {
	id, hours, err := s.monitorWindow(r, p, 24*31)
	if err != nil {
		return err
	}
	now := s.deps.Now()
	rows, err := s.deps.Queries.RegionLatencies(r.Context(), id, now.Add(-time.Duration(hours)*time.Hour), now.Add(time.Second))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rows)
	return nil
}

func (s *Server) metricsOverview(w http.ResponseWriter, r *http.Request, p *principal) error {
	o, err := s.deps.Queries.Overview(r.Context(), p.AccountID, s.deps.Now())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, o)
	return nil
}

// pushStatus describes a push monitor to the service calling it.
func (s *Server) pushStatus(pm projections.PushMonitor) map[string]any {
	base := pm.ResumedAt
	if pm.LastUpAt != nil && pm.LastUpAt.After(base) {
		base = *pm.LastUpAt
	}
	return map[string]any{"monitor_id": pm.ID, "name": pm.Name, "status": pm.Status, "last_ping_at": pm.LastUpAt,
		"check_interval": pm.CheckInterval, "grace_period": pm.GracePeriod,
		"next_ping_expected_by": base.Add(time.Duration(pm.CheckInterval+pm.GracePeriod) * time.Second).UTC()}
}

func (s *Server) pushGet(w http.ResponseWriter, r *http.Request, _ *principal) error {
	pm, err := s.deps.Queries.MonitorByPushToken(r.Context(), pathToken(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.pushStatus(pm))
	return nil
}

// pushPing records a heartbeat. Pings within the same second collapse into
// one recorded result, so a chatty client cannot flood the log.
func (s *Server) pushPing(w http.ResponseWriter, r *http.Request, _ *principal) error {
	pm, err := s.deps.Queries.MonitorByPushToken(r.Context(), pathToken(r))
	if err != nil {
		return err
	}
	now := s.deps.Now()
	_, pos, err := s.deps.RecordChecks.Record(r.Context(), 0, []domain.CheckResult{{MonitorID: pm.ID,
		ScheduledAt: now.Truncate(time.Second), CheckedAt: now, Outcome: domain.CheckOutcome{Up: true, Detail: "heartbeat"}}})
	if err != nil {
		return err
	}
	s.settle(r, pos)
	if pm, err = s.deps.Queries.MonitorByPushToken(r.Context(), pathToken(r)); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.pushStatus(pm))
	return nil
}

func pathToken(r *http.Request) string {
	t := strings.TrimSpace(r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:])
	if len(t) > 200 {
		return ""
	}
	return t
}

// probeAuth checks a remote probe's bearer token.
func (s *Server) probeAuth(r *http.Request) error {
	if s.deps.ProbeToken == "" {
		return domain.Errorf(domain.ErrUnauthorized, "remote probes are disabled: start the server with --probe-token")
	}
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare([]byte(token), []byte(s.deps.ProbeToken)) != 1 {
		return domain.Errorf(domain.ErrUnauthorized, "invalid probe token")
	}
	return nil
}

func (s *Server) probeRegister(w http.ResponseWriter, r *http.Request, _ *principal) error {
	if err := s.probeAuth(r); err != nil {
		return err
	}
	var body struct {
		Code string  `json:"code"`
		Name string  `json:"name"`
		Lat  float64 `json:"lat"`
		Lng  float64 `json:"lng"`
	}
	if err := decode(r, &body); err != nil {
		return err
	}
	id, pos, err := s.deps.Regions.Register(r.Context(), body.Code, body.Name, body.Lat, body.Lng)
	if err != nil {
		return err
	}
	s.settle(r, pos)
	writeJSON(w, http.StatusOK, map[string]any{"region_id": id})
	return nil
}

func (s *Server) probeAssignments(w http.ResponseWriter, r *http.Request, _ *principal) error {
	if err := s.probeAuth(r); err != nil {
		return err
	}
	if r.URL.Query().Get("region_id") == "" {
		return badRequest("query parameter region_id is required")
	}
	region, err := intParam(r, "region_id", 0, 1, 1<<31-1)
	if err != nil {
		return err
	}
	version, err := s.deps.Queries.AssignmentsVersion(r.Context(), int64(region))
	if err != nil {
		return err
	}
	etag := `"` + version + `"`
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	list, err := s.deps.Queries.Assignments(r.Context(), int64(region))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

func (s *Server) probeResults(w http.ResponseWriter, r *http.Request, _ *principal) error {
	if err := s.probeAuth(r); err != nil {
		return err
	}
	var body struct {
		RegionID int64                `json:"region_id"`
		Results  []domain.CheckResult `json:"results"`
	}
	// A result's error and detail are text a monitored target sent (an
	// SSH banner, a DNS answer), not the agent's: RecordChecks makes them
	// storable instead of refusing the batch, which would lose the checks.
	data, err := readOpaqueBody(r)
	if err != nil {
		return err
	}
	if err := decodeBytes(data, &body); err != nil {
		return err
	}
	if body.RegionID <= 0 {
		return domain.Invalid("region_id", "missing", "region_id is required")
	}
	regions, err := s.deps.Queries.ActiveRegions(r.Context())
	if err != nil {
		return err
	}
	if !slices.Contains(regions, body.RegionID) {
		return domain.Invalid("region_id", "value_error", "region %d is not registered or not active; register first", body.RegionID)
	}
	n, _, err := s.deps.RecordChecks.Record(r.Context(), body.RegionID, body.Results)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]int{"recorded": n})
	return nil
}
