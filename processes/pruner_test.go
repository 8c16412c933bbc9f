package processes_test

import (
	"context"
	"testing"
	"time"

	"github.com/medialuna/medialuna/adapters/postgres"
	"github.com/medialuna/medialuna/processes"
	"github.com/medialuna/medialuna/projections"
	"github.com/medialuna/medialuna/test/testdb"
)

// TestPrunerCatchesUpInOneRound: 25,000 raw results past their retention
// (three batches) go in one round, the recent ones stay, and ended
// rate-limit windows go too.
func TestPrunerCatchesUpInOneRound(t *testing.T) {
	f := newFixture(t)
	f.run(t, projections.Metrics{})
	now := time.Now().UTC()
	old := now.Add(-projections.RawRetention - time.Hour)
	if _, err := f.db.Exec(`INSERT INTO check_results (monitor_id, region_id, checked_at, up, response_time_ms)
		SELECT 1, 1, $1::timestamptz - g * interval '1 second', true, 10 FROM generate_series(1, 25000) AS g`, old); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.Exec(`INSERT INTO check_results (monitor_id, region_id, checked_at, up, response_time_ms)
		SELECT 1, 1, $1::timestamptz - g * interval '1 second', true, 10 FROM generate_series(1, 5) AS g`, now); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.Exec(`INSERT INTO rate_limit_windows (account_id, window_start, requests) VALUES (1, $1, 3), (1, $2, 1)`,
		now.Add(-time.Hour).Truncate(time.Minute), now.Truncate(time.Minute)); err != nil {
		t.Fatal(err)
	}
	limiter := postgres.NewRateLimiter(f.db.DB, func() time.Time { return now })
	processes.NewPruner(f.queries, func() time.Time { return now }, testdb.Logger(t), limiter).Prune(context.Background())
	var raw, windows int
	if err := f.db.Get(&raw, `SELECT count(*) FROM check_results`); err != nil {
		t.Fatal(err)
	}
	if err := f.db.Get(&windows, `SELECT count(*) FROM rate_limit_windows`); err != nil {
		t.Fatal(err)
	}
	if raw != 5 || windows != 1 {
		t.Errorf("after one round: %d raw results (want the 5 recent), %d rate-limit windows (want the current one)", raw, windows)
	}
}
