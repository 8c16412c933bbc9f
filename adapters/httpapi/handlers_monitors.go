package httpapi

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/projections"
)

func (s *Server) listMonitors(w http.ResponseWriter, r *http.Request, p *principal) error {
	skip, limit, err := paging(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := projections.MonitorFilter{Status: q.Get("status"), Type: strings.ToUpper(q.Get("type")), Tag: q.Get("tag"), Search: q.Get("search")}
	if f.Status != "" && !slices.Contains([]string{"up", "down", "paused", "pending"}, f.Status) {
		return badRequest("query parameter status must be one of up, down, paused, pending")
	}
	if f.Type != "" && !slices.Contains(domain.MonitorTypes(), domain.MonitorType(f.Type)) {
		return badRequest("query parameter type must be one of HTTP, HEAD, TCP, DNS, SMTP, SSH, PING, PUSH")
	}
	list, err := s.deps.Queries.Monitors(r.Context(), p.AccountID, f, skip, limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

func (s *Server) createMonitor(w http.ResponseWriter, r *http.Request, p *principal) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	cfg, err := monitorCreateConfig(body)
	if err != nil {
		return err
	}
	id, pos, err := s.deps.CreateMonitor.Handle(r.Context(), commands.CreateMonitor{Actor: p.actor(r), Plan: p.Plan, Config: cfg})
	if err != nil {
		return err
	}
	if err := s.visible(r, pos, "id", id); err != nil {
		return err
	}
	m, err := s.deps.Queries.Monitor(r.Context(), p.AccountID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, m)
	return nil
}

func (s *Server) getMonitor(w http.ResponseWriter, r *http.Request, p *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	m, err := s.deps.Queries.Monitor(r.Context(), p.AccountID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

func (s *Server) updateMonitor(w http.ResponseWriter, r *http.Request, p *principal) error {
	return s.patch(w, r, p, &domain.MonitorConfig{}, func(id int64, patch json.RawMessage) (domain.Position, error) {
		return s.deps.UpdateMonitor.Handle(r.Context(), commands.UpdateMonitor{Actor: p.actor(r), Plan: p.Plan, MonitorID: id, Change: patchMonitorConfig(patch)})
	}, s.getMonitor)
}

func (s *Server) deleteMonitor(w http.ResponseWriter, r *http.Request, p *principal) error {
	return s.monitorAction(w, r, p, "delete")
}

func (s *Server) pauseMonitor(w http.ResponseWriter, r *http.Request, p *principal) error {
	return s.monitorAction(w, r, p, "pause")
}

func (s *Server) resumeMonitor(w http.ResponseWriter, r *http.Request, p *principal) error {
	return s.monitorAction(w, r, p, "resume")
}

func (s *Server) monitorAction(w http.ResponseWriter, r *http.Request, p *principal, action string) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	pos, err := s.deps.SetMonitorState.Handle(r.Context(), commands.SetMonitorState{Actor: p.actor(r), MonitorID: id, Action: action})
	if err != nil {
		return err
	}
	if action == "delete" {
		s.settle(r, pos)
		writeJSON(w, http.StatusNoContent, nil)
		return nil
	}
	if err := s.visible(r, pos, "id", id); err != nil {
		return err
	}
	return s.getMonitor(w, r, p)
}

// bulkResult says what happened to one monitor of a bulk request.
type bulkResult struct {
	MonitorID int64  `json:"monitor_id"`
	Status    string `json:"status"` // ok, not_found, error
	Detail    string `json:"detail,omitempty"`
}

func (s *Server) bulkMonitors(w http.ResponseWriter, r *http.Request, p *principal) error {
	var body struct {
		Action     *string  `json:"action"`
		MonitorIDs *[]int64 `json:"monitor_ids"`
		TagIDs     []int64  `json:"tag_ids"`
	}
	if err := decode(r, &body); err != nil {
		return err
	}
	var v domain.Validation
	if body.Action == nil {
		v.Add("action", "missing", "field required")
	} else if !commands.IsMonitorStateAction(*body.Action) {
		v.Add("action", "enum", "action must be one of %s", strings.Join(commands.MonitorStateActions(), ", "))
	}
	if body.MonitorIDs == nil {
		v.Add("monitor_ids", "missing", "field required")
	} else if len(*body.MonitorIDs) > 1000 {
		v.Add("monitor_ids", "value_error", "at most 1000 monitors per request")
	}
	if body.Action != nil && strings.HasSuffix(*body.Action, "_tags") && len(body.TagIDs) == 0 {
		v.Add("tag_ids", "missing", "tag_ids is required for %s", *body.Action)
	}
	if err := v.Err(); err != nil {
		return err
	}
	results := []bulkResult{}
	var last domain.Position
	succeeded := 0
	for _, id := range *body.MonitorIDs {
		pos, err := s.deps.SetMonitorState.Handle(r.Context(), commands.SetMonitorState{Actor: p.actor(r), MonitorID: id, Action: *body.Action, TagIDs: body.TagIDs})
		res := bulkResult{MonitorID: id, Status: "ok"}
		switch domain.ErrorCode(err) {
		case "":
			succeeded++
			if last.Less(pos) {
				last = pos
			}
		case domain.ErrNotFound:
			res.Status, res.Detail = "not_found", "monitor not found"
		case domain.ErrInvalid:
			// The same for every id (an unknown tag): refuse the request.
			return err
		default:
			res.Status, res.Detail = "error", domain.ErrorMessage(err)
		}
		results = append(results, res)
	}
	s.settle(r, last)
	writeJSON(w, http.StatusOK, map[string]any{"action": *body.Action, "succeeded": succeeded, "failed": len(results) - succeeded, "results": results})
	return nil
}

func (s *Server) monitorHistory(w http.ResponseWriter, r *http.Request, p *principal) error {
	id, hours, err := s.monitorWindow(r, p, 24*31)
	if err != nil {
		return err
	}
	skip, limit, err := paging(r)
	if err != nil {
		return err
	}
	rows, err := s.deps.Queries.History(r.Context(), id, s.deps.Now().Add(-time.Duration(hours)*time.Hour), skip, limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rows)
	return nil
}

// ownMonitor returns the path's monitor id after checking the account owns it.
func (s *Server) ownMonitor(r *http.Request, p *principal) (int64, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, err
	}
	if _, err := s.deps.Queries.Monitor(r.Context(), p.AccountID, id); err != nil {
		return 0, err
	}
	return id, nil
}

func (s *Server) listTags(w http.ResponseWriter, r *http.Request, p *principal) error {
	tags, err := s.deps.Queries.Tags(r.Context(), p.AccountID)
	if err != nil {
		return err
	}
	return writePaged(w, r, tags)
}

func (s *Server) createTag(w http.ResponseWriter, r *http.Request, p *principal) error {
	var body struct {
		Name  *string `json:"name"`
		Color string  `json:"color"`
	}
	if err := decode(r, &body); err != nil {
		return err
	}
	if body.Name == nil {
		return domain.Invalid("name", "missing", "field required")
	}
	id, pos, err := s.deps.CreateTag.Handle(r.Context(), commands.CreateTag{Actor: p.actor(r), Name: *body.Name, Color: body.Color})
	if err != nil {
		return err
	}
	if err := s.visible(r, pos, "id", id); err != nil {
		return err
	}
	tags, err := s.deps.Queries.Tags(r.Context(), p.AccountID)
	if err != nil {
		return err
	}
	for _, t := range tags {
		if t.ID == id {
			writeJSON(w, http.StatusCreated, t)
			return nil
		}
	}
	return domain.Errorf(domain.ErrInternal, "tag %d not projected", id)
}

func (s *Server) deleteTag(w http.ResponseWriter, r *http.Request, p *principal) error {
	return s.remove(w, r, func(id int64) (domain.Position, error) {
		return s.deps.DeleteTag.Handle(r.Context(), commands.DeleteTag{Actor: p.actor(r), TagID: id})
	})
}

func (s *Server) publicRegions(w http.ResponseWriter, r *http.Request, _ *principal) error {
	regions, err := s.deps.Queries.Regions(r.Context())
	if err != nil {
		return err
	}
	return writePaged(w, r, regions)
}

// batchEntry is the outcome of one monitor of a batch create: the monitor
// as POST /api/monitors would answer it, or its refusal, with the status
// and detail that POST would have answered (422's detail a list of
// {loc, msg, type} whose loc names the entry's own field).
type batchEntry struct {
	Index      int                      `json:"index"`
	Status     string                   `json:"status"` // created, failed
	MonitorID  int64                    `json:"monitor_id,omitempty"`
	Monitor    *projections.MonitorView `json:"monitor,omitempty"`
	StatusCode int                      `json:"status_code,omitempty"`
	Detail     any                      `json:"detail,omitempty"`
}

// createMonitors is POST /api/monitors/batch: up to
// commands.MaxBatchMonitors monitor-create bodies judged one by one, their
// slots reserved and their events appended together, and one wait for the
// read models before the answer.
func (s *Server) createMonitors(w http.ResponseWriter, r *http.Request, p *principal) error {
	var body struct {
		Monitors *[]json.RawMessage `json:"monitors"`
	}
	if err := decode(r, &body); err != nil {
		return err
	}
	var v domain.Validation
	if body.Monitors == nil {
		v.Add("monitors", "missing", "field required")
	} else if len(*body.Monitors) > commands.MaxBatchMonitors {
		v.Add("monitors", "value_error", "at most %d monitors per request; this one holds %d", commands.MaxBatchMonitors, len(*body.Monitors))
	}
	if err := v.Err(); err != nil {
		return err
	}
	entries := *body.Monitors
	cmd := commands.CreateMonitors{Actor: p.actor(r), Plan: p.Plan, Configs: make([]domain.MonitorConfig, len(entries)), Refused: make([]error, len(entries))}
	for i, raw := range entries {
		cmd.Configs[i], cmd.Refused[i] = monitorCreateConfig(raw)
	}
	results, pos, err := s.deps.CreateMonitors.Handle(r.Context(), cmd)
	if err != nil {
		return err
	}
	out := make([]batchEntry, len(results))
	var ids []int64
	created := 0
	for i, res := range results {
		out[i] = batchEntry{Index: i, Status: "created", MonitorID: res.ID}
		if res.Err != nil {
			out[i].Status = "failed"
			out[i].StatusCode, out[i].Detail = errorBody(res.Err)
			continue
		}
		created++
		ids = append(ids, res.ID)
	}
	answer := map[string]any{"created": created, "failed": len(results) - created, "results": out}
	if err := s.visible(r, pos); err != nil {
		// Recorded, not yet readable: the ids stand, the monitors follow.
		answer["recorded"] = true
		answer["detail"] = "The monitors were created, but the server's read models are behind, so they do not show yet; read them again in a moment. Do not repeat the request."
		writeJSON(w, http.StatusAccepted, answer)
		return nil
	}
	views, err := s.deps.Queries.MonitorsByID(r.Context(), p.AccountID, ids)
	if err != nil {
		return err
	}
	byID := make(map[int64]*projections.MonitorView, len(views))
	for i := range views {
		byID[views[i].ID] = &views[i]
	}
	for i := range out {
		if out[i].Status == "created" {
			out[i].Monitor = byID[out[i].MonitorID]
		}
	}
	writeJSON(w, http.StatusOK, answer)
	return nil
}

// monitorCreateConfig decodes one monitor-create body as POST /api/monitors
// does: the defaults, then the given fields, then the required ones.
func monitorCreateConfig(body []byte) (domain.MonitorConfig, error) {
	var given struct {
		Name *string `json:"name"`
		Type *string `json:"type"`
		URL  *string `json:"url"`
	}
	if err := decodeBytes(body, &given); err != nil {
		return domain.MonitorConfig{}, err
	}
	cfg := domain.DefaultMonitorConfig()
	if err := decodeBytes(body, &cfg); err != nil {
		return domain.MonitorConfig{}, err
	}
	return domain.NewMonitorConfig(cfg, domain.MonitorGiven{Name: given.Name != nil, Type: given.Type != nil, URL: given.URL != nil})
}
