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

// CheckRetention is the log's check retention (adapters/postgres).
type CheckRetention interface {
	// EnsureCheckPartitions creates the day partitions of check results
	// from the day of from to the day of to.
	EnsureCheckPartitions(ctx context.Context, from, to time.Time) error
	// DropCheckPartitions drops the check results scheduled before cut,
	// whole days at a time, and returns the days dropped.
	DropCheckPartitions(ctx context.Context, cut time.Time) ([]string, error)
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
	checks  CheckRetention
	keep    time.Duration // the check retention; 0 keeps every check
	now     func() time.Time
	log     *slog.Logger
	every   time.Duration
}

// NewPruner returns a pruner that runs every minute.
func NewPruner(results Pruning, now func() time.Time, log *slog.Logger, expired ...ExpiryPruning) *Pruner {
	return &Pruner{expired: expired, results: results, now: now, log: log, every: time.Minute}
}

// WithCheckRetention makes every round also create the coming days'
// partitions of check results and drop the days older than keep (0:
// create, never drop).
func (p *Pruner) WithCheckRetention(checks CheckRetention, keep time.Duration) *Pruner {
	p.checks, p.keep = checks, keep
	return p
}

// Run prunes every minute until ctx ends. The check partitions are
// created at once, so the first results land in their day.
func (p *Pruner) Run(ctx context.Context) {
	p.retainChecks(ctx)
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
	p.retainChecks(ctx)
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

// retainChecks keeps two days of check partitions ahead of the clock and
// drops the days that ended more than the retention ago: a whole day at
// a time, so nothing is deleted row by row and nothing needs vacuuming.
// The days' summaries (ChecksSummarized) stay.
func (p *Pruner) retainChecks(ctx context.Context) {
	if p.checks == nil {
		return
	}
	now := p.now()
	if err := p.checks.EnsureCheckPartitions(ctx, now.Add(-24*time.Hour), now.Add(48*time.Hour)); err != nil && ctx.Err() == nil {
		p.log.Warn("create check partitions", "err", err)
	}
	if p.keep <= 0 {
		return
	}
	dropped, err := p.checks.DropCheckPartitions(ctx, now.Add(-p.keep))
	if err != nil && ctx.Err() == nil {
		p.log.Warn("drop check partitions", "err", err)
	}
	if len(dropped) > 0 {
		p.log.Info("check results past their retention dropped", "days", dropped)
	}
}
