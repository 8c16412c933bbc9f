// Package probeagent runs a region's checks on schedule: it keeps the
// region's assignments fresh (changes are picked up within a second), runs
// each monitor once per interval at a fixed phase spread over the interval
// (no thundering herd), never runs one monitor's checks in parallel with
// itself, runs each due check in its own goroutine under a global and a
// per-account ceiling (a hanging target holds only its own check), cancels
// a check in flight when its monitor is removed or changed, and hands results to a sink
// in batches, holding them across sink failures. The same agent runs inside
// `medialuna serve` (the default region) and as `medialuna probe` elsewhere.
package probeagent

import (
	"container/heap"
	"context"
	"hash/fnv"
	"log/slog"
	"reflect"
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
	// MaxInFlight bounds the checks in flight at once, over all accounts
	// (default 2048). Checks are I/O-bound, each one a goroutine of a few KB
	// waiting on a socket, so the ceiling is generous: it is there to bound
	// sockets and memory, not to ration ordinary load.
	MaxInFlight int
	// AccountMaxInFlight bounds one account's checks in flight at once
	// (default 256), so one account's hanging targets cannot take the whole
	// ceiling. An account's due checks beyond it wait for one of its own
	// checks to end; other accounts are unaffected. Assignments without an
	// account (from a server that does not send one) are bounded by
	// MaxInFlight only.
	AccountMaxInFlight int
	Refresh            time.Duration // assignment refresh period (default 1s)
	FlushEvery         time.Duration // result batching period (default 500ms)
	FlushSize          int           // results per batch (default 500)
	MaxBuffered        int           // results held while the sink fails (default 100,000)
	RegionID           int64         // only for phase spreading and logs
	StatsCallback      func(Stats)   // optional: called after every flush
	StatsEvery         time.Duration // log a stats line this often (default 10s; negative: never)
}

// Default ceilings of Config.
const (
	DefaultMaxInFlight        = 2048
	DefaultAccountMaxInFlight = 256
)

// Stats counts what the agent did, for benchmarks and logs.
type Stats struct {
	Due, Run, SkippedBusy, Dropped, Recorded int64
	// Cancelled counts checks stopped in flight because their monitor was
	// paused, deleted or changed (or the agent stopped); they record nothing.
	Cancelled int64
	// WaitedAccount counts due checks that waited because their account had
	// AccountMaxInFlight checks in flight; WaitedGlobal, because the agent
	// had MaxInFlight.
	WaitedAccount, WaitedGlobal int64
	// InFlight is the number of checks running at the last flush.
	InFlight int64
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
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	if cfg.AccountMaxInFlight <= 0 {
		// Under a small ceiling the default cap would let one account
		// hold every slot: keep it to a quarter of the ceiling.
		cfg.AccountMaxInFlight = min(DefaultAccountMaxInFlight, max(1, cfg.MaxInFlight/4))
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

// slot is one monitor's place in the schedule. Only the Run goroutine
// touches it; a running check gets a copy of what it needs.
type slot struct {
	a     Assignment
	next  time.Time // the next scheduled time; while busy, the one being run
	index int
	// busy: the slot is out of the heap, waiting to start or in flight.
	busy bool
	// cancel is set while a check is in flight; account is the account it
	// counts against.
	cancel  context.CancelFunc
	account int64
	removed bool
	changed bool // the assignment changed while the check was in flight
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
	sl.index = -1
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

// runner is the state of one Run: the schedule and what is in flight.
// Only the Run goroutine touches it.
type runner struct {
	ag    *Agent
	ctx   context.Context // Run's
	sched schedule
	byID  map[int64]*slot
	done  chan *slot // a check ended

	inFlight  int
	byAccount map[int64]int // checks in flight per account (0: none given)
	// Due checks waiting to start: for the global ceiling, in order, and
	// per account for the account cap. A removed slot is dropped when it
	// comes up.
	waitGlobal  []*slot
	waitAccount map[int64][]*slot
}

// Run blocks until ctx ends, then flushes what it holds (best effort).
//
// Every due check runs in its own goroutine, so a slow or hanging target
// holds only its own check: there is no pool for it to exhaust. What bounds
// concurrency is MaxInFlight over all accounts and AccountMaxInFlight per
// account; a monitor never overlaps with itself. A check in flight is
// cancelled as soon as the source reports its monitor removed (paused,
// deleted, moved to another region) or changed, and records no result.
func (ag *Agent) Run(ctx context.Context) error {
	flushDone := make(chan struct{})
	flushCtx, stopFlush := context.WithCancel(context.WithoutCancel(ctx))
	go func() {
		defer close(flushDone)
		ag.flushLoop(flushCtx, ctx)
	}()

	r := &runner{ag: ag, ctx: ctx, byID: map[int64]*slot{}, done: make(chan *slot),
		byAccount: map[int64]int{}, waitAccount: map[int64][]*slot{}}
	// Assignments are fetched in their own goroutine: a slow source (a
	// remote agent's server under load, a busy database) delays no check.
	updates := make(chan []Assignment)
	fetchDone := make(chan struct{})
	go func() {
		defer close(fetchDone)
		ag.fetchLoop(ctx, updates)
	}()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		now := time.Now()
		for r.sched.Len() > 0 && !r.sched[0].next.After(now) {
			sl := heap.Pop(&r.sched).(*slot)
			ag.count(func(s *Stats) { s.Due++ })
			// A slot leaves the heap until its check ends, so a monitor
			// can never overlap with itself.
			sl.busy = true
			r.admit(sl)
		}
		wait := ag.cfg.Refresh
		if r.sched.Len() > 0 {
			wait = min(wait, time.Until(r.sched[0].next))
		}
		timer.Reset(max(wait, 0))
		select {
		case <-ctx.Done():
			// Every check's context derives from ctx: they are ending.
			for r.inFlight > 0 {
				r.finished(<-r.done)
			}
			<-fetchDone
			stopFlush()
			<-flushDone
			ag.flush(context.WithoutCancel(ctx))
			return nil
		case sl := <-r.done:
			r.finished(sl)
		case list := <-updates:
			r.reload(list)
		case <-timer.C:
		}
	}
}

// admit starts a due check, or queues it behind the ceiling it hits.
func (r *runner) admit(sl *slot) {
	if sl.removed {
		sl.busy = false
		r.ag.count(func(s *Stats) { s.Cancelled++ })
		return
	}
	acc := sl.a.AccountID
	switch {
	case r.inFlight >= r.ag.cfg.MaxInFlight:
		r.waitGlobal = append(r.waitGlobal, sl)
		r.ag.count(func(s *Stats) { s.WaitedGlobal++ })
	case acc != 0 && r.byAccount[acc] >= r.ag.cfg.AccountMaxInFlight:
		r.waitAccount[acc] = append(r.waitAccount[acc], sl)
		r.ag.count(func(s *Stats) { s.WaitedAccount++ })
	default:
		r.start(sl)
	}
}

// start runs a check in its own goroutine, with a context that reload
// cancels when the monitor goes away or changes.
func (r *runner) start(sl *slot) {
	ctx, cancel := context.WithCancel(r.ctx)
	sl.cancel, sl.account = cancel, sl.a.AccountID
	r.inFlight++
	r.byAccount[sl.account]++
	r.ag.count(func(s *Stats) { s.InFlight = int64(r.inFlight) })
	a, scheduled := sl.a, sl.next
	go func() {
		r.ag.runCheck(ctx, a, scheduled)
		cancel()
		r.done <- sl
	}()
}

// finished reschedules a slot whose check ended and starts what waited for
// the room it leaves.
func (r *runner) finished(sl *slot) {
	r.inFlight--
	r.ag.count(func(s *Stats) { s.InFlight = int64(r.inFlight) })
	acc := sl.account
	if r.byAccount[acc]--; r.byAccount[acc] == 0 {
		delete(r.byAccount, acc)
	}
	sl.cancel, sl.busy = nil, false
	if !sl.removed && r.ctx.Err() == nil {
		interval := time.Duration(max(sl.a.Interval, 1)) * time.Second
		now := time.Now()
		if sl.changed {
			sl.changed = false
			sl.next = nextSlot(now, sl.a, r.ag.cfg.RegionID)
		} else {
			sl.next = nextSlot(sl.next.Add(time.Nanosecond), sl.a, r.ag.cfg.RegionID)
			if sl.next.Before(now) {
				// The check outlasted its interval: skip the slots it
				// overran instead of running them late and back to back.
				missed := int64(now.Sub(sl.next)/interval) + 1
				r.ag.count(func(s *Stats) { s.Due += missed; s.SkippedBusy += missed })
				sl.next = nextSlot(now, sl.a, r.ag.cfg.RegionID)
			}
		}
		heap.Push(&r.sched, sl)
	}
	if r.ctx.Err() != nil {
		return
	}
	// The account's own waiting checks first: the room is theirs.
	if q := r.waitAccount[acc]; len(q) > 0 && r.byAccount[acc] < r.ag.cfg.AccountMaxInFlight {
		next := q[0]
		if r.waitAccount[acc] = q[1:]; len(q) == 1 {
			delete(r.waitAccount, acc)
		}
		r.admit(next)
	}
	for len(r.waitGlobal) > 0 && r.inFlight < r.ag.cfg.MaxInFlight {
		next := r.waitGlobal[0]
		r.waitGlobal = r.waitGlobal[1:]
		r.admit(next)
	}
}

func (ag *Agent) count(fn func(*Stats)) {
	ag.mu.Lock()
	fn(&ag.stats)
	ag.mu.Unlock()
}

// reload applies a changed assignment list to the schedule: new monitors
// join it; a removed one leaves it, and its check in flight is cancelled;
// a changed one runs its next check with the new assignment, and its check
// in flight (of the old one) is cancelled.
func (r *runner) reload(list []Assignment) {
	ag := r.ag
	seen := make(map[int64]bool, len(list))
	now := time.Now()
	for _, a := range list {
		seen[a.MonitorID] = true
		sl, ok := r.byID[a.MonitorID]
		if !ok {
			sl = &slot{a: a, next: nextSlot(now, a, ag.cfg.RegionID)}
			r.byID[a.MonitorID] = sl
			heap.Push(&r.sched, sl)
			continue
		}
		if reflect.DeepEqual(sl.a, a) {
			continue
		}
		intervalChanged := sl.a.Interval != a.Interval
		sl.a = a
		switch {
		case sl.cancel != nil:
			sl.cancel()
			sl.changed = true
		case !sl.busy && intervalChanged:
			sl.next = nextSlot(now, a, ag.cfg.RegionID)
			heap.Fix(&r.sched, sl.index)
		}
		// A check waiting to start will run with the new assignment.
	}
	for id, sl := range r.byID {
		if seen[id] {
			continue
		}
		sl.removed = true
		delete(r.byID, id)
		switch {
		case sl.cancel != nil:
			sl.cancel()
		case !sl.busy:
			heap.Remove(&r.sched, sl.index)
		}
		// A check waiting to start is dropped when it comes up.
	}
	ag.log.Debug("assignments loaded", "monitors", len(list))
}

// fetchLoop asks the source for the assignments at once and then every
// Refresh, and hands changed lists to Run.
func (ag *Agent) fetchLoop(ctx context.Context, updates chan<- []Assignment) {
	t := time.NewTicker(ag.cfg.Refresh)
	defer t.Stop()
	for {
		list, changed, err := ag.src.Assignments(ctx)
		switch {
		case err != nil:
			if ctx.Err() == nil {
				ag.log.Warn("could not load assignments; keeping the current schedule", "err", err)
			}
		case changed:
			select {
			case updates <- list:
			case <-ctx.Done():
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// runCheck runs one check; a check whose context was cancelled (its monitor
// removed or changed, or the agent stopping) says nothing about the target
// and records nothing.
func (ag *Agent) runCheck(ctx context.Context, a Assignment, scheduled time.Time) {
	start := time.Now()
	outcome := ag.checker.Check(ctx, a.Spec)
	ag.mu.Lock()
	defer ag.mu.Unlock()
	if ctx.Err() != nil {
		ag.stats.Cancelled++
		return
	}
	ag.stats.Run++
	ag.stats.Lateness = append(ag.stats.Lateness, start.Sub(scheduled))
	if len(ag.results) >= ag.cfg.MaxBuffered {
		ag.stats.Dropped++
		return
	}
	ag.results = append(ag.results, Result{MonitorID: a.MonitorID, ScheduledAt: scheduled, CheckedAt: time.Now().UTC(), Outcome: outcome})
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
		"cancelled", st.Cancelled-ag.window.Cancelled, "waited_account", st.WaitedAccount-ag.window.WaitedAccount,
		"waited_global", st.WaitedGlobal-ag.window.WaitedGlobal, "in_flight", st.InFlight,
		"recorded", st.Recorded-ag.window.Recorded, "dropped", st.Dropped-ag.window.Dropped, "held", ag.held(),
		"lateness_p50_ms", pct(0.5), "lateness_p99_ms", pct(0.99), "lateness_max_ms", pct(1))
	ag.window = Stats{Due: st.Due, Run: st.Run, SkippedBusy: st.SkippedBusy, Recorded: st.Recorded, Dropped: st.Dropped,
		Cancelled: st.Cancelled, WaitedAccount: st.WaitedAccount, WaitedGlobal: st.WaitedGlobal}
	ag.lastLog = time.Now()
}
