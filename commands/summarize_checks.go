package commands

import (
	"context"
	"time"

	"github.com/medialuna/medialuna/domain"
)

// CheckSamples reads recorded checks for summaries.
type CheckSamples interface {
	// CheckSamples returns every check of existing monitors checked in
	// [from, to) that the log still holds.
	CheckSamples(ctx context.Context, from, to time.Time) ([]domain.CheckSample, error)
}

// SummarizeChecks appends the summaries of one closed hour.
type SummarizeChecks struct {
	Hour time.Time
}

// SummarizeChecksHandler turns an hour's raw results into ChecksSummarized
// events: load the hour's checks, let domain.SummarizeHour decide, append.
type SummarizeChecksHandler struct {
	store   domain.EventStore
	samples CheckSamples
}

// NewSummarizeChecksHandler returns a handler.
func NewSummarizeChecksHandler(store domain.EventStore, samples CheckSamples) *SummarizeChecksHandler {
	return &SummarizeChecksHandler{store: store, samples: samples}
}

// Handle appends one summary per monitor and region checked in the hour,
// with deterministic ids: summarizing an hour again (a retry, another
// replica) appends nothing. It returns how many summaries it decided.
func (h *SummarizeChecksHandler) Handle(ctx context.Context, cmd SummarizeChecks) (int, error) {
	hour := cmd.Hour.UTC().Truncate(time.Hour)
	samples, err := h.samples.CheckSamples(ctx, hour, hour.Add(time.Hour))
	if err != nil {
		return 0, err
	}
	sums := domain.SummarizeHour(hour, samples)
	decided := len(sums)
	const batch = 500
	for len(sums) > 0 {
		n := min(len(sums), batch)
		events := make([]domain.StreamEvent, 0, n)
		for _, s := range sums[:n] {
			e := s.Event
			meta := domain.Metadata{ActorType: domain.ActorSystem, AccountID: s.AccountID, OccurredAt: hour.Add(time.Hour)}
			data, err := domain.Encode(&e, meta, domain.ChecksSummaryID(e.MonitorID, e.RegionID, e.Hour))
			if err != nil {
				return 0, err
			}
			events = append(events, domain.StreamEvent{Stream: domain.SummariesStream(e.RegionID), Event: data})
		}
		if _, err := h.store.AppendBatch(ctx, events); err != nil {
			return 0, err
		}
		sums = sums[n:]
	}
	return decided, nil
}
