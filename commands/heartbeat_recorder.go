package commands

import (
	"context"
	"sync"
	"time"

	"github.com/medialuna/medialuna/domain"
)

// CheckRecorder appends check results: the RecordChecksHandler.
type CheckRecorder interface {
	Handle(ctx context.Context, cmd RecordChecks) (int, domain.Position, error)
}

// HeartbeatRecorder records push pings in group-committed batches. A ping
// is a fact that needs no read model to decide: the caller waits only until
// the batch holding its heartbeat is durable in the log, never for the
// projections. While one batch is being appended, the pings that arrive
// join the next, so a thousand concurrent pings cost a few transactions,
// not a thousand.
//
// Pings of one monitor within the same second are one heartbeat (their
// event id is derived from the monitor and the second, so the log keeps
// one however many replicas see them); a ping whose heartbeat is already
// durable answers at once, and one whose heartbeat is on its way waits for
// that batch.
type HeartbeatRecorder struct {
	record CheckRecorder
	// appendTimeout bounds one batch's append, independent of the callers'
	// contexts: a caller that gives up must not abandon the others' batch.
	appendTimeout time.Duration

	mu       sync.Mutex
	waiting  []*heartbeatBatch // in order; the last one collects until full
	inFlight *heartbeatBatch
	byKey    map[heartbeatKey]*heartbeatBatch // the heartbeats not yet done
	flushing bool                             // a goroutine is appending batches
	// durable holds the heartbeats known to be in the log, by second then
	// monitor, for the last heartbeatMemory seconds: whole seconds are
	// dropped as time moves on.
	durable map[int64]map[int64]bool
	newest  int64 // the newest second in durable
}

// heartbeatKey is one monitor's heartbeat of one second.
type heartbeatKey struct {
	monitor int64
	second  int64
}

type heartbeatBatch struct {
	results []domain.CheckResult
	keys    []heartbeatKey         // of results, index by index
	done    chan struct{}          // closed once errs is set
	errs    map[heartbeatKey]error // the heartbeats that failed, with why
}

// maxHeartbeatBatch bounds one append: what gathers beyond it waits for
// the next, so one account's thousands of monitors cannot make every
// other account's pings wait behind one huge transaction.
const maxHeartbeatBatch = 1000

// isolationAppends bounds the appends spent on a failed batch, halving it
// to find the heartbeats at fault: a result that one account's data makes
// the append refuse must not fail every account's pings. One such result
// among 1,000 takes 21 appends (two per halving); a database that refuses
// everything costs no more than 32.
const isolationAppends = 32

// heartbeatMemory is how many seconds of durable heartbeats are remembered
// to answer repeated pings without an append.
const heartbeatMemory = 2

// NewHeartbeatRecorder returns a group committer appending through record.
func NewHeartbeatRecorder(record CheckRecorder) *HeartbeatRecorder {
	return &HeartbeatRecorder{record: record, appendTimeout: 30 * time.Second,
		byKey: map[heartbeatKey]*heartbeatBatch{}, durable: map[int64]map[int64]bool{}}
}

// Record records a heartbeat of the monitor at the given time and returns
// once it is durable (or the append failed, or ctx ended first: the
// heartbeat may still be recorded then).
func (p *HeartbeatRecorder) Record(ctx context.Context, monitorID int64, at time.Time) error {
	at = at.UTC()
	key := heartbeatKey{monitor: monitorID, second: at.Unix()}
	p.mu.Lock()
	if p.durable[key.second][key.monitor] {
		p.mu.Unlock()
		return nil
	}
	batch := p.byKey[key]
	if batch == nil {
		if n := len(p.waiting); n == 0 || len(p.waiting[n-1].results) >= maxHeartbeatBatch {
			p.waiting = append(p.waiting, &heartbeatBatch{done: make(chan struct{})})
		}
		batch = p.waiting[len(p.waiting)-1]
		batch.keys = append(batch.keys, key)
		batch.results = append(batch.results, domain.CheckResult{MonitorID: monitorID, ScheduledAt: at.Truncate(time.Second), CheckedAt: at,
			Outcome: domain.CheckOutcome{Up: true, Detail: "heartbeat"}})
		p.byKey[key] = batch
	}
	if !p.flushing {
		p.flushing = true
		go p.flush()
	}
	p.mu.Unlock()
	select {
	case <-batch.done:
		return batch.errs[key]
	case <-ctx.Done():
		return ctx.Err()
	}
}

// flush appends the waiting batches one after another until none is left.
func (p *HeartbeatRecorder) flush() {
	for {
		p.mu.Lock()
		if len(p.waiting) == 0 {
			p.flushing = false
			p.mu.Unlock()
			return
		}
		batch := p.waiting[0]
		p.waiting = p.waiting[1:]
		p.inFlight = batch
		p.mu.Unlock()

		budget := isolationAppends
		errs := p.appendIsolating(batch.results, &budget)

		p.mu.Lock()
		p.inFlight = nil
		for i, key := range batch.keys {
			delete(p.byKey, key)
			if errs != nil && errs[i] != nil {
				if batch.errs == nil {
					batch.errs = map[heartbeatKey]error{}
				}
				batch.errs[key] = errs[i]
				continue
			}
			if p.durable[key.second] == nil {
				p.durable[key.second] = map[int64]bool{}
			}
			p.durable[key.second][key.monitor] = true
			p.newest = max(p.newest, key.second)
		}
		for second := range p.durable {
			if second <= p.newest-heartbeatMemory {
				delete(p.durable, second)
			}
		}
		p.mu.Unlock()
		close(batch.done)
	}
}

// appendIsolating appends the results in one batch; when that fails, it
// halves the batch while the budget of appends lasts, so that the results
// at fault fail alone. It returns nil when all were appended, else an
// error per result (nil for those appended). A timeout is not halved: the
// database is unwell, not one result.
func (p *HeartbeatRecorder) appendIsolating(results []domain.CheckResult, budget *int) []error {
	*budget--
	ctx, cancel := context.WithTimeout(context.Background(), p.appendTimeout)
	_, _, err := p.record.Handle(ctx, RecordChecks{RegionID: 0, Results: results})
	timedOut := ctx.Err() != nil
	cancel()
	if err == nil {
		return nil
	}
	if len(results) == 1 || *budget < 2 || timedOut {
		errs := make([]error, len(results))
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	mid := len(results) / 2
	left := p.appendIsolating(results[:mid], budget)
	right := p.appendIsolating(results[mid:], budget)
	if left == nil && right == nil {
		return nil
	}
	errs := make([]error, len(results))
	copy(errs, left)
	copy(errs[mid:], right)
	return errs
}
