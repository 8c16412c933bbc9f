package e2e

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/medialuna/medialuna/test/smtpcatcher"
	"github.com/medialuna/medialuna/test/testdb"
)

// BenchmarkPublicStatusPage measures a public status page with 50
// monitors, each with 90 days of hourly rollups, one of them down with an
// open incident, served by the real binary with its default cache TTL
// (5 s) and info-level request logging, while the embedded probe checks
// the 50 monitors every 30 s. 64 concurrent keep-alive clients on this
// same machine request the page; the benchmark reports requests per
// second and latency percentiles.
//
//	go tool task bench -- -bench PublicStatusPage -benchtime 10s ./test/e2e/
//
// The rollups are written straight into the metrics read model (90 days
// of checks through the pipeline would take 90 days); everything else
// goes through the API.
func BenchmarkPublicStatusPage(b *testing.B) {
	s := startServer(b, testdb.New(b), smtpcatcher.Start(b), "MEDIALUNA_LOG_LEVEL=info")
	su := signup(b, s, "bench@example.com", "Bench")
	unlimited(b, s, su.Account.ID)
	jwt := su.AccessToken
	waitFor(b, func() bool {
		var acc struct {
			Plan string `json:"plan"`
		}
		s.expect(200, "GET", "/api/v1/account", jwt, nil).json(b, &acc)
		return acc.Plan == "ENTERPRISE"
	})
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/down" {
			w.WriteHeader(503)
		}
	}))
	b.Cleanup(ok.Close)
	const monitors = 50
	ids := make([]int64, monitors)
	for i := range monitors {
		path := "/up"
		if i == 7 {
			path = "/down"
		}
		var m monitor
		s.expect(201, "POST", "/api/v1/monitors", jwt, map[string]any{"name": fmt.Sprintf("Service %02d", i), "type": "HTTP",
			"url": ok.URL + path, "check_interval": 30}).json(b, &m)
		ids[i] = m.ID
	}
	// 90 days of hourly rollups per monitor, up to the start of this hour.
	if _, err := s.DB.Exec(`INSERT INTO check_rollups (monitor_id, region_id, hour, checks, up_checks, maint_checks, maint_up,
			rt_sum, rt_min, rt_max, rt_histogram)
		SELECT m, 1, h, 60, 60 - (CASE WHEN random() < 0.02 THEN 5 ELSE 0 END), 0, 0, 60 * 40, 20, 90, array_fill(0, ARRAY[72])
		FROM unnest($1::bigint[]) AS m,
			generate_series(date_trunc('hour', now()) - interval '90 days', date_trunc('hour', now()) - interval '1 hour', interval '1 hour') AS h`,
		pqInt64s(ids)); err != nil {
		b.Fatal(err)
	}
	s.expect(201, "POST", "/api/status-pages", jwt, map[string]any{"title": "Bench Inc.", "subdomain": "bench", "monitor_ids": ids,
		"description": "Everything we run", "custom_css": ".banner{border-radius:0}"})
	// The down monitor's first check falls somewhere in its 30 s interval.
	for deadline := time.Now().Add(90 * time.Second); len(incidentsOf(b, s, jwt, "")) == 0; time.Sleep(250 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatal("no incident opened for the down monitor")
		}
	}

	first := s.fetch("/status/bench", "")
	if first.Status != 200 {
		b.Fatalf("page: %d %s", first.Status, first.Body)
	}
	gz := s.fetch("/status/bench", "", "Accept-Encoding", "gzip")
	b.Logf("page: %d bytes of HTML, %d gzip-compressed (%d on the wire per request)", len(first.Body), len(gz.Body), len(gz.Body))

	run := func(b *testing.B, path string, header ...string) {
		tr := &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}
		defer tr.CloseIdleConnections()
		client := &http.Client{Transport: tr}
		const workers = 64
		lat := make([][]time.Duration, workers)
		var wg sync.WaitGroup
		next := make(chan struct{}, b.N)
		for range b.N {
			next <- struct{}{}
		}
		close(next)
		b.ResetTimer()
		start := time.Now()
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range next {
					req, _ := http.NewRequest("GET", s.URL+path, nil)
					for i := 0; i+1 < len(header); i += 2 {
						req.Header.Set(header[i], header[i+1])
					}
					t0 := time.Now()
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					lat[w] = append(lat[w], time.Since(t0))
					if resp.StatusCode != 200 {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			}()
		}
		wg.Wait()
		elapsed := time.Since(start)
		b.StopTimer()
		var all []time.Duration
		for _, l := range lat {
			all = append(all, l...)
		}
		slices.Sort(all)
		if len(all) == 0 {
			return
		}
		q := func(p float64) float64 { return float64(all[int(p*float64(len(all)-1))].Microseconds()) / 1000 }
		b.ReportMetric(float64(len(all))/elapsed.Seconds(), "req/s")
		b.ReportMetric(q(0.50), "p50-ms")
		b.ReportMetric(q(0.99), "p99-ms")
		b.ReportMetric(q(1), "max-ms")
	}
	b.Run("html-gzip", func(b *testing.B) { run(b, "/status/bench", "Accept-Encoding", "gzip") })
	b.Run("html-identity", func(b *testing.B) { run(b, "/status/bench") })
	b.Run("json-gzip", func(b *testing.B) { run(b, "/api/public/status-pages/bench", "Accept-Encoding", "gzip") })
	b.Run("badge", func(b *testing.B) { run(b, "/status/bench/badge.svg") })
}

// pqInt64s renders ids as a PostgreSQL array literal.
func pqInt64s(ids []int64) string {
	out := "{"
	for i, id := range ids {
		if i > 0 {
			out += ","
		}
		out += itoa(id)
	}
	return out + "}"
}
