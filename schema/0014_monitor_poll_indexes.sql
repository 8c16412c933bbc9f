-- The indexes the monitors read model's Setup creates since this version
-- for the once-a-second polls of the probes (AssignmentsVersion: an
-- index-only scan instead of reading every monitor's configuration) and of
-- the push watchdog (ActivePushMonitors). A new database gets them from
-- the projector's Setup; an existing one here, instead of rebuilding the
-- monitors read model from the log.
DO $$
BEGIN
    IF to_regclass('public.monitors') IS NOT NULL THEN
        CREATE INDEX IF NOT EXISTS monitors_polled ON public.monitors (id) INCLUDE (updated_at, region_ids) WHERE NOT paused AND type <> 'PUSH';
        CREATE INDEX IF NOT EXISTS monitors_push ON public.monitors (id) WHERE type = 'PUSH';
    END IF;
END $$;
