package processes

import (
	"context"
	"log/slog"
	"time"

	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
)

// SummaryProgress is where the summarizer keeps its place.
type SummaryProgress interface {
	// NextSummaryHour is the first hour not summarized yet (zero: none).
	NextSummaryHour(ctx context.Context) (time.Time, error)
	// SetNextSummaryHour records progress; it never moves back.
	SetNextSummaryHour(ctx context.Context, next time.Time) error
}

// Summarizer appends ChecksSummarized for every hour that has closed,
// plus a grace for late results, so that the hour's rollups outlive its
// raw results (see docs/architecture.md, "Check retention"). Every
// replica may run it: the summaries' ids are deterministic.
type Summarizer struct {
	progress SummaryProgress
	handler  *commands.SummarizeChecksHandler
	grace    time.Duration
	now      func() time.Time
	log      *slog.Logger
	every    time.Duration
}

// NewSummarizer returns a summarizer that looks every minute.
func NewSummarizer(progress SummaryProgress, handler *commands.SummarizeChecksHandler, grace time.Duration, now func() time.Time, log *slog.Logger) *Summarizer {
	return &Summarizer{progress: progress, handler: handler, grace: grace, now: now, log: log, every: time.Minute}
}

// Run summarizes every minute until ctx ends.
func (s *Summarizer) Run(ctx context.Context) {
	t := time.NewTicker(s.every)
	defer t.Stop()
	for {
		if err := s.Summarize(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("summarize checks", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Summarize does the hours due (domain.SummaryHoursDue), oldest first,
// recording progress after each.
func (s *Summarizer) Summarize(ctx context.Context) error {
	next, err := s.progress.NextSummaryHour(ctx)
	if err != nil {
		return err
	}
	for _, hour := range domain.SummaryHoursDue(next, s.now(), s.grace) {
		n, err := s.handler.Handle(ctx, commands.SummarizeChecks{Hour: hour})
		if err != nil {
			return err
		}
		if err := s.progress.SetNextSummaryHour(ctx, hour.Add(time.Hour)); err != nil {
			return err
		}
		s.log.Debug("checks summarized", "hour", hour, "summaries", n)
	}
	return nil
}
