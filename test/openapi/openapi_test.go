// Package openapi_test checks docs/openapi.yaml: that it is strict YAML,
// a valid OpenAPI document, and (routes_test.go) that it documents exactly
// the routes the server serves. test/e2e checks the server's requests and
// responses against it.
package openapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/medialuna/medialuna/adapters/httpapi"
)

const docPath = "../../docs/openapi.yaml"

func readDoc(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// loadDoc parses and validates the document, failing the test on any error.
func loadDoc(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(readDoc(t))
	if err != nil {
		t.Fatalf("kin-openapi cannot load %s: %v", docPath, err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("%s is not a valid OpenAPI document: %v", docPath, err)
	}
	return doc
}

// TestDocumentIsStrictYAML decodes the document with a YAML decoder that
// refuses duplicated mapping keys, which the OpenAPI loader would take
// silently (the later key winning).
func TestDocumentIsStrictYAML(t *testing.T) {
	var m map[string]any
	if err := yaml.Unmarshal(readDoc(t), &m); err != nil {
		t.Fatalf("%s: %v", docPath, err)
	}
	if m["openapi"] != "3.1.0" {
		t.Errorf("openapi: %v, want 3.1.0", m["openapi"])
	}
}

// TestDocumentValidates loads the document with kin-openapi and validates
// it, examples included.
func TestDocumentValidates(t *testing.T) {
	doc := loadDoc(t)
	if doc.Paths.Len() == 0 {
		t.Fatal("the document has no paths")
	}
}

// TestNoInventedProperties finds a mapping key without a value inside a
// schema: what an unquoted comma in a flow mapping leaves behind
// ({ description: Every check, maintenance included. } is a description
// "Every check" and a property-like key "maintenance included."), which the
// loader may take as an extension or ignore.
func TestNoInventedProperties(t *testing.T) {
	var root yaml.Node
	if err := yaml.Unmarshal(readDoc(t), &root); err != nil {
		t.Fatal(err)
	}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode, yaml.SequenceNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if v.Kind == yaml.ScalarNode && v.Tag == "!!null" && v.Value == "" {
					t.Errorf("line %d: %s has a key %q without a value (an unquoted comma in a flow mapping?)", k.Line, path, k.Value)
				}
				walk(v, path+"/"+k.Value)
			}
		}
	}
	walk(&root, "")
}

// TestServedDocument: the server serves the embedded document as it is in
// docs/, and its JSON form is the same document.
func TestServedDocument(t *testing.T) {
	srv := httptest.NewServer(httpapi.New(httpapi.Deps{Log: slog.New(slog.DiscardHandler)}).Handler())
	t.Cleanup(srv.Close)
	get := func(path, ifNoneMatch string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		if ifNoneMatch != "" {
			req.Header.Set("If-None-Match", ifNoneMatch)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, body
	}

	resp, yamlBody := get("/api/openapi.yaml", "")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/yaml" {
		t.Fatalf("GET /api/openapi.yaml: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if !bytes.Equal(yamlBody, readDoc(t)) {
		t.Error("GET /api/openapi.yaml is not docs/openapi.yaml")
	}
	if again, _ := get("/api/openapi.yaml", resp.Header.Get("ETag")); again.StatusCode != http.StatusNotModified {
		t.Errorf("GET /api/openapi.yaml with If-None-Match its ETag: %d, want 304", again.StatusCode)
	}

	resp, jsonBody := get("/api/openapi.json", "")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /api/openapi.json: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	fromJSON, err := openapi3.NewLoader().LoadFromData(jsonBody)
	if err != nil {
		t.Fatalf("GET /api/openapi.json does not load: %v", err)
	}
	if err := fromJSON.Validate(context.Background()); err != nil {
		t.Fatalf("GET /api/openapi.json does not validate: %v", err)
	}
	// The same document: equal once both are decoded (the YAML with its
	// aliases followed).
	var fromYAML, decodedJSON any
	if err := yaml.Unmarshal(yamlBody, &fromYAML); err != nil {
		t.Fatal(err)
	}
	viaJSON, _ := json.Marshal(fromYAML)
	var wantJSON any
	json.Unmarshal(viaJSON, &wantJSON)
	if err := json.Unmarshal(jsonBody, &decodedJSON); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantJSON, decodedJSON); diff != "" {
		t.Errorf("GET /api/openapi.json differs from the YAML (-yaml +json):\n%s", diff)
	}
}
