package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/medialuna/medialuna/adapters/probe"
	"github.com/medialuna/medialuna/adapters/probeagent"
)

func runProbe(ctx context.Context, args []string, stderr io.Writer) error {
	var c commonConfig
	var region regionConfig
	var server, token string
	var maxInFlight, accountMaxInFlight, workers int
	var blockPrivate bool
	fs := newFlagSet("probe --region CODE --server URL",
		"Runs a probe agent: registers its region with the server on start, then runs the checks the server\nassigns to that region and reports the results. Results held during a network fault are sent again\nand recorded once.", stderr)
	fs.StringVar(&c.LogLevel, "log-level", env("MEDIALUNA_LOG_LEVEL", "info"), "debug, info, warn or error (env MEDIALUNA_LOG_LEVEL)")
	fs.StringVar(&c.LogFormat, "log-format", env("MEDIALUNA_LOG_FORMAT", "text"), "text or json (env MEDIALUNA_LOG_FORMAT)")
	region.register(fs, "", "")
	fs.Lookup("region").Usage = "required: " + fs.Lookup("region").Usage
	fs.StringVar(&server, "server", env("MEDIALUNA_SERVER", "http://127.0.0.1:8080"), "the Media Luna server's URL (env MEDIALUNA_SERVER)")
	fs.StringVar(&token, "token", env("MEDIALUNA_PROBE_TOKEN", ""), "required: the server's probe token, as given to serve --probe-token; prefer the environment variable, which other users cannot read in the process list (env MEDIALUNA_PROBE_TOKEN)")
	fs.IntVar(&maxInFlight, "max-in-flight", max(envInt("MEDIALUNA_PROBE_MAX_IN_FLIGHT"), 0),
		fmt.Sprintf("checks in flight at once, over all accounts; each is a goroutine, so a hanging target holds only its own (env MEDIALUNA_PROBE_MAX_IN_FLIGHT; default %d)", probeagent.DefaultMaxInFlight))
	fs.IntVar(&accountMaxInFlight, "account-max-in-flight", max(envInt("MEDIALUNA_PROBE_ACCOUNT_MAX_IN_FLIGHT"), 0),
		fmt.Sprintf("checks one account may have in flight at once; its further due checks wait, other accounts' do not (env MEDIALUNA_PROBE_ACCOUNT_MAX_IN_FLIGHT; default %d, or a quarter of the ceiling when that is less)", probeagent.DefaultAccountMaxInFlight))
	fs.IntVar(&workers, "workers", max(envInt("MEDIALUNA_PROBE_WORKERS"), 0), "deprecated: the same as --max-in-flight (env MEDIALUNA_PROBE_WORKERS)")
	fs.BoolVar(&blockPrivate, "block-private-targets", env("MEDIALUNA_BLOCK_PRIVATE_TARGETS", "") == "true", "refuse targets that are not globally reachable (loopback, private networks, IANA special-purpose ranges) (env MEDIALUNA_BLOCK_PRIVATE_TARGETS=true)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if region.Code == "" || token == "" {
		fs.Usage()
		return fmt.Errorf("--region and the probe token (MEDIALUNA_PROBE_TOKEN or --token) are required")
	}
	log := c.logger(stderr).With("component", "probe", "region", region.Code)
	maxInFlight = deprecatedWorkers(log, maxInFlight, workers, "--workers", "--max-in-flight")
	srv := probeagent.NewServer(server, token)
	var regionID int64
	for delay := time.Second; ; delay = min(delay*2, 30*time.Second) {
		var err error
		if regionID, err = srv.Register(ctx, region.Code, region.Name, region.Lat, region.Lng); err == nil {
			break
		}
		log.Warn("could not register with the server; retrying", "server", server, "err", err, "retry_in", delay)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(delay):
		}
	}
	log.Info("probe registered", "server", server, "region_id", regionID)
	agent := probeagent.New(srv, srv, probe.New(probe.Config{BlockPrivateTargets: blockPrivate, UserAgent: probeUserAgent(region.Code)}), log,
		probeagent.Config{RegionID: regionID, MaxInFlight: maxInFlight, AccountMaxInFlight: accountMaxInFlight})
	err := agent.Run(ctx)
	log.Info("probe stopped")
	return err
}

// probeUserAgent names the region in HTTP checks, so target owners can tell
// probes apart (and allow-list them).
func probeUserAgent(region string) string { return probe.DefaultUserAgent + " region/" + region }

// deprecatedWorkers lets the old worker-pool size (--workers,
// --probe-workers, MEDIALUNA_PROBE_WORKERS) stand for the in-flight ceiling
// when the new flag is not given, with a warning.
func deprecatedWorkers(log *slog.Logger, maxInFlight, workers int, oldFlag, newFlag string) int {
	if workers <= 0 {
		return maxInFlight
	}
	log.Warn(oldFlag+" (MEDIALUNA_PROBE_WORKERS) is deprecated: checks no longer share a worker pool; use "+newFlag, "value", workers)
	if maxInFlight > 0 {
		return maxInFlight
	}
	return workers
}
