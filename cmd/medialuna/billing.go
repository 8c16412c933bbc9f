package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/medialuna/medialuna/adapters/stripe"
	"github.com/medialuna/medialuna/domain"
)

// billingConfig configures Stripe. Without a secret key there is no
// payment provider: plans are set by operators with accounts set-plan.
type billingConfig struct {
	SecretKey     string
	WebhookSecret string
	APIURL        string
	ReturnURL     string
	Prices        map[domain.Plan]*string
}

func (c *billingConfig) register(fs *flag.FlagSet) {
	// The secrets default to empty here and are read from the environment
	// after parsing, so that --help never prints them.
	fs.StringVar(&c.SecretKey, "stripe-secret-key", "", "Stripe secret API key, sk_live_... or sk_test_... (env MEDIALUNA_STRIPE_SECRET_KEY; empty: no Stripe, plans are set with 'medialuna accounts set-plan')")
	fs.StringVar(&c.WebhookSecret, "stripe-webhook-secret", "", "signing secret of the Stripe webhook endpoint, whsec_... (env MEDIALUNA_STRIPE_WEBHOOK_SECRET)")
	fs.StringVar(&c.APIURL, "stripe-api-url", env("MEDIALUNA_STRIPE_API_URL", stripe.DefaultAPIURL), "Stripe API base URL (env MEDIALUNA_STRIPE_API_URL)")
	fs.StringVar(&c.ReturnURL, "billing-return-url", env("MEDIALUNA_BILLING_RETURN_URL", ""), "where Stripe Checkout and the billing portal send users back to, unless the request names a URL (env MEDIALUNA_BILLING_RETURN_URL; default the base URL)")
	c.Prices = map[domain.Plan]*string{}
	for _, p := range []domain.Plan{domain.PlanStarter, domain.PlanPro, domain.PlanEnterprise} {
		name := strings.ToLower(string(p))
		envName := "MEDIALUNA_STRIPE_PRICE_" + string(p)
		c.Prices[p] = fs.String("stripe-price-"+name, env(envName, ""), fmt.Sprintf("Stripe price id (price_...) of plan %s; empty: %s is not sold through Checkout (env %s)", p, p, envName))
	}
}

// resolve fills the secrets from the environment when their flags are empty.
func (c *billingConfig) resolve() {
	if c.SecretKey == "" {
		c.SecretKey = os.Getenv("MEDIALUNA_STRIPE_SECRET_KEY")
	}
	if c.WebhookSecret == "" {
		c.WebhookSecret = os.Getenv("MEDIALUNA_STRIPE_WEBHOOK_SECRET")
	}
}

// client returns the Stripe client, or nil when no secret key is set.
func (c *billingConfig) client(installationID string) (*stripe.Client, error) {
	if c.SecretKey == "" {
		return nil, nil
	}
	prices := map[domain.Plan]string{}
	for p, v := range c.Prices {
		if *v != "" {
			prices[p] = *v
		}
	}
	return stripe.New(stripe.Config{SecretKey: c.SecretKey, WebhookSecret: c.WebhookSecret, APIURL: c.APIURL,
		Prices: prices, IdempotencyPrefix: installationID})
}
