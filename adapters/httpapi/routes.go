package httpapi

import (
	"net/http"

	"github.com/medialuna/medialuna/domain"
)

func (s *Server) routes() {
	r := s.router
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"detail": "no such endpoint: " + r.Method + " " + r.URL.Path})
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"detail": "method " + r.Method + " is not allowed on " + r.URL.Path})
	})
	public := access{public: true}

	s.handle("GET", "/healthz", public, s.healthz)
	s.handle("GET", "/api/plans", public, s.listPlans)

	s.handle("POST", "/api/auth/signup", public, s.signup)
	s.handle("POST", "/api/auth/login", public, s.login)
	s.handle("POST", "/api/auth/accept-invite", public, s.acceptInvite)

	s.handle("GET", "/api/users/me", jwtOnly(domain.RoleViewer), s.me)
	s.handle("GET", "/api/users/api-keys", jwtOnly(domain.RoleViewer), s.listAPIKeys)
	s.handle("POST", "/api/users/api-keys", jwtOnly(domain.RoleViewer), s.createAPIKey)
	s.handle("DELETE", "/api/users/api-keys/{id}", jwtOnly(domain.RoleViewer), s.revokeAPIKey)

	s.handle("GET", "/api/accounts/users", jwtOnly(domain.RoleViewer), s.listUsers)
	s.handle("POST", "/api/accounts/users/invite", jwtOnly(domain.RoleAdmin), s.inviteUser)
	s.handle("GET", "/api/accounts/invites", jwtOnly(domain.RoleAdmin), s.listInvites)

	s.handle("GET", "/api/v1/account", keyOrJWT(domain.ScopeReadAccount, domain.RoleViewer), s.getAccount)
	s.handle("PATCH", "/api/v1/account", keyOrJWT(domain.ScopeWriteAccount, domain.RoleAdmin), s.updateAccount)

	s.handle("GET", "/api/admin/projections", jwtOnly(domain.RoleAdmin), s.projectionStatus)
	s.handle("GET", "/api/audit/events", jwtOnly(domain.RoleAdmin), s.auditEvents)
}
