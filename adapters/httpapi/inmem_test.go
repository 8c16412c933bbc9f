package httpapi_test

// These tests run the API over in-memory doubles of the interfaces it
// declares (Queries, the commands), without PostgreSQL: a handler's own
// logic, tested alone. The PostgreSQL-backed tests (api_test.go) and the
// end-to-end suite test the same endpoints wired for real.

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/medialuna/medialuna/adapters/httpapi"
	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/projections"
)

// memReads serves the reads one account with one API key needs. Reads it
// does not override panic (the embedded nil Queries): a handler reaching
// one fails the test loudly.
type memReads struct {
	httpapi.Queries
	mu       sync.Mutex
	key      projections.APIKeyRow
	monitors map[int64]projections.MonitorView
	waited   []domain.Position
}

func (m *memReads) APIKeyByHash(_ context.Context, hash string) (projections.APIKeyRow, error) {
	if hash != m.key.KeyHash {
		return projections.APIKeyRow{}, domain.Errorf(domain.ErrNotFound, "no such key")
	}
	return m.key, nil
}

func (m *memReads) User(_ context.Context, accountID, id int64) (projections.UserRow, error) {
	return projections.UserRow{ID: id, AccountID: accountID, Role: string(domain.RoleEditor)}, nil
}

func (m *memReads) Account(_ context.Context, id int64) (projections.AccountRow, error) {
	return projections.AccountRow{ID: id, Plan: string(domain.PlanFree)}, nil
}

func (m *memReads) Monitor(_ context.Context, accountID, id int64) (projections.MonitorView, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.monitors[id]
	if !ok {
		return v, domain.Errorf(domain.ErrNotFound, "monitor %d not found", id)
	}
	return v, nil
}

func (m *memReads) WaitFor(_ context.Context, _ []string, pos domain.Position) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.waited = append(m.waited, pos)
	return nil
}

// memCreateMonitor records the commands it gets and "projects" each
// monitor into reads at once.
type memCreateMonitor struct {
	reads *memReads
	got   []commands.CreateMonitor
}

func (c *memCreateMonitor) Handle(_ context.Context, cmd commands.CreateMonitor) (int64, domain.Position, error) {
	c.reads.mu.Lock()
	defer c.reads.mu.Unlock()
	c.got = append(c.got, cmd)
	id := int64(100 + len(c.got))
	c.reads.monitors[id] = projections.MonitorView{ID: id, MonitorConfig: cmd.Config, Status: "pending"}
	return id, domain.Position{Commit: uint64(id)}, nil
}

type memLimiter struct{}

func (memLimiter) Take(context.Context, int64) (int, time.Time, error) {
	return 1, time.Now().Add(time.Minute), nil
}

func TestCreateMonitorInMemory(t *testing.T) {
	const key = "sk_live_inmemorytestkey"
	reads := &memReads{monitors: map[int64]projections.MonitorView{},
		key: projections.APIKeyRow{ID: 3, AccountID: 7, UserID: 5, KeyHash: commands.HashAPIKey(key), Scopes: []string{string(domain.ScopeWriteMonitors)}}}
	create := &memCreateMonitor{reads: reads}
	srv := httpapi.New(httpapi.Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Queries: reads, CreateMonitor: create,
		RateLimiter: memLimiter{}, Now: time.Now, JWTSecret: []byte("x")})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	post := func(body string) (int, string) {
		req, _ := http.NewRequest("POST", ts.URL+"/api/v1/monitors", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}

	// Required fields are the domain's rule: nothing reaches the command.
	status, body := post(`{"type":"HTTP"}`)
	if status != http.StatusUnprocessableEntity || !strings.Contains(body, `"name"`) || !strings.Contains(body, `"url"`) {
		t.Errorf("without name and url: %d %s, want 422 naming both", status, body)
	}
	if len(create.got) != 0 {
		t.Fatalf("an invalid monitor reached the command: %+v", create.got)
	}

	// A body without a method makes it POST; the answer is the read model's.
	status, body = post(`{"name":"api","type":"http","url":"https://example.com","request_body":"{}"}`)
	if status != http.StatusCreated || !strings.Contains(body, `"id":101`) || !strings.Contains(body, `"http_method":"POST"`) {
		t.Fatalf("create: %d %s, want 201 with id 101 and method POST", status, body)
	}
	if len(create.got) != 1 {
		t.Fatalf("commands: %+v", create.got)
	}
	got := create.got[0]
	if got.Actor.AccountID != 7 || got.Actor.Type != domain.ActorAPIKey || got.Actor.ID != 3 || got.Plan != domain.PlanFree {
		t.Errorf("actor %+v plan %s, want the key's account 7 and id 3 on FREE", got.Actor, got.Plan)
	}
	if got.Config.Type != domain.TypeHTTP || got.Config.HTTPMethod != "POST" || got.Config.CheckInterval != domain.DefaultCheckInterval {
		t.Errorf("config %+v: want type HTTP, method POST, defaults filled", got.Config)
	}
	if len(reads.waited) != 1 || reads.waited[0] != (domain.Position{Commit: 101}) {
		t.Errorf("waited for %v, want the create's position before answering", reads.waited)
	}
}

// memProbeReads serves a region's assignments.
type memProbeReads struct {
	httpapi.Queries
	version string
	calls   int
}

func (m *memProbeReads) AssignmentsVersion(context.Context, int64) (string, error) {
	return m.version, nil
}

func (m *memProbeReads) Assignments(_ context.Context, region int64) ([]domain.CheckAssignment, error) {
	m.calls++
	return []domain.CheckAssignment{{MonitorID: 9}}, nil
}

func TestProbeAssignmentsInMemory(t *testing.T) {
	reads := &memProbeReads{version: "v1"}
	srv := httpapi.New(httpapi.Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Queries: reads, ProbeToken: "probe-secret", Now: time.Now})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	get := func(token, etag string) *http.Response {
		req, _ := http.NewRequest("GET", ts.URL+"/api/probe/assignments?region_id=2", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	for _, token := range []string{"", "wrong"} {
		if res := get(token, ""); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("token %q: %d, want 401", token, res.StatusCode)
		}
	}
	if reads.calls != 0 {
		t.Fatalf("assignments read %d times without a valid probe token", reads.calls)
	}
	res := get("probe-secret", "")
	if res.StatusCode != http.StatusOK || res.Header.Get("ETag") != `"v1"` {
		t.Fatalf("with the token: %d ETag %q, want 200 \"v1\"", res.StatusCode, res.Header.Get("ETag"))
	}
	if res := get("probe-secret", `"v1"`); res.StatusCode != http.StatusNotModified || reads.calls != 1 {
		t.Errorf("unchanged: %d after %d reads, want 304 without reading again", res.StatusCode, reads.calls)
	}
}
