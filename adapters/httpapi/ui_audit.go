package httpapi

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/projections"
)

// The audit log: the account's events, newest first, read from the log
// itself (not from a read model), with the same redaction as the export.
// ADMINs only, as the API's GET /api/audit/events.

func (s *Server) uiAuditRoutes() {
	s.uiRoute("GET", "/settings/audit", domain.RoleAdmin, s.uiAudit)
	s.uiRoute("GET", "/settings/audit/export", domain.RoleAdmin, s.uiAuditExport)
}

// uiAuditPageSize is how many events the audit page shows at a time.
const uiAuditPageSize = 50

type uiAuditEvent struct {
	Sequence   uint64
	Type       string
	Stream     string
	RecordedAt time.Time
	Actor      string
	Data       string // indented JSON, shown as text
}

type uiAuditData struct {
	Filter  url.Values // the filters, for links
	Stream  string
	Type    string
	UserID  int64
	Since   string
	Until   string
	Types   []string
	Members []projections.UserRow
	Events  []uiAuditEvent
	Older   string // the query of the next page, or ""
}

// auditFilter reads the page's filters; a bad date is a 400 naming it.
func (s *Server) auditFilter(r *http.Request, v *viewer) (projections.AuditFilter, error) {
	q := r.URL.Query()
	f := projections.AuditFilter{AccountID: v.AccountID, Stream: q.Get("stream"), Type: q.Get("type")}
	var err error
	if f.Since, err = timeParam(r, "since"); err != nil {
		return f, err
	}
	if f.Until, err = timeParam(r, "until"); err != nil {
		return f, err
	}
	if len(q.Get("until")) == len("2006-01-02") {
		f.Until = f.Until.Add(24 * time.Hour) // a day given as the last one included
	}
	if user := q.Get("user"); user != "" {
		if f.UserID, err = strconv.ParseInt(user, 10, 64); err != nil || f.UserID <= 0 {
			return f, badRequest("query parameter user must be a member's id")
		}
	}
	return f, nil
}

func (s *Server) uiAudit(w http.ResponseWriter, r *http.Request, v *viewer) error {
	f, err := s.auditFilter(r, v)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	var before domain.Position
	if b := q.Get("before"); b != "" {
		var ok bool
		if before, ok = parseLivePos(b); !ok {
			return badRequest("query parameter before must be a position from an Older events link")
		}
	}
	members, err := s.deps.Queries.Users(r.Context(), v.AccountID)
	if err != nil {
		return err
	}
	names := map[int64]string{}
	for _, m := range members {
		names[m.ID] = m.Email
		if m.FullName != "" {
			names[m.ID] = m.FullName + " (" + m.Email + ")"
		}
	}
	events, next, err := projections.AuditPage(r.Context(), s.deps.Store, f, before, uiAuditPageSize)
	if err != nil {
		return err
	}
	d := uiAuditData{Filter: q, Stream: f.Stream, Type: f.Type, UserID: f.UserID, Since: q.Get("since"), Until: q.Get("until"),
		Types: domain.EventTypes(), Members: members}
	for _, e := range events {
		d.Events = append(d.Events, uiAuditEvent{Sequence: e.Sequence, Type: e.Type, Stream: e.StreamID, RecordedAt: e.RecordedAt,
			Actor: auditActor(e.Metadata, names), Data: indentJSON(e.Data)})
	}
	if next != (domain.Position{}) {
		d.Older = uiQuery(q, "before", formatLivePos(next))
	}
	return s.render(w, r, http.StatusOK, "audit", uiPage{Title: "Audit log", Nav: "settings", Sub: "audit", Viewer: v, Data: d})
}

// auditActor names who did it, for people.
func auditActor(m domain.Metadata, names map[int64]string) string {
	switch m.ActorType {
	case domain.ActorUser:
		if n, ok := names[m.ActorID]; ok {
			return n
		}
		return "member " + strconv.FormatInt(m.ActorID, 10) + " (no longer in the team)"
	case domain.ActorAPIKey:
		return "API key " + strconv.FormatInt(m.ActorID, 10)
	case domain.ActorProbe:
		return "probe of region " + strconv.FormatInt(m.ActorID, 10)
	case domain.ActorSystem, "":
		return "Media Luna (automatic)"
	}
	return m.ActorType
}

func indentJSON(data json.RawMessage) string {
	var v any
	if json.Unmarshal(data, &v) != nil {
		return string(data)
	}
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return string(data)
	}
	return string(out)
}

// uiAuditExport downloads the filtered events, oldest first, as the API's
// export does (CSV or NDJSON, streamed).
func (s *Server) uiAuditExport(w http.ResponseWriter, r *http.Request, v *viewer) error {
	f, err := s.auditFilter(r, v)
	if err != nil {
		return err
	}
	format := r.URL.Query().Get("format")
	if format != "csv" && format != "ndjson" {
		return badRequest("query parameter format must be csv or ndjson")
	}
	if format == "ndjson" {
		w.Header().Set("Content-Disposition", `attachment; filename="medialuna-audit.ndjson"`)
	}
	s.streamAudit(w, r, format, f)
	return nil
}
