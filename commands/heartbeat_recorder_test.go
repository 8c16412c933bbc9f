package commands_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/medialuna/medialuna/adapters/postgres"
	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/test/testdb"
)

// pushAccounts puts every monitor in account 1 and no maintenance window
// anywhere.
type pushAccounts struct{}

func (pushAccounts) MonitorAccounts(_ context.Context, ids []int64) (map[int64]int64, error) {
	out := map[int64]int64{}
	for _, id := range ids {
		out[id] = 1
	}
	return out, nil
}

func (pushAccounts) ActiveWindows(context.Context, []int64) (map[int64][]domain.MaintenanceConfig, error) {
	return nil, nil
}

// countingRecorder passes appends on and remembers each batch's size; fail,
// while set, fails them instead.
type countingRecorder struct {
	next commands.CheckRecorder
	mu   sync.Mutex
	seen []int
	fail error
}

func (c *countingRecorder) Handle(ctx context.Context, cmd commands.RecordChecks) (int, domain.Position, error) {
	c.mu.Lock()
	c.seen = append(c.seen, len(cmd.Results))
	fail := c.fail
	c.mu.Unlock()
	if fail != nil {
		return 0, domain.Position{}, fail
	}
	return c.next.Handle(ctx, cmd)
}

func (c *countingRecorder) batches() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]int(nil), c.seen...)
}

func heartbeatsInLog(t *testing.T, store domain.EventStore) map[int64]int {
	t.Helper()
	evs, err := store.ReadStream(context.Background(), domain.ChecksStream(0))
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64]int{}
	for _, e := range evs {
		ev, err := domain.DecodeRecorded(e)
		if err != nil {
			t.Fatal(err)
		}
		c := ev.(*domain.CheckRecorded)
		if !c.Up || c.Detail != "heartbeat" {
			t.Errorf("heartbeat recorded as %+v", c)
		}
		out[c.MonitorID]++
	}
	return out
}

// Pings of one monitor in one second are one heartbeat in the log, each
// appended once, and every caller returns only once it is durable.
func TestPushHeartbeatsAreOnePerMonitorAndSecond(t *testing.T) {
	db := testdb.New(t)
	store := postgres.NewEventStore(db.DB, db.URL, testdb.Logger(t))
	t.Cleanup(func() { store.Close() })
	rec := &countingRecorder{next: commands.NewRecordChecksHandler(store, pushAccounts{}, pushAccounts{})}
	beats := commands.NewHeartbeatRecorder(rec)
	ctx := context.Background()
	second := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)

	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := range 200 {
		wg.Go(func() {
			errs <- beats.Record(ctx, int64(1+i%10), second.Add(time.Duration(i)*time.Millisecond))
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// Returned means durable: the log holds them now, without waiting.
	got := heartbeatsInLog(t, store)
	if len(got) != 10 {
		t.Fatalf("heartbeats of %d monitors in the log, want 10: %v", len(got), got)
	}
	for m, n := range got {
		if n != 1 {
			t.Errorf("monitor %d: %d heartbeats in one second", m, n)
		}
	}
	appended := 0
	for _, n := range rec.batches() {
		appended += n
	}
	if appended != 10 {
		t.Errorf("%d results appended in batches %v; want each heartbeat appended once (10)", appended, rec.batches())
	}

	// Again in the same second: answered from memory, nothing appended.
	before := len(rec.batches())
	if err := beats.Record(ctx, 3, second.Add(999*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if n := len(rec.batches()); n != before {
		t.Errorf("a repeated ping appended a batch (%d, was %d)", n, before)
	}
	// The next second is a new heartbeat.
	if err := beats.Record(ctx, 3, second.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := heartbeatsInLog(t, store)[3]; got != 2 {
		t.Errorf("monitor 3 has %d heartbeats after a ping the next second, want 2", got)
	}
}

// A failed append is told to every ping in its batch and not remembered:
// the next ping of that second appends it.
func TestPushHeartbeatFailureIsToldAndRetried(t *testing.T) {
	db := testdb.New(t)
	store := postgres.NewEventStore(db.DB, db.URL, testdb.Logger(t))
	t.Cleanup(func() { store.Close() })
	rec := &countingRecorder{next: commands.NewRecordChecksHandler(store, pushAccounts{}, pushAccounts{}), fail: errors.New("database gone")}
	beats := commands.NewHeartbeatRecorder(rec)
	at := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	if err := beats.Record(context.Background(), 7, at); err == nil || err.Error() != "database gone" {
		t.Fatalf("failed append answered %v", err)
	}
	rec.mu.Lock()
	rec.fail = nil
	rec.mu.Unlock()
	if err := beats.Record(context.Background(), 7, at.Add(10*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if got := heartbeatsInLog(t, store)[7]; got != 1 {
		t.Errorf("after the retry monitor 7 has %d heartbeats, want 1", got)
	}
}

// gatedRecorder holds every append until released, so a test can see what
// gathers behind the one in flight.
type gatedRecorder struct {
	release chan struct{}
	mu      sync.Mutex
	seen    []int
}

func (g *gatedRecorder) Handle(ctx context.Context, cmd commands.RecordChecks) (int, domain.Position, error) {
	g.mu.Lock()
	g.seen = append(g.seen, len(cmd.Results))
	g.mu.Unlock()
	<-g.release
	return len(cmd.Results), domain.Position{}, nil
}

// While one batch is appended, every ping that arrives joins the next: 50
// pings behind one in flight cost one more append, not 50. A caller that
// gives up does not hold the batch back.
func TestPushHeartbeatsGroupCommit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := &gatedRecorder{release: make(chan struct{})}
		beats := commands.NewHeartbeatRecorder(g)
		at := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
		var wg sync.WaitGroup
		wg.Go(func() {
			if err := beats.Record(context.Background(), 1, at); err != nil {
				t.Error(err)
			}
		})
		synctest.Wait() // the first batch is in flight, held at the gate
		impatient, giveUp := context.WithCancel(context.Background())
		wg.Go(func() {
			if err := beats.Record(impatient, 100, at); !errors.Is(err, context.Canceled) {
				t.Errorf("a caller that gave up heard %v", err)
			}
		})
		for m := range 50 {
			wg.Go(func() {
				if err := beats.Record(context.Background(), int64(2+m), at); err != nil {
					t.Error(err)
				}
			})
		}
		synctest.Wait()
		giveUp()
		close(g.release)
		wg.Wait()
		g.mu.Lock()
		defer g.mu.Unlock()
		if len(g.seen) != 2 || g.seen[0] != 1 || g.seen[1] != 51 {
			t.Errorf("batches appended %v, want [1 51]", g.seen)
		}
	})
}

// What gathers behind the append in flight goes in batches of at most
// 1,000, in order.
func TestPushHeartbeatBatchesAreBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := &gatedRecorder{release: make(chan struct{})}
		beats := commands.NewHeartbeatRecorder(g)
		at := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
		var wg sync.WaitGroup
		wg.Go(func() { beats.Record(context.Background(), 1, at) })
		synctest.Wait()
		for m := range 2500 {
			wg.Go(func() { beats.Record(context.Background(), int64(2+m), at) })
		}
		synctest.Wait()
		close(g.release)
		wg.Wait()
		g.mu.Lock()
		defer g.mu.Unlock()
		if fmt.Sprint(g.seen) != "[1 1000 1000 500]" {
			t.Errorf("batches appended %v, want [1 1000 1000 500]", g.seen)
		}
	})
}

// refusing fails every append that holds monitor 13's heartbeat, as one
// account's broken data can make a whole append fail.
type refusing struct {
	mu    sync.Mutex
	calls int
}

func (r *refusing) Handle(_ context.Context, cmd commands.RecordChecks) (int, domain.Position, error) {
	r.mu.Lock()
	r.calls++
	r.mu.Unlock()
	for _, c := range cmd.Results {
		if c.MonitorID == 13 {
			return 0, domain.Position{}, errors.New("monitor 13's account is broken")
		}
	}
	return len(cmd.Results), domain.Position{}, nil
}

// A heartbeat that makes its batch fail fails alone: the others of the
// batch are appended and answered.
func TestPushHeartbeatFailureStaysWithItsMonitor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := &gatedRecorder{release: make(chan struct{})}
		r := &refusing{}
		beats := commands.NewHeartbeatRecorder(gateThen{g, r})
		at := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
		var wg sync.WaitGroup
		wg.Go(func() { beats.Record(context.Background(), 1, at) })
		synctest.Wait()
		errs := make([]error, 64)
		for m := range 64 {
			wg.Go(func() { errs[m] = beats.Record(context.Background(), int64(100+m-87), at) }) // monitors 13..76
		}
		synctest.Wait()
		close(g.release)
		wg.Wait()
		for m, err := range errs {
			if monitor := 100 + m - 87; (monitor == 13) != (err != nil) {
				t.Errorf("monitor %d: %v", monitor, err)
			}
		}
		if r.calls > 1+1+2*6 { // the first batch, the failed one, two per halving of 64
			t.Errorf("%d appends to isolate one heartbeat, want at most 14", r.calls)
		}
	})
}

// gateThen holds each append at the gate, then passes it on.
type gateThen struct {
	gate *gatedRecorder
	next commands.CheckRecorder
}

func (g gateThen) Handle(ctx context.Context, cmd commands.RecordChecks) (int, domain.Position, error) {
	g.gate.Handle(ctx, cmd)
	return g.next.Handle(ctx, cmd)
}
