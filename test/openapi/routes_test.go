package openapi_test

import (
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/medialuna/medialuna/adapters/httpapi"
	"github.com/medialuna/medialuna/adapters/statushtml"
)

// param matches a path template's parameter, a mux one with its pattern
// ({id:[0-9]+}) included.
var param = regexp.MustCompile(`\{[^}]*\}`)

// normalise forgets parameter names: the router's /api/push/{token} is the
// document's /api/push/{push_token}.
func normalise(path string) string { return param.ReplaceAllString(path, "{}") }

// TestEveryRouteIsDocumented compares the API router's routes with the
// document's paths and methods, both ways. Documented paths the router does
// not serve must be the public status site's, which answers beside the
// router (httpapi.Deps.StatusSite).
func TestEveryRouteIsDocumented(t *testing.T) {
	doc := loadDoc(t)
	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented[method+" "+normalise(path)] = true
		}
	}
	served := map[string]bool{}
	for _, r := range httpapi.Routes() {
		served[r.Method+" "+normalise(r.Path)] = true
	}
	if len(served) < 50 {
		t.Fatalf("httpapi.Routes() lists %d routes; the walk lost some", len(served))
	}
	site := statushtml.New(statushtml.Config{})

	var undocumented, unserved []string
	for k := range served {
		if !documented[k] {
			undocumented = append(undocumented, k)
		}
	}
	for k := range documented {
		if served[k] {
			continue
		}
		method, path, _ := strings.Cut(k, " ")
		req := httptest.NewRequest(method, strings.ReplaceAll(path, "{}", "x1"), nil)
		if site.Owns(req) {
			continue
		}
		unserved = append(unserved, k)
	}
	sort.Strings(undocumented)
	sort.Strings(unserved)
	if len(undocumented) > 0 {
		t.Errorf("served but not in docs/openapi.yaml (parameters shown as {}):\n  %s", strings.Join(undocumented, "\n  "))
	}
	if len(unserved) > 0 {
		t.Errorf("in docs/openapi.yaml but not served:\n  %s", strings.Join(unserved, "\n  "))
	}
}

// TestRoutesLeaveOutTheDashboard: the dashboard's pages are not the API's.
func TestRoutesLeaveOutTheDashboard(t *testing.T) {
	for _, r := range httpapi.Routes() {
		if r.Path == "/" || strings.HasPrefix(r.Path, "/monitors") || strings.HasPrefix(r.Path, "/live") || strings.HasPrefix(r.Path, "/static") {
			t.Errorf("Routes() lists the dashboard's %s %s", r.Method, r.Path)
		}
	}
}
