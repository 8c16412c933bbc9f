package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/medialuna/medialuna/adapters/postgres"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/test/testdb"
)

// fillLog bulk-inserts n check-like events spread over 5,000 accounts
// (ids 1000-5999) straight into the table, as a long-running server's log
// would hold them, then refreshes the planner's statistics.
func fillLog(tb testing.TB, db *testdb.DB, n int) {
	tb.Helper()
	_, err := db.Exec(`
		INSERT INTO events (stream_id, stream_version, event_id, event_type, event_version, data, metadata, account_id)
		SELECT 'monitor-' || (g % 10000), g / 10000, gen_random_uuid(), 'CheckRecorded', 1,
			json_build_object('monitor_id', g % 10000, 'region_id', 1, 'up', true, 'response_time_ms', 123.4),
			json_build_object('actor_type', 'probe', 'account_id', 1000 + g % 5000, 'occurred_at', now()),
			1000 + g % 5000
		FROM generate_series(0, $1 - 1) AS g`, n)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := db.Exec(`ANALYZE events`); err != nil {
		tb.Fatal(err)
	}
}

func accountEvent(account int64, typ string) domain.EventData {
	return domain.EventData{ID: uuid.NewString(), Type: typ, Version: 1, Data: json.RawMessage(`{"note":"x"}`),
		Metadata: domain.Metadata{ActorType: domain.ActorUser, ActorID: 1, AccountID: account, OccurredAt: time.Now().UTC()}}
}

// TestReadAccount: an account's read returns that account's events and no
// other, in log order, and paging from the last position misses nothing.
func TestReadAccount(t *testing.T) {
	db := testdb.New(t)
	s := postgres.NewEventStore(db.DB, db.URL, testdb.Logger(t))
	ctx := context.Background()
	var want []string
	for i := range 25 {
		e := accountEvent(7, "Mine")
		want = append(want, e.ID)
		if _, err := s.Append(ctx, fmt.Sprintf("account-7-%d", i%3), domain.AnyVersion, e, accountEvent(8, "Theirs")); err != nil {
			t.Fatal(err)
		}
		sys := accountEvent(0, "System")
		if _, err := s.AppendBatch(ctx, []domain.StreamEvent{{Stream: "region-1", Event: sys}}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	var from domain.Position
	for {
		page, err := s.ReadAccount(ctx, 7, from, 4)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page {
			if e.Metadata.AccountID != 7 {
				t.Fatalf("account 7's read returned %s of account %d", e.Type, e.Metadata.AccountID)
			}
			got = append(got, e.ID)
		}
		if len(page) < 4 {
			break
		}
		from = page[len(page)-1].Position
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("account 7's events, in pages of 4:\n got %v\nwant %v", got, want)
	}
}

// TestReadAccountUsesTheIndex: on a log of 50,000 other events, the
// planner reads an account's events through events_account, not by
// scanning the log.
func TestReadAccountUsesTheIndex(t *testing.T) {
	db := testdb.New(t)
	fillLog(t, db, 50_000)
	// Fresh statistics, as autovacuum would have them: the plan must not
	// depend on when it last ran.
	if _, err := db.Exec(`ANALYZE events`); err != nil {
		t.Fatal(err)
	}
	var plan []string
	if err := db.Select(&plan, `EXPLAIN `+postgres.ReadAccountSQL, 42, "0", 0, 2000); err != nil {
		t.Fatal(err)
	}
	text := strings.Join(plan, "\n")
	if !strings.Contains(text, "events_account") || strings.Contains(text, "Seq Scan") {
		t.Errorf("the account read does not use the events_account index:\n%s", text)
	}
}

// TestMigrationBackfillsAccountColumn: rows whose account_id column is
// empty but whose metadata names an account are filled by migration 0009,
// so the indexed read finds them.
func TestMigrationBackfillsAccountColumn(t *testing.T) {
	db := testdb.New(t)
	ctx := context.Background()
	// Undo 0009 and write a row as an older build could have.
	for _, q := range []string{`DROP INDEX events_account`, `DROP TABLE login_failures`, `DELETE FROM schema_migrations WHERE version = 9`,
		`INSERT INTO events (stream_id, stream_version, event_id, event_type, event_version, data, metadata)
		 VALUES ('account-5', 0, gen_random_uuid(), 'AccountOpened', 1, '{}', '{"actor_type":"user","account_id":5}')`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := postgres.Migrate(ctx, db.DB, testdb.Logger(t)); err != nil {
		t.Fatal(err)
	}
	s := postgres.NewEventStore(db.DB, db.URL, testdb.Logger(t))
	got, err := s.ReadAccount(ctx, 5, domain.Position{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Type != "AccountOpened" {
		t.Errorf("account 5 after the backfill: %+v", got)
	}
}

// TestReadAccountSeesPastAnOpenTransaction: a transaction left open
// elsewhere (a long migration, a rebuild, another application) holds
// followers back, but not an account's export of what has committed.
func TestReadAccountSeesPastAnOpenTransaction(t *testing.T) {
	db := testdb.New(t)
	s := postgres.NewEventStore(db.DB, db.URL, testdb.Logger(t))
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`SELECT pg_current_xact_id()`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, "account-3", domain.NoStream, accountEvent(3, "AccountOpened")); err != nil {
		t.Fatal(err)
	}
	if all, _ := s.ReadAll(ctx, domain.Position{}, 10); len(all) != 0 {
		t.Fatalf("ReadAll was expected to hold the event back, got %d", len(all))
	}
	got, err := s.ReadAccount(ctx, 3, domain.Position{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Errorf("account 3 with another transaction open: %d events, want 1", len(got))
	}
}

// TestMigrationFillsMonitorUptime: a database whose metrics read model
// predates monitor_uptime gets the table from migration 0011, filled from
// its rollups, without a rebuild; a database without the read model yet
// is left to the projector.
func TestMigrationFillsMonitorUptime(t *testing.T) {
	db := testdb.New(t)
	ctx := context.Background()
	for _, q := range []string{`DELETE FROM schema_migrations WHERE version = 11`,
		`CREATE TABLE check_rollups (monitor_id BIGINT NOT NULL, region_id BIGINT NOT NULL, hour TIMESTAMPTZ NOT NULL,
			checks INT NOT NULL, up_checks INT NOT NULL, maint_checks INT NOT NULL DEFAULT 0, maint_up INT NOT NULL DEFAULT 0,
			PRIMARY KEY (monitor_id, hour, region_id))`,
		`INSERT INTO check_rollups VALUES
			(1, 1, '2026-05-10 12:00Z', 60, 30, 0, 0), (1, 2, '2026-05-10 11:00Z', 60, 60, 20, 20),
			(1, 1, '2026-05-09 10:00Z', 60, 0, 0, 0), -- before the window
			(2, 1, '2026-05-01 08:00Z', 10, 10, 10, 10)`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := postgres.Migrate(ctx, db.DB, testdb.Logger(t)); err != nil {
		t.Fatal(err)
	}
	var got []struct {
		ID     int64     `db:"monitor_id"`
		End    time.Time `db:"window_end"`
		Uptime *float64  `db:"uptime_24h"`
	}
	if err := db.Select(&got, `SELECT monitor_id, window_end, uptime_24h FROM monitor_uptime ORDER BY monitor_id`); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Uptime == nil || *got[0].Uptime != 70 || !got[0].End.Equal(time.Date(2026, 5, 10, 12, 0, 0, 0, time.UTC)) || got[1].Uptime != nil {
		t.Errorf("monitor_uptime after 0011: %+v (want monitor 1 at 70%%: (30 + 40) of (60 + 40) outside maintenance; monitor 2 none)", got)
	}
}
