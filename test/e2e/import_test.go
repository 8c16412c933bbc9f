package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/medialuna/medialuna/test/smtpcatcher"
	"github.com/medialuna/medialuna/test/testdb"
)

// gatusExample is Gatus' own example configuration (see its NOTICE).
const gatusExample = "../../adapters/importfile/testdata/gatus-config.yaml"

type importReport struct {
	Created int  `json:"created"`
	Failed  int  `json:"failed"`
	DryRun  bool `json:"dry_run"`
	Entries []struct {
		Index     int      `json:"index"`
		Line      int      `json:"line"`
		Name      string   `json:"name"`
		Status    string   `json:"status"`
		MonitorID int64    `json:"monitor_id"`
		Error     string   `json:"error"`
		Warnings  []string `json:"warnings"`
	} `json:"entries"`
}

type importedMonitor struct {
	ID            int64  `json:"id"`
	Name          string `json:"name"`
	Type          string `json:"type"`
	URL           string `json:"url"`
	Status        string `json:"status"`
	CheckInterval int    `json:"check_interval"`
	DNSResolver   string `json:"dns_resolver"`
	Tags          []struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	} `json:"tags"`
}

// postFile sends a file to the import endpoint with a Content-Type.
func postFile(t *testing.T, s *server, query, token, contentType string, body []byte) response {
	t.Helper()
	req, err := http.NewRequest("POST", s.URL+"/api/monitors/import"+query, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return response{Status: resp.StatusCode, Header: resp.Header, Body: data}
}

func listMonitors(t *testing.T, s *server, token string) map[string]importedMonitor {
	t.Helper()
	var list []importedMonitor
	s.expect(200, "GET", "/api/v1/monitors?limit=1000", token, nil).json(t, &list)
	out := map[string]importedMonitor{}
	for _, m := range list {
		out[m.Name] = m
	}
	return out
}

func tagNames(t *testing.T, s *server, token string) []string {
	t.Helper()
	var tags []struct {
		Name string `json:"name"`
	}
	s.expect(200, "GET", "/api/tags", token, nil).json(t, &tags)
	var out []string
	for _, tg := range tags {
		out = append(out, tg.Name)
	}
	sort.Strings(out)
	return out
}

func monitorTags(m importedMonitor) []string {
	var out []string
	for _, tg := range m.Tags {
		out = append(out, tg.Name)
	}
	sort.Strings(out)
	return out
}

// TestImportMonitors imports Gatus' example configuration and CSV lists
// through the API and through the CLI, against a real server whose only
// region has no probe (nothing is checked, no request leaves the machine).
func TestImportMonitors(t *testing.T) {
	db := testdb.New(t)
	const probeToken = "import-probe-token-0123456789"
	s := startServer(t, db, smtpcatcher.Start(t), "MEDIALUNA_EMBEDDED_PROBE=false", "MEDIALUNA_PROBE_TOKEN="+probeToken)
	s.expect(200, "POST", "/api/probe/register", probeToken, map[string]any{"code": "import-test", "name": "Import test"})
	gatus, err := os.ReadFile(gatusExample)
	if err != nil {
		t.Fatal(err)
	}

	owner := signup(t, s, "importer@example.com", "Importer")
	unlimited(t, s, owner.Account.ID)
	jwt := owner.AccessToken
	waitFor(t, func() bool {
		var acc struct {
			Plan string `json:"plan"`
		}
		r := s.call("GET", "/api/v1/account", jwt, nil)
		return r.Status == 200 && json.Unmarshal(r.Body, &acc) == nil && acc.Plan == "ENTERPRISE"
	})
	s.expect(201, "POST", "/api/tags", jwt, map[string]string{"name": "Core"})
	other := signup(t, s, "bystander@example.com", "Bystander")
	s.expect(201, "POST", "/api/tags", other.AccessToken, map[string]string{"name": "internal"})

	// A dry run decides every entry and creates nothing.
	var dry importReport
	postFile(t, s, "?dry_run=true", jwt, "application/yaml", gatus).jsonStatus(t, 200, &dry)
	if !dry.DryRun || dry.Created != 0 || dry.Failed != 0 || len(dry.Entries) != 7 {
		t.Fatalf("dry run: %+v", dry)
	}
	for _, e := range dry.Entries {
		if e.Status != "would_create" || e.MonitorID != 0 {
			t.Errorf("dry entry %+v", e)
		}
	}
	if got := listMonitors(t, s, jwt); len(got) != 0 {
		t.Fatalf("a dry run created %d monitors", len(got))
	}
	if got := tagNames(t, s, jwt); !slices.Equal(got, []string{"Core"}) {
		t.Fatalf("a dry run changed the tags: %v", got)
	}

	// The real import: every endpoint a monitor, groups as tags (the
	// account's own "Core" reused), the warnings name what did not carry.
	var rep importReport
	postFile(t, s, "", jwt, "application/yaml; charset=utf-8", gatus).jsonStatus(t, 200, &rep)
	if rep.Created != 7 || rep.Failed != 0 || rep.DryRun {
		t.Fatalf("import: %s", mustJSON(rep))
	}
	if rep.Entries[0].Name != "front-end" || rep.Entries[0].Line != 2 || !slices.Contains(rep.Entries[0].Warnings, `condition "[BODY].status == UP" is not carried over`) {
		t.Errorf("entry 0: %+v", rep.Entries[0])
	}
	mons := listMonitors(t, s, jwt)
	if len(mons) != 7 {
		t.Fatalf("%d monitors listed: %v", len(mons), mons)
	}
	for _, e := range rep.Entries {
		if mons[e.Name].ID != e.MonitorID {
			t.Errorf("%s: reported id %d, listed %d", e.Name, e.MonitorID, mons[e.Name].ID)
		}
	}
	for name, want := range map[string][]string{"front-end": {"Core"}, "back-end": {"Core"}, "monitoring": {"internal"}, "nas": {"internal"}, "icmp-ping": nil} {
		if got := monitorTags(mons[name]); !slices.Equal(got, want) {
			t.Errorf("%s tags %v, want %v", name, got, want)
		}
	}
	if m := mons["example-dns-query"]; m.Type != "DNS" || m.URL != "example.com" || m.DNSResolver != "8.8.8.8:53" || m.CheckInterval != 300 {
		t.Errorf("dns monitor %+v", m)
	}
	if m := mons["icmp-ping"]; m.Type != "PING" || m.URL != "example.org" || m.CheckInterval != 60 {
		t.Errorf("ping monitor %+v", m)
	}
	if got := tagNames(t, s, jwt); !slices.Equal(got, []string{"Core", "internal"}) {
		t.Errorf("tags %v", got)
	}
	// The other account: its tag untouched, no monitors.
	if got := tagNames(t, s, other.AccessToken); !slices.Equal(got, []string{"internal"}) {
		t.Errorf("the bystander's tags: %v", got)
	}
	if got := listMonitors(t, s, other.AccessToken); len(got) != 0 {
		t.Errorf("the bystander has %d monitors", len(got))
	}

	// A JSON list: the account's tag found in any case; text no request
	// may carry refuses its entry only.
	var js importReport
	postFile(t, s, "", jwt, "application/json", []byte(`[
  {"name": "api", "type": "HTTP", "url": "https://api.example.com", "check_interval": 120, "tags": ["core"]},
  {"name": "nul\u0000", "type": "HTTP", "url": "https://example.com"},
  {"name": "half \ud800", "type": "HTTP", "url": "https://example.com"},
  {"name": "typo", "type": "HTTP", "url": "https://example.com", "timeout": "10"}
]`)).jsonStatus(t, 200, &js)
	if js.Created != 1 || js.Failed != 3 || !strings.Contains(js.Entries[1].Error, "NUL") || !strings.Contains(js.Entries[2].Error, "surrogate") ||
		js.Entries[3].Error != `field "timeout" must be of type number` {
		t.Errorf("json import: %s", mustJSON(js))
	}
	mons = listMonitors(t, s, jwt)
	if got := monitorTags(mons["api"]); len(mons) != 8 || !slices.Equal(got, []string{"Core"}) {
		t.Errorf("json monitor: %d monitors, tags %v", len(mons), got)
	}

	// A FREE account's CSV: the plan's 10 monitors, then the create's
	// refusal; hostile names are stored as text.
	var csv strings.Builder
	csv.WriteString("name,type,url,check_interval,tags\n")
	hostile := []string{`<img src=x onerror=alert(1)>`, `"><script>alert(1)</script>`}
	csv.WriteString(`"<img src=x onerror=alert(1)>",HTTP,https://example.com/a,300,web` + "\n")
	csv.WriteString(`"""><script>alert(1)</script>",TCP,db.example.com:5432,300,` + "\n")
	for i := range 10 {
		fmt.Fprintf(&csv, "m%d,PING,host%d.example.com,600,web;ops\n", i, i)
	}
	var free importReport
	postFile(t, s, "", other.AccessToken, "text/csv", []byte(csv.String())).jsonStatus(t, 200, &free)
	if free.Created != 10 || free.Failed != 2 || len(free.Entries) != 12 {
		t.Fatalf("free import: %s", mustJSON(free))
	}
	for _, e := range free.Entries[10:] {
		if e.Status != "failed" || e.Error != "plan FREE allows 10 monitors; delete one or upgrade" || e.MonitorID != 0 {
			t.Errorf("past the limit: %+v", e)
		}
	}
	freeMons := listMonitors(t, s, other.AccessToken)
	for _, name := range hostile {
		if _, ok := freeMons[name]; !ok {
			t.Errorf("hostile name %q not stored as given: %v", name, freeMons)
		}
	}
	if got := tagNames(t, s, other.AccessToken); !slices.Equal(got, []string{"internal", "ops", "web"}) {
		t.Errorf("the FREE account's tags: %v", got)
	}
	if got := tagNames(t, s, jwt); !slices.Equal(got, []string{"Core", "internal"}) {
		t.Errorf("the first account's tags changed: %v", got)
	}

	// Files that do not parse, formats not named, credentials refused.
	if r := postFile(t, s, "", jwt, "application/yaml", []byte("endpoints:\n  - name: a\n   url: b\n")); r.Status != 422 || !strings.Contains(r.detail(), "line 3") {
		t.Errorf("bad YAML: %d %s", r.Status, r.Body)
	}
	if r := postFile(t, s, "?format=csv", jwt, "", []byte("name,colour\nx,y\n")); r.Status != 422 || !strings.Contains(r.detail(), `unknown column \"colour\"`) {
		t.Errorf("bad CSV: %d %s", r.Status, r.Body)
	}
	if r := postFile(t, s, "", jwt, "text/plain", gatus); r.Status != 400 || !strings.Contains(r.detail(), "format") {
		t.Errorf("no format: %d %s", r.Status, r.Body)
	}
	if r := postFile(t, s, "?format=toml", jwt, "", gatus); r.Status != 400 {
		t.Errorf("unknown format: %d %s", r.Status, r.Body)
	}
	if r := postFile(t, s, "?format=gatus&dry_run=maybe", jwt, "", gatus); r.Status != 400 {
		t.Errorf("bad dry_run: %d %s", r.Status, r.Body)
	}
	if r := postFile(t, s, "?format=json", "", "", []byte("[]")); r.Status != 401 {
		t.Errorf("anonymous: %d %s", r.Status, r.Body)
	}
	// JWT only, EDITOR+: an API key is a 401, a VIEWER a 403.
	var key struct {
		Key string `json:"key"`
	}
	s.expect(201, "POST", "/api/users/api-keys", jwt, map[string]any{"name": "ci", "scopes": []string{"write:monitors"}}).json(t, &key)
	if r := postFile(t, s, "", key.Key, "application/yaml", gatus); r.Status != 401 {
		t.Errorf("API key: %d %s", r.Status, r.Body)
	}
	s.expect(200, "POST", "/api/accounts/users/invite", jwt, map[string]string{"email": "viewer@example.com", "role": "VIEWER"})
	var viewer struct {
		AccessToken string `json:"access_token"`
	}
	s.expect(200, "POST", "/api/auth/accept-invite", "", map[string]string{"token": inviteToken(t, s.Mail.WaitFor(t, "viewer@example.com", 20*time.Second).Data),
		"password": "viewer password"}).json(t, &viewer)
	if r := postFile(t, s, "", viewer.AccessToken, "application/yaml", gatus); r.Status != 403 {
		t.Errorf("VIEWER: %d %s", r.Status, r.Body)
	}
	var many strings.Builder
	many.WriteString("name,type,url\n")
	for i := range 1001 {
		fmt.Fprintf(&many, "n%d,PING,h%d.example.com\n", i, i)
	}
	if r := postFile(t, s, "", jwt, "text/csv", []byte(many.String())); r.Status != 422 || !strings.Contains(r.detail(), "at most 1000 monitors") {
		t.Errorf("1001 entries: %d %s", r.Status, r.Body)
	}
	if r := postFile(t, s, "?format=json", jwt, "", bytes.Repeat([]byte(" "), 1<<20+1)); r.Status != 413 {
		t.Errorf("over 1 MiB: %d %s", r.Status, r.Body)
	}
	if got := listMonitors(t, s, jwt); len(got) != 8 {
		t.Errorf("refused files created monitors: %d", len(got))
	}

	// The CLI: the same import into a third account, on FREE: the 60 s
	// ping is refused with the create's message, the rest created; the
	// command exits 1 and says so.
	cli := signup(t, s, "cli@example.com", "CLI")
	out, errOut, err := medialuna(t, db, "monitors", "import", gatusExample, "--account", itoa(cli.Account.ID))
	if err == nil || !strings.Contains(errOut, "1 of 7 entries were not imported") {
		t.Fatalf("cli import: %v\n%s\n%s", err, out, errOut)
	}
	if !strings.Contains(out, "check_interval must be at least 300 seconds on the FREE plan") || !strings.Contains(out, "6 monitors created, 1 failed") ||
		!strings.Contains(out, `tag "core" was created`) {
		t.Errorf("cli report:\n%s", out)
	}
	var cliMons map[string]importedMonitor
	waitFor(t, func() bool { cliMons = listMonitors(t, s, cli.AccessToken); return len(cliMons) == 6 })
	if _, ok := cliMons["icmp-ping"]; ok {
		t.Error("the refused entry was created")
	}
	if got := monitorTags(cliMons["nas"]); !slices.Equal(got, []string{"internal"}) {
		t.Errorf("cli nas tags %v", got)
	}
	waitFor(t, func() bool { return slices.Equal(tagNames(t, s, cli.AccessToken), []string{"core", "internal"}) })

	// CLI dry run of a CSV file, with the JSON report: nothing created.
	dir := t.TempDir()
	file := filepath.Join(dir, "monitors.csv")
	if err := os.WriteFile(file, []byte("name,type,url,tags\nshop,HTTP,https://shop.example.com,web\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, err = medialuna(t, db, "monitors", "import", file, "--account", itoa(cli.Account.ID), "--dry-run", "--json")
	var cliDry importReport
	if err != nil || json.Unmarshal([]byte(out), &cliDry) != nil || !cliDry.DryRun || len(cliDry.Entries) != 1 || cliDry.Entries[0].Status != "would_create" ||
		!slices.Contains(cliDry.Entries[0].Warnings, `tag "web" would be created`) {
		t.Fatalf("cli dry run: %v\n%s\n%s", err, out, errOut)
	}
	out, errOut, err = medialuna(t, db, "monitors", "import", file, "--account", itoa(cli.Account.ID))
	if err != nil || !strings.Contains(out, "1 monitors created, 0 failed") {
		t.Fatalf("cli csv: %v\n%s\n%s", err, out, errOut)
	}
	waitFor(t, func() bool { m := listMonitors(t, s, cli.AccessToken); return len(m) == 7 && m["shop"].Type == "HTTP" })
	if _, errOut, err := medialuna(t, db, "monitors", "import", file, "--account", "999999"); err == nil || !strings.Contains(errOut, "account 999999 not found") {
		t.Errorf("unknown account: %v %s", err, errOut)
	}
	if out, err := runCLI(t, "monitors", "--help"); err != nil || !strings.Contains(out, "monitors import FILE --account N") {
		t.Errorf("monitors --help: %v %s", err, out)
	}
	if out, err := runCLI(t, "monitors", "import", "--help"); err != nil || !strings.Contains(out, "--dry-run") || !strings.Contains(out, "required") {
		t.Errorf("monitors import --help: %v %s", err, out)
	}
}

func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	out, errOut, err := medialuna(t, &testdb.DB{}, args...)
	return out + errOut, err
}

func (r response) jsonStatus(t *testing.T, want int, v any) {
	t.Helper()
	if r.Status != want {
		t.Fatalf("status %d, want %d: %s", r.Status, want, r.Body)
	}
	r.json(t, v)
}

func mustJSON(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}
