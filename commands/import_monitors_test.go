package commands_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/medialuna/medialuna/adapters/importfile"
	"github.com/medialuna/medialuna/adapters/postgres"
	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/test/testdb"
)

// laggingModels are read models that have applied nothing yet (the CLI
// imports while no server projects): one active region, no tags, no
// monitors.
type laggingModels struct{}

func (laggingModels) ActiveRegions(context.Context) ([]int64, error)     { return []int64{1}, nil }
func (laggingModels) TagIDs(context.Context, int64) ([]int64, error)     { return nil, nil }
func (laggingModels) MonitorIDs(context.Context, int64) ([]int64, error) { return nil, nil }
func (laggingModels) MonitorDependencies(context.Context, int64) (map[int64][]int64, error) {
	return nil, nil
}
func (laggingModels) ExistingSlots(context.Context, int64, domain.QuotaKind, domain.Position) ([]domain.Slot, error) {
	return nil, nil
}

type importFixture struct {
	store domain.EventStore
	h     *commands.ImportMonitorsHandler
	tags  *commands.CreateTagHandler
}

func newImportFixture(t *testing.T) importFixture {
	db := testdb.New(t)
	store := postgres.NewEventStore(db.DB, db.URL, testdb.Logger(t))
	ids := postgres.NewIDs(db.DB)
	return importFixture{store: store, h: commands.NewImportMonitorsHandler(store, ids, time.Now, laggingModels{}, 60),
		tags: commands.NewCreateTagHandler(store, ids, time.Now, laggingModels{})}
}

// created returns the monitor-created event of monitor id, and whether the
// monitor was then paused.
func (f importFixture) created(t *testing.T, id int64) (*domain.MonitorCreated, bool) {
	t.Helper()
	recs, err := f.store.ReadStream(context.Background(), domain.MonitorStream(id))
	if err != nil {
		t.Fatal(err)
	}
	var c *domain.MonitorCreated
	paused := false
	for _, r := range recs {
		ev, err := domain.DecodeRecorded(r)
		if err != nil {
			t.Fatal(err)
		}
		switch e := ev.(type) {
		case *domain.MonitorCreated:
			c = e
		case *domain.MonitorPaused:
			paused = true
		}
	}
	if c == nil {
		t.Fatalf("monitor %d has no MonitorCreated", id)
	}
	return c, paused
}

func actorOf(account int64) commands.Actor {
	return commands.Actor{Type: domain.ActorUser, ID: account, AccountID: account, CorrelationID: "test"}
}

func parse(t *testing.T, format importfile.Format, data string) []commands.ImportEntry {
	t.Helper()
	entries, err := importfile.Parse(format, []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

// TestImportGatusExample imports Gatus' example config: every endpoint
// becomes a monitor, the groups become tags (one each, the account's
// existing "CORE" reused), nothing of another account is touched.
func TestImportGatusExample(t *testing.T) {
	f := newImportFixture(t)
	ctx := context.Background()
	coreID, _, err := f.tags.Handle(ctx, commands.CreateTag{Actor: actorOf(7), Name: "CORE"})
	if err != nil {
		t.Fatal(err)
	}
	otherCore, _, err := f.tags.Handle(ctx, commands.CreateTag{Actor: actorOf(8), Name: "internal"})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("../adapters/importfile/testdata/gatus-config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.h.Handle(ctx, commands.ImportMonitors{Actor: actorOf(7), Plan: domain.PlanPro, Entries: parse(t, importfile.Gatus, string(data))})
	if err != nil {
		t.Fatal(err)
	}
	if res.Created != 7 || res.Failed != 0 || len(res.Entries) != 7 || res.Position == (domain.Position{}) {
		t.Fatalf("result %+v", res)
	}
	var internalID int64
	for i, e := range res.Entries {
		if e.Status != commands.ImportCreated || e.MonitorID == 0 || e.Index != i {
			t.Fatalf("entry %d: %+v", i, e)
		}
		c, paused := f.created(t, e.MonitorID)
		if c.AccountID != 7 || c.Config.Name != e.Name || paused {
			t.Errorf("entry %d: %+v", i, c)
		}
		switch e.Name {
		case "front-end", "back-end":
			if !slices.Equal(c.Config.TagIDs, []int64{coreID}) {
				t.Errorf("%s tags %v, want the existing CORE %d", e.Name, c.Config.TagIDs, coreID)
			}
		case "monitoring", "nas":
			if len(c.Config.TagIDs) != 1 || c.Config.TagIDs[0] == otherCore {
				t.Errorf("%s tags %v", e.Name, c.Config.TagIDs)
			}
			if internalID == 0 {
				internalID = c.Config.TagIDs[0]
			} else if c.Config.TagIDs[0] != internalID {
				t.Errorf("two internal tags: %d and %d", internalID, c.Config.TagIDs[0])
			}
		case "example-dns-query":
			if c.Config.Type != domain.TypeDNS || c.Config.URL != "example.com" || c.Config.DNSResolver != "8.8.8.8:53" || c.Config.RegionIDs[0] != 1 {
				t.Errorf("dns: %+v", c.Config)
			}
		case "icmp-ping":
			if c.Config.Type != domain.TypePING || c.Config.CheckInterval != 60 {
				t.Errorf("ping: %+v", c.Config)
			}
		}
	}
	if !slices.ContainsFunc(res.Entries[2].Warnings, func(w string) bool { return w == `tag "internal" was created` }) {
		t.Errorf("no tag-created warning: %q", res.Entries[2].Warnings)
	}
	if slices.ContainsFunc(res.Entries[0].Warnings, func(w string) bool { return strings.Contains(w, "was created") }) {
		t.Errorf("the existing tag was created again: %q", res.Entries[0].Warnings)
	}
}

// TestImportRefusalsAreTheCreates: the plan's monitor limit, interval
// minimum and validation refuse entries with the create's messages, each
// alone; a dry run decides the same and appends nothing.
func TestImportRefusalsAreTheCreates(t *testing.T) {
	f := newImportFixture(t)
	ctx := context.Background()
	var b strings.Builder
	b.WriteString("name,type,url,check_interval,tags\n")
	b.WriteString("fast,HTTP,https://example.com,30,web\n")       // under FREE's minimum, floor 60
	b.WriteString("\"bad\x00name\",HTTP,https://example.com,,\n") // no NUL is stored
	b.WriteString("nourl,HTTP,,,\n")
	b.WriteString("<img src=x onerror=alert(1)>,HTTP,https://example.com/x,,web\n")
	for i := range 11 {
		b.WriteString("m" + string(rune('a'+i)) + ",TCP,db.example.com:5432,,\n")
	}
	entries := parse(t, importfile.CSV, b.String())
	headBefore, _ := f.store.Head(ctx)

	dry, err := f.h.Handle(ctx, commands.ImportMonitors{Actor: actorOf(3), Plan: domain.PlanFree, Entries: entries, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if headAfter, _ := f.store.Head(ctx); headAfter != headBefore {
		t.Errorf("a dry run appended: %v -> %v", headBefore, headAfter)
	}
	real, err := f.h.Handle(ctx, commands.ImportMonitors{Actor: actorOf(3), Plan: domain.PlanFree, Entries: entries})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ status, err string }{
		{"failed", "check_interval must be at least 60 seconds on the FREE plan"},
		{"failed", "name must not contain the NUL character (U+0000)"},
		{"failed", "url: field required"},
		{"created", ""},
	}
	for range 9 {
		want = append(want, struct{ status, err string }{"created", ""})
	}
	want = append(want, struct{ status, err string }{"failed", "plan FREE allows 10 monitors; delete one or upgrade"},
		struct{ status, err string }{"failed", "plan FREE allows 10 monitors; delete one or upgrade"})
	if len(real.Entries) != len(want) || real.Created != 10 || real.Failed != 5 {
		t.Fatalf("created %d failed %d of %d", real.Created, real.Failed, len(real.Entries))
	}
	for i, w := range want {
		got, d := real.Entries[i], dry.Entries[i]
		if got.Status != w.status || got.Error != w.err {
			t.Errorf("entry %d: %s %q, want %s %q", i, got.Status, got.Error, w.status, w.err)
		}
		dryWant := w.status
		if dryWant == "created" {
			dryWant = "would_create"
		}
		if d.Status != dryWant || d.Error != w.err || d.MonitorID != 0 {
			t.Errorf("dry entry %d: %s %q, want %s %q", i, d.Status, d.Error, dryWant, w.err)
		}
	}
	if c, _ := f.created(t, real.Entries[3].MonitorID); c.Config.Name != "<img src=x onerror=alert(1)>" || len(c.Config.TagIDs) != 1 {
		t.Errorf("hostile name stored as %q, tags %v", c.Config.Name, c.Config.TagIDs)
	}
	if !slices.Contains(dry.Entries[3].Warnings, `tag "web" would be created`) {
		t.Errorf("dry run warnings %q", dry.Entries[3].Warnings)
	}
	if dry.Position != (domain.Position{}) {
		t.Errorf("dry run position %v", dry.Position)
	}
}

func TestImportPausedAndBounded(t *testing.T) {
	f := newImportFixture(t)
	ctx := context.Background()
	res, err := f.h.Handle(ctx, commands.ImportMonitors{Actor: actorOf(4), Plan: domain.PlanPro, Entries: parse(t, importfile.Gatus,
		"endpoints:\n  - name: off\n    url: https://example.com\n    enabled: false\n  - name: chat\n    url: wss://example.com/ws\n")})
	if err != nil {
		t.Fatal(err)
	}
	if res.Created != 1 || res.Failed != 1 || !strings.Contains(res.Entries[1].Error, "WebSocket") {
		t.Fatalf("%+v", res)
	}
	if _, paused := f.created(t, res.Entries[0].MonitorID); !paused {
		t.Error("enabled: false was not paused")
	}
	many := make([]commands.ImportEntry, commands.MaxImportEntries+1)
	if _, err := f.h.Handle(ctx, commands.ImportMonitors{Actor: actorOf(4), Plan: domain.PlanPro, Entries: many}); domain.ErrorCode(err) != domain.ErrInvalid ||
		!strings.Contains(domain.ErrorMessage(err), "at most 1000") {
		t.Errorf("1001 entries: %v", err)
	}
}

// TestConcurrentImportsShareThePlan: two imports of 8 monitors at once into
// one FREE account create 10 between them, as concurrent creates would.
func TestConcurrentImportsShareThePlan(t *testing.T) {
	f := newImportFixture(t)
	ctx := context.Background()
	var b strings.Builder
	b.WriteString("name,type,url,tags\n")
	for i := range 8 {
		b.WriteString("m" + string(rune('a'+i)) + ",PING,h.example.com,shared\n")
	}
	entries := parse(t, importfile.CSV, b.String())
	results := make(chan commands.ImportResult, 2)
	for range 2 {
		go func() {
			res, err := f.h.Handle(ctx, commands.ImportMonitors{Actor: actorOf(5), Plan: domain.PlanFree, Entries: entries})
			if err != nil {
				t.Error(err)
			}
			results <- res
		}()
	}
	created, tagIDs := 0, map[int64]bool{}
	for range 2 {
		res := <-results
		created += res.Created
		for _, e := range res.Entries {
			if e.Status == commands.ImportCreated {
				c, _ := f.created(t, e.MonitorID)
				for _, id := range c.Config.TagIDs {
					tagIDs[id] = true
				}
			} else if e.Error != "plan FREE allows 10 monitors; delete one or upgrade" {
				t.Errorf("entry %+v", e)
			}
		}
	}
	if created != 10 || len(tagIDs) != 1 {
		t.Errorf("created %d monitors with tags %v, want 10 with one tag", created, tagIDs)
	}
}
