package e2e

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/medialuna/medialuna/test/browser"
	"github.com/medialuna/medialuna/test/smtpcatcher"
	"github.com/medialuna/medialuna/test/testdb"
)

// TestStatusPageInChromium opens a public status page whose every field a
// user types is hostile in a real headless Chromium: it renders with its
// stylesheet (allowed by hash) and its logo (allowed by origin), shows
// the right states, runs no script, fetches nothing off this machine, and
// leaves a screenshot in artifacts/.
func TestStatusPageInChromium(t *testing.T) {
	b := browser.New(t)
	s := startServer(t, testdb.New(t), smtpcatcher.Start(t), "MEDIALUNA_MIN_CHECK_INTERVAL=1",
		"MEDIALUNA_STATUS_DOMAIN=status.localhost", "MEDIALUNA_STATUS_CACHE_TTL=300ms")
	su := signup(t, s, "chromium@example.com", "Chromium")
	unlimited(t, s, su.Account.ID)
	jwt := su.AccessToken

	// The logo, served on loopback.
	var logoHits atomic.Int64
	logo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		logoHits.Add(1)
		img := image.NewRGBA(image.Rect(0, 0, 96, 32))
		for x := range 96 {
			for y := range 32 {
				img.Set(x, y, color.RGBA{40, 90, 200, 255})
			}
		}
		var buf bytes.Buffer
		png.Encode(&buf, img)
		w.Header().Set("Content-Type", "image/png")
		w.Write(buf.Bytes())
	}))
	t.Cleanup(logo.Close)

	up, down := newTarget(t), newTarget(t)
	down.healthy.Store(false)
	hostileNames := []string{`</style><script>window.__pwned=1</script>API`, `<img src=x onerror=alert(1)>Web`}
	var mDown, mUp monitor
	s.expect(201, "POST", "/api/v1/monitors", jwt, map[string]any{"name": hostileNames[0], "type": "HTTP", "url": down.URL, "check_interval": 1, "timeout": 2}).json(t, &mDown)
	s.expect(201, "POST", "/api/v1/monitors", jwt, map[string]any{"name": hostileNames[1], "type": "HTTP", "url": up.URL, "check_interval": 1, "timeout": 2}).json(t, &mUp)
	hostileCSS := `body { color: rgb(1, 2, 3) }
</style><script>window.__pwned = 1</script><style>
.banner { background: url(javascript:alert(1)) }
.bars { width: expression(alert(2)) }
@import url("https://evil.example/x.css");
.name { background-image: url(https://tracker.example.com/p.gif) }
h1 { behavior: url(x.htc); -moz-binding: url("https://evil.example/x.xml#x") }
a[href^="a"] { background: image-set("https://evil.example/k.png" 1x) }`
	var p statusPage
	s.expect(201, "POST", "/api/status-pages", jwt, map[string]any{
		"title":       `Acme <script>window.__pwned=1</script>`,
		"subdomain":   "acme",
		"description": `<svg onload=alert(3)>Our services`,
		"monitor_ids": []int64{mDown.ID, mUp.ID},
		"custom_css":  hostileCSS,
		"logo_url":    logo.URL + "/logo.png?v=1",
	}).json(t, &p)
	waitStatus(t, s, jwt, mDown.ID, "down")
	waitStatus(t, s, jwt, mUp.ID, "up")
	var pp publicPage
	waitFor(t, func() bool {
		pp = s.publicPage(t, "acme")
		return pp.Status == "partial_outage" && len(pp.Incidents) == 1
	})
	s.expect(201, "POST", "/api/incidents/"+itoa(pp.Incidents[0].ID)+"/timeline", jwt,
		map[string]any{"message": `<iframe src="javascript:alert(4)"></iframe>Fix in progress`, "public": true})
	waitFor(t, func() bool {
		pp = s.publicPage(t, "acme")
		return len(pp.Incidents) == 1 && len(pp.Incidents[0].Updates) == 1
	})

	check := func(t *testing.T, url, shot string) {
		page := b.With(t).Open(url)
		if page.ScriptRan() {
			t.Errorf("injected script ran: dialogs %v", page.Dialogs())
		}
		if ext := page.ExternalRequests(); len(ext) != 0 {
			t.Errorf("requests off this machine: %v", ext)
		}
		for _, req := range page.Requests() {
			if browser.IsExternal(req) {
				t.Errorf("external request %s", req)
			}
		}
		if errs := page.Errors(); len(errs) != 0 {
			t.Errorf("JavaScript errors: %v", errs)
		}
		for _, m := range page.Console() {
			if strings.Contains(m.Text, "Content Security Policy") {
				t.Errorf("CSP refused something the page needs: %s", m)
			}
		}
		if got := page.Text("#overall h2"); got != "Partial outage" {
			t.Errorf("overall = %q", got)
		}
		if n := page.Count(".monitor"); n != 2 {
			t.Errorf("%d monitors", n)
		}
		state := func(id int64) any {
			return page.Eval(`document.querySelector('[data-monitor="` + itoa(id) + `"]').dataset.status`)
		}
		if state(mDown.ID) != "down" || state(mUp.ID) != "operational" {
			t.Errorf("states: %v %v", state(mDown.ID), state(mUp.ID))
		}
		// Hostile text shows as text.
		names := page.Eval(`[...document.querySelectorAll('.monitor .name')].map(e => e.textContent)`)
		if got, ok := names.([]any); !ok || len(got) != 2 || got[0] != hostileNames[0] || got[1] != hostileNames[1] {
			t.Errorf("names = %v", names)
		}
		if got := page.Text("h1"); got != `Acme <script>window.__pwned=1</script>` {
			t.Errorf("title = %q", got)
		}
		if got := page.Text(".updates li"); !strings.Contains(got, `<iframe src="javascript:alert(4)"></iframe>Fix in progress`) {
			t.Errorf("update = %q", got)
		}
		if n := page.Count("script, iframe, svg, header img + img, .name img"); n != 0 {
			t.Errorf("%d injected elements", n)
		}
		// The stylesheet applied (its hash matched), the custom CSS too.
		if got := page.Eval(`getComputedStyle(document.body).color`); got != "rgb(1, 2, 3)" {
			t.Errorf("body colour %v: custom CSS not applied", got)
		}
		if got := page.Eval(`getComputedStyle(document.querySelector('.banner')).backgroundColor`); got != "rgb(229, 62, 62)" {
			t.Errorf("banner colour %v: page stylesheet not applied", got)
		}
		if got := page.Eval(`getComputedStyle(document.querySelector('.banner')).backgroundImage`); got != "none" {
			t.Errorf("banner background image %v", got)
		}
		if got := page.Eval(`document.querySelectorAll('.bars i').length`); got != float64(180) {
			t.Errorf("%v bars", got)
		}
		// The logo loaded from its origin.
		if got := page.Eval(`document.querySelector('header img').naturalWidth`); got != float64(96) {
			t.Errorf("logo width %v", got)
		}
		path := page.Screenshot(shot)
		t.Logf("screenshot: %s", path)
	}
	t.Run("by path", func(t *testing.T) { check(t, s.URL+"/status/acme", "statuspage.png") })
	// Chromium resolves *.localhost to loopback by itself.
	port := s.URL[strings.LastIndex(s.URL, ":"):]
	t.Run("by host", func(t *testing.T) { check(t, "http://acme.status.localhost"+port+"/", "statuspage-host.png") })
	t.Run("on a phone", func(t *testing.T) {
		page := b.With(t).Open(s.URL + "/status/acme")
		page.EmulatePhone()
		// A phone widens its layout viewport past the screen when content
		// does not fit, so the width is also the test that nothing overflows.
		if w := page.Eval(`window.innerWidth`); w != float64(390) {
			t.Errorf("layout width %v on a 390 px phone; too wide: %v", w, page.Eval(`[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 390).slice(0, 8).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))`))
		}
		// Nothing wider than the screen: no sideways scrolling.
		if got := page.Eval(`document.documentElement.scrollWidth <= window.innerWidth`); got != true {
			t.Errorf("the page is %v px wide on a 390 px screen", page.Eval(`document.documentElement.scrollWidth`))
		}
		if got := page.Eval(`[...document.querySelectorAll('.monitor')].every(e => e.getBoundingClientRect().right <= window.innerWidth)`); got != true {
			t.Error("a monitor row runs off the screen")
		}
		t.Logf("screenshot: %s", page.Screenshot("statuspage-phone.png"))
	})
	if logoHits.Load() == 0 {
		t.Error("the logo was never fetched")
	}
}
