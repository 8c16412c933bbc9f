package processes

import (
	"context"
	"log/slog"
	"time"
)

// Pruning is what the pruner deletes from.
type Pruning interface {
	// PruneRawResults deletes up to a batch of raw check results past
	// their retention and returns how many it deleted.
	PruneRawResults(ctx context.Context, now time.Time) (int64, error)
}

// ExpiryPruning drops rows whose time has passed: ended rate-limit
// windows, expired dashboard sessions.
type ExpiryPruning interface {
	Prune(ctx context.Context) error
}

// pruneBatch is the size of a PruneRawResults batch: fewer deleted means
// caught up.
const pruneBatch = 10000

// Pruner keeps the tables that only grow in check: every minute it drops
// expired rows (rate-limit windows, sessions) and raw check results past
// their retention.
type Pruner struct {
	expired []ExpiryPruning
	results Pruning
	now     func() time.Time
	log     *slog.Logger
	every   time.Duration
}

// NewPruner returns a pruner that runs every minute.
func NewPruner(results Pruning, now func() time.Time, log *slog.Logger, expired ...ExpiryPruning) *Pruner {
	return &Pruner{expired: expired, results: results, now: now, log: log, every: time.Minute}
}

// Run prunes every minute until ctx ends.
func (p *Pruner) Run(ctx context.Context) {
	t := time.NewTicker(p.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			p.Prune(ctx)
		}
	}
}

// Prune runs one round. Raw results go in batches of 10,000 until caught
// up (or 100 batches a round, ~1.4 billion rows a day at a round a
// minute): pruning keeps pace with any load one machine can record,
// without one long-held lock. Failures are logged; the next round tries
// again.
func (p *Pruner) Prune(ctx context.Context) {
	for _, e := range p.expired {
		if err := e.Prune(ctx); err != nil && ctx.Err() == nil {
			p.log.Warn("prune expired rows", "err", err)
		}
	}
	for range 100 {
		n, err := p.results.PruneRawResults(ctx, p.now())
		if err != nil {
			if ctx.Err() == nil {
				p.log.Warn("prune raw check results", "err", err)
			}
			return
		}
		if n < pruneBatch {
			return
		}
	}
}
