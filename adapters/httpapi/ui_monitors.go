package httpapi

// uiMonitorRoutes registers the monitors list, bulk actions and the monitor form.
func (s *Server) uiMonitorRoutes() {}
