-- The metrics read model keeps each monitor's 24-hour uptime
-- (monitor_uptime) for the dashboard's uptime order. New databases get the
-- table from the projector's Setup; an existing one gets it here, filled
-- from the rollups it already has, instead of rebuilding every metrics
-- table from the log (hours on a large log). Each monitor's window ends at
-- its latest rollup hour; the projector moves it on with the next check.
DO $$
BEGIN
    IF to_regclass('public.check_rollups') IS NOT NULL AND to_regclass('public.monitor_uptime') IS NULL THEN
        CREATE TABLE public.monitor_uptime (
            monitor_id BIGINT PRIMARY KEY,
            window_end TIMESTAMPTZ NOT NULL,
            uptime_24h DOUBLE PRECISION);
        INSERT INTO public.monitor_uptime (monitor_id, window_end, uptime_24h)
        SELECT l.monitor_id, l.last_hour,
            (SELECT round(100.0 * sum(r.up_checks - r.maint_up) / nullif(sum(r.checks - r.maint_checks), 0), 2)::float8
             FROM public.check_rollups r WHERE r.monitor_id = l.monitor_id AND r.hour >= date_trunc('hour', l.last_hour - interval '24 hours'))
        FROM (SELECT monitor_id, max(hour) AS last_hour FROM public.check_rollups GROUP BY monitor_id) l;
    END IF;
END $$;
