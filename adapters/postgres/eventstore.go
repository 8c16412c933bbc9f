package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/medialuna/medialuna/domain"
)

var _ domain.EventStore = (*EventStore)(nil)

// notifyChannel is the LISTEN/NOTIFY channel that wakes followers. The
// notification is sent inside the appending transaction, so PostgreSQL
// delivers it only after the commit.
const notifyChannel = "medialuna_events"

// EventStore is the PostgreSQL event log.
//
// The gap problem: a position is taken from a sequence at insert time but
// becomes visible at commit, so a follower reading "position > checkpoint"
// can see N+1 while N's transaction is still open, move past N and never see
// it. We record each row's transaction id (xid8), order the log by
// (transaction id, position), and hand followers only rows whose transaction
// id is below pg_snapshot_xmin(pg_current_snapshot()): every transaction
// with a lower id has finished, so nothing can later appear before the
// follower's checkpoint. The checkpoint is the pair (transaction id,
// position). The price: a long-running transaction anywhere in the cluster
// holds followers back, so sessions set idle_in_transaction_session_timeout.
type EventStore struct {
	db  *sqlx.DB
	dsn string
	log *slog.Logger

	wakeOnce sync.Once
	wakeMu   sync.Mutex
	waiters  map[chan struct{}]struct{}
	wakeErr  error
	listener *pq.Listener // nil until a follower needs it, and after Close

	tail tail
}

// NewEventStore returns the log over db. dsn is used for a dedicated LISTEN
// connection that wakes followers; an empty dsn makes followers poll.
func NewEventStore(db *sqlx.DB, dsn string, log *slog.Logger) *EventStore {
	return &EventStore{db: db, dsn: dsn, log: log, waiters: map[chan struct{}]struct{}{}}
}

// Append implements domain.EventStore.
func (s *EventStore) Append(ctx context.Context, stream string, expected domain.ExpectedVersion, events ...domain.EventData) (domain.AppendResult, error) {
	if stream == "" {
		return domain.AppendResult{}, domain.Errorf(domain.ErrInvalid, "stream id must not be empty")
	}
	if len(events) == 0 {
		return domain.AppendResult{}, domain.Errorf(domain.ErrInvalid, "nothing to append")
	}
	cols, err := newColumns(events)
	if err != nil {
		return domain.AppendResult{}, err
	}
	n := len(events)
	args := append([]any{stream}, append(cols.args(), int64(expected))...)

	var res appendRow
	if expected == domain.AnyVersion {
		// Appends without a version guard take a per-stream lock so that two
		// of them cannot pick the same next version and fail spuriously.
		err = s.inTx(ctx, func(tx *sqlx.Tx) error {
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, stream); err != nil {
				return err
			}
			return tx.GetContext(ctx, &res, appendSQL, args...)
		})
	} else {
		// One statement, so one round trip and its own transaction: it reads
		// the stream's version, inserts only if it matches, and queues the
		// wake-up notification, which PostgreSQL sends at commit.
		err = s.db.GetContext(ctx, &res, appendSQL, args...)
	}
	if err != nil {
		return domain.AppendResult{}, FormatError(err)
	}
	if res.Inserted == 0 {
		return domain.AppendResult{}, domain.Errorf(domain.ErrConflict,
			"stream %s is at version %d, expected %d; reload and retry", stream, res.Current, expected)
	}
	txid, err := strconv.ParseUint(res.Tx.String, 10, 64)
	if err != nil {
		return domain.AppendResult{}, fmt.Errorf("parse transaction id %q: %w", res.Tx.String, err)
	}
	return domain.AppendResult{
		NextExpectedVersion: domain.ExpectedVersion(res.Current + int64(n)),
		Position:            domain.Position{Commit: txid, Prepare: uint64(res.Position.Int64)},
	}, nil
}

// AppendBatch implements domain.EventStore. One transaction: lock the
// streams in a fixed order (so concurrent batches cannot deadlock), then
// insert the events not yet in the log with versions continuing each
// stream.
func (s *EventStore) AppendBatch(ctx context.Context, events []domain.StreamEvent) (domain.Position, error) {
	if len(events) == 0 {
		return domain.Position{}, nil
	}
	streams := make([]string, len(events))
	data := make([]domain.EventData, len(events))
	for i, se := range events {
		if se.Stream == "" {
			return domain.Position{}, domain.Errorf(domain.ErrInvalid, "stream id must not be empty")
		}
		streams[i], data[i] = se.Stream, se.Event
	}
	cols, err := newColumns(data)
	if err != nil {
		return domain.Position{}, err
	}
	// Checks go to check_events in typed columns; their JSON is not sent.
	cc := newCompactColumns(len(events))
	for i, se := range events {
		if c, ok := compactOf(se.Stream, se.Event); ok {
			cc.set(i, c)
			cols.data[i], cols.metas[i] = "", ""
		}
	}
	args := append(append([]any{pq.Array(streams)}, cols.args()...), pq.Array(cc.compact), pq.Array(cc.monitor), pq.Array(cc.region),
		pq.Array(cc.scheduled), pq.Array(cc.checked), pq.Array(cc.up), pq.Array(cc.rt), pq.Array(cc.code), pq.Array(cc.errs),
		pq.Array(cc.details), pq.Array(cc.cert), pq.Array(cc.maint), pq.Array(cc.ids), pq.Array(cc.account), pq.Array(cc.metas))
	var res appendRow
	for attempt := 0; ; attempt++ {
		err := s.inTx(ctx, func(tx *sqlx.Tx) error {
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended(s, 0))
				FROM (SELECT DISTINCT s FROM unnest($1::text[]) AS s ORDER BY s) AS locked`, pq.Array(streams)); err != nil {
				return err
			}
			return tx.GetContext(ctx, &res, appendBatchSQL, args...)
		})
		// Two retries of one batch racing each other: the loser hits the
		// event id constraint; once more and it sees the winner's rows.
		if err != nil && attempt == 0 && isUniqueViolation(err, "events_event_id_key") {
			continue
		}
		if err != nil {
			return domain.Position{}, FormatError(err)
		}
		break
	}
	if res.Inserted == 0 {
		return domain.Position{}, nil
	}
	txid, err := strconv.ParseUint(res.Tx.String, 10, 64)
	if err != nil {
		return domain.Position{}, fmt.Errorf("parse transaction id %q: %w", res.Tx.String, err)
	}
	return domain.Position{Commit: txid, Prepare: uint64(res.Position.Int64)}, nil
}

// columns holds a batch of events as the column arrays the insert unnests.
type columns struct {
	ids, types, data, metas, accounts []string
	versions                          []int64
}

func newColumns(events []domain.EventData) (columns, error) {
	n := len(events)
	c := columns{ids: make([]string, n), types: make([]string, n), data: make([]string, n), metas: make([]string, n),
		accounts: make([]string, n), versions: make([]int64, n)}
	for i, e := range events {
		meta, err := json.Marshal(e.Metadata)
		if err != nil {
			return c, err
		}
		c.ids[i], c.types[i], c.versions[i], c.data[i], c.metas[i] = e.ID, e.Type, int64(e.Version), string(e.Data), string(meta)
		if e.Metadata.AccountID != 0 {
			c.accounts[i] = strconv.FormatInt(e.Metadata.AccountID, 10)
		}
	}
	return c, nil
}

// args are the arrays in the order both insert statements take them.
func (c columns) args() []any {
	return []any{pq.Array(c.ids), pq.Array(c.types), pq.Array(c.versions), pq.Array(c.data), pq.Array(c.metas), pq.Array(c.accounts)}
}

func isUniqueViolation(err error, constraint string) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && pqErr.Code == "23505" && pqErr.Constraint == constraint
}

// appendBatchSQL skips events already in the log (by event id in events;
// by check and explicit id, if any, in check_events), numbers the rest per
// stream in the batch's order after the stream's current version (the
// greater of events' and check_stream_heads'), takes their positions in
// the batch's order (so the log keeps it across both tables), and inserts
// checks into check_events and everything else into events.
const appendBatchSQL = `
	WITH input AS (
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::text[],
			$8::bool[], $9::bigint[], $10::int[], $11::text[], $12::text[], $13::bool[], $14::float8[], $15::text[],
			$16::text[], $17::text[], $18::text[], $19::bool[], $20::text[], $21::bigint[], $22::text[])
			WITH ORDINALITY AS u(stream, id, t, ev, d, m, a, compact, mon, reg, sched, checked, up, rt, code, err, det, cert, maint, eid, cacct, cmeta, ord)),
	fresh AS (
		SELECT DISTINCT ON (id) * FROM input
		WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.event_id = input.id::uuid)
		  AND NOT (input.compact AND EXISTS (SELECT 1 FROM check_events c WHERE c.monitor_id = input.mon
			AND c.scheduled_at = input.sched::timestamptz AND c.region_id = input.reg
			AND c.event_id IS NOT DISTINCT FROM NULLIF(input.eid, '')::uuid))
		ORDER BY id, ord),
	cur AS (
		SELECT f.stream, greatest(coalesce((SELECT max(e.stream_version) FROM events e WHERE e.stream_id = f.stream), -1),
			coalesce((SELECT h.version FROM check_stream_heads h WHERE h.stream_id = f.stream), -1)) AS v
		FROM (SELECT DISTINCT stream FROM fresh) AS f),
	numbered AS (
		SELECT n.*, nextval('events_position_seq') AS pos FROM (
			SELECT f.*, cur.v + row_number() OVER (PARTITION BY f.stream ORDER BY f.ord) AS ver
			FROM fresh f JOIN cur ON cur.stream = f.stream ORDER BY f.ord) AS n),
	ins AS (
		INSERT INTO events (position, stream_id, stream_version, event_id, event_type, event_version, data, metadata, account_id)
		SELECT pos, stream, ver, id::uuid, t, ev, d::json, m::json, NULLIF(a, '')::bigint
		FROM numbered WHERE NOT compact ORDER BY ord
		RETURNING transaction_id, position),
	insc AS (
		INSERT INTO check_events (position, stream_version, monitor_id, account_id, scheduled_at, checked_at, response_time_ms,
			cert_expires_at, region_id, status_code, up, in_maintenance, error, detail, stream_id, event_id, metadata)
		SELECT pos, ver, mon, cacct, sched::timestamptz, checked::timestamptz, rt, NULLIF(cert, '')::timestamptz, reg,
			NULLIF(code, '')::int, up, maint, err, det, NULLIF(stream, '` + checksStreamPrefix + `' || reg),
			NULLIF(eid, '')::uuid, NULLIF(cmeta, '')::json
		FROM numbered WHERE compact ORDER BY ord
		RETURNING transaction_id, position),
	heads AS (
		INSERT INTO check_stream_heads AS h (stream_id, version)
		SELECT stream, max(ver) FROM numbered WHERE compact GROUP BY stream
		ON CONFLICT (stream_id) DO UPDATE SET version = greatest(h.version, EXCLUDED.version)
		RETURNING 1),
	inserted AS (SELECT * FROM ins UNION ALL SELECT * FROM insc),
	wake AS (SELECT pg_notify('` + notifyChannel + `', '') FROM (SELECT 1 FROM inserted LIMIT 1) AS any_row)
	SELECT 0::bigint AS current,
		(SELECT count(*) FROM inserted) AS inserted,
		(SELECT transaction_id::text FROM inserted LIMIT 1) AS transaction_id,
		(SELECT max(position) FROM inserted) AS position,
		(SELECT count(*) FROM wake) + 0 * (SELECT count(*) FROM heads) AS woken`

// appendSQL inserts a batch with one round trip by unnesting column arrays.
// $8 is the expected version; -2 (AnyVersion) matches any current version.
const appendSQL = `
	WITH cur AS (SELECT greatest(coalesce(max(stream_version), -1),
		coalesce((SELECT h.version FROM check_stream_heads h WHERE h.stream_id = $1), -1)) AS v FROM events WHERE stream_id = $1),
	ins AS (
		INSERT INTO events (stream_id, stream_version, event_id, event_type, event_version, data, metadata, account_id)
		SELECT $1, cur.v + u.ord, u.id::uuid, u.t, u.ev, u.d::json, u.m::json, NULLIF(u.a, '')::bigint
		FROM cur, unnest($2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::text[]) WITH ORDINALITY AS u(id, t, ev, d, m, a, ord)
		WHERE cur.v = $8 OR $8 = -2
		RETURNING transaction_id, position),
	wake AS (SELECT pg_notify('` + notifyChannel + `', '') FROM (SELECT 1 FROM ins LIMIT 1) AS any_row)
	SELECT cur.v AS current,
		(SELECT count(*) FROM ins) AS inserted,
		(SELECT transaction_id::text FROM ins LIMIT 1) AS transaction_id,
		(SELECT max(position) FROM ins) AS position,
		(SELECT count(*) FROM wake) AS woken
	FROM cur`

type appendRow struct {
	Current  int64          `db:"current"`
	Inserted int            `db:"inserted"`
	Tx       sql.NullString `db:"transaction_id"`
	Position sql.NullInt64  `db:"position"`
	Woken    int            `db:"woken"`
}

func (s *EventStore) inTx(ctx context.Context, fn func(*sqlx.Tx) error) error {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

const selectEvents = `SELECT position, transaction_id::text AS transaction_id, stream_id, stream_version, event_id::text AS event_id,
	event_type, event_version, data::text AS data, metadata::text AS metadata, recorded_at FROM events `

type eventRow struct {
	Position      uint64    `db:"position"`
	TransactionID string    `db:"transaction_id"`
	StreamID      string    `db:"stream_id"`
	StreamVersion int64     `db:"stream_version"`
	EventID       string    `db:"event_id"`
	EventType     string    `db:"event_type"`
	EventVersion  int       `db:"event_version"`
	Data          string    `db:"data"`
	Metadata      string    `db:"metadata"`
	RecordedAt    time.Time `db:"recorded_at"`
}

func (r eventRow) toRecorded() (domain.RecordedEvent, error) {
	txid, err := strconv.ParseUint(r.TransactionID, 10, 64)
	if err != nil {
		return domain.RecordedEvent{}, fmt.Errorf("parse transaction id: %w", err)
	}
	var meta domain.Metadata
	if err := json.Unmarshal([]byte(r.Metadata), &meta); err != nil {
		return domain.RecordedEvent{}, fmt.Errorf("event %d metadata: %w", r.Position, err)
	}
	return domain.RecordedEvent{
		EventData: domain.EventData{ID: r.EventID, Type: r.EventType, Version: r.EventVersion,
			Data: json.RawMessage(r.Data), Metadata: meta},
		StreamID: r.StreamID, StreamVersion: r.StreamVersion,
		Position: domain.Position{Commit: txid, Prepare: r.Position},
		Sequence: r.Position, RecordedAt: r.RecordedAt.UTC(),
	}, nil
}

func (s *EventStore) query(ctx context.Context, q string, args ...any) ([]domain.RecordedEvent, error) {
	rows, err := s.db.QueryxContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []domain.RecordedEvent
	for rows.Next() {
		var r eventRow
		// Plain Scan: StructScan's reflection costs a third of a catch-up read.
		if err := rows.Scan(&r.Position, &r.TransactionID, &r.StreamID, &r.StreamVersion, &r.EventID,
			&r.EventType, &r.EventVersion, &r.Data, &r.Metadata, &r.RecordedAt); err != nil {
			return nil, err
		}
		ev, err := r.toRecorded()
		if err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	return out, rows.Err()
}

// ReadStream implements domain.EventStore.
func (s *EventStore) ReadStream(ctx context.Context, stream string) ([]domain.RecordedEvent, error) {
	// check_events keeps the stream only of checks appended to a stream
	// other than their region's (check_events_other_stream).
	checks := `stream_id = $1`
	if _, ok := regionOfStream(stream); ok {
		checks = `region_id = substr($1, ` + strconv.Itoa(len(checksStreamPrefix)+1) + `)::int AND stream_id IS NULL`
	}
	return s.queryMerged(ctx, `SELECT `+mergedColumns+` FROM (`+eventsHalf+`WHERE stream_id = $1
		UNION ALL `+checksHalf+`WHERE `+checks+`) u ORDER BY stream_version`, stream)
}

// queryMerged reads rows of the merged log (eventsHalf and checksHalf).
func (s *EventStore) queryMerged(ctx context.Context, q string, args ...any) ([]domain.RecordedEvent, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []domain.RecordedEvent
	for rows.Next() {
		var r logRow
		if err := r.scan(rows); err != nil {
			return nil, err
		}
		ev, err := r.toRecorded()
		if err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	return out, rows.Err()
}

// ReadStreamTail implements domain.EventStore: the (stream_id,
// stream_version) index read backwards, so its cost is n, not the stream's
// length.
func (s *EventStore) ReadStreamTail(ctx context.Context, stream string, n int) ([]domain.RecordedEvent, error) {
	if n < 1 {
		return nil, domain.Errorf(domain.ErrInvalid, "read at least one event")
	}
	out, err := s.query(ctx, selectEvents+`WHERE stream_id = $1 ORDER BY stream_version DESC LIMIT $2`, stream, n)
	slices.Reverse(out)
	return out, err
}

// ReadAll implements domain.EventStore.
func (s *EventStore) ReadAll(ctx context.Context, from domain.Position, limit int) ([]domain.RecordedEvent, error) {
	if limit <= 0 {
		limit = 1000
	}
	return s.queryMerged(ctx, readAllSQL, strconv.FormatUint(from.Commit, 10), from.Prepare, limit)
}

// readAllSQL merges the two tables of the log in log order; each half
// reads its (transaction_id, position) index, and the merge stops at the
// limit.
const readAllSQL = `SELECT ` + mergedColumns + ` FROM (` + eventsHalf + `
		WHERE (transaction_id, position) > ($1::text::xid8, $2)
		  AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
		UNION ALL ` + checksHalf + `
		WHERE (transaction_id, position) > ($1::text::xid8, $2)
		  AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())) u
	ORDER BY transaction_id, position
	LIMIT $3`

// ReadAccount returns up to limit committed events of one account (by
// Metadata.AccountID) after from, in log order. It reads the events_account
// index: its cost follows the account's own events, not the length of the
// log. It backs the audit export (projections.ExportAudit); the
// EventStoreDB adapter has no such index.
//
// Check results (check_events) are not part of it: an account's checks are
// millions of facts a day, not changes anyone made, and an index for them
// would cost a fifth of a check's bytes at rest. Their history is the
// metrics API's.
//
// Unlike ReadAll it does not hold back events behind an older open
// transaction: an export shows everything committed, even while a long
// transaction runs elsewhere in the cluster (ReadAll would return nothing
// past it). The price, acceptable for an export and not for a follower: an
// event that commits while a caller pages, with a position before the
// caller's, is not returned.
func (s *EventStore) ReadAccount(ctx context.Context, accountID int64, from domain.Position, limit int) ([]domain.RecordedEvent, error) {
	if limit <= 0 {
		limit = 1000
	}
	return s.query(ctx, readAccountSQL, accountID, strconv.FormatUint(from.Commit, 10), from.Prepare, limit)
}

const readAccountSQL = selectEvents + `
	WHERE events.account_id = $1
	  AND (events.transaction_id, events.position) > ($2::text::xid8, $3)
	ORDER BY events.transaction_id, events.position
	LIMIT $4`

// ReadAccountBackward returns up to limit committed events of one account
// before before (the zero Position: from the newest), newest first, for the
// dashboard's audit log. It reads the events_account index backwards.
func (s *EventStore) ReadAccountBackward(ctx context.Context, accountID int64, before domain.Position, limit int) ([]domain.RecordedEvent, error) {
	if limit <= 0 {
		limit = 1000
	}
	if before == (domain.Position{}) {
		return s.query(ctx, readAccountNewestSQL, accountID, limit)
	}
	return s.query(ctx, readAccountBackwardSQL, accountID, strconv.FormatUint(before.Commit, 10), before.Prepare, limit)
}

const readAccountNewestSQL = selectEvents + `
	WHERE events.account_id = $1
	ORDER BY events.transaction_id DESC, events.position DESC
	LIMIT $2`

const readAccountBackwardSQL = selectEvents + `
	WHERE events.account_id = $1
	  AND (events.transaction_id, events.position) < ($2::text::xid8, $3)
	ORDER BY events.transaction_id DESC, events.position DESC
	LIMIT $4`

// heldBack reports whether committed events after from exist that ReadAll
// does not return yet because an older transaction is still open.
func (s *EventStore) heldBack(ctx context.Context, from domain.Position) (bool, error) {
	var exists bool
	err := s.db.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM events
		WHERE (events.transaction_id, events.position) > ($1::text::xid8, $2))
		OR EXISTS (SELECT 1 FROM check_events c WHERE (c.transaction_id, c.position) > ($1::text::xid8, $2))`,
		strconv.FormatUint(from.Commit, 10), from.Prepare)
	return exists, err
}

// Head implements domain.EventStore.
func (s *EventStore) Head(ctx context.Context) (domain.Position, error) {
	var row struct {
		Tx  string `db:"transaction_id"`
		Pos uint64 `db:"position"`
	}
	err := s.db.GetContext(ctx, &row, `SELECT transaction_id::text AS transaction_id, position FROM (
		(SELECT transaction_id, position FROM events WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())
		 ORDER BY transaction_id DESC, position DESC LIMIT 1)
		UNION ALL
		(SELECT transaction_id, position FROM check_events WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())
		 ORDER BY transaction_id DESC, position DESC LIMIT 1)) u
		ORDER BY u.transaction_id DESC, u.position DESC LIMIT 1`)
	if err != nil {
		if domain.ErrorCode(FormatError(err)) == domain.ErrNotFound {
			return domain.Position{}, nil
		}
		return domain.Position{}, err
	}
	tx, err := strconv.ParseUint(row.Tx, 10, 64)
	return domain.Position{Commit: tx, Prepare: row.Pos}, err
}

// Follow implements domain.EventStore. Followers near the head of the log
// share their reads through the store's tail (see tail).
func (s *EventStore) Follow(ctx context.Context, from domain.Position, batchSize int, fn func([]domain.RecordedEvent) error) error {
	wake := s.subscribeWakeups()
	defer s.unsubscribeWakeups(wake)
	const idlePoll = time.Second
	retry := time.Millisecond
	for {
		batch, held, err := s.readFollow(ctx, from, batchSize)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			// A lost database connection is not the end of a follower: wait
			// and resume from the same position.
			s.log.Warn("event log read failed; retrying", "err", err)
			if !sleep(ctx, time.Second) {
				return ctx.Err()
			}
			continue
		}
		if len(batch) > 0 {
			if err := fn(batch); err != nil {
				return err
			}
			from = batch[len(batch)-1].Position
			retry = time.Millisecond
			continue // the next read comes from the tail, or is shared
		}
		// Nothing (more) visible. If committed events are held back by an
		// older open transaction, look again soon; otherwise wait for a
		// wake-up or the idle poll.
		if held {
			if !sleep(ctx, retry) {
				return ctx.Err()
			}
			retry = min(retry*2, 100*time.Millisecond)
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wake:
		case <-time.After(idlePoll):
		}
	}
}

// tailCapacity is how many of the newest events the tail keeps: about 25
// seconds at 333 checks a second. A follower further behind reads the log
// itself until it catches up.
const tailCapacity = 8192

// tail is the newest stretch of the log that a follower has read, in
// memory, so that the other followers (a server runs a dozen: every
// projector and process manager) take it from there instead of each asking
// PostgreSQL for the same rows and the same held-back check. It is exact,
// not a guess: events holds every committed event after start, in log
// order, because each extension is a ReadAll from the tail's last position
// and ReadAll never skips an event that could later appear before its last
// (see the gap problem above). At the end of the tail, one follower reads
// for all: the others wait for its read and share its answer, events or
// "nothing yet, held back or not".
type tail struct {
	mu      sync.Mutex
	valid   bool
	start   domain.Position // the position just before events[0]
	events  []domain.RecordedEvent
	reading *tailRead // the read past the end in flight, nil when none
	last    *tailRead // the latest read past the end, done
}

// tailRead is one read past the end of the tail, shared by the followers
// that wait for it.
type tailRead struct {
	from domain.Position
	done chan struct{}
	n    int // events it added
	held bool
	err  error
}

// end is the position of the tail's last event (start when empty).
func (t *tail) end() domain.Position {
	if len(t.events) == 0 {
		return t.start
	}
	return t.events[len(t.events)-1].Position
}

// slice returns up to limit events after from when from lies inside the
// tail; ok is false when from is outside it (before its start or after
// its end).
func (t *tail) slice(from domain.Position, limit int) (out []domain.RecordedEvent, ok bool) {
	if !t.valid || from.Less(t.start) || t.end().Less(from) {
		return nil, false
	}
	i := sort.Search(len(t.events), func(i int) bool { return from.Less(t.events[i].Position) })
	j := min(i+limit, len(t.events))
	return slices.Clone(t.events[i:j]), true
}

// extend appends a read from the end and drops the oldest events past the
// capacity, copying now and then so the dropped ones can be collected.
func (t *tail) extend(evs []domain.RecordedEvent) {
	t.events = append(t.events, evs...)
	if over := len(t.events) - tailCapacity; over > 0 {
		t.start = t.events[over-1].Position
		t.events = t.events[over:]
		if cap(t.events) > 2*tailCapacity {
			t.events = slices.Clone(t.events)
		}
	}
}

// readFollow returns up to limit committed events after from, and, when it
// returns none, whether committed events are held back by an older open
// transaction. It serves from the tail when it can, shares one read past
// its end among the followers waiting there, and reads alone (leaving the
// tail as it is) when from is further behind.
func (s *EventStore) readFollow(ctx context.Context, from domain.Position, limit int) ([]domain.RecordedEvent, bool, error) {
	t := &s.tail
	var waited *tailRead
	for {
		t.mu.Lock()
		if evs, ok := t.slice(from, limit); ok && len(evs) > 0 {
			t.mu.Unlock()
			return evs, false, nil
		}
		if waited != nil && t.last == waited && waited.from == from {
			// The read this follower waited for found nothing new.
			t.mu.Unlock()
			if waited.err != nil || waited.n > 0 {
				// Its reader failed (maybe only its own context ended), or
				// found events the tail no longer holds: read again.
				waited = nil
				continue
			}
			return nil, waited.held, nil
		}
		atEnd := t.valid && from == t.end()
		if !atEnd && t.valid && from.Less(t.start) {
			t.mu.Unlock()
			return s.readAlone(ctx, from, limit)
		}
		if atEnd && t.reading != nil {
			r := t.reading
			t.mu.Unlock()
			select {
			case <-r.done:
			case <-ctx.Done():
				return nil, false, ctx.Err()
			}
			waited = r
			continue
		}
		if !atEnd {
			// Ahead of the tail, or no tail yet: start it here. A follower
			// that overtook the tail is rare (the tail's reader stalled);
			// the others then read alone until they reach the new start.
			if t.reading != nil {
				t.mu.Unlock()
				return s.readAlone(ctx, from, limit)
			}
			t.valid, t.start, t.events, t.last = true, from, nil, nil
		}
		r := &tailRead{from: from, done: make(chan struct{})}
		t.reading = r
		t.mu.Unlock()

		evs, held, err := s.readAlone(ctx, from, limit)
		t.mu.Lock()
		r.n, r.held, r.err = len(evs), held, err
		if err == nil && t.valid && t.end() == from {
			t.extend(evs)
		}
		t.reading, t.last = nil, r
		close(r.done)
		t.mu.Unlock()
		return evs, held, err
	}
}

// readAlone reads from the log itself; when it finds nothing it also asks
// whether committed events are held back.
func (s *EventStore) readAlone(ctx context.Context, from domain.Position, limit int) ([]domain.RecordedEvent, bool, error) {
	evs, err := s.ReadAll(ctx, from, limit)
	if err != nil || len(evs) > 0 {
		return evs, false, err
	}
	// A failed look is taken as "nothing held back": the follower then
	// waits for a wake-up or the idle poll, as it did before the tail.
	held, err := s.heldBack(ctx, from)
	return nil, err == nil && held, nil
}

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

// subscribeWakeups registers a follower for commit notifications. One LISTEN
// connection serves every follower of this store.
func (s *EventStore) subscribeWakeups() chan struct{} {
	s.wakeOnce.Do(s.startListener)
	ch := make(chan struct{}, 1)
	s.wakeMu.Lock()
	s.waiters[ch] = struct{}{}
	s.wakeMu.Unlock()
	return ch
}

func (s *EventStore) unsubscribeWakeups(ch chan struct{}) {
	s.wakeMu.Lock()
	delete(s.waiters, ch)
	s.wakeMu.Unlock()
}

func (s *EventStore) broadcast() {
	s.wakeMu.Lock()
	defer s.wakeMu.Unlock()
	for ch := range s.waiters {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

func (s *EventStore) startListener() {
	if s.dsn == "" {
		return
	}
	listener := pq.NewListener(s.dsn, 100*time.Millisecond, 10*time.Second, func(ev pq.ListenerEventType, err error) {
		if err != nil {
			s.log.Warn("event notification listener", "event", ev, "err", err)
		}
		if ev == pq.ListenerEventReconnected {
			s.broadcast() // notifications may have been missed while away
		}
	})
	if err := listener.Listen(notifyChannel); err != nil {
		s.log.Warn("LISTEN failed; followers will poll", "err", err)
		s.wakeErr = err
		listener.Close()
		return
	}
	s.wakeMu.Lock()
	s.listener = listener
	s.wakeMu.Unlock()
	go func() {
		for range listener.Notify {
			s.broadcast()
		}
	}()
}

// Close stops the LISTEN connection, which otherwise reconnects for the
// life of the process (tests that drop their database close it first).
// Followers still running fall back to polling.
func (s *EventStore) Close() error {
	s.wakeMu.Lock()
	l := s.listener
	s.listener = nil
	s.wakeMu.Unlock()
	if l == nil {
		return nil
	}
	return l.Close()
}
