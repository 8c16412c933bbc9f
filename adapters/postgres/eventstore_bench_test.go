package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/medialuna/medialuna/adapters/postgres"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/test/testdb"
)

// checkLike is about the size of a check result event.
func checkLike(i int) domain.EventData {
	data, _ := json.Marshal(map[string]any{"monitor_id": i % 1000, "region_id": 1, "up": true, "response_time_ms": 123.4,
		"status_code": 200, "checked_at": "2026-11-26T10:00:00Z"})
	return domain.EventData{ID: uuid.NewString(), Type: "CheckRecorded", Version: 1, Data: data,
		Metadata: domain.Metadata{ActorType: domain.ActorProbe, AccountID: int64(i%50 + 1), OccurredAt: time.Now().UTC()}}
}

func events(n int) []domain.EventData {
	out := make([]domain.EventData, n)
	for i := range out {
		out[i] = checkLike(i)
	}
	return out
}

func newBenchStore(b *testing.B) *postgres.EventStore {
	db := testdb.New(b)
	return postgres.NewEventStore(db.DB, db.URL, testdb.Logger(b))
}

// BenchmarkAppend measures appended events per second for single-event
// appends from 1 and 16 writers, and 100-event batches.
func BenchmarkAppend(b *testing.B) {
	for _, c := range []struct {
		name    string
		batch   int
		writers int
	}{{"single/1writer", 1, 1}, {"single/16writers", 1, 16}, {"batch100/1writer", 100, 1}, {"batch100/4writers", 100, 4}} {
		b.Run(c.name, func(b *testing.B) {
			s := newBenchStore(b)
			ctx := context.Background()
			var next atomic.Int64
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for w := range c.writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for n := next.Add(1); n <= int64(b.N); n = next.Add(1) {
						batch := events(c.batch)
						if _, err := s.Append(ctx, fmt.Sprintf("monitor-%d-%d", w, n), domain.NoStream, batch...); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.ReportMetric(float64(b.N*c.batch)/time.Since(start).Seconds(), "events/s")
		})
	}
}

// BenchmarkReadAll measures catch-up reads in pages of 1000.
func BenchmarkReadAll(b *testing.B) {
	s := newBenchStore(b)
	ctx := context.Background()
	const total = 100_000
	for i := 0; i < total; i += 1000 {
		if _, err := s.Append(ctx, fmt.Sprintf("s-%d", i), domain.NoStream, events(1000)...); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	start := time.Now()
	read := 0
	for range b.N {
		from := domain.Position{}
		for {
			batch, err := s.ReadAll(ctx, from, 1000)
			if err != nil {
				b.Fatal(err)
			}
			read += len(batch)
			if len(batch) < 1000 {
				break
			}
			from = batch[len(batch)-1].Position
		}
	}
	b.ReportMetric(float64(read)/time.Since(start).Seconds(), "events/s")
}

// BenchmarkFollowerLag measures the time from an append's commit to a
// follower receiving it, with 8 writers appending as fast as they can.
func BenchmarkFollowerLag(b *testing.B) {
	s := newBenchStore(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	sent := map[string]time.Time{}
	var lags []time.Duration
	done := make(chan struct{})
	go s.Follow(ctx, domain.Position{}, 500, func(batch []domain.RecordedEvent) error {
		now := time.Now()
		mu.Lock()
		defer mu.Unlock()
		for _, e := range batch {
			if t, ok := sent[e.ID]; ok {
				lags = append(lags, now.Sub(t))
				if len(lags) == b.N {
					close(done)
				}
			}
		}
		return nil
	})
	b.ResetTimer()
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := next.Add(1); n <= int64(b.N); n = next.Add(1) {
				e := checkLike(w)
				// The commit time is only known after Append returns, so the
				// lag measured is an upper bound by the append's own latency.
				t := time.Now()
				mu.Lock()
				sent[e.ID] = t
				mu.Unlock()
				if _, err := s.Append(ctx, fmt.Sprintf("lag-%d-%d", w, n), domain.NoStream, e); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	select {
	case <-done:
	case <-time.After(time.Minute):
		b.Fatal("follower did not see every event")
	}
	b.StopTimer()
	sort.Slice(lags, func(i, j int) bool { return lags[i] < lags[j] })
	b.ReportMetric(float64(lags[len(lags)/2].Microseconds())/1000, "p50-lag-ms")
	b.ReportMetric(float64(lags[len(lags)*99/100].Microseconds())/1000, "p99-lag-ms")
}
