-- When each API key was last used. This is telemetry, not a change of
-- state: a key's use decides nothing, and an event per authenticated
-- request would fill the log with noise and make every API call a write to
-- it. So, like web_sessions and login_failures, it stays out of the event
-- log, in a table the API-key authentication path updates at most once a
-- minute per key (a conditional upsert). `projections rebuild` leaves it
-- alone; a key's row outlives nothing but the key's listing.
CREATE TABLE api_key_use (
    key_id       BIGINT      PRIMARY KEY,
    last_used_at TIMESTAMPTZ NOT NULL
);
