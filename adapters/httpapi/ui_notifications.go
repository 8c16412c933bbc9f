package httpapi

func (s *Server) uiNotificationRoutes() {}
