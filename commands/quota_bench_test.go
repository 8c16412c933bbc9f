package commands_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/medialuna/medialuna/adapters/postgres"
	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/test/testdb"
)

// BenchmarkCreateWithQuota: one tag create (reserve on the account's tag
// quota stream, then the tag) on an account whose quota stream already
// holds n reservations. A tag's name must be unique, which only the whole
// stream shows, so a tag create folds it whole and the cost grows with the
// account's history of tags (monitor creates read a count instead: see
// BenchmarkCreateMonitors).
func BenchmarkCreateWithQuota(b *testing.B) {
	for _, n := range []int{0, 250, 2500} {
		b.Run(fmt.Sprintf("held=%d", n), func(b *testing.B) {
			db := testdb.New(b)
			store := postgres.NewEventStore(db.DB, db.URL, testdb.Logger(b))
			b.Cleanup(func() { store.Close() })
			ctx := context.Background()
			actor := commands.Actor{Type: domain.ActorUser, ID: 1, AccountID: 1}
			meta := domain.Metadata{ActorType: domain.ActorSystem, OccurredAt: time.Now().UTC()}
			events := []domain.EventData{}
			seed, _ := domain.Encode(&domain.QuotaSeeded{Kind: domain.QuotaTags, Slots: []domain.Slot{}}, meta, uuid.NewString())
			events = append(events, seed)
			for i := range n {
				d, _ := domain.Encode(&domain.QuotaSlotReserved{Kind: domain.QuotaTags, Slot: domain.Slot{ID: int64(1_000_000 + i), Name: fmt.Sprint("old", i)}}, meta, uuid.NewString())
				events = append(events, d)
			}
			if _, err := store.Append(ctx, domain.QuotaStream(1, domain.QuotaTags), domain.NoStream, events...); err != nil {
				b.Fatal(err)
			}
			tags := commands.NewCreateTagHandler(store, postgres.NewIDs(db.DB), time.Now, noPages{})
			i := 0
			for b.Loop() {
				i++
				if _, _, err := tags.Handle(ctx, commands.CreateTag{Actor: actor, Name: fmt.Sprint("new", i)}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCreateMonitors: one monitor create, single and as a batch of
// 500 (per monitor), on an ENTERPRISE account already holding held
// monitors. The quota decision reads the count in its stream's latest
// event, so held does not change the cost.
func BenchmarkCreateMonitors(b *testing.B) {
	for _, held := range []int{0, 2500} {
		for _, size := range []int{1, 500} {
			b.Run(fmt.Sprintf("held=%d/batch=%d", held, size), func(b *testing.B) {
				db := testdb.New(b)
				store := postgres.NewEventStore(db.DB, db.URL, testdb.Logger(b))
				b.Cleanup(func() { store.Close() })
				ctx := context.Background()
				h := commands.NewCreateMonitorHandler(store, postgres.NewIDs(db.DB), time.Now, laggingModels{}, 60)
				many := h.Batch()
				actor := commands.Actor{Type: domain.ActorUser, ID: 1, AccountID: 1}
				cfg := domain.DefaultMonitorConfig()
				cfg.Name, cfg.Type, cfg.URL = "m", domain.TypePING, "h.example.com"
				cfg, err := domain.NewMonitorConfig(cfg, domain.MonitorGiven{Name: true, Type: true, URL: true})
				if err != nil {
					b.Fatal(err)
				}
				configs := make([]domain.MonitorConfig, size)
				for i := range configs {
					configs[i] = cfg
				}
				create := func(configs []domain.MonitorConfig) {
					res, _, err := many.Handle(ctx, commands.CreateMonitors{Actor: actor, Plan: domain.PlanEnterprise, Configs: configs})
					if err != nil {
						b.Fatal(err)
					}
					for _, r := range res {
						if r.Err != nil {
							b.Fatal(r.Err)
						}
					}
				}
				for range held / 500 {
					big := make([]domain.MonitorConfig, 500)
					for i := range big {
						big[i] = cfg
					}
					create(big)
				}
				b.ResetTimer()
				for b.Loop() {
					if size == 1 {
						if _, _, err := h.Handle(ctx, commands.CreateMonitor{Actor: actor, Plan: domain.PlanEnterprise, Config: cfg}); err != nil {
							b.Fatal(err)
						}
					} else {
						create(configs)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N*size), "ms/monitor")
			})
		}
	}
}
