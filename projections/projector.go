// Package projections holds the read side: the folds that build the read
// models behind the API from the event log, the queries over them, and the
// engine that runs them. A projector is a fold: it applies events to its own
// PostgreSQL tables and keeps a checkpoint in the same transaction, so
// applying an event twice is harmless and a restart resumes exactly where it
// stopped. Committed events reach projectors through a Watermill router (see
// runner.go); a rebuild bypasses the router and reads the log directly, in
// big batches. The same engine runs the process managers of package
// processes (the workers that act: they are Consumers), but none lives here.
package projections

import (
	"context"

	"github.com/jmoiron/sqlx"

	"github.com/medialuna/medialuna/domain"
)

// Projector builds one read model.
type Projector interface {
	// Name identifies the projector and its checkpoint.
	Name() string
	// Version changes whenever Setup or Apply change meaning; a stored
	// version that differs makes the runner rebuild the model from the log.
	Version() int
	// Tables lists the tables Setup creates, all owned by this projector.
	Tables() []string
	// Setup creates the tables with unqualified names: the caller chooses
	// the schema through search_path (public when live, a scratch schema
	// during a rebuild).
	Setup(ctx context.Context, tx *sqlx.Tx) error
	// Apply folds one event into the tables. ev is the decoded event (nil
	// for event types this build does not know).
	Apply(ctx context.Context, tx Exec, rec domain.RecordedEvent, ev domain.Event) error
}

// EventFilter is a projector that names the event types it applies. The
// runner then hands it only those (still moving its checkpoint past the
// rest), and rebuilds skip decoding the others: most of the log is check
// results, which most read models ignore.
type EventFilter interface {
	Handles(eventType string) bool
}

func handles(p Projector, eventType string) bool {
	f, ok := p.(EventFilter)
	return !ok || f.Handles(eventType)
}

// HandledTypes lists the registered event types p applies, sorted: every
// type for a projector without a filter. A filter names types with the
// domain.Ev* constants, so what it lists here is what it handles; the
// registry test compares it with each projector's expected table.
func HandledTypes(p Projector) []string {
	var out []string
	for _, typ := range domain.EventTypes() {
		if handles(p, typ) {
			out = append(out, typ)
		}
	}
	return out
}

// BatchProjector is a projector that can apply a run of events with
// set-based statements. ApplyBatch must leave the tables exactly as Apply
// on each event in order would; the runner and rebuilds prefer it. It is
// how check results, the bulk of the log, cost a few statements per batch
// instead of a few per event.
type BatchProjector interface {
	Projector
	ApplyBatch(ctx context.Context, tx Exec, recs []domain.RecordedEvent, evs []domain.Event) error
}

// Consumer is a projector with side effects (sending mail, ...). It has no
// tables, is never rebuilt, and starts at the head of the log the first time
// it runs, so deploying it never replays history to the outside world.
type Consumer interface {
	Projector
	IsConsumer()
}

func isConsumer(p Projector) bool {
	_, ok := p.(Consumer)
	return ok
}
