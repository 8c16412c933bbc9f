package e2e

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/medialuna/medialuna/test/smtpcatcher"
	"github.com/medialuna/medialuna/test/testdb"
)

type batchCreateAnswer struct {
	Created int `json:"created"`
	Failed  int `json:"failed"`
	Results []struct {
		Index      int              `json:"index"`
		Status     string           `json:"status"`
		MonitorID  int64            `json:"monitor_id"`
		Monitor    *importedMonitor `json:"monitor"`
		StatusCode int              `json:"status_code"`
		Detail     json.RawMessage  `json:"detail"`
	} `json:"results"`
}

// TestBatchCreateMonitors: POST /api/monitors/batch judges each entry as
// the single create does, fills a FREE plan exactly (7 slots left, 12
// valid entries: 7 created, 5 refused with the limit), answers with the
// created monitors readable, and refuses malformed or oversized batches
// whole.
func TestBatchCreateMonitors(t *testing.T) {
	db := testdb.New(t)
	const probeToken = "batch-probe-token-0123456789"
	s := startServer(t, db, smtpcatcher.Start(t), "MEDIALUNA_EMBEDDED_PROBE=false", "MEDIALUNA_PROBE_TOKEN="+probeToken)
	s.expect(200, "POST", "/api/probe/register", probeToken, map[string]any{"code": "batch-test", "name": "Batch test"})
	owner := signup(t, s, "batch@example.com", "Batch")
	jwt := owner.AccessToken
	for i := range 3 {
		s.expect(201, "POST", "/api/v1/monitors", jwt, map[string]any{"name": fmt.Sprint("single", i), "type": "PING", "url": "h.example.com", "check_interval": 300})
	}
	entries := []map[string]any{}
	for i := range 13 {
		entries = append(entries, map[string]any{"name": fmt.Sprint("batch", i), "type": "PING", "url": "h.example.com", "check_interval": 300})
	}
	delete(entries[1], "url")
	var ans batchCreateAnswer
	s.expect(200, "POST", "/api/monitors/batch", jwt, map[string]any{"monitors": entries}).json(t, &ans)
	if ans.Created != 7 || ans.Failed != 6 || len(ans.Results) != 13 {
		t.Fatalf("batch: created %d, failed %d, %d results", ans.Created, ans.Failed, len(ans.Results))
	}
	for i, r := range ans.Results {
		switch {
		case i == 1:
			if r.Status != "failed" || r.StatusCode != 422 || string(r.Detail) != `[{"loc":["body","url"],"msg":"field required","type":"missing"}]` {
				t.Errorf("entry 1: %+v %s", r, r.Detail)
			}
		case i <= 7:
			if r.Status != "created" || r.Monitor == nil || r.Monitor.ID != r.MonitorID || r.Monitor.Name != fmt.Sprint("batch", i) {
				t.Errorf("entry %d: %+v", i, r)
			}
		default:
			if r.Status != "failed" || r.StatusCode != 403 || string(r.Detail) != `"plan FREE allows 10 monitors; delete one or upgrade"` {
				t.Errorf("entry %d: %+v %s", i, r, r.Detail)
			}
		}
	}
	if got := listMonitors(t, s, jwt); len(got) != 10 {
		t.Errorf("%d monitors listed, want 10", len(got))
	}
	// Full: a single create is refused as well.
	s.expect(403, "POST", "/api/v1/monitors", jwt, map[string]any{"name": "one more", "type": "PING", "url": "h.example.com", "check_interval": 300})

	other := signup(t, s, "bystander@example.com", "Bystander")
	if got := listMonitors(t, s, other.AccessToken); len(got) != 0 {
		t.Errorf("the bystander has %d monitors", len(got))
	}
	// Refused whole: no list, too many entries, not an array.
	s.expect(422, "POST", "/api/monitors/batch", other.AccessToken, map[string]any{})
	s.expect(422, "POST", "/api/monitors/batch", other.AccessToken, map[string]any{"monitors": make([]map[string]any, 1001)})
	s.expect(400, "POST", "/api/monitors/batch", other.AccessToken, map[string]any{"monitors": "all of them"})
	if got := listMonitors(t, s, other.AccessToken); len(got) != 0 {
		t.Errorf("refused batches created %d monitors", len(got))
	}
}
