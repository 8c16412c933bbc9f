// Package commands holds the write side: one small handler per command, each
// loading the streams it needs, folding them into aggregates, letting the
// domain decide, and appending the resulting events with the version it
// loaded (optimistic concurrency).
package commands

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/medialuna/medialuna/domain"
)

// IDs hands out integer ids for new aggregates.
type IDs interface {
	// Next returns a fresh id for kind ("account", "user", "api_key", "invite").
	Next(ctx context.Context, kind string) (int64, error)
}

// Clock returns the current time; tests pass a fixed one.
type Clock func() time.Time

// Actor is who is acting: it becomes the events' metadata.
type Actor struct {
	Type          string // domain.ActorUser, ActorAPIKey, ActorSystem, ...
	ID            int64
	AccountID     int64
	CorrelationID string
}

func (a Actor) metadata(now time.Time, accountID int64) domain.Metadata {
	if accountID == 0 {
		accountID = a.AccountID
	}
	// Microseconds: what PostgreSQL keeps, so a state folded from the log
	// and the same state read from a read model compare equal.
	return domain.Metadata{ActorType: a.Type, ActorID: a.ID, AccountID: accountID, CorrelationID: a.CorrelationID, OccurredAt: now.UTC().Truncate(time.Microsecond)}
}

// aggregate is anything that folds events.
type aggregate interface{ Apply(domain.Event) }

// load folds a stream into agg and returns the version to expect on append.
func load(ctx context.Context, store domain.EventStore, stream string, agg aggregate) (domain.ExpectedVersion, error) {
	recs, err := store.ReadStream(ctx, stream)
	if err != nil {
		return 0, err
	}
	for _, r := range recs {
		ev, err := domain.DecodeRecorded(r)
		if err != nil {
			return 0, err
		}
		if ev != nil {
			agg.Apply(ev)
		}
	}
	return domain.ExpectedVersion(len(recs) - 1), nil
}

// save appends decided events with metadata.
func save(ctx context.Context, store domain.EventStore, stream string, expected domain.ExpectedVersion, meta domain.Metadata, events []domain.Event) (domain.AppendResult, error) {
	if len(events) == 0 {
		return domain.AppendResult{NextExpectedVersion: expected}, nil
	}
	data := make([]domain.EventData, len(events))
	for i, e := range events {
		d, err := domain.Encode(e, meta, uuid.NewString())
		if err != nil {
			return domain.AppendResult{}, err
		}
		data[i] = d
	}
	return store.Append(ctx, stream, expected, data...)
}

// retryOnConflict re-runs a load-decide-append cycle that lost a race, a
// few times, before giving up with the conflict.
func retryOnConflict[T any](ctx context.Context, fn func() (T, error)) (T, error) {
	var (
		res T
		err error
	)
	for attempt := range 5 {
		res, err = fn()
		if domain.ErrorCode(err) != domain.ErrConflict || ctx.Err() != nil {
			return res, err
		}
		time.Sleep(time.Duration(attempt+1) * 5 * time.Millisecond)
	}
	return res, err
}

// owned is an aggregate that belongs to an account.
type owned interface {
	aggregate
	Exists() bool
	Owner() int64
}

// createOwned records a new aggregate of the actor's account: a fresh id of
// kind, and the event created returns for it as the first on stream(id).
func createOwned(ctx context.Context, store domain.EventStore, ids IDs, now Clock, actor Actor, kind string, stream func(int64) string,
	created func(id int64) domain.Event) (int64, domain.Position, error) {
	id, err := ids.Next(ctx, kind)
	if err != nil {
		return 0, domain.Position{}, err
	}
	res, err := save(ctx, store, stream(id), domain.NoStream, actor.metadata(now(), 0), []domain.Event{created(id)})
	return id, res.Position, err
}

// decideOwned runs load-decide-append on an aggregate of the actor's
// account, deciding again when a concurrent change wins the race. Another
// account's aggregate is "not found", exactly like a missing one.
func decideOwned[T owned](ctx context.Context, store domain.EventStore, now Clock, actor Actor, accountID int64, stream, what string,
	fresh func() T, fn func(T) ([]domain.Event, error)) (domain.Position, error) {
	res, err := retryOnConflict(ctx, func() (domain.AppendResult, error) {
		agg := fresh()
		version, err := load(ctx, store, stream, agg)
		if err != nil {
			return domain.AppendResult{}, err
		}
		if !agg.Exists() || agg.Owner() != accountID {
			return domain.AppendResult{}, domain.Errorf(domain.ErrNotFound, "%s not found", what)
		}
		events, err := fn(agg)
		if err != nil {
			return domain.AppendResult{}, err
		}
		return save(ctx, store, stream, version, actor.metadata(now(), accountID), events)
	})
	return res.Position, err
}
