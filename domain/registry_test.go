package domain_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/medialuna/medialuna/domain"
)

// registryConstants returns the value of every Ev* constant declared in
// registry.go, read from its source: constants cannot be listed at run time.
func registryConstants(t *testing.T) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "registry.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if !strings.HasPrefix(name.Name, "Ev") {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					t.Fatalf("%s is not a string literal", name.Name)
				}
				v, _ := strconv.Unquote(lit.Value)
				out[name.Name] = v
			}
		}
	}
	return out
}

// Every constant names a registered type, spelt as the constant says, and
// every registered type has its constant: the list and the names cannot
// drift apart.
func TestRegistryConstantsMatchTable(t *testing.T) {
	consts := registryConstants(t)
	var values []string
	for name, v := range consts {
		if name != "Ev"+v {
			t.Errorf("constant %s = %q: the name should be Ev%s", name, v, v)
		}
		if !domain.IsEventType(v) {
			t.Errorf("constant %s = %q is not in the decode table", name, v)
		}
		values = append(values, v)
	}
	slices.Sort(values)
	if got := domain.EventTypes(); !slices.Equal(got, values) {
		t.Errorf("EventTypes() = %v\nconstants   = %v", got, values)
	}
	if len(values) < 50 {
		t.Errorf("only %d event types registered", len(values))
	}
}

// Every registered type decodes (from version 1, upcast where needed) into
// a value of its own type, whose EventType is the name it was
// registered under.
func TestRegistryDecodesEveryType(t *testing.T) {
	for _, typ := range domain.EventTypes() {
		a, err := domain.Decode(typ, 1, []byte(`{}`))
		if err != nil || a == nil {
			t.Fatalf("Decode(%s) = %v, %v", typ, a, err)
		}
		if a.EventType() != typ {
			t.Errorf("Decode(%s) gave a %T named %s", typ, a, a.EventType())
		}
	}
	for _, typ := range []string{"", "monitorcreated", "MonitorCreate", "NoSuchEvent"} {
		if domain.IsEventType(typ) {
			t.Errorf("IsEventType(%q) = true", typ)
		}
	}
}
