package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/medialuna/medialuna/adapters/postgres"
	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/projections"
)

// storageMain writes simulated days of check results (time-shifted: the
// scheduled times run from --start, as fast as the database takes them)
// through the real append path, with the metrics and monitors projectors
// following and each closed hour summarized, drops the days past
// --retention as the server's pruner does, and prints the database's size
// after every simulated day and the bytes per check at rest.
func storageMain(args []string) error {
	fs := flag.NewFlagSet("storage", flag.ExitOnError)
	dsn := fs.String("database-url", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "a PostgreSQL server to create the scratch database medialuna_bench_storage in (dropped first)")
	monitors := fs.Int("monitors", 1000, "monitors, each checked from one region")
	interval := fs.Duration("interval", time.Minute, "check interval")
	days := fs.Int("days", 5, "simulated days")
	retention := fs.Duration("retention", 48*time.Hour, "check retention (whole days)")
	start := fs.String("start", "2030-01-01", "first simulated day")
	fs.Parse(args)
	day0, err := time.Parse(time.DateOnly, *start)
	if err != nil {
		return err
	}
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	admin, err := postgres.Open(ctx, *dsn)
	if err != nil {
		return err
	}
	defer admin.Close()
	admin.MustExec(`DROP DATABASE IF EXISTS medialuna_bench_storage WITH (FORCE)`)
	admin.MustExec(`CREATE DATABASE medialuna_bench_storage`)
	u, err := url.Parse(*dsn)
	if err != nil {
		return err
	}
	u.Path = "/medialuna_bench_storage"
	db, err := postgres.Open(ctx, u.String())
	if err != nil {
		return err
	}
	defer db.Close()
	if err := postgres.Migrate(ctx, db, log); err != nil {
		return err
	}
	store := postgres.NewEventStore(db, u.String(), log)
	defer store.Close()
	queries := projections.NewQueries(db)
	models := []projections.Projector{projections.Monitors{}, projections.Metrics{}}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	runner := projections.NewRunner(db, store, models, log, projections.RunnerConfig{})
	go runner.Run(runCtx)
	if err := queries.WaitUntilBuilt(ctx, []string{"monitors", "metrics"}); err != nil {
		return err
	}
	for id := int64(1); id <= int64(*monitors); id++ {
		cfg := domain.DefaultMonitorConfig()
		cfg.Name, cfg.Type, cfg.URL, cfg.RegionIDs, cfg.CheckInterval = fmt.Sprint("m", id), domain.TypeHTTP, "https://x.test", []int64{1}, int(interval.Seconds())
		e, err := domain.Encode(&domain.MonitorCreated{MonitorID: id, AccountID: 1, Config: cfg},
			domain.Metadata{ActorType: domain.ActorSystem, AccountID: 1, OccurredAt: day0}, fmt.Sprintf("00000000-0000-4000-8000-%012d", id))
		if err != nil {
			return err
		}
		if _, err := store.Append(ctx, domain.MonitorStream(id), domain.NoStream, e); err != nil {
			return err
		}
	}
	summarize := commands.NewSummarizeChecksHandler(store, queries)
	perDay := int64(*monitors) * int64(24*time.Hour / *interval)
	fmt.Printf("storage: %d monitors every %s (%d checks a simulated day), %d days, retention %s\n", *monitors, *interval, perDay, *days, *retention)
	fmt.Println("day  checks_in_log  events_MB  check_events_MB  rollups_MB  database_MB  log_B/check  models_B/ch  at_rest_B/  wall")
	var written int64
	began := time.Now()
	for d := range *days {
		dayStart := day0.AddDate(0, 0, d)
		if err := store.EnsureCheckPartitions(ctx, dayStart, dayStart.AddDate(0, 0, 2)); err != nil {
			return err
		}
		wall := time.Now()
		for h := range 24 {
			hour := dayStart.Add(time.Duration(h) * time.Hour)
			var batch []domain.StreamEvent
			var last domain.Position
			flush := func() error {
				if len(batch) == 0 {
					return nil
				}
				pos, err := store.AppendBatch(ctx, batch)
				if last.Less(pos) {
					last = pos
				}
				written += int64(len(batch))
				batch = batch[:0]
				return err
			}
			for t := hour; t.Before(hour.Add(time.Hour)); t = t.Add(*interval) {
				for id := int64(1); id <= int64(*monitors); id++ {
					sched := t.Add(time.Duration(id) * *interval / time.Duration(*monitors+1)).Truncate(time.Microsecond)
					checked := sched.Add(time.Duration(20+id%80) * time.Millisecond)
					up := (id+sched.Unix())%97 != 0
					c := &domain.CheckRecorded{MonitorID: id, RegionID: 1, ScheduledAt: sched, CheckedAt: checked,
						CheckOutcome: domain.CheckOutcome{Up: up, ResponseTimeMs: float64(20+id%80) + 0.25, StatusCode: 200}}
					if !up {
						c.StatusCode, c.Error = 503, "HTTP 503"
					}
					e, err := domain.Encode(c, domain.Metadata{ActorType: domain.ActorProbe, ActorID: 1, AccountID: 1, OccurredAt: checked},
						domain.CheckEventID(id, 1, sched))
					if err != nil {
						return err
					}
					batch = append(batch, domain.StreamEvent{Stream: domain.ChecksStream(1), Event: e})
					if len(batch) == 500 {
						if err := flush(); err != nil {
							return err
						}
					}
				}
			}
			if err := flush(); err != nil {
				return err
			}
			waitCtx, cancel := context.WithTimeout(ctx, 5*time.Minute)
			err := queries.WaitFor(waitCtx, []string{"monitors", "metrics"}, last)
			cancel()
			if err != nil {
				return err
			}
			if h > 0 || d > 0 {
				if _, err := summarize.Handle(ctx, commands.SummarizeChecks{Hour: hour.Add(-time.Hour)}); err != nil {
					return err
				}
			}
		}
		// The pruner's round at the end of the simulated day.
		if _, err := store.DropCheckPartitions(ctx, dayStart.AddDate(0, 0, 1).Add(-*retention)); err != nil {
			return err
		}
		db.MustExec(`VACUUM ANALYZE`)
		sz, err := store.MeasureStorage(ctx)
		if err != nil {
			return err
		}
		var dbSize, inLog int64
		db.Get(&dbSize, `SELECT pg_database_size(current_database())`)
		db.Get(&inLog, `SELECT count(*) FROM check_events`)
		// At rest per check inside the window: the log's check table (heap
		// and indexes) plus the rows of the read models it feeds. Rollups
		// count their live rows and primary key, not the dead versions the
		// per-batch upserts leave until autovacuum reuses them (the rollup
		// write path is the CPU work's).
		var rollupLive, models int64
		db.Get(&rollupLive, `SELECT coalesce(sum(pg_column_size(r.*) + 28), 0) FROM check_rollups r`)
		db.Get(&models, `SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c
			WHERE c.relkind = 'r' AND c.relname IN ('monitor_uptime', 'monitor_state', 'monitor_region_latest', 'check_stream_heads')`)
		n := float64(max(inLog, 1))
		mb := func(b int64) string { return fmt.Sprintf("%.1f", float64(b)/(1<<20)) }
		fmt.Printf("%3d  %13d  %9s  %15s  %10s  %11s  %12.0f  %11.0f  %10.0f  %s\n", d+1, inLog, mb(sz.Events), mb(sz.CheckEvents), mb(sz.CheckRollups), mb(dbSize),
			float64(sz.CheckEvents)/n, float64(rollupLive+models)/n, float64(sz.CheckEvents+rollupLive+models)/n, time.Since(wall).Round(time.Second))
	}
	fmt.Printf("wrote %d checks in %s (%.0f/s)\n", written, time.Since(began).Round(time.Second), float64(written)/time.Since(began).Seconds())
	var summaries int64
	db.Get(&summaries, `SELECT count(*) FROM events WHERE event_type = 'ChecksSummarized'`)
	fmt.Printf("summaries kept forever: %d (%s per monitor-hour in events, indexes included)\n", summaries,
		strings.TrimSpace(fmt.Sprintf("%8.0f B", float64(mustSize(db, "events"))/float64(max(summaries, 1)))))
	stop()
	return nil
}

func mustSize(db interface {
	Get(dest any, q string, args ...any) error
}, table string) int64 {
	var n int64
	db.Get(&n, `SELECT pg_total_relation_size($1::regclass)`, table)
	return n
}
