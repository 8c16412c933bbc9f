package projections

import (
	"context"
	"errors"
	"time"

	"github.com/lib/pq"

	"github.com/medialuna/medialuna/domain"
)

// What the process managers in package processes use of the engine: they
// run on the Runner as Consumers and read the log's events as the folds do.

// StreamID is the numeric id at the end of the event's stream name, after
// prefix ("monitor-", "incident-").
func StreamID(rec domain.RecordedEvent, prefix string) int64 { return streamID(rec, prefix) }

// EachCheckRun splits a batch into runs of consecutive CheckRecorded
// events, handed to checks, and every other event, handed to other, in
// log order.
func EachCheckRun(recs []domain.RecordedEvent, evs []domain.Event,
	checks func([]*domain.CheckRecorded) error, other func(domain.RecordedEvent, domain.Event) error) error {
	return eachRun(recs, evs, checks, other)
}

// Sleep waits d or until ctx ends; false when ctx ended first.
func Sleep(ctx context.Context, d time.Duration) bool { return sleep(ctx, d) }

// IsUndefinedTable reports whether err says a table does not exist yet: its
// read model is being built for the first time.
func IsUndefinedTable(err error) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && pqErr.Code == "42P01"
}
