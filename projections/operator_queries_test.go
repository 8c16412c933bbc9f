package projections_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medialuna/medialuna/projections"
)

// TestRegionActivity reads each region's report from rows written straight
// into the monitors read model: a region's monitors are those checked
// there (paused and PUSH monitors left out), a monitor is late when the
// region's last result for it is older than two of its intervals, or it
// has none although it was last changed or resumed longer ago than that;
// an inactive region is listed with nothing assigned.
func TestRegionActivity(t *testing.T) {
	f := newFixture(t)
	f.run(t, projections.Monitors{})
	now := time.Date(2026, 5, 10, 12, 30, 0, 0, time.UTC)
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := f.db.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	exec(`INSERT INTO regions (id, code, name, lat, lng, active, created_at) VALUES
		(1, 'local', 'Local', 0, 0, true, $1), (2, 'eu', 'Europe', 0, 0, true, $1), (3, 'old', 'Retired', 0, 0, false, $1)`, ago(48*time.Hour))
	monitor := func(id int64, typ string, regions string, paused bool, updated, resumed time.Time) {
		t.Helper()
		exec(`INSERT INTO monitors (id, account_id, name, type, url, config, region_ids, check_interval, paused, created_at, updated_at, resumed_at)
			VALUES ($1, 7, 'm', $2, 'http://m.example', '{}', $3::bigint[], 60, $4, $5, $5, $6)`, id, typ, regions, paused, updated, resumed)
	}
	monitor(1, "HTTP", "{1}", false, ago(time.Hour), ago(time.Hour))       // on time in local
	monitor(2, "HTTP", "{1,2}", false, ago(time.Hour), ago(time.Hour))     // late in both: an old result in local, none in eu
	monitor(3, "HTTP", "{2}", true, ago(time.Hour), ago(time.Hour))        // paused: not assigned, though it has a result
	monitor(4, "PUSH", "{1}", false, ago(time.Hour), ago(time.Hour))       // PUSH: not checked by a region
	monitor(5, "HTTP", "{2}", false, ago(30*time.Second), ago(time.Hour))  // just changed: no result yet, not late
	monitor(6, "HTTP", "{2}", false, ago(time.Hour), ago(30*time.Second))  // just resumed: not late
	monitor(7, "HTTP", "{2}", false, ago(time.Hour), ago(119*time.Second)) // under two intervals: not late
	exec(`INSERT INTO monitor_region_latest (monitor_id, region_id, up, checked_at) VALUES
		(1, 1, true, $1), (2, 1, false, $2), (3, 2, true, $3)`, ago(30*time.Second), ago(10*time.Minute), ago(5*time.Second))

	got, err := f.queries.RegionActivity(context.Background(), now)
	if err != nil {
		t.Fatal(err)
	}
	at := func(d time.Duration) *time.Time { t := ago(d); return &t }
	want := []projections.RegionActivity{
		{ID: 1, Code: "local", Name: "Local", Active: true, CreatedAt: ago(48 * time.Hour), Assigned: 2, LastResultAt: at(30 * time.Second), Late: 1},
		{ID: 2, Code: "eu", Name: "Europe", Active: true, CreatedAt: ago(48 * time.Hour), Assigned: 4, LastResultAt: at(5 * time.Second), Late: 1},
		{ID: 3, Code: "old", Name: "Retired", Active: false, CreatedAt: ago(48 * time.Hour)},
	}
	norm := cmp.Transformer("utc", func(t time.Time) time.Time { return t.UTC() })
	if diff := cmp.Diff(want, got, norm); diff != "" {
		t.Errorf("RegionActivity (-want +got):\n%s", diff)
	}
}
