// Package registrytest checks projectors and process managers against the
// registry of event types in domain: that each handles exactly the
// registered types it is expected to, and that no source file names an
// event type with a string literal. Packages call it from their own tests.
package registrytest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/projections"
)

// Handles fails unless p applies exactly the registered event
// types want (nil: every type, for a projector without a filter), and
// refuses names that are not registered, misspellings of its own included.
// It takes any Projector: read models and the workers that follow the log.
func Handles(t *testing.T, p projections.Projector, want ...string) {
	t.Helper()
	for _, typ := range want {
		if !domain.IsEventType(typ) {
			t.Errorf("%s: expected type %q is not registered", p.Name(), typ)
		}
	}
	if want == nil {
		want = domain.EventTypes()
	}
	want = slices.Sorted(slices.Values(want))
	if got := projections.HandledTypes(p); !slices.Equal(got, want) {
		t.Errorf("%s handles %v\nwant %v", p.Name(), got, want)
	}
	f, ok := p.(projections.EventFilter)
	if !ok {
		return
	}
	for _, typ := range want {
		for _, wrong := range []string{typ + "s", typ[:len(typ)-1], strings.ToLower(typ), "Ev" + typ, " " + typ} {
			if !domain.IsEventType(wrong) && f.Handles(wrong) {
				t.Errorf("%s handles %q, which is not a registered type", p.Name(), wrong)
			}
		}
	}
	if f.Handles("") || f.Handles("NoSuchEvent") {
		t.Errorf("%s handles an unregistered type", p.Name())
	}
}

// NoEventTypeLiterals parses the non-test Go files of dir, skipping
// the named ones, and reports each string literal that spells a registered
// event type and each string literal inside a method named Handles.
func NoEventTypeLiterals(t *testing.T, dir string, skip ...string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") || slices.Contains(skip, filepath.Base(name)) {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncDecl:
				if n.Name.Name == "Handles" && n.Recv != nil && n.Body != nil {
					ast.Inspect(n.Body, func(m ast.Node) bool {
						if lit, ok := m.(*ast.BasicLit); ok && lit.Kind == token.STRING {
							t.Errorf("%s: string literal %s in Handles: use a domain.Ev* constant", fset.Position(lit.Pos()), lit.Value)
						}
						return true
					})
				}
			case *ast.BasicLit:
				if n.Kind != token.STRING {
					break
				}
				if v, err := strconv.Unquote(n.Value); err == nil && domain.IsEventType(v) {
					t.Errorf("%s: event type written as the literal %s: use domain.Ev%s", fset.Position(n.Pos()), n.Value, v)
				}
			}
			return true
		})
	}
	if checked == 0 {
		t.Fatalf("no Go files checked in %s", dir)
	}
}
