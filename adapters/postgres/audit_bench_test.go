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
	b.ResetTimer()
	for range b.N {
		n := 0
		err := projections.ExportAudit(ctx, s, projections.AuditFilter{AccountID: account}, func(e domain.RecordedEvent) error {
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
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
}
