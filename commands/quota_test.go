package commands_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/medialuna/medialuna/adapters/postgres"
	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/test/testdb"
)

// appendRaw writes e to stream as a crashed command would have left it,
// bypassing the handlers.
func appendRaw(t *testing.T, store domain.EventStore, stream string, e domain.Event) {
	t.Helper()
	d, err := domain.Encode(e, domain.Metadata{ActorType: domain.ActorSystem, OccurredAt: time.Now().UTC()}, uuid.NewString())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Append(context.Background(), stream, domain.AnyVersion, d); err != nil {
		t.Fatal(err)
	}
}

func heldSlots(t *testing.T, store domain.EventStore, accountID int64, kind domain.QuotaKind) []int64 {
	t.Helper()
	recs, err := store.ReadStream(context.Background(), domain.QuotaStream(accountID, kind))
	if err != nil {
		t.Fatal(err)
	}
	q := domain.NewQuota(kind)
	for _, r := range recs {
		ev, err := domain.DecodeRecorded(r)
		if err != nil {
			t.Fatal(err)
		}
		q.Apply(ev)
	}
	ids := []int64{}
	for _, s := range q.Held(time.Now()) {
		ids = append(ids, s.ID)
	}
	return ids
}

// TestLostReleasesAreRepaired: a deletion whose release was lost (the
// process died between the two appends) and a reservation whose resource
// never appeared do not hold their slot forever: the next create refused
// by them frees them. A reservation still young is a create in flight and
// keeps its slot.
func TestLostReleasesAreRepaired(t *testing.T) {
	db := testdb.New(t)
	store := postgres.NewEventStore(db.DB, db.URL, testdb.Logger(t))
	t.Cleanup(func() { store.Close() })
	ctx := context.Background()
	ids := postgres.NewIDs(db.DB)
	actor := commands.Actor{Type: domain.ActorUser, ID: 1, AccountID: 7}

	t.Run("a deleted tag's name", func(t *testing.T) {
		tags := commands.NewCreateTagHandler(store, ids, time.Now, noPages{})
		id, _, err := tags.Handle(ctx, commands.CreateTag{Actor: actor, Name: "Prod"})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := tags.Handle(ctx, commands.CreateTag{Actor: actor, Name: "prod "}); domain.ErrorCode(err) != domain.ErrConflict {
			t.Fatalf("duplicate name: %v", err)
		}
		appendRaw(t, store, domain.TagStream(id), &domain.TagDeleted{}) // no release
		again, _, err := tags.Handle(ctx, commands.CreateTag{Actor: actor, Name: "PROD"})
		if err != nil {
			t.Fatalf("the name of a deleted tag is still taken: %v", err)
		}
		if got := heldSlots(t, store, actor.AccountID, domain.QuotaTags); len(got) != 1 || got[0] != again {
			t.Errorf("held tag slots %v, want [%d]", got, again)
		}
	})

	t.Run("a deleted page's slot", func(t *testing.T) {
		pages := commands.NewCreateStatusPageHandler(store, ids, time.Now, noPages{})
		id, _, err := pages.Handle(ctx, commands.CreateStatusPage{Actor: actor, Plan: domain.PlanFree, Config: domain.StatusPageConfig{Title: "A", Subdomain: "repair-a", IsPublic: true}})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := pages.Handle(ctx, commands.CreateStatusPage{Actor: actor, Plan: domain.PlanFree, Config: domain.StatusPageConfig{Title: "B", Subdomain: "repair-b", IsPublic: true}}); domain.ErrorCode(err) != domain.ErrLimit {
			t.Fatalf("second page on FREE: %v", err)
		}
		appendRaw(t, store, domain.StatusPageStream(id), &domain.StatusPageDeleted{}) // no release
		if _, _, err := pages.Handle(ctx, commands.CreateStatusPage{Actor: actor, Plan: domain.PlanFree, Config: domain.StatusPageConfig{Title: "B", Subdomain: "repair-b", IsPublic: true}}); err != nil {
			t.Fatalf("a deleted page still holds the only slot: %v", err)
		}
	})

	t.Run("a reservation whose page never appeared", func(t *testing.T) {
		other := commands.Actor{Type: domain.ActorUser, ID: 2, AccountID: 8}
		stream := domain.QuotaStream(other.AccountID, domain.QuotaStatusPages)
		appendRaw(t, store, stream, &domain.QuotaSeeded{Kind: domain.QuotaStatusPages, Slots: []domain.Slot{}})
		appendRaw(t, store, stream, &domain.QuotaSlotReserved{Kind: domain.QuotaStatusPages, Slot: domain.Slot{ID: 9001, ReservedAt: time.Now().UTC()}})
		pages := commands.NewCreateStatusPageHandler(store, ids, time.Now, noPages{})
		cfg := domain.StatusPageConfig{Title: "C", Subdomain: "repair-c", IsPublic: true}
		if _, _, err := pages.Handle(ctx, commands.CreateStatusPage{Actor: other, Plan: domain.PlanFree, Config: cfg}); domain.ErrorCode(err) != domain.ErrLimit {
			t.Fatalf("a create in flight lost its slot: %v", err)
		}
		later := commands.NewCreateStatusPageHandler(store, ids, func() time.Time { return time.Now().Add(2 * time.Minute) }, noPages{})
		id, _, err := later.Handle(ctx, commands.CreateStatusPage{Actor: other, Plan: domain.PlanFree, Config: cfg})
		if err != nil {
			t.Fatalf("an abandoned reservation still holds the slot: %v", err)
		}
		if got := heldSlots(t, store, other.AccountID, domain.QuotaStatusPages); len(got) != 1 || got[0] != id {
			t.Errorf("held page slots %v, want [%d]", got, id)
		}
	})
}

// seededPages is the read side of an account that had pages before quota
// streams: it lists them.
type seededPages struct{ ids []int64 }

func (seededPages) MonitorIDs(context.Context, int64) ([]int64, error) { return nil, nil }
func (p seededPages) ExistingSlots(context.Context, int64, domain.QuotaKind, domain.Position) ([]domain.Slot, error) {
	var out []domain.Slot
	for _, id := range p.ids {
		out = append(out, domain.Slot{ID: id})
	}
	return out, nil
}

// TestQuotaSeededOnceFromExistingResources: an account with a page
// recorded before quota streams (no quota stream) seeds its stream from
// what exists, once, even when its first creates race: on STARTER (3
// pages) 6 concurrent creates give exactly 2 pages.
func TestQuotaSeededOnceFromExistingResources(t *testing.T) {
	db := testdb.New(t)
	store := postgres.NewEventStore(db.DB, db.URL, testdb.Logger(t))
	t.Cleanup(func() { store.Close() })
	ctx := context.Background()
	ids := postgres.NewIDs(db.DB)
	actor := commands.Actor{Type: domain.ActorUser, ID: 1, AccountID: 3}
	old := domain.StatusPageConfig{Title: "Old", Subdomain: "old", IsPublic: true}
	appendRaw(t, store, domain.StatusPageStream(500), &domain.StatusPageCreated{PageID: 500, AccountID: actor.AccountID, Config: old})
	pages := commands.NewCreateStatusPageHandler(store, ids, time.Now, seededPages{ids: []int64{500}})

	const n = 6
	errs := make(chan error, n)
	start := make(chan struct{})
	for i := range n {
		go func() {
			<-start
			_, _, err := pages.Handle(ctx, commands.CreateStatusPage{Actor: actor, Plan: domain.PlanStarter, Config: domain.StatusPageConfig{Title: "New", Subdomain: "new-" + string(rune('a'+i)), IsPublic: true}})
			errs <- err
		}()
	}
	close(start)
	created := 0
	for range n {
		switch err := <-errs; domain.ErrorCode(err) {
		case "":
			created++
		case domain.ErrLimit:
		default:
			t.Errorf("create: %v", err)
		}
	}
	if created != 2 {
		t.Errorf("%d pages created next to the old one, want 2", created)
	}
	recs, err := store.ReadStream(ctx, domain.QuotaStream(actor.AccountID, domain.QuotaStatusPages))
	if err != nil {
		t.Fatal(err)
	}
	seeds := 0
	for _, r := range recs {
		if r.Type == "QuotaSeeded" {
			seeds++
		}
	}
	if seeds != 1 || recs[0].Type != "QuotaSeeded" {
		t.Errorf("the quota stream has %d seeds (first event %s), want one, first", seeds, recs[0].Type)
	}
	if got := heldSlots(t, store, actor.AccountID, domain.QuotaStatusPages); len(got) != 3 || got[2] != 500 {
		t.Errorf("held page slots %v, want the old page and two new ones", got)
	}
}
