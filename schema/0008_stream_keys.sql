-- Data keys of the streams that hold credentials (notification channels,
-- monitors with request headers or a URL password). Secret fields of their
-- events are sealed with the stream's key (AES-256-GCM); the key itself is
-- kept here, outside the append-only log, wrapped with the server's master
-- key (--secret-key). Deleting a channel or monitor deletes its row, which
-- makes its old events' secrets unrecoverable from any copy of the log.
-- See adapters/secretbox and docs/operations.md ("Secrets").
CREATE TABLE stream_keys (
    stream_id     TEXT        PRIMARY KEY,
    wrapped_key   BYTEA       NOT NULL,
    master_key_id TEXT        NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- A log with no channel or monitor events yet has no plaintext secrets to
-- seal; otherwise `medialuna secrets seal-log` records that it has run, and
-- serve warns until it has.
INSERT INTO settings (key, value)
SELECT 'secrets_log_sealed', 'fresh'
WHERE NOT EXISTS (SELECT 1 FROM events WHERE event_type IN
    ('NotificationChannelCreated', 'NotificationChannelUpdated', 'MonitorCreated', 'MonitorUpdated'));
