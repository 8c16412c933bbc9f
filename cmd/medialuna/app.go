package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/medialuna/medialuna/adapters/eventstoredb"
	"github.com/medialuna/medialuna/adapters/postgres"
	"github.com/medialuna/medialuna/adapters/secretbox"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/projections"
)

// app is the data layer every command shares.
type app struct {
	db *sqlx.DB
	// store is the log as the application reads and writes it: the
	// credentials events carry are sealed on the way in and opened on the
	// way out. raw is the log as stored (envelopes), for audit exports.
	store domain.EventStore
	raw   domain.EventStore
	box   *secretbox.Box
	keys  *postgres.StreamKeys
	// masterFromDB: the master key was generated and kept in the database
	// (no --secret-key).
	masterFromDB bool
	log          *slog.Logger
	close        func()
}

// openApp connects to PostgreSQL, applies migrations when migrate is set
// (otherwise refuses an out-of-date schema), and opens the event log.
func openApp(ctx context.Context, c commonConfig, log *slog.Logger, migrate bool) (*app, error) {
	db, err := postgres.Open(ctx, c.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("%w (set --database-url or DATABASE_URL; `go tool task run` starts PostgreSQL for you)", err)
	}
	if migrate {
		if err := postgres.Migrate(ctx, db, log); err != nil {
			db.Close()
			return nil, err
		}
	} else if ok, err := postgres.SchemaUpToDate(ctx, db); err != nil || !ok {
		db.Close()
		if err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("the database schema is out of date: run 'medialuna migrate' first")
	}
	a := &app{db: db, log: log, close: func() { db.Close() }}
	switch c.EventStore {
	case "postgres", "":
		a.store = postgres.NewEventStore(db, c.DatabaseURL, log)
	case "eventstoredb", "kurrentdb":
		if c.EventStoreURL == "" {
			db.Close()
			return nil, fmt.Errorf("--event-store eventstoredb needs --eventstore-url or EVENTSTORE_URL")
		}
		es, err := eventstoredb.New(c.EventStoreURL, log)
		if err != nil {
			db.Close()
			return nil, err
		}
		a.store = es
		a.close = func() { es.Close(); db.Close() }
	default:
		db.Close()
		return nil, fmt.Errorf("unknown --event-store %q: use postgres or eventstoredb", c.EventStore)
	}
	secret := c.SecretKey
	if secret == "" {
		var err error
		if secret, err = postgres.Secret(ctx, db, "secret_key"); err != nil {
			a.close()
			return nil, fmt.Errorf("load the secret key: %w", err)
		}
		a.masterFromDB = true
	}
	master, err := secretbox.NewMaster(secret)
	if err != nil {
		a.close()
		return nil, fmt.Errorf("--secret-key: %w", err)
	}
	a.keys = postgres.NewStreamKeys(db)
	a.box = secretbox.New(master, a.keys)
	a.raw = a.store
	a.store = secretbox.NewStore(a.raw, a.box, log)
	return a, nil
}

var _ secretbox.Keys = (*postgres.StreamKeys)(nil)

// readModels are the projectors behind the API, in the order they start.
// Each says whether writes wait for it (readModel).
func readModels() []readModel {
	return []readModel{projections.Accounts{}, projections.APIKeys{}, projections.Monitors{}, projections.Metrics{}, projections.Incidents{}, projections.Maintenance{}, projections.Notifications{}, projections.Billing{}, projections.StatusPages{}}
}

// readModel is a projector behind the API that says whether a write waits
// until it has applied the write before answering, so the writer's next
// read sees it.
type readModel interface {
	projections.Projector
	SettlesWrites() bool
}

// settling names the models a write waits for.
func settling(models []readModel) []string {
	var names []string
	for _, m := range models {
		if m.SettlesWrites() {
			names = append(names, m.Name())
		}
	}
	return names
}

// projectors returns the read models as plain projectors, for the runner.
func projectors(models []readModel) []projections.Projector {
	ps := make([]projections.Projector, len(models))
	for i, m := range models {
		ps[i] = m
	}
	return ps
}

func projectorNames(ps []projections.Projector) []string {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name()
	}
	return names
}

func utcNow() time.Time { return time.Now().UTC() }
