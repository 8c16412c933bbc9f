package e2e

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/medialuna/medialuna/adapters/postgres"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/test/testdb"
)

// `medialuna events archive --drop` writes each old day of check results
// to a gzip NDJSON file, the lines `events export` writes, and drops the
// day from the log; every other event stays.
func TestEventsArchiveWritesThenDropsOldDays(t *testing.T) {
	ctx := context.Background()
	db := testdb.New(t)
	if _, errOut, err := medialuna(t, db, "migrate"); err != nil {
		t.Fatalf("migrate: %v\n%s", err, errOut)
	}
	store := postgres.NewEventStore(db.DB, db.URL, testdb.Logger(t))
	day := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	if err := store.EnsureCheckPartitions(ctx, day, day.AddDate(0, 0, 2)); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for d := range 3 {
		var batch []domain.StreamEvent
		for i := range 5 {
			at := day.AddDate(0, 0, d).Add(time.Duration(i) * time.Hour)
			c := &domain.CheckRecorded{MonitorID: 1, RegionID: 1, ScheduledAt: at, CheckedAt: at, CheckOutcome: domain.CheckOutcome{Up: true, ResponseTimeMs: 5}}
			e, _ := domain.Encode(c, domain.Metadata{ActorType: domain.ActorProbe, ActorID: 1, AccountID: 1, OccurredAt: at}, domain.CheckEventID(1, 1, at))
			batch = append(batch, domain.StreamEvent{Stream: domain.ChecksStream(1), Event: e})
			if d == 0 {
				ids = append(ids, e.ID)
			}
		}
		other, _ := domain.Encode(&domain.TagCreated{TagID: int64(d + 1), Name: "t"}, domain.Metadata{ActorType: domain.ActorSystem, AccountID: 1, OccurredAt: day}, uuid.NewString())
		batch = append(batch, domain.StreamEvent{Stream: domain.TagStream(int64(d + 1)), Event: other})
		if _, err := store.AppendBatch(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	out, errOut, err := medialuna(t, db, "events", "archive", "--before", "2026-02-02", "--dir", dir, "--drop")
	if err != nil {
		t.Fatalf("archive: %v\n%s", err, errOut)
	}
	path := filepath.Join(dir, "check_events_20260201.ndjson.gz")
	if !strings.Contains(out, path+"\t5 events") {
		t.Errorf("archive printed %q, want %s with 5 events", out, path)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		var rec struct {
			EventID string          `json:"event_id"`
			Type    string          `json:"type"`
			Data    json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		if rec.Type != domain.EvCheckRecorded || !strings.Contains(string(rec.Data), `"monitor_id":1`) {
			t.Errorf("archived line %s", sc.Text())
		}
		got = append(got, rec.EventID)
	}
	if strings.Join(got, ",") != strings.Join(ids, ",") {
		t.Errorf("archived ids %v, want the first day's %v in log order", got, ids)
	}
	var checks, tags int
	db.Get(&checks, `SELECT count(*) FROM check_events`)
	db.Get(&tags, `SELECT count(*) FROM events WHERE event_type = 'TagCreated'`)
	if checks != 10 || tags != 3 {
		t.Errorf("after the archive the log holds %d checks and %d other events, want 10 and 3", checks, tags)
	}
}
