package projections_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/medialuna/medialuna/adapters/postgres"
	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/projections"
	"github.com/medialuna/medialuna/test/testdb"
)

// TestRebuildAfterCheckRetentionEqualsBefore writes three days of checks
// the way a server does (results hour by hour, each closed hour summarized
// within the next), rebuilds the read models, drops the two oldest days of
// check results, rebuilds again, and expects the same rollups over the
// whole range, the same monitor state and uptime, and the same incidents.
func TestRebuildAfterCheckRetentionEqualsBefore(t *testing.T) {
	ctx := context.Background()
	db := testdb.New(t)
	store := postgres.NewEventStore(db.DB, db.URL, testdb.Logger(t))
	queries := projections.NewQueries(db.DB)
	day0 := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	if err := store.EnsureCheckPartitions(ctx, day0, day0.AddDate(0, 0, 3)); err != nil {
		t.Fatal(err)
	}
	meta := domain.Metadata{ActorType: domain.ActorUser, ActorID: 1, AccountID: 1, OccurredAt: day0}
	put := func(stream string, e domain.Event) {
		d, err := domain.Encode(e, meta, uuid.NewString())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := store.Append(ctx, stream, domain.AnyVersion, d); err != nil {
			t.Fatal(err)
		}
	}
	for id := int64(1); id <= 3; id++ {
		cfg := domain.DefaultMonitorConfig()
		cfg.Name, cfg.Type, cfg.URL, cfg.RegionIDs = fmt.Sprint("m", id), domain.TypeHTTP, "https://x.test", []int64{1, 2}
		put(domain.MonitorStream(id), &domain.MonitorCreated{MonitorID: id, AccountID: 1, Config: cfg})
	}
	summarize := commands.NewSummarizeChecksHandler(store, queries)
	for h := range 72 {
		hour := day0.Add(time.Duration(h) * time.Hour)
		var batch []domain.StreamEvent
		for m := int64(1); m <= 3; m++ {
			for region := int64(1); region <= 2; region++ {
				for slot := range 6 {
					sched := hour.Add(time.Duration(slot)*10*time.Minute + time.Duration(m)*time.Second)
					up := (h+slot+int(m))%9 != 0
					c := &domain.CheckRecorded{MonitorID: m, RegionID: region, ScheduledAt: sched, CheckedAt: sched.Add(150 * time.Millisecond),
						InMaintenance: h%24 == 3, CheckOutcome: domain.CheckOutcome{Up: up, ResponseTimeMs: float64(10 + (h*7+slot*3)%90), StatusCode: 200}}
					if !up {
						c.StatusCode, c.Error = 503, "HTTP 503"
					}
					d, err := domain.Encode(c, domain.Metadata{ActorType: domain.ActorProbe, ActorID: region, AccountID: 1, OccurredAt: c.CheckedAt},
						domain.CheckEventID(m, region, sched))
					if err != nil {
						t.Fatal(err)
					}
					batch = append(batch, domain.StreamEvent{Stream: domain.ChecksStream(region), Event: d})
				}
			}
		}
		if _, err := store.AppendBatch(ctx, batch); err != nil {
			t.Fatal(err)
		}
		if h > 0 { // the previous hour has closed
			if _, err := summarize.Handle(ctx, commands.SummarizeChecks{Hour: hour.Add(-time.Hour)}); err != nil {
				t.Fatal(err)
			}
		}
		if h == 30 {
			put(domain.IncidentStream(1), &domain.IncidentTriggered{IncidentID: 1, MonitorID: 2, AccountID: 1, Type: domain.IncidentDown,
				Message: "down", StartedAt: hour})
		}
	}
	if _, err := summarize.Handle(ctx, commands.SummarizeChecks{Hour: day0.Add(71 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	models := []projections.Projector{projections.Monitors{}, projections.Metrics{}, projections.Incidents{}}
	// A rebuild reads up to Head, which PostgreSQL holds back while an
	// older transaction anywhere in the cluster is open: wait until it
	// covers everything written above (written in order, one at a time).
	var last int64
	db.Get(&last, `SELECT greatest((SELECT max(position) FROM events), (SELECT max(position) FROM check_events))`)
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		head, err := store.Head(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if int64(head.Prepare) >= last {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the log's head stays at %v, before position %d", head, last)
		}
	}
	snapshot := func() []string {
		rb := projections.NewRebuilder(db.DB, store, testdb.Logger(t))
		for _, p := range models {
			if err := rb.Rebuild(ctx, p, nil); err != nil {
				t.Fatal(err)
			}
		}
		return []string{
			dumpQuery(t, db, `SELECT json_agg(r ORDER BY monitor_id, hour, region_id) FROM check_rollups r`),
			dumpQuery(t, db, `SELECT json_agg(u ORDER BY monitor_id) FROM monitor_uptime u`),
			dumpQuery(t, db, `SELECT json_agg(s ORDER BY monitor_id) FROM monitor_state s`),
			dumpQuery(t, db, `SELECT json_agg(l ORDER BY monitor_id, region_id) FROM monitor_region_latest l`),
			dumpQuery(t, db, `SELECT json_agg(i ORDER BY id) FROM incidents i`),
		}
	}
	before := snapshot()
	var hours int
	db.Get(&hours, `SELECT count(DISTINCT hour) FROM check_rollups`)
	if hours != 72 {
		t.Fatalf("rollups cover %d hours before the drop, want 72", hours)
	}
	dropped, err := store.DropCheckPartitions(ctx, day0.AddDate(0, 0, 2))
	if err != nil {
		t.Fatal(err)
	}
	if len(dropped) != 2 {
		t.Fatalf("dropped %v, want the first two days", dropped)
	}
	var raw int
	db.Get(&raw, `SELECT count(*) FROM check_results WHERE checked_at < $1`, day0.AddDate(0, 0, 2))
	if raw > 3*2 { // a check scheduled before midnight may be checked after it; none is here
		t.Fatalf("%d raw results of the dropped days are still there", raw)
	}
	after := snapshot()
	names := []string{"check_rollups", "monitor_uptime", "monitor_state", "monitor_region_latest", "incidents"}
	for i := range before {
		if before[i] != after[i] {
			t.Errorf("%s differs after dropping two days of check results:\nbefore %.2000s\nafter  %.2000s", names[i], before[i], after[i])
		}
	}
}
