package httpapi

func (s *Server) uiProfileRoutes() {}
