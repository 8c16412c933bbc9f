package e2e

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/medialuna/medialuna/test/smtpcatcher"
	"github.com/medialuna/medialuna/test/testdb"
)

// burst sends n requests at the same moment and counts the answers by
// status; details collects the refusals' messages.
func burst(t *testing.T, s *server, n int, method, path, jwt string, body func(i int) any) (map[int]int, []string) {
	t.Helper()
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		counts  = map[int]int{}
		details []string
	)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r := s.call(method, path, jwt, body(i))
			mu.Lock()
			defer mu.Unlock()
			counts[r.Status]++
			if r.Status >= 400 {
				details = append(details, r.detail())
			}
		}()
	}
	close(start)
	wg.Wait()
	return counts, details
}

func expectCounts(t *testing.T, what string, got, want map[int]int) {
	t.Helper()
	// A create whose read models lag under load answers 202 (recorded, not
	// yet visible): it counts as made.
	if n := got[202]; n > 0 {
		got[201] += n
		delete(got, 202)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s: statuses (-want +got):\n%s", what, diff)
	}
}

func expectDetails(t *testing.T, what string, details []string, want string) {
	t.Helper()
	for _, d := range details {
		if !strings.Contains(d, want) {
			t.Errorf("%s: refusal %q does not say %q", what, d, want)
		}
	}
}

func loopbackMonitor(i int) any {
	return map[string]any{"name": fmt.Sprintf("m%d", i), "type": "HTTP", "url": "http://127.0.0.1:9/", "check_interval": 300}
}

func apiKey(i int) any {
	return map[string]any{"name": fmt.Sprintf("k%d", i), "scopes": []string{"read:account"}}
}

// countList counts the items of a JSON array answer.
func countList(t *testing.T, s *server, path, jwt string) int {
	t.Helper()
	var items []map[string]any
	s.expect(200, "GET", path, jwt, nil).json(t, &items)
	return len(items)
}

// TestPlanLimitsHoldUnderConcurrency fires the bursts at FREE
// accounts: 25 monitor creates, 20 API-key creates, 10 status-page creates
// and 15 tags named "dup" at the same moment give exactly 10, 5, 1 and 1;
// the others get 403 naming the limit, or 409 for the duplicate name. A
// deletion or revocation frees exactly one slot.
func TestPlanLimitsHoldUnderConcurrency(t *testing.T) {
	s := startServer(t, testdb.New(t), smtpcatcher.Start(t))

	t.Run("monitors", func(t *testing.T) {
		jwt := signup(t, s, "limits-monitors@example.com", "Monitors").AccessToken
		counts, details := burst(t, s, 25, "POST", "/api/v1/monitors", jwt, loopbackMonitor)
		expectCounts(t, "25 monitor creates", counts, map[int]int{201: 10, 403: 15})
		expectDetails(t, "monitor limit", details, "plan FREE allows 10 monitors")
		if n := countList(t, s, "/api/v1/monitors", jwt); n != 10 {
			t.Fatalf("the account has %d monitors, want 10", n)
		}
		var ms []monitor
		s.expect(200, "GET", "/api/v1/monitors", jwt, nil).json(t, &ms)
		s.expect(204, "DELETE", "/api/v1/monitors/"+itoa(ms[0].ID), jwt, nil)
		counts, _ = burst(t, s, 5, "POST", "/api/v1/monitors", jwt, loopbackMonitor)
		expectCounts(t, "5 creates after a deletion", counts, map[int]int{201: 1, 403: 4})
	})

	t.Run("api keys", func(t *testing.T) {
		jwt := signup(t, s, "limits-keys@example.com", "Keys").AccessToken
		counts, details := burst(t, s, 20, "POST", "/api/users/api-keys", jwt, apiKey)
		expectCounts(t, "20 key creates", counts, map[int]int{201: 5, 403: 15})
		expectDetails(t, "key limit", details, "plan FREE allows 5 API keys")
		var keys []struct {
			ID int64 `json:"id"`
		}
		s.expect(200, "GET", "/api/users/api-keys", jwt, nil).json(t, &keys)
		if len(keys) != 5 {
			t.Fatalf("the account has %d keys, want 5", len(keys))
		}
		s.expect(204, "DELETE", "/api/users/api-keys/"+itoa(keys[0].ID), jwt, nil)
		counts, _ = burst(t, s, 3, "POST", "/api/users/api-keys", jwt, apiKey)
		expectCounts(t, "3 creates after a revocation", counts, map[int]int{201: 1, 403: 2})
	})

	t.Run("status pages", func(t *testing.T) {
		jwt := signup(t, s, "limits-pages@example.com", "Pages").AccessToken
		var m monitor
		s.expect(201, "POST", "/api/v1/monitors", jwt, loopbackMonitor(0)).json(t, &m)
		page := func(i int) any {
			return map[string]any{"title": "Status", "subdomain": fmt.Sprintf("limits-race-%d", i), "monitor_ids": []int64{m.ID}}
		}
		counts, details := burst(t, s, 10, "POST", "/api/status-pages", jwt, page)
		expectCounts(t, "10 page creates", counts, map[int]int{201: 1, 403: 9})
		expectDetails(t, "page limit", details, "plan FREE allows 1 status page")
		if n := countList(t, s, "/api/status-pages", jwt); n != 1 {
			t.Fatalf("the account has %d pages, want 1", n)
		}
	})

	t.Run("tags", func(t *testing.T) {
		jwt := signup(t, s, "limits-tags@example.com", "Tags").AccessToken
		counts, details := burst(t, s, 15, "POST", "/api/tags", jwt, func(int) any { return map[string]any{"name": "dup"} })
		expectCounts(t, "15 creates of dup", counts, map[int]int{201: 1, 409: 14})
		expectDetails(t, "duplicate tag", details, `a tag named "dup" already exists`)
		var tags []struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
		}
		s.expect(200, "GET", "/api/tags", jwt, nil).json(t, &tags)
		if len(tags) != 1 {
			t.Fatalf("the account has %d tags, want 1: %+v", len(tags), tags)
		}
		// Names are compared trimmed and case-insensitively; a deleted
		// tag's name is free again.
		s.expect(409, "POST", "/api/tags", jwt, map[string]any{"name": " DUP "})
		s.expect(204, "DELETE", "/api/tags/"+itoa(tags[0].ID), jwt, nil)
		s.expect(201, "POST", "/api/tags", jwt, map[string]any{"name": "Dup"})
	})
}

// TestPlanLimitsCountResourcesOlderThanQuotas: an account whose monitors,
// keys, page and tag were recorded before quotas were kept on the write
// side (its log has no quota streams) is still at its limits: bursts of
// creates are all refused, and a deletion frees one slot.
func TestPlanLimitsCountResourcesOlderThanQuotas(t *testing.T) {
	db := testdb.New(t)
	s := startServer(t, db, smtpcatcher.Start(t))
	jwt := signup(t, s, "old@example.com", "Old").AccessToken
	var ms []monitor
	for i := range 10 {
		var m monitor
		s.expect(201, "POST", "/api/v1/monitors", jwt, loopbackMonitor(i)).json(t, &m)
		ms = append(ms, m)
	}
	for i := range 5 {
		s.expect(201, "POST", "/api/users/api-keys", jwt, apiKey(i))
	}
	s.expect(201, "POST", "/api/status-pages", jwt, map[string]any{"title": "Old", "subdomain": "old-page", "monitor_ids": []int64{ms[0].ID}})
	s.expect(201, "POST", "/api/tags", jwt, map[string]any{"name": "dup"})
	// The log as the build before write-side quotas wrote it: the same
	// events, without the account's quota streams.
	res, err := db.Exec(`DELETE FROM events WHERE stream_id ~ '^account-[0-9]+-'`)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		t.Fatal("no quota streams to remove: the test no longer simulates an old log")
	}

	counts, _ := burst(t, s, 5, "POST", "/api/v1/monitors", jwt, loopbackMonitor)
	expectCounts(t, "monitor creates on an old account", counts, map[int]int{403: 5})
	counts, _ = burst(t, s, 3, "POST", "/api/users/api-keys", jwt, apiKey)
	expectCounts(t, "key creates on an old account", counts, map[int]int{403: 3})
	counts, _ = burst(t, s, 2, "POST", "/api/status-pages", jwt, func(i int) any {
		return map[string]any{"title": "New", "subdomain": fmt.Sprintf("new-page-%d", i), "monitor_ids": []int64{ms[0].ID}}
	})
	expectCounts(t, "page creates on an old account", counts, map[int]int{403: 2})
	counts, _ = burst(t, s, 3, "POST", "/api/tags", jwt, func(int) any { return map[string]any{"name": "DUP"} })
	expectCounts(t, "tag creates on an old account", counts, map[int]int{409: 3})

	s.expect(204, "DELETE", "/api/v1/monitors/"+itoa(ms[3].ID), jwt, nil)
	counts, _ = burst(t, s, 3, "POST", "/api/v1/monitors", jwt, loopbackMonitor)
	expectCounts(t, "creates after deleting an old monitor", counts, map[int]int{201: 1, 403: 2})
}

// TestRateLimitHeadersAreIntegersOnEveryPlan: a plan without a limit sends
// integers too (the largest 32-bit one, and what is left of it), which
// clients parse as they parse every other plan's.
func TestRateLimitHeadersAreIntegersOnEveryPlan(t *testing.T) {
	s := startServer(t, testdb.New(t), smtpcatcher.Start(t))
	a := signup(t, s, "enterprise@example.com", "Enterprise")
	unlimited(t, s, a.Account.ID)
	var limit, remaining string
	waitFor(t, func() bool {
		r := s.expect(200, "GET", "/api/v1/account", a.AccessToken, nil)
		limit, remaining = r.Header.Get("X-RateLimit-Limit"), r.Header.Get("X-RateLimit-Remaining")
		return limit != "60"
	})
	l, err1 := strconv.Atoi(limit)
	rem, err2 := strconv.Atoi(remaining)
	if err1 != nil || err2 != nil || l != 2147483647 || rem <= 0 || rem >= l {
		t.Errorf("ENTERPRISE: X-RateLimit-Limit %q, X-RateLimit-Remaining %q", limit, remaining)
	}
}

// TestPlansShowTheServersIntervalFloor: with --min-check-interval lowering
// every plan's minimum, the plans, the account's limits and usage say the
// minimum the server really takes, and a refusal names it in words.
func TestPlansShowTheServersIntervalFloor(t *testing.T) {
	s := startServer(t, testdb.New(t), smtpcatcher.Start(t), "MEDIALUNA_MIN_CHECK_INTERVAL=1")
	a := signup(t, s, "floor@example.com", "Floor")
	var plans []struct {
		Name             string `json:"name"`
		MinCheckInterval int    `json:"min_check_interval"`
	}
	s.expect(200, "GET", "/api/plans", "", nil).json(t, &plans)
	for _, p := range plans {
		if p.MinCheckInterval != 1 {
			t.Errorf("plan %s says min_check_interval %d; the server takes 1", p.Name, p.MinCheckInterval)
		}
	}
	var account struct {
		Limits struct {
			MinCheckInterval int `json:"min_check_interval"`
		} `json:"limits"`
	}
	s.expect(200, "GET", "/api/v1/account", a.AccessToken, nil).json(t, &account)
	var usage struct {
		MinCheckInterval int `json:"min_check_interval"`
	}
	s.expect(200, "GET", "/api/billing/usage", a.AccessToken, nil).json(t, &usage)
	if account.Limits.MinCheckInterval != 1 || usage.MinCheckInterval != 1 {
		t.Errorf("account limits %d, usage %d; want 1", account.Limits.MinCheckInterval, usage.MinCheckInterval)
	}
	refused := s.expect(422, "POST", "/api/v1/monitors", a.AccessToken, map[string]any{"name": "x", "type": "HTTP", "url": "http://127.0.0.1:9/", "check_interval": -5})
	if !strings.Contains(string(refused.Body), "at least 1 second on") {
		t.Errorf("the refusal: %s", refused.Body)
	}
}
