package postgres

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/medialuna/medialuna/domain"
)

// Check events are stored in check_events (schema/0013): typed columns,
// partitioned by day of scheduled time, so that the check retention drops
// whole days while every other event stays in events forever. The log is
// the two tables merged in (transaction_id, position) order. See
// docs/architecture.md, "Check retention".

// checksStreamPrefix is domain.ChecksStream's prefix; check_events keeps the
// region id, not the stream name.
const checksStreamPrefix = "checks-region-"

// compactCheck is one check event in the columns check_events stores.
type compactCheck struct {
	monitor, account, region int64
	scheduled, checked       time.Time
	cert                     *time.Time
	rt                       float64
	code                     int
	up, maint                bool
	err, detail              string
	eventID                  string // "" when it is domain.CheckEventID of the check
	meta                     string // "" when it is the pipeline's (metadata())
}

// compactOf returns the compact form of an event bound for stream, and
// false when the event is not a check or its compact form would not give
// back exactly what it was given (then it is stored in events as JSON):
// the payload re-encoded from the columns must equal the payload byte for
// byte. Metadata other than what the check pipeline writes, and an id other
// than the derived one, are kept in their own (otherwise NULL) columns.
func compactOf(stream string, e domain.EventData) (compactCheck, bool) {
	if e.Type != domain.EvCheckRecorded || e.Version != (domain.CheckRecorded{}).EventVersion() {
		return compactCheck{}, false
	}
	var ev domain.CheckRecorded
	if err := json.Unmarshal(e.Data, &ev); err != nil {
		return compactCheck{}, false
	}
	if ev.RegionID < 0 || ev.RegionID > 1<<31-1 ||
		strings.IndexByte(ev.Error, 0) >= 0 || strings.IndexByte(ev.Detail, 0) >= 0 {
		return compactCheck{}, false
	}
	c := compactCheck{monitor: ev.MonitorID, account: e.Metadata.AccountID, region: ev.RegionID,
		scheduled: ev.ScheduledAt, checked: ev.CheckedAt, cert: ev.CertExpiresAt, rt: ev.ResponseTimeMs,
		code: ev.StatusCode, up: ev.Up, maint: ev.InMaintenance, err: ev.Error, detail: ev.Detail}
	data, meta, err := c.encode()
	if err != nil || !bytes.Equal(data, e.Data) {
		return compactCheck{}, false
	}
	given, err := json.Marshal(e.Metadata)
	if err != nil {
		return compactCheck{}, false
	}
	if !bytes.Equal(given, meta) {
		c.meta = string(given)
	}
	if e.ID != c.derivedID() {
		id, err := uuid.Parse(e.ID)
		if err != nil || id.String() != e.ID {
			return compactCheck{}, false
		}
		c.eventID = e.ID
	}
	return c, true
}

func (c compactCheck) derivedID() string {
	return domain.CheckEventID(c.monitor, c.region, c.scheduled)
}

// event returns the check as the domain struct, with times as PostgreSQL
// keeps them (microseconds, UTC).
func (c compactCheck) event() domain.CheckRecorded {
	ev := domain.CheckRecorded{MonitorID: c.monitor, RegionID: c.region, ScheduledAt: pgTime(c.scheduled), CheckedAt: pgTime(c.checked),
		InMaintenance: c.maint, CheckOutcome: domain.CheckOutcome{Up: c.up, ResponseTimeMs: c.rt, StatusCode: c.code, Error: c.err, Detail: c.detail}}
	if c.cert != nil {
		t := pgTime(*c.cert)
		ev.CertExpiresAt = &t
	}
	return ev
}

func (c compactCheck) metadata() domain.Metadata {
	return domain.Metadata{ActorType: domain.ActorProbe, ActorID: c.region, AccountID: c.account, OccurredAt: pgTime(c.checked)}
}

func (c compactCheck) encode() (data, meta []byte, err error) {
	if data, err = json.Marshal(c.event()); err != nil {
		return nil, nil, err
	}
	meta, err = json.Marshal(c.metadata())
	return data, meta, err
}

func pgTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// pgTimestamp renders a time for a ::timestamptz cast, to the microsecond.
func pgTimestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.999999Z07:00") }

// compactColumns are the check_events arrays of a batch; rows that are not
// checks hold zero values and compact false.
type compactColumns struct {
	compact, up, maint             []bool
	monitor, account, region       []int64
	scheduled, checked, cert, code []string
	rt                             []float64
	errs, details, ids, metas      []string
}

func newCompactColumns(n int) compactColumns {
	return compactColumns{compact: make([]bool, n), up: make([]bool, n), maint: make([]bool, n),
		monitor: make([]int64, n), account: make([]int64, n), region: make([]int64, n),
		scheduled: make([]string, n), checked: make([]string, n), cert: make([]string, n), code: make([]string, n),
		rt: make([]float64, n), errs: make([]string, n), details: make([]string, n), ids: make([]string, n), metas: make([]string, n)}
}

func (cc compactColumns) set(i int, c compactCheck) {
	cc.compact[i], cc.up[i], cc.maint[i] = true, c.up, c.maint
	cc.monitor[i], cc.account[i], cc.region[i] = c.monitor, c.account, c.region
	cc.scheduled[i], cc.checked[i] = pgTimestamp(c.scheduled), pgTimestamp(c.checked)
	if c.cert != nil {
		cc.cert[i] = pgTimestamp(*c.cert)
	}
	if c.code != 0 {
		cc.code[i] = strconv.Itoa(c.code)
	}
	cc.rt[i], cc.errs[i], cc.details[i], cc.ids[i], cc.metas[i] = c.rt, c.err, c.detail, c.eventID, c.meta
}

// logRow is one row of the merged log: an events row (data set) or a
// check_events row (monitor set).
type logRow struct {
	eventRow
	monitor, account          sql.NullInt64
	scheduled, checked, cert  sql.NullTime
	rt                        sql.NullFloat64
	region, code              sql.NullInt64
	up, maint                 sql.NullBool
	errText, detail, streamID sql.NullString
	eventID, eventType, data  sql.NullString
	metadata                  sql.NullString
	eventVersion              sql.NullInt64
}

// mergedColumns is what both halves of the merged log select, in the order
// logRow scans them.
const mergedColumns = `position, transaction_id::text AS txid, stream_version, recorded_at, stream_id, event_id, event_type,
	event_version, data, metadata, monitor_id, account_id, scheduled_at, checked_at, cert_expires_at, response_time_ms, region_id,
	status_code, up, in_maintenance, error, detail`

// eventsHalf and checksHalf select the same columns from each table; the
// caller appends each half's WHERE clause.
const eventsHalf = `SELECT position, transaction_id, stream_version, recorded_at, stream_id, event_id::text AS event_id, event_type,
	event_version, data::text AS data, metadata::text AS metadata, NULL::bigint AS monitor_id, NULL::bigint AS account_id,
	NULL::timestamptz AS scheduled_at, NULL::timestamptz AS checked_at, NULL::timestamptz AS cert_expires_at,
	NULL::float8 AS response_time_ms, NULL::int AS region_id, NULL::int AS status_code, NULL::bool AS up,
	NULL::bool AS in_maintenance, NULL::text AS error, NULL::text AS detail FROM events `

const checksHalf = `SELECT position, transaction_id, stream_version, recorded_at, stream_id, event_id::text AS event_id,
	NULL::text AS event_type, NULL::int AS event_version, NULL::text AS data, metadata::text AS metadata, monitor_id, account_id,
	scheduled_at, checked_at, cert_expires_at, response_time_ms, region_id, status_code, up, in_maintenance, error, detail FROM check_events `

func (r *logRow) scan(rows interface{ Scan(...any) error }) error {
	return rows.Scan(&r.Position, &r.TransactionID, &r.StreamVersion, &r.RecordedAt, &r.streamID, &r.eventID, &r.eventType,
		&r.eventVersion, &r.data, &r.metadata, &r.monitor, &r.account, &r.scheduled, &r.checked, &r.cert, &r.rt, &r.region,
		&r.code, &r.up, &r.maint, &r.errText, &r.detail)
}

func (r *logRow) toRecorded() (domain.RecordedEvent, error) {
	if !r.monitor.Valid {
		r.StreamID, r.EventID, r.EventType, r.EventVersion = r.streamID.String, r.eventID.String, r.eventType.String, int(r.eventVersion.Int64)
		r.Data, r.Metadata = r.data.String, r.metadata.String
		return r.eventRow.toRecorded()
	}
	c := compactCheck{monitor: r.monitor.Int64, account: r.account.Int64, region: r.region.Int64, scheduled: r.scheduled.Time,
		checked: r.checked.Time, rt: r.rt.Float64, code: int(r.code.Int64), up: r.up.Bool, maint: r.maint.Bool,
		err: r.errText.String, detail: r.detail.String, eventID: r.eventID.String, meta: r.metadata.String}
	if r.cert.Valid {
		t := r.cert.Time
		c.cert = &t
	}
	data, err := json.Marshal(c.event())
	if err != nil {
		return domain.RecordedEvent{}, fmt.Errorf("check event %d: %w", r.Position, err)
	}
	txid, err := strconv.ParseUint(r.TransactionID, 10, 64)
	if err != nil {
		return domain.RecordedEvent{}, fmt.Errorf("parse transaction id: %w", err)
	}
	id := c.eventID
	if id == "" {
		id = c.derivedID()
	}
	stream := domain.ChecksStream(c.region)
	if r.streamID.Valid {
		stream = r.streamID.String
	}
	meta := c.metadata()
	if c.meta != "" {
		if err := json.Unmarshal([]byte(c.meta), &meta); err != nil {
			return domain.RecordedEvent{}, fmt.Errorf("check event %d metadata: %w", r.Position, err)
		}
	}
	return domain.RecordedEvent{
		EventData: domain.EventData{ID: id, Type: domain.EvCheckRecorded, Version: (domain.CheckRecorded{}).EventVersion(),
			Data: data, Metadata: meta},
		StreamID: stream, StreamVersion: r.StreamVersion,
		Position: domain.Position{Commit: txid, Prepare: r.Position},
		Sequence: r.Position, RecordedAt: r.RecordedAt.UTC(),
	}, nil
}

// regionOfStream returns the region of a checks-region-<id> stream.
func regionOfStream(stream string) (int64, bool) {
	rest, ok := strings.CutPrefix(stream, checksStreamPrefix)
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	if err != nil || domain.ChecksStream(id) != stream {
		return 0, false
	}
	return id, true
}
