package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/medialuna/medialuna/adapters/postgres"
	"github.com/medialuna/medialuna/adapters/secretbox"
	"github.com/medialuna/medialuna/domain"
)

// secretEventTypes are the events seal-log reads: those that carry
// credentials, and the deletes that end a stream (whose key it destroys).
var secretEventTypes = []string{domain.EvNotificationChannelCreated, domain.EvNotificationChannelUpdated, domain.EvMonitorCreated, domain.EvMonitorUpdated,
	domain.EvNotificationChannelDeleted, domain.EvMonitorDeleted}

func runSealLog(ctx context.Context, args []string, stderr io.Writer) error {
	var c commonConfig
	fs := newFlagSet("secrets seal-log",
		"Seals, in place, the credentials that events written before this version hold in plaintext\n"+
			"(channel secrets, monitor request headers, URL passwords), and destroys the data keys of deleted\n"+
			"channels and monitors. The one documented exception to \"payloads are never rewritten\".\n"+
			"Idempotent; safe while the server runs. PostgreSQL event store only.", stderr)
	c.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	a, err := openApp(ctx, c, c.logger(stderr), false)
	if err != nil {
		return err
	}
	defer a.close()
	es, ok := a.raw.(*postgres.EventStore)
	if !ok {
		return fmt.Errorf("secrets seal-log rewrites the PostgreSQL event log; an EventStoreDB log cannot be rewritten in place")
	}
	if err := a.box.Check(ctx); err != nil {
		return err
	}
	started := time.Now()
	deleted := map[string]bool{}
	err = es.RewriteEvents(ctx, secretEventTypes, func(rec domain.RecordedEvent) (domain.EventData, bool, error) {
		if domain.ShredsSecrets(rec.Type) {
			deleted[rec.StreamID] = true
			return rec.EventData, false, nil
		}
		return a.box.SealEvent(ctx, rec.StreamID, rec.EventData, true)
	}, func(read, rewritten int) {
		fmt.Fprintf(stderr, "seal-log: %d events read, %d sealed\n", read, rewritten)
	})
	if err != nil {
		return err
	}
	for stream := range deleted {
		if err := a.box.Forget(ctx, stream); err != nil {
			return err
		}
	}
	if err := postgres.SetSetting(ctx, a.db, "secrets_log_sealed", time.Now().UTC().Format(time.RFC3339)); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "seal-log: done in %s; data keys of %d deleted streams destroyed\n", time.Since(started).Round(time.Millisecond), len(deleted))
	return nil
}

func runRotateKey(ctx context.Context, args []string, stderr io.Writer) error {
	var c commonConfig
	var newKey string
	fs := newFlagSet("secrets rotate-key --new-key KEY",
		"Rewraps every stream's data key with a new master key, in one transaction; the log is untouched.\n"+
			"Stop every server first, then start them with --secret-key KEY (MEDIALUNA_SECRET_KEY). When the\n"+
			"current key was generated in the database (no --secret-key), the new key replaces it there.", stderr)
	c.register(fs)
	fs.StringVar(&newKey, "new-key", env("MEDIALUNA_NEW_SECRET_KEY", ""), "required: the new master key, at least 32 characters (env MEDIALUNA_NEW_SECRET_KEY)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	next, err := secretbox.NewMaster(newKey)
	if err != nil {
		return fmt.Errorf("--new-key: %w", err)
	}
	a, err := openApp(ctx, c, c.logger(stderr), false)
	if err != nil {
		return err
	}
	defer a.close()
	current := c.SecretKey
	if a.masterFromDB {
		if current, err = postgres.Secret(ctx, a.db, "secret_key"); err != nil {
			return err
		}
	}
	old, err := secretbox.NewMaster(current)
	if err != nil {
		return err
	}
	settings := map[string]string{}
	if a.masterFromDB {
		settings["secret_key"] = newKey
	}
	n, err := a.keys.Rewrap(ctx, func(k domain.StreamKey) (domain.StreamKey, error) {
		if k.MasterKeyID == next.ID() {
			return k, nil // rewrapped by an earlier run
		}
		data, err := old.Unwrap(k)
		if err != nil {
			return k, err
		}
		return next.Wrap(k.Stream, data)
	}, settings)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "rotate-key: %d data keys rewrapped from master key %s to %s\n", n, old.ID(), next.ID())
	if a.masterFromDB {
		fmt.Fprintln(stderr, "rotate-key: the new key replaced the one kept in the database")
	} else {
		fmt.Fprintln(stderr, "rotate-key: start every server with --secret-key set to the new key (MEDIALUNA_SECRET_KEY)")
	}
	return nil
}
