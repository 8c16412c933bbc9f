package eventstoredb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/test/eventstoretest"
)

func TestEventStoreContract(t *testing.T) {
	url := os.Getenv("EVENTSTORE_URL")
	if url == "" {
		t.Skip("EVENTSTORE_URL not set: the EventStoreDB adapter's contract suite needs a running EventStoreDB/KurrentDB (e.g. esdb://127.0.0.1:2113?tls=false)")
	}
	store, err := New(url, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	eventstoretest.Run(t, func(t *testing.T) domain.EventStore { return store })
}

// testLogger logs warnings and worse to t. The esdb client logs from its own
// goroutines, possibly after the test has ended, when t.Log would panic.
func testLogger(t *testing.T) *slog.Logger {
	w := &tWriter{t: t}
	t.Cleanup(func() {
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type tWriter struct {
	t    *testing.T
	mu   sync.Mutex
	done bool
}

func (w *tWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimSuffix(string(p), "\n"))
	}
	return len(p), nil
}

func TestExpectedRevision(t *testing.T) {
	tests := []struct {
		in      domain.ExpectedVersion
		want    esdb.ExpectedRevision
		invalid bool
	}{
		{in: domain.NoStream, want: esdb.NoStream{}},
		{in: domain.AnyVersion, want: esdb.Any{}},
		{in: 0, want: esdb.StreamRevision{Value: 0}},
		{in: 41, want: esdb.StreamRevision{Value: 41}},
		{in: math.MaxInt64, want: esdb.StreamRevision{Value: math.MaxInt64}},
		{in: -3, invalid: true},
		{in: math.MinInt64, invalid: true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.in), func(t *testing.T) {
			got, err := expectedRevision(tt.in)
			if tt.invalid {
				if domain.ErrorCode(err) != domain.ErrInvalid {
					t.Fatalf("err = %v, want invalid", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestMetadataRoundTrip(t *testing.T) {
	tests := []struct {
		name    string
		version int
		meta    domain.Metadata
	}{
		{"full", 3, domain.Metadata{ActorType: domain.ActorUser, ActorID: 7, AccountID: 42, CorrelationID: "corr-1",
			OccurredAt: time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)}},
		{"system actor, no ids", 1, domain.Metadata{ActorType: domain.ActorSystem, OccurredAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}},
		{"zero", 0, domain.Metadata{}},
		{"other time zone", 2, domain.Metadata{ActorType: domain.ActorProbe,
			OccurredAt: time.Date(2026, 6, 1, 12, 0, 0, 0, time.FixedZone("CEST", 2*3600))}},
		{"unicode", 1, domain.Metadata{ActorType: domain.ActorAPIKey, CorrelationID: "héllo \"quoted\" \u2028"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := encodeMetadata(tt.version, tt.meta)
			if err != nil {
				t.Fatal(err)
			}
			v, meta, err := decodeMetadata(b)
			if err != nil {
				t.Fatal(err)
			}
			if v != tt.version {
				t.Errorf("version = %d, want %d", v, tt.version)
			}
			if diff := cmp.Diff(tt.meta, meta); diff != "" {
				t.Errorf("metadata (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMetadataEncoding(t *testing.T) {
	b, err := encodeMetadata(1, domain.Metadata{ActorType: domain.ActorUser, ActorID: 7,
		OccurredAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"v":    1.0,
		"meta": map[string]any{"actor_type": "user", "actor_id": 7.0, "occurred_at": "2026-01-02T03:04:05Z"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("encoded metadata (-want +got):\n%s", diff)
	}
}

func TestDecodeMetadata(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		version int
		meta    domain.Metadata
		wantErr bool
	}{
		{name: "none, as from other tools", in: ""},
		{name: "foreign JSON", in: `{"$correlationId":"x"}`},
		{name: "version only", in: `{"v":4}`, version: 4},
		{name: "not JSON", in: `not json`, wantErr: true},
		{name: "wrong shape", in: `{"v":"one"}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, meta, err := decodeMetadata([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if v != tt.version {
				t.Errorf("version = %d, want %d", v, tt.version)
			}
			if diff := cmp.Diff(tt.meta, meta); diff != "" {
				t.Errorf("metadata (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPositionConversion(t *testing.T) {
	tests := []struct {
		name string
		in   esdb.Position
		want domain.Position
	}{
		{"typical", esdb.Position{Commit: 1788, Prepare: 1788}, domain.Position{Commit: 1788, Prepare: 1788}},
		{"commit after prepare", esdb.Position{Commit: 2000, Prepare: 1900}, domain.Position{Commit: 2000, Prepare: 1900}},
		{"start", esdb.Position{}, domain.Position{}},
		{"unknown, from a stream read on an old server", esdb.Position{Commit: math.MaxUint64, Prepare: math.MaxUint64}, domain.Position{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, toPosition(tt.in)); diff != "" {
				t.Errorf("toPosition (-want +got):\n%s", diff)
			}
		})
	}

	starts := []struct {
		name string
		in   domain.Position
		want esdb.AllPosition
	}{
		{"zero is the start", domain.Position{}, esdb.Start{}},
		{"a position", domain.Position{Commit: 5, Prepare: 3}, esdb.Position{Commit: 5, Prepare: 3}},
	}
	for _, tt := range starts {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, allPosition(tt.in)); diff != "" {
				t.Errorf("allPosition (-want +got):\n%s", diff)
			}
		})
	}

	p := domain.Position{Commit: 11607557, Prepare: 11607400}
	if got := toPosition(toESDBPosition(p)); got != p {
		t.Errorf("round trip: %v became %v", p, got)
	}
}

func TestAfter(t *testing.T) {
	tests := []struct {
		cursor, p domain.Position
		want      bool
	}{
		{domain.Position{}, domain.Position{Commit: 1, Prepare: 1}, true},
		{domain.Position{Commit: 5, Prepare: 5}, domain.Position{Commit: 5, Prepare: 5}, false},
		{domain.Position{Commit: 5, Prepare: 5}, domain.Position{Commit: 4, Prepare: 4}, false},
		{domain.Position{Commit: 5, Prepare: 5}, domain.Position{Commit: 5, Prepare: 6}, true},
		{domain.Position{Commit: 5, Prepare: 5}, domain.Position{Commit: 6, Prepare: 1}, true},
	}
	for _, tt := range tests {
		if got := after(tt.cursor, tt.p); got != tt.want {
			t.Errorf("after(%v, %v) = %v, want %v", tt.cursor, tt.p, got, tt.want)
		}
	}
}

func TestIsSystem(t *testing.T) {
	tests := []struct {
		stream, typ string
		want        bool
	}{
		{"account-1", "AccountOpened", false},
		{"$$account-1", "$metadata", true},
		{"$projections-$master", "$projection-worker-started", true},
		{"$stats-127.0.0.1:2113", "$statsCollected", true},
		{"$ce-account", "$>", true},
		{"$users", "UserCreated", true},
		{"account-1", "$>", true},
	}
	for _, tt := range tests {
		if got := isSystem(&esdb.RecordedEvent{StreamID: tt.stream, EventType: tt.typ}); got != tt.want {
			t.Errorf("isSystem(%s, %s) = %v, want %v", tt.stream, tt.typ, got, tt.want)
		}
	}
}

func TestEventDataRoundTrip(t *testing.T) {
	in := domain.EventData{
		ID: uuid.NewString(), Type: "MonitorCreated", Version: 2, Data: json.RawMessage(`{"url":"https://example.com"}`),
		Metadata: domain.Metadata{ActorType: domain.ActorUser, ActorID: 7, AccountID: 42, CorrelationID: "c",
			OccurredAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
	}
	proposed, err := toEventData(in)
	if err != nil {
		t.Fatal(err)
	}
	if proposed.ContentType != esdb.ContentTypeJson || proposed.EventID.String() != in.ID || proposed.EventType != in.Type {
		t.Errorf("proposed event = %+v", proposed)
	}
	created := time.Date(2026, 1, 2, 3, 4, 6, 700, time.FixedZone("X", 3600))
	got, err := toRecorded(&esdb.RecordedEvent{
		EventID: proposed.EventID, EventType: proposed.EventType, ContentType: "application/json",
		StreamID: "monitor-9", EventNumber: 3, Position: esdb.Position{Commit: 900, Prepare: 800},
		CreatedDate: created, Data: proposed.Data, UserMetadata: proposed.Metadata,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := domain.RecordedEvent{
		EventData: in, StreamID: "monitor-9", StreamVersion: 3,
		Position: domain.Position{Commit: 900, Prepare: 800}, Sequence: 800, RecordedAt: created.UTC(),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("recorded event (-want +got):\n%s", diff)
	}
	if got.RecordedAt.Location() != time.UTC {
		t.Errorf("recorded at %v is not UTC", got.RecordedAt)
	}
}

func TestToRecordedBadMetadata(t *testing.T) {
	_, err := toRecorded(&esdb.RecordedEvent{StreamID: "s", UserMetadata: []byte("{")})
	if err == nil {
		t.Fatal("no error for malformed metadata")
	}
}

// Bad input is refused before the server is asked, so no server is needed:
// the client connects lazily.
func TestAppendRejectsBadInput(t *testing.T) {
	s, err := New("esdb://127.0.0.1:2113?tls=false", testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ok := domain.EventData{ID: uuid.NewString(), Type: "T", Version: 1, Data: json.RawMessage(`{}`)}
	bad := ok
	bad.ID = "not-a-uuid"
	tests := []struct {
		name     string
		stream   string
		expected domain.ExpectedVersion
		events   []domain.EventData
	}{
		{"empty stream id", "", domain.NoStream, []domain.EventData{ok}},
		{"system stream", "$users", domain.NoStream, []domain.EventData{ok}},
		{"no events", "s-1", domain.NoStream, nil},
		{"event id not a UUID", "s-1", domain.NoStream, []domain.EventData{ok, bad}},
		{"nonsense expected version", "s-1", -7, []domain.EventData{ok}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Append(context.Background(), tt.stream, tt.expected, tt.events...)
			if domain.ErrorCode(err) != domain.ErrInvalid {
				t.Errorf("err = %v, want invalid", err)
			}
		})
	}
}

func TestNewRejectsBadConnectionString(t *testing.T) {
	for _, s := range []string{"http://127.0.0.1:2113", "esdb://admin:s3cret@[::1", ""} {
		_, err := New(s, nil)
		if err == nil {
			t.Errorf("New(%q): no error", s)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("New(%q): error leaks the password: %v", s, err)
		}
	}
}

func TestClosedStore(t *testing.T) {
	s, err := New("esdb://127.0.0.1:2113?tls=false", testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ev := domain.EventData{ID: uuid.NewString(), Type: "T", Data: json.RawMessage(`{}`)}
	if _, err := s.Append(ctx, "s-1", domain.NoStream, ev); err == nil || domain.ErrorCode(err) == domain.ErrConflict {
		t.Errorf("Append on a closed store: err = %v", err)
	}
	if _, err := s.ReadStream(ctx, "s-1"); err == nil {
		t.Error("ReadStream on a closed store: no error")
	}
	if _, err := s.ReadAll(ctx, domain.Position{}, 10); err == nil {
		t.Error("ReadAll on a closed store: no error")
	}
	if _, err := s.Head(ctx); err == nil {
		t.Error("Head on a closed store: no error")
	}
	err = s.Follow(ctx, domain.Position{}, 10, func([]domain.RecordedEvent) error { return nil })
	if err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Follow on a closed store: err = %v, want a prompt error", err)
	}
}

func TestErrorCode(t *testing.T) {
	conf, err := esdb.ParseConnectionString("esdb://127.0.0.1:2113?tls=false")
	if err != nil {
		t.Fatal(err)
	}
	conf.Logger = esdb.NoopLogging()
	c, err := esdb.NewClient(conf)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	_, closedErr := c.AppendToStream(context.Background(), "s", esdb.AppendToStreamOptions{})
	tests := []struct {
		name string
		err  error
		want esdb.ErrorCode
	}{
		{"esdb error", closedErr, esdb.ErrorCodeConnectionClosed},
		{"wrapped esdb error", fmt.Errorf("append: %w", closedErr), esdb.ErrorCodeConnectionClosed},
		{"foreign error", errors.New("boom"), esdb.ErrorCodeUnknown},
		{"nil", nil, esdb.ErrorCodeUnknown},
	}
	for _, tt := range tests {
		if got := errorCode(tt.err); got != tt.want {
			t.Errorf("%s: errorCode(%v) = %d, want %d", tt.name, tt.err, got, tt.want)
		}
	}
	if err := appendError("s", closedErr); domain.ErrorCode(err) != domain.ErrInternal {
		t.Errorf("appendError for a closed connection = %v, want an internal error", err)
	}
}

// The esdb client shuts down for good when discovery fails; the store must
// swap in a new client rather than stay dead.
func TestReplacesClientThatGaveUp(t *testing.T) {
	// Port 1 on loopback refuses connections, so discovery fails fast.
	s, err := New("esdb://127.0.0.1:1?tls=false&maxDiscoverAttempts=1&discoveryInterval=1&gossipTimeout=1", testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	first, _ := s.current()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// The first call fails discovery, which closes the client; the second
	// sees it closed.
	for i := 0; i < 2; i++ {
		if _, err := s.ReadStream(ctx, "s-1"); err == nil {
			t.Fatal("read from an unreachable server succeeded")
		}
	}
	if ctx.Err() != nil {
		t.Fatal("discovery did not fail in time")
	}
	if now, _ := s.current(); now == first {
		t.Error("the dead client was not replaced")
	}
}

func TestAwaitHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	unblock := make(chan struct{})
	released := make(chan int, 1)
	go func() { time.Sleep(10 * time.Millisecond); cancel() }()
	_, err := await(ctx, func() (int, error) { <-unblock; return 7, nil }, func(v int) { released <- v })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want canceled", err)
	}
	close(unblock)
	select {
	case v := <-released:
		if v != 7 {
			t.Errorf("released %d, want 7", v)
		}
	case <-time.After(5 * time.Second):
		t.Error("late result never released")
	}
}

func appeared(stream, typ string, pos uint64, n uint64) *esdb.SubscriptionEvent {
	meta, _ := encodeMetadata(1, domain.Metadata{ActorType: domain.ActorSystem})
	return &esdb.SubscriptionEvent{EventAppeared: &esdb.ResolvedEvent{Event: &esdb.RecordedEvent{
		EventID: uuid.New(), EventType: typ, StreamID: stream, EventNumber: n,
		Position: esdb.Position{Commit: pos, Prepare: pos}, Data: []byte(`{}`), UserMetadata: meta,
	}}}
}

// batches records what consume hands to fn, as prepare positions per call.
type batches struct{ got chan []uint64 }

func (b batches) fn(batch []domain.RecordedEvent) error {
	var ps []uint64
	for _, e := range batch {
		ps = append(ps, e.Position.Prepare)
	}
	b.got <- ps
	return nil
}

func (b batches) next(t *testing.T) []uint64 {
	t.Helper()
	select {
	case ps := <-b.got:
		return ps
	case <-time.After(5 * time.Second):
		t.Fatal("no batch delivered")
		return nil
	}
}

func TestFollowerBatches(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b := batches{got: make(chan []uint64, 10)}
	f := &follower{fn: b.fn, batchSize: 3, last: domain.Position{Commit: 10, Prepare: 10}}
	events := make(chan *esdb.SubscriptionEvent)
	done := make(chan error, 1)
	go func() { done <- f.consume(ctx, events) }()

	// A full batch goes out at once, skipping system events and anything at
	// or before the start; the rest waits for a lull.
	for _, ev := range []*esdb.SubscriptionEvent{
		appeared("s-1", "T", 10, 0), // the start position itself: replayed
		appeared("s-1", "T", 20, 1),
		appeared("$stats", "$statsCollected", 25, 0),
		appeared("s-1", "T", 30, 2),
		{CheckPointReached: &esdb.Position{Commit: 31, Prepare: 31}},
		appeared("s-2", "T", 40, 0),
		appeared("s-2", "T", 50, 1),
		appeared("s-2", "T", 40, 0), // duplicate after a resubscription
	} {
		events <- ev
	}
	if diff := cmp.Diff([]uint64{20, 30, 40}, b.next(t)); diff != "" {
		t.Errorf("full batch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]uint64{50}, b.next(t)); diff != "" {
		t.Errorf("partial batch after a lull (-want +got):\n%s", diff)
	}

	// A drop delivers what arrived before it and reports the drop.
	events <- appeared("s-3", "T", 60, 0)
	events <- &esdb.SubscriptionEvent{SubscriptionDropped: &esdb.SubscriptionDropped{Error: errors.New("server went away")}}
	if diff := cmp.Diff([]uint64{60}, b.next(t)); diff != "" {
		t.Errorf("batch before the drop (-want +got):\n%s", diff)
	}
	err := <-done
	if err == nil || !strings.Contains(err.Error(), "server went away") {
		t.Errorf("consume after a drop: err = %v", err)
	}
	if want := (domain.Position{Commit: 60, Prepare: 60}); f.last != want || !f.delivered {
		t.Errorf("follower last = %v delivered = %v, want %v true", f.last, f.delivered, want)
	}
}

func TestFollowerFlushesOnCaughtUp(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b := batches{got: make(chan []uint64, 10)}
	f := &follower{fn: b.fn, batchSize: 100}
	events := make(chan *esdb.SubscriptionEvent, 10)
	events <- appeared("s-1", "T", 5, 0)
	events <- &esdb.SubscriptionEvent{CaughtUp: &esdb.Subscription{}}
	go f.consume(ctx, events)
	if diff := cmp.Diff([]uint64{5}, b.next(t)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestFollowerStops(t *testing.T) {
	t.Run("handler error", func(t *testing.T) {
		boom := errors.New("projection failed")
		f := &follower{fn: func([]domain.RecordedEvent) error { return boom }, batchSize: 1}
		events := make(chan *esdb.SubscriptionEvent, 1)
		events <- appeared("s-1", "T", 5, 0)
		err := f.consume(context.Background(), events)
		var herr handlerError
		if !errors.As(err, &herr) || herr.err != boom {
			t.Errorf("err = %v, want the handler's error", err)
		}
		if f.last != (domain.Position{}) {
			t.Errorf("last moved to %v past an event the handler refused", f.last)
		}
	})
	t.Run("context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		f := &follower{fn: func([]domain.RecordedEvent) error { return nil }, batchSize: 1}
		if err := f.consume(ctx, make(chan *esdb.SubscriptionEvent)); !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want canceled", err)
		}
	})
	t.Run("bad metadata", func(t *testing.T) {
		f := &follower{fn: func([]domain.RecordedEvent) error { return nil }, batchSize: 1}
		events := make(chan *esdb.SubscriptionEvent, 1)
		ev := appeared("s-1", "T", 5, 0)
		ev.EventAppeared.Event.UserMetadata = []byte("{")
		events <- ev
		err := f.consume(context.Background(), events)
		var herr handlerError
		if err == nil || errors.As(err, &herr) {
			t.Errorf("err = %v, want a subscription error (resubscribe), not a handler error", err)
		}
	})
}
