package e2e

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/medialuna/medialuna/test/smtpcatcher"
	"github.com/medialuna/medialuna/test/testdb"
)

// startProbe runs `medialuna probe` as its own process.
func startProbe(t testing.TB, s *server, region, token string) *exec.Cmd {
	t.Helper()
	logs := &syncBuffer{}
	cmd := exec.Command(binary, "probe", "--region", region, "--name", "Region "+region, "--server", s.URL, "--token", token, "--log-level", "debug")
	cmd.Env = os.Environ()
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("probe %s logs:\n%s", region, logs.String())
		}
	})
	return cmd
}

// TestTwoProbeRegionsConfirmFailures runs two probe agents in separate
// processes; with confirm_from_locations 2 a failure seen from one region
// alone does not take the monitor down, a failure seen from both does.
func TestTwoProbeRegionsConfirmFailures(t *testing.T) {
	db := testdb.New(t)
	const token = "probe-secret-for-tests"
	s := startServer(t, db, smtpcatcher.Start(t), "MEDIALUNA_MIN_CHECK_INTERVAL=1", "MEDIALUNA_PROBE_TOKEN="+token, "MEDIALUNA_EMBEDDED_PROBE=false")
	su := signup(t, s, "regions@example.com", "Regions")
	jwt := su.AccessToken
	if _, errOut, err := medialuna(t, db, "accounts", "set-plan", itoa(su.Account.ID), "PRO"); err != nil {
		t.Fatal(errOut)
	}
	s.expect(401, "POST", "/api/probe/register", "wrong-token", map[string]string{"code": "xx"})
	s.expect(400, "GET", "/api/probe/assignments", token, nil)
	s.expect(422, "POST", "/api/probe/results", token, map[string]any{"region_id": 4242, "results": []any{}})

	var mu sync.Mutex
	failing := map[string]bool{}
	hits := map[string]int{}
	tg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ua := r.Header.Get("User-Agent")
		region := ua[strings.LastIndex(ua, "/")+1:]
		mu.Lock()
		hits[region]++
		fail := failing[region]
		mu.Unlock()
		if fail {
			w.WriteHeader(500)
		}
	}))
	defer tg.Close()
	setFailing := func(regions ...string) {
		mu.Lock()
		failing = map[string]bool{}
		for _, r := range regions {
			failing[r] = true
		}
		mu.Unlock()
	}

	startProbe(t, s, "eu-west", token)
	startProbe(t, s, "us-east", token)
	var regions []struct {
		ID   int64  `json:"id"`
		Code string `json:"code"`
	}
	waitFor(t, func() bool {
		s.expect(200, "GET", "/api/regions/public", "", nil).json(t, &regions)
		return len(regions) == 2
	})
	ids := []int64{regions[0].ID, regions[1].ID}
	// FREE allows one region per monitor: two is a 403 naming the limit.
	free := signup(t, s, "free-regions@example.com", "Free")
	r := s.expect(403, "POST", "/api/v1/monitors", free.AccessToken, map[string]any{"name": "two", "type": "HTTP", "url": "https://example.com", "region_ids": ids})
	if !strings.Contains(r.detail(), "1 regions") {
		t.Errorf("region limit detail: %s", r.detail())
	}
	var m monitor
	s.expect(201, "POST", "/api/v1/monitors", jwt, map[string]any{"name": "two regions", "type": "HTTP", "url": tg.URL,
		"check_interval": 1, "region_ids": ids, "confirm_from_locations": 2}).json(t, &m)
	waitStatus(t, s, jwt, m.ID, "up")

	// One region sees failures: not confirmed, the monitor stays up.
	setFailing("eu-west")
	waitFor(t, func() bool {
		var latency []struct {
			RegionCode string  `json:"region_code"`
			Uptime     float64 `json:"uptime_percentage"`
		}
		s.expect(200, "GET", "/api/regions/monitors/"+itoa(m.ID)+"/latency", jwt, nil).json(t, &latency)
		for _, l := range latency {
			if l.RegionCode == "eu-west" && l.Uptime < 100 {
				return true
			}
		}
		return false
	})
	for range 3 {
		if st := getMonitor(t, s, jwt, m.ID).Status; st != "up" {
			t.Fatalf("one failing region of two made the monitor %s", st)
		}
		time.Sleep(700 * time.Millisecond)
	}

	// Both regions fail: confirmed down. Then recovery.
	setFailing("eu-west", "us-east")
	waitStatus(t, s, jwt, m.ID, "down")
	setFailing()
	waitStatus(t, s, jwt, m.ID, "up")

	mu.Lock()
	if hits["eu-west"] < 3 || hits["us-east"] < 3 {
		t.Errorf("hits per region: %v", hits)
	}
	mu.Unlock()
	// With the embedded probe off, nothing was checked from a third region.
	var other int
	db.Get(&other, `SELECT count(*) FROM check_results WHERE monitor_id = $1 AND region_id <> ALL($2)`, m.ID, "{"+itoa(ids[0])+","+itoa(ids[1])+"}")
	if other != 0 {
		t.Errorf("%d results from unassigned regions", other)
	}
}
