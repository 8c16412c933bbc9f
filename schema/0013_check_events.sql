-- Check results leave the log after a retention window; every other event
-- stays forever. See docs/architecture.md, "Check retention".
--
-- check_events holds CheckRecorded events in typed columns instead of JSON,
-- range-partitioned by scheduled time into days, so a day past the
-- retention is detached and dropped whole (no DELETE, no vacuum). It shares
-- the log's position sequence and transaction ids, and the event store reads
-- it merged with events in (transaction_id, position) order: one log. What
-- can be derived is not stored: the stream (checks-region-<region_id>;
-- stream_id is set only for a check appended to another stream), the type
-- and version, the event id (domain.CheckEventID of monitor, region
-- and scheduled time; event_id is set only for an event whose id is not
-- that), and the metadata (set only when it is not what the check pipeline
-- writes). The adapter stores an event here only when re-encoding these
-- columns gives back the exact payload it was given.
--
-- Columns are ordered 8-byte first, so no byte goes to alignment.
CREATE TABLE check_events (
    position         BIGINT      NOT NULL DEFAULT nextval('events_position_seq'),
    transaction_id   xid8        NOT NULL DEFAULT pg_current_xact_id(),
    stream_version   BIGINT      NOT NULL,
    recorded_at      TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    monitor_id       BIGINT      NOT NULL,
    account_id       BIGINT      NOT NULL,
    scheduled_at     TIMESTAMPTZ NOT NULL,
    checked_at       TIMESTAMPTZ NOT NULL,
    response_time_ms DOUBLE PRECISION NOT NULL,
    cert_expires_at  TIMESTAMPTZ,
    region_id        INT         NOT NULL,
    status_code      INT,
    up               BOOLEAN     NOT NULL,
    in_maintenance   BOOLEAN     NOT NULL,
    error            TEXT        NOT NULL,
    detail           TEXT        NOT NULL,
    stream_id        TEXT,
    event_id         UUID,
    metadata         JSON
) PARTITION BY RANGE (scheduled_at);
-- Anything outside the days created so far (a far-future or zero scheduled
-- time) lands here; retention deletes from it by row. Day partitions are
-- created ahead by the server (EventStore.EnsureCheckPartitions).
CREATE TABLE check_events_default PARTITION OF check_events DEFAULT;
-- Log order, for ReadAll.
CREATE INDEX check_events_log_order ON check_events (transaction_id, position);
-- The raw-results read model (check_results below) reads a monitor's range.
CREATE INDEX check_events_monitor ON check_events (monitor_id, checked_at);
-- Idempotent append: a check is one (monitor, scheduled time, region).
-- Scheduled time first: appends arrive in about that order, so the index
-- fills its pages to 90% at the right edge instead of splitting them all
-- over (69 bytes a check with monitor_id first, 31 this way); the region
-- is checked on the row. Not unique: a unique index would have to hold
-- the region, and events with an explicit event_id may share a check; the
-- adapter skips duplicates under the stream's advisory lock instead.
CREATE INDEX check_events_check ON check_events (scheduled_at, monitor_id);
-- ReadStream of a stream other than checks-region-<id> that holds checks
-- (none in production; empty, so free).
CREATE INDEX check_events_other_stream ON check_events (stream_id, stream_version) WHERE stream_id IS NOT NULL;

-- The last stream version of each check stream held in check_events (the
-- next append continues from it, whatever was dropped since).
CREATE TABLE check_stream_heads (
    stream_id TEXT   PRIMARY KEY,
    version   BIGINT NOT NULL
);

-- Raw results projected before this migration keep their table, renamed,
-- until the pruner has deleted them (30 days); their events stay in events.
-- A new database gets the table empty.
DO $$
BEGIN
    IF to_regclass('public.check_results') IS NOT NULL THEN
        ALTER TABLE public.check_results RENAME TO check_results_legacy;
    ELSE
        CREATE TABLE public.check_results_legacy (
            monitor_id       BIGINT NOT NULL,
            region_id        BIGINT NOT NULL,
            checked_at       TIMESTAMPTZ NOT NULL,
            up               BOOLEAN NOT NULL,
            response_time_ms DOUBLE PRECISION NOT NULL,
            status_code      INT,
            error            TEXT NOT NULL DEFAULT '',
            detail           TEXT NOT NULL DEFAULT '',
            cert_expires_at  TIMESTAMPTZ,
            in_maintenance   BOOLEAN NOT NULL DEFAULT FALSE);
        CREATE INDEX check_results_monitor ON public.check_results_legacy (monitor_id, checked_at);
    END IF;
    -- A summary SETs its hour's rollup and marks it, so results of the hour
    -- applied after it no longer count (projections/metrics.go).
    IF to_regclass('public.check_rollups') IS NOT NULL THEN
        ALTER TABLE public.check_rollups ADD COLUMN IF NOT EXISTS summarized BOOLEAN NOT NULL DEFAULT FALSE;
    END IF;
END $$;

-- detail cut to 500 bytes on a character boundary, as the raw read model
-- always kept it; the log keeps what the probe reported.
CREATE FUNCTION medialuna_truncate_bytes(s TEXT, n INT) RETURNS TEXT LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE k INT := least(length(s), n);
BEGIN
    IF octet_length(s) <= n THEN RETURN s; END IF;
    WHILE octet_length(left(s, k)) > n LOOP k := k - 1; END LOOP;
    RETURN left(s, k);
END $$;

-- Monitors deleted: their raw results stay in the log until their day is
-- dropped, but leave the raw-results read model at once, as their rows
-- always did. Written by the metrics projector (idempotent insert), never
-- emptied: ids are not reused.
CREATE TABLE deleted_monitors (monitor_id BIGINT PRIMARY KEY);

-- The raw-results read model is the partitioned log itself: one copy of a
-- check at rest instead of two. Queries read it as before.
CREATE VIEW check_results AS
    SELECT monitor_id, region_id::bigint AS region_id, checked_at, up, response_time_ms, status_code, error,
        CASE WHEN octet_length(detail) <= 500 THEN detail ELSE medialuna_truncate_bytes(detail, 500) END AS detail,
        cert_expires_at, in_maintenance
    FROM check_events c
    WHERE NOT EXISTS (SELECT 1 FROM deleted_monitors d WHERE d.monitor_id = c.monitor_id)
    UNION ALL
    SELECT monitor_id, region_id, checked_at, up, response_time_ms, status_code, error, detail, cert_expires_at, in_maintenance
    FROM check_results_legacy;

-- Rows written into the view (fixtures, imports) go to the legacy table,
-- never into the log.
CREATE FUNCTION check_results_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO check_results_legacy (monitor_id, region_id, checked_at, up, response_time_ms, status_code, error, detail, cert_expires_at, in_maintenance)
    VALUES (NEW.monitor_id, NEW.region_id, NEW.checked_at, NEW.up, NEW.response_time_ms, NEW.status_code,
        coalesce(NEW.error, ''), coalesce(NEW.detail, ''), NEW.cert_expires_at, coalesce(NEW.in_maintenance, false));
    RETURN NEW;
END $$;
CREATE TRIGGER check_results_insert INSTEAD OF INSERT ON check_results FOR EACH ROW EXECUTE FUNCTION check_results_insert();

-- The hourly summaries read one hour of checks by checked time; checks are
-- appended about in that order, so a BRIN index finds them for a few bytes
-- per thousand rows.
CREATE INDEX check_events_checked ON check_events USING brin (checked_at);

-- The summarizer starts with the first hour that begins after this
-- migration: an earlier hour's results are partly in events (before this
-- migration) and keep their rollups from there.
INSERT INTO settings (key, value) VALUES ('check_summaries_next', to_char((date_trunc('hour', now()) + interval '1 hour') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
ON CONFLICT (key) DO NOTHING;
