package httpapi

func (s *Server) uiAccountRoutes() {}
