package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/medialuna/medialuna/test/smtpcatcher"
	"github.com/medialuna/medialuna/test/testdb"
)

// medialuna runs a CLI command against db and returns stdout and stderr.
func medialuna(t testing.TB, db *testdb.DB, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), "DATABASE_URL="+db.URL)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	return out.String(), errOut.String(), err
}

func TestEveryCommandHasHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"serve", "--help"}, {"migrate", "--help"}, {"projections", "rebuild", "--help"},
		{"projections", "status", "--help"}, {"events", "export", "--help"}, {"events", "archive", "--help"}, {"accounts", "set-plan", "--help"}, {"accounts", "create", "--help"},
		{"secrets", "seal-log", "--help"}, {"secrets", "rotate-key", "--help"}, {"probe", "--help"}, {"version", "--help"},
		{"projections", "--help"}, {"events", "--help"}, {"accounts", "--help"}, {"secrets", "--help"}, {"help"}} {
		cmd := exec.Command(binary, args...)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Usage") {
			t.Errorf("medialuna %v: err %v, output:\n%s", args, err, out)
		}
	}
	if out, err := exec.Command(binary, "frobnicate").CombinedOutput(); err == nil || !strings.Contains(string(out), "unknown command") {
		t.Errorf("unknown command: %v %s", err, out)
	}
	// A group without its subcommand is an error that shows the group's usage.
	if out, err := exec.Command(binary, "projections").CombinedOutput(); err == nil || !strings.Contains(string(out), "projections rebuild") {
		t.Errorf("projections alone: %v %s", err, out)
	}
	if out, err := exec.Command(binary, "projections", "frobnicate").CombinedOutput(); err == nil || !strings.Contains(string(out), "unknown subcommand") {
		t.Errorf("an unknown subcommand: %v %s", err, out)
	}
	// Help says which read models can be rebuilt and which flags are required.
	if out, _ := exec.Command(binary, "projections", "rebuild", "--help").CombinedOutput(); !strings.Contains(string(out), "status_pages") {
		t.Errorf("rebuild --help does not list the read models:\n%s", out)
	}
	if out, _ := exec.Command(binary, "probe", "--help").CombinedOutput(); strings.Count(string(out), "required") < 2 {
		t.Errorf("probe --help does not mark --region and --token required:\n%s", out)
	}
	for _, args := range [][]string{{"version"}, {"--version"}} {
		out, err := exec.Command(binary, args...).Output()
		if err != nil || !strings.HasPrefix(string(out), "medialuna ") || !strings.Contains(string(out), "go1.") {
			t.Errorf("medialuna %v: %v %q", args, err, out)
		}
	}
}

// TestOperatorCommandsWhileServing changes a plan, rebuilds the read models
// and exports the log with the CLI while the API keeps serving.
func TestOperatorCommandsWhileServing(t *testing.T) {
	db := testdb.New(t)
	s := startServer(t, db, smtpcatcher.Start(t))
	su := signup(t, s, "ops@example.com", "Ops")
	r := s.expect(200, "GET", "/api/v1/account", su.AccessToken, nil)
	if r.Header.Get("X-RateLimit-Limit") != "60" {
		t.Fatalf("limit before: %s", r.Header.Get("X-RateLimit-Limit"))
	}

	out, errOut, err := medialuna(t, db, "accounts", "set-plan", itoa(su.Account.ID), "PRO")
	if err != nil || !strings.Contains(out, "now on plan PRO") {
		t.Fatalf("set-plan: %v\n%s%s", err, out, errOut)
	}
	if _, errOut, err := medialuna(t, db, "accounts", "set-plan", itoa(su.Account.ID), "GOLD"); err == nil || !strings.Contains(errOut, "FREE, STARTER, PRO, ENTERPRISE") {
		t.Errorf("bad plan accepted: %v %s", err, errOut)
	}
	if _, errOut, err := medialuna(t, db, "accounts", "set-plan", "999999", "PRO"); err == nil || !strings.Contains(errOut, "not found") {
		t.Errorf("unknown account: %v %s", err, errOut)
	}
	// set-plan returns once the read models hold the change: the very
	// next request is held to the new plan.
	if r := s.expect(200, "GET", "/api/v1/account", su.AccessToken, nil); r.Header.Get("X-RateLimit-Limit") != "600" {
		t.Errorf("the request right after set-plan: limit %s, want PRO's 600", r.Header.Get("X-RateLimit-Limit"))
	}

	before := s.expect(200, "GET", "/api/accounts/users", su.AccessToken, nil).Body
	done := make(chan struct{})
	go func() {
		// The API keeps answering during the rebuild.
		defer close(done)
		for range 20 {
			if r := s.call("GET", "/api/users/me", su.AccessToken, nil); r.Status != 200 {
				t.Errorf("during rebuild: %d %s", r.Status, r.Body)
				return
			}
		}
	}()
	_, errOut, err = medialuna(t, db, "projections", "rebuild")
	<-done
	if err != nil || !strings.Contains(errOut, "accounts: rebuilt and swapped") || !strings.Contains(errOut, "events applied") {
		t.Fatalf("rebuild: %v\n%s", err, errOut)
	}
	if after := s.expect(200, "GET", "/api/accounts/users", su.AccessToken, nil).Body; !bytes.Equal(before, after) {
		t.Errorf("rebuilt model differs:\nbefore %s\nafter  %s", before, after)
	}
	if _, errOut, err := medialuna(t, db, "projections", "rebuild", "nope"); err == nil || !strings.Contains(errOut, "unknown read model") {
		t.Errorf("unknown read model: %v %s", err, errOut)
	}

	out, _, err = medialuna(t, db, "projections", "status")
	if err != nil || !strings.Contains(out, "accounts") || !strings.Contains(out, "LAG EVENTS") {
		t.Errorf("status: %v\n%s", err, out)
	}

	out, _, err = medialuna(t, db, "events", "export", "--type", "PlanChanged")
	if err != nil {
		t.Fatal(err)
	}
	var ev struct {
		Type     string
		Stream   string
		Metadata struct {
			ActorType string `json:"actor_type"`
		}
		Data struct{ From, To string }
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &ev); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	if ev.Type != "PlanChanged" || ev.Data.To != "PRO" || ev.Metadata.ActorType != "system" {
		t.Errorf("exported %+v", ev)
	}
	out, _, err = medialuna(t, db, "events", "export", "--format", "csv", "--account", itoa(su.Account.ID))
	if lines := strings.Split(strings.TrimSpace(out), "\n"); err != nil || len(lines) < 5 || strings.Contains(out, "$2a$") {
		t.Errorf("csv export: %v\n%s", err, out)
	}
}
