package domain

import (
	"fmt"
	"time"
)

// Billing providers: who sets an account's plan.
const (
	ProviderStripe = "stripe" // a Stripe subscription, through its webhooks
	ProviderManual = "manual" // the operator, with `medialuna accounts set-plan`
)

// SubscriptionStatus is a subscription's state as the API shows it.
type SubscriptionStatus string

const (
	SubscriptionNone     SubscriptionStatus = "none"
	SubscriptionActive   SubscriptionStatus = "active"
	SubscriptionTrialing SubscriptionStatus = "trialing"
	SubscriptionPastDue  SubscriptionStatus = "past_due"
	SubscriptionCanceled SubscriptionStatus = "canceled"
)

// BillingCustomerLinked records the account's customer at a payment
// provider. It is created once per account and reused for every checkout.
type BillingCustomerLinked struct {
	Provider   string `json:"provider"`
	CustomerID string `json:"customer_id"`
	// EventID is the provider event that revealed the customer, when a
	// webhook did; empty when Media Luna created the customer itself.
	EventID string `json:"event_id,omitempty"`
}

// SubscriptionChanged records a subscription's state as one provider event
// reported it. Plan changes that follow from it are separate PlanChanged
// events, so every reader of plans keeps reading PlanChanged alone.
type SubscriptionChanged struct {
	Provider     string `json:"provider"`
	EventID      string `json:"event_id"`   // the provider's event id (evt_...): a redelivery is recognised by it
	ProviderType string `json:"event_type"` // the provider's event type, e.g. customer.subscription.updated
	// EventCreated is the provider's time of the event; events older than
	// the newest one applied are stale and ignored.
	EventCreated time.Time `json:"event_created"`
	// Provisional marks a state inferred from a completed checkout before
	// the subscription's own events arrive: those replace it whatever their
	// time, so it does not move EventCreated's watermark.
	Provisional       bool               `json:"provisional,omitempty"`
	CustomerID        string             `json:"customer_id"`
	SubscriptionID    string             `json:"subscription_id"`
	ProviderStatus    string             `json:"provider_status"` // the provider's own word: active, unpaid, incomplete...
	Status            SubscriptionStatus `json:"status"`
	Plan              Plan               `json:"plan,omitempty"` // the plan the subscription pays for
	PriceID           string             `json:"price_id,omitempty"`
	PeriodStart       *time.Time         `json:"current_period_start,omitempty"`
	PeriodEnd         *time.Time         `json:"current_period_end,omitempty"`
	TrialEnd          *time.Time         `json:"trial_end,omitempty"`
	CancelAtPeriodEnd bool               `json:"cancel_at_period_end"`
}

func (BillingCustomerLinked) EventType() string { return EvBillingCustomerLinked }
func (BillingCustomerLinked) EventVersion() int { return 1 }
func (SubscriptionChanged) EventType() string   { return EvSubscriptionChanged }
func (SubscriptionChanged) EventVersion() int   { return 1 }

// Billing is an account's subscription state, folded from its stream.
type Billing struct {
	Provider          string // "" until a provider event or checkout names one
	CustomerID        string
	SubscriptionID    string
	ProviderStatus    string
	Status            SubscriptionStatus
	Plan              Plan
	PriceID           string
	PeriodStart       *time.Time
	PeriodEnd         *time.Time
	TrialEnd          *time.Time
	CancelAtPeriodEnd bool
	// LastEventAt is the provider time of the newest non-provisional
	// subscription event applied: the watermark for out-of-order delivery.
	LastEventAt time.Time
	// Seen holds the provider event ids already recorded.
	Seen map[string]bool
}

func (b *Billing) apply(e Event) {
	if b.Seen == nil {
		b.Seen = map[string]bool{}
	}
	switch e := e.(type) {
	case *BillingCustomerLinked:
		b.Provider, b.CustomerID = e.Provider, e.CustomerID
		if e.EventID != "" {
			b.Seen[e.EventID] = true
		}
	case *SubscriptionChanged:
		b.Seen[e.EventID] = true
		b.Provider, b.SubscriptionID, b.ProviderStatus, b.Status = e.Provider, e.SubscriptionID, e.ProviderStatus, e.Status
		if e.CustomerID != "" {
			b.CustomerID = e.CustomerID
		}
		b.Plan, b.PriceID, b.PeriodStart, b.PeriodEnd, b.TrialEnd, b.CancelAtPeriodEnd = e.Plan, e.PriceID, e.PeriodStart, e.PeriodEnd, e.TrialEnd, e.CancelAtPeriodEnd
		if !e.Provisional && e.EventCreated.After(b.LastEventAt) {
			b.LastEventAt = e.EventCreated
		}
	}
}

// Live reports whether the account has a subscription that still bills or
// may bill: a new checkout would create a second one.
func (b Billing) Live() bool { return b.SubscriptionID != "" && subscriptionLive(b.ProviderStatus) }

// BillingEventKind says what a provider event is about.
type BillingEventKind int

const (
	// BillingSubscription: the subscription was created, updated or deleted
	// (Stripe customer.subscription.*). It carries the whole subscription.
	BillingSubscription BillingEventKind = iota + 1
	// BillingCheckoutCompleted: a checkout session finished (Stripe
	// checkout.session.completed). Status holds its payment status.
	BillingCheckoutCompleted
	// BillingPaymentFailed: an invoice of the subscription could not be
	// paid (Stripe invoice.payment_failed).
	BillingPaymentFailed
)

// ProviderEvent is a payment provider's notification, verified and parsed
// by its adapter into what the domain needs.
type ProviderEvent struct {
	Provider string
	ID       string // evt_...
	Type     string // the provider's event type
	Created  time.Time
	Kind     BillingEventKind
	// AccountID is the account the event names in its metadata or client
	// reference, 0 when it names none. The customer's link wins over it.
	AccountID      int64
	CustomerID     string
	SubscriptionID string
	// Status is the subscription's status (BillingSubscription) or the
	// checkout's payment status (BillingCheckoutCompleted).
	Status  string
	Plan    Plan   // the plan of the subscription's price, "" when no configured price matches
	PriceID string // the subscription's price
	// Period and trial of the subscription, when the event carries them.
	PeriodStart, PeriodEnd, TrialEnd *time.Time
	CancelAtPeriodEnd                bool
}

// subscriptionStatus maps a Stripe subscription status to the API's five.
func subscriptionStatus(raw string) SubscriptionStatus {
	switch raw {
	case "active":
		return SubscriptionActive
	case "trialing":
		return SubscriptionTrialing
	case "past_due", "unpaid", "paused":
		return SubscriptionPastDue
	case "canceled", "incomplete_expired":
		return SubscriptionCanceled
	}
	return SubscriptionNone // incomplete: the first payment has not gone through
}

// entitlement is the plan a subscription in status raw gives the account:
// its own plan while it is paid for or in its grace period (past_due:
// Stripe is retrying), FREE once it has ended or stopped being paid
// (unpaid, paused), and no change while the first payment is pending.
func entitlement(raw string, plan Plan) (Plan, bool) {
	switch raw {
	case "active", "trialing", "past_due":
		return plan, true
	case "canceled", "incomplete_expired", "unpaid", "paused":
		return PlanFree, true
	}
	return "", false
}

func subscriptionLive(raw string) bool {
	switch raw {
	case "", "canceled", "incomplete_expired":
		return false
	}
	return true
}

// stage orders the statuses a subscription passes through, for events the
// provider stamped with the same second: an earlier stage never replaces a
// later one.
func stage(raw string) int {
	switch raw {
	case "incomplete":
		return 0
	case "canceled", "incomplete_expired":
		return 2
	}
	return 1
}

// ApplyBilling decides what a provider event changes on the account. It is
// idempotent by event id (a redelivered event decides nothing) and orders
// by the provider's timestamps (an event older than the newest applied one
// decides nothing). note says why nothing was decided, for the logs and the
// webhook's answer. A subscription that must set a plan but whose price
// matches no configured plan is ErrInvalid: nothing is written, and the
// provider redelivers once the operator has configured the price.
func (a *Account) ApplyBilling(ev ProviderEvent) (events []Event, note string, err error) {
	b := a.Billing
	if ev.ID == "" {
		return nil, "", Errorf(ErrInvalid, "the event has no id")
	}
	if b.Seen[ev.ID] {
		return nil, "already processed", nil
	}
	if b.CustomerID != "" && ev.CustomerID != "" && ev.CustomerID != b.CustomerID {
		return nil, fmt.Sprintf("customer %s is not account %d's customer (%s)", ev.CustomerID, a.ID, b.CustomerID), nil
	}
	var out []Event
	if b.CustomerID == "" && ev.CustomerID != "" {
		out = append(out, &BillingCustomerLinked{Provider: ev.Provider, CustomerID: ev.CustomerID, EventID: ev.ID})
	}
	changed := SubscriptionChanged{Provider: ev.Provider, EventID: ev.ID, ProviderType: ev.Type, EventCreated: ev.Created.UTC(),
		CustomerID: ev.CustomerID, SubscriptionID: ev.SubscriptionID}
	switch ev.Kind {
	case BillingCheckoutCompleted:
		// The subscription's own events say more; this only fills the gap
		// until they arrive, so an upgrade applies as soon as it is paid.
		switch {
		case ev.SubscriptionID == "":
			note = "checkout without a subscription"
		case ev.SubscriptionID == b.SubscriptionID:
			note = "the subscription's own events already arrived"
		case ev.Created.Before(b.LastEventAt):
			note = "older than the last subscription event applied"
		case ev.Plan == "":
			note = "checkout names no plan"
		default:
			raw := "incomplete"
			if ev.Status == "paid" || ev.Status == "no_payment_required" {
				raw = "active"
			}
			changed.Provisional, changed.ProviderStatus, changed.Status, changed.Plan = true, raw, subscriptionStatus(raw), ev.Plan
			out = append(out, &changed)
			out = append(out, a.planFor(raw, ev.Plan, ev)...)
		}
	case BillingSubscription:
		switch {
		case ev.SubscriptionID == "":
			return nil, "", Errorf(ErrInvalid, "the subscription event has no subscription id")
		case ev.Created.Before(b.LastEventAt):
			return nil, "older than the last subscription event applied", nil
		case ev.SubscriptionID != b.SubscriptionID && b.Live() && !subscriptionLive(ev.Status):
			return nil, fmt.Sprintf("subscription %s ended, but the account's current one is %s", ev.SubscriptionID, b.SubscriptionID), nil
		case ev.SubscriptionID == b.SubscriptionID && ev.Created.Equal(b.LastEventAt) && stage(ev.Status) < stage(b.ProviderStatus):
			return nil, "same second as a later stage already applied", nil
		}
		if to, sets := entitlement(ev.Status, ev.Plan); sets && to == "" {
			return nil, "", Errorf(ErrInvalid, "subscription %s has price %q, which matches no plan configured on this server; configure it (e.g. --stripe-price-pro) and the provider's retry will apply it", ev.SubscriptionID, ev.PriceID)
		}
		changed.ProviderStatus, changed.Status, changed.Plan, changed.PriceID = ev.Status, subscriptionStatus(ev.Status), ev.Plan, ev.PriceID
		changed.PeriodStart, changed.PeriodEnd, changed.TrialEnd, changed.CancelAtPeriodEnd = utcPtr(ev.PeriodStart), utcPtr(ev.PeriodEnd), utcPtr(ev.TrialEnd), ev.CancelAtPeriodEnd
		out = append(out, &changed)
		out = append(out, a.planFor(ev.Status, ev.Plan, ev)...)
	case BillingPaymentFailed:
		switch {
		case ev.SubscriptionID == "" || ev.SubscriptionID != b.SubscriptionID:
			note = "not the account's current subscription"
		case ev.Created.Before(b.LastEventAt):
			note = "older than the last subscription event applied"
		case b.ProviderStatus != "active" && b.ProviderStatus != "trialing":
			note = "the subscription is " + b.ProviderStatus
		default:
			// The subscription keeps its plan while the provider retries.
			changed.ProviderStatus, changed.Status, changed.Plan, changed.PriceID = "past_due", SubscriptionPastDue, b.Plan, b.PriceID
			changed.PeriodStart, changed.PeriodEnd, changed.TrialEnd, changed.CancelAtPeriodEnd = b.PeriodStart, b.PeriodEnd, b.TrialEnd, b.CancelAtPeriodEnd
			if changed.CustomerID == "" {
				changed.CustomerID = b.CustomerID
			}
			out = append(out, &changed)
		}
	default:
		return nil, "", Errorf(ErrInvalid, "unknown billing event kind %d", ev.Kind)
	}
	if len(out) == 0 && note == "" {
		note = "nothing to change"
	}
	return out, note, nil
}

// planFor returns the PlanChanged that a subscription in status raw for
// plan implies, if any.
func (a *Account) planFor(raw string, plan Plan, ev ProviderEvent) []Event {
	to, sets := entitlement(raw, plan)
	if !sets || to == a.Plan {
		return nil
	}
	if _, ok := LimitsOf(to); !ok {
		return nil
	}
	return []Event{&PlanChanged{From: a.Plan, To: to, Reason: fmt.Sprintf("%s subscription %s is %s (%s)", ev.Provider, ev.SubscriptionID, raw, ev.ID)}}
}

// LinkCustomer decides the event that remembers the account's customer at
// provider, unless one is already linked.
func (a *Account) LinkCustomer(provider, customerID string) []Event {
	if a.Billing.CustomerID != "" || customerID == "" {
		return nil
	}
	return []Event{&BillingCustomerLinked{Provider: provider, CustomerID: customerID}}
}

// CanCheckout refuses a checkout for plan when it would be pointless or
// create a second subscription.
func (a *Account) CanCheckout(plan Plan) error {
	if _, ok := LimitsOf(plan); !ok {
		return Invalid("plan", "enum", "plan must be one of STARTER, PRO, ENTERPRISE")
	}
	if plan == PlanFree {
		return Invalid("plan", "value_error", "FREE needs no checkout; to leave a paid plan, cancel the subscription in the billing portal (POST /api/billing/portal)")
	}
	if a.Billing.Live() {
		return Errorf(ErrConflict, "this account already has a subscription (%s, %s); change or cancel it in the billing portal (POST /api/billing/portal)", a.Billing.SubscriptionID, a.Billing.ProviderStatus)
	}
	return nil
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil || t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}
