package httpapi

import (
	"net/http"
	"time"
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
	if _, _, err := paging(r); err != nil {
		return err
	}
	pts, err := s.deps.Queries.Timeseries(r.Context(), id, now.Add(-time.Duration(hours)*time.Hour), now, now, time.Duration(bucket)*time.Minute)
	if err != nil {
		return err
	}
	return writePaged(w, r, pts)
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
	return writePaged(w, r, rows)
}

func (s *Server) metricsOverview(w http.ResponseWriter, r *http.Request, p *principal) error {
	o, err := s.deps.Queries.Overview(r.Context(), p.AccountID, s.deps.Now())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, o)
	return nil
}
