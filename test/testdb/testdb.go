// Package testdb gives each test a fresh, migrated PostgreSQL database that
// is dropped when the test ends.
package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/url"
	"os"
	"testing"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq" // the driver behind sqlx

	"github.com/medialuna/medialuna/adapters/postgres"
)

// AdminURL is the server tests create databases on: MEDIALUNA_TEST_DATABASE_URL,
// else DATABASE_URL, else the local server as user postgres.
func AdminURL() string {
	for _, k := range []string{"MEDIALUNA_TEST_DATABASE_URL", "DATABASE_URL"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// DB is a throwaway database.
type DB struct {
	*sqlx.DB
	URL string
}

// New creates a database, applies every migration and drops it when t ends.
func New(t testing.TB) *DB {
	t.Helper()
	ctx := context.Background()
	admin, err := sqlx.Open("postgres", AdminURL())
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	defer admin.Close()
	var b [6]byte
	rand.Read(b[:])
	name := "ml_test_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		t.Fatalf("testdb: create database (is PostgreSQL running? `go tool task test` starts it): %v", err)
	}
	u, err := url.Parse(AdminURL())
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	u.Path = "/" + name
	dsn := u.String()
	db, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	t.Cleanup(func() {
		db.Close()
		admin, err := sqlx.Open("postgres", AdminURL())
		if err != nil {
			return
		}
		defer admin.Close()
		admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`)
	})
	if err := postgres.Migrate(ctx, db, Logger(t)); err != nil {
		t.Fatalf("testdb: migrate: %v", err)
	}
	return &DB{DB: db, URL: dsn}
}

// Logger returns a logger that writes into the test's log when -v is given
// and stays quiet otherwise.
func Logger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
