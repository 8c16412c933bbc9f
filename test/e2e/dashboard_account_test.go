package e2e

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/medialuna/medialuna/test/browser"
	"github.com/medialuna/medialuna/test/smtpcatcher"
	"github.com/medialuna/medialuna/test/stripefake"
	"github.com/medialuna/medialuna/test/testdb"
)

type apiAccount struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	Plan     string `json:"plan"`
	Timezone string `json:"timezone"`
}

// shownUsage reads a usage bar off the account page: the meter's value
// and maximum, or the count alone for a limit the plan does not set.
func shownUsage(t *testing.T, p *browser.Page, id string) (used, limit int, unlimited bool) {
	t.Helper()
	v, _ := p.Eval(`(() => { const e = document.querySelector("#use-` + id + `"); if (!e) return "missing";
		const label = document.querySelector('label[for="use-` + id + `"]');
		if (!label || !label.innerText.trim()) return "unlabelled";
		return e.tagName === "METER" ? e.value + "/" + e.max : e.dataset.used + "/-" })()`).(string)
	u, l, ok := strings.Cut(v, "/")
	if !ok {
		t.Fatalf("usage bar %s: %s", id, v)
	}
	used, _ = strconv.Atoi(u)
	if l == "-" {
		return used, 0, true
	}
	limit, _ = strconv.Atoi(l)
	return used, limit, false
}

// checkUsageMatchesAPI compares every bar with GET /api/billing/usage.
func checkUsageMatchesAPI(t *testing.T, p *browser.Page, s *server, jwt string) billingUsage {
	t.Helper()
	u := s.usage(t, jwt)
	for id, it := range map[string]usageItem{"monitors": u.Monitors, "users": u.Users, "status-pages": u.StatusPages, "api-keys": u.APIKeys, "regions": u.Regions} {
		used, limit, unlimited := shownUsage(t, p, id)
		if used != it.Used || unlimited != (it.Limit == nil) || (it.Limit != nil && limit != *it.Limit) {
			t.Errorf("bar %s shows %d of %d (unlimited %v); the API says %+v", id, used, limit, unlimited, it)
		}
	}
	return u
}

// TestDashboardAccountWithoutStripe: the account page's name and time
// zone change through the command PATCH /api/v1/account runs, a refusal
// stays beside its field, the usage bars count what the API counts, and
// without Stripe the operator's instruction shows instead of Upgrade.
// EDITORs see it read-only and their forged posts are refused.
func TestDashboardAccountWithoutStripe(t *testing.T) {
	b := browser.New(t)
	s := startServer(t, testdb.New(t), smtpcatcher.Start(t))
	const email = "acct@example.com"
	_, p := signUpInBrowser(t, b, s, email, "Acct Co")
	jwt := apiLogin(t, s, email)
	var acc apiAccount
	s.expect(200, "GET", "/api/v1/account", jwt, nil).json(t, &acc)
	for _, name := range []string{"One", "Two", "Three"} {
		createMonitorAPI(t, s, jwt, name)
	}

	p.Navigate(s.URL + "/settings/account")
	if used, limit, _ := shownUsage(t, p, "monitors"); used != 3 || limit != 10 || !strings.Contains(p.Text(`[data-usage="monitors"]`), "3 of 10") {
		t.Errorf("monitors bar: %d of %d, %q", used, limit, p.Text(`[data-usage="monitors"]`))
	}
	checkUsageMatchesAPI(t, p, s, jwt)
	if !strings.Contains(p.Text("#plan-name"), "Free") || !strings.Contains(p.Text("#sub-state"), "No subscription") {
		t.Errorf("plan and subscription: %q / %q", p.Text("#plan-name"), p.Text("#sub-state"))
	}
	note := p.Text("#operator-note")
	if !strings.Contains(note, "Billing is managed by the operator") || !strings.Contains(note, "medialuna accounts set-plan "+itoa(acc.ID)) {
		t.Errorf("the operator's instruction: %q", note)
	}
	if n := p.Count(`form[action="/settings/account/checkout"]`) + p.Count(`form[action="/settings/account/portal"]`); n != 0 {
		t.Errorf("%d billing forms without Stripe", n)
	}
	if p.Count(`nav.subnav a[href="/settings/account"][aria-current="page"]`) != 1 {
		t.Error("the settings menu does not mark Account and billing")
	}
	checkPage(t, p, "account")

	// The bars follow the log: a monitor created elsewhere shows without
	// a reload.
	p.Eval(`window.__sameDocument = 1`)
	createMonitorAPI(t, s, jwt, "Four")
	if !p.WaitTrue(`(() => { const m = document.querySelector("#use-monitors"); return !!m && m.value === 4 && window.__sameDocument === 1 })()`, 20*time.Second) {
		t.Errorf("the monitors bar did not follow: %q", p.Text(`[data-usage="monitors"]`))
	}

	// A refusal beside its field, nothing changed.
	p.Fill("#timezone", "Mars/Olympus_Mons")
	p.ClickButton("Save account")
	if !p.WaitText("#err-timezone", "IANA time zone", 10*time.Second) {
		t.Fatalf("no error beside the time zone:\n%s", p.Text("main"))
	}
	if got, _ := p.Eval(`document.querySelector("#timezone").value`).(string); got != "Mars/Olympus_Mons" {
		t.Errorf("the typed time zone after the refusal: %q", got)
	}
	var after apiAccount
	s.expect(200, "GET", "/api/v1/account", jwt, nil).json(t, &after)
	if after != acc {
		t.Errorf("a refused form changed the account: %+v, was %+v", after, acc)
	}

	// Rename (hostile, shown as text) and a time zone.
	const name = `<img src=x onerror=alert(1)> "Acct"`
	p.Fill("#name", name)
	p.Fill("#timezone", "Europe/Madrid")
	p.ClickButton("Save account")
	if !p.WaitText(".flash", "Account saved", 10*time.Second) {
		t.Fatalf("no flash after saving:\n%s", p.Text("main"))
	}
	s.expect(200, "GET", "/api/v1/account", jwt, nil).json(t, &after)
	if want := (apiAccount{ID: acc.ID, Name: name, Plan: "FREE", Timezone: "Europe/Madrid"}); after != want {
		t.Errorf("the account after saving: %+v, want %+v", after, want)
	}
	if got, _ := p.Eval(`document.querySelector("#name").value + "|" + document.querySelector("header .account").innerText`).(string); got != name+"|"+name {
		t.Errorf("the page after saving: %q", got)
	}
	checkPage(t, p, "account-saved")

	// Checkout without Stripe says who sets plans.
	owner := newFormClient(t, s)
	owner.login(email, dashboardPassword)
	_, _, csrf := owner.get("/settings/account")
	if status, body := owner.post("/settings/account/checkout", url.Values{"csrf": {csrf}, "plan": {"PRO"}}); status != http.StatusNotImplemented || !strings.Contains(body, "managed by the operator") {
		t.Errorf("checkout without Stripe: %d\n%s", status, body)
	}
	if status, _ := owner.post("/settings/account", url.Values{"name": {"No token"}, "timezone": {"UTC"}}); status != http.StatusForbidden {
		t.Errorf("POST without a CSRF token: %d", status)
	}

	// An EDITOR sees the account read-only; the server refuses its posts.
	s.expect(200, "POST", "/api/accounts/users/invite", jwt, map[string]string{"email": "acct-editor@example.com", "role": "EDITOR"})
	token := inviteToken(t, s.Mail.WaitFor(t, "acct-editor@example.com", 20*time.Second).Data)
	s.expect(200, "POST", "/api/auth/accept-invite", "", map[string]string{"token": token, "password": dashboardPassword})
	_, ep := logInInBrowser(t, b, s, "acct-editor@example.com", dashboardPassword)
	ep.Navigate(s.URL + "/settings/account")
	if ep.Count("#name")+ep.Count("#timezone")+ep.Count(`button[type=submit].primary`) != 0 || ep.Text("#account-name") != name || ep.Text("#account-timezone") != "Europe/Madrid" {
		t.Errorf("the editor's account page:\n%s", ep.Text("main"))
	}
	if used, _, _ := shownUsage(t, ep, "users"); used != 2 {
		t.Errorf("team members bar after the invitation was accepted: %d", used)
	}
	checkPage(t, ep, "account-editor")
	editor := newFormClient(t, s)
	editor.login("acct-editor@example.com", dashboardPassword)
	_, _, ecsrf := editor.get("/settings/account")
	for path, form := range map[string]url.Values{
		"/settings/account":          {"csrf": {ecsrf}, "name": {"Editor was here"}, "timezone": {"UTC"}},
		"/settings/account/checkout": {"csrf": {ecsrf}, "plan": {"PRO"}},
		"/settings/account/portal":   {"csrf": {ecsrf}},
	} {
		if status, body := editor.post(path, form); status != http.StatusForbidden {
			t.Errorf("editor's POST %s: %d\n%s", path, status, body)
		}
	}
	s.expect(200, "GET", "/api/v1/account", jwt, nil).json(t, &after)
	if after.Name != name || after.Timezone != "Europe/Madrid" {
		t.Errorf("the editor's posts changed the account: %+v", after)
	}
}

// TestDashboardAccountStripe: with Stripe (the local fake) Upgrade runs
// the checkout command and hands the browser to the Checkout URL Stripe
// returned; Manage billing then hands it to the billing portal.
func TestDashboardAccountStripe(t *testing.T) {
	fake := stripefake.Start(t, stripeKey)
	b := browser.New(t)
	s := startServer(t, testdb.New(t), smtpcatcher.Start(t), "MEDIALUNA_STRIPE_SECRET_KEY="+stripeKey, "MEDIALUNA_STRIPE_WEBHOOK_SECRET="+stripeSecret,
		"MEDIALUNA_STRIPE_API_URL="+fake.URL, "MEDIALUNA_STRIPE_PRICE_STARTER=price_starter", "MEDIALUNA_STRIPE_PRICE_PRO=price_pro")
	const email = "stripe-ui@example.com"
	_, p := signUpInBrowser(t, b, s, email, "Stripe UI")
	jwt := apiLogin(t, s, email)

	p.Navigate(s.URL + "/settings/account")
	if p.Count("#operator-note") != 0 || p.Count(`form[action="/settings/account/portal"]`) != 0 {
		t.Errorf("with Stripe: operator note %d, portal before any customer %d", p.Count("#operator-note"), p.Count(`form[action="/settings/account/portal"]`))
	}
	if sub := s.subscription(t, jwt); !sub.BillingEnabled || sub.Status != "none" || !strings.Contains(p.Text("#sub-state"), "No subscription") {
		t.Errorf("subscription: API %+v, page %q", sub, p.Text("#sub-state"))
	}
	checkUsageMatchesAPI(t, p, s, jwt)
	checkPage(t, p, "account-stripe")

	p.SetValue("#plan", "PRO")
	p.ClickButton("Upgrade")
	// The harness blocks requests off this machine and records them: the
	// browser went to the URL the fake's checkout session returned.
	// (The click's page load may still be under way when it returns.)
	waitUntil(10*time.Second, func() bool { return len(fake.RequestsTo("/v1/checkout/sessions")) > 0 })
	sessions := fake.RequestsTo("/v1/checkout/sessions")
	if len(sessions) != 1 {
		t.Fatalf("%d checkout sessions", len(sessions))
	}
	if f := sessions[0].Form; f.Get("line_items[0][price]") != "price_pro" || f.Get("success_url") != s.URL+"/settings/account?checkout=success" ||
		f.Get("cancel_url") != s.URL+"/settings/account?checkout=canceled" {
		t.Errorf("checkout session: %v", f)
	}
	went := func(prefix string) bool {
		return slices.ContainsFunc(p.Requests(), func(u string) bool { return strings.HasPrefix(u, prefix) })
	}
	if !waitUntil(10*time.Second, func() bool { return went("https://checkout.stripe.test/c/pay/cs_test_") }) {
		t.Errorf("the browser did not go to the Checkout URL; requests: %v", p.Requests())
	}
	if sub := s.subscription(t, jwt); sub.CustomerID == nil || !strings.HasPrefix(*sub.CustomerID, "cus_test") {
		t.Errorf("no customer linked after checkout: %+v", sub)
	}

	// Back from Checkout (canceled): the plan is unchanged, the portal offered.
	p.Navigate(s.URL + "/settings/account?checkout=canceled")
	if !strings.Contains(p.Text("#error-summary"), "Checkout was canceled") || !strings.Contains(p.Text("#plan-name"), "Free") {
		t.Errorf("back from a canceled checkout:\n%s", p.Text("main"))
	}
	p.ClickButton("Manage billing")
	if !waitUntil(10*time.Second, func() bool { return went("https://billing.stripe.test/p/session/bps_test_") }) {
		t.Errorf("the browser did not go to the billing portal; requests: %v", p.Requests())
	}
	if portal := fake.RequestsTo("/v1/billing_portal/sessions"); len(portal) != 1 || portal[0].Form.Get("return_url") != s.URL+"/settings/account" {
		t.Errorf("portal sessions: %+v", portal)
	}
}

// waitUntil polls cond until it holds or timeout passes.
func waitUntil(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
	return true
}
