-- Dashboard sessions. A session's secret lives only in the person's cookie;
-- the table keeps its SHA-256, so neither a database dump nor the log holds
-- anything that signs anyone in. Sessions are credentials, not facts about
-- the product, so they stay out of the event log (as login_failures and the
-- rate-limit windows do). Rows past expires_at are refused and pruned.
CREATE TABLE web_sessions (
    id_hash      TEXT        PRIMARY KEY,
    user_id      BIGINT      NOT NULL,
    account_id   BIGINT      NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX web_sessions_user ON web_sessions (user_id);
CREATE INDEX web_sessions_expiry ON web_sessions (expires_at);
