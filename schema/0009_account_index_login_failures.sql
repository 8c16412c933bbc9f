-- The audit export reads one account's events. events.account_id has been
-- filled from the metadata on every append; fill it for any row that lacks
-- it (rows written before the column was filled, or by hand), then index it
-- in log order, so an export costs the account's own events instead of a
-- scan of the whole log. See EventStore.ReadAccount.
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
