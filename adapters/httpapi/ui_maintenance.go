package httpapi

func (s *Server) uiMaintenanceRoutes() {}
