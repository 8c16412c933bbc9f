package projections_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medialuna/medialuna/projections"
)

// TestDashboardMonitorsQuery reads the dashboard's list from rows written
// straight into the read models: the orders, the filters, server-side
// pages with their total, the 24 h uptime from rollups (maintenance left
// out, older hours ignored) and the bar of the last 30 results, oldest
// first; another account's monitor never shows.
func TestDashboardMonitorsQuery(t *testing.T) {
	f := newFixture(t)
	f.run(t, projections.Monitors{}, projections.Metrics{})
	ctx := context.Background()
	now := time.Date(2026, 5, 10, 12, 30, 0, 0, time.UTC)
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := f.db.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`INSERT INTO tags (id, account_id, name, color, created_at) VALUES (1, 7, 'prod', '#000000', $1)`, now)
	exec(`INSERT INTO monitors (id, account_id, name, type, url, config, tag_ids, check_interval, paused, created_at, updated_at, resumed_at) VALUES
		(1, 7, 'Web', 'HTTP', 'http://web.example', '{"name":"Web","type":"HTTP","url":"http://web.example","tag_ids":[1]}', '{1}', 60, false, $1, $1, $1),
		(2, 7, 'api', 'HTTP', 'http://api.example', '{"name":"api","type":"HTTP","url":"http://api.example"}', '{}', 60, false, $1, $1, $1),
		(3, 7, 'Db', 'TCP', 'db.internal', '{"name":"Db","type":"TCP","url":"db.internal"}', '{}', 60, true, $1, $1, $1),
		(4, 7, 'Beacon', 'PUSH', '', '{"name":"Beacon","type":"PUSH","url":""}', '{}', 60, false, $1, $1, $1),
		(50, 8, 'Other account', 'HTTP', 'http://api.example', '{"name":"Other account","type":"HTTP"}', '{}', 60, false, $1, $1, $1)`, now)
	exec(`INSERT INTO monitor_state (monitor_id, status, last_checked_at, last_response_time_ms) VALUES
		(1, 'up', $1, 100), (2, 'down', $1, 300), (3, 'paused', $1, NULL), (50, 'down', $1, 900)`, now)
	hist := `array_fill(0, ARRAY[72])`
	exec(`INSERT INTO check_rollups (monitor_id, region_id, hour, checks, up_checks, maint_checks, maint_up, rt_sum, rt_min, rt_max, rt_histogram) VALUES
		(1, 1, '2026-05-10 12:00Z', 100, 100, 0, 0, 1, 1, 1, ` + hist + `),
		(2, 1, '2026-05-10 11:00Z', 60, 30, 0, 0, 1, 1, 1, ` + hist + `),
		(2, 1, '2026-05-10 12:00Z', 60, 40, 20, 20, 1, 1, 1, ` + hist + `),
		(3, 1, '2026-05-09 13:00Z', 10, 9, 0, 0, 1, 1, 1, ` + hist + `),
		(3, 1, '2026-05-08 12:00Z', 10, 0, 0, 0, 1, 1, 1, ` + hist + `),
		(50, 1, '2026-05-10 12:00Z', 10, 0, 0, 0, 1, 1, 1, ` + hist + `)`)
	// The 24-hour uptimes the metrics projection keeps from those rollups
	// (TestBatchPathEqualsOneByOne checks how), each as of its last check.
	exec(`INSERT INTO monitor_uptime (monitor_id, window_end, uptime_24h) VALUES
		(1, '2026-05-10 12:20Z', 100), (2, '2026-05-10 12:20Z', 50), (3, '2026-05-09 13:20Z', 90), (50, '2026-05-10 12:20Z', 0)`)
	// 35 results for Web: the 5 oldest fall off its bar; then 28 up, one
	// down, one in maintenance.
	for i := range 35 {
		up := i >= 5 && i != 33
		exec(`INSERT INTO check_results (monitor_id, region_id, checked_at, up, response_time_ms, in_maintenance) VALUES (1, 1, $1, $2, 10, $3)`,
			now.Add(time.Duration(i-35)*time.Minute), up, i == 34)
	}

	list := func(filter projections.DashboardFilter, skip, limit int) ([]string, int) {
		t.Helper()
		filter.Now = now
		page, err := f.queries.DashboardMonitors(ctx, 7, filter, skip, limit)
		if err != nil {
			t.Fatal(err)
		}
		names := []string{}
		for _, r := range page.Rows {
			names = append(names, r.Name)
		}
		return names, page.Total
	}
	for _, c := range []struct {
		filter      projections.DashboardFilter
		skip, limit int
		want        []string
		total       int
	}{
		{projections.DashboardFilter{}, 0, 100, []string{"api", "Beacon", "Web", "Db"}, 4},
		{projections.DashboardFilter{Sort: "status"}, 0, 100, []string{"api", "Beacon", "Web", "Db"}, 4},
		{projections.DashboardFilter{Sort: "name"}, 0, 100, []string{"api", "Beacon", "Db", "Web"}, 4},
		{projections.DashboardFilter{Sort: "uptime"}, 0, 100, []string{"api", "Db", "Web", "Beacon"}, 4},
		{projections.DashboardFilter{Sort: "response"}, 0, 100, []string{"api", "Web", "Beacon", "Db"}, 4},
		{projections.DashboardFilter{Sort: "nonsense"}, 0, 100, []string{"api", "Beacon", "Web", "Db"}, 4},
		{projections.DashboardFilter{Search: "API.EX"}, 0, 100, []string{"api"}, 1},
		{projections.DashboardFilter{Search: "we"}, 0, 100, []string{"Web"}, 1},
		{projections.DashboardFilter{Search: "%"}, 0, 100, []string{}, 0},
		{projections.DashboardFilter{Status: "down"}, 0, 100, []string{"api"}, 1},
		{projections.DashboardFilter{Status: "pending"}, 0, 100, []string{"Beacon"}, 1},
		{projections.DashboardFilter{Type: "TCP"}, 0, 100, []string{"Db"}, 1},
		{projections.DashboardFilter{TagID: 1}, 0, 100, []string{"Web"}, 1},
		{projections.DashboardFilter{TagID: 1, Status: "down"}, 0, 100, []string{}, 0},
		{projections.DashboardFilter{Sort: "name"}, 1, 2, []string{"Beacon", "Db"}, 4},
		{projections.DashboardFilter{Sort: "name"}, 3, 2, []string{"Web"}, 4},
		{projections.DashboardFilter{Sort: "name"}, 10, 2, []string{}, 4},
	} {
		names, total := list(c.filter, c.skip, c.limit)
		if diff := cmp.Diff(c.want, names); diff != "" || total != c.total {
			t.Errorf("%+v skip %d limit %d: total %d (want %d), names (-want +got):\n%s", c.filter, c.skip, c.limit, total, c.total, diff)
		}
	}

	page, err := f.queries.DashboardMonitors(ctx, 7, projections.DashboardFilter{Sort: "name", Now: now}, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	type figures struct {
		Name   string
		Uptime float64
		Recent string
		Tags   int
	}
	var got []figures
	for _, r := range page.Rows {
		fig := figures{Name: r.Name, Uptime: -1, Recent: r.Recent, Tags: len(r.Tags)}
		if r.Uptime24h != nil {
			fig.Uptime = *r.Uptime24h
		}
		got = append(got, fig)
	}
	want := []figures{
		{"api", 50, "", 0}, // (30 + 40-20) up of (60 + 60-20) outside maintenance
		{"Beacon", -1, "", 0},
		{"Db", 90, "", 0},
		{"Web", 100, strings.Repeat("u", 28) + "dm", 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("figures (-want +got):\n%s", diff)
	}

	// A monitor whose last check is more than a day old has no 24-hour
	// uptime to sort by: it goes last, with those that have none.
	exec(`UPDATE monitor_uptime SET window_end = '2026-05-09 11:00Z' WHERE monitor_id = 3`)
	if names, _ := list(projections.DashboardFilter{Sort: "uptime", Now: now}, 0, 100); !cmp.Equal(names, []string{"api", "Web", "Beacon", "Db"}) {
		t.Errorf("uptime order with a stale uptime: %v", names)
	}

	// The overview counts the same rows: statuses, and the last 24 hours of
	// rollups of this account's monitors only (3's 2026-05-08 hour is out).
	o, err := f.queries.Overview(ctx, 7, now)
	if err != nil {
		t.Fatal(err)
	}
	wantOverview := projections.Overview{TotalMonitors: 4, Up: 1, Down: 1, Paused: 1, Pending: 1, Checks24h: 230,
		Uptime24h: ptr(75.71), AvgResponseTime: ptr(0.02)} // (100 + 30 + 20 + 9) up of (100 + 60 + 40 + 10); rt 4 / 230 checks
	if diff := cmp.Diff(wantOverview, o); diff != "" {
		t.Errorf("overview (-want +got):\n%s", diff)
	}

	other, err := f.queries.DashboardMonitors(ctx, 8, projections.DashboardFilter{Search: "api", Now: now}, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if other.Total != 1 || len(other.Rows) != 1 || other.Rows[0].ID != 50 {
		t.Errorf("account 8 sees %+v", other)
	}
}

// BenchmarkDashboardMonitors reads a page of 100 from 10,000 monitors,
// each with 30 days of hourly rollups and 60 raw results: the default order, a
// search, and the order by 24 h uptime (computed over every monitor).
func BenchmarkDashboardMonitors(b *testing.B) {
	f := newFixture(b)
	f.run(b, projections.Monitors{}, projections.Metrics{})
	now := time.Now().UTC()
	for _, q := range []string{
		`INSERT INTO monitors (id, account_id, name, type, url, config, check_interval, created_at, updated_at, resumed_at)
			SELECT i, 1, 'monitor ' || i, 'HTTP', 'https://host' || i || '.example/health',
				jsonb_build_object('name', 'monitor ' || i, 'type', 'HTTP', 'url', 'https://host' || i || '.example/health'), 60, $1, $1, $1
			FROM generate_series(1, 10000) i`,
		`INSERT INTO monitor_state (monitor_id, status, last_checked_at, last_response_time_ms)
			SELECT i, CASE WHEN i % 50 = 0 THEN 'down' ELSE 'up' END, $1, i % 997 FROM generate_series(1, 10000) i`,
		`INSERT INTO check_rollups (monitor_id, region_id, hour, checks, up_checks, rt_sum, rt_min, rt_max, rt_histogram)
			SELECT i, 1, date_trunc('hour', $1::timestamptz) - h * interval '1 hour', 60, 60 - (i % 7), 600, 1, 20, array_fill(0, ARRAY[72])
			FROM generate_series(0, 24*30-1) h, generate_series(1, 10000) i`,
		`INSERT INTO monitor_uptime (monitor_id, window_end, uptime_24h)
			SELECT i, $1, round(100.0 * (60 - (i % 7)) / 60, 2) FROM generate_series(1, 10000) i`,
		`INSERT INTO check_results (monitor_id, region_id, checked_at, up, response_time_ms)
			SELECT i, 1, $1::timestamptz - c * interval '1 minute', c % 13 <> 0, 10 FROM generate_series(1, 10000) i, generate_series(0, 59) c`,
		`ANALYZE`,
	} {
		var err error
		if strings.Contains(q, "$1") {
			_, err = f.db.Exec(q, now)
		} else {
			_, err = f.db.Exec(q)
		}
		if err != nil {
			b.Fatalf("%s: %v", q, err)
		}
	}
	for _, c := range []struct {
		name   string
		filter projections.DashboardFilter
	}{
		{"status", projections.DashboardFilter{}},
		{"search", projections.DashboardFilter{Search: "host12", Sort: "name"}},
		{"uptime", projections.DashboardFilter{Sort: "uptime"}},
	} {
		b.Run(c.name, func(b *testing.B) {
			c.filter.Now = now
			for b.Loop() {
				page, err := f.queries.DashboardMonitors(context.Background(), 1, c.filter, 100, 100)
				if err != nil || len(page.Rows) == 0 || page.Total == 0 {
					b.Fatalf("%d rows of %d: %v", len(page.Rows), page.Total, err)
				}
			}
		})
	}
	// The overview's figures over the same account (the dashboard's
	// landing page and GET /api/metrics/overview).
	b.Run("overview", func(b *testing.B) {
		for b.Loop() {
			o, err := f.queries.Overview(context.Background(), 1, now)
			if err != nil || o.TotalMonitors != 10000 || o.Checks24h == 0 {
				b.Fatalf("%+v: %v", o, err)
			}
		}
	})
}
