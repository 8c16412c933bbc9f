package main

import (
	"net/http"

	"github.com/medialuna/medialuna/adapters/metrics"
	"github.com/medialuna/medialuna/adapters/probeagent"
)

// probeMetrics passes a probe agent's reports to the metrics, converted
// here so that neither adapter knows the other.
func probeMetrics(reg *metrics.Registry, region string) func(probeagent.Stats) {
	return func(st probeagent.Stats) {
		reg.ProbeReport(region, metrics.ProbeStats{Due: st.Due, Run: st.Run, SkippedBusy: st.SkippedBusy, Cancelled: st.Cancelled,
			Dropped: st.Dropped, Recorded: st.Recorded, InFlight: st.InFlight, Lateness: st.Lateness})
	}
}

// metricsOnly serves /metrics and nothing else, for --metrics-addr.
func metricsOnly(h http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	return mux
}
