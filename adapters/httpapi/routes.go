package httpapi

import (
	"net/http"

	"github.com/medialuna/medialuna/domain"
)

func (s *Server) routes() {
	r := s.router
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ownsUI(r) && r.Method == http.MethodGet {
			uiSecurityHeaders(w)
			v, _ := s.uiViewer(r)
			s.uiError(w, r, v, domain.Errorf(domain.ErrNotFound, "There is no page at %s.", r.URL.Path))
			return
		}
		writeJSON(w, http.StatusNotFound, map[string]string{"detail": "no such endpoint: " + r.Method + " " + r.URL.Path})
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"detail": "method " + r.Method + " is not allowed on " + r.URL.Path})
	})
	public := access{public: true}

	s.handle("GET", "/healthz", public, s.healthz)
	s.handle("GET", "/api/plans", public, s.listPlans)
	s.openAPIRoutes()

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
	s.handle("PATCH", "/api/accounts/users/{id}", jwtOnly(domain.RoleAdmin), s.changeMemberRole)
	s.handle("DELETE", "/api/accounts/users/{id}", jwtOnly(domain.RoleAdmin), s.removeMemberAPI)
	s.handle("POST", "/api/accounts/invites/{id}/resend", jwtOnly(domain.RoleAdmin), s.resendInvite)
	s.handle("DELETE", "/api/accounts/invites/{id}", jwtOnly(domain.RoleAdmin), s.revokeInvite)

	s.handle("GET", "/api/v1/account", keyOrJWT(domain.ScopeReadAccount, domain.RoleViewer), s.getAccount)
	s.handle("PATCH", "/api/v1/account", keyOrJWT(domain.ScopeWriteAccount, domain.RoleAdmin), s.updateAccount)

	s.handle("GET", "/api/v1/monitors", keyOrJWT(domain.ScopeReadMonitors, domain.RoleViewer), s.listMonitors)
	s.handle("POST", "/api/v1/monitors", keyOrJWT(domain.ScopeWriteMonitors, domain.RoleEditor), s.createMonitor)
	s.handle("GET", "/api/v1/monitors/{id}", keyOrJWT(domain.ScopeReadMonitors, domain.RoleViewer), s.getMonitor)
	s.handle("PUT", "/api/v1/monitors/{id}", keyOrJWT(domain.ScopeWriteMonitors, domain.RoleEditor), s.updateMonitor)
	s.handle("DELETE", "/api/v1/monitors/{id}", keyOrJWT(domain.ScopeDeleteMonitors, domain.RoleEditor), s.deleteMonitor)
	s.handle("POST", "/api/monitors/bulk", jwtOnly(domain.RoleEditor), s.bulkMonitors)
	s.handle("POST", "/api/monitors/batch", jwtOnly(domain.RoleEditor), s.createMonitors)
	s.handle("POST", "/api/monitors/import", jwtOnly(domain.RoleEditor), s.importMonitors)
	s.handle("POST", "/api/monitors/{id}/pause", jwtOnly(domain.RoleEditor), s.pauseMonitor)
	s.handle("POST", "/api/monitors/{id}/resume", jwtOnly(domain.RoleEditor), s.resumeMonitor)
	s.handle("GET", "/api/monitors/{id}/history", jwtOnly(domain.RoleViewer), s.monitorHistory)

	s.handle("GET", "/api/tags", jwtOnly(domain.RoleViewer), s.listTags)
	s.handle("POST", "/api/tags", jwtOnly(domain.RoleEditor), s.createTag)
	s.handle("DELETE", "/api/tags/{id}", jwtOnly(domain.RoleEditor), s.deleteTag)

	s.handle("GET", "/api/v1/metrics/monitors/{id}", keyOrJWT(domain.ScopeReadMetrics, domain.RoleViewer), s.v1Metrics)
	s.handle("GET", "/api/metrics/overview", jwtOnly(domain.RoleViewer), s.metricsOverview)
	s.handle("GET", "/api/metrics/{id}/summary", jwtOnly(domain.RoleViewer), s.metricsSummary)
	s.handle("GET", "/api/metrics/{id}/timeseries", jwtOnly(domain.RoleViewer), s.metricsTimeseries)
	s.handle("GET", "/api/regions/public", public, s.publicRegions)
	s.handle("GET", "/api/regions/monitors/{id}/latency", jwtOnly(domain.RoleViewer), s.regionLatency)

	s.handle("POST", "/api/push/{token}", public, s.pushPing)
	s.handle("GET", "/api/push/{token}", public, s.pushGet)

	s.handle("POST", "/api/probe/register", probeOnly, s.probeRegister)
	s.handle("GET", "/api/probe/assignments", probeOnly, s.probeAssignments)
	s.handle("POST", "/api/probe/results", probeOnly, s.probeResults)

	s.handle("GET", "/api/v1/incidents", keyOrJWT(domain.ScopeReadIncidents, domain.RoleViewer), s.listIncidents)
	s.handle("GET", "/api/v1/incidents/{id}", keyOrJWT(domain.ScopeReadIncidents, domain.RoleViewer), s.getIncident)
	s.handle("GET", "/api/incidents/counts", jwtOnly(domain.RoleViewer), s.incidentCounts)
	s.handle("GET", "/api/incidents/{id}/replay", jwtOnly(domain.RoleViewer), s.incidentReplay)
	s.handle("POST", "/api/incidents/{id}/acknowledge", jwtOnly(domain.RoleEditor), s.acknowledgeIncident)
	s.handle("POST", "/api/incidents/{id}/snooze", jwtOnly(domain.RoleEditor), s.snoozeIncident)
	s.handle("POST", "/api/incidents/{id}/timeline", jwtOnly(domain.RoleEditor), s.commentIncident)

	readMaint, writeMaint := keyOrJWT(domain.ScopeReadMaintenance, domain.RoleViewer), keyOrJWT(domain.ScopeWriteMaintenance, domain.RoleEditor)
	s.handle("GET", "/api/maintenance-windows", readMaint, s.listMaintenance)
	s.handle("POST", "/api/maintenance-windows", writeMaint, s.createMaintenance)
	s.handle("GET", "/api/maintenance-windows/active", readMaint, s.activeMaintenance)
	s.handle("GET", "/api/maintenance-windows/{id}", readMaint, s.getMaintenance)
	s.handle("PUT", "/api/maintenance-windows/{id}", writeMaint, s.updateMaintenance)
	s.handle("DELETE", "/api/maintenance-windows/{id}", writeMaint, s.deleteMaintenance)
	s.handle("POST", "/api/maintenance-windows/{id}/toggle", writeMaint, s.toggleMaintenance)

	s.handle("GET", "/api/notification-channels", jwtOnly(domain.RoleViewer), s.listChannels)
	s.handle("POST", "/api/notification-channels", jwtOnly(domain.RoleEditor), s.createChannel)
	s.handle("GET", "/api/notification-channels/{id}", jwtOnly(domain.RoleViewer), s.getChannel)
	s.handle("PUT", "/api/notification-channels/{id}", jwtOnly(domain.RoleEditor), s.updateChannel)
	s.handle("PATCH", "/api/notification-channels/{id}", jwtOnly(domain.RoleEditor), s.updateChannel)
	s.handle("DELETE", "/api/notification-channels/{id}", jwtOnly(domain.RoleEditor), s.deleteChannel)
	s.handle("GET", "/api/notification-channels/{id}/deliveries", jwtOnly(domain.RoleViewer), s.channelDeliveries)
	s.handle("POST", "/api/notification-channels/{id}/test", jwtOnly(domain.RoleEditor), s.testChannel)
	s.handle("GET", "/api/notification-rules", jwtOnly(domain.RoleViewer), s.listRules)
	s.handle("POST", "/api/notification-rules", jwtOnly(domain.RoleEditor), s.createRule)
	s.handle("GET", "/api/notification-rules/{id}", jwtOnly(domain.RoleViewer), s.getRule)
	s.handle("PATCH", "/api/notification-rules/{id}", jwtOnly(domain.RoleEditor), s.updateRule)
	s.handle("DELETE", "/api/notification-rules/{id}", jwtOnly(domain.RoleEditor), s.deleteRule)

	s.handle("GET", "/api/billing/usage", jwtOnly(domain.RoleViewer), s.billingUsage)
	s.handle("GET", "/api/billing/subscription", jwtOnly(domain.RoleViewer), s.billingSubscription)
	s.handle("POST", "/api/billing/checkout", jwtOnly(domain.RoleAdmin), s.billingCheckout)
	s.handle("POST", "/api/billing/portal", jwtOnly(domain.RoleAdmin), s.billingPortal)
	s.handle("POST", "/api/billing/stripe/webhook", public, s.stripeWebhook)
	// Status pages take a user's JWT only: the reference names no API key
	// scope for them.
	s.handle("GET", "/api/status-pages", jwtOnly(domain.RoleViewer), s.listStatusPages)
	s.handle("POST", "/api/status-pages", jwtOnly(domain.RoleEditor), s.createStatusPage)
	s.handle("GET", "/api/status-pages/{id}", jwtOnly(domain.RoleViewer), s.getStatusPage)
	s.handle("PUT", "/api/status-pages/{id}", jwtOnly(domain.RoleEditor), s.updateStatusPage)
	s.handle("PATCH", "/api/status-pages/{id}", jwtOnly(domain.RoleEditor), s.updateStatusPage)
	s.handle("DELETE", "/api/status-pages/{id}", jwtOnly(domain.RoleEditor), s.deleteStatusPage)

	// Server-wide figures are the operator's, not any account's ADMIN's.
	s.handle("GET", "/api/admin/projections", operatorOnly, s.projectionStatus)
	s.handle("GET", "/metrics", operatorOnly, s.metrics)
	s.handle("GET", "/api/audit/events", jwtOnly(domain.RoleAdmin), s.auditEvents)
}
