package probeagent_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/medialuna/medialuna/adapters/postgres"
	"github.com/medialuna/medialuna/adapters/probe"
	"github.com/medialuna/medialuna/adapters/probeagent"
	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/test/testdb"
)

type staticSource struct {
	mu   sync.Mutex
	list []domain.CheckAssignment
	sent bool
}

func (s *staticSource) Assignments(context.Context) ([]domain.CheckAssignment, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sent {
		return nil, false, nil
	}
	s.sent = true
	return s.list, true, nil
}

func (s *staticSource) set(list []domain.CheckAssignment) {
	s.mu.Lock()
	s.list, s.sent = list, false
	s.mu.Unlock()
}

type everyMonitor struct{}

func (everyMonitor) ActiveWindows(context.Context, []int64) (map[int64][]domain.MaintenanceConfig, error) {
	return nil, nil
}

func (everyMonitor) MonitorAccounts(_ context.Context, ids []int64) (map[int64]int64, error) {
	out := map[int64]int64{}
	for _, id := range ids {
		out[id] = 1
	}
	return out, nil
}

// lossySink records, then reports a failure for the first calls: the reply
// was lost, so the agent sends the same results again.
type lossySink struct {
	inner  probeagent.Sink
	losses atomic.Int64
	calls  atomic.Int64
}

func (s *lossySink) Record(ctx context.Context, results []domain.CheckResult) error {
	s.calls.Add(1)
	if err := s.inner.Record(ctx, results); err != nil {
		return err
	}
	if s.losses.Add(-1) >= 0 {
		return errors.New("connection reset after the write")
	}
	return nil
}

// TestResultsRetriedAfterLostRepliesAreRecordedOnce runs the real checker
// against a real target and a real event log, loses the first replies, and
// checks every scheduled check is in the log exactly once.
func TestResultsRetriedAfterLostRepliesAreRecordedOnce(t *testing.T) {
	db := testdb.New(t)
	log := testdb.Logger(t)
	store := postgres.NewEventStore(db.DB, db.URL, log)
	var hits atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer target.Close()

	src := &staticSource{}
	var list []domain.CheckAssignment
	for id := int64(1); id <= 20; id++ {
		list = append(list, domain.CheckAssignment{MonitorID: id, Interval: 1, Spec: domain.CheckSpec{Type: domain.TypeHTTP, URL: target.URL, Timeout: 2 * time.Second}})
	}
	src.set(list)
	sink := &lossySink{inner: probeagent.NewLocalSink(commands.NewRecordChecksHandler(store, everyMonitor{}, everyMonitor{}), 7)}
	sink.losses.Store(2)
	var stats atomic.Pointer[probeagent.Stats]
	agent := probeagent.New(src, sink, probe.New(probe.Config{}), log, probeagent.Config{RegionID: 7, MaxInFlight: 4,
		FlushEvery: 50 * time.Millisecond, StatsCallback: func(s probeagent.Stats) { stats.Store(&s) }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); agent.Run(ctx) }()
	time.Sleep(3500 * time.Millisecond)

	// Drop half the monitors: they must stop being checked.
	src.set(list[:10])
	time.Sleep(1500 * time.Millisecond)
	var before int
	db.Get(&before, `SELECT count(*) FROM check_events WHERE monitor_id = 15`)
	time.Sleep(2 * time.Second)
	cancel()
	<-done

	var after int
	db.Get(&after, `SELECT count(*) FROM check_events WHERE monitor_id = 15`)
	if after > before+1 {
		t.Errorf("a removed monitor kept being checked: %d results, then %d", before, after)
	}
	if sink.calls.Load() < 3 {
		t.Fatalf("sink called %d times; the lost replies were not retried", sink.calls.Load())
	}
	var total, distinct int
	db.Get(&total, `SELECT count(*) FROM check_events`)
	db.Get(&distinct, `SELECT count(DISTINCT (monitor_id, scheduled_at)) FROM check_events`)
	if total == 0 || total != distinct {
		t.Errorf("%d results recorded for %d scheduled checks: retries were recorded twice", total, distinct)
	}
	st := stats.Load()
	if st == nil || st.Run == 0 || st.Recorded != st.Run || st.Dropped != 0 {
		t.Errorf("stats = %+v", st)
	}
	// Each monitor ran about once a second, never more: its scheduled times
	// are a second apart.
	var minGap float64
	db.Get(&minGap, `SELECT coalesce(min(gap), 1) FROM (SELECT extract(epoch FROM scheduled_at
		- lag(scheduled_at) OVER (PARTITION BY monitor_id ORDER BY scheduled_at))::float8 AS gap
		FROM check_events) AS g WHERE gap IS NOT NULL`)
	if minGap < 0.999 {
		t.Errorf("a monitor ran twice within its interval (gap %.3fs)", minGap)
	}
	if hits.Load() < int64(total) {
		t.Errorf("target saw %d requests for %d results", hits.Load(), total)
	}
}
