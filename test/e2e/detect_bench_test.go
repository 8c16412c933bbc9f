package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/medialuna/medialuna/test/smtpcatcher"
	"github.com/medialuna/medialuna/test/testdb"
)

// BenchmarkTimeToDetect measures, for monitors checked every 1 s and every
// 30 s, the time from a target going down to its DOWN incident's TRIGGERED
// event. The aim is one interval plus less than a second.
func BenchmarkTimeToDetect(b *testing.B) {
	for _, interval := range []int{1, 30} {
		b.Run(fmt.Sprintf("interval=%ds", interval), func(b *testing.B) {
			const monitors = 8
			var all []time.Duration
			for range b.N {
				all = append(all, detectOnce(b, interval, monitors)...)
			}
			sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
			var sum time.Duration
			for _, d := range all {
				sum += d
			}
			b.ReportMetric(float64(sum.Milliseconds())/float64(len(all)), "mean-ms")
			b.ReportMetric(float64(all[len(all)/2].Milliseconds()), "p50-ms")
			b.ReportMetric(float64(all[len(all)-1].Milliseconds()), "max-ms")
			b.ReportMetric(float64(all[len(all)-1].Milliseconds())-float64(interval*1000), "max-minus-interval-ms")
		})
	}
}

func detectOnce(b *testing.B, interval, monitors int) []time.Duration {
	s := startServer(b, testdb.New(b), smtpcatcher.Start(b), "MEDIALUNA_MIN_CHECK_INTERVAL=1", "MEDIALUNA_LOG_LEVEL=warn")
	acc := signup(b, s, "detect@example.com", "Detect")
	unlimited(b, s, acc.Account.ID)
	su := acc.AccessToken
	var healthy atomic.Bool
	healthy.Store(true)
	tg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !healthy.Load() {
			w.WriteHeader(503)
		}
	}))
	defer tg.Close()
	ids := make([]int64, monitors)
	for i := range monitors {
		var m monitor
		s.expect(201, "POST", "/api/v1/monitors", su, map[string]any{"name": fmt.Sprint("m", i), "type": "HTTP",
			"url": fmt.Sprintf("%s/%d", tg.URL, i), "check_interval": interval}).json(b, &m)
		ids[i] = m.ID
	}
	for _, id := range ids {
		waitStatus(b, s, su, id, "up")
	}
	down := time.Now()
	healthy.Store(false)
	var out []time.Duration
	deadline := time.Now().Add(time.Duration(3*interval+20) * time.Second)
	seen := map[int64]bool{}
	for len(seen) < monitors && time.Now().Before(deadline) {
		var list []incident
		s.expect(200, "GET", "/api/v1/incidents?incident_type=DOWN", su, nil).json(b, &list)
		for _, inc := range list {
			if seen[inc.ID] {
				continue
			}
			var full incident
			s.expect(200, "GET", "/api/v1/incidents/"+itoa(inc.ID), su, nil).json(b, &full)
			seen[inc.ID] = true
			out = append(out, full.Timeline[0].CreatedAt.Sub(down))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(seen) < monitors {
		b.Fatalf("%d of %d outages detected", len(seen), monitors)
	}
	return out
}
