// Package openapi_test checks docs/openapi.yaml: that it is strict YAML,
// a valid OpenAPI document, and (routes_test.go) that it documents exactly
// the routes the server serves. test/e2e checks the server's requests and
// responses against it.
package openapi_test

import (
	"context"
	"os"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"go.yaml.in/yaml/v3"
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
