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

// HeartbeatRecorder records push pings in group-committed batches. A ping is
// a fact that needs no read model to decide: the caller waits only until
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
	pending  *heartbeatBatch // collecting; appended when the one in flight is done
	inFlight *heartbeatBatch
	flushing bool // a goroutine is appending batches
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
	keys    map[heartbeatKey]bool
	done    chan struct{} // closed once err is set
	err     error
}

// heartbeatMemory is how many seconds of durable heartbeats are remembered
// to answer repeated pings without an append.
const heartbeatMemory = 2

// NewHeartbeatRecorder returns a group committer appending through record.
func NewHeartbeatRecorder(record CheckRecorder) *HeartbeatRecorder {
	return &HeartbeatRecorder{record: record, appendTimeout: 30 * time.Second, durable: map[int64]map[int64]bool{}}
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
	var batch *heartbeatBatch
	switch {
	case p.inFlight != nil && p.inFlight.keys[key]:
		batch = p.inFlight
	case p.pending != nil && p.pending.keys[key]:
		batch = p.pending
	default:
		if p.pending == nil {
			p.pending = &heartbeatBatch{keys: map[heartbeatKey]bool{}, done: make(chan struct{})}
		}
		batch = p.pending
		batch.keys[key] = true
		batch.results = append(batch.results, domain.CheckResult{MonitorID: monitorID, ScheduledAt: at.Truncate(time.Second), CheckedAt: at,
			Outcome: domain.CheckOutcome{Up: true, Detail: "heartbeat"}})
	}
	if !p.flushing {
		p.flushing = true
		go p.flush()
	}
	p.mu.Unlock()
	select {
	case <-batch.done:
		return batch.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// flush appends the pending batches one after another until none is left.
func (p *HeartbeatRecorder) flush() {
	for {
		p.mu.Lock()
		batch := p.pending
		if batch == nil {
			p.flushing = false
			p.mu.Unlock()
			return
		}
		p.pending, p.inFlight = nil, batch
		p.mu.Unlock()

		ctx, cancel := context.WithTimeout(context.Background(), p.appendTimeout)
		_, _, err := p.record.Handle(ctx, RecordChecks{RegionID: 0, Results: batch.results})
		cancel()

		p.mu.Lock()
		p.inFlight = nil
		batch.err = err
		if err == nil {
			for key := range batch.keys {
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
		}
		p.mu.Unlock()
		close(batch.done)
	}
}
