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

// RateLimitPruning drops rate-limit windows that have ended.
type RateLimitPruning interface {
	Prune(ctx context.Context) error
}

// pruneBatch is the size of a PruneRawResults batch: fewer deleted means
// caught up.
const pruneBatch = 10000

// Pruner keeps the tables that only grow in check: every minute it drops
// ended rate-limit windows and raw check results past their retention.
type Pruner struct {
	limits  RateLimitPruning
	results Pruning
	now     func() time.Time
	log     *slog.Logger
	every   time.Duration
}

// NewPruner returns a pruner that runs every minute.
func NewPruner(limits RateLimitPruning, results Pruning, now func() time.Time, log *slog.Logger) *Pruner {
	return &Pruner{limits: limits, results: results, now: now, log: log, every: time.Minute}
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
	if err := p.limits.Prune(ctx); err != nil && ctx.Err() == nil {
		p.log.Warn("prune rate-limit windows", "err", err)
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
