package domain

import (
	"context"
	"encoding/json"
	"time"
)

// Position is a place in the global log. Both adapters fit it: PostgreSQL
// stores (transaction id, sequence), EventStoreDB (commit, prepare). The zero
// Position is the start of the log.
type Position struct {
	Commit  uint64 `json:"commit"`
	Prepare uint64 `json:"prepare"`
}

// Less reports whether p comes before o in the log.
func (p Position) Less(o Position) bool {
	if p.Commit != o.Commit {
		return p.Commit < o.Commit
	}
	return p.Prepare < o.Prepare
}

// AtLeast reports whether p is o or later.
func (p Position) AtLeast(o Position) bool { return !p.Less(o) }

// ExpectedVersion is the optimistic-concurrency guard of an append: the
// version the caller last saw, or one of the special values below. A stream's
// first event has version 0.
type ExpectedVersion int64

const (
	// NoStream: the stream must not exist yet.
	NoStream ExpectedVersion = -1
	// AnyVersion: append whatever the stream holds.
	AnyVersion ExpectedVersion = -2
)

// Metadata travels with every event: who did it, for which account, as part
// of which request, and when.
type Metadata struct {
	ActorType     string    `json:"actor_type"` // user, api_key, system, probe, push
	ActorID       int64     `json:"actor_id,omitempty"`
	AccountID     int64     `json:"account_id,omitempty"`
	CorrelationID string    `json:"correlation_id,omitempty"`
	OccurredAt    time.Time `json:"occurred_at"`
}

// Actor types recorded in Metadata.
const (
	ActorUser   = "user"
	ActorAPIKey = "api_key"
	ActorSystem = "system"
	ActorProbe  = "probe"
)

// EventData is an event on its way into the log.
type EventData struct {
	ID       string          // unique; a retried append with the same ID is recognisable
	Type     string          // e.g. "AccountOpened"
	Version  int             // schema version of Data
	Data     json.RawMessage // the event struct as JSON
	Metadata Metadata
}

// RecordedEvent is an event as the log holds it.
type RecordedEvent struct {
	EventData
	StreamID      string
	StreamVersion int64
	Position      Position
	// Sequence is a human-friendly, strictly increasing number for the
	// event in the global log (the PostgreSQL position, the EventStoreDB
	// prepare position). Audit exports show it.
	Sequence   uint64
	RecordedAt time.Time
}

// StreamEvent is one event bound for a stream, for AppendBatch.
type StreamEvent struct {
	Stream string
	Event  EventData
}

// AppendResult tells where the last appended event landed.
type AppendResult struct {
	NextExpectedVersion ExpectedVersion
	Position            Position
}

// EventStore is the port every event log adapter implements; the contract
// test suite in test/eventstoretest holds each adapter to it.
type EventStore interface {
	// Append writes events to stream atomically if the stream's version is
	// expected. Errors: ErrConflict when the version does not match, ErrInvalid
	// for an empty stream id or event list.
	Append(ctx context.Context, stream string, expected ExpectedVersion, events ...EventData) (AppendResult, error)
	// AppendBatch appends events to many streams at once, with no version
	// check (AnyVersion per stream), keeping their order within each
	// stream. Events whose ID is already in the log are skipped, so a batch
	// retried after a network fault is recorded once. It is for high-volume
	// facts such as check results. Errors: ErrInvalid for an empty stream id.
	AppendBatch(ctx context.Context, events []StreamEvent) (Position, error)
	// ReadStream returns every event of stream in order; an unknown stream
	// is empty, not an error.
	ReadStream(ctx context.Context, stream string) ([]RecordedEvent, error)
	// ReadStreamTail returns the last n events of stream (all of them when
	// it holds fewer), oldest first; an unknown stream is empty. A decision
	// that its stream's latest events summarise (a quota's count) reads
	// only these instead of the whole history. Errors: ErrInvalid for n < 1.
	ReadStreamTail(ctx context.Context, stream string, n int) ([]RecordedEvent, error)
	// ReadAll returns up to limit committed events after from, in log order.
	// It never returns an event that a later call could precede with an
	// event it skipped: followers that resume from the last returned
	// position see every event exactly once.
	ReadAll(ctx context.Context, from Position, limit int) ([]RecordedEvent, error)
	// Follow delivers batches of events after from, first catching up and
	// then following live, until ctx ends or fn returns an error. fn may be
	// called with batches of up to batchSize events.
	Follow(ctx context.Context, from Position, batchSize int, fn func([]RecordedEvent) error) error
	// Head returns the position of the last committed event.
	Head(ctx context.Context) (Position, error)
}
