package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/medialuna/medialuna/test/browser"
	"github.com/medialuna/medialuna/test/smtpcatcher"
	"github.com/medialuna/medialuna/test/testdb"
)

// TestDashboardAuditLog: an ADMIN reads the account's events newest first,
// filters them by type and member, pages back without gaps or repeats,
// and downloads them; no secret shows anywhere; another account's events
// never do; a VIEWER is refused.
func TestDashboardAuditLog(t *testing.T) {
	b := browser.New(t)
	s := startServer(t, testdb.New(t), smtpcatcher.Start(t))
	a := signup(t, s, "audit@example.com", "Audit")
	unlimited(t, s, a.Account.ID)
	other := signup(t, s, "other@example.com", "Other")
	const secret = "Bearer audit-s3cret-token-value"
	// A healthy target: a failing one opens incidents whenever its checks
	// run, and those would be the newest events.
	tg := newTarget(t)
	for i := range 30 {
		s.expect(201, "POST", "/api/v1/monitors", a.AccessToken, map[string]any{"name": fmt.Sprintf("<b>svc</b>-%02d", i), "type": "HTTP",
			"url": tg.URL, "request_headers": map[string]string{"Authorization": secret}})
	}
	s.expect(201, "POST", "/api/v1/monitors", other.AccessToken, map[string]any{"name": "Other account's monitor", "type": "HTTP", "url": "http://127.0.0.1:9/"})
	s.expect(200, "POST", "/api/accounts/users/invite", a.AccessToken, map[string]string{"email": "viewer@example.com", "role": "VIEWER"})

	_, p := logInInBrowser(t, b, s, "audit@example.com", "correct horse battery")
	p.Navigate(s.URL + "/settings/audit")
	if got := p.Text(".audit-event summary"); !strings.HasPrefix(got, "MemberInvited") {
		t.Errorf("the newest event first: %q", got)
	}
	html := p.Eval(`document.documentElement.outerHTML`).(string)
	if strings.Contains(html, "audit-s3cret") || strings.Contains(html, "Other account") || strings.Contains(html, "$2a$") {
		t.Error("the audit page shows a secret, a hash or another account's event")
	}
	checkPage(t, p, "audit")

	// Paging back: 50 a page, each event once.
	seen := map[string]bool{}
	pages := 0
	for next := s.URL + "/settings/audit?type=MonitorCreated"; next != ""; pages++ {
		p.Navigate(next)
		for _, seq := range p.Eval(`[...document.querySelectorAll(".audit-event summary")].map(e => e.innerText.split("#").pop())`).([]any) {
			if seen[seq.(string)] {
				t.Errorf("event %s on two pages", seq)
			}
			seen[seq.(string)] = true
		}
		next = ""
		if p.Count("#audit-older") > 0 {
			next = p.Eval(`document.querySelector("#audit-older").href`).(string)
		}
		if pages > 5 {
			t.Fatal("paging does not end")
		}
	}
	if len(seen) != 30 {
		t.Errorf("MonitorCreated events over %d pages: %d, want 30", pages, len(seen))
	}
	if p.Count(`.audit-event:not([data-type="MonitorCreated"])`) != 0 {
		t.Error("the type filter let other events through")
	}

	// The member filter: the owner did everything here.
	p.Navigate(fmt.Sprintf("%s/settings/audit?user=%d&type=MemberInvited", s.URL, a.User.ID))
	if p.Count(".audit-event") != 1 {
		t.Errorf("the owner's invitations: %d", p.Count(".audit-event"))
	}

	// Downloads, through the same session.
	c := newFormClient(t, s)
	c.login("audit@example.com", "correct horse battery")
	status, csvBody, _ := c.get("/settings/audit/export?format=csv&type=MonitorCreated")
	if status != http.StatusOK || strings.Count(csvBody, "MonitorCreated") != 30 || strings.Contains(csvBody, "audit-s3cret") {
		t.Errorf("CSV download: %d, %d MonitorCreated rows, secret shown: %v", status, strings.Count(csvBody, "MonitorCreated"), strings.Contains(csvBody, "audit-s3cret"))
	}
	status, nd, _ := c.get("/settings/audit/export?format=ndjson")
	lines := strings.Split(strings.TrimSpace(nd), "\n")
	var last uint64
	for i, line := range lines {
		var rec struct {
			Sequence uint64 `json:"sequence"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec.Sequence <= last {
			t.Fatalf("NDJSON line %d is not the next event, oldest first: %v %.200s", i, err, line)
		}
		last = rec.Sequence
	}
	if status != http.StatusOK || len(lines) < 31 || strings.Contains(nd, "audit-s3cret") {
		t.Errorf("NDJSON download: %d, %d lines", status, len(lines))
	}

	// A VIEWER neither sees the page nor gets it.
	mail := s.Mail.WaitFor(t, "viewer@example.com", 20*time.Second)
	token := inviteToken(t, mail.Data)
	s.expect(200, "POST", "/api/auth/accept-invite", "", map[string]string{"token": token, "password": "viewer password 1"})
	_, vp := logInInBrowser(t, b, s, "viewer@example.com", "viewer password 1")
	if vp.Count(`a[href="/settings/audit"]`) != 0 {
		t.Error("a VIEWER is offered the audit log")
	}
	vc := newFormClient(t, s)
	vc.login("viewer@example.com", "viewer password 1")
	if status, _, _ := vc.get("/settings/audit"); status != http.StatusForbidden {
		t.Errorf("a VIEWER's audit page: %d", status)
	}
	if status, _, _ := vc.get("/settings/audit/export?format=csv"); status != http.StatusForbidden {
		t.Errorf("a VIEWER's audit download: %d", status)
	}
}
