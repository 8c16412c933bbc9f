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
// holds n reservations. The quota stream is read whole on every create, so
// the cost grows with the account's history of its kind.
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
