package statushtml

import (
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/medialuna/medialuna/adapters/statushtml/badge"
)

// badgePolicy lets an SVG badge opened on its own do nothing but draw: no
// script (sandbox), no loads. The badges style with presentation
// attributes only.
const badgePolicy = "default-src 'none'; sandbox"

// serveBadge answers badge.svg (the page) and monitors/{id}/badge.svg.
// ?type=uptime shows the 90-day uptime instead of the state; ?label=
// replaces the label (at most 40 characters).
func (s *Site) serveBadge(w http.ResponseWriter, r *http.Request, snap *snapshot, rt route) {
	q := r.URL.Query()
	kind := q.Get("type")
	if kind != "" && kind != "status" && kind != "uptime" {
		s.plainError(w, rt, http.StatusBadRequest, "query parameter type must be status or uptime")
		return
	}
	p := snap.page
	label, state, uptime := p.Title, p.Status, p.UptimePct
	if rt.kind == "monitor-badge" {
		found := false
		for _, m := range p.Monitors {
			if m.ID == rt.monitorID {
				label, state, uptime, found = m.Name, m.Status, m.UptimePct, true
				break
			}
		}
		if !found {
			s.plainError(w, rt, http.StatusNotFound, "no such monitor on this status page")
			return
		}
	}
	if l := strings.TrimSpace(q.Get("label")); l != "" {
		if utf8.RuneCountInString(l) > 40 {
			s.plainError(w, rt, http.StatusBadRequest, "query parameter label must be at most 40 characters")
			return
		}
		label = l
	}
	value, color := stateWord(state), stateColor(state)
	if kind == "uptime" {
		value, color = percent(uptime), uptimeColor(uptime)
		if uptime == nil {
			value = "no data"
		}
	}
	key := label + "\x00" + value + "\x00" + color
	if v, ok := snap.badges.Load(key); ok {
		s.serve(w, r, v.(*variant), http.StatusOK)
		return
	}
	v := newVariant(badge.Render(label, value, color), "image/svg+xml", badgePolicy, time.Time{}, false)
	if snap.nbadges.Add(1) <= maxBadges {
		snap.badges.Store(key, &v)
	}
	s.serve(w, r, &v, http.StatusOK)
}
