package e2e

import (
	"strings"
	"testing"

	"github.com/medialuna/medialuna/test/browser"
	"github.com/medialuna/medialuna/test/smtpcatcher"
	"github.com/medialuna/medialuna/test/testdb"
)

// TestDashboardShowsHostileURLsAsText: targets are text a tenant chose;
// a URL with markup in its path and query, a DNS resolver and request
// headers with markup, render as text on the list, the monitor's page and
// its edit form, run no script and add no element.
func TestDashboardShowsHostileURLsAsText(t *testing.T) {
	b := browser.New(t)
	s := startServer(t, testdb.New(t), smtpcatcher.Start(t))
	su := signup(t, s, "urls@example.com", "URLs")
	hostileURL := `http://127.0.0.1:9/"><img src=x onerror=alert(1)>?q=<script>window.__pwned=1</script>`
	var web monitor
	s.expect(201, "POST", "/api/v1/monitors", su.AccessToken, map[string]any{"name": "Web", "type": "HTTP", "url": hostileURL,
		"request_headers": map[string]string{"X-Note": `"><svg onload=alert(2)>`}}).json(t, &web)
	var dns monitor
	s.expect(201, "POST", "/api/v1/monitors", su.AccessToken, map[string]any{"name": "Resolver", "type": "DNS", "url": "example.com",
		"dns_resolver": `1.1.1.1`}).json(t, &dns)
	// A javascript: URL is no target: the API refuses it.
	s.expect(422, "POST", "/api/v1/monitors", su.AccessToken, map[string]any{"name": "JS", "type": "HTTP", "url": "javascript:alert(1)"})

	_, p := logInInBrowser(t, b, s, "urls@example.com", "correct horse battery")
	for _, path := range []string{"/monitors", "/monitors/" + itoa(web.ID), "/monitors/" + itoa(web.ID) + "/edit"} {
		p.Navigate(s.URL + path)
		if p.Count("main img, main svg:not(.u-legend svg)") > 0 && p.Eval(`[...document.querySelectorAll("main img")].some(i => i.getAttribute("src") === "x")`) == true {
			t.Errorf("%s: the URL's markup became an element", path)
		}
		if p.ScriptRan() {
			t.Errorf("%s: the URL's markup ran", path)
		}
	}
	p.Navigate(s.URL + "/monitors/" + itoa(web.ID) + "/edit")
	if got := p.Eval(`document.querySelector("#url").value`); got != hostileURL {
		t.Errorf("the form's URL field holds %v", got)
	}
	if got := p.Eval(`document.querySelector("#request_headers").value`); !strings.Contains(got.(string), `X-Note: "><svg onload=alert(2)>`) {
		t.Errorf("the form's headers hold %q", got)
	}
	p.Navigate(s.URL + "/monitors")
	if !strings.Contains(p.Text("main"), `"><img src=x onerror=alert(1)>`) {
		t.Errorf("the list does not show the URL as text: %q", p.Text("main"))
	}
	checkPage(t, p, "monitors-hostile-urls")
}
