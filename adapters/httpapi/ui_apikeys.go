package httpapi

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/projections"
)

// The API keys page, /settings/api-keys: the signed-in user's own keys
// (name, prefix, scopes, created, expiry, last use, state), a form to
// create one with the scopes their role allows, and revocation with a
// confirmation. The full key is shown once: the creating POST seals it
// into a short-lived cookie only this session can open, and the page it
// redirects to opens and deletes that cookie; a reload finds nothing.

func (s *Server) uiAPIKeyRoutes() {
	s.uiRoute("GET", "/settings/api-keys", domain.RoleViewer, s.uiAPIKeys)
	s.uiRoute("POST", "/settings/api-keys", domain.RoleViewer, s.uiCreateAPIKey)
	s.uiRoute("GET", "/settings/api-keys/{id:[0-9]+}/created", domain.RoleViewer, s.uiAPIKeyCreated)
	s.uiRoute("GET", "/settings/api-keys/{id:[0-9]+}/revoke", domain.RoleViewer, s.uiRevokeAPIKeyPage)
	s.uiRoute("POST", "/settings/api-keys/{id:[0-9]+}/revoke", domain.RoleViewer, s.uiRevokeAPIKey)
}

// apiKeyOnceCookie carries a new key from the POST to the page that shows it.
const apiKeyOnceCookie = "medialuna_once"

type uiAPIKeyRow struct {
	projections.APIKeyRow
	State string // active or expired (revoked keys are not listed)
}

type uiAPIKeysData struct {
	Keys   []uiAPIKeyRow
	Scopes []domain.Scope // what the viewer's role may grant
	// The form's values after a refusal.
	Name      string
	Chosen    map[string]bool
	ExpiresAt string
	Today     string
	// The created page's.
	Created *projections.APIKeyRow
	Key     string
	// The revoke confirmation's.
	Revoke *projections.APIKeyRow
}

func (s *Server) apiKeysData(r *http.Request, v *viewer) (uiAPIKeysData, error) {
	keys, err := s.deps.Queries.APIKeys(r.Context(), v.AccountID, v.UserID)
	if err != nil {
		return uiAPIKeysData{}, err
	}
	now := s.deps.Now()
	d := uiAPIKeysData{Scopes: domain.ScopesFor(v.Role), Chosen: map[string]bool{}, Today: now.UTC().Format("2006-01-02")}
	for _, k := range keys {
		state := "active"
		if k.ExpiresAt != nil && !now.Before(*k.ExpiresAt) {
			state = "expired"
		}
		d.Keys = append(d.Keys, uiAPIKeyRow{APIKeyRow: k, State: state})
	}
	return d, nil
}

func (s *Server) uiAPIKeys(w http.ResponseWriter, r *http.Request, v *viewer) error {
	d, err := s.apiKeysData(r, v)
	if err != nil {
		return err
	}
	d.Chosen[string(domain.ScopeReadMonitors)] = true
	return s.render(w, r, http.StatusOK, "apikeys", uiPage{Title: "API keys", Nav: "settings", Sub: "api-keys", Viewer: v, Data: d})
}

func (s *Server) uiCreateAPIKey(w http.ResponseWriter, r *http.Request, v *viewer) error {
	name, scopes, expiry := r.PostFormValue("name"), r.PostForm["scopes"], strings.TrimSpace(r.PostFormValue("expires_at"))
	refuse := func(err error) error {
		errs, ok := formErrors(err)
		if !ok {
			return err
		}
		d, derr := s.apiKeysData(r, v)
		if derr != nil {
			return derr
		}
		d.Name, d.ExpiresAt = name, expiry
		for _, sc := range scopes {
			d.Chosen[sc] = true
		}
		return s.render(w, r, statusOf(domain.ErrorCode(err)), "apikeys", uiPage{Title: "API keys", Nav: "settings", Sub: "api-keys", Viewer: v, Errors: errs, Data: d})
	}
	var expires *time.Time
	if expiry != "" {
		day, err := time.Parse("2006-01-02", expiry)
		if err != nil {
			return refuse(domain.Invalid("expires_at", "value_error", "the expiry must be a date such as %s", s.deps.Now().UTC().AddDate(0, 3, 0).Format("2006-01-02")))
		}
		end := day.Add(24 * time.Hour) // the key works through the chosen day (UTC)
		expires = &end
	}
	res, err := s.deps.CreateAPIKey.Handle(r.Context(), commands.CreateAPIKey{Actor: v.actor(r), Role: v.Role, Plan: v.Plan,
		Name: name, Scopes: scopes, ExpiresAt: expires})
	if err != nil {
		return refuse(err)
	}
	sealed, err := s.sealForSession(v, "api key", strconv.FormatInt(res.ID, 10)+":"+res.Key)
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: apiKeyOnceCookie, Value: sealed, Path: "/settings/api-keys/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: s.deps.SecureCookies || r.TLS != nil, MaxAge: 300})
	s.settleUI(w, r, res.Position, "API key created.")
	return redirect(w, r, "/settings/api-keys/"+strconv.FormatInt(res.ID, 10)+"/created")
}

func (s *Server) uiAPIKeyCreated(w http.ResponseWriter, r *http.Request, v *viewer) error {
	id := teamPathID(r)
	k, err := s.deps.Queries.APIKey(r.Context(), v.AccountID, id)
	if err != nil {
		return err
	}
	if k.UserID != v.UserID {
		return domain.Errorf(domain.ErrNotFound, "API key not found")
	}
	d := uiAPIKeysData{Created: &k}
	if c, err := r.Cookie(apiKeyOnceCookie); err == nil {
		// Whatever it holds, it is read once.
		http.SetCookie(w, &http.Cookie{Name: apiKeyOnceCookie, Value: "", Path: "/settings/api-keys/", MaxAge: -1})
		if text, ok := s.openForSession(v, "api key", c.Value); ok {
			if keyID, key, _ := strings.Cut(text, ":"); keyID == strconv.FormatInt(id, 10) {
				d.Key = key
			}
		}
	}
	return s.render(w, r, http.StatusOK, "apikey_created", uiPage{Title: "API key created", Nav: "settings", Sub: "api-keys", Viewer: v, Data: d})
}

// ownAPIKey is one of the viewer's own keys, not revoked.
func (s *Server) ownAPIKey(r *http.Request, v *viewer) (projections.APIKeyRow, error) {
	k, err := s.deps.Queries.APIKey(r.Context(), v.AccountID, teamPathID(r))
	if err != nil {
		return k, err
	}
	if k.UserID != v.UserID || k.RevokedAt != nil {
		return k, domain.Errorf(domain.ErrNotFound, "API key not found")
	}
	return k, nil
}

func (s *Server) uiRevokeAPIKeyPage(w http.ResponseWriter, r *http.Request, v *viewer) error {
	k, err := s.ownAPIKey(r, v)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "apikey_revoke", uiPage{Title: "Revoke an API key", Nav: "settings", Sub: "api-keys", Viewer: v,
		Data: uiAPIKeysData{Revoke: &k}})
}

func (s *Server) uiRevokeAPIKey(w http.ResponseWriter, r *http.Request, v *viewer) error {
	k, err := s.ownAPIKey(r, v)
	if err != nil {
		return err
	}
	pos, err := s.deps.RevokeAPIKey.Handle(r.Context(), commands.RevokeAPIKey{Actor: v.actor(r), Role: v.Role, KeyID: k.ID})
	if err != nil {
		return err
	}
	s.settleUI(w, r, pos, "API key "+k.Name+" revoked; it no longer works.")
	return redirect(w, r, "/settings/api-keys")
}
