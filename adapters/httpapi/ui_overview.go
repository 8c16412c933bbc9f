package httpapi

import (
	"net/http"
	"slices"
	"strings"

	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/projections"
)

// uiUsageBar is one plan limit and how much of it is used.
type uiUsageBar struct {
	Label     string
	Used      int
	Limit     int // domain.Unlimited for none
	Unlimited bool
	Percent   int
}

func usageBar(label string, used, limit int) uiUsageBar {
	b := uiUsageBar{Label: label, Used: used, Limit: limit, Unlimited: limit == domain.Unlimited}
	if !b.Unlimited && limit > 0 {
		b.Percent = min(100, used*100/limit)
	}
	return b
}

type uiMonitorName struct {
	ID   int64
	Name string
}

type uiOverviewData struct {
	Counts        projections.Overview
	OpenIncidents []projections.IncidentRow
	Incidents     projections.IncidentCounts
	// InMaintenance are the monitors a window in effect names; when one
	// covers every monitor, AllInMaintenance is set instead.
	InMaintenance    []uiMonitorName
	AllInMaintenance bool
	MaintenanceCount int
	Windows          []projections.WindowView
	Plan             domain.PlanLimits
	Usage            []uiUsageBar
	MonitorNames     map[int64]string
}

// uiOverview is the landing page: how the account's monitors stand now.
func (s *Server) uiOverview(w http.ResponseWriter, r *http.Request, v *viewer) error {
	ctx, now := r.Context(), s.deps.Now()
	var d uiOverviewData
	var err error
	if d.Counts, err = s.deps.Queries.Overview(ctx, v.AccountID, now); err != nil {
		return err
	}
	if d.Incidents, err = s.deps.Queries.CountIncidents(ctx, v.AccountID); err != nil {
		return err
	}
	for _, status := range []domain.IncidentStatus{domain.StatusTriggered, domain.StatusAcknowledged} {
		open, err := s.deps.Queries.IncidentsList(ctx, v.AccountID, projections.IncidentFilter{Status: string(status)}, 0, 50)
		if err != nil {
			return err
		}
		d.OpenIncidents = append(d.OpenIncidents, open...)
	}
	windows, err := s.deps.Queries.MaintenanceWindows(ctx, v.AccountID, now)
	if err != nil {
		return err
	}
	covered := map[int64]bool{}
	all := false
	for _, win := range windows {
		if !win.InEffect {
			continue
		}
		d.Windows = append(d.Windows, win)
		if win.AppliesToAllMonitors {
			all = true
		}
		for _, id := range win.MonitorIDs {
			covered[id] = true
		}
	}
	// A window over every monitor is said as such, not listed: the
	// account may have thousands.
	d.AllInMaintenance = all
	if all {
		d.MaintenanceCount = d.Counts.TotalMonitors
	} else if len(covered) > 0 {
		ids := make([]int64, 0, len(covered))
		for id := range covered {
			ids = append(ids, id)
		}
		names, err := s.deps.Queries.MonitorNames(ctx, v.AccountID, ids)
		if err != nil {
			return err
		}
		for id, name := range names {
			d.InMaintenance = append(d.InMaintenance, uiMonitorName{ID: id, Name: name})
		}
		slices.SortFunc(d.InMaintenance, func(a, b uiMonitorName) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
		d.MaintenanceCount = len(d.InMaintenance)
	}
	d.MonitorNames = map[int64]string{}
	if len(d.OpenIncidents) > 0 {
		ids := make([]int64, 0, len(d.OpenIncidents))
		for _, inc := range d.OpenIncidents {
			ids = append(ids, inc.MonitorID)
		}
		if d.MonitorNames, err = s.deps.Queries.MonitorNames(ctx, v.AccountID, ids); err != nil {
			return err
		}
	}
	limits, _ := domain.LimitsOf(v.Plan)
	d.Plan = limits.WithIntervalFloor(s.deps.MinCheckInterval) // the minimum this server takes
	u, err := s.deps.Queries.Usage(ctx, v.AccountID, now)
	if err != nil {
		return err
	}
	pages, err := s.deps.Queries.StatusPages(ctx, v.AccountID)
	if err != nil {
		return err
	}
	d.Usage = []uiUsageBar{
		usageBar("Monitors", u.Monitors, limits.MaxMonitors),
		usageBar("Team members (with pending invitations)", u.Users+u.PendingInvites, limits.MaxUsers),
		usageBar("Status pages", len(pages), limits.MaxStatusPages),
		usageBar("API keys", u.APIKeys, limits.MaxAPIKeys),
	}
	return s.render(w, r, http.StatusOK, "overview", uiPage{Title: "Overview", Nav: "overview", Viewer: v, Data: d})
}
