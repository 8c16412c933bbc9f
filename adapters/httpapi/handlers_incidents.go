package httpapi

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/projections"
)

func (s *Server) listIncidents(w http.ResponseWriter, r *http.Request, p *principal) error {
	skip, limit, err := paging(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := projections.IncidentFilter{Type: strings.ToUpper(q.Get("incident_type")), Status: strings.ToUpper(q.Get("status"))}
	if f.Type != "" && !slices.Contains([]string{"DOWN", "SSL_EXPIRY", "PERFORMANCE"}, f.Type) {
		return badRequest("query parameter incident_type must be one of DOWN, SSL_EXPIRY, PERFORMANCE")
	}
	if f.Status != "" && !slices.Contains([]string{"TRIGGERED", "ACKNOWLEDGED", "RESOLVED"}, f.Status) {
		return badRequest("query parameter status must be one of TRIGGERED, ACKNOWLEDGED, RESOLVED")
	}
	monitor, err := intParam(r, "monitor_id", 0, 1, 1<<62)
	if err != nil {
		return err
	}
	f.MonitorID = int64(monitor)
	if f.Start, err = timeParam(r, "start_date"); err != nil {
		return err
	}
	if f.End, err = timeParam(r, "end_date"); err != nil {
		return err
	}
	list, err := s.deps.Queries.IncidentsList(r.Context(), p.AccountID, f, skip, limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

// incidentView is an incident with its timeline.
type incidentView struct {
	projections.IncidentRow
	Timeline any `json:"timeline"`
}

func (s *Server) getIncident(w http.ResponseWriter, r *http.Request, p *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if r.URL.Query().Get("as_of") != "" {
		asOf, err := timeParam(r, "as_of")
		if err != nil {
			return err
		}
		steps, err := s.replayIncident(r, p, id)
		if err != nil {
			return err
		}
		var last *replayStep
		for i := range steps {
			if steps[i].At.After(asOf) {
				break
			}
			last = &steps[i]
		}
		if last == nil {
			return domain.Errorf(domain.ErrNotFound, "incident %d did not exist yet at %s", id, asOf.Format(time.RFC3339))
		}
		writeJSON(w, http.StatusOK, incidentView{IncidentRow: last.State, Timeline: last.Timeline})
		return nil
	}
	inc, timeline, err := s.deps.Queries.Incident(r.Context(), p.AccountID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, incidentView{IncidentRow: inc, Timeline: timeline})
	return nil
}

// replayStep is the incident as it stood right after one event.
type replayStep struct {
	Sequence  uint64                    `json:"sequence"`
	EventType string                    `json:"event_type"`
	At        time.Time                 `json:"at"`
	Actor     domain.Metadata           `json:"actor"`
	Event     any                       `json:"event"`
	State     projections.IncidentRow   `json:"state"`
	Timeline  []projections.TimelineRow `json:"timeline"`
}

// replayIncident folds the incident's stream from the log, event by event:
// post-mortems read what the log says, not what a read model holds now.
func (s *Server) replayIncident(r *http.Request, p *principal, id int64) ([]replayStep, error) {
	// The read model says whether the incident is still the account's to
	// see: a deleted monitor's incidents stay in the log (the audit trail)
	// but leave the API.
	if _, _, err := s.deps.Queries.Incident(r.Context(), p.AccountID, id); err != nil {
		return nil, err
	}
	recs, err := s.deps.Store.ReadStream(r.Context(), domain.IncidentStream(id))
	if err != nil {
		return nil, err
	}
	var inc domain.Incident
	var steps []replayStep
	timeline := []projections.TimelineRow{}
	for _, rec := range recs {
		ev, err := domain.DecodeRecorded(rec)
		if err != nil {
			return nil, err
		}
		if ev == nil {
			continue
		}
		at := rec.Metadata.OccurredAt
		inc.ApplyAt(ev, at)
		if inc.AccountID != p.AccountID {
			return nil, domain.Errorf(domain.ErrNotFound, "incident %d not found", id)
		}
		if entry, ok := domain.Timeline(ev, at); ok {
			timeline = append(timeline, projections.TimelineRow{ID: int64(rec.Sequence), EventType: entry.EventType,
				Message: entry.Message, UserID: entry.UserID, CreatedAt: entry.CreatedAt})
		}
		steps = append(steps, replayStep{Sequence: rec.Sequence, EventType: rec.Type, At: at, Actor: rec.Metadata, Event: ev,
			State: projections.IncidentRow{ID: inc.ID, AccountID: inc.AccountID, MonitorID: inc.MonitorID, Type: string(inc.Type),
				Status: string(inc.Status), Message: inc.Message, StartedAt: inc.StartedAt, AcknowledgedAt: inc.AcknowledgedAt,
				ResolvedAt: inc.ResolvedAt, SnoozedUntil: inc.SnoozedUntil},
			Timeline: append([]projections.TimelineRow(nil), timeline...)})
	}
	if len(steps) == 0 {
		return nil, domain.Errorf(domain.ErrNotFound, "incident %d not found", id)
	}
	return steps, nil
}

func (s *Server) incidentReplay(w http.ResponseWriter, r *http.Request, p *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if _, _, err := paging(r); err != nil {
		return err
	}
	steps, err := s.replayIncident(r, p, id)
	if err != nil {
		return err
	}
	return writePaged(w, r, steps)
}

func (s *Server) incidentCounts(w http.ResponseWriter, r *http.Request, p *principal) error {
	c, err := s.deps.Queries.CountIncidents(r.Context(), p.AccountID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) incidentAction(w http.ResponseWriter, r *http.Request, p *principal, status int, act func(id int64) (domain.Position, error)) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	pos, err := act(id)
	if err != nil {
		return err
	}
	if err := s.visible(r, pos, "id", id); err != nil {
		return err
	}
	inc, timeline, err := s.deps.Queries.Incident(r.Context(), p.AccountID, id)
	if err != nil {
		return err
	}
	writeJSON(w, status, incidentView{IncidentRow: inc, Timeline: timeline})
	return nil
}

func (s *Server) acknowledgeIncident(w http.ResponseWriter, r *http.Request, p *principal) error {
	var body struct {
		Message string `json:"message"`
	}
	if r.ContentLength != 0 {
		if err := decode(r, &body); err != nil {
			return err
		}
	}
	return s.incidentAction(w, r, p, http.StatusOK, func(id int64) (domain.Position, error) {
		return s.deps.AcknowledgeIncident.Handle(r.Context(), commands.AcknowledgeIncident{Actor: p.actor(r), IncidentID: id, Message: body.Message})
	})
}

func (s *Server) snoozeIncident(w http.ResponseWriter, r *http.Request, p *principal) error {
	var body struct {
		DurationMinutes *int   `json:"duration_minutes"`
		Reason          string `json:"reason"`
	}
	if err := decode(r, &body); err != nil {
		return err
	}
	if body.DurationMinutes == nil {
		return domain.Invalid("duration_minutes", "missing", "field required")
	}
	return s.incidentAction(w, r, p, http.StatusOK, func(id int64) (domain.Position, error) {
		return s.deps.SnoozeIncident.Handle(r.Context(), commands.SnoozeIncident{Actor: p.actor(r), IncidentID: id, Minutes: *body.DurationMinutes, Reason: body.Reason})
	})
}

func (s *Server) commentIncident(w http.ResponseWriter, r *http.Request, p *principal) error {
	var body struct {
		Message *string `json:"message"`
		Public  bool    `json:"public"`
	}
	if err := decode(r, &body); err != nil {
		return err
	}
	if body.Message == nil {
		return domain.Invalid("message", "missing", "field required")
	}
	return s.incidentAction(w, r, p, http.StatusCreated, func(id int64) (domain.Position, error) {
		return s.deps.CommentIncident.Handle(r.Context(), commands.CommentIncident{Actor: p.actor(r), IncidentID: id, Message: *body.Message, Public: body.Public})
	})
}
