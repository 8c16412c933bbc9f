// Package stripe is the payment provider adapter: customers, Checkout
// Sessions and billing-portal sessions through Stripe's API (stripe-go), and
// Stripe's signed webhooks turned into domain.ProviderEvent values.
//
// Plans map to Stripe prices by configuration, one price per paid plan;
// the reverse map turns a subscription's price back into a plan. The API's
// base URL is configurable, for tests and for a proxy.
package stripe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	stripego "github.com/stripe/stripe-go/v82"
	"github.com/stripe/stripe-go/v82/webhook"

	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
)

// DefaultAPIURL is Stripe's API.
const DefaultAPIURL = "https://api.stripe.com"

// Tolerance is how old a webhook's signature timestamp may be.
const Tolerance = 300 * time.Second

// Config configures a Client.
type Config struct {
	SecretKey     string // sk_live_... or sk_test_...; required
	WebhookSecret string // whsec_...; without it, webhooks are refused
	APIURL        string // replaces DefaultAPIURL
	// Prices maps each plan sold through Checkout to its Stripe price id.
	Prices map[domain.Plan]string
	// IdempotencyPrefix makes the keys that keep customer creation
	// idempotent unique to this installation, in case several share one
	// Stripe account.
	IdempotencyPrefix string
	// HTTPClient sends the requests; nil means a client with a 30 s timeout.
	HTTPClient *http.Client
	// MaxNetworkRetries is how often stripe-go retries a failed request
	// (network errors, 409, 5xx) with backoff; nil means stripe-go's 2.
	MaxNetworkRetries *int64
}

// Client talks to Stripe for one Media Luna installation.
type Client struct {
	cfg    Config
	api    *stripego.Client
	planOf map[string]domain.Plan
}

var _ commands.Payments = (*Client)(nil)

// New returns a client for cfg.
func New(cfg Config) (*Client, error) {
	if cfg.SecretKey == "" {
		return nil, errors.New("stripe: a secret key is required")
	}
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	cfg.APIURL = strings.TrimRight(cfg.APIURL, "/")
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	c := &Client{cfg: cfg, planOf: map[string]domain.Plan{}}
	for plan, price := range cfg.Prices {
		if _, ok := domain.LimitsOf(plan); !ok || plan == domain.PlanFree {
			return nil, fmt.Errorf("stripe: a price for plan %q: only STARTER, PRO and ENTERPRISE are sold", plan)
		}
		if price == "" {
			continue
		}
		if other, dup := c.planOf[price]; dup {
			return nil, fmt.Errorf("stripe: price %s is configured for both %s and %s", price, other, plan)
		}
		c.planOf[price] = plan
	}
	backend := stripego.GetBackendWithConfig(stripego.APIBackend, &stripego.BackendConfig{
		URL:               stripego.String(cfg.APIURL),
		HTTPClient:        cfg.HTTPClient,
		LeveledLogger:     &stripego.LeveledLogger{Level: stripego.LevelNull}, // errors are returned and logged by the caller
		MaxNetworkRetries: cfg.MaxNetworkRetries,
	})
	c.api = stripego.NewClient(cfg.SecretKey, stripego.WithBackends(&stripego.Backends{
		API: backend, Connect: backend, Uploads: backend, MeterEvents: backend}))
	return c, nil
}

// Provider implements commands.Payments.
func (c *Client) Provider() string { return domain.ProviderStripe }

// CreateCustomer implements commands.Payments. The idempotency key is the
// account's, so a retried or concurrent call within Stripe's 24 hours
// returns the customer the first one created.
func (c *Client) CreateCustomer(ctx context.Context, nc commands.NewCustomer) (string, error) {
	p := &stripego.CustomerCreateParams{Name: stripego.String(nc.Name)}
	if nc.Email != "" {
		p.Email = stripego.String(nc.Email)
	}
	p.AddMetadata("account_id", strconv.FormatInt(nc.AccountID, 10))
	p.SetIdempotencyKey(fmt.Sprintf("medialuna-%s-customer-%d", c.cfg.IdempotencyPrefix, nc.AccountID))
	cus, err := c.api.V1Customers.Create(ctx, p)
	if err != nil {
		return "", upstream("create the customer", err)
	}
	if cus.ID == "" {
		return "", domain.Errorf(domain.ErrUpstream, "Stripe created a customer without an id")
	}
	return cus.ID, nil
}

// Sells implements commands.Payments: a plan is sold when a price is
// configured for it.
func (c *Client) Sells(plan domain.Plan) error {
	if c.cfg.Prices[plan] == "" {
		return domain.Invalid("plan", "value_error", "plan %s is not sold on this server: no Stripe price is configured for it (operators: --stripe-price-%s)",
			plan, strings.ToLower(string(plan)))
	}
	return nil
}

// CreateCheckout implements commands.Payments: a Checkout Session in
// subscription mode for the plan's price. The account and plan travel in
// the session's and the subscription's metadata (and the session's client
// reference), so webhooks can name the account even before the customer's
// link reaches the read model.
func (c *Client) CreateCheckout(ctx context.Context, nc commands.NewCheckout) (string, error) {
	if err := c.Sells(nc.Plan); err != nil {
		return "", err
	}
	price := c.cfg.Prices[nc.Plan]
	account := strconv.FormatInt(nc.AccountID, 10)
	meta := map[string]string{"account_id": account, "plan": string(nc.Plan)}
	p := &stripego.CheckoutSessionCreateParams{
		Mode:              stripego.String(string(stripego.CheckoutSessionModeSubscription)),
		Customer:          stripego.String(nc.CustomerID),
		ClientReferenceID: stripego.String(account),
		LineItems:         []*stripego.CheckoutSessionCreateLineItemParams{{Price: stripego.String(price), Quantity: stripego.Int64(1)}},
		SuccessURL:        stripego.String(nc.SuccessURL),
		CancelURL:         stripego.String(nc.CancelURL),
		SubscriptionData:  &stripego.CheckoutSessionCreateSubscriptionDataParams{Metadata: meta},
	}
	for k, v := range meta {
		p.AddMetadata(k, v)
	}
	s, err := c.api.V1CheckoutSessions.Create(ctx, p)
	if err != nil {
		return "", upstream("start the checkout", err)
	}
	if s.URL == "" {
		return "", domain.Errorf(domain.ErrUpstream, "Stripe returned a checkout session without a url")
	}
	return s.URL, nil
}

// CreatePortal implements commands.Payments.
func (c *Client) CreatePortal(ctx context.Context, customerID, returnURL string) (string, error) {
	s, err := c.api.V1BillingPortalSessions.Create(ctx, &stripego.BillingPortalSessionCreateParams{
		Customer: stripego.String(customerID), ReturnURL: stripego.String(returnURL)})
	if err != nil {
		return "", upstream("open the billing portal", err)
	}
	if s.URL == "" {
		return "", domain.Errorf(domain.ErrUpstream, "Stripe returned a portal session without a url")
	}
	return s.URL, nil
}

// upstream turns a stripe-go error into ErrUpstream with Stripe's message,
// which names the problem and never the secret key in full.
func upstream(what string, err error) error {
	var se *stripego.Error
	if errors.As(err, &se) {
		msg := se.Msg
		if msg == "" {
			msg = string(se.Type)
		}
		return domain.Errorf(domain.ErrUpstream, "Stripe refused to %s (HTTP %d): %s", what, se.HTTPStatusCode, msg)
	}
	return domain.Errorf(domain.ErrUpstream, "could not reach Stripe to %s; try again later", what)
}

// ErrNoWebhookSecret answers webhooks when no signing secret is configured.
var ErrNoWebhookSecret = domain.Errorf(domain.ErrNotEnabled, "Stripe webhooks are not configured on this server: no signing secret (--stripe-webhook-secret)")

// ParseWebhook verifies a webhook's Stripe-Signature header against the
// endpoint's signing secret (HMAC-SHA256, timestamp within Tolerance) and
// parses the event. ok is false for event types billing does not use;
// they are acknowledged and ignored. The event's API version must be of
// stripe-go's release train (stripe.APIVersion), as stripe-go requires,
// so the objects decode as this build expects. An error other than
// ErrNoWebhookSecret says what is wrong with the request, in lower case
// for the caller to prefix (the API answers "Stripe webhook refused: ...").
func (c *Client) ParseWebhook(payload []byte, signature string) (ev domain.ProviderEvent, ok bool, err error) {
	if c.cfg.WebhookSecret == "" {
		return ev, false, ErrNoWebhookSecret
	}
	e, err := webhook.ConstructEventWithOptions(payload, signature, c.cfg.WebhookSecret, webhook.ConstructEventOptions{Tolerance: Tolerance})
	if err != nil {
		return ev, false, err
	}
	if e.Data == nil {
		return ev, false, errors.New("the event has no data")
	}
	ev = domain.ProviderEvent{Provider: domain.ProviderStripe, ID: e.ID, Type: string(e.Type), Created: time.Unix(e.Created, 0).UTC()}
	switch {
	case strings.HasPrefix(ev.Type, "customer.subscription."):
		return ev, true, c.subscription(&ev, e.Data.Raw)
	case ev.Type == "checkout.session.completed":
		return c.checkout(ev, e.Data.Raw)
	case ev.Type == "invoice.payment_failed":
		return ev, true, c.invoice(&ev, e.Data.Raw)
	}
	return ev, false, nil
}

func (c *Client) subscription(ev *domain.ProviderEvent, raw json.RawMessage) error {
	var s stripego.Subscription
	if err := json.Unmarshal(raw, &s); err != nil {
		return fmt.Errorf("the subscription does not decode: %w", err)
	}
	ev.Kind, ev.SubscriptionID, ev.Status = domain.BillingSubscription, s.ID, string(s.Status)
	if s.Customer != nil {
		ev.CustomerID = s.Customer.ID
	}
	ev.AccountID = accountID(s.Metadata)
	if s.Items != nil {
		// The first item whose price is one of ours decides the plan.
		for i, it := range s.Items.Data {
			if it == nil || it.Price == nil {
				continue
			}
			plan, known := c.planOf[it.Price.ID]
			if i == 0 || known {
				ev.PriceID, ev.Plan = it.Price.ID, plan
				ev.PeriodStart, ev.PeriodEnd = unix(it.CurrentPeriodStart), unix(it.CurrentPeriodEnd)
			}
			if known {
				break
			}
		}
	}
	ev.TrialEnd = unix(s.TrialEnd)
	// Cancelling in the portal sets cancel_at_period_end, or cancel_at on
	// newer API versions: either way it will not renew.
	ev.CancelAtPeriodEnd = s.CancelAtPeriodEnd || s.CancelAt != 0
	if ev.Status == "canceled" {
		ev.CancelAtPeriodEnd = false
	}
	return nil
}

func (c *Client) checkout(ev domain.ProviderEvent, raw json.RawMessage) (domain.ProviderEvent, bool, error) {
	var s stripego.CheckoutSession
	if err := json.Unmarshal(raw, &s); err != nil {
		return ev, false, fmt.Errorf("the checkout session does not decode: %w", err)
	}
	if s.Mode != stripego.CheckoutSessionModeSubscription {
		return ev, false, nil // a one-off payment: not ours
	}
	ev.Kind, ev.Status = domain.BillingCheckoutCompleted, string(s.PaymentStatus)
	if s.Customer != nil {
		ev.CustomerID = s.Customer.ID
	}
	if s.Subscription != nil {
		ev.SubscriptionID = s.Subscription.ID
	}
	if n, err := strconv.ParseInt(s.ClientReferenceID, 10, 64); err == nil && n > 0 {
		ev.AccountID = n
	} else {
		ev.AccountID = accountID(s.Metadata)
	}
	if plan, err := domain.ParsePlan(s.Metadata["plan"]); err == nil {
		ev.Plan = plan
	}
	return ev, true, nil
}

func (c *Client) invoice(ev *domain.ProviderEvent, raw json.RawMessage) error {
	var inv stripego.Invoice
	if err := json.Unmarshal(raw, &inv); err != nil {
		return fmt.Errorf("the invoice does not decode: %w", err)
	}
	ev.Kind = domain.BillingPaymentFailed
	if inv.Customer != nil {
		ev.CustomerID = inv.Customer.ID
	}
	if inv.Parent != nil && inv.Parent.SubscriptionDetails != nil {
		d := inv.Parent.SubscriptionDetails
		if d.Subscription != nil {
			ev.SubscriptionID = d.Subscription.ID
		}
		ev.AccountID = accountID(d.Metadata)
	}
	return nil
}

func accountID(meta map[string]string) int64 {
	n, err := strconv.ParseInt(meta["account_id"], 10, 64)
	if err != nil || n <= 0 {
		return 0
	}
	return n
}

func unix(s int64) *time.Time {
	if s <= 0 {
		return nil
	}
	t := time.Unix(s, 0).UTC()
	return &t
}
