-- The event log. Every state change of Media Luna is a row here.
--
-- transaction_id records the writing transaction (xid8). Followers read in
-- (transaction_id, position) order and only rows whose transaction is older
-- than every transaction still in flight (pg_snapshot_xmin), so an event that
-- commits late with a lower position is never skipped. See
-- adapters/postgres/eventstore.go.
CREATE TABLE events (
    position        BIGSERIAL   PRIMARY KEY,
    transaction_id  xid8        NOT NULL DEFAULT pg_current_xact_id(),
    stream_id       TEXT        NOT NULL,
    stream_version  BIGINT      NOT NULL,
    event_id        UUID        NOT NULL,
    event_type      TEXT        NOT NULL,
    event_version   INT         NOT NULL,
    data            JSON        NOT NULL,
    metadata        JSON        NOT NULL,
    account_id      BIGINT,
    recorded_at     TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT events_stream_version_key UNIQUE (stream_id, stream_version),
    CONSTRAINT events_event_id_key UNIQUE (event_id)
);
CREATE INDEX events_log_order ON events (transaction_id, position);
CREATE INDEX events_recorded_at ON events USING brin (recorded_at);

-- Integer ids for new aggregates. Sequences never hand out the same id twice,
-- whatever the event store adapter.
CREATE SEQUENCE account_ids;
CREATE SEQUENCE user_ids;
CREATE SEQUENCE api_key_ids;
CREATE SEQUENCE invite_ids;

-- Where each projector has got to, written in the same transaction as its rows.
CREATE TABLE projection_checkpoints (
    name             TEXT        PRIMARY KEY,
    commit_position  BIGINT      NOT NULL DEFAULT 0,
    prepare_position BIGINT      NOT NULL DEFAULT 0,
    version          INT         NOT NULL DEFAULT 0,
    events_applied   BIGINT      NOT NULL DEFAULT 0,
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Events a projector could not apply after its retries; kept for a person to look at.
CREATE TABLE parked_events (
    projector        TEXT        NOT NULL,
    event_id         UUID        NOT NULL,
    stream_id        TEXT        NOT NULL,
    event_type       TEXT        NOT NULL,
    commit_position  BIGINT      NOT NULL,
    prepare_position BIGINT      NOT NULL,
    error            TEXT        NOT NULL,
    parked_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (projector, event_id)
);

-- Fixed one-minute windows of request counts per account, shared by every
-- API replica.
CREATE TABLE rate_limit_windows (
    account_id   BIGINT      NOT NULL,
    window_start TIMESTAMPTZ NOT NULL,
    requests     INT         NOT NULL,
    PRIMARY KEY (account_id, window_start)
);

-- Server settings shared by replicas (the generated JWT secret).
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
