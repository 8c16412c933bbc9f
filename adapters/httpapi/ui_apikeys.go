package httpapi

func (s *Server) uiAPIKeyRoutes() {}
