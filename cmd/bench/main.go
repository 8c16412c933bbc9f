// Command bench holds the load drivers that measure the real medialuna
// server. Each scenario builds and runs the binary against a fresh database
// and prints a report; `go run ./cmd/bench SCENARIO --help` lists its flags.
//
// The checks scenario (the default, when the first argument is a flag)
// creates thousands of HTTP monitors through the API against a local
// target, lets them run for a while and reports: checks run against checks
// due, start lateness, CPU per check end to end (server plus PostgreSQL),
// memory, projection lag and API latency while it runs.
//
//	go run ./cmd/bench checks --monitors 10000 --interval 30 --duration 3m
package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"
)

type config struct {
	monitors int
	interval int
	duration time.Duration
	adminURL string
	binary   string
	inFlight int
	keep     bool
	profile  string
}

func main() {
	name, args := "checks", os.Args[1:]
	if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help") {
		fmt.Fprintf(os.Stderr, "Usage: go run ./cmd/bench [SCENARIO] [flags]\n\nLoad tests of the real medialuna server. The scenarios (checks when none is named):\n")
		for _, s := range scenarios() {
			fmt.Fprintf(os.Stderr, "  %-8s %s\n", s.name, s.summary)
		}
		fmt.Fprintf(os.Stderr, "\ngo run ./cmd/bench SCENARIO --help lists a scenario's flags.\n")
		return
	}
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	run := scenario(name)
	if run == nil {
		fmt.Fprintf(os.Stderr, "bench: unknown scenario %q; the scenarios: %s\n", name, strings.Join(scenarioNames(), ", "))
		os.Exit(2)
	}
	if err := run(args); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// checksMain is the checks scenario: the check engine end to end.
func checksMain(args []string) error {
	var c config
	flag := flag.NewFlagSet("checks", flag.ExitOnError)
	flag.IntVar(&c.monitors, "monitors", 10000, "HTTP monitors to create")
	flag.IntVar(&c.interval, "interval", 30, "check interval in seconds")
	flag.DurationVar(&c.duration, "duration", 3*time.Minute, "how long to measure after warm-up")
	flag.StringVar(&c.adminURL, "database-url", "", "an external PostgreSQL server to create the bench database on (default: a cluster of the bench's own, so the CPU figure is the bench's alone; an external server's includes its other users)")
	flag.StringVar(&c.binary, "binary", "", "medialuna binary (default: build ./cmd/medialuna)")
	flag.IntVar(&c.inFlight, "probe-max-in-flight", 0, "the embedded probe's ceiling of checks in flight (0: the server's default)")
	flag.BoolVar(&c.keep, "keep", false, "keep the bench database, or the bench's own cluster, running afterwards (its URL is printed) for inspection")
	flag.StringVar(&c.profile, "cpu-profile", "", "write the server's CPU profile of the measured window to this file (default: a temporary file, summarised in the report)")
	flag.Usage = func() {
		fmt.Fprintf(flag.Output(), "Usage: go run ./cmd/bench checks [flags]\n\nLoad-tests the check engine end to end and prints a report.\n\nFlags:\n")
		flag.PrintDefaults()
	}
	if err := flag.Parse(args); err != nil {
		return err
	}
	return run(c)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

func run(c config) error {
	dir, err := os.MkdirTemp("", "medialuna-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if c.binary == "" {
		if c.binary, err = buildMedialuna(dir); err != nil {
			return err
		}
	}
	var pg *pgCluster
	var server atomic.Pointer[os.Process] // for the interrupt handler
	admin := c.adminURL
	if admin == "" {
		logf("starting a PostgreSQL cluster of the bench's own")
		if pg, err = startCluster(); err != nil {
			return err
		}
		admin = pg.URL()
		defer pg.stop(c.keep)
		// Interrupted, the bench still stops its cluster rather than
		// leave a postgres running.
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
		defer signal.Stop(sigs)
		go func() {
			if _, ok := <-sigs; ok {
				if p := server.Load(); p != nil {
					p.Kill()
				}
				pg.stop(c.keep)
				os.Exit(130)
			}
		}()
	}
	dbURL, drop, err := createDatabase(admin)
	if err != nil {
		return err
	}
	if c.keep {
		logf("keeping database %s", dbURL)
		if pg != nil {
			logf("the cluster keeps running in %s (postmaster pid %d); stop it with kill -INT", pg.dir, pg.pid)
		}
	} else {
		defer drop()
	}
	db, err := sqlx.Open("postgres", dbURL)
	if err != nil {
		return err
	}
	defer db.Close()

	target := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })}
	tln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go target.Serve(tln)
	defer target.Close()

	addr, err := freeAddr()
	if err != nil {
		return err
	}
	logPath := filepath.Join(dir, "server.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logFile.Close()
	pprofAddr, err := freeAddr()
	if err != nil {
		return err
	}
	srv := exec.Command(c.binary, "serve", "--addr", addr, "--log-format", "json", "--log-level", "info")
	const operatorToken = "bench-operator-token"
	srv.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "MEDIALUNA_DEBUG_PPROF_ADDR="+pprofAddr, "MEDIALUNA_PROBE_MAX_IN_FLIGHT="+strconv.Itoa(c.inFlight), "MEDIALUNA_MIN_CHECK_INTERVAL="+strconv.Itoa(min(c.interval, 30)),
		"MEDIALUNA_OPERATOR_TOKEN="+operatorToken, "MEDIALUNA_SIGNUP=open")
	srv.Stdout, srv.Stderr = logFile, logFile
	if err := srv.Start(); err != nil {
		return err
	}
	server.Store(srv.Process)
	defer func() {
		srv.Process.Signal(syscall.SIGTERM)
		srv.Wait()
	}()
	base := "http://" + addr
	if err := waitHealthy(base); err != nil {
		return err
	}
	// Monitors are spread over accounts of 1,000, as a service of many
	// tenants would hold them (the check engine does not care which account
	// a monitor is in), in at most 20 accounts: sign-up allows 30 a minute
	// from one address.
	nAccounts := min(20, (c.monitors+999)/1000)
	monitorsPerAccount := (c.monitors + nAccounts - 1) / nAccounts
	accounts := make([]*client, nAccounts)
	for i := range accounts {
		cl := &client{base: base}
		var su struct {
			AccessToken string `json:"access_token"`
			Account     struct{ ID int64 }
		}
		if err := cl.do("POST", "/api/auth/signup", map[string]string{"email": fmt.Sprintf("bench%d@example.com", i), "password": "bench password",
			"account_name": fmt.Sprintf("Bench %d", i)}, &su); err != nil {
			return err
		}
		cl.token = su.AccessToken
		setPlan := exec.Command(c.binary, "accounts", "set-plan", strconv.FormatInt(su.Account.ID, 10), "ENTERPRISE")
		setPlan.Env = append(os.Environ(), "DATABASE_URL="+dbURL)
		if out, err := setPlan.CombinedOutput(); err != nil {
			return fmt.Errorf("set-plan: %v: %s", err, out)
		}
		accounts[i] = cl
	}
	cl := accounts[0]
	time.Sleep(time.Second)

	logf("creating %d monitors in %d accounts", c.monitors, len(accounts))
	started := time.Now()
	// In batches of 500 (POST /api/monitors/batch), the accounts in
	// parallel: the set-up is not what this scenario measures (the create
	// scenario is).
	var wg sync.WaitGroup
	var createErr atomic.Value
	for a, acc := range accounts {
		wg.Go(func() {
			for first := a * monitorsPerAccount; first < min(c.monitors, (a+1)*monitorsPerAccount); first += 500 {
				var entries []map[string]any
				for i := first + 1; i <= min(first+500, c.monitors, (a+1)*monitorsPerAccount); i++ {
					entries = append(entries, map[string]any{"name": fmt.Sprintf("m%d", i), "type": "HTTP", "url": fmt.Sprintf("http://%s/health/%d", tln.Addr(), i),
						"check_interval": c.interval, "timeout": 10})
				}
				var ans struct {
					Created int `json:"created"`
				}
				if err := acc.do("POST", "/api/monitors/batch", map[string]any{"monitors": entries}, &ans); err != nil {
					createErr.Store(err)
					return
				} else if ans.Created != len(entries) {
					createErr.Store(fmt.Errorf("a batch of %d created %d", len(entries), ans.Created))
					return
				}
			}
		})
	}
	wg.Wait()
	if err, _ := createErr.Load().(error); err != nil {
		return err
	}
	createdIn := time.Since(started)
	logf("created in %s (%.0f/s); warming up for one interval", createdIn.Round(time.Millisecond), float64(c.monitors)/createdIn.Seconds())
	time.Sleep(time.Duration(c.interval)*time.Second + 2*time.Second)

	logf("measuring for %s", c.duration)
	pgStats := startPGStats(db)
	if c.profile == "" {
		c.profile = filepath.Join(dir, "server.pprof")
	}
	profiled := make(chan error, 1)
	go func() { profiled <- fetchProfile("http://"+pprofAddr, c.duration, c.profile) }()
	var recorded0 int64
	db.Get(&recorded0, `SELECT (SELECT count(*) FROM check_events) + (SELECT count(*) FROM events WHERE event_type = 'CheckRecorded')`)
	server0, pg0, err := measureCPU(srv.Process.Pid, pg)
	if err != nil {
		return err
	}
	logOffset, _ := logFile.Seek(0, io.SeekCurrent)
	t0 := time.Now()
	var listLatency, lags []float64
	var maxRSS int64
	for time.Since(t0) < c.duration {
		s := time.Now()
		var list []json.RawMessage
		if err := cl.do("GET", "/api/v1/monitors?limit=100&skip=500", nil, &list); err != nil {
			return err
		}
		listLatency = append(listLatency, float64(time.Since(s).Microseconds())/1000)
		var st []struct {
			Name       string  `json:"name"`
			LagSeconds float64 `json:"lag_seconds"`
		}
		operator := &client{base: cl.base, token: operatorToken}
		if err := operator.do("GET", "/api/admin/projections", nil, &st); err == nil {
			worst := 0.0
			for _, p := range st {
				worst = max(worst, p.LagSeconds)
			}
			lags = append(lags, worst)
		}
		maxRSS = max(maxRSS, rssKB(srv.Process.Pid))
		time.Sleep(time.Second - time.Since(s)%time.Second)
	}
	elapsed := time.Since(t0)
	server1, pg1, err := measureCPU(srv.Process.Pid, pg)
	if err != nil {
		return err
	}
	var recorded1 int64
	db.Get(&recorded1, `SELECT (SELECT count(*) FROM check_events) + (SELECT count(*) FROM events WHERE event_type = 'CheckRecorded')`)
	pgReport := pgStats.finish()
	profileErr := <-profiled
	stats, err := probeStats(logPath, logOffset)
	if err != nil {
		return err
	}
	checks := recorded1 - recorded0
	due := float64(c.monitors) * elapsed.Seconds() / float64(c.interval)
	serverMs := (server1 - server0) * 1000
	pgMs := (pg1 - pg0) * 1000
	pgWho := "the bench's own cluster: postmaster, live and exited backends"
	if pg == nil {
		pgWho = "every postgres process on the machine, other users' included; exited backends missed"
	}

	fmt.Printf("\nMedia Luna check engine load test\n")
	fmt.Printf("  monitors                 %d HTTP, every %d s, embedded probe\n", c.monitors, c.interval)
	fmt.Printf("  measured                 %s after one interval of warm-up\n", elapsed.Round(time.Second))
	fmt.Printf("  checks recorded / due    %d / %.0f = %.3f%%\n", checks, due, 100*float64(checks)/due)
	fmt.Printf("  probe: due, run, skipped %d, %d, %d (from the probe's own stats lines)\n", stats.due, stats.run, stats.skipped)
	fmt.Printf("  start lateness           p50 %.1f ms, p99 %.1f ms (worst 10 s window p99: %.1f ms)\n", median(stats.p50s), median(stats.p99s), maxOf(stats.p99s))
	fmt.Printf("  CPU per check            %.3f ms (server %.3f + PostgreSQL %.3f), %.1f%% of the 2 cores\n",
		(serverMs+pgMs)/float64(checks), serverMs/float64(checks), pgMs/float64(checks), 100*(serverMs+pgMs)/(elapsed.Seconds()*1000*2))
	fmt.Printf("  PostgreSQL CPU counts    %s\n", pgWho)
	fmt.Printf("  server memory            max RSS %.1f MiB\n", float64(maxRSS)/1024)
	fmt.Printf("  projection lag           p50 %.2f s, p99 %.2f s, max %.2f s (sampled each second)\n", pct(lags, 0.5), pct(lags, 0.99), maxOf(lags))
	fmt.Printf("  API list latency         p50 %.1f ms, p99 %.1f ms (GET /api/v1/monitors?limit=100&skip=500, one account)\n", pct(listLatency, 0.5), pct(listLatency, 0.99))
	fmt.Printf("  monitor creation         %d in %s through the API\n", c.monitors, createdIn.Round(time.Millisecond))
	pgReport.print(checks, "check")
	if profileErr != nil {
		fmt.Printf("\nServer CPU profile: %v\n", profileErr)
	} else {
		printProfileTop(c.binary, c.profile)
	}
	return nil
}

type client struct {
	base  string
	token string
	http  http.Client
}

func (c *client) do(method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, data)
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

func createDatabase(admin string) (string, func(), error) {
	a, err := sqlx.Open("postgres", admin)
	if err != nil {
		return "", nil, err
	}
	var b [4]byte
	rand.Read(b[:])
	name := "ml_bench_" + hex.EncodeToString(b[:])
	if _, err := a.Exec(`CREATE DATABASE ` + name); err != nil {
		a.Close()
		return "", nil, err
	}
	u, err := url.Parse(admin)
	if err != nil {
		return "", nil, err
	}
	u.Path = "/" + name
	return u.String(), func() {
		a.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`)
		a.Close()
	}, nil
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func waitHealthy(base string) error {
	for range 300 {
		if resp, err := http.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("server did not become healthy")
}

func rssKB(pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "VmRSS:") {
			n, _ := strconv.ParseInt(strings.Fields(sc.Text())[1], 10, 64)
			return n
		}
	}
	return 0
}

type probeSummary struct {
	due, run, skipped int64
	p50s, p99s        []float64
}

func probeStats(path string, offset int64) (probeSummary, error) {
	var out probeSummary
	f, err := os.Open(path)
	if err != nil {
		return out, err
	}
	defer f.Close()
	f.Seek(offset, io.SeekStart)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var line struct {
			Msg     string  `json:"msg"`
			Due     int64   `json:"due"`
			Run     int64   `json:"run"`
			Skipped int64   `json:"skipped_busy"`
			P50     float64 `json:"lateness_p50_ms"`
			P99     float64 `json:"lateness_p99_ms"`
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil || line.Msg != "probe stats" {
			continue
		}
		out.due += line.Due
		out.run += line.Run
		out.skipped += line.Skipped
		out.p50s = append(out.p50s, line.P50)
		out.p99s = append(out.p99s, line.P99)
	}
	return out, sc.Err()
}

func pct(v []float64, p float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[min(int(p*float64(len(s))), len(s)-1)]
}

func median(v []float64) float64 { return pct(v, 0.5) }

func maxOf(v []float64) float64 {
	m := 0.0
	for _, x := range v {
		m = max(m, x)
	}
	return m
}
