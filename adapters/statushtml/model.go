package statushtml

import (
	"math"
	"slices"
	"time"

	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/projections"
)

// How much history a page shows.
const (
	historyDays        = 90                  // daily uptime bars
	recentIncidentDays = 7                   // resolved incidents listed on the page
	feedHistory        = 90 * 24 * time.Hour // incidents in the feed
	maintenanceAhead   = 30 * 24 * time.Hour // scheduled maintenance listed
)

// Page is a public status page: the JSON of
// GET /api/public/status-pages/{subdomain}, and what the HTML shows.
type Page struct {
	Title           string        `json:"title"`
	Subdomain       string        `json:"subdomain"`
	Description     *string       `json:"description"`
	LogoURL         *string       `json:"logo_url"`
	Status          string        `json:"status"` // operational, degraded, partial_outage, major_outage, maintenance
	StatusText      string        `json:"status_text"`
	UptimePct       *float64      `json:"uptime_percentage"` // over the 90 days, null without checks
	Monitors        []Monitor     `json:"monitors"`
	Incidents       []Incident    `json:"incidents"`        // open, newest first
	RecentIncidents []Incident    `json:"recent_incidents"` // resolved within 7 days, newest first
	Maintenance     []Maintenance `json:"maintenance"`      // in progress or starting within 30 days, soonest first
	GeneratedAt     time.Time     `json:"generated_at"`

	customCSS string     // as the user wrote it; sanitised when rendered
	history   []Incident // every incident of the feed, newest first
}

// Monitor is one monitor on a page.
type Monitor struct {
	ID            int64      `json:"id"`
	Name          string     `json:"name"`
	Status        string     `json:"status"`         // operational, degraded, down, maintenance, unknown
	MonitorStatus string     `json:"monitor_status"` // up, down, paused, pending
	LastCheckedAt *time.Time `json:"last_checked_at"`
	UptimePct     *float64   `json:"uptime_percentage"` // over the 90 days
	Daily         []Day      `json:"daily"`             // 90 UTC days, oldest first, today last
}

// Day is one UTC day of a monitor's uptime.
type Day struct {
	Date              string   `json:"date"`              // YYYY-MM-DD
	UptimePct         *float64 `json:"uptime_percentage"` // null when no check counted
	Checks            int64    `json:"checks"`            // outside maintenance
	MaintenanceChecks int64    `json:"maintenance_checks"`
}

// Incident is an incident as the public sees it: no internal message,
// only its public updates.
type Incident struct {
	ID             int64      `json:"id"`
	MonitorID      int64      `json:"monitor_id"`
	MonitorName    string     `json:"monitor_name"`
	Type           string     `json:"incident_type"`
	Title          string     `json:"title"`
	Status         string     `json:"status"` // TRIGGERED, ACKNOWLEDGED, RESOLVED
	StatusText     string     `json:"status_text"`
	StartedAt      time.Time  `json:"started_at"`
	AcknowledgedAt *time.Time `json:"acknowledged_at"`
	ResolvedAt     *time.Time `json:"resolved_at"`
	Updates        []Update   `json:"updates"` // oldest first
}

// Update is a public comment on an incident.
type Update struct {
	Message   string    `json:"message"`
	CreatedAt time.Time `json:"created_at"`
}

// Maintenance is a window touching the page's monitors, with its current
// or next occurrence.
type Maintenance struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	Description *string   `json:"description"`
	StartsAt    time.Time `json:"starts_at"`
	EndsAt      time.Time `json:"ends_at"`
	InProgress  bool      `json:"in_progress"`
	MonitorIDs  []int64   `json:"monitor_ids"` // the page's monitors it covers
	Recurrence  *string   `json:"recurrence"`  // daily, weekly, monthly
}

func pct(up, checks int64) *float64 {
	if checks <= 0 {
		return nil
	}
	v := math.Floor(10000*float64(up)/float64(checks)) / 100 // never round 99.999 up to 100
	return &v
}

func incidentTitle(typ string) string {
	if typ == string(domain.IncidentPerformance) {
		return "Degraded performance"
	}
	return "Outage"
}

func incidentStatusText(status string) string {
	switch status {
	case string(domain.StatusAcknowledged):
		return "Identified"
	case string(domain.StatusResolved):
		return "Resolved"
	}
	return "Investigating"
}

// buildPage turns what the read models hold into the public page at now.
func buildPage(d projections.PublicPageData, now time.Time, zone func(string) *time.Location) *Page {
	now = now.UTC()
	p := &Page{Title: d.Page.Title, Subdomain: d.Page.Subdomain, Description: d.Page.Description, LogoURL: d.Page.LogoURL,
		Monitors: []Monitor{}, Incidents: []Incident{}, RecentIncidents: []Incident{}, Maintenance: []Maintenance{},
		GeneratedAt: now.Truncate(time.Second)}
	if d.Page.CustomCSS != nil {
		p.customCSS = *d.Page.CustomCSS
	}
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	first := today.AddDate(0, 0, -(historyDays - 1))

	names := map[int64]string{}
	onPage := []int64{}
	for _, m := range d.Monitors {
		names[m.ID] = m.Name
		onPage = append(onPage, m.ID)
	}

	// Maintenance: the current or next occurrence of each window.
	inMaint := map[int64]bool{}
	for _, w := range d.Windows {
		occ := w.Occurrences(now, now.Add(maintenanceAhead), zone(w.TimeZone))
		if len(occ) == 0 {
			continue
		}
		o := occ[0]
		m := Maintenance{ID: w.ID, Name: w.Name, Description: w.Description, StartsAt: o.Start, EndsAt: o.End,
			InProgress: !now.Before(o.Start) && now.Before(o.End), MonitorIDs: []int64{}}
		if w.IsRecurring {
			m.Recurrence = w.RecurrencePattern
		}
		for _, id := range onPage {
			if w.Covers(id) {
				m.MonitorIDs = append(m.MonitorIDs, id)
				if m.InProgress {
					inMaint[id] = true
				}
			}
		}
		p.Maintenance = append(p.Maintenance, m)
	}
	slices.SortStableFunc(p.Maintenance, func(a, b Maintenance) int { return a.StartsAt.Compare(b.StartsAt) })

	// Incidents with their public updates.
	updates := map[int64][]Update{}
	for _, u := range d.Updates {
		updates[u.IncidentID] = append(updates[u.IncidentID], Update{Message: u.Message, CreatedAt: u.CreatedAt.UTC()})
	}
	slow := map[int64]bool{}
	recentCut := now.Add(-recentIncidentDays * 24 * time.Hour)
	for _, r := range d.Incidents {
		inc := Incident{ID: r.ID, MonitorID: r.MonitorID, MonitorName: names[r.MonitorID], Type: r.Type, Title: incidentTitle(r.Type),
			Status: r.Status, StatusText: incidentStatusText(r.Status), StartedAt: r.StartedAt.UTC(),
			AcknowledgedAt: utc(r.AcknowledgedAt), ResolvedAt: utc(r.ResolvedAt), Updates: updates[r.ID]}
		if inc.Updates == nil {
			inc.Updates = []Update{}
		}
		p.history = append(p.history, inc)
		switch {
		case r.Status != string(domain.StatusResolved):
			p.Incidents = append(p.Incidents, inc)
			if r.Type == string(domain.IncidentPerformance) {
				slow[r.MonitorID] = true
			}
		case r.ResolvedAt != nil && r.ResolvedAt.After(recentCut):
			p.RecentIncidents = append(p.RecentIncidents, inc)
		}
	}

	// Monitors with 90 days of bars.
	daily := map[int64]map[time.Time]projections.DailyUptime{}
	for _, u := range d.Daily {
		if daily[u.MonitorID] == nil {
			daily[u.MonitorID] = map[time.Time]projections.DailyUptime{}
		}
		daily[u.MonitorID][u.Day.UTC()] = u
	}
	var states []string
	var allUp, allChecks int64
	for _, m := range d.Monitors {
		state := domain.ComponentState(m.Status, inMaint[m.ID], slow[m.ID])
		states = append(states, state)
		mon := Monitor{ID: m.ID, Name: m.Name, Status: state, MonitorStatus: m.Status, LastCheckedAt: utc(m.LastCheckedAt),
			Daily: make([]Day, 0, historyDays)}
		var up, checks int64
		for i := range historyDays {
			day := first.AddDate(0, 0, i)
			u := daily[m.ID][day]
			mon.Daily = append(mon.Daily, Day{Date: day.Format("2006-01-02"), UptimePct: pct(u.Up, u.Checks), Checks: u.Checks, MaintenanceChecks: u.Maintenance})
			up += u.Up
			checks += u.Checks
		}
		mon.UptimePct = pct(up, checks)
		allUp += up
		allChecks += checks
		p.Monitors = append(p.Monitors, mon)
	}
	p.UptimePct = pct(allUp, allChecks)
	p.Status = domain.OverallState(states)
	p.StatusText = domain.StateText(p.Status)
	return p
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// Badge colours (shields.io's palette).
const (
	colorGreen  = "#4c1"
	colorYellow = "#dfb317"
	colorOrange = "#fe7d37"
	colorRed    = "#e05d44"
	colorBlue   = "#007ec6"
	colorGrey   = "#9f9f9f"
)

// stateColor is a badge colour for a page or component state.
func stateColor(state string) string {
	switch state {
	case domain.PageOperational:
		return colorGreen
	case domain.PageDegraded:
		return colorYellow
	case domain.PagePartialOutage:
		return colorOrange
	case domain.PageMajorOutage, domain.PageDown:
		return colorRed
	case domain.PageMaintenance:
		return colorBlue
	}
	return colorGrey
}

// uptimeColor is a badge colour for an uptime percentage.
func uptimeColor(p *float64) string {
	switch {
	case p == nil:
		return colorGrey
	case *p >= 99.9:
		return colorGreen
	case *p >= 99:
		return colorYellow
	case *p >= 95:
		return colorOrange
	}
	return colorRed
}

// stateWord is the short text a badge or a component shows for a state.
func stateWord(state string) string {
	switch state {
	case domain.PageOperational:
		return "operational"
	case domain.PageDegraded:
		return "degraded"
	case domain.PagePartialOutage:
		return "partial outage"
	case domain.PageMajorOutage:
		return "major outage"
	case domain.PageDown:
		return "down"
	case domain.PageMaintenance:
		return "maintenance"
	}
	return "unknown"
}
