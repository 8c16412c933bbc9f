-- The audit export reads one account's events. The adapter has filled
-- events.account_id from the metadata on every append since 0001; fill it
-- anyway for any row that lacks it (rows inserted outside the adapter: by
-- hand, by an import), then index it in log order, so an export costs the
-- account's own events instead of a scan of the whole log. See
-- EventStore.ReadAccount. Both steps hold the table's write lock while they
-- run: seconds for a few million events.
UPDATE events SET account_id = (metadata->>'account_id')::bigint
WHERE account_id IS NULL AND (metadata->>'account_id') IS NOT NULL;
CREATE INDEX events_account ON events (account_id, transaction_id, position) WHERE account_id IS NOT NULL;

-- Failed logins per login name (the normalised email), whatever the client
-- address, shared by every API replica. A window opens at the first failure;
-- once it holds the limit, logins for that name are refused until it ends.
-- A successful login clears the row.
CREATE TABLE login_failures (
    login        TEXT        PRIMARY KEY,
    window_start TIMESTAMPTZ NOT NULL,
    failures     INT         NOT NULL
);
