package httpapi

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/projections"
)

func (s *Server) listMaintenance(w http.ResponseWriter, r *http.Request, p *principal) error {
	activeOnly := false
	switch v := r.URL.Query().Get("active_only"); v {
	case "", "false", "0":
	case "true", "1":
		activeOnly = true
	default:
		return badRequest("query parameter active_only must be true or false")
	}
	skip, limit, err := paging(r)
	if err != nil {
		return err
	}
	all, err := s.deps.Queries.MaintenanceWindows(r.Context(), p.AccountID, s.deps.Now())
	if err != nil {
		return err
	}
	out := []projections.WindowView{}
	for _, w := range all {
		if !activeOnly || w.IsActive {
			out = append(out, w)
		}
	}
	writeJSON(w, http.StatusOK, window(out, skip, limit))
	return nil
}

// activeMaintenance lists the windows in effect now: enabled, and now
// within one of their occurrences.
func (s *Server) activeMaintenance(w http.ResponseWriter, r *http.Request, p *principal) error {
	all, err := s.deps.Queries.MaintenanceWindows(r.Context(), p.AccountID, s.deps.Now())
	if err != nil {
		return err
	}
	out := []projections.WindowView{}
	for _, w := range all {
		if w.InEffect {
			out = append(out, w)
		}
	}
	return writePaged(w, r, out)
}

func (s *Server) getMaintenance(w http.ResponseWriter, r *http.Request, p *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	v, err := s.deps.Queries.MaintenanceWindow(r.Context(), p.AccountID, id, s.deps.Now())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) createMaintenance(w http.ResponseWriter, r *http.Request, p *principal) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	var required struct {
		Name      *string `json:"name"`
		StartTime *string `json:"start_time"`
		EndTime   *string `json:"end_time"`
	}
	if err := decodeBytes(body, &required); err != nil {
		return err
	}
	cfg := domain.MaintenanceConfig{IsActive: true, MonitorIDs: []int64{}}
	if err := decodeBytes(body, &cfg); err != nil {
		return err
	}
	var v domain.Validation
	if required.Name == nil {
		v.Add("name", "missing", "field required")
	}
	if required.StartTime == nil {
		v.Add("start_time", "missing", "field required")
	}
	if required.EndTime == nil {
		v.Add("end_time", "missing", "field required")
	}
	if v.Err() != nil {
		// Every failing field at once: what the given fields break on
		// their own, with the account's monitors taken as its own (the
		// command checks them once the body is whole).
		probe := cfg
		v.Join(probe.Validate(time.LoadLocation, func(int64) bool { return true }))
		return v.Err()
	}
	id, pos, err := s.deps.ScheduleMaintenance.Handle(r.Context(), commands.ScheduleMaintenance{Actor: p.actor(r), Config: cfg})
	if err != nil {
		return err
	}
	if err := s.visible(r, pos, "id", id); err != nil {
		return err
	}
	view, err := s.deps.Queries.MaintenanceWindow(r.Context(), p.AccountID, id, s.deps.Now())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, view)
	return nil
}

func (s *Server) updateMaintenance(w http.ResponseWriter, r *http.Request, p *principal) error {
	return s.patch(w, r, p, &domain.MaintenanceConfig{}, func(id int64, patch json.RawMessage) (domain.Position, error) {
		return s.deps.UpdateMaintenance.Handle(r.Context(), commands.UpdateMaintenance{Actor: p.actor(r), WindowID: id, Change: overlay[domain.MaintenanceConfig](patch)})
	}, s.getMaintenance)
}

func (s *Server) toggleMaintenance(w http.ResponseWriter, r *http.Request, p *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	pos, err := s.deps.ToggleMaintenance.Handle(r.Context(), commands.ToggleMaintenance{Actor: p.actor(r), WindowID: id})
	if err != nil {
		return err
	}
	if err := s.visible(r, pos, "id", id); err != nil {
		return err
	}
	return s.getMaintenance(w, r, p)
}

func (s *Server) deleteMaintenance(w http.ResponseWriter, r *http.Request, p *principal) error {
	return s.remove(w, r, func(id int64) (domain.Position, error) {
		return s.deps.DeleteMaintenance.Handle(r.Context(), commands.DeleteMaintenance{Actor: p.actor(r), WindowID: id})
	})
}
