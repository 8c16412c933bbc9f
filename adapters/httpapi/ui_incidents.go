package httpapi

// uiIncidentRoutes registers the incidents list, the incident page and its replay.
func (s *Server) uiIncidentRoutes() {}
