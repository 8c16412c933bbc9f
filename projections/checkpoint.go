package projections

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/medialuna/medialuna/domain"
)

// checkpoint is a projector's row in projection_checkpoints.
type checkpoint struct {
	Name          string    `db:"name"`
	Commit        int64     `db:"commit_position"`
	Prepare       int64     `db:"prepare_position"`
	Version       int       `db:"version"`
	EventsApplied int64     `db:"events_applied"`
	UpdatedAt     time.Time `db:"updated_at"`
}

func (c checkpoint) position() domain.Position {
	return domain.Position{Commit: uint64(c.Commit), Prepare: uint64(c.Prepare)}
}

// lockCheckpoint reads and locks a projector's checkpoint inside tx. Every
// writer of a read model takes this lock first, which serialises the live
// projector and a rebuild's final swap.
func lockCheckpoint(ctx context.Context, tx *sqlx.Tx, name string) (checkpoint, bool, error) {
	var c checkpoint
	err := tx.GetContext(ctx, &c, `SELECT * FROM projection_checkpoints WHERE name = $1 FOR UPDATE`, name)
	if errors.Is(err, sql.ErrNoRows) {
		return c, false, nil
	}
	return c, err == nil, err
}

func saveCheckpoint(ctx context.Context, tx *sqlx.Tx, name string, pos domain.Position, version int, applied int64) error {
	// The NOTIFY rides in the same statement (no extra round trip) and is
	// sent at commit: it wakes the writes waiting for this read model
	// (Queries.WaitFor) in every process on the database. Its payload,
	// "name commit prepare", lets a waiter tell from memory whether it is
	// worth reading the checkpoints again.
	_, err := tx.ExecContext(ctx, `
		INSERT INTO projection_checkpoints (name, commit_position, prepare_position, version, events_applied, updated_at)
		SELECT $1, $2, $3, $4, $5, now() FROM (SELECT pg_notify('`+checkpointChannel+`', $1::text || ' ' || $2::bigint || ' ' || $3::bigint)) AS wake
		ON CONFLICT (name) DO UPDATE SET commit_position = $2, prepare_position = $3, version = $4,
			events_applied = projection_checkpoints.events_applied + $5, updated_at = now()`,
		name, int64(pos.Commit), int64(pos.Prepare), version, applied)
	return err
}

func readCheckpoint(ctx context.Context, db *sqlx.DB, name string) (checkpoint, bool, error) {
	var c checkpoint
	err := db.GetContext(ctx, &c, `SELECT * FROM projection_checkpoints WHERE name = $1`, name)
	if errors.Is(err, sql.ErrNoRows) {
		return c, false, nil
	}
	return c, err == nil, err
}

// applyBatch applies the events after the stored checkpoint and advances it,
// all in one transaction.
//
// through, when later than the last event, is where the checkpoint ends:
// the batch was filtered and the events after its last one up to through
// are of no interest to p.
func applyBatch(ctx context.Context, db *sqlx.DB, p Projector, events []domain.RecordedEvent, through domain.Position) error {
	if isConsumer(p) && len(p.Tables()) == 0 {
		return applySideEffects(ctx, db, p, events, through)
	}
	return inTx(ctx, db, func(tx *sqlx.Tx) error {
		cp, _, err := lockCheckpoint(ctx, tx, p.Name())
		if err != nil {
			return err
		}
		if err := applyAfter(ctx, tx, p, cp.position(), events, cp.Version); err != nil {
			return err
		}
		if cp.position().Less(through) && (len(events) == 0 || events[len(events)-1].Position.Less(through)) {
			return saveCheckpoint(ctx, tx, p.Name(), through, cp.Version, 0)
		}
		return nil
	})
}

// applySideEffects runs a stateless consumer (a mailer) outside any
// transaction, then moves its checkpoint. Holding a transaction open while
// a mail server answers would hold back every follower of the log (see
// the gap problem in adapters/postgres). A crash between the two sends
// again: at least once, never zero times.
func applySideEffects(ctx context.Context, db *sqlx.DB, p Projector, events []domain.RecordedEvent, through domain.Position) error {
	cp, _, err := readCheckpoint(ctx, db, p.Name())
	if err != nil {
		return err
	}
	last := cp.position()
	var recs []domain.RecordedEvent
	var evs []domain.Event
	for _, rec := range events {
		if !cp.position().Less(rec.Position) {
			continue
		}
		ev, err := domain.DecodeRecorded(rec)
		if err != nil {
			return &eventError{rec: rec, err: err}
		}
		recs, evs, last = append(recs, rec), append(evs, ev), rec.Position
	}
	if err := apply(ctx, nil, p, recs, evs); err != nil {
		return err
	}
	applied := int64(len(recs))
	if last.Less(through) {
		last = through
	}
	if !cp.position().Less(last) {
		return nil
	}
	return inTx(ctx, db, func(tx *sqlx.Tx) error {
		return saveCheckpoint(ctx, tx, p.Name(), last, cp.Version, applied)
	})
}

// applyAfter applies, inside tx, the events later than from and saves the
// new checkpoint. Events at or before from were applied already and are
// skipped: that is what makes redelivery harmless.
func applyAfter(ctx context.Context, tx *sqlx.Tx, p Projector, from domain.Position, events []domain.RecordedEvent, version int) error {
	var applied int64
	last := from
	w := newBatcher(tx)
	var recs []domain.RecordedEvent
	var evs []domain.Event
	for _, rec := range events {
		if !from.Less(rec.Position) {
			continue
		}
		ev, err := domain.DecodeRecorded(rec)
		if err != nil {
			return &eventError{rec: rec, err: err}
		}
		recs, evs = append(recs, rec), append(evs, ev)
		applied++
		last = rec.Position
	}
	if err := apply(ctx, w, p, recs, evs); err != nil {
		return err
	}
	if applied == 0 {
		return nil
	}
	if err := w.flush(ctx); err != nil {
		// A batch fails as a whole; the runner retries it event by event
		// to find the one at fault.
		return err
	}
	return saveCheckpoint(ctx, tx, p.Name(), last, version, applied)
}

// eventError ties a failure to the event that caused it.
type eventError struct {
	rec domain.RecordedEvent
	err error
}

func (e *eventError) Error() string {
	return e.rec.Type + " " + e.rec.ID + " in " + e.rec.StreamID + ": " + e.err.Error()
}
func (e *eventError) Unwrap() error { return e.err }

// park records an event the projector cannot apply and moves the checkpoint
// past it, so one poison event never stops a read model.
func park(ctx context.Context, db *sqlx.DB, p Projector, rec domain.RecordedEvent, cause error) error {
	return inTx(ctx, db, func(tx *sqlx.Tx) error {
		cp, _, err := lockCheckpoint(ctx, tx, p.Name())
		if err != nil {
			return err
		}
		if !cp.position().Less(rec.Position) {
			return nil // parked already, or applied after all
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO parked_events (projector, event_id, stream_id, event_type, commit_position, prepare_position, error)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
			p.Name(), rec.ID, rec.StreamID, rec.Type, int64(rec.Position.Commit), int64(rec.Position.Prepare), cause.Error()); err != nil {
			return err
		}
		return saveCheckpoint(ctx, tx, p.Name(), rec.Position, cp.Version, 0)
	})
}

// apply hands decoded events to the projector, as one batch when it can
// take one, else one by one.
func apply(ctx context.Context, w Exec, p Projector, recs []domain.RecordedEvent, evs []domain.Event) error {
	if len(recs) == 0 {
		return nil
	}
	if bp, ok := p.(BatchProjector); ok && len(recs) > 1 {
		if err := bp.ApplyBatch(ctx, w, recs, evs); err != nil {
			return &eventError{rec: recs[0], err: err}
		}
		return nil
	}
	for i, rec := range recs {
		if err := p.Apply(ctx, w, rec, evs[i]); err != nil {
			return &eventError{rec: rec, err: err}
		}
	}
	return nil
}
