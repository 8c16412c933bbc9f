// Command medialuna is the Media Luna server and its operator tools: serve,
// migrate, probe, projections rebuild|status, events export, accounts
// create|set-plan, monitors import, secrets seal-log|rotate-key, version.
// main only wires: configuration comes from flags with environment
// fallbacks, and every part gets its dependencies passed in.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
)

const usage = `medialuna — self-hosted uptime monitoring that speaks the Media Luna API.

Usage:
  medialuna serve                 run the API, dashboard, projectors and workers (applies migrations first)
  medialuna migrate               apply pending database migrations and exit
  medialuna probe --region CODE --server URL
                                  run a probe agent for a region, checking what the server assigns
` + projectionsUsage + eventsUsage + accountsUsage + monitorsUsage + secretsUsage + `  medialuna version                print the version, commit and Go version (also --version)

Run 'medialuna COMMAND --help' for a command's flags. Every flag has an
environment variable fallback, named in its help.
`

// The commands that group subcommands; 'medialuna GROUP --help' prints its
// part of the usage.
const (
	projectionsUsage = `  medialuna projections rebuild [NAME...]
                                  rebuild read models from the event log while the API serves
  medialuna projections status    show each projector's position and lag
`
	eventsUsage = `  medialuna events export         write the event log as NDJSON or CSV to stdout
  medialuna events archive --before TIME --dir DIR [--drop]
                                  write the check results of days before TIME to gzip NDJSON, one file a day
`
	accountsUsage = `  medialuna accounts create --email EMAIL [--plan PLAN]
                                  open an account with its first ADMIN, whatever --signup allows
  medialuna accounts set-plan ACCOUNT_ID PLAN
                                  move an account to FREE, STARTER, PRO or ENTERPRISE
`
	secretsUsage = `  medialuna secrets seal-log      seal credentials that older versions wrote into the log in plaintext (once)
  medialuna secrets rotate-key --new-key KEY
                                  rewrap every data key with a new master key (--secret-key)
`
)

// subcommand runs the subcommand of a group that args name, or prints the
// group's usage: to stdout and success for --help, as an error otherwise.
func subcommand(group, usage string, args []string, stdout io.Writer, subs map[string]func([]string) error) error {
	if len(args) > 0 {
		if run, ok := subs[args[0]]; ok {
			return run(args[1:])
		}
		if isHelp(args[0]) {
			fmt.Fprintf(stdout, "Usage:\n%s\nRun 'medialuna %s SUBCOMMAND --help' for its flags.\n", usage, group)
			return nil
		}
		return fmt.Errorf("unknown subcommand %q of %s; usage:\n%s", args[0], group, usage)
	}
	return fmt.Errorf("%s needs a subcommand; usage:\n%s", group, usage)
}

func isHelp(arg string) bool {
	return arg == "-h" || arg == "--help" || arg == "-help" || arg == "help"
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "medialuna:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || isHelp(args[0]) {
		fmt.Fprint(stdout, usage)
		if len(args) == 0 {
			return errors.New("no command given")
		}
		return nil
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return runServe(ctx, rest, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, rest, stderr)
	case "version", "--version", "-version":
		return runVersion(rest, stdout, stderr)
	case "projections":
		return subcommand(cmd, projectionsUsage, rest, stdout, map[string]func([]string) error{
			"rebuild": func(a []string) error { return runRebuild(ctx, a, stderr) },
			"status":  func(a []string) error { return runProjectionStatus(ctx, a, stdout, stderr) },
		})
	case "events":
		return subcommand(cmd, eventsUsage, rest, stdout, map[string]func([]string) error{
			"export":  func(a []string) error { return runExport(ctx, a, stdout, stderr) },
			"archive": func(a []string) error { return runArchive(ctx, a, stdout, stderr) },
		})
	case "secrets":
		return subcommand(cmd, secretsUsage, rest, stdout, map[string]func([]string) error{
			"seal-log":   func(a []string) error { return runSealLog(ctx, a, stderr) },
			"rotate-key": func(a []string) error { return runRotateKey(ctx, a, stderr) },
		})
	case "probe":
		return runProbe(ctx, rest, stderr)
	case "accounts":
		return subcommand(cmd, accountsUsage, rest, stdout, map[string]func([]string) error{
			"set-plan": func(a []string) error { return runSetPlan(ctx, a, stdout, stderr) },
			"create":   func(a []string) error { return runCreateAccount(ctx, a, stdout, stderr) },
		})
	case "monitors":
		return subcommand(cmd, monitorsUsage, rest, stdout, map[string]func([]string) error{
			"import": func(a []string) error { return runImportMonitors(ctx, a, stdout, stderr) },
		})
	}
	return fmt.Errorf("unknown command %q; run 'medialuna --help'", cmd)
}

// env returns the environment value of key, or def.
func env(key, def string) string {
	if v, ok := os.LookupEnv(key); ok && v != "" {
		return v
	}
	return def
}

func envInt(key string) int {
	n, _ := strconv.Atoi(os.Getenv(key))
	return n
}

// envIntOr is the integer in key, or def when it is unset or not a number.
func envIntOr(key string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(key)); err == nil {
		return n
	}
	return def
}

func envFloat(key string) float64 {
	f, _ := strconv.ParseFloat(os.Getenv(key), 64)
	return f
}

// commonConfig is what every command needs to reach the data.
type commonConfig struct {
	DatabaseURL   string
	EventStore    string
	EventStoreURL string
	LogLevel      string
	LogFormat     string
	// SecretKey is the master key that wraps the data keys sealing
	// credentials in the log; empty: generated and kept in the database.
	SecretKey string
}

func (c *commonConfig) register(fs *flag.FlagSet) {
	fs.StringVar(&c.DatabaseURL, "database-url", env("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/medialuna?sslmode=disable"), "PostgreSQL URL (env DATABASE_URL)")
	fs.StringVar(&c.EventStore, "event-store", env("MEDIALUNA_EVENT_STORE", "postgres"), "event log backend: postgres or eventstoredb (env MEDIALUNA_EVENT_STORE)")
	fs.StringVar(&c.EventStoreURL, "eventstore-url", env("EVENTSTORE_URL", ""), "EventStoreDB/KurrentDB connection string, e.g. esdb://127.0.0.1:2113?tls=false (env EVENTSTORE_URL)")
	fs.StringVar(&c.LogLevel, "log-level", env("MEDIALUNA_LOG_LEVEL", "info"), "debug, info, warn or error (env MEDIALUNA_LOG_LEVEL)")
	fs.StringVar(&c.SecretKey, "secret-key", env("MEDIALUNA_SECRET_KEY", ""), "master key sealing the credentials the event log holds, at least 32 characters (env MEDIALUNA_SECRET_KEY; generated and stored in the database when empty, which protects exports and copies of the log but not a theft of the whole database)")
	fs.StringVar(&c.LogFormat, "log-format", env("MEDIALUNA_LOG_FORMAT", "text"), "text or json (env MEDIALUNA_LOG_FORMAT)")
}

func (c *commonConfig) logger(w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if strings.EqualFold(c.LogFormat, "json") {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func newFlagSet(name, summary string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: medialuna %s\n\n%s\n\nFlags:\n", name, summary)
		fs.PrintDefaults()
	}
	return fs
}
