package commands_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/medialuna/medialuna/adapters/postgres"
	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/test/testdb"
)

type batchFixture struct {
	store domain.EventStore
	one   *commands.CreateMonitorHandler
	many  *commands.CreateMonitorsHandler
	state *commands.SetMonitorStateHandler
}

func newBatchFixture(t *testing.T) batchFixture {
	db := testdb.New(t)
	store := postgres.NewEventStore(db.DB, db.URL, testdb.Logger(t))
	t.Cleanup(func() { store.Close() })
	ids := postgres.NewIDs(db.DB)
	return batchFixture{store: store,
		one:   commands.NewCreateMonitorHandler(store, ids, time.Now, laggingModels{}, 60),
		many:  commands.NewCreateMonitorsHandler(store, ids, time.Now, laggingModels{}, 60),
		state: commands.NewSetMonitorStateHandler(store, time.Now, laggingModels{})}
}

func pingConfig(t *testing.T, name string) domain.MonitorConfig {
	t.Helper()
	cfg := domain.DefaultMonitorConfig()
	cfg.Name, cfg.Type, cfg.URL, cfg.CheckInterval = name, domain.TypePING, "h.example.com", 300
	cfg, err := domain.NewMonitorConfig(cfg, domain.MonitorGiven{Name: true, Type: true, URL: true})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func pingConfigs(t *testing.T, n int) []domain.MonitorConfig {
	out := make([]domain.MonitorConfig, n)
	for i := range out {
		out[i] = pingConfig(t, fmt.Sprint("m", i))
	}
	return out
}

// lastHeld is the count the account's monitor quota stream records in its
// latest event.
func lastHeld(t *testing.T, store domain.EventStore, account int64) int {
	t.Helper()
	tail, err := store.ReadStreamTail(context.Background(), domain.QuotaStream(account, domain.QuotaMonitors), 1)
	if err != nil || len(tail) != 1 {
		t.Fatalf("tail %v, %v", tail, err)
	}
	ev, err := domain.DecodeRecorded(tail[0])
	if err != nil {
		t.Fatal(err)
	}
	n, ok := domain.QuotaHeld(ev)
	if !ok {
		t.Fatalf("latest quota event %T records no count", ev)
	}
	return n
}

// TestBatchFillsThePlanExactly: with 7 of FREE's 10 slots left, a batch of
// 13 entries, one invalid, creates 7 and refuses the last 5 with the plan's limit; an invalid
// entry is refused as the single create refuses it and takes no slot; a
// deletion frees its slot for the next batch.
func TestBatchFillsThePlanExactly(t *testing.T) {
	f := newBatchFixture(t)
	ctx := context.Background()
	actor := actorOf(7)
	for i := range 3 {
		if _, _, err := f.one.Handle(ctx, commands.CreateMonitor{Actor: actor, Plan: domain.PlanFree, Config: pingConfig(t, fmt.Sprint("single", i))}); err != nil {
			t.Fatal(err)
		}
	}
	configs := pingConfigs(t, 13) // 12 valid: the 7 left and 5 more
	configs[1].CheckInterval = 30 // under FREE's minimum
	res, pos, err := f.many.Handle(ctx, commands.CreateMonitors{Actor: actor, Plan: domain.PlanFree, Configs: configs})
	if err != nil {
		t.Fatal(err)
	}
	if pos == (domain.Position{}) {
		t.Error("no position for a batch that wrote")
	}
	created := []int64{}
	for i, r := range res {
		switch {
		case i == 1:
			var e *domain.Error
			if domain.ErrorCode(r.Err) != domain.ErrInvalid || !asDomain(r.Err, &e) || len(e.Fields) == 0 || e.Fields[0].Field != "check_interval" {
				t.Errorf("entry 1: %v, want check_interval refused", r.Err)
			}
		case i <= 7:
			if r.Err != nil || r.ID == 0 {
				t.Errorf("entry %d: %+v, want created", i, r)
			}
			created = append(created, r.ID)
			c, _ := importFixture{store: f.store}.created(t, r.ID)
			if c.Config.Name != configs[i].Name || c.AccountID != 7 {
				t.Errorf("entry %d created as %+v", i, c)
			}
		default:
			if domain.ErrorCode(r.Err) != domain.ErrLimit || domain.ErrorMessage(r.Err) != "plan FREE allows 10 monitors; delete one or upgrade" {
				t.Errorf("entry %d: %v, want the plan's limit", i, r.Err)
			}
		}
	}
	if got := len(heldSlots(t, f.store, 7, domain.QuotaMonitors)); got != 10 || lastHeld(t, f.store, 7) != 10 {
		t.Errorf("held %d slots, count %d; want 10", got, lastHeld(t, f.store, 7))
	}
	if _, err := f.state.Handle(ctx, commands.SetMonitorState{Actor: actor, MonitorID: created[0], Action: "delete"}); err != nil {
		t.Fatal(err)
	}
	res, _, err = f.many.Handle(ctx, commands.CreateMonitors{Actor: actor, Plan: domain.PlanFree, Configs: pingConfigs(t, 2)})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Err != nil || domain.ErrorCode(res[1].Err) != domain.ErrLimit {
		t.Errorf("after a delete: %+v, want one created, one refused", res)
	}
	if lastHeld(t, f.store, 7) != 10 {
		t.Errorf("count %d, want 10", lastHeld(t, f.store, 7))
	}
	if _, _, err := f.many.Handle(ctx, commands.CreateMonitors{Actor: actor, Plan: domain.PlanFree, Configs: pingConfigs(t, commands.MaxBatchMonitors+1)}); domain.ErrorCode(err) != domain.ErrInvalid {
		t.Errorf("an oversized batch: %v, want ErrInvalid", err)
	}
}

func asDomain(err error, e **domain.Error) bool {
	d, ok := err.(*domain.Error)
	*e = d
	return ok
}

// TestConcurrentBatchesAndCreatesShareThePlan: batches and single creates
// racing for one FREE account's 10 slots create exactly 10 monitors.
func TestConcurrentBatchesAndCreatesShareThePlan(t *testing.T) {
	f := newBatchFixture(t)
	ctx := context.Background()
	actor := actorOf(9)
	var (
		mu      sync.Mutex
		created []int64
		wg      sync.WaitGroup
	)
	add := func(id int64, err error) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err == nil:
			created = append(created, id)
		case domain.ErrorCode(err) != domain.ErrLimit:
			t.Errorf("refused with %v, want the plan's limit", err)
		}
	}
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if g%2 == 0 {
				res, _, err := f.many.Handle(ctx, commands.CreateMonitors{Actor: actor, Plan: domain.PlanFree, Configs: pingConfigs(t, 4)})
				if err != nil {
					t.Error(err)
					return
				}
				for _, r := range res {
					add(r.ID, r.Err)
				}
				return
			}
			for i := range 3 {
				id, _, err := f.one.Handle(ctx, commands.CreateMonitor{Actor: actor, Plan: domain.PlanFree, Config: pingConfig(t, fmt.Sprint("s", g, i))})
				add(id, err)
			}
		}()
	}
	wg.Wait()
	if len(created) != 10 {
		t.Errorf("created %d monitors, want 10", len(created))
	}
	held := heldSlots(t, f.store, 9, domain.QuotaMonitors)
	if len(held) != 10 || lastHeld(t, f.store, 9) != 10 {
		t.Errorf("held %v (count %d), want the 10 created", held, lastHeld(t, f.store, 9))
	}
	for _, id := range created {
		importFixture{store: f.store}.created(t, id)
	}
}

// TestCountlessQuotaStreamIsReadWhole: a quota stream written before counts
// were kept is decided on whole, and from then on carries the count.
func TestCountlessQuotaStreamIsReadWhole(t *testing.T) {
	f := newBatchFixture(t)
	ctx := context.Background()
	stream := domain.QuotaStream(11, domain.QuotaMonitors)
	appendRaw(t, f.store, stream, &domain.QuotaSeeded{Kind: domain.QuotaMonitors, Slots: []domain.Slot{}})
	now := time.Now().UTC()
	for i := range 8 {
		// Young reservations: creates in flight, which keep their slots.
		appendRaw(t, f.store, stream, &domain.QuotaSlotReserved{Kind: domain.QuotaMonitors, Slot: domain.Slot{ID: int64(900_000 + i), ReservedAt: now}})
	}
	res, _, err := f.many.Handle(ctx, commands.CreateMonitors{Actor: actorOf(11), Plan: domain.PlanFree, Configs: pingConfigs(t, 3)})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Err != nil || res[1].Err != nil || domain.ErrorCode(res[2].Err) != domain.ErrLimit {
		t.Errorf("%+v, want two created and one refused", res)
	}
	if n := lastHeld(t, f.store, 11); n != 10 {
		t.Errorf("count %d, want 10", n)
	}
}
