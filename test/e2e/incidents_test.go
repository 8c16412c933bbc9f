package e2e

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/medialuna/medialuna/test/smtpcatcher"
	"github.com/medialuna/medialuna/test/testdb"
)

type incident struct {
	ID             int64      `json:"id"`
	MonitorID      int64      `json:"monitor_id"`
	Type           string     `json:"incident_type"`
	Status         string     `json:"status"`
	Message        string     `json:"message"`
	StartedAt      time.Time  `json:"started_at"`
	AcknowledgedAt *time.Time `json:"acknowledged_at"`
	ResolvedAt     *time.Time `json:"resolved_at"`
	SnoozedUntil   *time.Time `json:"snoozed_until"`
	Timeline       []struct {
		ID        int64     `json:"id"`
		EventType string    `json:"event_type"`
		Message   string    `json:"message"`
		UserID    *int64    `json:"user_id"`
		CreatedAt time.Time `json:"created_at"`
	} `json:"timeline"`
}

func (i incident) events() string {
	var out []string
	for _, e := range i.Timeline {
		out = append(out, e.EventType)
	}
	return strings.Join(out, " ")
}

func incidentsOf(t testing.TB, s *server, token string, query string) []incident {
	var list []incident
	s.expect(200, "GET", "/api/v1/incidents"+query, token, nil).json(t, &list)
	return list
}

func waitIncidents(t testing.TB, s *server, token, query string, n int) []incident {
	t.Helper()
	var list []incident
	waitFor(t, func() bool {
		list = incidentsOf(t, s, token, query)
		return len(list) == n
	})
	return list
}

// TestIncidentLifecycle: a target that goes down opens exactly one DOWN
// incident; people acknowledge, comment and snooze; recovery resolves it;
// the replay and as_of views, folded from the log, agree with the read model.
func TestIncidentLifecycle(t *testing.T) {
	db := testdb.New(t)
	s := startServer(t, db, smtpcatcher.Start(t), "MEDIALUNA_MIN_CHECK_INTERVAL=1")
	su := signup(t, s, "inc@example.com", "Inc")
	unlimited(t, s, su.Account.ID)
	jwt := su.AccessToken
	tg := newTarget(t)
	var m monitor
	s.expect(201, "POST", "/api/v1/monitors", jwt, map[string]any{"name": "checkout", "type": "HTTP", "url": tg.URL, "check_interval": 1, "timeout": 2}).json(t, &m)
	waitStatus(t, s, jwt, m.ID, "up")

	tg.healthy.Store(false)
	waitStatus(t, s, jwt, m.ID, "down")
	list := waitIncidents(t, s, jwt, "", 1)
	inc := list[0]
	if inc.Type != "DOWN" || inc.Status != "TRIGGERED" || inc.MonitorID != m.ID || !strings.Contains(inc.Message, "503") {
		t.Fatalf("incident = %+v", inc)
	}
	time.Sleep(2 * time.Second) // more failing checks: still one incident
	if n := len(incidentsOf(t, s, jwt, "")); n != 1 {
		t.Fatalf("%d incidents for one outage", n)
	}

	id := itoa(inc.ID)
	// Two people acknowledge at once: one ACKNOWLEDGED in the history.
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r := s.call("POST", "/api/incidents/"+id+"/acknowledge", jwt, map[string]string{"message": "on it"}); r.Status != 200 {
				t.Errorf("acknowledge: %d %s", r.Status, r.Body)
			}
		}()
	}
	wg.Wait()
	s.expect(201, "POST", "/api/incidents/"+id+"/timeline", jwt, map[string]string{"message": "database failover started"})
	s.expect(422, "POST", "/api/incidents/"+id+"/snooze", jwt, map[string]int{"duration_minutes": 4})
	s.expect(422, "POST", "/api/incidents/"+id+"/snooze", jwt, map[string]int{"duration_minutes": 10081})
	s.expect(422, "POST", "/api/incidents/"+id+"/timeline", jwt, map[string]string{"message": ""})
	var snoozed incident
	s.expect(200, "POST", "/api/incidents/"+id+"/snooze", jwt, map[string]any{"duration_minutes": 30, "reason": "known issue"}).json(t, &snoozed)
	if snoozed.SnoozedUntil == nil || snoozed.Status != "ACKNOWLEDGED" {
		t.Errorf("snoozed = %+v", snoozed)
	}
	beforeRecovery := time.Now().UTC()

	tg.healthy.Store(true)
	waitStatus(t, s, jwt, m.ID, "up")
	var resolved incident
	waitFor(t, func() bool {
		s.expect(200, "GET", "/api/v1/incidents/"+id, jwt, nil).json(t, &resolved)
		return resolved.Status == "RESOLVED"
	})
	if got := resolved.events(); got != "TRIGGERED ACKNOWLEDGED COMMENT SNOOZED RESOLVED" {
		t.Errorf("timeline = %s", got)
	}
	if resolved.Timeline[1].UserID == nil || *resolved.Timeline[1].UserID != su.User.ID || resolved.Timeline[0].UserID != nil {
		t.Errorf("timeline actors: %+v", resolved.Timeline)
	}
	s.expect(409, "POST", "/api/incidents/"+id+"/acknowledge", jwt, nil)
	s.expect(201, "POST", "/api/incidents/"+id+"/timeline", jwt, map[string]string{"message": "post-mortem: failover took 3 minutes"})

	// as_of: the incident as it stood before recovery, folded from the log.
	var past incident
	s.expect(200, "GET", "/api/v1/incidents/"+id+"?as_of="+beforeRecovery.Format(time.RFC3339Nano), jwt, nil).json(t, &past)
	if past.Status != "ACKNOWLEDGED" || past.ResolvedAt != nil || past.events() != "TRIGGERED ACKNOWLEDGED COMMENT SNOOZED" {
		t.Errorf("as_of = %+v (%s)", past, past.events())
	}
	s.expect(404, "GET", "/api/v1/incidents/"+id+"?as_of=2001-01-01T00:00:00Z", jwt, nil)
	var replay []struct {
		EventType string   `json:"event_type"`
		State     incident `json:"state"`
	}
	s.expect(200, "GET", "/api/incidents/"+id+"/replay", jwt, nil).json(t, &replay)
	var states []string
	for _, r := range replay {
		states = append(states, r.EventType+":"+r.State.Status)
	}
	if got := strings.Join(states, " "); got != "IncidentTriggered:TRIGGERED IncidentAcknowledged:ACKNOWLEDGED IncidentCommented:ACKNOWLEDGED IncidentSnoozed:ACKNOWLEDGED IncidentResolved:RESOLVED IncidentCommented:RESOLVED" {
		t.Errorf("replay = %s", got)
	}
	var now incident
	s.expect(200, "GET", "/api/v1/incidents/"+id, jwt, nil).json(t, &now)
	final := replay[len(replay)-1].State
	if final.Status != now.Status || !final.ResolvedAt.Equal(*now.ResolvedAt) || !final.StartedAt.Equal(now.StartedAt) {
		t.Errorf("replay's last state %+v differs from the read model %+v", final, now)
	}

	var counts struct {
		Total    int            `json:"total"`
		Open     int            `json:"open"`
		ByType   map[string]int `json:"by_type"`
		ByStatus map[string]int `json:"by_status"`
	}
	s.expect(200, "GET", "/api/incidents/counts", jwt, nil).json(t, &counts)
	if counts.Total != 1 || counts.Open != 0 || counts.ByType["DOWN"] != 1 || counts.ByStatus["RESOLVED"] != 1 {
		t.Errorf("counts = %+v", counts)
	}
	// Filters and another account's view.
	if n := len(incidentsOf(t, s, jwt, "?incident_type=SSL_EXPIRY")); n != 0 {
		t.Errorf("SSL filter: %d", n)
	}
	if n := len(incidentsOf(t, s, jwt, "?monitor_id="+itoa(m.ID)+"&start_date="+beforeRecovery.Add(-time.Hour).Format(time.RFC3339))); n != 1 {
		t.Errorf("monitor/date filter: %d", n)
	}
	s.expect(400, "GET", "/api/v1/incidents?incident_type=FIRE", jwt, nil)
	other := signup(t, s, "other-inc@example.com", "Other").AccessToken
	s.expect(404, "GET", "/api/v1/incidents/"+id, other, nil)
	s.expect(404, "GET", "/api/incidents/"+id+"/replay", other, nil)
	s.expect(404, "POST", "/api/incidents/"+id+"/timeline", other, map[string]string{"message": "x"})

	// A deleted monitor's incidents leave the API, replay included; the
	// log keeps them for the audit trail.
	defer func() {
		s.expect(204, "DELETE", "/api/v1/monitors/"+itoa(m.ID), jwt, nil)
		s.expect(404, "GET", "/api/v1/incidents/"+id, jwt, nil)
		s.expect(404, "GET", "/api/incidents/"+id+"/replay", jwt, nil)
		s.expect(404, "GET", "/api/v1/incidents/"+id+"?as_of="+time.Now().UTC().Format(time.RFC3339), jwt, nil)
		audit := s.expect(200, "GET", "/api/audit/events?stream=incident-"+id, jwt, nil)
		if !strings.Contains(string(audit.Body), "IncidentTriggered") {
			t.Errorf("the log lost the deleted monitor's incident: %s", audit.Body)
		}
	}()

	// A second outage opens a second incident; pausing resolves it.
	tg.healthy.Store(false)
	list = waitIncidents(t, s, jwt, "", 2)
	s.expect(200, "POST", "/api/monitors/"+itoa(m.ID)+"/pause", jwt, nil)
	waitFor(t, func() bool {
		var i incident
		s.expect(200, "GET", "/api/v1/incidents/"+itoa(list[0].ID), jwt, nil).json(t, &i)
		return i.Status == "RESOLVED" && strings.Contains(i.Timeline[len(i.Timeline)-1].Message, "paused")
	})
}

// TestPerformanceIncident: consecutive slow answers over the monitor's
// threshold open a PERFORMANCE incident; as many fast ones resolve it.
func TestPerformanceIncident(t *testing.T) {
	s := startServer(t, testdb.New(t), smtpcatcher.Start(t), "MEDIALUNA_MIN_CHECK_INTERVAL=1")
	su := signup(t, s, "perf@example.com", "Perf")
	unlimited(t, s, su.Account.ID)
	jwt := su.AccessToken
	var delay atomic.Int64
	tg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Duration(delay.Load()))
	}))
	defer tg.Close()
	var m monitor
	s.expect(201, "POST", "/api/v1/monitors", jwt, map[string]any{"name": "slow api", "type": "HTTP", "url": tg.URL, "check_interval": 1,
		"performance_threshold_ms": 150, "performance_consecutive_checks": 2}).json(t, &m)
	s.expect(422, "POST", "/api/v1/monitors", jwt, map[string]any{"name": "x", "type": "HTTP", "url": tg.URL, "performance_consecutive_checks": 101})
	waitStatus(t, s, jwt, m.ID, "up")
	delay.Store(int64(300 * time.Millisecond))
	list := waitIncidents(t, s, jwt, "?incident_type=PERFORMANCE", 1)
	if !strings.Contains(list[0].Message, "over 150 ms") || list[0].Status != "TRIGGERED" {
		t.Errorf("incident = %+v", list[0])
	}
	if getMonitor(t, s, jwt, m.ID).Status != "up" {
		t.Error("a slow monitor is not down")
	}
	delay.Store(0)
	waitFor(t, func() bool {
		var i incident
		s.expect(200, "GET", "/api/v1/incidents/"+itoa(list[0].ID), jwt, nil).json(t, &i)
		return i.Status == "RESOLVED"
	})
}
