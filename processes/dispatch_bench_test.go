package processes_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/medialuna/medialuna/adapters/notify/webhook"
	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/processes"
	"github.com/medialuna/medialuna/projections"
)

// dispatchBench runs the notifications read model and a dispatcher whose
// webhooks go to local endpoints.
type dispatchBench struct {
	fixture
	account int64
}

func newDispatchBench(b testing.TB) *dispatchBench {
	d := &dispatchBench{fixture: newFixture(b), account: 1}
	d.run(b, projections.Notifications{})
	senders := map[domain.ChannelType]processes.Sender{domain.ChannelWebhook: webhook.New(webhook.Config{})}
	dispatcher := processes.NewDispatcher(d.db.DB, d.store, d.queries, commands.NewRecordDeliveryHandler(d.store, time.Now), senders, slog.New(slog.DiscardHandler), time.Now,
		processes.DispatcherConfig{Poll: 20 * time.Millisecond, MaxRetries: 1, Backoff: 10 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		dispatcher.Run(ctx)
	}()
	b.Cleanup(func() { cancel(); <-done })
	return d
}

func (d *dispatchBench) channel(b testing.TB, id int64, url string) {
	data, err := domain.Encode(&domain.ChannelCreated{ChannelID: id, AccountID: d.account,
		Config: domain.ChannelConfig{Name: fmt.Sprintf("c%d", id), Type: domain.ChannelWebhook, WebhookURL: url, Enabled: true}, WebhookSecret: "s"},
		domain.Metadata{ActorType: domain.ActorSystem, AccountID: d.account, OccurredAt: time.Now().UTC()}, uuid.NewString())
	if err != nil {
		b.Fatal(err)
	}
	if _, err := d.store.AppendBatch(context.Background(), []domain.StreamEvent{{Stream: domain.ChannelStream(id), Event: data}}); err != nil {
		b.Fatal(err)
	}
}

// queue decides n notifications for a channel; each carries its queue time
// in the monitor name so the receiver can measure the latency.
func (d *dispatchBench) queue(b testing.TB, channelID int64, n int) {
	var batch []domain.StreamEvent
	for range n {
		id := uuid.NewString()
		now := time.Now().UTC()
		note := domain.Notification{Event: domain.EventIncidentTriggered, OccurredAt: now, AccountID: d.account,
			Monitor:  domain.NotificationMonitor{ID: 1, Name: strconv.FormatInt(now.UnixNano(), 10)},
			Incident: &domain.NotificationIncident{ID: 1, Type: domain.IncidentDown, Status: domain.StatusTriggered, SentAt: now}}
		data, err := domain.Encode(&domain.NotificationQueued{DeliveryID: id, ChannelID: channelID, IncidentID: 1, Notification: note},
			domain.Metadata{ActorType: domain.ActorSystem, AccountID: d.account, OccurredAt: now}, id)
		if err != nil {
			b.Fatal(err)
		}
		batch = append(batch, domain.StreamEvent{Stream: domain.DeliveriesStream(channelID), Event: data})
	}
	if _, err := d.store.AppendBatch(context.Background(), batch); err != nil {
		b.Fatal(err)
	}
}

// endpoint counts deliveries and their latency from the decision.
type endpoint struct {
	*httptest.Server
	mu        sync.Mutex
	latencies []time.Duration
	arrived   chan struct{}
}

func newEndpoint(b *testing.B, delay time.Duration) *endpoint {
	e := &endpoint{arrived: make(chan struct{}, 1<<20)}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p struct {
			Monitor struct {
				Name string `json:"name"`
			} `json:"monitor"`
		}
		body, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(body, &p)
		if delay > 0 {
			time.Sleep(delay)
		}
		if ns, err := strconv.ParseInt(p.Monitor.Name, 10, 64); err == nil {
			e.mu.Lock()
			e.latencies = append(e.latencies, time.Since(time.Unix(0, ns)))
			e.mu.Unlock()
		}
		e.arrived <- struct{}{}
	}))
	b.Cleanup(e.Close)
	return e
}

func (e *endpoint) wait(b *testing.B, n int) {
	timeout := time.After(5 * time.Minute)
	for range n {
		select {
		case <-e.arrived:
		case <-timeout:
			b.Fatalf("deliveries did not arrive")
		}
	}
}

func (e *endpoint) percentile(p float64) time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := slices.Clone(e.latencies)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

// BenchmarkDispatcherThroughput: signed webhook deliveries per second to
// local endpoints, from the decision in the log to the endpoint's 200 and
// the outcome recorded, over 8 channels.
func BenchmarkDispatcherThroughput(b *testing.B) {
	d := newDispatchBench(b)
	const channels = 8
	eps := make([]*endpoint, channels)
	for i := range channels {
		eps[i] = newEndpoint(b, 0)
		d.channel(b, int64(i+1), eps[i].URL)
	}
	b.ResetTimer()
	start := time.Now()
	for i := range channels {
		d.queue(b, int64(i+1), b.N)
	}
	for i := range channels {
		eps[i].wait(b, b.N)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(channels*b.N)/elapsed.Seconds(), "deliveries/s")
	b.ReportMetric(float64(eps[0].percentile(0.5).Microseconds())/1000, "p50-ms")
}

// BenchmarkFastChannelWhileOneHangs: one channel's endpoint takes 10 s to
// answer each request; the latency of another channel's deliveries, from
// decision to arrival, while it does.
func BenchmarkFastChannelWhileOneHangs(b *testing.B) {
	d := newDispatchBench(b)
	slow, fast := newEndpoint(b, 10*time.Second), newEndpoint(b, 0)
	d.channel(b, 1, slow.URL)
	d.channel(b, 2, fast.URL)
	d.queue(b, 1, 3) // the slow channel is busy for the whole run
	time.Sleep(200 * time.Millisecond)
	b.ResetTimer()
	for range b.N {
		d.queue(b, 2, 1)
		fast.wait(b, 1)
	}
	b.StopTimer()
	b.ReportMetric(float64(fast.percentile(0.5).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(fast.percentile(0.99).Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(fast.percentile(1).Microseconds())/1000, "max-ms")
}
