package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/medialuna/medialuna/adapters/probe"
	"github.com/medialuna/medialuna/adapters/probeagent"
)

func runProbe(ctx context.Context, args []string, stderr io.Writer) error {
	var c commonConfig
	var region regionConfig
	var server, token string
	var workers int
	var blockPrivate bool
	fs := newFlagSet("probe --region CODE --server URL --token TOKEN",
		"Runs a probe agent: registers its region with the server on start, then runs the checks the server\nassigns to that region and reports the results. Results held during a network fault are sent again\nand recorded once.", stderr)
	fs.StringVar(&c.LogLevel, "log-level", env("MEDIALUNA_LOG_LEVEL", "info"), "debug, info, warn or error (env MEDIALUNA_LOG_LEVEL)")
	fs.StringVar(&c.LogFormat, "log-format", env("MEDIALUNA_LOG_FORMAT", "text"), "text or json (env MEDIALUNA_LOG_FORMAT)")
	region.register(fs, "", "")
	fs.StringVar(&server, "server", env("MEDIALUNA_SERVER", "http://127.0.0.1:8080"), "the Media Luna server's URL (env MEDIALUNA_SERVER)")
	fs.StringVar(&token, "token", env("MEDIALUNA_PROBE_TOKEN", ""), "the server's probe token, as given to serve --probe-token (env MEDIALUNA_PROBE_TOKEN)")
	defaultWorkers := 64
	if n := envInt("MEDIALUNA_PROBE_WORKERS"); n > 0 {
		defaultWorkers = n
	}
	fs.IntVar(&workers, "workers", defaultWorkers, "concurrent checks (env MEDIALUNA_PROBE_WORKERS)")
	fs.BoolVar(&blockPrivate, "block-private-targets", env("MEDIALUNA_BLOCK_PRIVATE_TARGETS", "") == "true", "refuse targets that are not globally reachable (loopback, private networks, IANA special-purpose ranges) (env MEDIALUNA_BLOCK_PRIVATE_TARGETS=true)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if region.Code == "" || token == "" {
		fs.Usage()
		return fmt.Errorf("--region and --token are required")
	}
	log := c.logger(stderr).With("component", "probe", "region", region.Code)
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
		probeagent.Config{RegionID: regionID, Workers: workers})
	err := agent.Run(ctx)
	log.Info("probe stopped")
	return err
}

// probeUserAgent names the region in HTTP checks, so target owners can tell
// probes apart (and allow-list them).
func probeUserAgent(region string) string { return probe.DefaultUserAgent + " region/" + region }
