package e2e

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/medialuna/medialuna/test/smtpcatcher"
	"github.com/medialuna/medialuna/test/stripefake"
	"github.com/medialuna/medialuna/test/testdb"
)

const (
	stripeKey    = "sk_test_e2e_0123456789"
	stripeSecret = "whsec_e2e_signing_secret"
)

type usageItem struct {
	Used      int  `json:"used"`
	Limit     *int `json:"limit"`
	OverLimit bool `json:"over_limit"`
}

type billingUsage struct {
	Plan        string    `json:"plan"`
	Monitors    usageItem `json:"monitors"`
	Users       usageItem `json:"users"`
	Regions     usageItem `json:"regions"`
	StatusPages usageItem `json:"status_pages"`
	APIKeys     usageItem `json:"api_keys"`
}

type subscription struct {
	Plan               string     `json:"plan"`
	Status             string     `json:"status"`
	Provider           string     `json:"provider"`
	ProviderStatus     *string    `json:"provider_status"`
	CurrentPeriodStart *time.Time `json:"current_period_start"`
	CurrentPeriodEnd   *time.Time `json:"current_period_end"`
	CancelAtPeriodEnd  bool       `json:"cancel_at_period_end"`
	RenewsAt           *time.Time `json:"renews_at"`
	CustomerID         *string    `json:"customer_id"`
	SubscriptionID     *string    `json:"subscription_id"`
	BillingEnabled     bool       `json:"billing_enabled"`
}

func (s *server) subscription(t *testing.T, jwt string) subscription {
	t.Helper()
	var sub subscription
	s.expect(200, "GET", "/api/billing/subscription", jwt, nil).json(t, &sub)
	return sub
}

func (s *server) usage(t *testing.T, jwt string) billingUsage {
	t.Helper()
	var u billingUsage
	s.expect(200, "GET", "/api/billing/usage", jwt, nil).json(t, &u)
	return u
}

// webhook posts a Stripe event signed with signature (or, when empty,
// signed correctly now).
func (s *server) webhook(payload []byte, signature string) response {
	s.t.Helper()
	if signature == "" {
		signature = stripefake.Sign(stripeSecret, payload, time.Now())
	}
	req, err := http.NewRequest("POST", s.URL+"/api/billing/stripe/webhook", strings.NewReader(string(payload)))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("Stripe-Signature", signature)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return response{Status: resp.StatusCode, Header: resp.Header, Body: body}
}

func accountEvents(t *testing.T, db *testdb.DB, accountID int64) int {
	t.Helper()
	var n int
	if err := db.Get(&n, `SELECT count(*) FROM events WHERE stream_id = $1`, "account-"+itoa(accountID)); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestBillingWithoutStripe: plans, usage and subscription work without
// Stripe; checkout and the portal say the operator sets plans.
func TestBillingWithoutStripe(t *testing.T) {
	db := testdb.New(t)
	s := startServer(t, db, smtpcatcher.Start(t))
	su := signup(t, s, "billing@example.com", "Billing")
	jwt := su.AccessToken

	var plans []map[string]any
	s.expect(200, "GET", "/api/plans", "", nil).json(t, &plans)
	for _, p := range plans {
		for _, k := range []string{"name", "display_name", "price_monthly_cents", "requests_per_minute", "min_check_interval",
			"max_regions", "max_monitors", "max_users", "max_status_pages", "max_api_keys"} {
			if _, ok := p[k]; !ok {
				t.Errorf("plan %v lacks %s", p["name"], k)
			}
		}
	}
	if len(plans) != 4 {
		t.Errorf("%d plans", len(plans))
	}

	u := s.usage(t, jwt)
	if u.Plan != "FREE" || u.Monitors.Used != 0 || *u.Monitors.Limit != 10 || u.Users.Used != 1 || *u.Users.Limit != 3 ||
		*u.Regions.Limit != 1 || u.StatusPages.Used != 0 || *u.StatusPages.Limit != 1 || u.APIKeys.Used != 0 || *u.APIKeys.Limit != 5 {
		t.Errorf("usage = %+v", u)
	}
	sub := s.subscription(t, jwt)
	if sub.Plan != "FREE" || sub.Status != "none" || sub.Provider != "manual" || sub.BillingEnabled || sub.CurrentPeriodEnd != nil {
		t.Errorf("subscription = %+v", sub)
	}

	before := accountEvents(t, db, su.Account.ID)
	for _, path := range []string{"/api/billing/checkout", "/api/billing/portal"} {
		r := s.expect(501, "POST", path, jwt, map[string]string{"plan": "PRO"})
		if !strings.Contains(r.detail(), "medialuna accounts set-plan") {
			t.Errorf("%s: %s", path, r.Body)
		}
	}
	payload := stripefake.Event("evt_1", "customer.subscription.created", time.Now(), map[string]any{"id": "sub_1"})
	if r := s.webhook(payload, ""); r.Status != 501 {
		t.Errorf("webhook without Stripe: %d %s", r.Status, r.Body)
	}
	if after := accountEvents(t, db, su.Account.ID); after != before {
		t.Errorf("refused billing calls wrote %d events", after-before)
	}

	// The operator's path.
	if _, errOut, err := medialuna(t, db, "accounts", "set-plan", itoa(su.Account.ID), "PRO"); err != nil {
		t.Fatal(errOut)
	}
	waitFor(t, func() bool { return s.subscription(t, jwt).Plan == "PRO" })
	sub = s.subscription(t, jwt)
	if sub.Status != "active" || sub.Provider != "manual" || sub.RenewsAt != nil {
		t.Errorf("after set-plan: %+v", sub)
	}
	if u := s.usage(t, jwt); *u.Monitors.Limit != 250 || u.Regions.Limit == nil || *u.Regions.Limit != 5 {
		t.Errorf("usage after set-plan: %+v", u)
	}
	// Usage and subscription are JWT endpoints.
	var key struct {
		Key string `json:"key"`
	}
	s.expect(201, "POST", "/api/users/api-keys", jwt, map[string]any{"name": "k", "scopes": []string{"read:account"}}).json(t, &key)
	s.expect(401, "GET", "/api/billing/usage", key.Key, nil)
	s.expect(401, "GET", "/api/billing/usage", "", nil)
}

// TestBillingStripeCheckoutAndWebhooks runs the real binary against a
// local server speaking Stripe's wire format: checkout and portal
// sessions, then signed webhooks that upgrade, replay, arrive out of
// order, fail a payment and cancel.
func TestBillingStripeCheckoutAndWebhooks(t *testing.T) {
	fake := stripefake.Start(t, stripeKey)
	db := testdb.New(t)
	s := startServer(t, db, smtpcatcher.Start(t), "MEDIALUNA_STRIPE_SECRET_KEY="+stripeKey, "MEDIALUNA_STRIPE_WEBHOOK_SECRET="+stripeSecret,
		"MEDIALUNA_STRIPE_API_URL="+fake.URL, "MEDIALUNA_STRIPE_PRICE_STARTER=price_starter", "MEDIALUNA_STRIPE_PRICE_PRO=price_pro",
		"MEDIALUNA_BILLING_RETURN_URL=https://app.example.com/settings/billing")
	su := signup(t, s, "owner@example.com", "Stripe Co")
	jwt, acct := su.AccessToken, itoa(su.Account.ID)
	if strings.Contains(s.logs.String(), stripeKey) {
		t.Error("the server logged the Stripe secret key")
	}

	// An EDITOR sees usage and the subscription, but only an ADMIN buys.
	s.expect(200, "POST", "/api/accounts/users/invite", jwt, map[string]string{"email": "editor@example.com", "role": "EDITOR"})
	if u := s.usage(t, jwt); u.Users.Used != 1 || u.Users.OverLimit {
		t.Errorf("usage with a pending invite: %+v", u)
	}
	if !strings.Contains(string(s.expect(200, "GET", "/api/billing/usage", jwt, nil).Body), `"pending_invites":1`) {
		t.Error("usage does not count the pending invitation")
	}
	token := regexp.MustCompile(`Token: (\S+)`).FindStringSubmatch(s.Mail.WaitFor(t, "editor@example.com", 20*time.Second).Data)
	if token == nil {
		t.Fatal("no invitation token")
	}
	var editor struct {
		AccessToken string `json:"access_token"`
	}
	s.expect(200, "POST", "/api/auth/accept-invite", "", map[string]string{"token": token[1], "password": "editor password"}).json(t, &editor)
	s.expect(200, "GET", "/api/billing/usage", editor.AccessToken, nil)
	s.expect(200, "GET", "/api/billing/subscription", editor.AccessToken, nil)
	s.expect(403, "POST", "/api/billing/checkout", editor.AccessToken, map[string]any{"plan": "PRO"})
	s.expect(403, "POST", "/api/billing/portal", editor.AccessToken, nil)
	if len(fake.Requests()) != 0 {
		t.Fatalf("refused calls reached Stripe: %+v", fake.Requests())
	}

	// Checkout: a customer is created once and remembered.
	for _, c := range []struct {
		body  any
		want  int
		field string
	}{
		{map[string]any{}, 422, "plan"},
		{map[string]any{"plan": "GOLD"}, 422, "plan"},
		{map[string]any{"plan": "FREE"}, 422, "portal"},
		{map[string]any{"plan": "ENTERPRISE"}, 422, "--stripe-price-enterprise"},
		{map[string]any{"plan": "PRO", "success_url": "javascript:alert(1)"}, 422, "success_url"},
		{`{"plan": 5}`, 400, "plan"},
	} {
		r := s.call("POST", "/api/billing/checkout", jwt, c.body)
		if r.Status != c.want || !strings.Contains(string(r.Body), c.field) {
			t.Errorf("checkout %v: %d %s; want %d naming %q", c.body, r.Status, r.Body, c.want, c.field)
		}
	}
	var co struct {
		URL  string `json:"url"`
		Plan string `json:"plan"`
	}
	s.expect(200, "POST", "/api/billing/checkout", jwt, map[string]any{"plan": "PRO"}).json(t, &co)
	if !strings.HasPrefix(co.URL, "https://checkout.stripe.test/c/pay/cs_test_") || co.Plan != "PRO" {
		t.Errorf("checkout = %+v", co)
	}
	s.expect(200, "POST", "/api/billing/checkout", jwt, map[string]any{"plan": "starter", "success_url": "https://mine.example.com/ok",
		"cancel_url": "https://mine.example.com/no"})
	customers := fake.RequestsTo("/v1/customers")
	if len(customers) != 1 {
		t.Fatalf("%d customers created, want 1", len(customers))
	}
	c := customers[0]
	if c.Authorization != "Bearer "+stripeKey || c.Form.Get("email") != "owner@example.com" || c.Form.Get("name") != "Stripe Co" ||
		c.Form.Get("metadata[account_id]") != acct {
		t.Errorf("customer request: %+v", c)
	}
	sessions := fake.RequestsTo("/v1/checkout/sessions")
	if len(sessions) != 2 {
		t.Fatalf("%d checkout sessions", len(sessions))
	}
	f := sessions[0].Form
	cus := f.Get("customer")
	if f.Get("mode") != "subscription" || !strings.HasPrefix(cus, "cus_") || f.Get("line_items[0][price]") != "price_pro" ||
		f.Get("line_items[0][quantity]") != "1" || f.Get("client_reference_id") != acct ||
		f.Get("success_url") != "https://app.example.com/settings/billing?checkout=success" ||
		f.Get("cancel_url") != "https://app.example.com/settings/billing?checkout=canceled" ||
		f.Get("subscription_data[metadata][account_id]") != acct || sessions[0].Authorization != "Bearer "+stripeKey {
		t.Errorf("checkout session request: %v", f)
	}
	if f := sessions[1].Form; f.Get("customer") != cus || f.Get("line_items[0][price]") != "price_starter" || f.Get("success_url") != "https://mine.example.com/ok" {
		t.Errorf("second checkout: %v", f)
	}
	var portal struct {
		URL string `json:"url"`
	}
	s.expect(200, "POST", "/api/billing/portal", jwt, nil).json(t, &portal)
	if p := fake.RequestsTo("/v1/billing_portal/sessions"); len(p) != 1 || p[0].Form.Get("customer") != cus ||
		p[0].Form.Get("return_url") != "https://app.example.com/settings/billing" || !strings.HasPrefix(portal.URL, "https://billing.stripe.test/") {
		t.Errorf("portal: %+v %+v", portal, p)
	}
	sub := s.subscription(t, jwt)
	if !sub.BillingEnabled || sub.CustomerID == nil || *sub.CustomerID != cus || sub.Status != "none" || sub.Provider != "manual" {
		t.Errorf("before any subscription: %+v", sub)
	}

	// A bad signature is a 400 and writes nothing.
	now := time.Now()
	t0 := now.Add(-time.Hour).Truncate(time.Second)
	proSub := stripefake.Subscription{ID: "sub_1", Customer: cus, Status: "active", Price: "price_pro", PeriodStart: t0, PeriodEnd: t0.AddDate(0, 1, 0)}
	created := stripefake.Event("evt_created", "customer.subscription.created", t0, stripefake.SubscriptionObject(proSub))
	before := accountEvents(t, db, su.Account.ID)
	for name, sig := range map[string]string{
		"wrong secret": stripefake.Sign("whsec_wrong", created, now),
		"stale":        stripefake.Sign(stripeSecret, created, now.Add(-10*time.Minute)),
		"garbage":      "t=1",
	} {
		if r := s.webhook(created, sig); r.Status != 400 {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		} else if d := r.detail(); !strings.HasPrefix(d, "Stripe webhook refused: ") || strings.Contains(d, "refused: Stripe") {
			t.Errorf("%s: detail %q, want \"Stripe webhook refused: \" and the reason", name, d)
		}
	}
	if after := accountEvents(t, db, su.Account.ID); after != before {
		t.Fatalf("refused webhooks wrote %d events", after-before)
	}

	// The checkout completes and the subscription is created: PRO.
	r := s.webhook(stripefake.Event("evt_checkout", "checkout.session.completed", t0,
		stripefake.CheckoutObject("cs_test_1", cus, "sub_1", acct, "PRO", "paid")), "")
	if r.Status != 200 {
		t.Fatalf("checkout completed: %d %s", r.Status, r.Body)
	}
	if r := s.webhook(created, ""); r.Status != 200 || !strings.Contains(string(r.Body), `"applied":true`) {
		t.Fatalf("subscription created: %d %s", r.Status, r.Body)
	}
	sub = s.subscription(t, jwt)
	if sub.Plan != "PRO" || sub.Status != "active" || sub.Provider != "stripe" || *sub.SubscriptionID != "sub_1" ||
		!sub.CurrentPeriodEnd.Equal(t0.AddDate(0, 1, 0)) || sub.RenewsAt == nil || sub.CancelAtPeriodEnd {
		t.Errorf("after upgrade: %+v", sub)
	}
	// A checkout now would create a second subscription.
	if r := s.expect(409, "POST", "/api/billing/checkout", jwt, map[string]any{"plan": "STARTER"}); !strings.Contains(r.detail(), "portal") {
		t.Errorf("second checkout: %s", r.Body)
	}

	// The same event again, even re-signed later, changes nothing.
	before = accountEvents(t, db, su.Account.ID)
	r = s.webhook(created, stripefake.Sign(stripeSecret, created, time.Now()))
	if r.Status != 200 || !strings.Contains(string(r.Body), "already processed") {
		t.Errorf("replay: %d %s", r.Status, r.Body)
	}
	// An older event delivered late changes nothing either.
	stale := proSub
	stale.Status = "incomplete"
	r = s.webhook(stripefake.Event("evt_older", "customer.subscription.updated", t0.Add(-time.Minute), stripefake.SubscriptionObject(stale)), "")
	if r.Status != 200 || !strings.Contains(string(r.Body), `"applied":false`) {
		t.Errorf("out of order: %d %s", r.Status, r.Body)
	}
	if after := accountEvents(t, db, su.Account.ID); after != before {
		t.Errorf("replayed and stale events wrote %d events", after-before)
	}

	// PRO lifts FREE's limit of 10 monitors.
	for i := range 11 {
		s.expect(201, "POST", "/api/v1/monitors", jwt, map[string]any{"name": "m" + itoa(int64(i)), "type": "HTTP", "url": "https://example.com"})
	}
	var list []monitor
	s.expect(200, "GET", "/api/v1/monitors", jwt, nil).json(t, &list)
	first := list[0]

	// A failed payment: past due, the plan stays while Stripe retries.
	r = s.webhook(stripefake.Event("evt_failed", "invoice.payment_failed", t0.Add(time.Minute), stripefake.InvoiceObject("in_1", cus, "sub_1")), "")
	if sub = s.subscription(t, jwt); r.Status != 200 || sub.Status != "past_due" || sub.Plan != "PRO" {
		t.Errorf("payment failed: %d %s; %+v", r.Status, r.Body, sub)
	}

	// Cancelled at the period's end: no renewal date; then deleted: FREE.
	ending := proSub
	ending.CancelAtPeriodEnd = true
	s.webhook(stripefake.Event("evt_cancel", "customer.subscription.updated", t0.Add(2*time.Minute), stripefake.SubscriptionObject(ending)), "")
	if sub = s.subscription(t, jwt); sub.Status != "active" || !sub.CancelAtPeriodEnd || sub.RenewsAt != nil {
		t.Errorf("cancel at period end: %+v", sub)
	}
	ended := proSub
	ended.Status = "canceled"
	s.webhook(stripefake.Event("evt_deleted", "customer.subscription.deleted", t0.Add(3*time.Minute), stripefake.SubscriptionObject(ended)), "")
	sub = s.subscription(t, jwt)
	if sub.Plan != "FREE" || sub.Status != "canceled" || sub.Provider != "stripe" {
		t.Errorf("after cancellation: %+v", sub)
	}

	// The downgrade keeps all 11 monitors; only a new one is refused,
	// naming the limit. Existing monitors can still be edited.
	s.expect(200, "GET", "/api/v1/monitors", jwt, nil).json(t, &list)
	if len(list) != 11 {
		t.Errorf("%d monitors after the downgrade, want 11", len(list))
	}
	r = s.expect(403, "POST", "/api/v1/monitors", jwt, map[string]any{"name": "twelfth", "type": "HTTP", "url": "https://example.com"})
	if !strings.Contains(r.detail(), "plan FREE allows 10 monitors") {
		t.Errorf("limit detail: %s", r.detail())
	}
	s.expect(200, "PUT", "/api/v1/monitors/"+itoa(first.ID), jwt, map[string]any{"name": "renamed after the downgrade"})
	u := s.usage(t, jwt)
	if u.Plan != "FREE" || u.Monitors.Used != 11 || *u.Monitors.Limit != 10 || !u.Monitors.OverLimit {
		t.Errorf("usage after the downgrade: %+v", u)
	}

	// A new subscription (through the portal, say) to STARTER lifts it again.
	starter := stripefake.Subscription{ID: "sub_2", Customer: cus, Status: "active", Price: "price_starter",
		PeriodStart: t0.Add(4 * time.Minute), PeriodEnd: t0.Add(4*time.Minute).AddDate(0, 1, 0)}
	s.webhook(stripefake.Event("evt_new", "customer.subscription.created", t0.Add(4*time.Minute), stripefake.SubscriptionObject(starter)), "")
	if sub = s.subscription(t, jwt); sub.Plan != "STARTER" || *sub.SubscriptionID != "sub_2" || sub.Status != "active" {
		t.Errorf("resubscribed: %+v", sub)
	}
	s.expect(201, "POST", "/api/v1/monitors", jwt, map[string]any{"name": "twelfth", "type": "HTTP", "url": "https://example.com"})

	// A price this server does not know is refused, so Stripe retries.
	unknown := starter
	unknown.Price = "price_unknown"
	if r := s.webhook(stripefake.Event("evt_unknown", "customer.subscription.updated", t0.Add(5*time.Minute), stripefake.SubscriptionObject(unknown)), ""); r.Status != 422 ||
		!strings.Contains(string(r.Body), "price_unknown") {
		t.Errorf("unknown price: %d %s", r.Status, r.Body)
	}
	// An event type billing does not use is acknowledged.
	if r := s.webhook(stripefake.Event("evt_other", "charge.refunded", now, map[string]any{"id": "ch_1", "object": "charge"}), ""); r.Status != 200 {
		t.Errorf("unused type: %d %s", r.Status, r.Body)
	}

	// The audit log shows who changed the plan and why.
	audit := s.expect(200, "GET", "/api/audit/events?type=PlanChanged", jwt, nil)
	if !strings.Contains(string(audit.Body), "stripe subscription sub_1 is active") || !strings.Contains(string(audit.Body), "stripe:evt_deleted") {
		t.Errorf("audit: %s", audit.Body)
	}

	// The read models rebuild to the same subscription.
	if _, errOut, err := medialuna(t, db, "projections", "rebuild", "billing", "accounts"); err != nil {
		t.Fatal(errOut)
	}
	if again := s.subscription(t, jwt); again.Plan != sub.Plan || again.Status != sub.Status || *again.SubscriptionID != *sub.SubscriptionID ||
		!again.CurrentPeriodEnd.Equal(*sub.CurrentPeriodEnd) {
		t.Errorf("after rebuild: %+v, before %+v", again, sub)
	}
}
