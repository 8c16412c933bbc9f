package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
)

// createConfig is the create scenario's flags.
type createConfig struct {
	monitors int // per phase
	clients  int
	batch    int
	interval int
	adminURL string
	binary   string
}

// createMain is the create scenario: monitors created through the API of
// the real server, while its embedded probe checks those already created,
// first one POST /api/v1/monitors per monitor from parallel clients, then
// POST /api/monitors/batch. It reports creates per second, request
// latency and CPU per create (server plus PostgreSQL) for each phase.
//
//	go run ./cmd/bench create --monitors 5000
func createMain(args []string) error {
	var c createConfig
	fs := flag.NewFlagSet("create", flag.ExitOnError)
	fs.IntVar(&c.monitors, "monitors", 5000, "HTTP monitors to create in each phase (two phases)")
	fs.IntVar(&c.clients, "clients", 16, "parallel clients of the single-create phase")
	fs.IntVar(&c.batch, "batch", 500, "monitors per request of the batch phase")
	fs.IntVar(&c.interval, "interval", 30, "check interval of the monitors, in seconds")
	fs.StringVar(&c.adminURL, "database-url", "", "an external PostgreSQL server to create the bench database on (default: a cluster of the bench's own, so the CPU figure is the bench's alone)")
	fs.StringVar(&c.binary, "binary", "", "medialuna binary (default: build ./cmd/medialuna)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: go run ./cmd/bench create [flags]\n\nMeasures creating monitors through the API, single and in batches.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	return runCreate(c)
}

// phaseStats is what one phase measured.
type phaseStats struct {
	n          int
	elapsed    time.Duration
	latencies  []float64 // ms per request
	cpuMs      float64   // server plus PostgreSQL
	perRequest int
}

func runCreate(c createConfig) error {
	target := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })}
	tln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go target.Serve(tln)
	defer target.Close()
	b, err := startBenchServer(serverOptions{binary: c.binary, adminURL: c.adminURL,
		env: []string{"MEDIALUNA_MIN_CHECK_INTERVAL=" + strconv.Itoa(min(c.interval, 30))}})
	if err != nil {
		return err
	}
	defer b.close()
	cl, err := b.signUp("bench@example.com", "ENTERPRISE", c.clients)
	if err != nil {
		return err
	}

	body := func(i int64) map[string]any {
		return map[string]any{"name": fmt.Sprintf("m%d", i), "type": "HTTP", "url": fmt.Sprintf("http://%s/health/%d", tln.Addr(), i),
			"check_interval": c.interval, "timeout": 10}
	}
	// measure runs one phase: requests from clients goroutines, each
	// taking the next request number until n monitors are asked for.
	var seq atomic.Int64
	measure := func(clients, perRequest int) (phaseStats, error) {
		st := phaseStats{n: c.monitors, perRequest: perRequest}
		requests := (c.monitors + perRequest - 1) / perRequest
		var next atomic.Int64
		var mu sync.Mutex
		var wg sync.WaitGroup
		var failed atomic.Value
		srv0, pg0, err := b.cpu()
		if err != nil {
			return st, err
		}
		t0 := time.Now()
		for range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				own := b.client(cl.token, c.clients)
				for r := next.Add(1); r <= int64(requests); r = next.Add(1) {
					s := time.Now()
					var err error
					if perRequest == 1 {
						err = own.do("POST", "/api/v1/monitors", body(seq.Add(1)), nil)
					} else {
						k := min(perRequest, c.monitors-int(r-1)*perRequest)
						entries := make([]map[string]any, k)
						for j := range entries {
							entries[j] = body(seq.Add(1))
						}
						var ans struct {
							Created int `json:"created"`
						}
						err = own.do("POST", "/api/monitors/batch", map[string]any{"monitors": entries}, &ans)
						if err == nil && ans.Created != k {
							err = fmt.Errorf("a batch of %d created %d", k, ans.Created)
						}
					}
					if err != nil {
						failed.Store(err)
						return
					}
					mu.Lock()
					st.latencies = append(st.latencies, float64(time.Since(s).Microseconds())/1000)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		st.elapsed = time.Since(t0)
		srv1, pg1, err := b.cpu()
		if err != nil {
			return st, err
		}
		st.cpuMs = (srv1 - srv0 + pg1 - pg0) * 1000
		if err, _ := failed.Load().(error); err != nil {
			return st, err
		}
		return st, nil
	}
	logf("phase a: %d monitors, one POST /api/v1/monitors each, %d clients", c.monitors, c.clients)
	db, err := sqlx.Open("postgres", b.dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	singleStats := startPGStats(db)
	single, err := measure(c.clients, 1)
	if err != nil {
		return err
	}
	logf("phase b: %d monitors, POST /api/monitors/batch of %d, one client", c.monitors, c.batch)
	singlePG := singleStats.finish()
	batch, err := measure(1, c.batch)
	if err != nil {
		return err
	}
	fmt.Printf("\nMedia Luna monitor creation\n")
	fmt.Printf("  account                  ENTERPRISE; HTTP monitors every %d s against a local target, checked by the embedded probe as they appear\n", c.interval)
	report := func(label string, st phaseStats) {
		fmt.Printf("  %-24s %d in %s = %.0f creates/s; latency per request p50 %.1f ms, p99 %.1f ms; CPU %.2f ms per create (server + PostgreSQL)\n",
			label, st.n, st.elapsed.Round(time.Millisecond), float64(st.n)/st.elapsed.Seconds(), pct(st.latencies, 0.5), pct(st.latencies, 0.99), st.cpuMs/float64(st.n))
	}
	report(fmt.Sprintf("single, %d clients", c.clients), single)
	report(fmt.Sprintf("batch of %d", c.batch), batch)
	singlePG.print(int64(single.n), "single create")
	return nil
}
