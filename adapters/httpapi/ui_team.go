package httpapi

func (s *Server) uiTeamRoutes() {}
