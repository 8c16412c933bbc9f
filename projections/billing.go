package projections

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/medialuna/medialuna/domain"
)

// Billing projects each account's payment-provider customer and
// subscription. The plan itself stays in accounts: PlanChanged is its only
// source, whoever caused it.
type Billing struct{}

// SettlesWrites is true: a write waits until this model has applied it,
// so the writer's next read sees it.
func (Billing) SettlesWrites() bool { return true }

func (Billing) Name() string { return "billing" }
func (Billing) Version() int { return 1 }

// Handles implements EventFilter.
func (Billing) Handles(t string) bool {
	return t == domain.EvBillingCustomerLinked || t == domain.EvSubscriptionChanged
}

func (Billing) Tables() []string { return []string{"billing"} }

func (Billing) Setup(ctx context.Context, tx *sqlx.Tx) error {
	_, err := tx.ExecContext(ctx, `
		CREATE TABLE billing (
			account_id           BIGINT PRIMARY KEY,
			provider             TEXT NOT NULL,
			customer_id          TEXT NOT NULL DEFAULT '',
			subscription_id      TEXT NOT NULL DEFAULT '',
			provider_status      TEXT NOT NULL DEFAULT '',
			status               TEXT NOT NULL DEFAULT 'none',
			plan                 TEXT NOT NULL DEFAULT '',
			price_id             TEXT NOT NULL DEFAULT '',
			current_period_start TIMESTAMPTZ,
			current_period_end   TIMESTAMPTZ,
			trial_end            TIMESTAMPTZ,
			cancel_at_period_end BOOLEAN NOT NULL DEFAULT FALSE,
			last_event_id        TEXT NOT NULL DEFAULT '',
			updated_at           TIMESTAMPTZ NOT NULL);
		CREATE INDEX billing_customer ON billing (customer_id) WHERE customer_id <> '';`)
	return err
}

func (Billing) Apply(ctx context.Context, tx Exec, rec domain.RecordedEvent, ev domain.Event) error {
	at := rec.Metadata.OccurredAt
	var err error
	switch e := ev.(type) {
	case *domain.BillingCustomerLinked:
		_, err = tx.ExecContext(ctx, `INSERT INTO billing (account_id, provider, customer_id, updated_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (account_id) DO UPDATE SET provider = EXCLUDED.provider, customer_id = EXCLUDED.customer_id, updated_at = EXCLUDED.updated_at`,
			accountOf(rec), e.Provider, e.CustomerID, at)
	case *domain.SubscriptionChanged:
		_, err = tx.ExecContext(ctx, `INSERT INTO billing (account_id, provider, customer_id, subscription_id, provider_status, status, plan, price_id,
				current_period_start, current_period_end, trial_end, cancel_at_period_end, last_event_id, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
			ON CONFLICT (account_id) DO UPDATE SET provider = EXCLUDED.provider,
				customer_id = CASE WHEN EXCLUDED.customer_id = '' THEN billing.customer_id ELSE EXCLUDED.customer_id END,
				subscription_id = EXCLUDED.subscription_id, provider_status = EXCLUDED.provider_status, status = EXCLUDED.status,
				plan = EXCLUDED.plan, price_id = EXCLUDED.price_id, current_period_start = EXCLUDED.current_period_start,
				current_period_end = EXCLUDED.current_period_end, trial_end = EXCLUDED.trial_end,
				cancel_at_period_end = EXCLUDED.cancel_at_period_end, last_event_id = EXCLUDED.last_event_id, updated_at = EXCLUDED.updated_at`,
			accountOf(rec), e.Provider, e.CustomerID, e.SubscriptionID, e.ProviderStatus, e.Status, e.Plan, e.PriceID,
			e.PeriodStart, e.PeriodEnd, e.TrialEnd, e.CancelAtPeriodEnd, e.EventID, at)
	}
	return err
}

// SubscriptionRow is an account's subscription as the API shows it.
type SubscriptionRow struct {
	AccountID         int64      `db:"account_id"`
	Plan              string     `db:"plan"` // the account's plan, whoever set it
	Provider          string     `db:"provider"`
	CustomerID        string     `db:"customer_id"`
	SubscriptionID    string     `db:"subscription_id"`
	ProviderStatus    string     `db:"provider_status"`
	Status            string     `db:"status"`
	SubscriptionPlan  string     `db:"subscription_plan"`
	PeriodStart       *time.Time `db:"current_period_start"`
	PeriodEnd         *time.Time `db:"current_period_end"`
	TrialEnd          *time.Time `db:"trial_end"`
	CancelAtPeriodEnd bool       `db:"cancel_at_period_end"`
	UpdatedAt         *time.Time `db:"updated_at"`
}

// Subscription returns account accountID's subscription. An account that
// never had one has provider "" and status "none".
func (q *Queries) Subscription(ctx context.Context, accountID int64) (SubscriptionRow, error) {
	var s SubscriptionRow
	err := q.db.GetContext(ctx, &s, `SELECT a.id AS account_id, a.plan, coalesce(b.provider, '') AS provider,
			coalesce(b.customer_id, '') AS customer_id, coalesce(b.subscription_id, '') AS subscription_id,
			coalesce(b.provider_status, '') AS provider_status, coalesce(b.status, 'none') AS status,
			coalesce(b.plan, '') AS subscription_plan, b.current_period_start, b.current_period_end, b.trial_end,
			coalesce(b.cancel_at_period_end, false) AS cancel_at_period_end, b.updated_at
		FROM accounts a LEFT JOIN billing b ON b.account_id = a.id WHERE a.id = $1`, accountID)
	return s, notFound(err, "account")
}

// AccountByCustomer implements commands.BillingDirectory.
func (q *Queries) AccountByCustomer(ctx context.Context, customerID string) (int64, error) {
	var id int64
	err := q.db.GetContext(ctx, &id, `SELECT account_id FROM billing WHERE customer_id = $1 ORDER BY account_id LIMIT 1`, customerID)
	return id, notFound(err, "customer")
}
