package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
)

// debugPprofEnv names the loopback address where serve exposes
// net/http/pprof. It is an environment variable, not a flag, because it is
// for profiling the server under load (cmd/bench), not something to run
// in production; unset, nothing listens.
const debugPprofEnv = "MEDIALUNA_DEBUG_PPROF_ADDR"

// servePprof starts the profiling endpoint when debugPprofEnv is set; the
// returned stop closes it. It refuses any address but loopback: profiles
// show request data and cost CPU to take.
func servePprof(log *slog.Logger) (stop func(), err error) {
	addr := os.Getenv(debugPprofEnv)
	if addr == "" {
		return func() {}, nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", debugPprofEnv, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("%s must be a loopback address, got %q", debugPprofEnv, addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	log.Info("serving pprof", "addr", ln.Addr().String())
	return func() { srv.Close() }, nil
}
