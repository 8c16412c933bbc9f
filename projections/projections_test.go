package projections_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/medialuna/medialuna/adapters/postgres"
	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/projections"
	"github.com/medialuna/medialuna/test/testdb"
)

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
	queries := projections.NewQueries(db.DB)
	t.Cleanup(queries.ListenForCheckpoints(db.URL, testdb.Logger(t)))
	return fixture{db: db, store: store, queries: queries, ids: postgres.NewIDs(db.DB)}
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

// populate writes a realistic history through the command handlers.
func populate(t *testing.T, f fixture, accounts int) domain.Position {
	ctx := context.Background()
	now := func() time.Time { return time.Now().UTC() }
	signup := commands.NewSignupHandler(f.store, f.ids, now)
	invite := commands.NewInviteMemberHandler(f.store, f.ids, now)
	accept := commands.NewAcceptInviteHandler(f.store, f.ids, now, commands.NewInviteTokens([]byte("k")))
	keys := commands.NewCreateAPIKeyHandler(f.store, f.ids, now, f.queries)
	revoke := commands.NewRevokeAPIKeyHandler(f.store, now)
	updateAccount, changePlan := commands.NewUpdateAccountHandler(f.store, now), commands.NewChangePlanHandler(f.store, now)
	var last domain.Position
	for i := range accounts {
		res, err := signup.Handle(ctx, commands.Signup{Email: fmt.Sprintf("owner%d@example.com", i), Password: "correct horse", AccountName: fmt.Sprintf("Team %d", i)})
		if err != nil {
			t.Fatal(err)
		}
		actor := commands.Actor{Type: domain.ActorUser, ID: res.UserID, AccountID: res.AccountID}
		inviteID, _, err := invite.Handle(ctx, commands.InviteMember{Actor: actor, Email: fmt.Sprintf("member%d@example.com", i), Role: "EDITOR"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := accept.Handle(ctx, commands.AcceptInvite{Token: commands.NewInviteTokens([]byte("k")).Sign(res.AccountID, inviteID), Password: "another secret"}); err != nil {
			t.Fatal(err)
		}
		k, err := keys.Handle(ctx, commands.CreateAPIKey{Actor: actor, Role: domain.RoleAdmin, Plan: domain.PlanFree, Name: "ci", Scopes: []string{"read:monitors"}})
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			if _, err := revoke.Handle(ctx, commands.RevokeAPIKey{Actor: actor, Role: domain.RoleAdmin, KeyID: k.ID}); err != nil {
				t.Fatal(err)
			}
		}
		name := fmt.Sprintf("Renamed %d", i)
		if _, err := updateAccount.Handle(ctx, commands.UpdateAccount{Actor: actor, Name: &name}); err != nil {
			t.Fatal(err)
		}
		if last, err = changePlan.Handle(ctx, commands.ChangePlan{Actor: actor, AccountID: res.AccountID, Plan: "PRO"}); err != nil {
			t.Fatal(err)
		}
	}
	return last
}

func dump(t *testing.T, db *sqlx.DB, tables ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, table := range tables {
		var s *string
		if err := db.Get(&s, `SELECT json_agg(t ORDER BY t.id)::text FROM `+table+` t`); err != nil {
			t.Fatal(err)
		}
		if s != nil {
			out[table] = *s
		}
	}
	return out
}

func TestRebuiltModelEqualsLiveOne(t *testing.T) {
	f := newFixture(t)
	models := []projections.Projector{projections.Accounts{}, projections.APIKeys{}}
	f.run(t, models...)
	last := populate(t, f, 6)
	f.wait(t, []string{"accounts", "api_keys"}, last)
	tables := []string{"accounts", "users", "invites", "api_keys"}
	live := dump(t, f.db.DB, tables...)
	if len(live) != 4 {
		t.Fatalf("live model incomplete: %v", live)
	}
	var users []projections.UserRow
	json.Unmarshal([]byte(live["users"]), &users)
	if len(users) != 12 {
		t.Fatalf("%d users, want 12", len(users))
	}

	var reports atomic.Int64
	for _, p := range models {
		err := projections.NewRebuilder(f.db.DB, f.store, testdb.Logger(t)).Rebuild(context.Background(), p,
			func(string, int64, uint64, uint64) { reports.Add(1) })
		if err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff(live, dump(t, f.db.DB, tables...)); diff != "" {
		t.Errorf("rebuilt model differs from the live one (-live +rebuilt):\n%s", diff)
	}
	if reports.Load() == 0 {
		t.Error("rebuild reported no progress")
	}

	// The live projector keeps working on the swapped-in tables.
	more := populate2(t, f)
	f.wait(t, []string{"accounts", "api_keys"}, more)
	if _, err := f.queries.UserByEmail(context.Background(), "late@example.com"); err != nil {
		t.Errorf("event after the swap not projected: %v", err)
	}
}

func populate2(t *testing.T, f fixture) domain.Position {
	res, err := commands.NewSignupHandler(f.store, f.ids, time.Now).Handle(context.Background(),
		commands.Signup{Email: "late@example.com", Password: "correct horse", AccountName: "Late"})
	if err != nil {
		t.Fatal(err)
	}
	return res.Position
}

// flaky fails on every event of one type; the runner must park those and
// keep applying the rest.
type flaky struct {
	projections.Accounts
	failType string
	attempts atomic.Int64
}

func (p *flaky) Name() string { return "flaky_accounts" }
func (p *flaky) Apply(ctx context.Context, tx projections.Exec, rec domain.RecordedEvent, ev domain.Event) error {
	if rec.Type == p.failType {
		p.attempts.Add(1)
		return errors.New("cannot apply " + rec.Type)
	}
	return p.Accounts.Apply(ctx, tx, rec, ev)
}

func TestPoisonEventIsParkedAndTheRestApplied(t *testing.T) {
	f := newFixture(t)
	p := &flaky{failType: "AccountUpdated"}
	f.run(t, p, projections.APIKeys{})
	last := populate(t, f, 2)
	f.wait(t, []string{"flaky_accounts"}, last)

	var parked []string
	if err := f.db.Select(&parked, `SELECT event_type FROM parked_events WHERE projector = 'flaky_accounts' ORDER BY prepare_position`); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"AccountUpdated", "AccountUpdated"}, parked); diff != "" {
		t.Errorf("parked (-want +got):\n%s", diff)
	}
	var plans []string
	f.db.Select(&plans, `SELECT plan FROM accounts ORDER BY id`)
	if diff := cmp.Diff([]string{"PRO", "PRO"}, plans); diff != "" {
		t.Errorf("events after the poison ones were not applied (-want +got):\n%s", diff)
	}
	if p.attempts.Load() < 3 {
		t.Errorf("poison event tried %d times; want retries before parking", p.attempts.Load())
	}
	st, err := f.queries.ProjectorStatuses(context.Background(), []string{"flaky_accounts"})
	if err != nil || len(st) != 1 || st[0].Parked != 2 || st[0].LagEvents != 0 {
		t.Errorf("status = %+v, %v; want 2 parked, no lag", st, err)
	}
}

func TestRedeliveredBatchIsAppliedOnce(t *testing.T) {
	f := newFixture(t)
	f.run(t, projections.Accounts{}, projections.APIKeys{})
	last := populate(t, f, 1)
	f.wait(t, []string{"accounts"}, last)
	before := dump(t, f.db.DB, "accounts", "users", "invites")
	// Rewind nothing, but replay the whole log through Apply again inside
	// the checkpoint guard: nothing may change.
	events, err := f.store.ReadAll(context.Background(), domain.Position{}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if err := projections.ApplyForTest(context.Background(), f.db.DB, projections.Accounts{}, events); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, dump(t, f.db.DB, "accounts", "users", "invites")); diff != "" {
		t.Errorf("redelivery changed the model (-before +after):\n%s", diff)
	}
}

// strictConsumer is a consumer with its own table whose column refuses
// names longer than eight characters: the database's data exception on an
// event is the event's fault, so the consumer must park it and go on, not
// wait for it forever as it waits out a mail server.
type strictConsumer struct{}

func (strictConsumer) Name() string     { return "strict_consumer" }
func (strictConsumer) Version() int     { return 1 }
func (strictConsumer) Tables() []string { return []string{"strict_names"} }
func (strictConsumer) IsConsumer()      {}
func (strictConsumer) Handles(t string) bool {
	return t == "AccountOpened" || t == "AccountUpdated"
}
func (strictConsumer) Setup(ctx context.Context, tx *sqlx.Tx) error {
	_, err := tx.ExecContext(ctx, `CREATE TABLE strict_names (name varchar(8) NOT NULL)`)
	return err
}
func (strictConsumer) Apply(ctx context.Context, tx projections.Exec, rec domain.RecordedEvent, ev domain.Event) error {
	var name string
	switch e := ev.(type) {
	case *domain.AccountOpened:
		name = e.Name
	case *domain.AccountUpdated:
		name = e.Name
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO strict_names (name) VALUES ($1)`, name)
	return err
}

func TestConsumerParksAnEventTheDatabaseRefuses(t *testing.T) {
	f := newFixture(t)
	f.run(t, strictConsumer{})
	last := populate(t, f, 2) // opens "Team 0", "Team 1"; renames to "Renamed 0", "Renamed 1" (too long)
	f.wait(t, []string{"strict_consumer"}, last)
	var names []string
	if err := f.db.Select(&names, `SELECT name FROM strict_names ORDER BY name`); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"Team 0", "Team 1"}, names); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
	st, err := f.queries.ProjectorStatuses(context.Background(), []string{"strict_consumer"})
	if err != nil || len(st) != 1 || st[0].Parked != 2 || len(st[0].RecentlyParked) != 2 {
		t.Fatalf("status = %+v, %v; want 2 parked, listed", st, err)
	}
	if p := st[0].RecentlyParked[0]; p.EventType != "AccountUpdated" || !strings.Contains(p.Error, "22001") {
		t.Errorf("parked %+v; want the AccountUpdated with the database's error", p)
	}
}

// strictModel is strictConsumer as a plain read model: its refused writes
// are flushed after Apply returns, so the error names no event; applied
// alone, the event is still to blame and parked.
type strictModel struct{ strict strictConsumer }

func (strictModel) Name() string                                   { return "strict_model" }
func (strictModel) Version() int                                   { return 1 }
func (m strictModel) Tables() []string                             { return m.strict.Tables() }
func (m strictModel) Handles(t string) bool                        { return m.strict.Handles(t) }
func (m strictModel) Setup(ctx context.Context, tx *sqlx.Tx) error { return m.strict.Setup(ctx, tx) }
func (m strictModel) Apply(ctx context.Context, tx projections.Exec, rec domain.RecordedEvent, ev domain.Event) error {
	return m.strict.Apply(ctx, tx, rec, ev)
}

func TestReadModelParksAnEventTheDatabaseRefuses(t *testing.T) {
	f := newFixture(t)
	f.run(t, strictModel{})
	last := populate(t, f, 2)
	f.wait(t, []string{"strict_model"}, last)
	st, err := f.queries.ProjectorStatuses(context.Background(), []string{"strict_model"})
	if err != nil || len(st) != 1 || st[0].Parked != 2 {
		t.Fatalf("status = %+v, %v; want 2 parked", st, err)
	}
}

// TestCheckpointCommitNotifiesWaiters: the projector's checkpoint
// transaction sends the notification that wakes Queries.WaitFor in every
// process on the database (an API replica that does not run projectors
// included), so a write need not wait out a poll.
func TestCheckpointCommitNotifiesWaiters(t *testing.T) {
	f := newFixture(t)
	l := pq.NewListener(f.db.URL, 10*time.Millisecond, time.Second, nil)
	t.Cleanup(func() { l.Close() })
	if err := l.Listen("medialuna_checkpoints"); err != nil {
		t.Fatal(err)
	}
	f.run(t, projections.Accounts{})
	// Drain what building the model sent; then one write must notify.
	for drained := false; !drained; {
		select {
		case <-l.Notify:
		case <-time.After(200 * time.Millisecond):
			drained = true
		}
	}
	last := populate(t, f, 1)
	// The payload names the projector and the position it reached, which
	// the waiters' wakeups parse (checkpointWakeups.hear).
	want := fmt.Sprintf("accounts %d %d", last.Commit, last.Prepare)
	var heard []string
	for done := false; !done; {
		select {
		case n := <-l.Notify:
			if n == nil {
				t.Fatal("the LISTEN connection was lost")
			}
			heard = append(heard, n.Extra)
			done = n.Extra == want
		case <-time.After(10 * time.Second):
			t.Fatalf("no checkpoint notification %q after the projector applied a write; heard %q", want, heard)
		}
	}
	f.wait(t, []string{"accounts"}, last)
}
