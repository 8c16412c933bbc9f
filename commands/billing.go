package commands

import (
	"context"
	"fmt"

	"github.com/medialuna/medialuna/domain"
)

// Payments is the payment provider's API (Stripe). Every method returns
// ErrUpstream when the provider cannot be reached or refuses the call.
type Payments interface {
	// Provider names the provider, e.g. domain.ProviderStripe.
	Provider() string
	// Sells reports (as ErrInvalid) a plan this server cannot sell, before
	// anything is created for a checkout that would fail.
	Sells(plan domain.Plan) error
	// CreateCustomer creates the account's customer and returns its id.
	// Calls for the same account return the same customer, so a retry
	// never leaves a second one behind.
	CreateCustomer(ctx context.Context, c NewCustomer) (string, error)
	// CreateCheckout starts a hosted checkout of a subscription to c.Plan
	// and returns the page to send the user to. ErrInvalid when the plan
	// has no price configured.
	CreateCheckout(ctx context.Context, c NewCheckout) (string, error)
	// CreatePortal returns a billing-portal page where the customer
	// manages their subscription, payment methods and invoices.
	CreatePortal(ctx context.Context, customerID, returnURL string) (string, error)
}

// NewCustomer is a customer to create for an account.
type NewCustomer struct {
	AccountID int64
	Name      string
	Email     string
}

// NewCheckout is a checkout to start.
type NewCheckout struct {
	AccountID  int64
	CustomerID string
	Plan       domain.Plan
	SuccessURL string
	CancelURL  string
}

// BillingDirectory finds whose a provider's customer is.
type BillingDirectory interface {
	// AccountByCustomer returns the account whose customer is customerID;
	// ErrNotFound when none is.
	AccountByCustomer(ctx context.Context, customerID string) (int64, error)
}

// StartCheckout starts a checkout of a subscription to Plan.
type StartCheckout struct {
	Actor      Actor
	Email      string // the acting admin's address, for the new customer
	Plan       string
	SuccessURL string
	CancelURL  string
}

// OpenPortal opens the billing portal for the actor's account.
type OpenPortal struct {
	Actor     Actor
	ReturnURL string
}

// BillingResult says what a provider event did.
type BillingResult struct {
	AccountID int64
	Note      string // why nothing changed, when nothing did
	Position  domain.Position
}

// ErrBillingByOperator answers checkouts and portals on a server without a
// payment provider.
var ErrBillingByOperator = domain.Errorf(domain.ErrNotEnabled,
	"billing is managed by the operator: medialuna accounts set-plan (this server has no Stripe secret key configured)")

// StartCheckoutHandler handles StartCheckout.
type StartCheckoutHandler struct {
	store    domain.EventStore
	now      Clock
	payments Payments
}

// NewStartCheckoutHandler returns a handler. payments is nil when no
// provider is configured: plans are then set by the operator alone.
func NewStartCheckoutHandler(store domain.EventStore, now Clock, payments Payments) *StartCheckoutHandler {
	return &StartCheckoutHandler{store: store, now: now, payments: payments}
}

// Handle creates the account's customer the first time and remembers it
// as an event, then starts the checkout and returns the page to send the
// user to. The position is that of the customer's link, when this call
// made it. Errors: ErrNotEnabled (ErrBillingByOperator) without a payment
// provider.
func (h *StartCheckoutHandler) Handle(ctx context.Context, cmd StartCheckout) (string, domain.Position, error) {
	if h.payments == nil {
		return "", domain.Position{}, ErrBillingByOperator
	}
	plan := domain.Plan(cmd.Plan)
	var customerID string
	pos, err := decideAccount(ctx, h.store, h.now, cmd.Actor, cmd.Actor.AccountID, func(acc *domain.Account) ([]domain.Event, error) {
		if err := acc.CanCheckout(plan); err != nil {
			return nil, err
		}
		if err := h.payments.Sells(plan); err != nil {
			return nil, err // refused before a customer is created or linked
		}
		if acc.Billing.CustomerID != "" {
			customerID = acc.Billing.CustomerID
			return nil, nil
		}
		id, err := h.payments.CreateCustomer(ctx, NewCustomer{AccountID: acc.ID, Name: acc.Name, Email: cmd.Email})
		if err != nil {
			return nil, err
		}
		customerID = id
		return acc.LinkCustomer(h.payments.Provider(), id), nil
	})
	if err != nil {
		return "", domain.Position{}, err
	}
	url, err := h.payments.CreateCheckout(ctx, NewCheckout{AccountID: cmd.Actor.AccountID, CustomerID: customerID, Plan: plan,
		SuccessURL: cmd.SuccessURL, CancelURL: cmd.CancelURL})
	return url, pos, err
}

// OpenPortalHandler handles OpenPortal.
type OpenPortalHandler struct {
	store    domain.EventStore
	payments Payments
}

// NewOpenPortalHandler returns a handler; payments is nil when no provider
// is configured.
func NewOpenPortalHandler(store domain.EventStore, payments Payments) *OpenPortalHandler {
	return &OpenPortalHandler{store: store, payments: payments}
}

// Handle returns the portal page of the account's customer. Errors:
// ErrNotEnabled (ErrBillingByOperator) without a payment provider,
// ErrConflict when the account has no customer yet.
func (h *OpenPortalHandler) Handle(ctx context.Context, cmd OpenPortal) (string, error) {
	if h.payments == nil {
		return "", ErrBillingByOperator
	}
	acc := domain.NewAccount()
	if _, err := load(ctx, h.store, domain.AccountStream(cmd.Actor.AccountID), acc); err != nil {
		return "", err
	}
	if !acc.Exists() {
		return "", domain.Errorf(domain.ErrNotFound, "account not found")
	}
	if acc.Billing.CustomerID == "" {
		return "", domain.Errorf(domain.ErrConflict, "this account has no billing customer yet; subscribe first with POST /api/billing/checkout")
	}
	return h.payments.CreatePortal(ctx, acc.Billing.CustomerID, cmd.ReturnURL)
}

// ApplyProviderEvent records a verified payment provider event (a webhook).
type ApplyProviderEvent struct {
	Event domain.ProviderEvent
}

// ApplyProviderEventHandler handles ApplyProviderEvent.
type ApplyProviderEventHandler struct {
	store domain.EventStore
	now   Clock
	dir   BillingDirectory
}

// NewApplyProviderEventHandler returns a handler.
func NewApplyProviderEventHandler(store domain.EventStore, now Clock, dir BillingDirectory) *ApplyProviderEventHandler {
	return &ApplyProviderEventHandler{store: store, now: now, dir: dir}
}

// Handle records what the event changes on the account it concerns: the
// account whose customer it names, else the account its metadata names.
// An event for no known account changes nothing.
func (h *ApplyProviderEventHandler) Handle(ctx context.Context, cmd ApplyProviderEvent) (BillingResult, error) {
	ev := cmd.Event
	res := BillingResult{AccountID: ev.AccountID}
	if ev.CustomerID != "" {
		id, err := h.dir.AccountByCustomer(ctx, ev.CustomerID)
		switch domain.ErrorCode(err) {
		case "":
			res.AccountID = id
		case domain.ErrNotFound:
		default:
			return res, err
		}
	}
	if res.AccountID == 0 {
		res.Note = "no account has customer " + ev.CustomerID
		return res, nil
	}
	actor := Actor{Type: domain.ActorSystem, AccountID: res.AccountID, CorrelationID: ev.Provider + ":" + ev.ID}
	pos, err := decideAccount(ctx, h.store, h.now, actor, res.AccountID, func(acc *domain.Account) ([]domain.Event, error) {
		events, note, err := acc.ApplyBilling(ev)
		res.Note = note
		return events, err
	})
	if domain.ErrorCode(err) == domain.ErrNotFound {
		res.Note = fmt.Sprintf("the event names account %d, which does not exist", res.AccountID)
		return res, nil
	}
	res.Position = pos
	return res, err
}
