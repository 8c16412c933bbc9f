package commands_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/medialuna/medialuna/adapters/postgres"
	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/test/testdb"
)

// noPages is the read side of a fresh system: no monitors, no pages.
type noPages struct{}

func (noPages) MonitorIDs(context.Context, int64) ([]int64, error) { return nil, nil }
func (noPages) ExistingSlots(context.Context, int64, domain.QuotaKind, domain.Position) ([]domain.Slot, error) {
	return nil, nil
}

func claimHolder(t *testing.T, store domain.EventStore, sub string) int64 {
	t.Helper()
	recs, err := store.ReadStream(context.Background(), domain.SubdomainStream(sub))
	if err != nil {
		t.Fatal(err)
	}
	var c domain.SubdomainClaim
	for _, r := range recs {
		ev, err := domain.DecodeRecorded(r)
		if err != nil {
			t.Fatal(err)
		}
		c.Apply(ev)
	}
	return c.PageID
}

// TestConcurrentSubdomainClaimsHaveOneWinner: pages of many accounts
// created at the same moment with one subdomain; exactly one is created,
// every other gets a conflict, and the claim names the winner.
func TestConcurrentSubdomainClaimsHaveOneWinner(t *testing.T) {
	db := testdb.New(t)
	store := postgres.NewEventStore(db.DB, db.URL, testdb.Logger(t))
	h := commands.NewCreateStatusPageHandler(store, postgres.NewIDs(db.DB), time.Now, noPages{})
	ctx := context.Background()
	for round := range 10 {
		sub := "acme" + string(rune('a'+round))
		const n = 8
		var wg sync.WaitGroup
		start := make(chan struct{})
		type result struct {
			id  int64
			err error
		}
		results := make(chan result, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				actor := commands.Actor{Type: domain.ActorUser, ID: int64(i + 1), AccountID: int64(i + 1)}
				id, _, err := h.Handle(ctx, commands.CreateStatusPage{Actor: actor, Plan: domain.PlanEnterprise, Config: domain.StatusPageConfig{Title: "Status", Subdomain: sub, IsPublic: true}})
				results <- result{id, err}
			}()
		}
		close(start)
		wg.Wait()
		close(results)
		var winners []int64
		for r := range results {
			switch {
			case r.err == nil:
				winners = append(winners, r.id)
			case domain.ErrorCode(r.err) != domain.ErrConflict:
				t.Fatalf("round %d: unexpected error %v", round, r.err)
			}
		}
		if len(winners) != 1 {
			t.Fatalf("round %d: %d pages created with subdomain %s, want 1", round, len(winners), sub)
		}
		if got := claimHolder(t, store, sub); got != winners[0] {
			t.Errorf("round %d: claim held by page %d, want %d", round, got, winners[0])
		}
		// Only the winner's page stream exists.
		var pages int
		db.Get(&pages, `SELECT count(DISTINCT stream_id) FROM events WHERE event_type = 'StatusPageCreated' AND data->'config'->>'subdomain' = $1`, sub)
		if pages != 1 {
			t.Errorf("round %d: %d StatusPageCreated events for %s", round, pages, sub)
		}
	}
}

// TestSubdomainIsReleasedAndStaleClaimsRepaired: renaming and deleting
// free the old name; a claim whose release was lost (simulated by
// re-claiming by hand) is taken over by the next page.
func TestSubdomainIsReleasedAndStaleClaimsRepaired(t *testing.T) {
	db := testdb.New(t)
	store := postgres.NewEventStore(db.DB, db.URL, testdb.Logger(t))
	h := commands.NewCreateStatusPageHandler(store, postgres.NewIDs(db.DB), time.Now, noPages{})
	update := commands.NewUpdateStatusPageHandler(store, time.Now, noPages{})
	del := commands.NewDeleteStatusPageHandler(store, time.Now)
	ctx := context.Background()
	a := commands.Actor{Type: domain.ActorUser, ID: 1, AccountID: 1}
	b := commands.Actor{Type: domain.ActorUser, ID: 2, AccountID: 2}
	create := func(actor commands.Actor, sub string) (int64, error) {
		id, _, err := h.Handle(ctx, commands.CreateStatusPage{Actor: actor, Plan: domain.PlanEnterprise, Config: domain.StatusPageConfig{Title: "S", Subdomain: sub, IsPublic: true}})
		return id, err
	}
	p1, err := create(a, "one")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := create(b, "ONE"); domain.ErrorCode(err) != domain.ErrConflict {
		t.Fatalf("taken name (other case): %v, want conflict", err)
	}
	// Rename: the old name frees, the new one is held.
	if _, err := update.Handle(ctx, commands.UpdateStatusPage{Actor: a, StatusPageID: p1, Change: setSubdomain("two")}); err != nil {
		t.Fatal(err)
	}
	if got := claimHolder(t, store, "two"); got != p1 {
		t.Errorf("two held by %d", got)
	}
	p2, err := create(b, "one")
	if err != nil {
		t.Fatalf("renamed-away name not free: %v", err)
	}
	// Renaming onto a taken name is a conflict and changes nothing.
	if _, err := update.Handle(ctx, commands.UpdateStatusPage{Actor: a, StatusPageID: p1, Change: setSubdomain("one")}); domain.ErrorCode(err) != domain.ErrConflict {
		t.Fatalf("rename onto a taken name: %v", err)
	}
	if got := claimHolder(t, store, "one"); got != p2 {
		t.Errorf("one held by %d, want %d", got, p2)
	}
	// Another account's page is not found.
	if _, err := update.Handle(ctx, commands.UpdateStatusPage{Actor: b, StatusPageID: p1, Change: func(c domain.StatusPageConfig) (domain.StatusPageConfig, error) { c.Title = "x"; return c, nil }}); domain.ErrorCode(err) != domain.ErrNotFound {
		t.Errorf("update of another account's page: %v", err)
	}
	if _, err := del.Handle(ctx, commands.DeleteStatusPage{Actor: b, StatusPageID: p1}); domain.ErrorCode(err) != domain.ErrNotFound {
		t.Errorf("delete of another account's page: %v", err)
	}
	// Delete frees the name.
	if _, err := del.Handle(ctx, commands.DeleteStatusPage{Actor: b, StatusPageID: p2}); err != nil {
		t.Fatal(err)
	}
	if got := claimHolder(t, store, "one"); got != 0 {
		t.Errorf("one still held by %d after delete", got)
	}

	// A lost release: page p1 moves to "three" but "two" stays claimed by it.
	if _, err := update.Handle(ctx, commands.UpdateStatusPage{Actor: a, StatusPageID: p1, Change: setSubdomain("three")}); err != nil {
		t.Fatal(err)
	}
	recs, _ := store.ReadStream(ctx, domain.SubdomainStream("two"))
	ev, _ := domain.Encode(&domain.SubdomainClaimed{PageID: p1}, domain.Metadata{ActorType: domain.ActorSystem, OccurredAt: time.Now()}, "7f7c2a4e-0000-4000-8000-000000000001")
	if _, err := store.Append(ctx, domain.SubdomainStream("two"), domain.ExpectedVersion(len(recs)-1), ev); err != nil {
		t.Fatal(err)
	}
	// Just claimed, it could be a rename in flight (claim, then save): it
	// is respected for a minute, then taken over.
	if _, err := create(b, "two"); domain.ErrorCode(err) != domain.ErrConflict {
		t.Fatalf("a fresh claim by a page under another name was taken over: %v", err)
	}
	inAMinute := commands.NewCreateStatusPageHandler(store, postgres.NewIDs(db.DB), func() time.Time { return time.Now().Add(2 * time.Minute) }, noPages{})
	p3, _, err := inAMinute.Handle(ctx, commands.CreateStatusPage{Actor: b, Plan: domain.PlanEnterprise, Config: domain.StatusPageConfig{Title: "S", Subdomain: "two", IsPublic: true}})
	if err != nil {
		t.Fatalf("stale claim not taken over: %v", err)
	}
	if got := claimHolder(t, store, "two"); got != p3 {
		t.Errorf("two held by %d, want %d", got, p3)
	}
	// A claim whose page is still being created is respected.
	ev2, _ := domain.Encode(&domain.SubdomainClaimed{PageID: 999}, domain.Metadata{ActorType: domain.ActorSystem, OccurredAt: time.Now()}, "7f7c2a4e-0000-4000-8000-000000000002")
	if _, err := store.Append(ctx, domain.SubdomainStream("four"), domain.NoStream, ev2); err != nil {
		t.Fatal(err)
	}
	if _, err := create(b, "four"); domain.ErrorCode(err) != domain.ErrConflict {
		t.Errorf("claim of a page being created was taken over: %v", err)
	}
	// ...until it is over a minute old: that creation died midway.
	later := commands.NewCreateStatusPageHandler(store, postgres.NewIDs(db.DB), func() time.Time { return time.Now().Add(2 * time.Minute) }, noPages{})
	p4, _, err := later.Handle(ctx, commands.CreateStatusPage{Actor: b, Plan: domain.PlanEnterprise, Config: domain.StatusPageConfig{Title: "S", Subdomain: "four", IsPublic: true}})
	if err != nil {
		t.Fatalf("abandoned claim not taken over: %v", err)
	}
	if got := claimHolder(t, store, "four"); got != p4 {
		t.Errorf("four held by %d, want %d", got, p4)
	}
}

// setSubdomain is a change that renames a page.
func setSubdomain(sub string) func(domain.StatusPageConfig) (domain.StatusPageConfig, error) {
	return func(c domain.StatusPageConfig) (domain.StatusPageConfig, error) {
		c.Subdomain = sub
		return c, nil
	}
}

// TestSubdomainAvailableSaysWhatAClaimWouldDecide: Available agrees with
// create and rename without appending anything: a page's own name is
// free for it, another page's is taken, a released one is free again.
func TestSubdomainAvailableSaysWhatAClaimWouldDecide(t *testing.T) {
	db := testdb.New(t)
	store := postgres.NewEventStore(db.DB, db.URL, testdb.Logger(t))
	h := commands.NewCreateStatusPageHandler(store, postgres.NewIDs(db.DB), time.Now, noPages{})
	del := commands.NewDeleteStatusPageHandler(store, time.Now)
	ctx := context.Background()
	a := commands.Actor{Type: domain.ActorUser, ID: 1, AccountID: 1}
	b := commands.Actor{Type: domain.ActorUser, ID: 2, AccountID: 2}
	id, _, err := h.Handle(ctx, commands.CreateStatusPage{Actor: a, Plan: domain.PlanEnterprise, Config: domain.StatusPageConfig{Title: "S", Subdomain: "held", IsPublic: true}})
	if err != nil {
		t.Fatal(err)
	}
	before, _ := store.ReadStream(ctx, domain.SubdomainStream("free"))
	for _, c := range []struct {
		actor commands.Actor
		sub   string
		page  int64
		want  string
	}{
		{b, "held", 0, domain.ErrConflict}, // another account's page holds it
		{a, "held", 0, domain.ErrConflict}, // a new page of the same account too
		{a, "held", id, ""},                // the page's own name
		{b, "free", 0, ""},                 // nobody's
		{b, "held", id + 1, domain.ErrConflict},
	} {
		if got := domain.ErrorCode(h.Available(ctx, c.actor, c.sub, c.page)); got != c.want {
			t.Errorf("Available(%q, page %d) = %q, want %q", c.sub, c.page, got, c.want)
		}
	}
	if after, _ := store.ReadStream(ctx, domain.SubdomainStream("free")); len(after) != len(before) {
		t.Errorf("Available appended to the claim stream: %d events, was %d", len(after), len(before))
	}
	if _, err := del.Handle(ctx, commands.DeleteStatusPage{Actor: a, StatusPageID: id}); err != nil {
		t.Fatal(err)
	}
	if err := h.Available(ctx, b, "held", 0); err != nil {
		t.Errorf("a deleted page's name: %v, want free", err)
	}
}
