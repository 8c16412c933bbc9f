package processes_test

import (
	"context"
	"testing"
	"time"

	"github.com/medialuna/medialuna/adapters/postgres"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/projections"
	"github.com/medialuna/medialuna/test/testdb"
)

// fixture is a clean database with the event store, the read models'
// queries and the engine that runs projectors and process managers.
type fixture struct {
	db      *testdb.DB
	store   *postgres.EventStore
	queries *projections.Queries
	ids     *postgres.IDs
}

func newFixture(t testing.TB) fixture {
	db := testdb.New(t)
	store := postgres.NewEventStore(db.DB, db.URL, testdb.Logger(t))
	t.Cleanup(func() { store.Close() }) // before the database is dropped
	return fixture{db: db, store: store, queries: projections.NewQueries(db.DB), ids: postgres.NewIDs(db.DB)}
}

func (f fixture) run(t testing.TB, ps ...projections.Projector) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	r := projections.NewRunner(f.db.DB, f.store, ps, testdb.Logger(t), projections.RunnerConfig{RetryInitial: time.Millisecond, RetryMax: 5 * time.Millisecond, MaxRetries: 2})
	go func() {
		defer close(done)
		r.Run(ctx)
	}()
	t.Cleanup(func() { cancel(); <-done })
	var names []string
	for _, p := range ps {
		names = append(names, p.Name())
	}
	if err := f.queries.WaitUntilBuilt(ctx, names); err != nil {
		t.Fatal(err)
	}
}

func (f fixture) wait(t testing.TB, names []string, pos domain.Position) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := f.queries.WaitFor(ctx, names, pos); err != nil {
		t.Fatalf("projections did not catch up with %v: %v", pos, err)
	}
}
