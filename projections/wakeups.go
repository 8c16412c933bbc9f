package projections

import (
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lib/pq"

	"github.com/medialuna/medialuna/domain"
)

// checkpointChannel is the LISTEN/NOTIFY channel saveCheckpoint notifies
// in the projector's transaction, so PostgreSQL delivers it at commit, to
// every process on the database: an API replica that does not run the
// projectors hears them too.
const checkpointChannel = "medialuna_checkpoints"

// fallbackPoll is how often a waiter re-reads the checkpoints when no
// notification comes: one lost (the LISTEN connection reconnecting) costs
// at most this much.
const fallbackPoll = 50 * time.Millisecond

// checkpointWakeups fans the checkpoint notifications of one LISTEN
// connection out to every WaitFor of the process.
type checkpointWakeups struct {
	mu      sync.Mutex
	waiters map[chan struct{}]struct{}
	// heard is the newest committed position each projector announced.
	// Every checkpoint wakes every waiter; a waiter reads the checkpoints
	// again only when these say it may be done, not once for each of the
	// dozen projectors that commit per write.
	heard map[string]domain.Position
}

// ListenForCheckpoints makes WaitFor wake on committed projector
// checkpoints instead of polling, over one LISTEN connection to dsn. The
// returned stop closes it (WaitFor then polls again). Call it once, before
// serving; a failed LISTEN is logged and leaves WaitFor polling.
func (q *Queries) ListenForCheckpoints(dsn string, log *slog.Logger) (stop func()) {
	w := &checkpointWakeups{waiters: map[chan struct{}]struct{}{}, heard: map[string]domain.Position{}}
	l := pq.NewListener(dsn, 100*time.Millisecond, 10*time.Second, func(ev pq.ListenerEventType, err error) {
		if err != nil {
			log.Warn("checkpoint notification listener", "event", ev, "err", err)
		}
		if ev == pq.ListenerEventReconnected {
			w.broadcast() // notifications may have been missed while away
		}
	})
	if err := l.Listen(checkpointChannel); err != nil {
		log.Warn("LISTEN for checkpoints failed; writes poll for their read models", "err", err)
		l.Close()
		return func() {}
	}
	go func() {
		for n := range l.Notify {
			if n != nil {
				w.hear(n.Extra)
			}
			w.broadcast()
		}
	}()
	q.wake = w
	return func() { l.Close() }
}

// hear records a notification's "name commit prepare"; anything else
// (an older server's empty payload) is ignored.
func (w *checkpointWakeups) hear(payload string) {
	f := strings.Fields(payload)
	if len(f) != 3 {
		return
	}
	commit, err1 := strconv.ParseUint(f[1], 10, 64)
	prepare, err2 := strconv.ParseUint(f[2], 10, 64)
	if err1 != nil || err2 != nil {
		return
	}
	pos := domain.Position{Commit: commit, Prepare: prepare}
	w.mu.Lock()
	if w.heard[f[0]].Less(pos) {
		w.heard[f[0]] = pos
	}
	w.mu.Unlock()
}

// mayHaveReached tells whether every named projector may have applied pos:
// false only when one announced a position before it. A projector not
// heard from yet may be anywhere, so it counts as maybe.
func (w *checkpointWakeups) mayHaveReached(names []string, pos domain.Position) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, n := range names {
		if p, ok := w.heard[n]; ok && p.Less(pos) {
			return false
		}
	}
	return true
}

func (w *checkpointWakeups) subscribe() chan struct{} {
	ch := make(chan struct{}, 1)
	w.mu.Lock()
	w.waiters[ch] = struct{}{}
	w.mu.Unlock()
	return ch
}

func (w *checkpointWakeups) unsubscribe(ch chan struct{}) {
	w.mu.Lock()
	delete(w.waiters, ch)
	w.mu.Unlock()
}

func (w *checkpointWakeups) broadcast() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for ch := range w.waiters {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}
