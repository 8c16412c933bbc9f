package stripe_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medialuna/medialuna/adapters/stripe"
	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/test/stripefake"
)

const (
	key    = "sk_test_medialuna123456"
	secret = "whsec_test_secret"
)

func newClient(t *testing.T, fake *stripefake.Server) *stripe.Client {
	t.Helper()
	none := int64(0)
	c, err := stripe.New(stripe.Config{SecretKey: key, WebhookSecret: secret, APIURL: fake.URL, IdempotencyPrefix: "inst1",
		Prices: map[domain.Plan]string{domain.PlanStarter: "price_starter", domain.PlanPro: "price_pro"}, MaxNetworkRetries: &none})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCustomerCheckoutAndPortalRequests(t *testing.T) {
	fake := stripefake.Start(t, key)
	c := newClient(t, fake)
	ctx := context.Background()

	cus, err := c.CreateCustomer(ctx, commands.NewCustomer{AccountID: 7, Name: "Acme", Email: "owner@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.CreateCustomer(ctx, commands.NewCustomer{AccountID: 7, Name: "Acme", Email: "owner@example.com"})
	if err != nil || again != cus {
		t.Errorf("a repeated create is idempotent: %s, then %s (%v)", cus, again, err)
	}
	reqs := fake.RequestsTo("/v1/customers")
	if len(reqs) != 2 {
		t.Fatalf("customer requests: %d", len(reqs))
	}
	r := reqs[0]
	if r.Authorization != "Bearer "+key || !strings.HasPrefix(r.ContentType, "application/x-www-form-urlencoded") ||
		r.IdempotencyKey != "medialuna-inst1-customer-7" || r.StripeVersion == "" {
		t.Errorf("customer request headers: %+v", r)
	}
	if r.Form.Get("name") != "Acme" || r.Form.Get("email") != "owner@example.com" || r.Form.Get("metadata[account_id]") != "7" {
		t.Errorf("customer form: %v", r.Form)
	}

	url, err := c.CreateCheckout(ctx, commands.NewCheckout{AccountID: 7, CustomerID: cus, Plan: domain.PlanPro,
		SuccessURL: "https://app.example.com/?checkout=success", CancelURL: "https://app.example.com/?checkout=canceled"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(url, "https://checkout.stripe.test/c/pay/cs_test_") {
		t.Errorf("checkout url = %s", url)
	}
	r = fake.RequestsTo("/v1/checkout/sessions")[0]
	want := map[string]string{
		"mode": "subscription", "customer": cus, "client_reference_id": "7",
		"line_items[0][price]": "price_pro", "line_items[0][quantity]": "1",
		"success_url": "https://app.example.com/?checkout=success", "cancel_url": "https://app.example.com/?checkout=canceled",
		"metadata[account_id]": "7", "metadata[plan]": "PRO",
		"subscription_data[metadata][account_id]": "7", "subscription_data[metadata][plan]": "PRO",
	}
	got := map[string]string{}
	for k := range want {
		got[k] = r.Form.Get(k)
	}
	if diff := cmp.Diff(want, got); diff != "" || r.Authorization != "Bearer "+key {
		t.Errorf("checkout form (-want +got):\n%s\nauth %q", diff, r.Authorization)
	}

	if _, err := c.CreateCheckout(ctx, commands.NewCheckout{AccountID: 7, CustomerID: cus, Plan: domain.PlanEnterprise}); domain.ErrorCode(err) != domain.ErrInvalid ||
		!strings.Contains(domain.ErrorMessage(err), "--stripe-price-enterprise") {
		t.Errorf("a plan without a price: %v", err)
	}

	portal, err := c.CreatePortal(ctx, cus, "https://app.example.com/")
	if err != nil {
		t.Fatal(err)
	}
	r = fake.RequestsTo("/v1/billing_portal/sessions")[0]
	if !strings.HasPrefix(portal, "https://billing.stripe.test/p/session/") || r.Form.Get("customer") != cus || r.Form.Get("return_url") != "https://app.example.com/" {
		t.Errorf("portal %s, form %v", portal, r.Form)
	}
}

func TestStripeErrorsBecomeUpstream(t *testing.T) {
	fake := stripefake.Start(t, key)
	none := int64(0)
	bad, err := stripe.New(stripe.Config{SecretKey: "sk_test_wrongwrongwrong", APIURL: fake.URL, MaxNetworkRetries: &none,
		Prices: map[domain.Plan]string{domain.PlanPro: "price_missing_pro"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.CreateCustomer(context.Background(), commands.NewCustomer{AccountID: 1, Name: "A"})
	if domain.ErrorCode(err) != domain.ErrUpstream || !strings.Contains(domain.ErrorMessage(err), "Invalid API Key") ||
		strings.Contains(domain.ErrorMessage(err), "sk_test_wrongwrongwrong") {
		t.Errorf("bad key: %v", err)
	}
	c, _ := stripe.New(stripe.Config{SecretKey: key, APIURL: fake.URL, MaxNetworkRetries: &none,
		Prices: map[domain.Plan]string{domain.PlanPro: "price_missing_pro"}})
	_, err = c.CreateCheckout(context.Background(), commands.NewCheckout{AccountID: 1, CustomerID: "cus_1", Plan: domain.PlanPro, SuccessURL: "https://x.test/"})
	if domain.ErrorCode(err) != domain.ErrUpstream || !strings.Contains(domain.ErrorMessage(err), "No such price") {
		t.Errorf("unknown price at Stripe: %v", err)
	}
	unreachable, _ := stripe.New(stripe.Config{SecretKey: key, APIURL: "http://127.0.0.1:1", MaxNetworkRetries: &none})
	if _, err := unreachable.CreatePortal(context.Background(), "cus_1", "https://x.test/"); domain.ErrorCode(err) != domain.ErrUpstream {
		t.Errorf("unreachable: %v", err)
	}
	if _, err := stripe.New(stripe.Config{SecretKey: key, Prices: map[domain.Plan]string{domain.PlanPro: "p", domain.PlanStarter: "p"}}); err == nil {
		t.Error("one price for two plans was accepted")
	}
	if _, err := stripe.New(stripe.Config{SecretKey: key, Prices: map[domain.Plan]string{domain.PlanFree: "p"}}); err == nil {
		t.Error("a price for FREE was accepted")
	}
}

func TestWebhookSignature(t *testing.T) {
	c := newClient(t, stripefake.Start(t, key))
	now := time.Now()
	payload := stripefake.Event("evt_1", "customer.subscription.updated", now, stripefake.SubscriptionObject(stripefake.Subscription{
		ID: "sub_1", Customer: "cus_1", Status: "active", Price: "price_pro", PeriodStart: now, PeriodEnd: now.AddDate(0, 1, 0)}))

	if _, ok, err := c.ParseWebhook(payload, stripefake.Sign(secret, payload, now)); err != nil || !ok {
		t.Fatalf("a genuine event: ok %v, %v", ok, err)
	}
	for name, header := range map[string]string{
		"wrong secret":         stripefake.Sign("whsec_other", payload, now),
		"stale timestamp":      stripefake.Sign(secret, payload, now.Add(-301*time.Second)),
		"no header":            "",
		"garbage":              "t=abc,v1=zz",
		"tampered":             stripefake.Sign(secret, append([]byte(nil), payload[:len(payload)-1]...), now),
		"signature of v0 only": strings.Replace(stripefake.Sign(secret, payload, now), "v1=", "v0=", 1),
	} {
		if _, _, err := c.ParseWebhook(payload, header); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// Another API version's objects are refused rather than misread.
	old := []byte(strings.Replace(string(payload), stripefake.APIVersion, "2024-06-20", 1))
	if _, _, err := c.ParseWebhook(old, stripefake.Sign(secret, old, now)); err == nil || !strings.Contains(err.Error(), "API version") {
		t.Errorf("old API version: %v", err)
	}
	// Without a signing secret, nothing is accepted.
	noSecret, _ := stripe.New(stripe.Config{SecretKey: key})
	if _, _, err := noSecret.ParseWebhook(payload, stripefake.Sign(secret, payload, now)); domain.ErrorCode(err) != domain.ErrNotEnabled {
		t.Errorf("no secret: %v", err)
	}
}

func TestWebhookParsing(t *testing.T) {
	c := newClient(t, stripefake.Start(t, key))
	now := time.Now().Truncate(time.Second)
	start, end, trial := now.Add(-time.Hour).UTC(), now.AddDate(0, 1, 0).UTC(), now.AddDate(0, 0, 14).UTC()
	parse := func(payload []byte) (domain.ProviderEvent, bool) {
		t.Helper()
		ev, ok, err := c.ParseWebhook(payload, stripefake.Sign(secret, payload, now))
		if err != nil {
			t.Fatal(err)
		}
		return ev, ok
	}

	ev, ok := parse(stripefake.Event("evt_s", "customer.subscription.created", now, stripefake.SubscriptionObject(stripefake.Subscription{
		ID: "sub_1", Customer: "cus_1", Status: "trialing", Price: "price_starter", PeriodStart: start, PeriodEnd: end, TrialEnd: trial,
		CancelAtPeriodEnd: true, Metadata: map[string]string{"account_id": "7"}})))
	want := domain.ProviderEvent{Provider: "stripe", ID: "evt_s", Type: "customer.subscription.created", Created: now.UTC(),
		Kind: domain.BillingSubscription, AccountID: 7, CustomerID: "cus_1", SubscriptionID: "sub_1", Status: "trialing",
		Plan: domain.PlanStarter, PriceID: "price_starter", PeriodStart: &start, PeriodEnd: &end, TrialEnd: &trial, CancelAtPeriodEnd: true}
	if diff := cmp.Diff(want, ev); diff != "" || !ok {
		t.Errorf("subscription (-want +got):\n%s", diff)
	}

	ev, _ = parse(stripefake.Event("evt_u", "customer.subscription.updated", now, stripefake.SubscriptionObject(stripefake.Subscription{
		ID: "sub_1", Customer: "cus_1", Status: "active", Price: "price_somebody_elses", PeriodStart: start, PeriodEnd: end})))
	if ev.Plan != "" || ev.PriceID != "price_somebody_elses" {
		t.Errorf("unknown price: plan %q, price %q", ev.Plan, ev.PriceID)
	}

	ev, ok = parse(stripefake.Event("evt_c", "checkout.session.completed", now, stripefake.CheckoutObject("cs_1", "cus_1", "sub_1", "7", "PRO", "paid")))
	want = domain.ProviderEvent{Provider: "stripe", ID: "evt_c", Type: "checkout.session.completed", Created: now.UTC(),
		Kind: domain.BillingCheckoutCompleted, AccountID: 7, CustomerID: "cus_1", SubscriptionID: "sub_1", Status: "paid", Plan: domain.PlanPro}
	if diff := cmp.Diff(want, ev); diff != "" || !ok {
		t.Errorf("checkout (-want +got):\n%s", diff)
	}
	payment := stripefake.CheckoutObject("cs_2", "cus_1", "", "7", "PRO", "paid")
	payment["mode"] = "payment"
	if _, ok := parse(stripefake.Event("evt_p", "checkout.session.completed", now, payment)); ok {
		t.Error("a one-off payment checkout was taken for a subscription")
	}

	ev, ok = parse(stripefake.Event("evt_f", "invoice.payment_failed", now, stripefake.InvoiceObject("in_1", "cus_1", "sub_1")))
	if !ok || ev.Kind != domain.BillingPaymentFailed || ev.CustomerID != "cus_1" || ev.SubscriptionID != "sub_1" {
		t.Errorf("invoice: %+v", ev)
	}

	if _, ok := parse(stripefake.Event("evt_x", "charge.refunded", now, map[string]any{"id": "ch_1", "object": "charge"})); ok {
		t.Error("an unused event type was taken")
	}
}
