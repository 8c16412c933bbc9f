package httpapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/projections"
)

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

// pushPing records a heartbeat. A ping is a fact: it is answered once its
// heartbeat is durable in the log, from what the ping decided (the monitor
// is up, pinged now), without waiting for the read models. Pings of a
// monitor within the same second are one heartbeat, so a chatty client
// cannot flood the log.
func (s *Server) pushPing(w http.ResponseWriter, r *http.Request, _ *principal) error {
	pm, err := s.deps.PushTokens.MonitorByPushToken(r.Context(), pathToken(r))
	if err != nil {
		return err
	}
	now := s.deps.Now()
	if err := s.deps.Heartbeats.Record(r.Context(), pm.ID, now); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.pushStatus(pinged(pm, now)))
	return nil
}

// pinged is the push monitor as a ping at now leaves it: up and last pinged
// now, unless it is paused (a paused monitor records the heartbeat but
// stays paused).
func pinged(pm projections.PushMonitor, now time.Time) projections.PushMonitor {
	at := now.UTC()
	pm.LastUpAt, pm.LastCheckedAt = &at, &at
	if !pm.Paused {
		pm.Status = string(domain.StatusUp)
	}
	return pm
}

func pathToken(r *http.Request) string {
	t := strings.TrimSpace(r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:])
	if len(t) > 200 {
		return ""
	}
	return t
}
