package httpapi

import (
	"sort"
	"strings"

	"github.com/gorilla/mux"
)

// Route is one method and path template the API serves, as the router
// spells it ("/api/v1/monitors/{id}").
type Route struct {
	Method string
	Path   string
}

// Routes lists the JSON API's routes, read from the router itself: what
// docs/openapi.yaml must document (test/openapi compares them). The
// dashboard's pages (the paths ownsUI claims: its HTML, forms, static files
// and the /live event stream) are not part of the API and are left out;
// GET /healthz and the operator's GET /metrics are in. The public status
// pages are served beside the router (Deps.StatusSite), so they are not
// here either.
func Routes() []Route {
	s := New(Deps{})
	var out []Route
	s.router.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		path, err := route.GetPathTemplate()
		if err != nil {
			return nil
		}
		first, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
		if uiPaths[first] {
			return nil
		}
		methods, err := route.GetMethods()
		if err != nil {
			return nil
		}
		for _, m := range methods {
			out = append(out, Route{Method: m, Path: path})
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Method < out[j].Method
	})
	return out
}
