// Package probeagent runs a region's checks on schedule: it keeps the
// region's assignments fresh (changes are picked up within a second), runs
// each monitor once per interval at a fixed phase spread over the interval
// (no thundering herd), never runs one monitor's checks in parallel with
// itself, bounds concurrency with a worker pool, and hands results to a sink
// in batches, holding them across sink failures. The same agent runs inside
// `medialuna serve` (the default region) and as `medialuna probe` elsewhere.
package probeagent

import (
	"container/heap"
	"context"
	"hash/fnv"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/medialuna/medialuna/domain"
)

// Assignment and Result are the domain's; the aliases keep this file short.
type (
	Assignment = domain.CheckAssignment
	Result     = domain.CheckResult
)

// Source provides the region's assignments.
type Source interface {
	// Assignments returns the current assignments, or changed=false when
	// nothing changed since the last call (the agent keeps its schedule).
	Assignments(ctx context.Context) (list []Assignment, changed bool, err error)
}

// Sink records results. A failed Record is retried with the same results;
// sinks must record a retried result once (check event ids are derived from
// monitor, region and scheduled time).
type Sink interface {
	Record(ctx context.Context, results []Result) error
}

// Checker runs one check.
type Checker interface {
	Check(ctx context.Context, spec domain.CheckSpec) domain.CheckOutcome
}

// Config tunes an agent.
type Config struct {
	Workers       int           // concurrent checks (default 64)
	Refresh       time.Duration // assignment refresh period (default 1s)
	FlushEvery    time.Duration // result batching period (default 500ms)
	FlushSize     int           // results per batch (default 500)
	MaxBuffered   int           // results held while the sink fails (default 100,000)
	RegionID      int64         // only for phase spreading and logs
	StatsCallback func(Stats)   // optional: called after every flush
	StatsEvery    time.Duration // log a stats line this often (default 10s; negative: never)
}

// Stats counts what the agent did, for benchmarks and logs.
type Stats struct {
	Due, Run, SkippedBusy, Dropped, Recorded int64
	// Lateness is how late each check started, for the last flush window.
	Lateness []time.Duration
}

// Agent schedules and runs checks.
type Agent struct {
	window  Stats // since the last stats line
	lastLog time.Time

	src     Source
	sink    Sink
	checker Checker
	log     *slog.Logger
	cfg     Config

	mu      sync.Mutex
	results []Result
	stats   Stats
}

// New returns an agent.
func New(src Source, sink Sink, checker Checker, log *slog.Logger, cfg Config) *Agent {
	if cfg.Workers <= 0 {
		cfg.Workers = 64
	}
	if cfg.Refresh <= 0 {
		cfg.Refresh = time.Second
	}
	if cfg.FlushEvery <= 0 {
		cfg.FlushEvery = 500 * time.Millisecond
	}
	if cfg.FlushSize <= 0 {
		cfg.FlushSize = 500
	}
	if cfg.MaxBuffered <= 0 {
		cfg.MaxBuffered = 100_000
	}
	if cfg.StatsEvery == 0 {
		cfg.StatsEvery = 10 * time.Second
	}
	return &Agent{src: src, sink: sink, checker: checker, log: log, cfg: cfg}
}

// slot is one monitor's place in the schedule.
type slot struct {
	a       Assignment
	next    time.Time
	running bool
	index   int
	removed bool
}

type schedule []*slot

func (s schedule) Len() int           { return len(s) }
func (s schedule) Less(i, j int) bool { return s[i].next.Before(s[j].next) }
func (s schedule) Swap(i, j int)      { s[i], s[j] = s[j], s[i]; s[i].index = i; s[j].index = j }
func (s *schedule) Push(x any)        { sl := x.(*slot); sl.index = len(*s); *s = append(*s, sl) }
func (s *schedule) Pop() any {
	old := *s
	sl := old[len(old)-1]
	*s = old[:len(old)-1]
	return sl
}

// phase spreads monitors over their interval: a monitor always runs at the
// same offset within its interval, so restarts and other regions keep to
// the same slots and scheduled times are reproducible.
func phase(monitorID, regionID int64, interval time.Duration) time.Duration {
	h := fnv.New64a()
	var b [16]byte
	for i := range 8 {
		b[i] = byte(monitorID >> (8 * i))
		b[8+i] = byte(regionID >> (8 * i))
	}
	h.Write(b[:])
	return time.Duration(h.Sum64() % uint64(interval))
}

// nextSlot is the first scheduled time at or after t.
func nextSlot(t time.Time, a Assignment, regionID int64) time.Time {
	interval := time.Duration(max(a.Interval, 1)) * time.Second
	off := phase(a.MonitorID, regionID, interval)
	base := t.Add(-off).Truncate(interval).Add(off)
	if base.Before(t) {
		base = base.Add(interval)
	}
	return base
}

// Run blocks until ctx ends, then flushes what it holds (best effort).
func (ag *Agent) Run(ctx context.Context) error {
	jobs := make(chan *slot)
	done := make(chan *slot, ag.cfg.Workers)
	var wg sync.WaitGroup
	for range ag.cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for sl := range jobs {
				ag.runCheck(ctx, sl)
				done <- sl
			}
		}()
	}
	flushDone := make(chan struct{})
	flushCtx, stopFlush := context.WithCancel(context.WithoutCancel(ctx))
	go func() {
		defer close(flushDone)
		ag.flushLoop(flushCtx, ctx)
	}()

	sched := &schedule{}
	byID := map[int64]*slot{}
	refresh := time.NewTicker(ag.cfg.Refresh)
	defer refresh.Stop()
	timer := time.NewTimer(0)
	defer timer.Stop()
	ag.reload(ctx, sched, byID)
	var pending []*slot // due but waiting for a free worker
	for {
		now := time.Now()
		for sched.Len() > 0 && !(*sched)[0].next.After(now) {
			sl := heap.Pop(sched).(*slot)
			if sl.removed {
				continue
			}
			ag.count(func(s *Stats) { s.Due++ })
			// A slot leaves the heap while its check runs, so a monitor can
			// never overlap with itself.
			sl.running = true
			pending = append(pending, sl)
		}
		var send chan *slot
		var head *slot
		if len(pending) > 0 {
			send, head = jobs, pending[0]
		}
		wait := ag.cfg.Refresh
		if sched.Len() > 0 {
			wait = min(wait, time.Until((*sched)[0].next))
		}
		timer.Reset(max(wait, 0))
		select {
		case <-ctx.Done():
			close(jobs)
			wg.Wait()
			stopFlush()
			<-flushDone
			ag.flush(context.WithoutCancel(ctx))
			return nil
		case send <- head:
			pending = pending[1:]
		case sl := <-done:
			sl.running = false
			if !sl.removed {
				sl.next = nextSlot(sl.scheduled().Add(time.Nanosecond), sl.a, ag.cfg.RegionID)
				if now := time.Now(); sl.next.Before(now) {
					// The check outlasted its interval: skip the slots it
					// overran instead of running them late and back to back.
					missed := int64(now.Sub(sl.next)/(time.Duration(max(sl.a.Interval, 1))*time.Second)) + 1
					ag.count(func(s *Stats) { s.Due += missed; s.SkippedBusy += missed })
					sl.next = nextSlot(now, sl.a, ag.cfg.RegionID)
				}
				heap.Push(sched, sl)
			}
		case <-refresh.C:
			ag.reload(ctx, sched, byID)
		case <-timer.C:
		}
	}
}

// scheduled is the slot time the running check belongs to.
func (sl *slot) scheduled() time.Time { return sl.next }

func (ag *Agent) count(fn func(*Stats)) {
	ag.mu.Lock()
	fn(&ag.stats)
	ag.mu.Unlock()
}

// reload applies a changed assignment list to the schedule.
func (ag *Agent) reload(ctx context.Context, sched *schedule, byID map[int64]*slot) {
	list, changed, err := ag.src.Assignments(ctx)
	if err != nil {
		if ctx.Err() == nil {
			ag.log.Warn("could not load assignments; keeping the current schedule", "err", err)
		}
		return
	}
	if !changed {
		return
	}
	seen := map[int64]bool{}
	now := time.Now()
	for _, a := range list {
		seen[a.MonitorID] = true
		sl, ok := byID[a.MonitorID]
		if !ok {
			sl = &slot{a: a, next: nextSlot(now, a, ag.cfg.RegionID)}
			byID[a.MonitorID] = sl
			heap.Push(sched, sl)
			continue
		}
		intervalChanged := sl.a.Interval != a.Interval
		sl.a = a
		if intervalChanged && !sl.running {
			sl.next = nextSlot(now, a, ag.cfg.RegionID)
			heap.Fix(sched, sl.index)
		}
	}
	for id, sl := range byID {
		if !seen[id] {
			sl.removed = true
			delete(byID, id)
			if !sl.running && sl.index < sched.Len() && (*sched)[sl.index] == sl {
				heap.Remove(sched, sl.index)
			}
		}
	}
	ag.log.Debug("assignments loaded", "monitors", len(list))
}

func (ag *Agent) runCheck(ctx context.Context, sl *slot) {
	scheduled := sl.scheduled()
	start := time.Now()
	outcome := ag.checker.Check(ctx, sl.a.Spec)
	if ctx.Err() != nil {
		return // shutting down: an interrupted check says nothing about the target
	}
	ag.mu.Lock()
	defer ag.mu.Unlock()
	ag.stats.Run++
	ag.stats.Lateness = append(ag.stats.Lateness, start.Sub(scheduled))
	if len(ag.results) >= ag.cfg.MaxBuffered {
		ag.stats.Dropped++
		return
	}
	ag.results = append(ag.results, Result{MonitorID: sl.a.MonitorID, ScheduledAt: scheduled, CheckedAt: time.Now().UTC(), Outcome: outcome})
}

func (ag *Agent) flushLoop(ctx, runCtx context.Context) {
	t := time.NewTicker(ag.cfg.FlushEvery)
	defer t.Stop()
	backoff := ag.cfg.FlushEvery
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := ag.flush(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			ag.log.Warn("could not record results; holding them and retrying", "err", err, "held", ag.held())
			backoff = min(backoff*2, 10*time.Second)
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			continue
		}
		backoff = ag.cfg.FlushEvery
	}
}

func (ag *Agent) held() int {
	ag.mu.Lock()
	defer ag.mu.Unlock()
	return len(ag.results)
}

// flush sends held results in batches; a failed batch stays held, in order.
func (ag *Agent) flush(ctx context.Context) error {
	for {
		ag.mu.Lock()
		n := min(len(ag.results), ag.cfg.FlushSize)
		batch := append([]Result(nil), ag.results[:n]...)
		ag.mu.Unlock()
		if n == 0 {
			break
		}
		if err := ag.sink.Record(ctx, batch); err != nil {
			return err
		}
		ag.mu.Lock()
		ag.results = ag.results[n:]
		ag.stats.Recorded += int64(n)
		ag.mu.Unlock()
		if n < ag.cfg.FlushSize {
			break
		}
	}
	ag.mu.Lock()
	st := ag.stats
	ag.stats.Lateness = nil
	ag.mu.Unlock()
	sort.Slice(st.Lateness, func(i, j int) bool { return st.Lateness[i] < st.Lateness[j] })
	if ag.cfg.StatsCallback != nil {
		ag.cfg.StatsCallback(st)
	}
	ag.logStats(st)
	return nil
}

// logStats writes one line of what the agent did since the last line:
// operators see whether checks keep to their schedule.
func (ag *Agent) logStats(st Stats) {
	if ag.cfg.StatsEvery < 0 {
		return
	}
	ag.window.Lateness = append(ag.window.Lateness, st.Lateness...)
	if ag.lastLog.IsZero() {
		ag.lastLog = time.Now()
	}
	if time.Since(ag.lastLog) < ag.cfg.StatsEvery {
		return
	}
	l := ag.window.Lateness
	sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	pct := func(p float64) float64 {
		if len(l) == 0 {
			return 0
		}
		return float64(l[min(int(p*float64(len(l))), len(l)-1)].Microseconds()) / 1000
	}
	ag.log.Info("probe stats", "due", st.Due-ag.window.Due, "run", st.Run-ag.window.Run, "skipped_busy", st.SkippedBusy-ag.window.SkippedBusy,
		"recorded", st.Recorded-ag.window.Recorded, "dropped", st.Dropped-ag.window.Dropped, "held", ag.held(),
		"lateness_p50_ms", pct(0.5), "lateness_p99_ms", pct(0.99), "lateness_max_ms", pct(1))
	ag.window = Stats{Due: st.Due, Run: st.Run, SkippedBusy: st.SkippedBusy, Recorded: st.Recorded, Dropped: st.Dropped}
	ag.lastLog = time.Now()
}
