package probeagent_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/medialuna/medialuna/adapters/probe"
	"github.com/medialuna/medialuna/adapters/probeagent"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/test/testdb"
)

// memSink keeps every result it is given.
type memSink struct {
	mu      sync.Mutex
	results []domain.CheckResult
}

func (s *memSink) Record(_ context.Context, results []domain.CheckResult) error {
	s.mu.Lock()
	s.results = append(s.results, results...)
	s.mu.Unlock()
	return nil
}

func (s *memSink) of(id int64) []domain.CheckResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []domain.CheckResult
	for _, r := range s.results {
		if r.MonitorID == id {
			out = append(out, r)
		}
	}
	return out
}

// hanging is a loopback TCP listener that accepts connections and never
// answers; it counts the connections open now and at most.
type hanging struct {
	ln          net.Listener
	open, peak  atomic.Int64
	connections atomic.Int64
}

func startHanging(t *testing.T) *hanging {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &hanging{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			h.connections.Add(1)
			n := h.open.Add(1)
			for p := h.peak.Load(); n > p && !h.peak.CompareAndSwap(p, n); p = h.peak.Load() {
			}
			go func() {
				// Read the request and never answer; the read ends when
				// the checker closes the connection.
				buf := make([]byte, 4096)
				for {
					if _, err := c.Read(buf); err != nil {
						break
					}
				}
				c.Close()
				h.open.Add(-1)
			}()
		}
	}()
	return h
}

func (h *hanging) URL() string { return "http://" + h.ln.Addr().String() + "/" }

// waitUntil polls cond for up to d; it fails the test with what when cond
// stays false.
func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func runAgent(t *testing.T, src probeagent.Source, sink probeagent.Sink, cfg probeagent.Config) (stop func()) {
	t.Helper()
	agent := probeagent.New(src, sink, probe.New(probe.Config{}), testdb.Logger(t), cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); agent.Run(ctx) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

// TestHangingTargetsDoNotStarveOtherMonitors points 70 monitors at a port
// that accepts and never answers (timeout 30 s) and 10 at a healthy target,
// all every second, with the agent's defaults. The old scheduler's 64
// workers all ended up waiting on the hanging port and the healthy monitors
// stopped being checked; now every hanging check holds only itself.
func TestHangingTargetsDoNotStarveOtherMonitors(t *testing.T) {
	h := startHanging(t)
	healthy := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer healthy.Close()
	var list []domain.CheckAssignment
	for id := int64(1); id <= 70; id++ {
		list = append(list, domain.CheckAssignment{MonitorID: id, Interval: 1, Spec: domain.CheckSpec{Type: domain.TypeHTTP, URL: h.URL(), Timeout: 30 * time.Second}})
	}
	for id := int64(101); id <= 110; id++ {
		list = append(list, domain.CheckAssignment{MonitorID: id, Interval: 1, Spec: domain.CheckSpec{Type: domain.TypeHTTP, URL: healthy.URL, Timeout: 30 * time.Second}})
	}
	src := &staticSource{}
	src.set(list)
	sink := &memSink{}
	stop := runAgent(t, src, sink, probeagent.Config{RegionID: 3, FlushEvery: 20 * time.Millisecond})

	// Each healthy monitor keeps being checked, once a second, while the
	// hanging checks wait.
	waitUntil(t, 8*time.Second, "every healthy monitor checked 3 times while the hanging checks are in flight", func() bool {
		for id := int64(101); id <= 110; id++ {
			if len(sink.of(id)) < 3 {
				return false
			}
		}
		return true
	})
	// Every hanging check is in flight at once: there is no pool to fill.
	waitUntil(t, 5*time.Second, "all 70 hanging checks in flight", func() bool { return h.open.Load() == 70 })
	if n := h.connections.Load(); n != 70 {
		t.Errorf("%d connections to the hanging port, want 70: a monitor ran in parallel with itself", n)
	}
	for id := int64(101); id <= 110; id++ {
		for _, r := range sink.of(id) {
			if !r.Outcome.Up {
				t.Errorf("healthy monitor %d: %+v", id, r.Outcome)
			}
		}
	}
	// Stopping the agent cancels the hanging checks; they record nothing.
	stop()
	for id := int64(1); id <= 70; id++ {
		if r := sink.of(id); len(r) > 0 {
			t.Errorf("hanging monitor %d recorded %+v after an interrupted check", id, r[0].Outcome)
		}
	}
	waitUntil(t, 2*time.Second, "the hanging connections closed", func() bool { return h.open.Load() == 0 })
}

// TestRemovedOrChangedMonitorCancelsItsCheck has three monitors waiting on
// a hanging port. Monitor 1 is deleted (or paused: it leaves the region's
// assignments either way) and monitor 2 is pointed elsewhere: both checks
// in flight are cancelled at once, not at their timeout, and record
// nothing, so no false DOWN. Monitor 2 then runs against its new target;
// monitor 3, unchanged, keeps waiting.
func TestRemovedOrChangedMonitorCancelsItsCheck(t *testing.T) {
	h := startHanging(t)
	healthy := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer healthy.Close()
	hang := func(id int64) domain.CheckAssignment {
		return domain.CheckAssignment{MonitorID: id, Interval: 2, Spec: domain.CheckSpec{Type: domain.TypeHTTP, URL: h.URL(), Timeout: 20 * time.Second}}
	}
	src := &staticSource{}
	src.set([]domain.CheckAssignment{hang(1), hang(2), hang(3)})
	sink := &memSink{}
	var stats atomic.Pointer[probeagent.Stats]
	runAgent(t, src, sink, probeagent.Config{RegionID: 3, Refresh: 50 * time.Millisecond, FlushEvery: 20 * time.Millisecond,
		StatsCallback: func(s probeagent.Stats) { stats.Store(&s) }})
	waitUntil(t, 5*time.Second, "three hanging checks in flight", func() bool { return h.open.Load() == 3 })

	moved := domain.CheckAssignment{MonitorID: 2, Interval: 1, Spec: domain.CheckSpec{Type: domain.TypeHTTP, URL: healthy.URL, Timeout: 20 * time.Second}}
	src.set([]domain.CheckAssignment{moved, hang(3)})
	waitUntil(t, 3*time.Second, "the removed and the changed monitor's checks cancelled", func() bool { return h.open.Load() == 1 })
	waitUntil(t, 5*time.Second, "the changed monitor checked against its new target", func() bool { return len(sink.of(2)) > 0 })
	time.Sleep(100 * time.Millisecond) // a late result of a cancelled check would be flushed by now
	if r := sink.of(1); len(r) > 0 {
		t.Errorf("deleted monitor recorded %+v", r[0].Outcome)
	}
	for _, r := range sink.of(2) {
		if !r.Outcome.Up {
			t.Errorf("changed monitor recorded %+v from its old target", r.Outcome)
		}
	}
	if r := sink.of(3); len(r) > 0 {
		t.Errorf("unchanged monitor's check ended: %+v", r[0].Outcome)
	}
	if h.open.Load() != 1 {
		t.Errorf("%d checks waiting on the hanging port, want monitor 3's", h.open.Load())
	}
	if st := stats.Load(); st == nil || st.Cancelled < 2 {
		t.Errorf("stats = %+v, want 2 cancelled", st)
	}
}

// slowSource answers the first call at once, then takes 10 s per call, as
// a remote agent's server under load may.
type slowSource struct {
	list  []domain.CheckAssignment
	calls atomic.Int64
}

func (s *slowSource) Assignments(ctx context.Context) ([]domain.CheckAssignment, bool, error) {
	if s.calls.Add(1) == 1 {
		return s.list, true, nil
	}
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
	}
	return nil, false, nil
}

// TestSlowSourceDelaysNoCheck: while the source takes its time answering,
// checks keep to their schedule. The agent used to ask the source in its
// scheduling loop, so a slow answer held every due check.
func TestSlowSourceDelaysNoCheck(t *testing.T) {
	healthy := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer healthy.Close()
	src := &slowSource{}
	for id := int64(1); id <= 10; id++ {
		src.list = append(src.list, domain.CheckAssignment{MonitorID: id, Interval: 1, Spec: domain.CheckSpec{Type: domain.TypeHTTP, URL: healthy.URL, Timeout: 5 * time.Second}})
	}
	sink := &memSink{}
	runAgent(t, src, sink, probeagent.Config{RegionID: 3, Refresh: 100 * time.Millisecond, FlushEvery: 20 * time.Millisecond})
	waitUntil(t, 6*time.Second, "every monitor checked 4 times while the source is slow to answer", func() bool {
		for id := int64(1); id <= 10; id++ {
			if len(sink.of(id)) < 4 {
				return false
			}
		}
		return true
	})
}
