// Package eventstoredb is the EventStoreDB/KurrentDB adapter of the event log:
// it implements domain.EventStore over the official gRPC client (esdb v4),
// which speaks to EventStoreDB 20.10+ and KurrentDB alike.
//
// Mapping. A domain stream is an EventStoreDB stream of the same name; stream
// versions are EventStoreDB revisions (first event = 0). The global log is
// $all, and a domain.Position is the $all (commit, prepare) pair; Sequence is
// the prepare position. Event payloads are stored as JSON; the schema version
// and domain.Metadata travel in the event's user metadata as
// {"v":<version>,"meta":{...}}. Events whose type or stream starts with "$"
// are the server's own and are never returned by ReadAll, Follow or Head.
//
// Requirements and differences from the PostgreSQL adapter:
//   - Stream reads carry $all positions only from server release 22 on; with
//     older servers ReadStream returns zero Positions.
//   - An append of several events is atomic, but the server caps its size
//     (maxAppendSize, 1 MiB by default): a larger batch fails, it is not split.
//   - Positions are byte offsets in the server's transaction log: strictly
//     increasing, but Sequence numbers are far from consecutive, and they mean
//     nothing to another adapter (a switch of adapter resets checkpoints).
//   - $all holds every application's streams: ReadAll and Follow return any
//     non-system event in the database, not only this application's.
//   - Event ids must be UUIDs. EventStoreDB recognises a retried append by its
//     event ids and does not write it twice (guaranteed with an expected
//     version, best effort with AnyVersion).
//   - Stream ids starting with "$" are rejected: EventStoreDB reserves them.
package eventstoredb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/medialuna/medialuna/domain"
)

var _ domain.EventStore = (*EventStore)(nil)

const (
	// defaultLimit matches the PostgreSQL adapter's page size when the caller
	// passes none.
	defaultLimit = 1000
	// ReadAll reads $all in chunks of limit+1 raw events, clamped to these
	// bounds: system events are filtered out here, so small limits would
	// otherwise cost a round trip per handful of server events.
	minReadChunk = 64
	maxReadChunk = 4096
	// headChunk is how many events Head reads backwards at a time while
	// looking for the last non-system event.
	headChunk = 64

	// A follower hands over a partial batch once the subscription has been
	// quiet for flushIdle, and never holds an event longer than maxLinger, so
	// live events arrive promptly while catch-up still fills whole batches.
	flushIdle = 5 * time.Millisecond
	maxLinger = 50 * time.Millisecond

	// Resubscription backoff after a dropped subscription.
	minBackoff = 100 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// EventStore is the EventStoreDB event log.
//
// The esdb client shuts itself down for good when it fails to discover a node
// (after maxDiscoverAttempts, about a second by default), so a server restart
// would otherwise leave the adapter dead. EventStore replaces such a client
// with a fresh one built from the same configuration; the next call
// reconnects.
type EventStore struct {
	conf esdb.Configuration
	log  *slog.Logger

	mu     sync.Mutex
	client *esdb.Client
	closed bool

	// maxAge is the check retention ($maxAge of checks-region-* streams);
	// aged is the streams this process has set it on.
	maxAge time.Duration
	aged   map[string]bool
}

// SetCheckRetention makes the server let check results go after maxAge:
// the first append of this process to each checks-region-* stream sets
// the stream's $maxAge, and the server's scavenge removes older events
// (readers stop seeing them at once). Every other stream keeps its events.
// Zero keeps them. Untested here: no EventStoreDB in the test environment;
// written from the client's StreamMetadata.SetMaxAge and SetStreamMetadata.
func (s *EventStore) SetCheckRetention(maxAge time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.maxAge, s.aged = maxAge, map[string]bool{}
}

func (s *EventStore) ageStream(ctx context.Context, stream string) error {
	s.mu.Lock()
	maxAge, done := s.maxAge, s.aged[stream]
	s.mu.Unlock()
	if maxAge <= 0 || done || !strings.HasPrefix(stream, "checks-region-") {
		return nil
	}
	c, err := s.current()
	if err != nil {
		return err
	}
	var meta esdb.StreamMetadata
	meta.SetMaxAge(maxAge)
	_, err = c.SetStreamMetadata(ctx, stream, esdb.AppendToStreamOptions{ExpectedRevision: esdb.Any{}}, meta)
	s.check(c, err)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.aged[stream] = true
	s.mu.Unlock()
	return nil
}

// New connects to the EventStoreDB or KurrentDB given by a connection string
// such as esdb://127.0.0.1:2113?tls=false. The client connects lazily: an
// unreachable server shows up as errors from the first calls, not here.
func New(connString string, log *slog.Logger) (*EventStore, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	conf, err := esdb.ParseConnectionString(connString)
	if err != nil {
		// url.Error repeats the whole string, credentials included.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, fmt.Errorf("parse EventStoreDB connection string: %w", err)
	}
	conf.Logger = clientLogger(log)
	s := &EventStore{conf: *conf, log: log}
	if s.client, err = s.newClient(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *EventStore) newClient() (*esdb.Client, error) {
	conf := s.conf // esdb keeps the pointer; give each client its own copy
	c, err := esdb.NewClient(&conf)
	if err != nil {
		return nil, fmt.Errorf("create EventStoreDB client: %w", err)
	}
	return c, nil
}

// Close releases the connection. Call it after every operation and follower
// has returned: the esdb client may panic when an operation that is still
// running reports a connection error to a closed client.
func (s *EventStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.client.Close()
}

func (s *EventStore) current() (*esdb.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errors.New("event store is closed")
	}
	return s.client, nil
}

func (s *EventStore) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// check replaces c when err says it has shut itself down. The dead client is
// deliberately not closed: calls that raced its shutdown may still be blocked
// sending to it, and closing would make them panic.
func (s *EventStore) check(c *esdb.Client, err error) {
	if errorCode(err) != esdb.ErrorCodeConnectionClosed {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.client != c {
		return
	}
	fresh, ferr := s.newClient()
	if ferr != nil {
		s.log.Error("cannot replace the EventStoreDB client", "err", ferr)
		return
	}
	s.client = fresh
	s.log.Warn("EventStoreDB client gave up connecting; replaced it", "err", err)
}

// Append implements domain.EventStore.
func (s *EventStore) Append(ctx context.Context, stream string, expected domain.ExpectedVersion, events ...domain.EventData) (domain.AppendResult, error) {
	if stream == "" {
		return domain.AppendResult{}, domain.Errorf(domain.ErrInvalid, "stream id must not be empty")
	}
	if strings.HasPrefix(stream, "$") {
		return domain.AppendResult{}, domain.Errorf(domain.ErrInvalid, "stream id %q must not start with $: EventStoreDB reserves it for system streams", stream)
	}
	if len(events) == 0 {
		return domain.AppendResult{}, domain.Errorf(domain.ErrInvalid, "nothing to append")
	}
	rev, err := expectedRevision(expected)
	if err != nil {
		return domain.AppendResult{}, err
	}
	proposed := make([]esdb.EventData, len(events))
	for i, e := range events {
		if proposed[i], err = toEventData(e); err != nil {
			return domain.AppendResult{}, err
		}
	}
	c, err := s.current()
	if err != nil {
		return domain.AppendResult{}, fmt.Errorf("append to stream %s: %w", stream, err)
	}
	res, err := await(ctx, func() (*esdb.WriteResult, error) {
		return c.AppendToStream(ctx, stream, esdb.AppendToStreamOptions{ExpectedRevision: rev}, proposed...)
	}, nil)
	if err != nil {
		s.check(c, err)
		return domain.AppendResult{}, appendError(stream, err)
	}
	return domain.AppendResult{
		NextExpectedVersion: domain.ExpectedVersion(res.NextExpectedVersion),
		// The server reports the position of the last event written.
		Position: toPosition(esdb.Position{Commit: res.CommitPosition, Prepare: res.PreparePosition}),
	}, nil
}

// AppendBatch implements domain.EventStore. EventStoreDB has no
// multi-stream transaction: each stream's events are appended in one call,
// streams one after the other, so a failure can leave earlier streams
// written. Retrying is safe: the server recognises event ids it has seen
// (its idempotency check covers recent writes, which is what retries are).
func (s *EventStore) AppendBatch(ctx context.Context, events []domain.StreamEvent) (domain.Position, error) {
	var order []string
	byStream := map[string][]domain.EventData{}
	for _, se := range events {
		if se.Stream == "" {
			return domain.Position{}, domain.Errorf(domain.ErrInvalid, "stream id must not be empty")
		}
		if _, seen := byStream[se.Stream]; !seen {
			order = append(order, se.Stream)
		}
		byStream[se.Stream] = append(byStream[se.Stream], se.Event)
	}
	var last domain.Position
	for _, stream := range order {
		if err := s.ageStream(ctx, stream); err != nil {
			return domain.Position{}, err
		}
		res, err := s.Append(ctx, stream, domain.AnyVersion, byStream[stream]...)
		if err != nil {
			return domain.Position{}, err
		}
		if last.Less(res.Position) {
			last = res.Position
		}
	}
	return last, nil
}

// appendError turns a failed append into the domain's vocabulary.
func appendError(stream string, err error) error {
	var e *esdb.Error
	if errors.As(err, &e) && e.Code() == esdb.ErrorCodeWrongExpectedVersion {
		detail := "wrong expected version"
		if e.Err() != nil {
			detail = e.Err().Error()
		}
		return domain.Errorf(domain.ErrConflict, "stream %s: %s; reload and retry", stream, detail)
	}
	return fmt.Errorf("append to stream %s: %w", stream, err)
}

// ReadStream implements domain.EventStore.
func (s *EventStore) ReadStream(ctx context.Context, stream string) ([]domain.RecordedEvent, error) {
	if stream == "" {
		return []domain.RecordedEvent{}, nil
	}
	c, err := s.current()
	if err != nil {
		return nil, fmt.Errorf("read stream %s: %w", stream, err)
	}
	out, err := await(ctx, func() ([]domain.RecordedEvent, error) {
		return readStream(ctx, c, stream)
	}, nil)
	if err != nil {
		s.check(c, err)
		return nil, fmt.Errorf("read stream %s: %w", stream, err)
	}
	return out, nil
}

// ReadStreamTail implements domain.EventStore: the stream read backwards
// from its end, n events, turned back into stream order.
func (s *EventStore) ReadStreamTail(ctx context.Context, stream string, n int) ([]domain.RecordedEvent, error) {
	if n < 1 {
		return nil, domain.Errorf(domain.ErrInvalid, "read at least one event")
	}
	if stream == "" {
		return []domain.RecordedEvent{}, nil
	}
	c, err := s.current()
	if err != nil {
		return nil, fmt.Errorf("read the end of stream %s: %w", stream, err)
	}
	out, err := await(ctx, func() ([]domain.RecordedEvent, error) {
		return readStreamFrom(ctx, c, stream, esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.End{}}, uint64(n))
	}, nil)
	if err != nil {
		s.check(c, err)
		return nil, fmt.Errorf("read the end of stream %s: %w", stream, err)
	}
	slices.Reverse(out)
	return out, nil
}

func readStream(ctx context.Context, c *esdb.Client, stream string) ([]domain.RecordedEvent, error) {
	// The count is a cap, not a page size: the server streams the events.
	return readStreamFrom(ctx, c, stream, esdb.ReadStreamOptions{Direction: esdb.Forwards, From: esdb.Start{}}, math.MaxInt64)
}

func readStreamFrom(ctx context.Context, c *esdb.Client, stream string, opts esdb.ReadStreamOptions, count uint64) ([]domain.RecordedEvent, error) {
	rs, err := c.ReadStream(ctx, stream, opts, count)
	if err != nil {
		if errorCode(err) == esdb.ErrorCodeResourceNotFound {
			return []domain.RecordedEvent{}, nil
		}
		return nil, err
	}
	defer rs.Close()
	out := []domain.RecordedEvent{}
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			// An unknown (or soft-deleted) stream arrives as "not found" on
			// the first receive.
			if errorCode(err) == esdb.ErrorCodeResourceNotFound {
				return []domain.RecordedEvent{}, nil
			}
			return nil, err
		}
		rec := ev.OriginalEvent()
		if rec == nil {
			continue
		}
		r, err := toRecorded(rec)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
}

// ReadAll implements domain.EventStore. $all is the committed log in order,
// so nothing can later appear before an event already returned.
func (s *EventStore) ReadAll(ctx context.Context, from domain.Position, limit int) ([]domain.RecordedEvent, error) {
	if limit <= 0 {
		limit = defaultLimit
	}
	c, err := s.current()
	if err != nil {
		return nil, fmt.Errorf("read $all after %v: %w", from, err)
	}
	out, err := await(ctx, func() ([]domain.RecordedEvent, error) {
		return readAll(ctx, c, from, limit)
	}, nil)
	if err != nil {
		s.check(c, err)
		return nil, fmt.Errorf("read $all after %v: %w", from, err)
	}
	return out, nil
}

func readAll(ctx context.Context, c *esdb.Client, from domain.Position, limit int) ([]domain.RecordedEvent, error) {
	chunk := min(max(limit+1, minReadChunk), maxReadChunk)
	out := make([]domain.RecordedEvent, 0, min(limit, maxReadChunk))
	// cursor is the last raw event seen. Reading $all forwards from a
	// position includes the event at it, so each chunk starts by re-reading
	// the cursor's event, which after() drops.
	cursor := from
	for {
		n, err := scanAll(ctx, c, esdb.Forwards, allPosition(cursor), uint64(chunk), func(ev *esdb.RecordedEvent) (bool, error) {
			pos := toPosition(ev.Position)
			if !after(cursor, pos) {
				return true, nil
			}
			cursor = pos
			if isSystem(ev) {
				return true, nil
			}
			r, err := toRecorded(ev)
			if err != nil {
				return false, err
			}
			out = append(out, r)
			return len(out) < limit, nil
		})
		if err != nil {
			return nil, err
		}
		if len(out) >= limit || n < chunk {
			return out, nil
		}
	}
}

// Head implements domain.EventStore.
func (s *EventStore) Head(ctx context.Context) (domain.Position, error) {
	c, err := s.current()
	if err != nil {
		return domain.Position{}, fmt.Errorf("read the head of $all: %w", err)
	}
	pos, err := await(ctx, func() (domain.Position, error) { return head(ctx, c) }, nil)
	if err != nil {
		s.check(c, err)
		return domain.Position{}, fmt.Errorf("read the head of $all: %w", err)
	}
	return pos, nil
}

func head(ctx context.Context, c *esdb.Client) (domain.Position, error) {
	// The server writes its own events (projections, stats, users) all the
	// time, so the last event in $all is often not ours: read backwards
	// until a non-system event turns up.
	var cursor, found domain.Position
	var from esdb.AllPosition = esdb.End{}
	for {
		ok := false
		n, err := scanAll(ctx, c, esdb.Backwards, from, headChunk, func(ev *esdb.RecordedEvent) (bool, error) {
			pos := toPosition(ev.Position)
			if cursor != (domain.Position{}) && !pos.Less(cursor) {
				return true, nil // a backward read may include its start
			}
			cursor = pos
			if isSystem(ev) {
				return true, nil
			}
			found, ok = pos, true
			return false, nil
		})
		if err != nil || ok {
			return found, err
		}
		if n < headChunk || cursor == (domain.Position{}) {
			return domain.Position{}, nil
		}
		from = toESDBPosition(cursor)
	}
}

// scanAll reads up to count events of $all from `from` in direction dir and
// hands each to visit until it returns false. It reports how many events the
// server sent, so callers can tell the end of the log from a full chunk.
func scanAll(ctx context.Context, c *esdb.Client, dir esdb.Direction, from esdb.AllPosition, count uint64, visit func(*esdb.RecordedEvent) (bool, error)) (int, error) {
	rs, err := c.ReadAll(ctx, esdb.ReadAllOptions{Direction: dir, From: from}, count)
	if err != nil {
		return 0, err
	}
	defer rs.Close()
	n := 0
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n++
		rec := ev.OriginalEvent()
		if rec == nil {
			continue
		}
		more, err := visit(rec)
		if err != nil || !more {
			return n, err
		}
	}
}

// Follow implements domain.EventStore with a catch-up subscription to $all,
// which the server serves from the log and then live. The esdb client does
// not resubscribe after a drop (server restart, leader change, network), so
// Follow does, from the last position it delivered, with a growing backoff.
func (s *EventStore) Follow(ctx context.Context, from domain.Position, batchSize int, fn func([]domain.RecordedEvent) error) error {
	if batchSize <= 0 {
		batchSize = defaultLimit
	}
	f := &follower{fn: fn, batchSize: batchSize, last: from}
	backoff := minBackoff
	for {
		f.delivered = false
		err := s.followOnce(ctx, f)
		var herr handlerError
		switch {
		case errors.As(err, &herr):
			return herr.err
		case ctx.Err() != nil:
			return ctx.Err()
		case s.isClosed():
			return fmt.Errorf("follow the event log: %w", err)
		}
		if f.delivered {
			backoff = minBackoff
		}
		s.log.Warn("event log subscription dropped; resubscribing", "after", f.last, "in", backoff, "err", err)
		if !sleep(ctx, backoff) {
			return ctx.Err()
		}
		backoff = min(backoff*2, maxBackoff)
	}
}

// followOnce runs one subscription until it drops, ctx ends or fn fails.
func (s *EventStore) followOnce(ctx context.Context, f *follower) error {
	c, err := s.current()
	if err != nil {
		return err
	}
	// Subscribing from a position starts after it; from the start, at the
	// first event.
	sub, err := await(ctx, func() (*esdb.Subscription, error) {
		return c.SubscribeToAll(ctx, esdb.SubscribeToAllOptions{From: allPosition(f.last), Filter: esdb.ExcludeSystemEventsFilter()})
	}, func(sub *esdb.Subscription) { sub.Close() })
	if err != nil {
		s.check(c, err)
		return fmt.Errorf("subscribe to $all after %v: %w", f.last, err)
	}
	// Subscription.Recv blocks and knows no context; a pump goroutine turns
	// it into a channel so batches can be flushed on a timer and ctx obeyed.
	events := make(chan *esdb.SubscriptionEvent)
	stop := make(chan struct{})
	pumped := make(chan struct{})
	go func() {
		defer close(pumped)
		for {
			ev := sub.Recv()
			select {
			case events <- ev:
			case <-stop:
				return
			}
			if ev.SubscriptionDropped != nil {
				return
			}
		}
	}()
	defer func() {
		close(stop)
		sub.Close() // unblocks Recv
		<-pumped
	}()
	return f.consume(ctx, events)
}

// follower batches one Follow call's events.
type follower struct {
	fn        func([]domain.RecordedEvent) error
	batchSize int
	last      domain.Position // the last position handed to fn, or the start
	delivered bool            // whether fn was called since the last (re)subscription
}

// handlerError marks fn's error, which ends Follow, from subscription
// failures, which make it resubscribe.
type handlerError struct{ err error }

func (e handlerError) Error() string { return e.err.Error() }

// consume batches subscription events into calls of fn until the
// subscription drops, ctx ends or fn fails. Events at or before the last
// position seen are dropped: a resubscription may replay them.
func (f *follower) consume(ctx context.Context, events <-chan *esdb.SubscriptionEvent) error {
	var batch []domain.RecordedEvent
	var first time.Time // when the oldest event in batch arrived
	seen := f.last
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	flush := func() error {
		timer.Stop()
		if len(batch) == 0 {
			return nil
		}
		if err := f.fn(batch); err != nil {
			return handlerError{err}
		}
		f.last = batch[len(batch)-1].Position
		f.delivered = true
		batch = nil // fn may keep the slice
		return nil
	}
	for {
		var tick <-chan time.Time
		if len(batch) > 0 {
			tick = timer.C
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick:
			if err := flush(); err != nil {
				return err
			}
		case ev := <-events:
			switch {
			case ev.EventAppeared != nil:
				rec := ev.EventAppeared.OriginalEvent()
				if rec == nil || isSystem(rec) {
					continue
				}
				pos := toPosition(rec.Position)
				if !after(seen, pos) {
					continue
				}
				r, err := toRecorded(rec)
				if err != nil {
					return err
				}
				seen = pos
				if len(batch) == 0 {
					first = time.Now()
				}
				batch = append(batch, r)
				if len(batch) >= f.batchSize {
					if err := flush(); err != nil {
						return err
					}
					continue
				}
				timer.Reset(max(min(flushIdle, maxLinger-time.Since(first)), 0))
			case ev.CaughtUp != nil:
				if err := flush(); err != nil {
					return err
				}
			case ev.SubscriptionDropped != nil:
				// What arrived before the drop is good: deliver it so the
				// resubscription starts after it.
				if err := flush(); err != nil {
					return err
				}
				return fmt.Errorf("subscription dropped: %w", ev.SubscriptionDropped.Error)
			}
		}
	}
}

// await runs call and returns its result, or ctx.Err() if ctx ends first.
// The esdb client hands out connections without looking at the context, and
// can block there while it rediscovers the server (or, if it gave up in the
// meantime, forever); await keeps callers' deadlines meaningful regardless.
// release disposes of a result that arrives after the caller has gone.
func await[T any](ctx context.Context, call func() (T, error), release func(T)) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := call()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		if release != nil {
			go func() {
				if r := <-done; r.err == nil {
					release(r.v)
				}
			}()
		}
		var zero T
		return zero, ctx.Err()
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// metadataEnvelope is what the event's user metadata holds: the schema
// version of the data and the domain metadata, which EventStoreDB has no
// fields for.
type metadataEnvelope struct {
	V    int             `json:"v"`
	Meta domain.Metadata `json:"meta"`
}

func encodeMetadata(version int, m domain.Metadata) ([]byte, error) {
	b, err := json.Marshal(metadataEnvelope{V: version, Meta: m})
	if err != nil {
		return nil, fmt.Errorf("encode event metadata: %w", err)
	}
	return b, nil
}

// decodeMetadata reads what encodeMetadata wrote. Events written by other
// tools may carry no metadata: that reads as version 0 and empty metadata.
func decodeMetadata(b []byte) (int, domain.Metadata, error) {
	if len(b) == 0 {
		return 0, domain.Metadata{}, nil
	}
	var env metadataEnvelope
	if err := json.Unmarshal(b, &env); err != nil {
		return 0, domain.Metadata{}, fmt.Errorf("decode event metadata: %w", err)
	}
	return env.V, env.Meta, nil
}

// expectedRevision maps the domain's optimistic-concurrency guard to esdb's.
func expectedRevision(v domain.ExpectedVersion) (esdb.ExpectedRevision, error) {
	switch {
	case v == domain.NoStream:
		return esdb.NoStream{}, nil
	case v == domain.AnyVersion:
		return esdb.Any{}, nil
	case v >= 0:
		return esdb.StreamRevision{Value: uint64(v)}, nil
	}
	return nil, domain.Errorf(domain.ErrInvalid, "expected version %d is neither a version nor NoStream (-1) nor AnyVersion (-2)", v)
}

func toEventData(e domain.EventData) (esdb.EventData, error) {
	// The id becomes the EventStoreDB event id, which the server uses to
	// recognise a retried append.
	id, err := uuid.Parse(e.ID)
	if err != nil {
		return esdb.EventData{}, domain.Errorf(domain.ErrInvalid, "event id %q is not a UUID", e.ID)
	}
	meta, err := encodeMetadata(e.Version, e.Metadata)
	if err != nil {
		return esdb.EventData{}, err
	}
	return esdb.EventData{EventID: id, EventType: e.Type, ContentType: esdb.ContentTypeJson, Data: e.Data, Metadata: meta}, nil
}

func toRecorded(ev *esdb.RecordedEvent) (domain.RecordedEvent, error) {
	version, meta, err := decodeMetadata(ev.UserMetadata)
	if err != nil {
		return domain.RecordedEvent{}, fmt.Errorf("event %d of stream %s: %w", ev.EventNumber, ev.StreamID, err)
	}
	pos := toPosition(ev.Position)
	return domain.RecordedEvent{
		EventData: domain.EventData{ID: ev.EventID.String(), Type: ev.EventType, Version: version,
			Data: json.RawMessage(ev.Data), Metadata: meta},
		StreamID:      ev.StreamID,
		StreamVersion: int64(ev.EventNumber),
		Position:      pos,
		Sequence:      pos.Prepare,
		RecordedAt:    ev.CreatedDate.UTC(),
	}, nil
}

// toPosition converts an esdb position. Servers before release 22 send no $all
// position on stream reads and the client fills in the maximum uint64; that
// becomes the zero Position, since as a checkpoint "the start" is safe
// (events are seen again) and "the end" is not (events are skipped).
func toPosition(p esdb.Position) domain.Position {
	if p.Commit == math.MaxUint64 || p.Prepare == math.MaxUint64 {
		return domain.Position{}
	}
	return domain.Position{Commit: p.Commit, Prepare: p.Prepare}
}

func toESDBPosition(p domain.Position) esdb.Position {
	return esdb.Position{Commit: p.Commit, Prepare: p.Prepare}
}

// allPosition is where a forward read or subscription of $all starts for a
// domain position: the zero Position means the start of the log.
func allPosition(p domain.Position) esdb.AllPosition {
	if p == (domain.Position{}) {
		return esdb.Start{}
	}
	return toESDBPosition(p)
}

// after reports whether an event at p comes after cursor; every event comes
// after the zero Position.
func after(cursor, p domain.Position) bool {
	return cursor == (domain.Position{}) || cursor.Less(p)
}

// isSystem reports whether ev is the server's own: stream metadata, links,
// projection and statistics events.
func isSystem(ev *esdb.RecordedEvent) bool {
	return strings.HasPrefix(ev.EventType, "$") || strings.HasPrefix(ev.StreamID, "$")
}

// errorCode returns the esdb error code in err's chain. esdb.FromError only
// looks at err itself, but the client wraps some errors with %w.
func errorCode(err error) esdb.ErrorCode {
	var e *esdb.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return esdb.ErrorCodeUnknown
}

// clientLogger routes the esdb client's log lines to slog. The client logs
// every failed call as an error, including subscriptions this adapter closes
// itself; cancellations are demoted to debug so they do not look like
// incidents.
func clientLogger(log *slog.Logger) esdb.LoggingFunc {
	return func(level esdb.LogLevel, format string, args ...any) {
		// Some client paths pass their arguments as a single slice.
		if len(args) == 1 {
			if inner, ok := args[0].([]any); ok {
				args = inner
			}
		}
		lvl := slog.LevelInfo
		switch level {
		case esdb.LogDebug, esdb.LogInfo:
			// Info is per connection attempt: too chatty for our info level.
			lvl = slog.LevelDebug
		case esdb.LogWarn:
			lvl = slog.LevelWarn
		case esdb.LogError:
			lvl = slog.LevelError
		}
		for _, a := range args {
			if err, ok := a.(error); ok && (errors.Is(err, context.Canceled) || status.Code(err) == codes.Canceled) {
				lvl = slog.LevelDebug
			}
		}
		ctx := context.Background()
		if !log.Enabled(ctx, lvl) {
			return
		}
		log.Log(ctx, lvl, fmt.Sprintf(format, args...), "component", "esdb-client")
	}
}
