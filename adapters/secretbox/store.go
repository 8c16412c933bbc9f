package secretbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/medialuna/medialuna/domain"
)

// Store is an event store that seals the secrets of the events appended
// through it and opens them in the events read through it. What it writes
// is what the log holds: envelopes, never plaintext.
type Store struct {
	inner domain.EventStore
	box   *Box
	log   *slog.Logger
}

var _ domain.EventStore = (*Store)(nil)

// NewStore wraps inner; log hears of data keys a delete could not destroy.
func NewStore(inner domain.EventStore, box *Box, log *slog.Logger) *Store {
	return &Store{inner: inner, box: box, log: log}
}

// errUndecodable marks an event whose payload this build cannot decode.
var errUndecodable = errors.New("undecodable event")

// SealEvent seals the secret fields of one event bound for stream. With
// skipSealed, values that are envelopes already are left alone (sealing
// an old log a second time changes nothing). changed reports whether the
// payload changed.
func (b *Box) SealEvent(ctx context.Context, stream string, d domain.EventData, skipSealed bool) (domain.EventData, bool, error) {
	return b.mapEvent(d, func(v string) (string, bool, error) {
		if skipSealed && domain.IsEnvelope(v) {
			return v, false, nil
		}
		s, err := b.Seal(ctx, stream, v)
		return s, err == nil, err
	})
}

// OpenEvent opens the secret fields of one event of stream; envelopes
// whose key is gone stay as they are.
func (b *Box) OpenEvent(ctx context.Context, stream string, d domain.EventData) (domain.EventData, error) {
	d, _, err := b.mapEvent(d, func(v string) (string, bool, error) {
		p, ok, err := b.Open(ctx, stream, v)
		return p, ok && p != v, err
	})
	if errors.Is(err, errUndecodable) {
		// Handed on as stored: the reader that decodes it parks it (or, for
		// a payload newer than this build, waits for the build that knows
		// it). Failing here would stop every reader of the log.
		return d, nil
	}
	return d, err
}

func (b *Box) mapEvent(d domain.EventData, f func(string) (string, bool, error)) (domain.EventData, bool, error) {
	if !domain.BearsSecrets(d.Type) {
		return d, false, nil
	}
	ev, err := domain.Decode(d.Type, d.Version, d.Data)
	if err != nil {
		return d, false, fmt.Errorf("%w: %w", errUndecodable, err)
	}
	bearer, ok := ev.(domain.SecretBearer)
	if !ok {
		return d, false, nil
	}
	changed := false
	if err := bearer.MapSecrets(func(v string) (string, error) {
		out, ch, err := f(v)
		changed = changed || ch
		return out, err
	}); err != nil {
		return d, false, err
	}
	if !changed {
		return d, false, nil
	}
	data, err := json.Marshal(ev)
	if err != nil {
		return d, false, fmt.Errorf("encode %s: %w", d.Type, err)
	}
	d.Data, d.Version = data, ev.EventVersion()
	return d, true, nil
}

// Append implements domain.EventStore: secrets are sealed before the
// append, and a delete event destroys the stream's data key after it.
func (s *Store) Append(ctx context.Context, stream string, expected domain.ExpectedVersion, events ...domain.EventData) (domain.AppendResult, error) {
	sealed := make([]domain.EventData, len(events))
	shred := false
	for i, e := range events {
		d, _, err := s.box.SealEvent(ctx, stream, e, false)
		if err != nil {
			return domain.AppendResult{}, err
		}
		sealed[i] = d
		shred = shred || domain.ShredsSecrets(e.Type)
	}
	res, err := s.inner.Append(ctx, stream, expected, sealed...)
	if err == nil && shred {
		s.forget(ctx, stream)
	}
	return res, err
}

// forget destroys the data key of a stream whose delete is recorded. The
// delete stands whether or not this works, so a failure is logged, not
// returned; `medialuna secrets seal-log` destroys any key left behind.
func (s *Store) forget(ctx context.Context, stream string) {
	if err := s.box.Forget(context.WithoutCancel(ctx), stream); err != nil && s.log != nil {
		s.log.Error("the delete is recorded but its data key is not destroyed yet; run medialuna secrets seal-log", "stream", stream, "err", err)
	}
}

// AppendBatch implements domain.EventStore.
func (s *Store) AppendBatch(ctx context.Context, events []domain.StreamEvent) (domain.Position, error) {
	sealed := make([]domain.StreamEvent, len(events))
	var shred []string
	for i, e := range events {
		d, _, err := s.box.SealEvent(ctx, e.Stream, e.Event, false)
		if err != nil {
			return domain.Position{}, err
		}
		sealed[i] = domain.StreamEvent{Stream: e.Stream, Event: d}
		if domain.ShredsSecrets(e.Event.Type) {
			shred = append(shred, e.Stream)
		}
	}
	pos, err := s.inner.AppendBatch(ctx, sealed)
	if err == nil {
		for _, stream := range shred {
			s.forget(ctx, stream)
		}
	}
	return pos, err
}

// open returns recs with their secrets opened, copying the slice before
// changing it: a batch may be shared with other readers.
func (s *Store) open(ctx context.Context, recs []domain.RecordedEvent) ([]domain.RecordedEvent, error) {
	out := recs
	for i := range recs {
		if !domain.BearsSecrets(recs[i].Type) {
			continue
		}
		d, err := s.box.OpenEvent(ctx, recs[i].StreamID, recs[i].EventData)
		if err != nil {
			return nil, err
		}
		if &out[0] == &recs[0] {
			out = slices.Clone(recs)
		}
		out[i].EventData = d
	}
	return out, nil
}

// ReadStream implements domain.EventStore.
func (s *Store) ReadStream(ctx context.Context, stream string) ([]domain.RecordedEvent, error) {
	recs, err := s.inner.ReadStream(ctx, stream)
	if err != nil {
		return nil, err
	}
	return s.open(ctx, recs)
}

// ReadStreamTail implements domain.EventStore.
func (s *Store) ReadStreamTail(ctx context.Context, stream string, n int) ([]domain.RecordedEvent, error) {
	recs, err := s.inner.ReadStreamTail(ctx, stream, n)
	if err != nil {
		return nil, err
	}
	return s.open(ctx, recs)
}

// ReadAll implements domain.EventStore.
func (s *Store) ReadAll(ctx context.Context, from domain.Position, limit int) ([]domain.RecordedEvent, error) {
	recs, err := s.inner.ReadAll(ctx, from, limit)
	if err != nil {
		return nil, err
	}
	return s.open(ctx, recs)
}

// Follow implements domain.EventStore.
func (s *Store) Follow(ctx context.Context, from domain.Position, batchSize int, fn func([]domain.RecordedEvent) error) error {
	return s.inner.Follow(ctx, from, batchSize, func(batch []domain.RecordedEvent) error {
		opened, err := s.open(ctx, batch)
		if err != nil {
			return err
		}
		return fn(opened)
	})
}

// Head implements domain.EventStore.
func (s *Store) Head(ctx context.Context) (domain.Position, error) { return s.inner.Head(ctx) }
