package httpapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"go.yaml.in/yaml/v3"

	"github.com/medialuna/medialuna/docs"
)

// The OpenAPI document, as embedded (docs/openapi.yaml) and as JSON,
// converted once when the program starts; an embedded document that does
// not convert is a bug in this build, which every test of the document
// finds (openAPIJSONErr is then served as a 500).
var (
	openAPIYAML                 = docs.OpenAPI
	openAPIJSON, openAPIJSONErr = yamlToJSON(docs.OpenAPI)
)

// openAPIRoutes serves the document, without credentials.
func (s *Server) openAPIRoutes() {
	public := access{public: true}
	s.handle("GET", "/api/openapi.yaml", public, func(w http.ResponseWriter, r *http.Request, _ *principal) error {
		serveDocument(w, r, "application/yaml", openAPIYAML)
		return nil
	})
	s.handle("GET", "/api/openapi.json", public, func(w http.ResponseWriter, r *http.Request, _ *principal) error {
		if openAPIJSONErr != nil {
			return fmt.Errorf("the embedded OpenAPI document: %w", openAPIJSONErr)
		}
		serveDocument(w, r, "application/json", openAPIJSON)
		return nil
	})
}

// serveDocument answers with body, its ETag answering If-None-Match with
// 304 (http.ServeContent).
func serveDocument(w http.ResponseWriter, r *http.Request, contentType string, body []byte) {
	sum := sha256.Sum256(body)
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("ETag", `"`+hex.EncodeToString(sum[:8])+`"`)
	h.Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// yamlToJSON converts a YAML document to JSON, keeping the order of its
// keys and following its aliases.
func yamlToJSON(doc []byte) ([]byte, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(doc, &root); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := writeNodeJSON(&buf, &root, 0); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, buf.Bytes(), "", "  "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

func writeNodeJSON(buf *bytes.Buffer, n *yaml.Node, depth int) error {
	if depth > 100 {
		return fmt.Errorf("line %d: nested too deep", n.Line)
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) != 1 {
			return fmt.Errorf("want one document, got %d", len(n.Content))
		}
		return writeNodeJSON(buf, n.Content[0], depth+1)
	case yaml.AliasNode:
		return writeNodeJSON(buf, n.Alias, depth+1)
	case yaml.SequenceNode:
		buf.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := writeNodeJSON(buf, c, depth+1); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	case yaml.MappingNode:
		buf.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode || k.Tag == "!!merge" {
				return fmt.Errorf("line %d: a mapping key JSON cannot hold", k.Line)
			}
			if i > 0 {
				buf.WriteByte(',')
			}
			key, _ := json.Marshal(k.Value)
			buf.Write(key)
			buf.WriteByte(':')
			if err := writeNodeJSON(buf, n.Content[i+1], depth+1); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	case yaml.ScalarNode:
		var v any
		if err := n.Decode(&v); err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
		buf.Write(b)
	default:
		return fmt.Errorf("line %d: unexpected YAML node", n.Line)
	}
	return nil
}

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
