package processes_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/processes"
)

// detectorFixture runs the incident detector on a real database, acting
// through the real incident commands.
type detectorFixture struct {
	fixture
	now time.Time
}

func newDetectorFixture(t *testing.T) *detectorFixture {
	f := &detectorFixture{fixture: newFixture(t), now: time.Now().UTC().Truncate(time.Millisecond)}
	clock := func() time.Time { return f.now }
	f.run(t, processes.NewIncidentDetector(commands.NewOpenIncidentHandler(f.store, f.ids, clock), commands.NewCloseIncidentHandler(f.store, clock), clock))
	return f
}

// append writes events as one batch and waits for the detector to apply
// them.
func (f *detectorFixture) append(t *testing.T, evs ...domain.StreamEvent) {
	t.Helper()
	pos, err := f.store.AppendBatch(context.Background(), evs)
	if err != nil {
		t.Fatal(err)
	}
	f.wait(t, []string{"incident_detector"}, pos)
}

func (f *detectorFixture) event(t *testing.T, stream string, ev domain.Event) domain.StreamEvent {
	t.Helper()
	data, err := domain.Encode(ev, domain.Metadata{ActorType: domain.ActorSystem, AccountID: 1, OccurredAt: f.now}, uuid.NewString())
	if err != nil {
		t.Fatal(err)
	}
	return domain.StreamEvent{Stream: stream, Event: data}
}

func (f *detectorFixture) check(t *testing.T, sec int, up bool, ms float64) domain.StreamEvent {
	c := &domain.CheckRecorded{MonitorID: 1, RegionID: 1, ScheduledAt: f.now.Add(time.Duration(sec) * time.Second), CheckedAt: f.now.Add(time.Duration(sec) * time.Second)}
	c.Up, c.ResponseTimeMs = up, ms
	if !up {
		c.Error = "connection refused"
	}
	return f.event(t, domain.ChecksStream(1), c)
}

// incidents is the monitor's tracker stream in words: "open DOWN", "close DOWN".
func (f *detectorFixture) incidents(t *testing.T) string {
	t.Helper()
	recs, err := f.store.ReadStream(context.Background(), domain.MonitorIncidentsStream(1))
	if err != nil && domain.ErrorCode(err) != domain.ErrNotFound {
		t.Fatal(err)
	}
	var out []string
	for _, r := range recs {
		ev, err := domain.DecodeRecorded(r)
		if err != nil {
			t.Fatal(err)
		}
		switch e := ev.(type) {
		case *domain.IncidentOpened:
			out = append(out, "open "+string(e.Type))
		case *domain.IncidentClosed:
			out = append(out, "close "+string(e.Type))
		}
	}
	return strings.Join(out, ", ")
}

// TestDetectorKeepsItsStateBetweenBatches: the streaks, the latest
// results and the open flags the domain decides with survive the round
// trip through the detector's tables, one batch at a time and many
// results to a batch alike.
func TestDetectorKeepsItsStateBetweenBatches(t *testing.T) {
	f := newDetectorFixture(t)
	cfg := domain.MonitorConfig{Name: "API", Type: domain.TypeHTTP, CheckInterval: 60, RegionIDs: []int64{1}, ConfirmFromLocations: 1,
		PerformanceThresholdMs: 500, PerformanceConsecutiveChecks: 2}
	f.append(t, f.event(t, domain.MonitorStream(1), &domain.MonitorCreated{MonitorID: 1, AccountID: 1, Config: cfg}))
	f.append(t, f.check(t, 0, true, 900))
	if got := f.incidents(t); got != "" {
		t.Fatalf("after one slow check: %q", got)
	}
	f.append(t, f.check(t, 1, true, 900)) // the streak of the batch before counts
	if got, want := f.incidents(t), "open PERFORMANCE"; got != want {
		t.Fatalf("after two slow checks in two batches: %q, want %q", got, want)
	}
	// One batch: down, then up (the latest result carried within the run).
	f.append(t, f.check(t, 2, false, 0), f.check(t, 3, true, 100), f.check(t, 4, true, 100))
	if got, want := f.incidents(t), "open PERFORMANCE, open DOWN, close DOWN, close PERFORMANCE"; got != want {
		t.Fatalf("after a batch down and up: %q, want %q", got, want)
	}
	// Paused: the latest results stay until resumed, then start afresh.
	f.append(t, f.check(t, 5, false, 0))
	f.append(t, f.event(t, domain.MonitorStream(1), &domain.MonitorPaused{}))
	f.append(t, f.event(t, domain.MonitorStream(1), &domain.MonitorResumed{}))
	var latest int
	if err := f.db.Get(&latest, `SELECT count(*) FROM detector_latest WHERE monitor_id = 1`); err != nil {
		t.Fatal(err)
	}
	if latest != 0 {
		t.Errorf("%d latest results kept after a resume, want none", latest)
	}
	if got, want := f.incidents(t), "open PERFORMANCE, open DOWN, close DOWN, close PERFORMANCE, open DOWN, close DOWN"; got != want {
		t.Fatalf("after a failure, pause and resume: %q, want %q", got, want)
	}
}
