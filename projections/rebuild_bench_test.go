package projections_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/medialuna/medialuna/adapters/postgres"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/projections"
	"github.com/medialuna/medialuna/test/testdb"
)

// fillLog appends total events in batches of 1000 where one in every
// relevantEvery is an APIKeyCreated (applied by the api_keys read model)
// and the rest are check-like events it skips.
func fillLog(b *testing.B, store *postgres.EventStore, total, relevantEvery int) {
	ctx := context.Background()
	meta := domain.Metadata{ActorType: domain.ActorSystem, AccountID: 1, OccurredAt: time.Now().UTC()}
	for start := 0; start < total; start += 1000 {
		batch := make([]domain.EventData, 0, 1000)
		for i := start; i < start+1000 && i < total; i++ {
			var ev domain.Event = &domain.APIKeyCreated{KeyID: int64(i + 1), AccountID: 1, UserID: 1, Name: "k",
				Scopes: []domain.Scope{domain.ScopeReadAccount}, KeyHash: fmt.Sprintf("h%d", i), Prefix: "sk_live_abcd"}
			d, _ := domain.Encode(ev, meta, uuid.NewString())
			if i%relevantEvery != 0 {
				d.Type = "CheckRecorded" // unknown to this build's read models: skipped
			}
			batch = append(batch, d)
		}
		if _, err := store.Append(ctx, fmt.Sprintf("bench-%d", start), domain.NoStream, batch...); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRebuild measures events per second through a full rebuild and
// swap, for a log where every event matters to the read model and for one
// where one in ten does (the usual case once check results dominate).
func BenchmarkRebuild(b *testing.B) {
	for _, c := range []struct {
		name          string
		relevantEvery int
	}{{"all_relevant", 1}, {"one_in_ten_relevant", 10}} {
		b.Run(c.name, func(b *testing.B) {
			db := testdb.New(b)
			store := postgres.NewEventStore(db.DB, db.URL, testdb.Logger(b))
			const total = 100_000
			fillLog(b, store, total, c.relevantEvery)
			rb := projections.NewRebuilder(db.DB, store, testdb.Logger(b))
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				if err := rb.Rebuild(context.Background(), projections.APIKeys{}, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(total*b.N)/time.Since(start).Seconds(), "events/s")
			var n int
			db.Get(&n, `SELECT count(*) FROM api_keys`)
			if n != total/c.relevantEvery {
				b.Fatalf("rebuilt %d keys, want %d", n, total/c.relevantEvery)
			}
		})
	}
}
