package httpapi

import (
	"encoding/csv"
	"encoding/json"
	"net/http"

	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/projections"
)

func (s *Server) accountView(r *http.Request, accountID int64) (map[string]any, error) {
	acc, err := s.deps.Queries.Account(r.Context(), accountID)
	if err != nil {
		return nil, err
	}
	usage, err := s.deps.Queries.Usage(r.Context(), accountID, s.deps.Now())
	if err != nil {
		return nil, err
	}
	limits, _ := domain.LimitsOf(domain.Plan(acc.Plan))
	return map[string]any{"id": acc.ID, "name": acc.Name, "plan": acc.Plan, "timezone": acc.Timezone,
		"owner_user_id": acc.OwnerUserID, "created_at": acc.CreatedAt, "updated_at": acc.UpdatedAt,
		"usage": usage, "limits": viewPlan(limits.WithIntervalFloor(s.deps.MinCheckInterval))}, nil
}

func (s *Server) getAccount(w http.ResponseWriter, r *http.Request, p *principal) error {
	v, err := s.accountView(r, p.AccountID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) updateAccount(w http.ResponseWriter, r *http.Request, p *principal) error {
	var body struct {
		Name     *string `json:"name"`
		Timezone *string `json:"timezone"`
	}
	if err := decode(r, &body); err != nil {
		return err
	}
	pos, err := s.deps.UpdateAccount.Handle(r.Context(), commands.UpdateAccount{Actor: p.actor(r), Name: body.Name, Timezone: body.Timezone})
	if err != nil {
		return err
	}
	if err := s.visible(r, pos); err != nil {
		return err
	}
	return s.getAccount(w, r, p)
}

func (s *Server) projectionStatus(w http.ResponseWriter, r *http.Request, p *principal) error {
	st, err := s.deps.Queries.ProjectorStatuses(r.Context(), s.deps.Projectors)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

// metrics serves the Prometheus metrics (adapters/metrics) to the operator.
func (s *Server) metrics(w http.ResponseWriter, r *http.Request, _ *principal) error {
	if s.deps.Metrics == nil {
		return domain.Errorf(domain.ErrNotFound, "metrics are off on this server")
	}
	s.deps.Metrics.ServeHTTP(w, r)
	return nil
}

// auditEvents streams the account's events as NDJSON or CSV. Rows are
// written as they are read, so memory stays flat whatever the size.
// streamAudit writes the account's matching events as CSV or NDJSON (the
// API's export and the dashboard's download), flushing as it goes.
func (s *Server) streamAudit(w http.ResponseWriter, r *http.Request, format string, f projections.AuditFilter) {
	flusher, _ := w.(http.Flusher)
	n := 0
	flush := func() {
		n++
		if flusher != nil && n%500 == 0 {
			flusher.Flush()
		}
	}
	var err error
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="medialuna-audit.csv"`)
		cw := csv.NewWriter(w)
		cw.Write(projections.AuditCSVHeader())
		err = projections.ExportAudit(r.Context(), s.deps.Store, f, func(e domain.RecordedEvent) error {
			flush()
			return cw.Write(projections.AuditCSVRecord(e))
		})
		cw.Flush()
	} else {
		w.Header().Set("Content-Type", "application/x-ndjson")
		enc := json.NewEncoder(w)
		err = projections.ExportAudit(r.Context(), s.deps.Store, f, func(e domain.RecordedEvent) error {
			flush()
			return enc.Encode(projections.NewAuditRecord(e))
		})
	}
	if err != nil {
		// Headers are gone; all we can do is log and cut the stream short.
		s.deps.Log.Error("audit export failed midway", "err", err)
	}
}

func (s *Server) auditEvents(w http.ResponseWriter, r *http.Request, p *principal) error {
	q := r.URL.Query()
	format := q.Get("format")
	if format == "" {
		format = "ndjson"
	}
	if format != "ndjson" && format != "csv" {
		return badRequest("query parameter format must be ndjson or csv")
	}
	since, err := timeParam(r, "since")
	if err != nil {
		return err
	}
	until, err := timeParam(r, "until")
	if err != nil {
		return err
	}
	f := projections.AuditFilter{AccountID: p.AccountID, Stream: q.Get("stream"), Type: q.Get("type"), Since: since, Until: until}
	s.streamAudit(w, r, format, f)
	return nil
}

// The team endpoints (ADMIN): change a member's role, remove a member,
// resend or revoke an invitation. Another account's member or invitation
// is a 404; the last ADMIN's demotion or removal a 409.

func (s *Server) changeMemberRole(w http.ResponseWriter, r *http.Request, p *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var body struct {
		Role *string `json:"role"`
	}
	if err := decode(r, &body); err != nil {
		return err
	}
	var v domain.Validation
	required(&v, "role", body.Role)
	if err := v.Err(); err != nil {
		return err
	}
	pos, err := s.deps.ChangeMemberRole.Handle(r.Context(), commands.ChangeMemberRole{Actor: p.actor(r), UserID: id, Role: *body.Role})
	if err != nil {
		return err
	}
	if err := s.visible(r, pos, "id", id, "role", *body.Role); err != nil {
		return err
	}
	u, err := s.deps.Queries.User(r.Context(), p.AccountID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

func (s *Server) removeMemberAPI(w http.ResponseWriter, r *http.Request, p *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := s.removeTeamMember(r, p.actor(r), id); err != nil {
		return err
	}
	writeJSON(w, http.StatusNoContent, nil)
	return nil
}

func (s *Server) resendInvite(w http.ResponseWriter, r *http.Request, p *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	newID, pos, err := s.deps.ResendInvite.Handle(r.Context(), commands.ResendInvite{Actor: p.actor(r), InviteID: id})
	if err != nil {
		return err
	}
	if err := s.visible(r, pos, "id", newID, "replaces", id); err != nil {
		return err
	}
	invites, err := s.deps.Queries.PendingInvites(r.Context(), p.AccountID, s.deps.Now())
	if err != nil {
		return err
	}
	for _, inv := range invites {
		if inv.ID == newID {
			writeJSON(w, http.StatusOK, map[string]any{"id": inv.ID, "email": inv.Email, "role": inv.Role, "status": "pending",
				"expires_at": inv.ExpiresAt, "replaces": id, "detail": "Invitation sent again to " + inv.Email + "; the old link no longer works"})
			return nil
		}
	}
	return domain.Errorf(domain.ErrNotFound, "invitation not found")
}

func (s *Server) revokeInvite(w http.ResponseWriter, r *http.Request, p *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	pos, err := s.deps.RevokeInvite.Handle(r.Context(), commands.RevokeInvite{Actor: p.actor(r), InviteID: id})
	if err != nil {
		return err
	}
	s.settle(r, pos)
	writeJSON(w, http.StatusNoContent, nil)
	return nil
}
