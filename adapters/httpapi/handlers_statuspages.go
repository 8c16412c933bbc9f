package httpapi

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/projections"
)

// PublicSite serves the public status pages (adapters/statushtml, wired
// in by main). The API hands it the requests it owns and tells it when a
// page changed.
type PublicSite interface {
	http.Handler
	// Owns reports whether the site answers r: its paths, or any request
	// for a host under the status domain.
	Owns(r *http.Request) bool
	// Invalidate drops what the site cached for a subdomain.
	Invalidate(subdomain string)
	// URL is the public address of the page with a subdomain.
	URL(subdomain string) string
	// RenderPreview renders a page, saved or not, public or a draft, as
	// its public page would show it now, with the Content-Security-Policy
	// to serve it with (the page's own but for frame-ancestors 'self').
	RenderPreview(ctx context.Context, page projections.StatusPageView) (body []byte, csp string, err error)
}

// statusPageView is a page as the API shows it, with its public address.
type statusPageView struct {
	projections.StatusPageView
	URL string `json:"url"`
}

func (s *Server) pageView(v projections.StatusPageView) statusPageView {
	out := statusPageView{StatusPageView: v}
	if s.deps.StatusSite != nil {
		out.URL = s.deps.StatusSite.URL(v.Subdomain)
	}
	return out
}

func (s *Server) invalidatePage(subdomains ...string) {
	if s.deps.StatusSite == nil {
		return
	}
	for _, sub := range subdomains {
		if sub != "" {
			s.deps.StatusSite.Invalidate(sub)
		}
	}
}

func (s *Server) listStatusPages(w http.ResponseWriter, r *http.Request, p *principal) error {
	skip, limit, err := paging(r)
	if err != nil {
		return err
	}
	list, err := s.deps.Queries.StatusPages(r.Context(), p.AccountID)
	if err != nil {
		return err
	}
	out := make([]statusPageView, 0, len(list))
	for _, v := range window(list, skip, limit) {
		out = append(out, s.pageView(v))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) getStatusPage(w http.ResponseWriter, r *http.Request, p *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	v, err := s.deps.Queries.StatusPage(r.Context(), p.AccountID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.pageView(v))
	return nil
}

func (s *Server) createStatusPage(w http.ResponseWriter, r *http.Request, p *principal) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	var required struct {
		Title     *string `json:"title"`
		Subdomain *string `json:"subdomain"`
	}
	if err := decodeBytes(body, &required); err != nil {
		return err
	}
	cfg := domain.StatusPageConfig{IsPublic: true, MonitorIDs: []int64{}}
	if err := decodeBytes(body, &cfg); err != nil {
		return err
	}
	var v domain.Validation
	if required.Title == nil {
		v.Add("title", "missing", "field required")
	}
	if required.Subdomain == nil {
		v.Add("subdomain", "missing", "field required")
	}
	if v.Err() != nil {
		// Every failing field at once, the account's monitors taken as
		// its own (the command checks them).
		probe := cfg
		v.Join(probe.Validate(func(int64) bool { return true }))
		return v.Err()
	}
	id, pos, err := s.deps.CreateStatusPage.Handle(r.Context(), commands.CreateStatusPage{Actor: p.actor(r), Plan: p.Plan, Config: cfg})
	if err != nil {
		return err
	}
	if err := s.visible(r, pos, "id", id); err != nil {
		return err
	}
	view, err := s.deps.Queries.StatusPage(r.Context(), p.AccountID, id)
	if err != nil {
		return err
	}
	s.invalidatePage(view.Subdomain)
	writeJSON(w, http.StatusCreated, s.pageView(view))
	return nil
}

func (s *Server) updateStatusPage(w http.ResponseWriter, r *http.Request, p *principal) error {
	var before string
	if id, err := pathID(r, "id"); err == nil {
		if v, err := s.deps.Queries.StatusPage(r.Context(), p.AccountID, id); err == nil {
			before = v.Subdomain
		}
	}
	return s.patch(w, r, p, &domain.StatusPageConfig{}, func(id int64, patch json.RawMessage) (domain.Position, error) {
		return s.deps.UpdateStatusPage.Handle(r.Context(), commands.UpdateStatusPage{Actor: p.actor(r), StatusPageID: id, Change: overlay[domain.StatusPageConfig](patch)})
	}, func(w http.ResponseWriter, r *http.Request, p *principal) error {
		id, _ := pathID(r, "id")
		v, err := s.deps.Queries.StatusPage(r.Context(), p.AccountID, id)
		if err != nil {
			return err
		}
		s.invalidatePage(before, v.Subdomain)
		writeJSON(w, http.StatusOK, s.pageView(v))
		return nil
	})
}

func (s *Server) deleteStatusPage(w http.ResponseWriter, r *http.Request, p *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	v, err := s.deps.Queries.StatusPage(r.Context(), p.AccountID, id)
	if err != nil {
		return err
	}
	pos, err := s.deps.DeleteStatusPage.Handle(r.Context(), commands.DeleteStatusPage{Actor: p.actor(r), StatusPageID: id})
	if err != nil {
		return err
	}
	s.settle(r, pos)
	s.invalidatePage(v.Subdomain)
	writeJSON(w, http.StatusNoContent, nil)
	return nil
}
