package projections

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/medialuna/medialuna/domain"
)

// Progress reports a rebuild's advance: events applied so far, and the
// sequence number reached against the log's head (for a percentage).
type Progress func(projector string, applied int64, sequence, head uint64)

// Rebuilder rebuilds read models from the log into fresh tables while the
// old ones keep serving, then swaps them in one transaction.
type Rebuilder struct {
	db        *sqlx.DB
	store     domain.EventStore
	log       *slog.Logger
	batchSize int
}

// NewRebuilder returns a rebuilder.
func NewRebuilder(db *sqlx.DB, store domain.EventStore, log *slog.Logger) *Rebuilder {
	return &Rebuilder{db: db, store: store, log: log, batchSize: 5000}
}

var identifier = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// Rebuild replays the whole log into a scratch schema, catches up with the
// live projector under its checkpoint lock, and swaps the tables into public
// atomically. Readers see the old tables until the swap commits.
func (b *Rebuilder) Rebuild(ctx context.Context, p Projector, progress Progress) error {
	if isConsumer(p) {
		return fmt.Errorf("%s has side effects and is never replayed", p.Name())
	}
	if !identifier.MatchString(p.Name()) {
		return fmt.Errorf("projector name %q is not a plain identifier", p.Name())
	}
	scratch := "rebuild_" + p.Name()
	if _, err := b.db.ExecContext(ctx, `DROP SCHEMA IF EXISTS `+scratch+` CASCADE; CREATE SCHEMA `+scratch); err != nil {
		return fmt.Errorf("create scratch schema: %w", err)
	}
	defer b.db.ExecContext(context.WithoutCancel(ctx), `DROP SCHEMA IF EXISTS `+scratch+` CASCADE`)

	inScratch := func(fn func(tx *sqlx.Tx) error) error {
		return inTx(ctx, b.db, func(tx *sqlx.Tx) error {
			if _, err := tx.ExecContext(ctx, `SET LOCAL search_path TO `+scratch+`, public`); err != nil {
				return err
			}
			return fn(tx)
		})
	}
	if err := inScratch(func(tx *sqlx.Tx) error { return p.Setup(ctx, tx) }); err != nil {
		return fmt.Errorf("set up %s: %w", p.Name(), err)
	}

	head, err := b.store.Head(ctx)
	if err != nil {
		return err
	}
	started := time.Now()
	lastReport := started
	var from domain.Position
	var applied int64
	for {
		batch, err := b.store.ReadAll(ctx, from, b.batchSize)
		if err != nil {
			return err
		}
		if len(batch) == 0 {
			break
		}
		err = inScratch(func(tx *sqlx.Tx) error {
			// The scratch tables are thrown away if the rebuild dies, so
			// their commits need not wait for the disk.
			if _, err := tx.ExecContext(ctx, `SET LOCAL synchronous_commit TO off`); err != nil {
				return err
			}
			return applyAll(ctx, tx, p, batch)
		})
		if err != nil {
			return fmt.Errorf("rebuild %s: %w", p.Name(), err)
		}
		applied += int64(len(batch))
		from = batch[len(batch)-1].Position
		if progress != nil && (time.Since(lastReport) > time.Second || len(batch) < b.batchSize) {
			progress(p.Name(), applied, batch[len(batch)-1].Sequence, head.Prepare)
			lastReport = time.Now()
		}
		if len(batch) < b.batchSize {
			break
		}
	}

	// The swap: hold the live projector's checkpoint lock, apply what
	// arrived since the last batch, and move the new tables into public.
	err = inScratch(func(tx *sqlx.Tx) error {
		if _, found, err := lockCheckpoint(ctx, tx, p.Name()); err != nil {
			return err
		} else if !found {
			if err := saveCheckpoint(ctx, tx, p.Name(), domain.Position{}, 0, 0); err != nil {
				return err
			}
			if _, _, err := lockCheckpoint(ctx, tx, p.Name()); err != nil {
				return err
			}
		}
		for {
			rest, err := b.store.ReadAll(ctx, from, b.batchSize)
			if err != nil {
				return err
			}
			if err := applyAll(ctx, tx, p, rest); err != nil {
				return err
			}
			if len(rest) > 0 {
				from = rest[len(rest)-1].Position
				applied += int64(len(rest))
			}
			if len(rest) < b.batchSize {
				break
			}
		}
		for _, table := range p.Tables() {
			if !identifier.MatchString(table) {
				return fmt.Errorf("table name %q is not a plain identifier", table)
			}
			if _, err := tx.ExecContext(ctx, `DROP TABLE IF EXISTS public.`+table+` CASCADE`); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `ALTER TABLE `+scratch+`.`+table+` SET SCHEMA public`); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `UPDATE projection_checkpoints SET commit_position = $2, prepare_position = $3,
			version = $4, events_applied = $5, updated_at = now() WHERE name = $1`,
			p.Name(), int64(from.Commit), int64(from.Prepare), p.Version(), applied)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM parked_events WHERE projector = $1`, p.Name())
		return err
	})
	if err != nil {
		return fmt.Errorf("swap %s: %w", p.Name(), err)
	}
	// Fresh tables have no statistics yet; without them the planner takes
	// 10,000 rows for a hundred.
	for _, table := range p.Tables() {
		if _, err := b.db.ExecContext(ctx, `ANALYZE public.`+table); err != nil {
			b.log.Warn("analyze rebuilt table", "table", table, "err", err)
		}
	}
	elapsed := time.Since(started)
	b.log.Info("read model rebuilt", "projector", p.Name(), "events", applied, "elapsed", elapsed.Round(time.Millisecond),
		"events_per_second", int(float64(applied)/max(elapsed.Seconds(), 1e-9)))
	if progress != nil {
		progress(p.Name(), applied, head.Prepare, head.Prepare)
	}
	return nil
}

// applyAll applies events through a statement batcher.
func applyAll(ctx context.Context, tx *sqlx.Tx, p Projector, events []domain.RecordedEvent) error {
	w := newBatcher(tx)
	recs := make([]domain.RecordedEvent, 0, len(events))
	evs := make([]domain.Event, 0, len(events))
	for _, rec := range events {
		if !handles(p, rec.Type) {
			continue
		}
		ev, err := domain.DecodeRecorded(rec)
		if err != nil {
			return &eventError{rec: rec, err: err}
		}
		if ev == nil {
			continue
		}
		recs, evs = append(recs, rec), append(evs, ev)
	}
	if err := apply(ctx, w, p, recs, evs); err != nil {
		return err
	}
	return w.flush(ctx)
}
