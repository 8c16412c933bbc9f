package main

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/medialuna/medialuna/adapters/postgres"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/projections"
)

// runArchive writes each day of check results that ends before --before
// to DIR/check_events_YYYYMMDD.ndjson.gz (the lines of `events export`),
// and with --drop then drops the day from the log. A file is written to a
// temporary name, synced and renamed before its day is dropped, so a
// crash leaves either the day in the log or its complete file (or both).
func runArchive(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c commonConfig
	var before, dir string
	var drop bool
	fs := newFlagSet("events archive --before TIME --dir DIR [--drop]",
		"Writes the check results of every day that ends before --before to gzip NDJSON files, one a day,\nbefore the check retention drops them; with --drop, drops those days from the log once written.", stderr)
	c.register(fs)
	fs.StringVar(&before, "before", "", "archive the days ending at or before this RFC 3339 time or date (2026-01-31)")
	fs.StringVar(&dir, "dir", ".", "directory for the files")
	fs.BoolVar(&drop, "drop", false, "drop each day from the log once its file is written")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cut, err := time.Parse(time.RFC3339, before)
	if err != nil {
		if cut, err = time.Parse(time.DateOnly, before); err != nil {
			return fmt.Errorf("--before must be an RFC 3339 time or a date, e.g. 2026-01-31")
		}
	}
	a, err := openApp(ctx, c, c.logger(stderr), false)
	if err != nil {
		return err
	}
	defer a.close()
	pg, ok := a.raw.(*postgres.EventStore)
	if !ok {
		return fmt.Errorf("events archive needs the PostgreSQL event store; EventStoreDB ages check streams out with $maxAge")
	}
	parts, err := pg.CheckPartitions(ctx)
	if err != nil {
		return err
	}
	for _, p := range parts {
		if p.Day.Add(24 * time.Hour).After(cut) {
			break
		}
		path := filepath.Join(dir, p.Name+".ndjson.gz")
		n, err := archiveDay(ctx, pg, p, path)
		if err != nil {
			return fmt.Errorf("archive %s: %w", p.Name, err)
		}
		fmt.Fprintf(stdout, "%s\t%d events\n", path, n)
		if drop {
			if _, err := pg.DropCheckPartitions(ctx, p.Day.Add(24*time.Hour)); err != nil {
				return err
			}
			fmt.Fprintf(stderr, "dropped %s\n", p.Name)
		}
	}
	return nil
}

func archiveDay(ctx context.Context, pg *postgres.EventStore, p postgres.CheckPartition, path string) (int, error) {
	tmp := path + ".partial"
	f, err := os.Create(tmp)
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp)
	defer f.Close()
	zw := gzip.NewWriter(f)
	enc := json.NewEncoder(zw)
	n := 0
	if err := pg.ReadCheckPartition(ctx, p, func(e domain.RecordedEvent) error {
		n++
		return enc.Encode(projections.NewAuditRecord(e))
	}); err != nil {
		return 0, err
	}
	if err := zw.Close(); err != nil {
		return 0, err
	}
	if err := f.Sync(); err != nil {
		return 0, err
	}
	if err := f.Close(); err != nil {
		return 0, err
	}
	return n, os.Rename(tmp, path)
}
