package httpapi

// uiMonitorDetailRoutes registers the monitor detail page and its chart data.
func (s *Server) uiMonitorDetailRoutes() {}
