package main

import (
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
)

// pushConfig is the push scenario's flags.
type pushConfig struct {
	monitors int
	clients  int
	duration time.Duration
	warmup   time.Duration
	adminURL string
	binary   string
}

// pushMain is the push scenario: keep-alive clients ping PUSH monitors as
// fast as the server answers, and the report says pings per second, the
// latency of a ping, CPU per ping (server plus PostgreSQL) and the
// heartbeats the log holds afterwards.
//
//	go run ./cmd/bench push --monitors 100 --clients 64 --duration 30s
func pushMain(args []string) error {
	var c pushConfig
	fs := flag.NewFlagSet("push", flag.ExitOnError)
	fs.IntVar(&c.monitors, "monitors", 100, "PUSH monitors pinged")
	fs.IntVar(&c.clients, "clients", 64, "parallel clients, one keep-alive connection each, each ping to a monitor drawn at random")
	fs.DurationVar(&c.duration, "duration", 30*time.Second, "how long to measure")
	fs.DurationVar(&c.warmup, "warmup", 5*time.Second, "pinging before the measured window")
	fs.StringVar(&c.adminURL, "database-url", "", "an external PostgreSQL server to create the bench database on (default: a cluster of the bench's own, so the CPU figure is the bench's alone)")
	fs.StringVar(&c.binary, "binary", "", "medialuna binary (default: build ./cmd/medialuna)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: go run ./cmd/bench push [flags]\n\nMeasures push heartbeats: POST /api/push/{token} from parallel keep-alive clients.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	return runPush(c)
}

func runPush(c pushConfig) error {
	b, err := startBenchServer(serverOptions{binary: c.binary, adminURL: c.adminURL})
	if err != nil {
		return err
	}
	defer b.close()
	cl, err := b.signUp("push@example.com", "ENTERPRISE", 1)
	if err != nil {
		return err
	}
	var tokens []string
	for len(tokens) < c.monitors {
		k := min(1000, c.monitors-len(tokens))
		entries := make([]map[string]any, k)
		for i := range entries {
			entries[i] = map[string]any{"name": fmt.Sprintf("job %d", len(tokens)+i), "type": "PUSH", "check_interval": 60, "grace_period": 60}
		}
		var ans struct {
			Results []struct {
				Status  string
				Monitor struct {
					PushToken string `json:"push_token"`
				}
			}
		}
		if err := cl.do("POST", "/api/monitors/batch", map[string]any{"monitors": entries}, &ans); err != nil {
			return err
		}
		for _, r := range ans.Results {
			if r.Status != "created" || r.Monitor.PushToken == "" {
				return fmt.Errorf("a push monitor was not created: %+v", r)
			}
			tokens = append(tokens, r.Monitor.PushToken)
		}
	}
	db, err := sqlx.Open("postgres", b.dbURL)
	if err != nil {
		return err
	}
	defer db.Close()

	logf("pinging %d monitors from %d clients: %s warm-up, %s measured", c.monitors, c.clients, c.warmup, c.duration)
	var (
		measuring atomic.Bool
		stop      atomic.Bool
		failed    atomic.Value
		mu        sync.Mutex
		latencies []float64 // ms, measured window only
		wg        sync.WaitGroup
	)
	for range c.clients {
		wg.Go(func() {
			hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			own := make([]float64, 0, 1<<16)
			for !stop.Load() {
				start := time.Now()
				resp, err := hc.Post(b.base+"/api/push/"+tokens[rand.IntN(len(tokens))], "", nil)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("ping answered %d", resp.StatusCode)
					}
				}
				if err != nil {
					failed.Store(err)
					return
				}
				if measuring.Load() {
					own = append(own, float64(time.Since(start).Microseconds())/1000)
				}
			}
			mu.Lock()
			latencies = append(latencies, own...)
			mu.Unlock()
		})
	}
	time.Sleep(c.warmup)
	var beats0 int64
	if err := db.Get(&beats0, `SELECT count(*) FROM check_events WHERE region_id = 0`); err != nil {
		return err
	}
	pgStats := startPGStats(db)
	srv0, pg0, err := b.cpu()
	if err != nil {
		return err
	}
	self0, _, _, _ := procTimes(os.Getpid())
	measuring.Store(true)
	t0 := time.Now()
	time.Sleep(c.duration)
	measuring.Store(false)
	elapsed := time.Since(t0)
	srv1, pg1, err := b.cpu()
	if err != nil {
		return err
	}
	self1, _, _, _ := procTimes(os.Getpid())
	stop.Store(true)
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		return err
	}
	var beats1 int64
	if err := db.Get(&beats1, `SELECT count(*) FROM check_events WHERE region_id = 0`); err != nil {
		return err
	}
	n := len(latencies)
	fmt.Printf("\nMedia Luna push heartbeats\n")
	fmt.Printf("  load                 %d PUSH monitors, %d keep-alive clients, each ping to a monitor drawn at random, %s measured after %s\n", c.monitors, c.clients, elapsed.Round(time.Millisecond), c.warmup)
	fmt.Printf("  pings answered       %d = %.0f pings/s, every one 200\n", n, float64(n)/elapsed.Seconds())
	fmt.Printf("  latency              p50 %.2f ms, p99 %.2f ms, max %.1f ms\n", pct(latencies, 0.5), pct(latencies, 0.99), maxOf(latencies))
	fmt.Printf("  CPU per ping         %.3f ms = server %.3f + PostgreSQL %.3f (the bench's clients: %.3f more)\n",
		(srv1-srv0+pg1-pg0)*1000/float64(n), (srv1-srv0)*1000/float64(n), (pg1-pg0)*1000/float64(n), float64(self1-self0)*clockTick.Seconds()*1000/float64(n))
	defer pgStats.finish().print(int64(n), "ping")
	fmt.Printf("  heartbeats recorded  %d in the window (one per monitor and second at most: %d)\n", beats1-beats0, int64(c.monitors)*int64(elapsed/time.Second+1))
	return nil
}
