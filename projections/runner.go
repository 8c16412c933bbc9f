package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/medialuna/medialuna/domain"
)

// leaderLock is the advisory lock that makes one process, among API
// replicas sharing a database, the one that runs projectors.
const leaderLock = 7_264_411_002

// RunnerConfig tunes the runner; zero values pick sensible defaults.
type RunnerConfig struct {
	BatchSize    int           // events per message (default 500)
	MaxRetries   int           // retries of a failing batch before isolating the poison event (default 5)
	RetryInitial time.Duration // first backoff (default 100ms)
	RetryMax     time.Duration // backoff cap (default 5s)
}

// Runner feeds committed events to projectors through a Watermill router:
// one subscription per projector, each starting at its own checkpoint.
type Runner struct {
	db         *sqlx.DB
	store      domain.EventStore
	projectors []Projector
	log        *slog.Logger
	cfg        RunnerConfig
}

// NewRunner wires projectors to the log.
func NewRunner(db *sqlx.DB, store domain.EventStore, projectors []Projector, log *slog.Logger, cfg RunnerConfig) *Runner {
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 500
	}
	if cfg.MaxRetries <= 0 {
		cfg.MaxRetries = 5
	}
	if cfg.RetryInitial <= 0 {
		cfg.RetryInitial = 100 * time.Millisecond
	}
	if cfg.RetryMax <= 0 {
		cfg.RetryMax = 5 * time.Second
	}
	return &Runner{db: db, store: store, projectors: projectors, log: log, cfg: cfg}
}

// Projectors returns the projectors the runner feeds.
func (r *Runner) Projectors() []Projector { return r.projectors }

// Run blocks until ctx ends. It waits to become the leader among processes
// sharing the database, prepares each read model (creating or rebuilding it
// when its version changed), then runs the router.
func (r *Runner) Run(ctx context.Context) error {
	conn, err := r.db.Connx(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, leaderLock); err != nil {
		return fmt.Errorf("wait for projector leadership: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, leaderLock)

	for _, p := range r.projectors {
		if err := r.prepare(ctx, p); err != nil {
			return fmt.Errorf("prepare projector %s: %w", p.Name(), err)
		}
	}

	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: 10 * time.Second}, watermillLogger(r.log.With("component", "watermill")))
	if err != nil {
		return err
	}
	router.AddMiddleware(middleware.Recoverer)
	sub := &logSubscriber{runner: r, closing: make(chan struct{}), projectors: map[string]Projector{}}
	for _, p := range r.projectors {
		sub.projectors[p.Name()] = p
	}
	for _, p := range r.projectors {
		retry := middleware.Retry{
			MaxRetries: r.cfg.MaxRetries, InitialInterval: r.cfg.RetryInitial, MaxInterval: r.cfg.RetryMax,
			Multiplier: 2, RandomizationFactor: 0.2,
			Logger: watermillLogger(r.log.With("projector", p.Name())),
		}
		apply := func(msg *message.Message) ([]*message.Message, error) {
			b, err := decodeBatch(msg)
			if err != nil {
				return nil, err
			}
			return nil, applyBatch(msg.Context(), r.db, p, b.Events, b.Through)
		}
		router.AddConsumerHandler(p.Name(), p.Name(), sub, func(msg *message.Message) error {
			_, err := retry.Middleware(apply)(msg)
			if err == nil {
				return nil
			}
			if isConsumer(p) && !isPermanent(err) {
				// A side effect that failed for a passing reason (mail server
				// down) is never given up on: nack, and the subscriber
				// delivers the batch again.
				return err
			}
			// The batch keeps failing: apply its events one by one and park
			// the ones that fail, so the rest of the model stays current.
			return r.isolatePoison(msg, p, err)
		})
	}
	go func() {
		<-ctx.Done()
		close(sub.closing)
	}()
	return router.Run(ctx)
}

// isPermanent reports whether retrying cannot help: the error says so (a
// mail server's 5xx), or the database refused the event's own data (SQLSTATE
// class 22, data exception: a value too long, out of range, unstorable
// text). Such an event is parked even by a consumer, which otherwise waits
// out every failure, so it cannot stop the consumer for every account.
func isPermanent(err error) bool {
	var p interface{ Permanent() bool }
	if errors.As(err, &p) && p.Permanent() {
		return true
	}
	var pqErr *pq.Error
	return errors.Is(err, errUnstorableText) || (errors.As(err, &pqErr) && pqErr.Code.Class() == "22")
}

func (r *Runner) isolatePoison(msg *message.Message, p Projector, batchErr error) error {
	ctx := msg.Context()
	b, err := decodeBatch(msg)
	if err != nil {
		return err
	}
	for _, rec := range b.Events {
		err := applyBatch(ctx, r.db, p, []domain.RecordedEvent{rec}, domain.Position{})
		if err == nil {
			continue
		}
		// Applied alone, the event is to blame when its apply said so, or
		// when the database refused its data (its writes may be flushed
		// after apply returns, so that error names no event).
		var evErr *eventError
		eventsFault := errors.As(err, &evErr) || isPermanent(err)
		if !eventsFault || (isConsumer(p) && !isPermanent(err)) {
			return batchErr // not the event's fault (database or mail server down?): nack and try later
		}
		r.log.Error("parking event the projector cannot apply", "projector", p.Name(), "event", rec.ID, "type", rec.Type, "stream", rec.StreamID, "err", err)
		if err := park(ctx, r.db, p, rec, err); err != nil {
			return err
		}
	}
	return applyBatch(ctx, r.db, p, nil, b.Through)
}

// prepare makes sure the projector's tables exist at its current version.
func (r *Runner) prepare(ctx context.Context, p Projector) error {
	cp, found, err := readCheckpoint(ctx, r.db, p.Name())
	if err != nil {
		return err
	}
	switch {
	case found && cp.Version == p.Version():
		return nil
	case isConsumer(p) && len(p.Tables()) > 0:
		// A consumer with its own state replays the whole log into fresh
		// tables; it must not act on what it replays (see IncidentDetector).
		r.log.Info("building consumer state from the log", "consumer", p.Name(), "version", p.Version())
		return inTx(ctx, r.db, func(tx *sqlx.Tx) error {
			for _, t := range p.Tables() {
				if !identifier.MatchString(t) {
					return fmt.Errorf("table name %q is not a plain identifier", t)
				}
				if _, err := tx.ExecContext(ctx, `DROP TABLE IF EXISTS public.`+t+` CASCADE`); err != nil {
					return err
				}
			}
			if err := p.Setup(ctx, tx); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM projection_checkpoints WHERE name = $1`, p.Name()); err != nil {
				return err
			}
			return saveCheckpoint(ctx, tx, p.Name(), domain.Position{}, p.Version(), 0)
		})
	case !found && isConsumer(p):
		head, err := r.store.Head(ctx)
		if err != nil {
			return err
		}
		return inTx(ctx, r.db, func(tx *sqlx.Tx) error {
			return saveCheckpoint(ctx, tx, p.Name(), head, p.Version(), 0)
		})
	case isConsumer(p):
		return inTx(ctx, r.db, func(tx *sqlx.Tx) error {
			return saveCheckpoint(ctx, tx, p.Name(), cp.position(), p.Version(), 0)
		})
	}
	r.log.Info("building read model from the log", "projector", p.Name(), "stored_version", cp.Version, "version", p.Version())
	return NewRebuilder(r.db, r.store, r.log).Rebuild(ctx, p, nil)
}

// inTx runs fn in a transaction, committed when fn returns nil and rolled
// back otherwise: every write of this package's engine goes through it.
func inTx(ctx context.Context, db *sqlx.DB, fn func(*sqlx.Tx) error) error {
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// batchPayload is a message: the events a projector handles from one read
// of the log, and the position the read reached.
type batchPayload struct {
	Events  []domain.RecordedEvent
	Through domain.Position
}

// inProcessBatch is the context key under which the log subscriber hands
// a batch to its handler in this process.
type inProcessBatch struct{}

// decodeBatch returns the batch the log subscriber attached to its message.
// Messages never leave the process, so the batch travels as a value, not
// encoded to JSON and decoded again once per projector.
func decodeBatch(msg *message.Message) (batchPayload, error) {
	b, ok := msg.Context().Value(inProcessBatch{}).(batchPayload)
	if !ok {
		return b, fmt.Errorf("message %s carries no event batch", msg.UUID)
	}
	return b, nil
}

// logSubscriber is a Watermill subscriber over the event log. Each topic is
// a projector name; its subscription starts at that projector's checkpoint
// and emits one message per batch of committed events, waiting for the ack
// before moving on, and redelivering on a nack.
type logSubscriber struct {
	runner     *Runner
	closing    chan struct{}
	wg         sync.WaitGroup
	projectors map[string]Projector
}

var _ message.Subscriber = (*logSubscriber)(nil)

func (s *logSubscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	cp, _, err := readCheckpoint(ctx, s.runner.db, topic)
	if err != nil {
		return nil, err
	}
	out := make(chan *message.Message)
	ctx, cancel := context.WithCancel(ctx)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(out)
		defer cancel()
		go func() {
			select {
			case <-s.closing:
				cancel()
			case <-ctx.Done():
			}
		}()
		from := cp.position()
		for ctx.Err() == nil {
			err := s.runner.store.Follow(ctx, from, s.runner.cfg.BatchSize, func(batch []domain.RecordedEvent) error {
				if err := s.deliver(ctx, out, s.projectors[topic], batch); err != nil {
					return err
				}
				from = batch[len(batch)-1].Position
				return nil
			})
			if ctx.Err() == nil {
				s.runner.log.Warn("event log subscription ended; resubscribing", "topic", topic, "err", err)
				sleep(ctx, time.Second)
			}
		}
	}()
	return out, nil
}

func (s *logSubscriber) deliver(ctx context.Context, out chan<- *message.Message, p Projector, batch []domain.RecordedEvent) error {
	b := batchPayload{Events: make([]domain.RecordedEvent, 0, len(batch)), Through: batch[len(batch)-1].Position}
	for _, e := range batch {
		if p == nil || handles(p, e.Type) {
			b.Events = append(b.Events, e)
		}
	}
	for {
		msg := message.NewMessage(watermill.NewUUID(), nil)
		msg.SetContext(context.WithValue(ctx, inProcessBatch{}, b))
		select {
		case out <- msg:
		case <-ctx.Done():
			return ctx.Err()
		}
		select {
		case <-msg.Acked():
			return nil
		case <-msg.Nacked():
			if !sleep(ctx, time.Second) {
				return ctx.Err()
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (s *logSubscriber) Close() error {
	s.wg.Wait()
	return nil
}

// sleep waits for d, or less when ctx ends first; it reports whether the
// whole wait passed. (adapters/postgres and adapters/eventstoredb keep a
// copy each: an adapter imports no other adapter nor this package, and the
// domain, the one package they share, has no timers.)
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

// watermillLogger passes Watermill's own lines to log with its info lines
// ("Adding handler", "Starting handler", "Subscriber stopped": one per
// projector on every start and stop) demoted to debug, so that a server
// at the info level says what it does, not how its router is wired.
func watermillLogger(log *slog.Logger) watermill.LoggerAdapter {
	return watermill.NewSlogLoggerWithLevelMapping(log, map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug})
}
