package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"testing"

	"github.com/medialuna/medialuna/adapters/postgres"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/projections"
	"github.com/medialuna/medialuna/test/testdb"
)

// BenchmarkAuditExportSmallAccount: an account with 6 events on a log of
// 1,000,000 events exports them as NDJSON (GET /api/audit/events). The
// export reads the account's rows through the events_account index, so it
// costs the account's events, not the log's. The log is built once.
// "fullscan" is the path stores without the index take (EventStoreDB).
func BenchmarkAuditExportSmallAccount(b *testing.B) {
	db := testdb.New(b)
	const total = 1_000_000
	fillLog(b, db, total)
	s := postgres.NewEventStore(db.DB, db.URL, testdb.Logger(b))
	b.Cleanup(func() { s.Close() })
	ctx := context.Background()
	const account = 42
	for i := range 6 {
		if _, err := s.Append(ctx, fmt.Sprintf("account-%d-%d", account, i), domain.NoStream, accountEvent(account, "MemberInvited")); err != nil {
			b.Fatal(err)
		}
	}
	enc := json.NewEncoder(io.Discard)
	export := func(b *testing.B, store domain.EventStore) {
		for range b.N {
			n := 0
			err := projections.ExportAudit(ctx, store, projections.AuditFilter{AccountID: account}, func(e domain.RecordedEvent) error {
				n++
				return enc.Encode(projections.NewAuditRecord(e))
			})
			if err != nil {
				b.Fatal(err)
			}
			if n != 6 {
				b.Fatalf("exported %d events, want 6", n)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
	}
	b.Run("index", func(b *testing.B) { export(b, s) })
	// The same store seen only through domain.EventStore, as the
	// EventStoreDB adapter is: the export pages through the whole log.
	// This was the cost of every account's export before the index.
	b.Run("fullscan", func(b *testing.B) { export(b, struct{ domain.EventStore }{s}) })
}
