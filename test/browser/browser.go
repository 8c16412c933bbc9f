// Package browser drives a headless Chromium from tests, for pages that must
// be checked as a person's browser sees them: what they request, whether any
// script ran, what they show.
//
//	b := browser.New(t)              // one Chromium, stopped in t.Cleanup
//	p := b.Open(srv.URL + "/status/acme")
//	if got := p.ExternalRequests(); len(got) != 0 { t.Errorf("leaks: %v", got) }
//	if p.ScriptRan() { t.Error("injected script ran") }
//	p.Screenshot("statuspage/acme.png") // <repo>/artifacts/statuspage/acme.png
//
// Chromium is found in $MEDIALUNA_CHROMIUM (set by `go tool task test`, see
// scripts/ensure-chromium.sh), else /usr/bin/chromium, else chromium or
// chromium-browser on PATH. When none is found the test is skipped, unless the
// environment variable CI is set, where it fails: CI must not pass by running
// no browser test.
//
// The browser is started with --headless --no-sandbox --disable-gpu
// --disable-quic --no-first-run --disable-background-networking
// --disable-component-update --disable-sync and a fresh --user-data-dir, and
// with host resolver rules that resolve no name but localhost, so it makes no
// DNS look-up and opens no connection off this machine. Site isolation is off,
// so a cross-origin iframe's requests and dialogs are its page's.
//
// Every page intercepts its own requests (the DevTools Fetch domain): each URL
// is recorded, loopback requests go on, and any other request is failed before
// it leaves the browser (ERR_BLOCKED_BY_CLIENT). A page's JavaScript dialogs
// (alert, confirm, prompt) are recorded and dismissed, so they never block it.
// Not recorded: requests of service workers, and DNS prefetch/preconnect
// hints (no request is made for them; the resolver rules keep them local).
//
// Evidence that injected script ran: [Page.ScriptRan] is true when any dialog
// opened or when the page set the global window.__pwned (see [Sentinel]).
// Hostile test payloads should do one of the two, e.g. `<img src=x
// onerror=alert(1)>` or `<script>window.__pwned=1</script>`.
//
// Starting Chromium takes about a second and a few hundred MB: share one
// Browser between the subtests of a test, and open a Page per check.
package browser

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Sentinel is the global that hostile test payloads set to prove that they
// ran: ScriptRan checks `typeof window.__pwned !== "undefined"`.
const Sentinel = "__pwned"

// Timeouts for one step (navigation, evaluation, screenshot) and for the
// quiet period that Open waits for after the load event.
const (
	stepTimeout = 30 * time.Second
	quietPeriod = 200 * time.Millisecond
	quietMax    = 3 * time.Second
	busyIdleMax = 10 * time.Second
)

// Browser is one headless Chromium process, seen from one test: failures of
// its pages go to that test. Use With to share the process with a subtest.
type Browser struct {
	t testing.TB
	*process
	parent context.Context // a browser context of its own (Isolated), or nil
}

type process struct {
	ctx    context.Context // the first tab's context; pages are its children
	output *syncBuffer

	mu    sync.Mutex
	pages []*Page
}

// With returns the same browser reporting to t, for subtests that share it:
//
//	b := browser.New(t)
//	t.Run("x", func(t *testing.T) { p := b.With(t).Open(u); ... })
//
// Pages opened through it are closed when t ends.
func (b *Browser) With(t testing.TB) *Browser {
	return &Browser{t: t, process: b.process, parent: b.parent}
}

// Isolated returns the same browser with a cookie jar and storage of its
// own (a new browser context, like a private window): its pages share one
// another's cookies, not those of b's other pages. Use one per person a
// test signs in.
func (b *Browser) Isolated() *Browser {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	if err := chromedp.Do(ctx); err != nil {
		b.t.Fatalf("browser: new browser context: %v", err)
	}
	b.t.Cleanup(cancel)
	return &Browser{t: b.t, process: b.process, parent: ctx}
}

// tabParent is the context new tabs are opened from.
func (b *Browser) tabParent() context.Context {
	if b.parent != nil {
		return b.parent
	}
	return b.ctx
}

// ExecPath returns the Chromium that New would start, or "" when there is
// none.
func ExecPath() string {
	if p := os.Getenv("MEDIALUNA_CHROMIUM"); p != "" {
		if isExecutable(p) {
			return p
		}
	}
	if isExecutable("/usr/bin/chromium") {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// New starts headless Chromium and stops it when t ends. It skips t when no
// Chromium is found and CI is unset, and fails t when CI is set.
func New(t testing.TB) *Browser {
	t.Helper()
	path := ExecPath()
	if path == "" {
		noChromium(t, os.Getenv("CI"))
		return nil // only reached by a fake t in this package's tests
	}
	if bad := os.Getenv("MEDIALUNA_CHROMIUM"); bad != "" && bad != path {
		t.Logf("browser: MEDIALUNA_CHROMIUM=%s is not executable; using %s", bad, path)
	}

	userDataDir := t.TempDir() // removed after the browser stops (cleanups run last-in first-out)
	out := &syncBuffer{}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.UserDataDir(userDataDir),
		chromedp.WindowSize(1280, 800),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-pings", true),
		// Keep every frame in the page's own renderer, so that the page's
		// request interception and records also cover cross-origin iframes
		// (with site isolation, each would be a target of its own).
		chromedp.Flag("disable-site-isolation-trials", true),
		chromedp.Flag("disable-features", "Translate,BlinkGenPropertyTrees,IsolateOrigins,site-per-process"),
		// Resolve nothing but loopback names: no DNS query leaves the
		// machine, not even for a prefetch hint the Fetch domain never sees.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE *.localhost, EXCLUDE 127.*, EXCLUDE [::1]"),
		chromedp.CombinedOutput(out),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(allocCtx)
	b := &Browser{t: t, process: &process{ctx: ctx, output: out}}
	t.Cleanup(func() {
		b.mu.Lock()
		pages := b.pages
		b.mu.Unlock()
		for _, p := range pages {
			p.cancel()
		}
		cancelBrowser()
		cancelAlloc()
		if t.Failed() && out.Len() > 0 {
			t.Logf("browser: Chromium's output:\n%s", out.Tail(4000))
		}
	})

	// Start the browser now (not on first Open) so a broken Chromium fails
	// here, with its output. No timeout on this first call: it would stop
	// the whole browser (see chromedp.Run); the allocator has its own.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("browser: start %s: %v\n%s", path, err, out.Tail(4000))
	}
	return b
}

// noChromium skips t, or fails it when ci (the CI variable) is set.
func noChromium(t testing.TB, ci string) {
	t.Helper()
	const msg = "browser: no Chromium found ($MEDIALUNA_CHROMIUM, /usr/bin/chromium, chromium on PATH); " +
		"run scripts/ensure-chromium.sh (as root) or `go tool task test`, which runs it"
	if ci != "" {
		t.Fatal(msg + " [failing, not skipping: CI is set]")
		return
	}
	t.Skip(msg)
}

// Page is one tab. Its records (requests, dialogs, console, errors) cover
// everything since Open, including what happened after it returned.
type Page struct {
	t      testing.TB
	ctx    context.Context
	cancel context.CancelFunc
	url    string

	mu           sync.Mutex
	requests     []string // distinct URLs, first-seen order
	seen         map[string]bool
	dialogs      []Dialog
	console      []ConsoleMessage
	errors       []string
	lastActivity time.Time
	// loading holds the documents in flight (a navigation, a form post)
	// that a step waits for. Only documents: Chromium does not always close
	// a subresource served from its cache, and streams never finish.
	loading map[network.RequestID]string
}

// Dialog is a JavaScript dialog that the page opened (and the harness
// dismissed).
type Dialog struct {
	Type    string // alert, confirm, prompt or beforeunload
	Message string
}

// ConsoleMessage is one console API call of the page.
type ConsoleMessage struct {
	Type string // log, warning, error, ...
	Text string // the arguments, space-separated
}

func (m ConsoleMessage) String() string { return m.Type + ": " + m.Text }

// Open opens url in a new tab, waits for its load event and then for a short
// quiet period (no request, dialog or console message for 200 ms, at most
// 3 s), so that scripts started by the load have run. Navigation errors fail
// t; an HTTP error status does not (the page is still shown).
func (b *Browser) Open(rawURL string) *Page {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.tabParent())
	p := &Page{t: b.t, ctx: ctx, cancel: cancel, url: rawURL, seen: map[string]bool{}, loading: map[network.RequestID]string{}, lastActivity: time.Now()}
	b.mu.Lock()
	b.pages = append(b.pages, p)
	b.mu.Unlock()
	b.t.Cleanup(cancel)

	// The first call opens the tab (about:blank).
	if err := chromedp.Do(ctx); err != nil {
		b.t.Fatalf("browser: open a tab: %v", err)
	}
	// Ordered, fast records. No command may run inside this func.
	if err := chromedp.Listen(ctx, p.record); err != nil {
		b.t.Fatalf("browser: listen: %v", err)
	}
	// Commands answering events run on their own goroutines.
	paused := chromedp.Events(ctx, fetch.RequestPaused)
	go func() {
		for ev, err := range paused {
			if err != nil {
				return
			}
			p.intercept(ev)
		}
	}()
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			// Dismiss (confirm → false, prompt → null); accept only
			// beforeunload, so that leaving the page is never blocked.
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{
				Accept: ev.Type == page.DialogTypeBeforeunload,
			})
		}
	}()
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{
		Patterns: []*fetch.RequestPattern{{URLPattern: "*"}},
	}); err != nil {
		b.t.Fatalf("browser: enable request interception: %v", err)
	}

	sctx, scancel := context.WithTimeout(ctx, stepTimeout)
	defer scancel()
	if err := chromedp.Do(sctx, chromedp.Navigate(rawURL)); err != nil {
		b.t.Fatalf("browser: open %s: %v", rawURL, err)
	}
	p.waitQuiet()
	return p
}

// record runs in the tab's message loop: it must be fast and run no command.
func (p *Page) record(ev any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lastActivity = time.Now()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		if ev.Request != nil {
			p.addRequest(ev.Request.URL)
		}
		if ev.Type == network.ResourceTypeDocument && ev.Request != nil {
			p.loading[ev.RequestID] = ev.Request.URL
		}
	case *network.EventLoadingFinished:
		delete(p.loading, ev.RequestID)
	case *network.EventLoadingFailed:
		delete(p.loading, ev.RequestID)
	case *network.EventWebSocketCreated:
		p.addRequest(ev.URL)
	case *page.EventJavascriptDialogOpening:
		p.dialogs = append(p.dialogs, Dialog{Type: string(ev.Type), Message: ev.Message})
	case *runtime.EventConsoleAPICalled:
		parts := make([]string, 0, len(ev.Args))
		for _, a := range ev.Args {
			parts = append(parts, remoteText(a))
		}
		p.console = append(p.console, ConsoleMessage{Type: string(ev.Type), Text: strings.Join(parts, " ")})
	case *runtime.EventExceptionThrown:
		if d := ev.ExceptionDetails; d != nil {
			msg := d.Text
			if d.Exception != nil && d.Exception.Description != "" {
				msg += " " + d.Exception.Description
			}
			p.errors = append(p.errors, msg)
		}
	}
}

// intercept answers one paused request: on if it stays on this machine,
// failed otherwise.
func (p *Page) intercept(ev fetch.EventRequestPaused) {
	u := ""
	if ev.Request != nil {
		u = ev.Request.URL
	}
	p.mu.Lock()
	p.addRequest(u)
	p.lastActivity = time.Now()
	p.mu.Unlock()
	if IsExternal(u) {
		_, _ = chromedp.Call(p.ctx, fetch.FailRequest, fetch.FailRequestParams{
			RequestID: ev.RequestID, ErrorReason: network.ErrorReasonBlockedByClient,
		})
		return
	}
	_, _ = chromedp.Call(p.ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
}

func (p *Page) addRequest(u string) {
	if u == "" || p.seen[u] || strings.HasPrefix(u, "data:") { // data: fetches nothing
		return
	}
	p.seen[u] = true
	p.requests = append(p.requests, u)
}

// waitAfterAction settles the page after a click. The click counts as
// activity: Chromium reports the request a click starts (a form post, a
// link) a moment after the click itself returns, and a page that had been
// idle for a while would otherwise look quiet before that request is seen,
// letting the next step read the page it is about to leave. The quiet
// period after the click (200 ms) is far longer than that moment; once the
// request is seen, the wait lasts until its document has loaded.
func (p *Page) waitAfterAction() {
	p.mu.Lock()
	p.lastActivity = time.Now()
	p.mu.Unlock()
	p.waitQuiet()
}

func (p *Page) waitQuiet() {
	// A request still in flight (a form post the server takes a while to
	// answer on a busy machine) is waited for up to a step's timeout, not
	// mistaken for quiet: the next step would otherwise read the page
	// that is about to be replaced.
	quiet := time.Now().Add(quietMax)
	hard := time.Now().Add(stepTimeout)
	for now := time.Now(); now.Before(hard); now = time.Now() {
		p.mu.Lock()
		idle := time.Since(p.lastActivity)
		busy := len(p.loading) > 0
		p.mu.Unlock()
		if !busy && (idle >= quietPeriod || now.After(quiet)) {
			return
		}
		if busy && idle >= busyIdleMax { // a request Chromium never closes
			p.mu.Lock()
			p.t.Logf("browser: %d requests still open after %s without activity; going on: %v", len(p.loading), busyIdleMax, p.loading)
			p.mu.Unlock()
			return
		}
		wait := quietPeriod - idle
		if busy || wait <= 0 {
			wait = 20 * time.Millisecond
		}
		time.Sleep(wait)
	}
}

// remoteText renders one console argument: strings as they are, other
// primitives as JSON, objects by their description.
func remoteText(o *runtime.RemoteObject) string {
	if o == nil {
		return ""
	}
	if len(o.Value) > 0 {
		var s string
		if json.Unmarshal(o.Value, &s) == nil {
			return s
		}
		return string(o.Value)
	}
	if o.UnserializableValue != "" {
		return string(o.UnserializableValue)
	}
	if o.Description != "" {
		return o.Description
	}
	return string(o.Type)
}

// IsExternal reports whether a request to u would leave this machine: true
// for any URL with a host that is not localhost (or *.localhost) or a
// loopback address (127.0.0.0/8, ::1). URLs without a host (data:, blob:,
// about:) are not external.
func IsExternal(u string) bool {
	pu, err := url.Parse(u)
	if err != nil {
		return true // unparseable: assume the worst
	}
	host := pu.Hostname()
	if host == "" {
		return false
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}

// Requests returns every distinct URL the page requested (documents,
// subresources, fetch/XHR, WebSockets), in first-seen order.
func (p *Page) Requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.requests...)
}

// ExternalRequests returns the requested URLs that would have left this
// machine (see IsExternal). The harness blocked each of them; a status page
// that makes none is self-contained.
func (p *Page) ExternalRequests() []string {
	var out []string
	for _, u := range p.Requests() {
		if IsExternal(u) {
			out = append(out, u)
		}
	}
	return out
}

// Dialogs returns the JavaScript dialogs the page opened.
func (p *Page) Dialogs() []Dialog {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Dialog(nil), p.dialogs...)
}

// Console returns the page's console messages.
func (p *Page) Console() []ConsoleMessage {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]ConsoleMessage(nil), p.console...)
}

// Errors returns the page's uncaught JavaScript exceptions.
func (p *Page) Errors() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.errors...)
}

// ScriptRan reports evidence that injected script ran: a dialog opened, or
// the page set window.__pwned.
func (p *Page) ScriptRan() bool {
	p.t.Helper()
	if len(p.Dialogs()) > 0 {
		return true
	}
	set, _ := p.Eval(`typeof window.` + Sentinel + ` !== "undefined"`).(bool)
	return set
}

// Eval evaluates a JavaScript expression in the page and returns its value
// decoded from JSON (string, float64, bool, nil, []any, map[string]any).
// A promise is awaited. An exception fails t.
func (p *Page) Eval(expr string) any {
	p.t.Helper()
	v, err := p.EvalErr(expr)
	if err != nil {
		p.t.Fatalf("browser: eval %q: %v", expr, err)
	}
	return v
}

// EvalErr is Eval that returns the error instead of failing t.
func (p *Page) EvalErr(expr string) (any, error) {
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[any](expr, chromedp.EvalAwaitPromise))
}

// Text returns the rendered text (innerText) of the first element matching
// the CSS selector. No match fails t.
func (p *Page) Text(selector string) string {
	p.t.Helper()
	v := p.Eval(fmt.Sprintf(`(() => { const e = document.querySelector(%s); return e ? e.innerText : null })()`, jsString(selector)))
	s, ok := v.(string)
	if !ok {
		p.t.Fatalf("browser: Text(%q): no element matches on %s", selector, p.url)
	}
	return s
}

// Count returns how many elements match the CSS selector.
func (p *Page) Count(selector string) int {
	p.t.Helper()
	v := p.Eval(fmt.Sprintf(`document.querySelectorAll(%s).length`, jsString(selector)))
	n, ok := v.(float64)
	if !ok {
		p.t.Fatalf("browser: Count(%q): got %v", selector, v)
	}
	return int(n)
}

// Screenshot writes a PNG of the whole page (beyond the viewport) and returns
// its path. A relative name is put under the repository's artifacts/
// directory (gitignored), which is created as needed; an absolute path is
// used as it is.
func (p *Page) Screenshot(name string) string {
	p.t.Helper()
	path := name
	if !filepath.IsAbs(path) {
		root, err := repoRoot()
		if err != nil {
			p.t.Fatalf("browser: screenshot: %v", err)
		}
		path = filepath.Join(root, "artifacts", name)
	}
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG
	if err != nil {
		p.t.Fatalf("browser: screenshot of %s: %v", p.url, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		p.t.Fatalf("browser: screenshot: %v", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.t.Fatalf("browser: screenshot: %v", err)
	}
	return path
}

// EmulatePhone gives the page a phone's viewport (390×844 CSS pixels at 3×,
// touch, mobile) and waits for the layout to settle, for tests of how a
// page reads on a phone.
func (p *Page) EmulatePhone() {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(3), chromedp.EmulateMobile, chromedp.EmulateTouch)); err != nil {
		p.t.Fatalf("browser: emulate a phone on %s: %v", p.url, err)
	}
	p.waitQuiet()
}

// EmulateDesktop undoes EmulatePhone: the viewport the browser started
// with (1280×800 at 1×, no touch), and waits for the layout to settle.
// It sets that viewport explicitly: clearing the override (EmulateReset)
// left a tab that had been a phone 390 px wide.
func (p *Page) EmulateDesktop() {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.EmulateViewport(1280, 800)); err != nil {
		p.t.Fatalf("browser: reset the viewport of %s: %v", p.url, err)
	}
	p.waitQuiet()
}

// Close closes the tab. Pages still open are closed when the Browser stops.
func (p *Page) Close() { p.cancel() }

// repoRoot is the nearest directory above the working directory (a test's
// package directory) that holds go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// syncBuffer collects the browser's output for failure messages.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Len()
}

// Tail returns the last n bytes written, less the lines about D-Bus, which
// headless Chromium prints by the dozen on a machine without one.
func (b *syncBuffer) Tail(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var keep []string
	for _, line := range strings.Split(b.buf.String(), "\n") {
		if !strings.Contains(line, "dbus/") {
			keep = append(keep, line)
		}
	}
	s := strings.Join(keep, "\n")
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return s
}
