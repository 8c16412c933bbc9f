package httpapi

func (s *Server) uiStatusPageRoutes() {}
