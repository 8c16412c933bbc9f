package projections_test

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

// checkHandledTypes fails unless p applies exactly the registered event
// types want (nil: every type, for a projector without a filter), and
// refuses names that are not registered, misspellings of its own included.
// It takes any Projector, so the workers' tests can use it too.
func checkHandledTypes(t *testing.T, p projections.Projector, want ...string) {
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

// Every read model applies registered types only, exactly those listed
// here: a type dropped from a Handles switch, or one added, shows up as a
// difference with this table.
func TestReadModelsHandleRegisteredTypes(t *testing.T) {
	for _, tc := range []struct {
		p    projections.Projector
		want []string
	}{
		{projections.Accounts{}, []string{domain.EvAccountOpened, domain.EvAccountUpdated, domain.EvPlanChanged,
			domain.EvMemberInvited, domain.EvMemberJoined, domain.EvUserRegistered}},
		{projections.APIKeys{}, []string{domain.EvAPIKeyCreated, domain.EvAPIKeyRevoked}},
		{projections.Billing{}, []string{domain.EvBillingCustomerLinked, domain.EvSubscriptionChanged}},
		{projections.Incidents{}, []string{domain.EvIncidentTriggered, domain.EvIncidentAcknowledged, domain.EvIncidentSnoozed,
			domain.EvIncidentCommented, domain.EvIncidentResolved, domain.EvMonitorDeleted,
			domain.EvNotificationAttempted, domain.EvNotificationSuppressed, domain.EvNotificationRetrying}},
		{projections.Maintenance{}, []string{domain.EvMaintenanceScheduled, domain.EvMaintenanceUpdated,
			domain.EvMaintenanceToggled, domain.EvMaintenanceDeleted, domain.EvMonitorDeleted}},
		{projections.Metrics{}, []string{domain.EvCheckRecorded, domain.EvMonitorDeleted}},
		{projections.Monitors{}, []string{domain.EvMonitorCreated, domain.EvMonitorUpdated, domain.EvMonitorPaused,
			domain.EvMonitorResumed, domain.EvMonitorDeleted, domain.EvCheckRecorded, domain.EvTagCreated,
			domain.EvTagDeleted, domain.EvRegionRegistered, domain.EvRegionDeactivated}},
		{projections.Notifications{}, []string{domain.EvNotificationChannelCreated, domain.EvNotificationChannelUpdated,
			domain.EvNotificationChannelDeleted, domain.EvNotificationRuleCreated, domain.EvNotificationRuleUpdated,
			domain.EvNotificationRuleDeleted, domain.EvMonitorDeleted, domain.EvNotificationQueued,
			domain.EvNotificationAttempted, domain.EvNotificationRetrying}},
		{projections.StatusPages{}, []string{domain.EvStatusPageCreated, domain.EvStatusPageUpdated,
			domain.EvStatusPageDeleted, domain.EvMonitorDeleted}},
	} {
		t.Run(tc.p.Name(), func(t *testing.T) { checkHandledTypes(t, tc.p, tc.want...) })
	}
}

// workerFiles are the projectors with side effects, still in this package
// until they move out; their literals are converted with the move.
var workerFiles = []string{"detector.go", "notifier.go", "dispatcher.go", "invitemailer.go"}

// No source file of the package names an event type with a string literal,
// and no Handles method holds a string literal at all: types are named by
// the domain.Ev* constants, so a typo does not compile.
func TestNoEventTypeLiterals(t *testing.T) {
	checkNoEventTypeLiterals(t, ".", workerFiles...)
}

// checkNoEventTypeLiterals parses the non-test Go files of dir, skipping
// the named ones, and reports each string literal that spells a registered
// event type and each string literal inside a method named Handles.
func checkNoEventTypeLiterals(t *testing.T, dir string, skip ...string) {
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
