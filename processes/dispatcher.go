package processes

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/projections"
)

// Sender delivers a notification through one channel; errors say whether
// retrying can help (Permanent() bool).
type Sender interface {
	Send(ctx context.Context, ch domain.ChannelConfig, secret string, n domain.Notification) error
}

// DispatcherConfig tunes the dispatcher; zero values take the defaults.
type DispatcherConfig struct {
	// MaxRetries after the first attempt (0: the default, 3; negative:
	// none), the first retry
	// waiting Backoff (default 1 s) and each next one twice as long.
	MaxRetries int
	Backoff    time.Duration
	// Timeout bounds one attempt (default 10 s, as the reference says).
	Timeout time.Duration
	// Poll is how often queued deliveries are looked for (default 100 ms).
	Poll time.Duration
}

// Dispatcher sends queued notifications and records each outcome as
// NotificationAttempted. It works from the outbox that the notifications
// read model keeps (deliveries whose NotificationQueued has no outcome
// yet), not from the projection pipeline, so a slow endpoint holds up
// nothing but its own channel: each channel with work gets its own
// goroutine, claimed with a PostgreSQL advisory lock so that replicas
// share channels without sending one twice (a process that dies lets its
// channels go with its connection, at once), and a channel's deliveries go
// out in the order they were decided (a receiver sees resolved before
// recovered).
//
// Delivery is at least once: a crash after a send but before its outcome
// is recorded sends again after the restart; webhooks carry the delivery
// id in X-Media-Luna-Delivery for receivers to deduplicate, PagerDuty
// deduplicates on the incident.
type Dispatcher struct {
	db       *sqlx.DB // for the channel locks
	store    domain.EventStore
	q        DispatcherReads
	recorder DeliveryRecorder
	senders  map[domain.ChannelType]Sender
	log      *slog.Logger
	now      func() time.Time
	cfg      DispatcherConfig

	locks  *channelLocks
	mu     sync.Mutex
	active map[int64]context.CancelFunc // channels this process is draining
}

// DispatcherReads is what the dispatcher reads of the notifications read
// model (*projections.Queries).
type DispatcherReads interface {
	QueuedChannels(ctx context.Context) ([]int64, error)
	QueuedDeliveries(ctx context.Context, channelID int64, limit int) ([]projections.QueuedDelivery, error)
	// ChannelForDelivery returns the channel with its secret, found false
	// when it was deleted; ErrInvalid when its configuration cannot be read.
	ChannelForDelivery(ctx context.Context, id int64) (domain.ChannelConfig, string, bool, error)
	// WaitFor returns once the read models have applied the log up to pos.
	WaitFor(ctx context.Context, names []string, pos domain.Position) error
}

// DeliveryRecorder records outcomes and retries
// (*commands.RecordDeliveryHandler).
type DeliveryRecorder interface {
	Handle(ctx context.Context, cmd commands.RecordDelivery) (domain.Position, error)
}

var _ DispatcherReads = (*projections.Queries)(nil)

// NewDispatcher returns a dispatcher using senders by channel type. db
// holds the channel locks; store is read for its head.
func NewDispatcher(db *sqlx.DB, store domain.EventStore, q DispatcherReads, rec DeliveryRecorder, senders map[domain.ChannelType]Sender, log *slog.Logger, now func() time.Time, cfg DispatcherConfig) *Dispatcher {
	switch {
	case cfg.MaxRetries == 0:
		cfg.MaxRetries = 3
	case cfg.MaxRetries < 0: // explicitly none
		cfg.MaxRetries = 0
	}
	if cfg.Backoff == 0 {
		cfg.Backoff = time.Second
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Poll == 0 {
		cfg.Poll = 100 * time.Millisecond
	}
	d := &Dispatcher{db: db, store: store, q: q, recorder: rec, senders: senders, log: log, now: now, cfg: cfg, active: map[int64]context.CancelFunc{}}
	d.locks = &channelLocks{db: db, lost: d.stopAll}
	return d
}

// stopAll stops every drain: the locks went with their connection, and
// another process may be sending these channels now.
func (d *Dispatcher) stopAll() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, stop := range d.active {
		stop()
	}
}

// Run looks for channels with queued deliveries until ctx ends, and drains
// each one it can lock in a goroutine of its own.
func (d *Dispatcher) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer func() {
		wg.Wait()
		d.locks.close()
	}()
	t := time.NewTicker(d.cfg.Poll)
	defer t.Stop()
	lastCheck := time.Now()
	for {
		if time.Since(lastCheck) > time.Second {
			lastCheck = time.Now()
			d.locks.alive(ctx) // a lost connection stops the drains (lost)
		}
		channels, err := d.q.QueuedChannels(ctx)
		if err != nil && ctx.Err() == nil && !projections.IsUndefinedTable(err) {
			d.log.Warn("look for queued notifications", "err", err)
		}
		for _, ch := range channels {
			d.mu.Lock()
			_, busy := d.active[ch]
			d.mu.Unlock()
			if busy {
				continue
			}
			gen, locked, err := d.locks.tryLock(ctx, ch)
			if err != nil && ctx.Err() == nil {
				d.log.Warn("lock a notification channel", "channel", ch, "err", err)
			}
			if !locked {
				continue // another process sends it
			}
			dctx, stop := context.WithCancel(ctx)
			d.mu.Lock()
			d.active[ch] = stop
			d.mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				d.drain(dctx, ch)
				stop()
				d.mu.Lock()
				delete(d.active, ch)
				d.mu.Unlock()
				d.locks.unlock(ch, gen)
			}()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// channelLocks holds session advisory locks, one per channel being sent,
// on one pinned connection: when the process dies, PostgreSQL ends the
// session and the channels are free for another replica at once.
type channelLocks struct {
	db   *sqlx.DB
	lost func() // called when held locks are gone with their connection
	mu   sync.Mutex
	conn *sql.Conn
	gen  int // counts connections, so an unlock never reaches a newer one
}

// lockClass namespaces the channel locks among the advisory locks.
const lockClass = 0x4d4c // "ML"

func (l *channelLocks) tryLock(ctx context.Context, channelID int64) (int, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == nil {
		conn, err := l.db.Conn(ctx)
		if err != nil {
			return 0, false, err
		}
		l.conn, l.gen = conn, l.gen+1
	}
	var ok bool
	if err := l.conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1, $2)`, lockClass, int32(channelID)).Scan(&ok); err != nil {
		l.dropLocked()
		return 0, false, err
	}
	return l.gen, ok, nil
}

func (l *channelLocks) unlock(channelID int64, gen int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == nil || gen != l.gen {
		return // gone with its connection
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := l.conn.ExecContext(ctx, `SELECT pg_advisory_unlock($1, $2)`, lockClass, int32(channelID)); err != nil {
		l.dropLocked()
	}
}

// alive checks the connection holding the locks; false means they are lost.
func (l *channelLocks) alive(ctx context.Context) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == nil {
		return true // nothing held
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := l.conn.PingContext(pctx); err != nil {
		l.dropLocked()
		return false
	}
	return true
}

func (l *channelLocks) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.dropLocked()
}

// dropLocked closes the connection without returning it to the pool,
// where it would carry its locks to some other user. Whatever error made
// us drop it, every lock it held is gone: the drains relying on them stop.
func (l *channelLocks) dropLocked() {
	if l.conn != nil {
		_ = l.conn.Raw(func(any) error { return driver.ErrBadConn })
		l.conn.Close()
		l.conn = nil
		if l.lost != nil {
			l.lost()
		}
	}
}

// drain sends a channel's queued deliveries in order until none is left
// or ctx ends (shutdown, or the channel's lock was lost).
func (d *Dispatcher) drain(ctx context.Context, channelID int64) {
	// Outcomes already in the log (recorded by this process earlier, or by
	// the one that held the channel before) must be in the read model
	// before anything looks queued: wait for it to reach the log's head.
	for ctx.Err() == nil {
		head, err := d.store.Head(ctx)
		if err == nil {
			err = d.q.WaitFor(ctx, []string{"notifications"}, head)
		}
		if err == nil {
			break
		}
		if ctx.Err() == nil {
			d.log.Warn("wait for the notifications read model", "channel", channelID, "err", err)
			projections.Sleep(ctx, time.Second)
		}
	}
	// Outcomes recorded here since, that the read model may not show yet:
	// they must not be sent again meanwhile.
	sent := map[string]bool{}
	for ctx.Err() == nil {
		rows, err := d.q.QueuedDeliveries(ctx, channelID, 50)
		if err != nil {
			if ctx.Err() == nil {
				d.log.Warn("read queued notifications", "channel", channelID, "err", err)
				projections.Sleep(ctx, time.Second)
			}
			continue
		}
		var pending []projections.QueuedDelivery
		still := map[string]bool{}
		for _, r := range rows {
			if sent[r.DeliveryID] {
				still[r.DeliveryID] = true
				continue
			}
			pending = append(pending, r)
		}
		sent = still // the others are in the read model now
		if len(pending) == 0 {
			if len(rows) == 0 {
				return
			}
			projections.Sleep(ctx, 20*time.Millisecond) // our outcomes are on their way into the read model
			continue
		}
		for _, r := range pending {
			var q domain.NotificationQueued
			if err := json.Unmarshal([]byte(r.Payload), &q); err != nil {
				d.log.Error("a queued notification cannot be read; recording it as failed", "delivery", r.DeliveryID, "err", err)
				q = domain.NotificationQueued{DeliveryID: r.DeliveryID, ChannelID: channelID}
			}
			res := d.deliver(ctx, q)
			if ctx.Err() != nil && !res.Delivered {
				return // no outcome: it goes out after the restart, or from the process that took over
			}
			if !res.Delivered {
				d.log.Warn("notification failed for good", "channel", channelID, "delivery", r.DeliveryID, "event", q.Notification.Event,
					"incident", q.IncidentID, "attempts", res.Attempts, "err", res.Error)
			}
			if !d.record(ctx, r.AccountID, res) {
				return
			}
			sent[r.DeliveryID] = true
		}
	}
}

// deliver sends one notification with retries and returns its outcome.
func (d *Dispatcher) deliver(ctx context.Context, q domain.NotificationQueued) domain.NotificationAttempted {
	res := domain.NotificationAttempted{DeliveryID: q.DeliveryID, ChannelID: q.ChannelID, IncidentID: q.IncidentID, Event: q.Notification.Event}
	if q.Notification.Event == "" {
		res.Error = "the queued notification could not be read"
		return res
	}
	ch, secret, found, err := d.q.ChannelForDelivery(ctx, q.ChannelID)
	if domain.ErrorCode(err) == domain.ErrInvalid {
		res.Error = err.Error() // no wait makes it readable
		return res
	}
	for err != nil && ctx.Err() == nil { // the database is away: wait for it, send nothing meanwhile
		d.log.Warn("read a notification channel", "channel", q.ChannelID, "err", err)
		projections.Sleep(ctx, time.Second)
		ch, secret, found, err = d.q.ChannelForDelivery(ctx, q.ChannelID)
	}
	switch {
	case ctx.Err() != nil:
		return res
	case !found:
		res.Error = "the channel was deleted"
		return res
	case !ch.Enabled:
		res.ChannelName, res.ChannelType, res.Error = ch.Name, ch.Type, "the channel is disabled"
		return res
	}
	res.ChannelName, res.ChannelType = ch.Name, ch.Type
	sender := d.senders[ch.Type]
	if sender == nil {
		res.Error = "no sender for " + string(ch.Type)
		return res
	}
	note := q.Notification
	note.DeliveryID = q.DeliveryID // the payload leaves it out; the delivery header carries it
	delay := d.cfg.Backoff
	for attempt := 1; attempt <= d.cfg.MaxRetries+1; attempt++ {
		res.Attempts = attempt
		sendCtx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
		err := sender.Send(sendCtx, ch, secret, note)
		cancel()
		if err == nil {
			res.Delivered, res.Error = true, ""
			return res
		}
		res.Error = err.Error()
		if permanent(err) || attempt > d.cfg.MaxRetries || ctx.Err() != nil {
			return res
		}
		d.log.Warn("notification failed; retrying", "channel", q.ChannelID, "delivery", q.DeliveryID, "attempt", attempt, "err", err, "retry_in", delay)
		d.recordRetry(ctx, q, res, attempt, delay)
		if !projections.Sleep(ctx, delay) {
			return res
		}
		delay *= 2
	}
	return res
}

// recordRetry puts a failed attempt on the log for the incident's
// timeline. It is best effort: the outcome, recorded after the last
// attempt, is what counts, so a database that is away does not hold up
// the retries.
func (d *Dispatcher) recordRetry(ctx context.Context, q domain.NotificationQueued, res domain.NotificationAttempted, attempt int, delay time.Duration) {
	if q.IncidentID == 0 {
		return
	}
	_, err := d.recorder.Handle(ctx, commands.RecordDelivery{AccountID: q.Notification.AccountID, Retry: &domain.NotificationRetrying{
		DeliveryID: q.DeliveryID, ChannelID: q.ChannelID, ChannelName: res.ChannelName, ChannelType: res.ChannelType,
		IncidentID: q.IncidentID, Event: q.Notification.Event, Attempt: attempt, Error: res.Error, RetryInMs: delay.Milliseconds()}})
	if err != nil && ctx.Err() == nil {
		d.log.Warn("record a failed notification attempt", "delivery", q.DeliveryID, "attempt", attempt, "err", err)
	}
}

// record appends the outcome, retrying while the database is away: a sent
// notification whose outcome is lost would be sent again.
func (d *Dispatcher) record(ctx context.Context, accountID int64, res domain.NotificationAttempted) bool {
	// A sent notification is recorded even while shutting down, within
	// reason, so that the restart does not send it again.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	for {
		_, err := d.recorder.Handle(rctx, commands.RecordDelivery{AccountID: accountID, Outcome: &res})
		if err == nil {
			return true
		}
		d.log.Warn("record a notification outcome; retrying", "delivery", res.DeliveryID, "err", err)
		if !projections.Sleep(rctx, time.Second) {
			return false
		}
	}
}

// permanent reports whether the sender says retrying cannot help (a mail
// server's 5xx, a webhook's 4xx).
func permanent(err error) bool {
	var p interface{ Permanent() bool }
	return errors.As(err, &p) && p.Permanent()
}
