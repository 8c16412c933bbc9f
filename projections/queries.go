package projections

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/medialuna/medialuna/domain"
)

// Queries reads the read models.
type Queries struct {
	db   *sqlx.DB
	wake *checkpointWakeups // nil: WaitFor polls (see ListenForCheckpoints)
}

// NewQueries returns a reader over db.
func NewQueries(db *sqlx.DB) *Queries { return &Queries{db: db} }

func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return domain.Errorf(domain.ErrNotFound, "%s not found", what)
	}
	return err
}

// Account returns account id.
func (q *Queries) Account(ctx context.Context, id int64) (AccountRow, error) {
	var a AccountRow
	err := q.db.GetContext(ctx, &a, `SELECT * FROM accounts WHERE id = $1`, id)
	return a, notFound(err, "account")
}

// User returns user id of account accountID.
func (q *Queries) User(ctx context.Context, accountID, id int64) (UserRow, error) {
	var u UserRow
	err := q.db.GetContext(ctx, &u, `SELECT id, account_id, email, full_name, coalesce(role, '') AS role, password_hash, created_at, two_factor, tokens_valid_after
		FROM users WHERE id = $1 AND account_id = $2`, id, accountID)
	return u, notFound(err, "user")
}

// UserByEmail returns the user with email (lower-case).
func (q *Queries) UserByEmail(ctx context.Context, email string) (UserRow, error) {
	var u UserRow
	err := q.db.GetContext(ctx, &u, `SELECT id, account_id, email, full_name, coalesce(role, '') AS role, password_hash, created_at, two_factor, tokens_valid_after
		FROM users WHERE email = $1 AND role IS NOT NULL ORDER BY id LIMIT 1`, email)
	return u, notFound(err, "user")
}

// Users lists an account's members, lowest id first.
func (q *Queries) Users(ctx context.Context, accountID int64) ([]UserRow, error) {
	out := []UserRow{}
	err := q.db.SelectContext(ctx, &out, `SELECT id, account_id, email, full_name, coalesce(role, '') AS role, password_hash, created_at, two_factor, tokens_valid_after
		FROM users WHERE account_id = $1 AND role IS NOT NULL ORDER BY id`, accountID)
	return out, err
}

// PendingInvites lists invitations not yet accepted, withdrawn, replaced
// nor expired.
func (q *Queries) PendingInvites(ctx context.Context, accountID int64, now time.Time) ([]InviteRow, error) {
	out := []InviteRow{}
	err := q.db.SelectContext(ctx, &out, `SELECT * FROM invites WHERE account_id = $1 AND accepted_by IS NULL AND revoked_at IS NULL
		AND expires_at > $2 ORDER BY id`, accountID, now)
	return out, err
}

// Invite returns invitation id of account accountID, whatever became of it
// (accepted, withdrawn, replaced or expired).
func (q *Queries) Invite(ctx context.Context, accountID, id int64) (InviteRow, error) {
	var inv InviteRow
	err := q.db.GetContext(ctx, &inv, `SELECT * FROM invites WHERE id = $1 AND account_id = $2`, id, accountID)
	return inv, notFound(err, "invitation")
}

// APIKeyByHash finds a key by the SHA-256 of its secret.
func (q *Queries) APIKeyByHash(ctx context.Context, hash string) (APIKeyRow, error) {
	var k APIKeyRow
	err := q.db.GetContext(ctx, &k, `SELECT * FROM api_keys WHERE key_hash = $1`, hash)
	return k, notFound(err, "API key")
}

// APIKey returns key id of account accountID.
func (q *Queries) APIKey(ctx context.Context, accountID, id int64) (APIKeyRow, error) {
	var k APIKeyRow
	err := q.db.GetContext(ctx, &k, `SELECT k.*, u.last_used_at FROM api_keys k LEFT JOIN api_key_use u ON u.key_id = k.id
		WHERE k.id = $1 AND k.account_id = $2`, id, accountID)
	return k, notFound(err, "API key")
}

// APIKeys lists the keys of an account that are not revoked, optionally
// only those of one user.
func (q *Queries) APIKeys(ctx context.Context, accountID int64, userID int64) ([]APIKeyRow, error) {
	out := []APIKeyRow{}
	err := q.db.SelectContext(ctx, &out, `SELECT k.*, u.last_used_at FROM api_keys k LEFT JOIN api_key_use u ON u.key_id = k.id
		WHERE k.account_id = $1 AND ($2::bigint = 0 OR k.user_id = $2) AND k.revoked_at IS NULL ORDER BY k.id`, accountID, userID)
	return out, err
}

// Usage counts what an account uses against its plan's limits.
type Usage struct {
	Monitors int `db:"monitors" json:"monitors"`
	Users    int `db:"users" json:"users"`
	APIKeys  int `db:"api_keys" json:"api_keys"`
	// PendingInvites count against the user limit too, until they expire.
	PendingInvites int `db:"pending_invites" json:"pending_invites"`
	// Regions is the most regions any one monitor uses: the plan's region
	// limit is per monitor.
	Regions     int `db:"regions" json:"regions"`
	StatusPages int `db:"-" json:"status_pages"`
}

// Usage returns an account's usage.
func (q *Queries) Usage(ctx context.Context, accountID int64, now time.Time) (Usage, error) {
	var u Usage
	err := q.db.GetContext(ctx, &u, `SELECT
		(SELECT count(*) FROM monitors WHERE account_id = $1) AS monitors,
		(SELECT count(*) FROM users WHERE account_id = $1 AND role IS NOT NULL) AS users,
		(SELECT count(*) FROM api_keys WHERE account_id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)) AS api_keys,
		(SELECT count(*) FROM invites WHERE account_id = $1 AND accepted_by IS NULL AND revoked_at IS NULL AND expires_at > $2) AS pending_invites,
		(SELECT coalesce(max(cardinality(region_ids)), 0) FROM monitors WHERE account_id = $1) AS regions`,
		accountID, now)
	if err != nil {
		return u, err
	}
	u.StatusPages, err = q.CountStatusPages(ctx, accountID)
	return u, err
}

// ProjectorStatus is one projector's progress, for GET /api/admin/projections.
type ProjectorStatus struct {
	Name          string     `db:"name" json:"name"`
	Version       int        `db:"version" json:"version"`
	Position      uint64     `db:"position" json:"position"`
	HeadPosition  uint64     `db:"head" json:"head_position"`
	LagEvents     int64      `db:"lag_events" json:"lag_events"`
	LagSeconds    float64    `db:"lag_seconds" json:"lag_seconds"`
	EventsApplied int64      `db:"events_applied" json:"events_applied"`
	Parked        int64      `db:"parked" json:"parked_events"`
	UpdatedAt     *time.Time `db:"updated_at" json:"updated_at"`
	// RecentlyParked are its latest parked events with their errors, newest
	// first (at most five), for a person to look at.
	RecentlyParked []ParkedEvent `db:"-" json:"recently_parked"`
}

// ParkedEvent is an event a projector or consumer could not apply and went
// past.
type ParkedEvent struct {
	Projector string    `db:"projector" json:"-"`
	EventID   string    `db:"event_id" json:"event_id"`
	StreamID  string    `db:"stream_id" json:"stream_id"`
	EventType string    `db:"event_type" json:"event_type"`
	Error     string    `db:"error" json:"error"`
	ParkedAt  time.Time `db:"parked_at" json:"parked_at"`
}

// ProjectorStatuses reports each named projector's checkpoint against the
// head of the PostgreSQL log: events and check_events, one order. Every
// read goes through the log-order indexes: the head of check_events is the
// last row of its partitions in log order (max(position) has no index
// there; the last row in log order may hold a slightly lower position than
// the highest, which only the head figure people read shows: the lag is
// counted apart), and the log is NOT MATERIALIZED so that each projector's lag
// reads only the rows past its checkpoint. Read whole, the log cost 0.17 s
// a call at 10,000 monitors: the costliest statement of a check-engine
// benchmark that polls this once a second.
func (q *Queries) ProjectorStatuses(ctx context.Context, names []string) ([]ProjectorStatus, error) {
	out := []ProjectorStatus{}
	err := q.db.SelectContext(ctx, &out, `
		WITH head AS (SELECT greatest((SELECT max(position) FROM events),
			(SELECT position FROM check_events ORDER BY transaction_id DESC, position DESC LIMIT 1), 0) AS position),
		log AS NOT MATERIALIZED (SELECT transaction_id, position, recorded_at FROM events
			UNION ALL SELECT transaction_id, position, recorded_at FROM check_events)
		SELECT n.name, coalesce(c.version, 0) AS version, coalesce(c.prepare_position, 0) AS position,
			head.position AS head, coalesce(c.events_applied, 0) AS events_applied, c.updated_at,
			(SELECT count(*) FROM log e WHERE (e.transaction_id, e.position) > (coalesce(c.commit_position, 0)::text::xid8, coalesce(c.prepare_position, 0))) AS lag_events,
			coalesce((SELECT extract(epoch FROM now() - min(e.recorded_at)) FROM log e
				WHERE (e.transaction_id, e.position) > (coalesce(c.commit_position, 0)::text::xid8, coalesce(c.prepare_position, 0))), 0)::float8 AS lag_seconds,
			(SELECT count(*) FROM parked_events p WHERE p.projector = n.name) AS parked
		FROM unnest($1::text[]) AS n(name) CROSS JOIN head
		LEFT JOIN projection_checkpoints c ON c.name = n.name ORDER BY n.name`, pq.Array(names))
	if err != nil {
		return nil, err
	}
	var parked []ParkedEvent
	if err := q.db.SelectContext(ctx, &parked, `SELECT projector, event_id::text AS event_id, stream_id, event_type, error, parked_at
		FROM (SELECT p.*, row_number() OVER (PARTITION BY projector ORDER BY parked_at DESC, event_id) AS n
			FROM parked_events p WHERE projector = ANY($1)) ranked
		WHERE n <= 5 ORDER BY projector, parked_at DESC, event_id`, pq.Array(names)); err != nil {
		return nil, err
	}
	for i := range out {
		out[i].RecentlyParked = []ParkedEvent{}
		for _, p := range parked {
			if p.Projector == out[i].Name {
				out[i].RecentlyParked = append(out[i].RecentlyParked, p)
			}
		}
	}
	return out, nil
}

// WaitFor blocks until every named projector has applied the event at pos,
// so that a client reading right after a write sees it. It gives up quietly
// at ctx's deadline: the write is durable either way.
//
// With ListenForCheckpoints it re-reads the checkpoints when a projector's
// transaction commits (the NOTIFY in saveCheckpoint, from whichever
// process runs the projectors), so a write is answered about as soon as
// its read models hold it; a poll every 50 ms stays as the fallback for a
// lost notification or a dropped LISTEN connection. Without it, it polls
// with a backoff from 2 to 50 ms.
func (q *Queries) WaitFor(ctx context.Context, names []string, pos domain.Position) error {
	var woken <-chan struct{}
	if q.wake != nil {
		// Subscribed before the first read: a commit between the read and
		// the wait still wakes it.
		ch := q.wake.subscribe()
		defer q.wake.unsubscribe(ch)
		woken = ch
	}
	delay := 2 * time.Millisecond
	for {
		var behind int
		err := q.db.GetContext(ctx, &behind, `SELECT count(*) FROM unnest($1::text[]) AS n(name)
			LEFT JOIN projection_checkpoints c ON c.name = n.name
			WHERE c.name IS NULL OR (c.commit_position, c.prepare_position) < ($2, $3)`,
			pq.Array(names), int64(pos.Commit), int64(pos.Prepare))
		if err != nil {
			return err
		}
		if behind == 0 {
			return nil
		}
		if woken != nil {
			delay = fallbackPoll
		}
		t := time.NewTimer(delay)
	wait:
		for {
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-woken:
				// Another projector's checkpoint, or one still short of
				// pos: no need to read them all again yet.
				if !q.wake.mayHaveReached(names, pos) {
					continue
				}
				break wait
			case <-t.C:
				break wait
			}
		}
		t.Stop()
		delay = min(delay*2, 50*time.Millisecond)
	}
}

// WaitUntilBuilt blocks until every named read model has tables to read
// (a checkpoint row exists, at any version: during a rebuild for a new
// version the old tables keep serving). A fresh install builds them in a
// moment; the API must not answer before, or its first requests fail.
func (q *Queries) WaitUntilBuilt(ctx context.Context, names []string) error {
	for {
		var n int
		err := q.db.GetContext(ctx, &n, `SELECT count(*) FROM projection_checkpoints WHERE name = ANY($1)`, pq.Array(names))
		if err != nil {
			return err
		}
		if n == len(names) {
			return nil
		}
		if !sleep(ctx, 20*time.Millisecond) {
			return ctx.Err()
		}
	}
}
