package projections_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/projections"
	"github.com/medialuna/medialuna/test/testdb"
)

// pageFacts: every account owns monitors 1 to 5; existing pages come from
// the read model.
type pageFacts struct{ q *projections.Queries }

func (pageFacts) MonitorIDs(context.Context, int64) ([]int64, error) {
	return []int64{1, 2, 3, 4, 5}, nil
}
func (f pageFacts) ExistingSlots(ctx context.Context, accountID int64, kind domain.QuotaKind, upTo domain.Position) ([]domain.Slot, error) {
	return f.q.ExistingSlots(ctx, accountID, kind, upTo)
}

// TestStatusPagesModel: created, renamed, edited and deleted pages, and a
// deleted monitor leaving pages in their order, project as the commands
// decided; redelivery changes nothing; a rebuild equals the live model.
func TestStatusPagesModel(t *testing.T) {
	f := newFixture(t)
	f.run(t, projections.StatusPages{})
	ctx := context.Background()
	now := func() time.Time { return time.Now().UTC() }
	create := commands.NewCreateStatusPageHandler(f.store, f.ids, now, pageFacts{f.queries})
	var ids []int64
	for i := range 6 {
		actor := commands.Actor{Type: domain.ActorUser, ID: int64(i + 1), AccountID: int64(i%3 + 1)}
		id, _, err := create.Handle(ctx, commands.CreateStatusPage{Actor: actor, Plan: domain.PlanEnterprise, Config: domain.StatusPageConfig{
			Title: fmt.Sprint("Page ", i), Subdomain: fmt.Sprint("page-", i), MonitorIDs: []int64{3, 2, 1}, IsPublic: true, CustomCSS: ptr("body{color:red}")}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	owner := func(i int) commands.Actor {
		return commands.Actor{Type: domain.ActorUser, ID: int64(i + 1), AccountID: int64(i%3 + 1)}
	}
	update := commands.NewUpdateStatusPageHandler(f.store, now, pageFacts{f.queries})
	if _, err := update.Handle(ctx, commands.UpdateStatusPage{Actor: owner(0), StatusPageID: ids[0], Change: func(c domain.StatusPageConfig) (domain.StatusPageConfig, error) {
		logo := "https://x.example/l.png"
		c.Subdomain, c.Title, c.LogoURL = "renamed", "Renamed", &logo
		return c, nil
	}}); err != nil {
		t.Fatal(err)
	}
	if _, err := commands.NewDeleteStatusPageHandler(f.store, now).Handle(ctx, commands.DeleteStatusPage{Actor: owner(1), StatusPageID: ids[1]}); err != nil {
		t.Fatal(err)
	}
	// Monitor 2 is deleted.
	ev, _ := domain.Encode(&domain.MonitorDeleted{}, domain.Metadata{ActorType: domain.ActorSystem, OccurredAt: time.Now().UTC()}, uuid.NewString())
	res, err := f.store.Append(ctx, domain.MonitorStream(2), domain.AnyVersion, ev)
	if err != nil {
		t.Fatal(err)
	}
	f.wait(t, []string{"status_pages"}, res.Position)

	pages, err := f.queries.StatusPages(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) != 2 || pages[0].Subdomain != "renamed" || pages[0].Title != "Renamed" || pages[0].LogoURL == nil {
		t.Fatalf("account 1 pages = %+v", pages)
	}
	if diff := cmp.Diff([]int64{3, 1}, pages[0].MonitorIDs); diff != "" {
		t.Errorf("monitor_ids after the monitor's deletion (-want +got):\n%s", diff)
	}
	if _, err := f.queries.StatusPageBySubdomain(ctx, "page-0"); domain.ErrorCode(err) != domain.ErrNotFound {
		t.Errorf("old subdomain still found: %v", err)
	}
	if p, err := f.queries.StatusPageBySubdomain(ctx, "renamed"); err != nil || p.ID != ids[0] {
		t.Errorf("by subdomain: %+v %v", p, err)
	}
	if _, err := f.queries.StatusPage(ctx, 2, ids[1]); domain.ErrorCode(err) != domain.ErrNotFound {
		t.Errorf("deleted page: %v", err)
	}
	if n, _ := f.queries.CountStatusPages(ctx, 2); n != 1 {
		t.Errorf("account 2 has %d pages", n)
	}

	live := dump(t, f.db.DB, "status_pages")
	events, err := f.store.ReadAll(ctx, domain.Position{}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if err := projections.ApplyForTest(ctx, f.db.DB, projections.StatusPages{}, events); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(live, dump(t, f.db.DB, "status_pages")); diff != "" {
		t.Errorf("redelivery changed the model (-before +after):\n%s", diff)
	}
	if err := projections.NewRebuilder(f.db.DB, f.store, testdb.Logger(t)).Rebuild(ctx, projections.StatusPages{}, func(string, int64, uint64, uint64) {}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(live, dump(t, f.db.DB, "status_pages")); diff != "" {
		t.Errorf("rebuilt model differs (-live +rebuilt):\n%s", diff)
	}
}

func ptr[T any](v T) *T { return &v }

// TestPublicPageQuery reads a page's public data from rows written
// straight into the read models: days cut at UTC midnight with checks in
// maintenance left out, SSL_EXPIRY and old resolved incidents left out,
// only public comments, only windows covering the page's monitors.
func TestPublicPageQuery(t *testing.T) {
	f := newFixture(t)
	f.run(t, projections.Monitors{}, projections.Metrics{}, projections.Incidents{}, projections.Maintenance{}, projections.StatusPages{})
	now := time.Date(2026, 5, 10, 12, 0, 0, 0, time.UTC)
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := f.db.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`INSERT INTO status_pages VALUES (1, 7, 'acme', '{"title":"Acme","subdomain":"acme","monitor_ids":[2,1,99,50],"is_public":true}', $1, $1)`, now)
	exec(`INSERT INTO monitors (id, account_id, name, type, url, config, check_interval, created_at, updated_at, resumed_at) VALUES
		(1, 7, 'Web', 'HTTP', 'http://x', '{}', 60, $1, $1, $1), (2, 7, 'API', 'HTTP', 'http://y', '{}', 60, $1, $1, $1),
		(50, 8, 'Other account', 'HTTP', 'http://z', '{}', 60, $1, $1, $1)`, now)
	exec(`INSERT INTO monitor_state (monitor_id, status, last_checked_at) VALUES (1, 'up', $1), (2, 'down', $1)`, now)
	hist := `array_fill(0, ARRAY[72])`
	exec(`INSERT INTO check_rollups (monitor_id, region_id, hour, checks, up_checks, maint_checks, maint_up, rt_sum, rt_min, rt_max, rt_histogram) VALUES
		(1, 1, '2026-05-10 00:00Z', 60, 60, 0, 0, 1, 1, 1, ` + hist + `),
		(1, 2, '2026-05-10 23:00Z', 60, 50, 10, 0, 1, 1, 1, ` + hist + `),
		(1, 1, '2026-05-09 23:00Z', 60, 30, 0, 0, 1, 1, 1, ` + hist + `),
		(1, 1, '2026-01-01 00:00Z', 60, 30, 0, 0, 1, 1, 1, ` + hist + `),
		(50, 1, '2026-05-10 00:00Z', 60, 0, 0, 0, 1, 1, 1, ` + hist + `)`)
	exec(`INSERT INTO incidents (id, account_id, monitor_id, incident_type, status, message, started_at, resolved_at) VALUES
		(1, 7, 2, 'DOWN', 'TRIGGERED', 'm', $1, NULL),
		(2, 7, 2, 'SSL_EXPIRY', 'TRIGGERED', 'm', $1, NULL),
		(3, 7, 1, 'DOWN', 'RESOLVED', 'm', $2, $2),
		(4, 7, 1, 'PERFORMANCE', 'RESOLVED', 'm', $3, $3),
		(5, 7, 1, 'DOWN', 'TRIGGERED', 'm', $3, NULL),
		(6, 8, 50, 'DOWN', 'TRIGGERED', 'm', $1, NULL)`, now.Add(-time.Hour), now.Add(-24*time.Hour), now.Add(-200*24*time.Hour))
	exec(`INSERT INTO incident_timeline (id, incident_id, event_type, message, created_at, public) VALUES
		(10, 1, 'COMMENT', 'public one', $1, TRUE), (11, 1, 'COMMENT', 'internal', $1, FALSE), (12, 3, 'COMMENT', 'postmortem', $1, TRUE)`, now)
	exec(`INSERT INTO maintenance_windows (id, account_id, config, created_at, updated_at) VALUES
		(1, 7, '{"name":"covers web","monitor_ids":[1],"is_active":true,"time_zone":"UTC"}', $1, $1),
		(2, 7, '{"name":"all","applies_to_all_monitors":true,"monitor_ids":[],"is_active":true,"time_zone":"UTC"}', $1, $1),
		(3, 7, '{"name":"disabled","monitor_ids":[1],"is_active":false,"time_zone":"UTC"}', $1, $1),
		(4, 7, '{"name":"other monitor","monitor_ids":[77],"is_active":true,"time_zone":"UTC"}', $1, $1),
		(5, 8, '{"name":"other account","applies_to_all_monitors":true,"monitor_ids":[],"is_active":true,"time_zone":"UTC"}', $1, $1)`, now)

	d, err := f.queries.PublicPage(context.Background(), "acme", time.Date(2026, 2, 10, 0, 0, 0, 0, time.UTC), now.Add(-90*24*time.Hour), now)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Monitors) != 2 || d.Monitors[0].Name != "API" || d.Monitors[0].Status != "down" || d.Monitors[1].Name != "Web" {
		t.Errorf("monitors = %+v", d.Monitors)
	}
	type day struct {
		M             int64
		Day           string
		Checks, Up, X int64
	}
	var days []day
	for _, u := range d.Daily {
		days = append(days, day{u.MonitorID, u.Day.UTC().Format("2006-01-02"), u.Checks, u.Up, u.Maintenance})
	}
	if diff := cmp.Diff([]day{{1, "2026-05-09", 60, 30, 0}, {1, "2026-05-10", 110, 110, 10}}, days); diff != "" {
		t.Errorf("daily (-want +got):\n%s", diff)
	}
	var incs []int64
	for _, i := range d.Incidents {
		incs = append(incs, i.ID)
	}
	if diff := cmp.Diff([]int64{1, 3, 5}, incs); diff != "" {
		t.Errorf("incidents (-want +got):\n%s", diff)
	}
	var updates []string
	for _, u := range d.Updates {
		updates = append(updates, u.Message)
	}
	if diff := cmp.Diff([]string{"public one", "postmortem"}, updates); diff != "" {
		t.Errorf("updates (-want +got):\n%s", diff)
	}
	var windows []string
	for _, w := range d.Windows {
		windows = append(windows, w.Name)
	}
	if diff := cmp.Diff([]string{"covers web", "all"}, windows); diff != "" {
		t.Errorf("windows (-want +got):\n%s", diff)
	}
	if _, err := f.queries.PublicPage(context.Background(), "nope", now, now, now); domain.ErrorCode(err) != domain.ErrNotFound {
		t.Errorf("unknown page: %v", err)
	}

	// A page not saved (the editor's preview): its own order, and another
	// account's monitor listed is not shown, nor its incidents.
	unsaved := projections.StatusPageView{AccountID: 7, StatusPageConfig: domain.StatusPageConfig{Title: "Draft", Subdomain: "draft",
		MonitorIDs: []int64{50, 1, 2}}}
	d, err = f.queries.PublicPageOf(context.Background(), unsaved, time.Date(2026, 2, 10, 0, 0, 0, 0, time.UTC), now.Add(-90*24*time.Hour), now)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range d.Monitors {
		names = append(names, m.Name)
	}
	if diff := cmp.Diff([]string{"Web", "API"}, names); diff != "" {
		t.Errorf("unsaved page's monitors (-want +got):\n%s", diff)
	}
	incs = nil
	for _, i := range d.Incidents {
		incs = append(incs, i.ID)
	}
	if diff := cmp.Diff([]int64{1, 3, 5}, incs); diff != "" {
		t.Errorf("unsaved page's incidents (-want +got):\n%s", diff)
	}
	if d.Page.Title != "Draft" {
		t.Errorf("unsaved page = %+v", d.Page)
	}
}

// TestMaintenanceDropsDeletedMonitor: a deleted monitor leaves the windows
// that named it, the others keeping their order (the same statement as for
// status pages); a window that named only it keeps an empty list.
func TestMaintenanceDropsDeletedMonitor(t *testing.T) {
	f := newFixture(t)
	f.run(t, projections.Maintenance{})
	ctx := context.Background()
	now := func() time.Time { return time.Now().UTC() }
	h := commands.NewScheduleMaintenanceHandler(f.store, f.ids, now, pageFacts{f.queries})
	actor := commands.Actor{Type: domain.ActorUser, ID: 1, AccountID: 1}
	start := time.Now().UTC().Add(time.Hour).Truncate(time.Second)
	var ids []int64
	for _, monitors := range [][]int64{{5, 2, 4, 1}, {2}, {3}} {
		id, _, err := h.Handle(ctx, commands.ScheduleMaintenance{Actor: actor, Config: domain.MaintenanceConfig{Name: "w", StartTime: start,
			EndTime: start.Add(time.Hour), MonitorIDs: monitors, IsActive: true}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	ev, _ := domain.Encode(&domain.MonitorDeleted{}, domain.Metadata{ActorType: domain.ActorSystem, OccurredAt: now()}, uuid.NewString())
	res, err := f.store.Append(ctx, domain.MonitorStream(2), domain.AnyVersion, ev)
	if err != nil {
		t.Fatal(err)
	}
	f.wait(t, []string{"maintenance"}, res.Position)
	for i, want := range [][]int64{{5, 4, 1}, {}, {3}} {
		w, err := f.queries.MaintenanceWindow(ctx, 1, ids[i], now())
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, w.MonitorIDs); diff != "" {
			t.Errorf("window %d monitor_ids after the monitor's deletion (-want +got):\n%s", i, diff)
		}
	}
}
