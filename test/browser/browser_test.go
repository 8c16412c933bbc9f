package browser_test

import (
	"bytes"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/medialuna/medialuna/test/browser"
)

// pages served to the browser. External hosts use reserved names
// (.example, .invalid): the harness blocks them before any DNS look-up or
// connection, and would record them even if it did not.
var pages = map[string]string{
	"/clean": `<!doctype html><html><head><title>Clean</title>
<style>h1{color:#0a0} li{margin:2px}</style></head>
<body><h1 id="title">All systems operational</h1>
<ul class="monitors"><li>API</li><li>Web</li><li>Database</li></ul>
<img src="/local.svg" alt=""></body></html>`,

	"/external": `<!doctype html><html><body><p id="p">leaky</p>
<img src="https://tracker.example.com/pixel.gif">
<script>fetch("https://collect.invalid/beacon?x=1").catch(() => console.log("beacon blocked"))</script>
</body></html>`,

	"/alert": `<!doctype html><html><body><p id="p">before</p>
<script>alert("xss-1"); document.getElementById("p").textContent = "after"</script>
</body></html>`,

	"/onerror": `<!doctype html><html><body><img src="/missing.png" onerror="confirm('xss-2')"></body></html>`,

	"/sentinel": `<!doctype html><html><body><script>window.__pwned = 1; console.warn("set", 42)</script></body></html>`,

	"/throws": `<!doctype html><html><body><script>throw new Error("boom")</script></body></html>`,

	// Served from localhost while the page is on 127.0.0.1: another origin,
	// which site isolation would put in a renderer of its own.
	"/inner": `<!doctype html><html><body><img src="https://inner.example/p.gif"><script>alert("in frame")</script></body></html>`,

	"/local.svg": `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>`,
}

func server(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		body, ok := pages[r.URL.Path]
		if r.URL.Path == "/framed" {
			_, port, _ := strings.Cut(r.Host, ":")
			body, ok = `<!doctype html><html><body><iframe src="http://localhost:`+port+`/inner"></iframe></body></html>`, true
		}
		if !ok {
			http.NotFound(w, r)
			return
		}
		if strings.HasSuffix(r.URL.Path, ".svg") {
			w.Header().Set("Content-Type", "image/svg+xml")
		} else {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
		}
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func TestBrowser(t *testing.T) {
	srv, hits := server(t)
	b := browser.New(t) // one Chromium for every subtest

	t.Run("clean page: no external request, no script, text and count", func(t *testing.T) {
		p := b.With(t).Open(srv.URL + "/clean")
		if got := p.ExternalRequests(); len(got) != 0 {
			t.Errorf("ExternalRequests = %v, want none", got)
		}
		if p.ScriptRan() {
			t.Error("ScriptRan = true on a page without scripts")
		}
		if d := p.Dialogs(); len(d) != 0 {
			t.Errorf("Dialogs = %v", d)
		}
		if got := p.Text("#title"); got != "All systems operational" {
			t.Errorf("Text(#title) = %q", got)
		}
		if got := p.Count(".monitors li"); got != 3 {
			t.Errorf("Count(.monitors li) = %d, want 3", got)
		}
		if got := p.Count(".nothing"); got != 0 {
			t.Errorf("Count(.nothing) = %d, want 0", got)
		}
		reqs := p.Requests()
		if !slices.Contains(reqs, srv.URL+"/clean") || !slices.Contains(reqs, srv.URL+"/local.svg") {
			t.Errorf("Requests = %v, want the page and its image", reqs)
		}
		if hits.Load() < 2 {
			t.Errorf("server saw %d requests, want the page and its image", hits.Load())
		}
	})

	t.Run("external requests are recorded and blocked", func(t *testing.T) {
		p := b.With(t).Open(srv.URL + "/external")
		got := p.ExternalRequests()
		for _, want := range []string{"https://tracker.example.com/pixel.gif", "https://collect.invalid/beacon?x=1"} {
			if !slices.Contains(got, want) {
				t.Errorf("ExternalRequests = %v, missing %s", got, want)
			}
		}
		for _, u := range got {
			if !browser.IsExternal(u) {
				t.Errorf("ExternalRequests has a local URL %s", u)
			}
		}
		found := false
		for _, m := range p.Console() {
			found = found || m.Text == "beacon blocked"
		}
		if !found {
			t.Errorf("Console = %v, want the page to see its beacon fail", p.Console())
		}
		// Script on this page is the page's own, but it raised no flag.
		if p.ScriptRan() {
			t.Error("ScriptRan = true without a dialog or sentinel")
		}
	})

	t.Run("inline alert is detected and dismissed", func(t *testing.T) {
		p := b.With(t).Open(srv.URL + "/alert")
		if !p.ScriptRan() {
			t.Error("ScriptRan = false after alert()")
		}
		d := p.Dialogs()
		if len(d) != 1 || d[0].Type != "alert" || d[0].Message != "xss-1" {
			t.Errorf("Dialogs = %+v, want one alert xss-1", d)
		}
		// Dismissing the alert let the script go on.
		if got := p.Text("#p"); got != "after" {
			t.Errorf("Text(#p) = %q, want after: the alert blocked the page", got)
		}
	})

	t.Run("event-handler confirm is detected", func(t *testing.T) {
		p := b.With(t).Open(srv.URL + "/onerror")
		if !p.ScriptRan() {
			t.Error("ScriptRan = false after onerror=confirm()")
		}
		if d := p.Dialogs(); len(d) != 1 || d[0].Type != "confirm" {
			t.Errorf("Dialogs = %+v, want one confirm", d)
		}
	})

	t.Run("sentinel global and console are detected", func(t *testing.T) {
		p := b.With(t).Open(srv.URL + "/sentinel")
		if !p.ScriptRan() {
			t.Error("ScriptRan = false after window.__pwned = 1")
		}
		if got := p.Eval(`window.__pwned + 1`); got != float64(2) {
			t.Errorf("Eval = %#v, want 2", got)
		}
		c := p.Console()
		if len(c) != 1 || c[0].Type != "warning" || c[0].Text != "set 42" {
			t.Errorf("Console = %+v, want one warning 'set 42'", c)
		}
	})

	t.Run("a cross-origin iframe's requests and dialogs are recorded", func(t *testing.T) {
		p := b.With(t).Open(srv.URL + "/framed")
		if got := p.ExternalRequests(); !slices.Equal(got, []string{"https://inner.example/p.gif"}) {
			t.Errorf("ExternalRequests = %v, want the iframe's image", got)
		}
		if !p.ScriptRan() || len(p.Dialogs()) != 1 || p.Dialogs()[0].Message != "in frame" {
			t.Errorf("Dialogs = %v, want the iframe's alert", p.Dialogs())
		}
	})

	t.Run("uncaught exceptions are recorded", func(t *testing.T) {
		p := b.With(t).Open(srv.URL + "/throws")
		e := p.Errors()
		if len(e) != 1 || !strings.Contains(e[0], "boom") {
			t.Errorf("Errors = %v, want one with boom", e)
		}
	})

	t.Run("screenshot is a full-page PNG under artifacts/", func(t *testing.T) {
		p := b.With(t).Open(srv.URL + "/clean")
		path := p.Screenshot("test-browser/clean.png")
		if !strings.HasSuffix(filepath.ToSlash(path), "/artifacts/test-browser/clean.png") {
			t.Errorf("Screenshot path = %s, want it under artifacts/", path)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")) {
			t.Fatalf("%s is not a PNG (starts %q)", path, data[:min(8, len(data))])
		}
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("decode %s: %v", path, err)
		}
		if r := img.Bounds(); r.Dx() < 100 || r.Dy() < 100 {
			t.Errorf("screenshot is %v, too small", r)
		}
	})
}

func TestIsExternal(t *testing.T) {
	for u, want := range map[string]bool{
		"http://127.0.0.1:8080/x":         false,
		"http://127.1.2.3/":               false,
		"http://localhost:1/":             false,
		"http://LOCALHOST./":              false,
		"http://app.localhost/":           false,
		"http://[::1]:80/":                false,
		"ws://127.0.0.1:9/socket":         false,
		"data:image/png;base64,AAAA":      false,
		"about:blank":                     false,
		"blob:http://127.0.0.1:1/uuid":    false,
		"https://example.com/":            true,
		"//cdn.example.com/x.js":          true,
		"http://10.0.0.1/":                true,
		"http://[2001:db8::1]/":           true,
		"http://localhost.evil.example/":  true,
		"http://127.0.0.1.nip.example/":   true,
		"wss://socket.example.net/stream": true,
	} {
		if got := browser.IsExternal(u); got != want {
			t.Errorf("IsExternal(%q) = %v, want %v", u, got, want)
		}
	}
}
