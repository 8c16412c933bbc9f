package httpapi

func (s *Server) uiOperatorRoutes() {}
