package httpapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/medialuna/medialuna/commands"
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

// pushPing records a heartbeat. Pings within the same second collapse into
// one recorded result, so a chatty client cannot flood the log.
func (s *Server) pushPing(w http.ResponseWriter, r *http.Request, _ *principal) error {
	pm, err := s.deps.Queries.MonitorByPushToken(r.Context(), pathToken(r))
	if err != nil {
		return err
	}
	now := s.deps.Now()
	_, pos, err := s.deps.RecordChecks.Handle(r.Context(), commands.RecordChecks{Results: []domain.CheckResult{{MonitorID: pm.ID,
		ScheduledAt: now.Truncate(time.Second), CheckedAt: now, Outcome: domain.CheckOutcome{Up: true, Detail: "heartbeat"}}}})
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
