package projections_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/medialuna/medialuna/adapters/postgres"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/projections"
	"github.com/medialuna/medialuna/test/testdb"
)

// checkHistory writes a log mixing monitors, check results from several
// regions across an hour boundary, a pause, a region change and a
// deletion, and returns its events as the store recorded them.
func checkHistory(t *testing.T, store *postgres.EventStore) []domain.RecordedEvent {
	ctx := context.Background()
	base := time.Date(2026, 5, 1, 9, 58, 0, 0, time.UTC)
	meta := func(at time.Time) domain.Metadata {
		return domain.Metadata{ActorType: domain.ActorUser, ActorID: 1, AccountID: 1, OccurredAt: at}
	}
	put := func(stream string, at time.Time, evs ...domain.Event) {
		var data []domain.EventData
		for _, e := range evs {
			d, err := domain.Encode(e, meta(at), uuid.NewString())
			if err != nil {
				t.Fatal(err)
			}
			data = append(data, d)
		}
		if _, err := store.Append(ctx, stream, domain.AnyVersion, data...); err != nil {
			t.Fatal(err)
		}
	}
	for id := int64(1); id <= 4; id++ {
		cfg := domain.DefaultMonitorConfig()
		cfg.Name, cfg.Type, cfg.URL, cfg.RegionIDs, cfg.ConfirmFromLocations = fmt.Sprint("m", id), domain.TypeHTTP, "https://x.test", []int64{1, 2}, int(id%2)+1
		put(domain.MonitorStream(id), base, &domain.MonitorCreated{MonitorID: id, AccountID: 1, Config: cfg})
	}
	var checks []domain.StreamEvent
	for i := range 240 {
		id := int64(i%4 + 1)
		region := int64(i%3 + 1) // region 3 is not assigned: ignored for status
		at := base.Add(time.Duration(i) * time.Second)
		c := &domain.CheckRecorded{MonitorID: id, RegionID: region, ScheduledAt: at, CheckedAt: at,
			InMaintenance: i%13 == 0,
			CheckOutcome:  domain.CheckOutcome{Up: (i/7)%3 != 0, ResponseTimeMs: float64(i%50) + 0.5, StatusCode: 200 + i%2*300, Error: fmt.Sprint("e", i%5)}}
		if i%11 == 0 {
			exp := at.Add(72 * time.Hour)
			c.CertExpiresAt = &exp
		}
		d, _ := domain.Encode(c, meta(at), uuid.NewString())
		checks = append(checks, domain.StreamEvent{Stream: domain.ChecksStream(id), Event: d})
		if i == 100 {
			if _, err := store.AppendBatch(ctx, checks); err != nil {
				t.Fatal(err)
			}
			checks = nil
			put(domain.MonitorStream(2), at, &domain.MonitorPaused{})
			cfg := domain.DefaultMonitorConfig()
			cfg.Name, cfg.Type, cfg.URL, cfg.RegionIDs = "m3", domain.TypeHTTP, "https://x.test", []int64{3}
			put(domain.MonitorStream(3), at, &domain.MonitorUpdated{Config: cfg})
		}
		if i == 200 {
			if _, err := store.AppendBatch(ctx, checks); err != nil {
				t.Fatal(err)
			}
			checks = nil
			put(domain.MonitorStream(4), at, &domain.MonitorDeleted{})
		}
	}
	if _, err := store.AppendBatch(ctx, checks); err != nil {
		t.Fatal(err)
	}
	// Readers see the log up to the oldest transaction still open anywhere
	// in the cluster (other test packages share it): wait for all of it.
	const written = 4 + 240 + 3
	deadline := time.Now().Add(30 * time.Second)
	for {
		all, err := store.ReadAll(ctx, domain.Position{}, 10000)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) == written {
			return all
		}
		if time.Now().After(deadline) {
			t.Fatalf("the log shows %d of the %d events written", len(all), written)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func dumpQuery(t *testing.T, db *testdb.DB, q string) string {
	var s *string
	if err := db.Get(&s, q); err != nil {
		t.Fatal(err)
	}
	if s == nil {
		return ""
	}
	var v any
	json.Unmarshal([]byte(*s), &v)
	out, _ := json.MarshalIndent(v, "", " ")
	return string(out)
}

// TestBatchPathEqualsOneByOne projects the same log event by event and in
// batches; the check-result fast path must leave identical tables. Chunks
// of 7 hold one check per monitor, region and hour (the rollups' in-place
// path), chunks of 20 mix those with keys seen twice, the whole log in one
// batch sees every key many times.
func TestBatchPathEqualsOneByOne(t *testing.T) {
	ctx := context.Background()
	dumps := map[string][]string{}
	modes := []string{"one_by_one", "batched", "chunks_of_7", "chunks_of_20"}
	for _, mode := range modes {
		db := testdb.New(t)
		store := postgres.NewEventStore(db.DB, db.URL, testdb.Logger(t))
		events := checkHistory(t, store)
		for _, p := range []projections.Projector{projections.Monitors{}, projections.Metrics{}} {
			if err := projections.NewRebuilder(db.DB, store, testdb.Logger(t)).Rebuild(ctx, p, nil); err != nil {
				t.Fatal(err)
			}
			// Undo the rebuild's work and apply again the way under test.
			db.MustExec(`TRUNCATE ` + strings.Join(p.Tables(), ", "))
			db.MustExec(`UPDATE projection_checkpoints SET commit_position = 0, prepare_position = 0 WHERE name = $1`, p.Name())
			chunk := map[string]int{"one_by_one": 1, "batched": len(events), "chunks_of_7": 7, "chunks_of_20": 20}[mode]
			for i := 0; i < len(events); i += chunk {
				if err := projections.ApplyForTest(ctx, db.DB, p, events[i:min(i+chunk, len(events))]); err != nil {
					t.Fatal(err)
				}
			}
		}
		dumps[mode] = []string{
			dumpQuery(t, db, `SELECT json_agg(m ORDER BY id) FROM (SELECT id, status, paused, last_checked_at, last_up_at, last_response_time_ms, cert_expires_at FROM monitors JOIN monitor_state ON monitor_id = id) m`),
			dumpQuery(t, db, `SELECT json_agg(l ORDER BY monitor_id, region_id) FROM monitor_region_latest l`),
			dumpQuery(t, db, `SELECT json_agg(c ORDER BY monitor_id, checked_at, region_id) FROM check_results c`),
			dumpQuery(t, db, `SELECT json_agg(r ORDER BY monitor_id, hour, region_id) FROM check_rollups r`),
			dumpQuery(t, db, `SELECT json_agg(u ORDER BY monitor_id) FROM monitor_uptime u`),
		}
		// Each monitor's 24-hour uptime is its raw results' (every check of
		// this log falls in the window), maintenance left out.
		var wrong []string
		if err := db.Select(&wrong, `SELECT u.monitor_id || ': ' || coalesce(u.uptime_24h::text, 'null') || ' vs ' || coalesce(c.uptime::text, 'null')
			FROM monitor_uptime u JOIN (SELECT monitor_id, max(checked_at) AS latest,
				round(100.0 * count(*) FILTER (WHERE up AND NOT in_maintenance) / nullif(count(*) FILTER (WHERE NOT in_maintenance), 0), 2)::float8 AS uptime
				FROM check_results GROUP BY monitor_id) c USING (monitor_id)
			WHERE u.uptime_24h IS DISTINCT FROM c.uptime OR u.window_end <> c.latest`); err != nil {
			t.Fatal(err)
		}
		if len(wrong) > 0 {
			t.Errorf("%s: monitor_uptime differs from the raw results: %v", mode, wrong)
		}
	}
	for _, mode := range modes[1:] {
		for i, name := range []string{"monitors", "latest", "raw", "rollups", "uptime"} {
			if diff := cmp.Diff(dumps["one_by_one"][i], dumps[mode][i]); diff != "" {
				t.Errorf("%s differ (-one by one +%s):\n%s", name, mode, diff)
			}
		}
	}
	if dumps["batched"][3] == "" || dumps["batched"][0] == "" {
		t.Fatal("nothing was projected")
	}
	var statuses []struct {
		ID     int64
		Status string
	}
	json.Unmarshal([]byte(dumps["batched"][0]), &statuses)
	t.Logf("statuses: %+v", statuses)
	if len(statuses) != 3 || statuses[1].Status != "paused" {
		t.Errorf("statuses = %+v; want monitor 4 deleted and 2 paused", statuses)
	}
}

// A check's detail longer than the stored bound is cut on a character
// boundary, event by event and in batches alike: a cut through a
// character is invalid UTF-8, which PostgreSQL refuses, and the check
// result would be parked instead of recorded.
func TestLongCheckDetailIsCutOnACharacter(t *testing.T) {
	ctx := context.Background()
	db := testdb.New(t)
	store := postgres.NewEventStore(db.DB, db.URL, testdb.Logger(t))
	p := projections.Metrics{}
	if err := projections.NewRebuilder(db.DB, store, testdb.Logger(t)).Rebuild(ctx, p, nil); err != nil {
		t.Fatal(err)
	}
	detail := strings.Repeat("a", 499) + "é and more" // é is bytes 500 and 501
	at := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	var batch []domain.StreamEvent
	for id := int64(1); id <= 3; id++ {
		c := &domain.CheckRecorded{MonitorID: id, RegionID: 1, ScheduledAt: at, CheckedAt: at,
			CheckOutcome: domain.CheckOutcome{Up: true, ResponseTimeMs: 12, StatusCode: 200, Detail: detail}}
		d, err := domain.Encode(c, domain.Metadata{ActorType: domain.ActorProbe, AccountID: 1, OccurredAt: at}, uuid.NewString())
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, domain.StreamEvent{Stream: domain.ChecksStream(id), Event: d})
	}
	if _, err := store.AppendBatch(ctx, batch); err != nil {
		t.Fatal(err)
	}
	var events []domain.RecordedEvent
	for deadline := time.Now().Add(30 * time.Second); len(events) < len(batch); time.Sleep(20 * time.Millisecond) {
		all, err := store.ReadAll(ctx, domain.Position{}, 100)
		if err != nil {
			t.Fatal(err)
		}
		events = all
		if time.Now().After(deadline) {
			t.Fatalf("the log shows %d of the %d events written", len(all), len(batch))
		}
	}
	// The first alone (Apply), the other two together (ApplyBatch).
	if err := projections.ApplyForTest(ctx, db.DB, p, events[:1]); err != nil {
		t.Fatalf("one by one: %v", err)
	}
	if err := projections.ApplyForTest(ctx, db.DB, p, events[1:]); err != nil {
		t.Fatalf("batched: %v", err)
	}
	var stored []string
	if err := db.Select(&stored, `SELECT detail FROM check_results ORDER BY monitor_id`); err != nil {
		t.Fatal(err)
	}
	if len(stored) != 3 {
		t.Fatalf("%d check results stored, want 3", len(stored))
	}
	for i, s := range stored {
		if s != strings.Repeat("a", 499) {
			t.Errorf("monitor %d: detail %q (%d bytes), want the 499 a's before the é", i+1, s, len(s))
		}
	}
}

// TestLateChecksLeaveASummarizedHourAlone: results of an hour applied after
// its ChecksSummarized are not counted, whether a batch holds one result of
// that hour (the in-place path) or several (the array merge); the other
// monitor's rows still take them.
func TestLateChecksLeaveASummarizedHourAlone(t *testing.T) {
	ctx := context.Background()
	db := testdb.New(t)
	store := postgres.NewEventStore(db.DB, db.URL, testdb.Logger(t))
	hour := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	meta := domain.Metadata{ActorType: domain.ActorProbe, ActorID: 1, AccountID: 1, OccurredAt: hour}
	enc := func(e domain.Event) domain.EventData {
		d, err := domain.Encode(e, meta, uuid.NewString())
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	check := func(monitor int64, minute int) domain.StreamEvent {
		at := hour.Add(time.Duration(minute) * time.Minute)
		return domain.StreamEvent{Stream: domain.ChecksStream(1), Event: enc(&domain.CheckRecorded{MonitorID: monitor, RegionID: 1, ScheduledAt: at, CheckedAt: at,
			CheckOutcome: domain.CheckOutcome{Up: true, ResponseTimeMs: 40}})}
	}
	summary := &domain.ChecksSummarized{MonitorID: 1, RegionID: 1, Hour: hour, Checks: 10, UpChecks: 9, RTSum: 500, RTMin: 20, RTMax: 90, Histogram: map[int]int64{22: 10}}
	if _, err := store.Append(ctx, domain.SummariesStream(1), domain.AnyVersion, enc(summary)); err != nil {
		t.Fatal(err)
	}
	if _, err := store.AppendBatch(ctx, []domain.StreamEvent{check(1, 50), check(2, 50)}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.AppendBatch(ctx, []domain.StreamEvent{check(1, 51), check(1, 52), check(2, 51)}); err != nil {
		t.Fatal(err)
	}
	var all []domain.RecordedEvent
	for deadline := time.Now().Add(30 * time.Second); len(all) < 6; time.Sleep(20 * time.Millisecond) {
		var err error
		if all, err = store.ReadAll(ctx, domain.Position{}, 100); err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the log shows %d of 6 events", len(all))
		}
	}
	if err := projections.NewRebuilder(db.DB, store, testdb.Logger(t)).Rebuild(ctx, projections.Metrics{}, nil); err != nil {
		t.Fatal(err)
	}
	db.MustExec(`TRUNCATE check_rollups, monitor_uptime`)
	db.MustExec(`UPDATE projection_checkpoints SET commit_position = 0, prepare_position = 0 WHERE name = 'metrics'`)
	for _, chunk := range [][]domain.RecordedEvent{all[:1], all[1:3], all[3:6]} {
		if err := projections.ApplyForTest(ctx, db.DB, projections.Metrics{}, chunk); err != nil {
			t.Fatal(err)
		}
	}
	var rows []struct {
		Monitor int64   `db:"monitor_id"`
		Checks  int64   `db:"checks"`
		Up      int64   `db:"up_checks"`
		Sum     float64 `db:"rt_sum"`
		Summ    bool    `db:"summarized"`
	}
	if err := db.Select(&rows, `SELECT monitor_id, checks, up_checks, rt_sum, summarized FROM check_rollups ORDER BY monitor_id`); err != nil {
		t.Fatal(err)
	}
	want := `[{Monitor:1 Checks:10 Up:9 Sum:500 Summ:true} {Monitor:2 Checks:2 Up:2 Sum:80 Summ:false}]`
	if got := fmt.Sprintf("%+v", rows); got != want {
		t.Errorf("rollups = %s\nwant      %s", got, want)
	}
}
