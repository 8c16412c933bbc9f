// Package eventstoretest is the contract every domain.EventStore adapter
// must pass. Adapters call Run from their own tests with a factory.
package eventstoretest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/medialuna/medialuna/domain"
)

// Factory returns the store under test. Stores may be shared between tests:
// the suite only looks at streams it names itself.
type Factory func(t *testing.T) domain.EventStore

// Run runs the whole contract.
func Run(t *testing.T, newStore Factory) {
	t.Run("AppendAndReadStream", func(t *testing.T) { testAppendAndRead(t, newStore(t)) })
	t.Run("ExpectedVersionConflict", func(t *testing.T) { testConflict(t, newStore(t)) })
	t.Run("AnyVersion", func(t *testing.T) { testAnyVersion(t, newStore(t)) })
	t.Run("ConcurrentAppendOneWinner", func(t *testing.T) { testOneWinner(t, newStore(t)) })
	t.Run("ReadAllPages", func(t *testing.T) { testReadAllPages(t, newStore(t)) })
	t.Run("FollowCatchesUpThenLive", func(t *testing.T) { testFollow(t, newStore(t)) })
	t.Run("FollowerSeesEveryEventOnceUnderConcurrentAppends", func(t *testing.T) { testNoGaps(t, newStore(t), 1) })
	t.Run("FollowersSeeEveryEventOnceJoiningLate", func(t *testing.T) { testNoGaps(t, newStore(t), 6) })
	t.Run("BadInput", func(t *testing.T) { testBadInput(t, newStore(t)) })
	t.Run("AppendBatchIsIdempotent", func(t *testing.T) { testAppendBatch(t, newStore(t)) })
	t.Run("CheckEventsReadBackExactlyInLogOrder", func(t *testing.T) { testCheckEvents(t, newStore(t)) })
	t.Run("CheckRetentionKeepsEveryOtherEventAndTheOrder", func(t *testing.T) { testCheckRetention(t, newStore(t)) })
	t.Run("ReadStreamTail", func(t *testing.T) { testReadStreamTail(t, newStore(t)) })
}

// CheckRetention is implemented by stores that let check results go after
// a retention window (docs/architecture.md, "Check retention").
type CheckRetention interface {
	// DropChecksBefore removes the CheckRecorded events scheduled before
	// cut from the log. Every other event stays, in its order.
	DropChecksBefore(ctx context.Context, cut time.Time) error
}

// checkEvent is a check result as the check pipeline writes it (id derived,
// metadata of the probe), or, with odd set, with its own id and metadata.
func checkEvent(t *testing.T, monitor, region int64, at time.Time, up, odd bool) domain.StreamEvent {
	t.Helper()
	c := &domain.CheckRecorded{MonitorID: monitor, RegionID: region, ScheduledAt: at, CheckedAt: at.Add(1234 * time.Microsecond),
		CheckOutcome: domain.CheckOutcome{Up: up, ResponseTimeMs: 12.5, StatusCode: 200, Detail: "é <ok> & more"}}
	if !up {
		c.StatusCode, c.Error = 0, "connection refused"
		exp := at.Add(48 * time.Hour)
		c.CertExpiresAt = &exp
	}
	meta := domain.Metadata{ActorType: domain.ActorProbe, ActorID: region, AccountID: 42, OccurredAt: c.CheckedAt}
	id := domain.CheckEventID(monitor, region, at)
	if odd {
		meta.CorrelationID, id = "odd", uuid.NewString()
	}
	d, err := domain.Encode(c, meta, id)
	if err != nil {
		t.Fatal(err)
	}
	return domain.StreamEvent{Stream: domain.ChecksStream(region), Event: d}
}

func randomRegion() int64 {
	var b [4]byte
	rand.Read(b[:])
	return int64(b[0])<<16 | int64(b[1])<<8 | int64(b[2]) + 1_000_000
}

// ownLog returns the events after from whose stream is one of streams, in
// log order, reading again until want of them are visible (see ownEvents:
// PostgreSQL holds fresh commits back while an older transaction anywhere
// in the cluster is open).
func ownLog(t *testing.T, s domain.EventStore, from domain.Position, want int, streams ...string) []domain.RecordedEvent {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var out []domain.RecordedEvent
		at := from
		for {
			page, err := s.ReadAll(context.Background(), at, 1000)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range page {
				for _, st := range streams {
					if e.StreamID == st {
						out = append(out, e)
					}
				}
			}
			if len(page) < 1000 {
				break
			}
			at = page[len(page)-1].Position
		}
		if len(out) >= want || time.Now().After(deadline) {
			return out
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type stored struct {
	ID, Stream, Type, Data string
	Version                int
	Meta                   domain.Metadata
}

func storedOf(t *testing.T, es []domain.RecordedEvent) []stored {
	out := make([]stored, len(es))
	for i, e := range es {
		out[i] = stored{ID: e.ID, Stream: e.StreamID, Type: e.Type, Data: string(e.Data), Version: e.Version, Meta: e.Metadata}
		out[i].Meta.OccurredAt = out[i].Meta.OccurredAt.UTC()
	}
	return out
}

// Check results interleaved with other events read back exactly as they
// were appended (id, payload bytes, metadata), in log order, once, however
// a store keeps them.
func testCheckEvents(t *testing.T, s domain.EventStore) {
	ctx := context.Background()
	pre, region := prefix(), randomRegion()
	head, err := s.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.UTC)
	var batch []domain.StreamEvent
	var want []domain.EventData
	for i := range 6 {
		ev := checkEvent(t, int64(i%2+1), region, at.Add(time.Duration(i)*time.Minute), i%3 != 0, i == 4)
		other := domain.StreamEvent{Stream: pre + "-other", Event: event(i, "between")}
		batch = append(batch, ev, other)
		want = append(want, ev.Event, other.Event)
	}
	for range 2 { // the second time, nothing is new
		if _, err := s.AppendBatch(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	got := ownLog(t, s, head, 12, domain.ChecksStream(region), pre+"-other")
	var wantStored []stored
	for i, e := range want {
		wantStored = append(wantStored, stored{ID: e.ID, Stream: batch[i].Stream, Type: e.Type, Data: string(e.Data), Version: e.Version, Meta: e.Metadata})
	}
	if diff := cmp.Diff(wantStored, storedOf(t, got)); diff != "" {
		t.Errorf("log differs from what was appended (-want +got):\n%s", diff)
	}
	checks, err := s.ReadStream(ctx, domain.ChecksStream(region))
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range checks {
		if e.StreamVersion != int64(i) || e.ID != want[2*i].ID {
			t.Errorf("check stream event %d: version %d id %s, want %d %s", i, e.StreamVersion, e.ID, i, want[2*i].ID)
		}
	}
	if len(checks) != 6 {
		t.Errorf("check stream holds %d events, want 6", len(checks))
	}
}

// Dropping the check results before a cut leaves every other event, the
// newer checks, and their order; the check stream goes on numbering after
// its last version.
func testCheckRetention(t *testing.T, s domain.EventStore) {
	r, ok := s.(CheckRetention)
	if !ok {
		t.Skip("the store keeps every check result")
	}
	ctx := context.Background()
	pre, region := prefix(), randomRegion()
	head, err := s.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	for d := range 3 {
		var batch []domain.StreamEvent
		for i := range 4 {
			batch = append(batch, checkEvent(t, int64(i+1), region, day.AddDate(0, 0, d).Add(time.Duration(i)*time.Hour), true, false))
		}
		batch = append(batch, domain.StreamEvent{Stream: pre + "-other", Event: event(d, "day")})
		if _, err := s.AppendBatch(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	before := ownLog(t, s, head, 15, domain.ChecksStream(region), pre+"-other")
	if err := r.DropChecksBefore(ctx, day.AddDate(0, 0, 2)); err != nil {
		t.Fatal(err)
	}
	after := ownLog(t, s, head, 7, domain.ChecksStream(region), pre+"-other")
	var want []domain.RecordedEvent
	for _, e := range before {
		if e.Type == domain.EvCheckRecorded {
			var c domain.CheckRecorded
			json.Unmarshal(e.Data, &c)
			if c.ScheduledAt.Before(day.AddDate(0, 0, 2)) {
				continue
			}
		}
		want = append(want, e)
	}
	if len(want) != 3+4 {
		t.Fatalf("expected 3 other events and 4 checks to stay, the setup kept %d", len(want))
	}
	if diff := cmp.Diff(storedOf(t, want), storedOf(t, after)); diff != "" {
		t.Errorf("after the drop (-want +got):\n%s", diff)
	}
	for i := range after {
		if i > 0 && !after[i-1].Position.Less(after[i].Position) {
			t.Errorf("log order broken at %d", i)
		}
	}
	// The stream continues after its last version, not after what is left.
	next := checkEvent(t, 9, region, day.AddDate(0, 0, 3), true, false)
	if _, err := s.AppendBatch(ctx, []domain.StreamEvent{next}); err != nil {
		t.Fatal(err)
	}
	checks, err := s.ReadStream(ctx, domain.ChecksStream(region))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(checks); n != 5 || checks[n-1].StreamVersion != 12 || checks[0].StreamVersion != 8 {
		t.Errorf("check stream after the drop: %d events, versions %d..%d; want 5, 8..12", n, checks[0].StreamVersion, checks[len(checks)-1].StreamVersion)
	}
}

func prefix() string {
	var b [4]byte
	rand.Read(b[:])
	return "contract" + hex.EncodeToString(b[:])
}

type payload struct {
	N    int    `json:"n"`
	Text string `json:"text"`
}

func event(n int, text string) domain.EventData {
	data, _ := json.Marshal(payload{N: n, Text: text})
	return domain.EventData{ID: uuid.NewString(), Type: "ContractTested", Version: 1, Data: data,
		Metadata: domain.Metadata{ActorType: domain.ActorUser, ActorID: 7, AccountID: 42, CorrelationID: "corr-" + fmt.Sprint(n),
			OccurredAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}}
}

func decode(t *testing.T, e domain.RecordedEvent) payload {
	t.Helper()
	var p payload
	if err := json.Unmarshal(e.Data, &p); err != nil {
		t.Fatalf("decode %s: %v", e.Data, err)
	}
	return p
}

func testAppendAndRead(t *testing.T, s domain.EventStore) {
	ctx := context.Background()
	stream := prefix() + "-1"
	in := []domain.EventData{event(1, "héllo ' \"; DROP TABLE events;--"), event(2, strings.Repeat("x", 10_000))}
	res, err := s.Append(ctx, stream, domain.NoStream, in...)
	if err != nil {
		t.Fatal(err)
	}
	if res.NextExpectedVersion != 1 {
		t.Errorf("next expected version = %d, want 1", res.NextExpectedVersion)
	}
	got, err := s.ReadStream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("read %d events, want 2", len(got))
	}
	for i, e := range got {
		if e.StreamID != stream || e.StreamVersion != int64(i) || e.ID != in[i].ID || e.Type != "ContractTested" || e.Version != 1 {
			t.Errorf("event %d = %+v", i, e)
		}
		if diff := cmp.Diff(payload{N: i + 1, Text: decode(t, domain.RecordedEvent{EventData: in[i]}).Text}, decode(t, e)); diff != "" {
			t.Errorf("payload %d (-want +got):\n%s", i, diff)
		}
		if diff := cmp.Diff(in[i].Metadata, e.Metadata); diff != "" {
			t.Errorf("metadata %d (-want +got):\n%s", i, diff)
		}
		if e.RecordedAt.IsZero() {
			t.Errorf("event %d has no recorded time", i)
		}
	}
	if !got[0].Position.Less(got[1].Position) {
		t.Errorf("positions not increasing: %v then %v", got[0].Position, got[1].Position)
	}
	if got[1].Position != res.Position {
		t.Errorf("append returned position %v, last event is at %v", res.Position, got[1].Position)
	}
	empty, err := s.ReadStream(ctx, prefix()+"-nothing")
	if err != nil || len(empty) != 0 {
		t.Errorf("unknown stream: %d events, err %v; want none, nil", len(empty), err)
	}
}

func testConflict(t *testing.T, s domain.EventStore) {
	ctx := context.Background()
	stream := prefix() + "-c"
	if _, err := s.Append(ctx, stream, domain.NoStream, event(1, "a")); err != nil {
		t.Fatal(err)
	}
	for _, expected := range []domain.ExpectedVersion{domain.NoStream, 1, 5} {
		_, err := s.Append(ctx, stream, expected, event(2, "b"))
		if domain.ErrorCode(err) != domain.ErrConflict {
			t.Errorf("append with expected %d: err = %v, want conflict", expected, err)
		}
	}
	if _, err := s.Append(ctx, stream, 0, event(2, "b")); err != nil {
		t.Errorf("append with the right version: %v", err)
	}
	got, _ := s.ReadStream(ctx, stream)
	if len(got) != 2 {
		t.Errorf("stream has %d events, want 2 (rejected appends must write nothing)", len(got))
	}
}

func testAnyVersion(t *testing.T, s domain.EventStore) {
	ctx := context.Background()
	stream := prefix() + "-any"
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Append(ctx, stream, domain.AnyVersion, event(i, "any"))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("AnyVersion append failed: %v", err)
		}
	}
	got, _ := s.ReadStream(ctx, stream)
	if len(got) != 10 {
		t.Fatalf("stream has %d events, want 10", len(got))
	}
	for i, e := range got {
		if e.StreamVersion != int64(i) {
			t.Errorf("event %d has version %d", i, e.StreamVersion)
		}
	}
}

func testOneWinner(t *testing.T, s domain.EventStore) {
	ctx := context.Background()
	stream := prefix() + "-race"
	if _, err := s.Append(ctx, stream, domain.NoStream, event(0, "start")); err != nil {
		t.Fatal(err)
	}
	const racers = 8
	var wg sync.WaitGroup
	results := make(chan error, racers)
	start := make(chan struct{})
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := s.Append(ctx, stream, 0, event(i+1, "racer"))
			results <- err
		}()
	}
	close(start)
	wg.Wait()
	close(results)
	wins, conflicts := 0, 0
	for err := range results {
		switch domain.ErrorCode(err) {
		case "":
			wins++
		case domain.ErrConflict:
			conflicts++
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if wins != 1 || conflicts != racers-1 {
		t.Errorf("wins = %d, conflicts = %d; want 1 and %d", wins, conflicts, racers-1)
	}
}

// ownEvents reads the whole log from the start and keeps the events of
// streams with the given prefix, reading again until want of them are
// visible: a log may hold back fresh commits for a moment (PostgreSQL does
// while an older transaction anywhere in the cluster is open).
func ownEvents(t *testing.T, s domain.EventStore, pre string, page, want int) []domain.RecordedEvent {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var out []domain.RecordedEvent
		from := domain.Position{}
		for {
			batch, err := s.ReadAll(context.Background(), from, page)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range batch {
				if !from.Less(e.Position) {
					t.Fatalf("ReadAll went backwards: %v after %v", e.Position, from)
				}
				from = e.Position
				if strings.HasPrefix(e.StreamID, pre) {
					out = append(out, e)
				}
			}
			if len(batch) < page {
				break
			}
		}
		if len(out) >= want || time.Now().After(deadline) {
			return out
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func testReadAllPages(t *testing.T, s domain.EventStore) {
	ctx := context.Background()
	pre := prefix()
	for i := range 5 {
		evs := []domain.EventData{event(i*3, "p"), event(i*3+1, "p"), event(i*3+2, "p")}
		if _, err := s.Append(ctx, fmt.Sprintf("%s-%d", pre, i), domain.NoStream, evs...); err != nil {
			t.Fatal(err)
		}
	}
	for _, page := range []int{1, 4, 1000} {
		got := ownEvents(t, s, pre, page, 15)
		var ns []int
		for _, e := range got {
			ns = append(ns, decode(t, e).N)
		}
		want := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14}
		if diff := cmp.Diff(want, ns); diff != "" {
			t.Errorf("page size %d (-want +got):\n%s", page, diff)
		}
	}
	head, err := s.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	last := ownEvents(t, s, pre, 1000, 15)
	if head.Less(last[len(last)-1].Position) {
		t.Errorf("head %v is before the last event %v", head, last[len(last)-1].Position)
	}
}

func testFollow(t *testing.T, s domain.EventStore) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pre := prefix()
	if _, err := s.Append(ctx, pre+"-a", domain.NoStream, event(1, "before")); err != nil {
		t.Fatal(err)
	}
	got := make(chan int, 10)
	done := make(chan error, 1)
	go func() {
		done <- s.Follow(ctx, domain.Position{}, 50, func(batch []domain.RecordedEvent) error {
			for _, e := range batch {
				if strings.HasPrefix(e.StreamID, pre) {
					got <- decode(t, e).N
				}
			}
			return nil
		})
	}()
	if n := <-got; n != 1 {
		t.Fatalf("caught up with %d, want 1", n)
	}
	if _, err := s.Append(ctx, pre+"-b", domain.NoStream, event(2, "after")); err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-got:
		if n != 2 {
			t.Fatalf("live event %d, want 2", n)
		}
	case <-ctx.Done():
		t.Fatal("live event never arrived")
	}
	cancel()
	<-done
}

// testNoGaps runs many appenders against followers and checks each sees
// every event exactly once, each stream in order, positions strictly
// increasing. With several followers some join late, so they start behind
// the others and catch up while the log grows (the PostgreSQL store shares
// reads near the head between followers).
func testNoGaps(t *testing.T, s domain.EventStore, followers int) {
	const writers, perWriter = 16, 40
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pre := prefix()
	start, err := s.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	allSeen := make(chan struct{}, followers)
	followErr := make(chan error, followers)
	totals := make([]int, followers)
	var mu sync.Mutex
	follow := func(f int) {
		seen := map[string]int{}
		last := start
		followErr <- s.Follow(ctx, start, 7, func(batch []domain.RecordedEvent) error {
			for _, e := range batch {
				if !last.Less(e.Position) {
					return fmt.Errorf("follower %d: position %v not after %v", f, e.Position, last)
				}
				last = e.Position
				if !strings.HasPrefix(e.StreamID, pre) {
					continue
				}
				if want := seen[e.StreamID]; int(e.StreamVersion) != want {
					return fmt.Errorf("follower %d: stream %s: got version %d, want %d (duplicate or gap)", f, e.StreamID, e.StreamVersion, want)
				}
				seen[e.StreamID]++
				mu.Lock()
				totals[f]++
				if totals[f] == writers*perWriter {
					allSeen <- struct{}{}
				}
				mu.Unlock()
			}
			return nil
		})
	}
	go follow(0)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stream := fmt.Sprintf("%s-w%d", pre, w)
			for i := range perWriter {
				if _, err := s.Append(ctx, stream, domain.ExpectedVersion(i-1), event(i, "load")); err != nil {
					t.Errorf("writer %d append %d: %v", w, i, err)
					return
				}
				if w == 0 && i%10 == 5 && i/10+1 < followers {
					go follow(i/10 + 1) // joins late, from the start
				}
			}
		}()
	}
	for f := 1 + (perWriter+4)/10; f < followers; f++ {
		go follow(f)
	}
	wg.Wait()
	for range followers {
		select {
		case <-allSeen:
		case err := <-followErr:
			t.Fatalf("follower stopped: %v", err)
		case <-ctx.Done():
			mu.Lock()
			t.Fatalf("followers saw %v of %d events each", totals, writers*perWriter)
		}
	}
	cancel()
	for range followers {
		if err := <-followErr; err != nil && err != context.Canceled {
			t.Fatalf("follower: %v", err)
		}
	}
}

func testBadInput(t *testing.T, s domain.EventStore) {
	ctx := context.Background()
	if _, err := s.Append(ctx, "", domain.NoStream, event(1, "x")); domain.ErrorCode(err) != domain.ErrInvalid {
		t.Errorf("empty stream id: err = %v, want invalid", err)
	}
	if _, err := s.Append(ctx, prefix()+"-e", domain.NoStream); domain.ErrorCode(err) != domain.ErrInvalid {
		t.Errorf("no events: err = %v, want invalid", err)
	}
}

func testAppendBatch(t *testing.T, s domain.EventStore) {
	ctx := context.Background()
	pre := prefix()
	if _, err := s.Append(ctx, pre+"-a", domain.NoStream, event(0, "existing")); err != nil {
		t.Fatal(err)
	}
	batch := []domain.StreamEvent{
		{Stream: pre + "-a", Event: event(1, "a1")},
		{Stream: pre + "-b", Event: event(2, "b0")},
		{Stream: pre + "-a", Event: event(3, "a2")},
		{Stream: pre + "-b", Event: event(4, "b1")},
	}
	pos, err := s.AppendBatch(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	// A retry after a lost reply, plus one new event: only the new one lands.
	retry := append(batch, domain.StreamEvent{Stream: pre + "-c", Event: event(5, "c0")})
	if _, err := s.AppendBatch(ctx, retry); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AppendBatch(ctx, retry); err != nil {
		t.Fatal(err)
	}
	want := map[string][]int{pre + "-a": {0, 1, 3}, pre + "-b": {2, 4}, pre + "-c": {5}}
	for stream, ns := range want {
		got, err := s.ReadStream(ctx, stream)
		if err != nil {
			t.Fatal(err)
		}
		var gotNs []int
		for i, e := range got {
			if e.StreamVersion != int64(i) {
				t.Errorf("%s event %d has version %d", stream, i, e.StreamVersion)
			}
			gotNs = append(gotNs, decode(t, e).N)
		}
		if diff := cmp.Diff(ns, gotNs); diff != "" {
			t.Errorf("%s (-want +got):\n%s", stream, diff)
		}
	}
	all := ownEvents(t, s, pre, 1000, 6)
	if len(all) != 6 {
		t.Errorf("log holds %d of our events, want 6", len(all))
	}
	if all[4].Position != pos {
		t.Errorf("batch returned %v, its last event is at %v", pos, all[4].Position)
	}
	if _, err := s.AppendBatch(ctx, []domain.StreamEvent{{Stream: "", Event: event(9, "x")}}); domain.ErrorCode(err) != domain.ErrInvalid {
		t.Errorf("empty stream: %v", err)
	}
}

func testReadStreamTail(t *testing.T, s domain.EventStore) {
	ctx := context.Background()
	stream := prefix() + "-tail"
	var in []domain.EventData
	for i := range 5 {
		in = append(in, event(i, "tail"))
	}
	if _, err := s.Append(ctx, stream, domain.NoStream, in[:3]...); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, stream, 2, in[3:]...); err != nil {
		t.Fatal(err)
	}
	// Another stream's events never show.
	if _, err := s.Append(ctx, stream+"x", domain.NoStream, event(9, "other")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		n     int
		first int64
	}{{1, 4}, {2, 3}, {5, 0}, {50, 0}} {
		got, err := s.ReadStreamTail(ctx, stream, c.n)
		if err != nil {
			t.Fatal(err)
		}
		want := min(c.n, 5)
		if len(got) != want {
			t.Fatalf("tail of %d: %d events, want %d", c.n, len(got), want)
		}
		for i, e := range got {
			if e.StreamID != stream || e.StreamVersion != c.first+int64(i) || e.ID != in[c.first+int64(i)].ID {
				t.Errorf("tail of %d, event %d = %s v%d %s; want v%d %s", c.n, i, e.StreamID, e.StreamVersion, e.ID, c.first+int64(i), in[c.first+int64(i)].ID)
			}
		}
	}
	empty, err := s.ReadStreamTail(ctx, prefix()+"-nothing", 1)
	if err != nil || len(empty) != 0 {
		t.Errorf("unknown stream: %d events, err %v; want none, nil", len(empty), err)
	}
	if _, err := s.ReadStreamTail(ctx, stream, 0); domain.ErrorCode(err) != domain.ErrInvalid {
		t.Errorf("a tail of 0 events: err %v, want invalid", err)
	}
}
