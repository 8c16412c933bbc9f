-- The notification dispatcher used to follow the log as a consumer with a
-- checkpoint; it now sends from the notifications read model's outbox.
-- Its old checkpoint would show in `projections status` with a lag that
-- only grows.
DELETE FROM projection_checkpoints WHERE name = 'dispatcher';
