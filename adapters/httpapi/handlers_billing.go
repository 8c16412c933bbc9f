package httpapi

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
)

// BillingWebhook verifies and parses a payment provider's webhooks.
type BillingWebhook interface {
	// ParseWebhook checks payload against its signature header and parses
	// it. ok is false for event types billing does not use. Any error
	// means the request is not a genuine, readable provider event.
	ParseWebhook(payload []byte, signature string) (ev domain.ProviderEvent, ok bool, err error)
}

// usageItem is one counted resource against its limit (null: unlimited).
type usageItem struct {
	Used      int  `json:"used"`
	Limit     *int `json:"limit"`
	OverLimit bool `json:"over_limit"`
}

func item(used, limit int) usageItem {
	return usageItem{Used: used, Limit: limitOrNull(limit), OverLimit: limit != domain.Unlimited && used > limit}
}

// usersItem is the user count, with the invitations holding seats.
type usersItem struct {
	usageItem
	PendingInvites int `json:"pending_invites"`
}

// usageReport is GET /api/billing/usage, and what the dashboard's account
// page shows as bars.
type usageReport struct {
	Plan              string    `json:"plan"`
	Monitors          usageItem `json:"monitors"`
	Users             usersItem `json:"users"`
	Regions           usageItem `json:"regions"`
	StatusPages       usageItem `json:"status_pages"`
	APIKeys           usageItem `json:"api_keys"`
	MinCheckInterval  int       `json:"min_check_interval"`
	RequestsPerMinute *int      `json:"requests_per_minute"`
	Limits            planView  `json:"limits"`
}

func (s *Server) usageOf(ctx context.Context, accountID int64) (usageReport, error) {
	acc, err := s.deps.Queries.Account(ctx, accountID)
	if err != nil {
		return usageReport{}, err
	}
	u, err := s.deps.Queries.Usage(ctx, accountID, s.deps.Now())
	if err != nil {
		return usageReport{}, err
	}
	l, _ := domain.LimitsOf(domain.Plan(acc.Plan))
	l = l.WithIntervalFloor(s.deps.MinCheckInterval)
	users := usersItem{item(u.Users, l.MaxUsers), u.PendingInvites}
	// Pending invitations hold a seat until they expire.
	users.OverLimit = l.MaxUsers != domain.Unlimited && u.Users+u.PendingInvites > l.MaxUsers
	return usageReport{Plan: acc.Plan, Monitors: item(u.Monitors, l.MaxMonitors), Users: users, Regions: item(u.Regions, l.MaxRegions),
		StatusPages: item(u.StatusPages, l.MaxStatusPages), APIKeys: item(u.APIKeys, l.MaxAPIKeys),
		MinCheckInterval: l.MinCheckIntervalSecs, RequestsPerMinute: limitOrNull(l.RequestsPerMinute), Limits: viewPlan(l)}, nil
}

func (s *Server) billingUsage(w http.ResponseWriter, r *http.Request, p *principal) error {
	u, err := s.usageOf(r.Context(), p.AccountID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

// subscriptionView is GET /api/billing/subscription.
type subscriptionView struct {
	Plan               string     `json:"plan"`
	Status             string     `json:"status"`
	Provider           string     `json:"provider"`
	ProviderStatus     *string    `json:"provider_status"`
	CurrentPeriodStart *time.Time `json:"current_period_start"`
	CurrentPeriodEnd   *time.Time `json:"current_period_end"`
	CancelAtPeriodEnd  bool       `json:"cancel_at_period_end"`
	RenewsAt           *time.Time `json:"renews_at"`
	TrialEnd           *time.Time `json:"trial_end"`
	CustomerID         *string    `json:"customer_id"`
	SubscriptionID     *string    `json:"subscription_id"`
	BillingEnabled     bool       `json:"billing_enabled"`
	UpdatedAt          *time.Time `json:"updated_at"`
}

func strOrNull(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (s *Server) subscriptionOf(ctx context.Context, accountID int64) (subscriptionView, error) {
	sub, err := s.deps.Queries.Subscription(ctx, accountID)
	if err != nil {
		return subscriptionView{}, err
	}
	v := subscriptionView{Plan: sub.Plan, BillingEnabled: s.billingEnabled(), CustomerID: strOrNull(sub.CustomerID)}
	// A Stripe subscription speaks for the account while it lives, and
	// after it ended as long as the account is back on FREE. A paid plan
	// without one was set by the operator.
	if sub.SubscriptionID != "" && (sub.Status != string(domain.SubscriptionCanceled) || sub.Plan == string(domain.PlanFree)) {
		v.Provider, v.Status, v.ProviderStatus = sub.Provider, sub.Status, strOrNull(sub.ProviderStatus)
		v.CurrentPeriodStart, v.CurrentPeriodEnd, v.TrialEnd = sub.PeriodStart, sub.PeriodEnd, sub.TrialEnd
		v.CancelAtPeriodEnd, v.SubscriptionID, v.UpdatedAt = sub.CancelAtPeriodEnd, strOrNull(sub.SubscriptionID), sub.UpdatedAt
		switch domain.SubscriptionStatus(sub.Status) {
		case domain.SubscriptionActive, domain.SubscriptionTrialing, domain.SubscriptionPastDue:
			if !sub.CancelAtPeriodEnd {
				v.RenewsAt = sub.PeriodEnd
			}
		}
	} else {
		v.Provider, v.Status = domain.ProviderManual, string(domain.SubscriptionNone)
		if sub.Plan != string(domain.PlanFree) {
			v.Status = string(domain.SubscriptionActive)
		}
	}
	return v, nil
}

func (s *Server) billingSubscription(w http.ResponseWriter, r *http.Request, p *principal) error {
	v, err := s.subscriptionOf(r.Context(), p.AccountID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// redirectURL validates an optional absolute http(s) URL from the body,
// or builds the default from the configured return URL.
func (s *Server) redirectURL(field string, given *string, query string) (string, error) {
	if given != nil {
		u, err := url.Parse(*given)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "", domain.Invalid(field, "value_error.url", "%s must be an absolute http:// or https:// URL", field)
		}
		return *given, nil
	}
	u, err := url.Parse(s.deps.BillingReturnURL)
	if err != nil {
		return s.deps.BillingReturnURL, nil
	}
	if query != "" {
		q := u.Query()
		q.Set("checkout", query)
		u.RawQuery = q.Encode()
	}
	return u.String(), nil
}

func (s *Server) billingCheckout(w http.ResponseWriter, r *http.Request, p *principal) error {
	if !s.billingEnabled() {
		return commands.ErrBillingByOperator
	}
	var body struct {
		Plan       *string `json:"plan"`
		SuccessURL *string `json:"success_url"`
		CancelURL  *string `json:"cancel_url"`
	}
	if err := decode(r, &body); err != nil {
		return err
	}
	var v domain.Validation
	required(&v, "plan", body.Plan)
	success, err := s.redirectURL("success_url", body.SuccessURL, "success")
	if err != nil {
		return err
	}
	cancel, err := s.redirectURL("cancel_url", body.CancelURL, "canceled")
	if err != nil {
		return err
	}
	if err := v.Err(); err != nil {
		return err
	}
	plan := strings.ToUpper(strings.TrimSpace(*body.Plan))
	u, err := s.deps.Queries.User(r.Context(), p.AccountID, p.UserID)
	if err != nil {
		return err
	}
	link, pos, err := s.deps.StartCheckout.Handle(r.Context(), commands.StartCheckout{Actor: p.actor(r), Email: u.Email, Plan: plan,
		SuccessURL: success, CancelURL: cancel})
	// A new customer's link is in the log even when the checkout failed:
	// wait until the read models have it, so the customer's first webhook
	// finds its account.
	s.settle(r, pos)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"url": link, "plan": plan})
	return nil
}

func (s *Server) billingPortal(w http.ResponseWriter, r *http.Request, p *principal) error {
	if !s.billingEnabled() {
		return commands.ErrBillingByOperator
	}
	var body struct {
		ReturnURL *string `json:"return_url"`
	}
	raw, err := readBody(r)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := decodeBytes(raw, &body); err != nil {
			return err
		}
	}
	ret, err := s.redirectURL("return_url", body.ReturnURL, "")
	if err != nil {
		return err
	}
	link, err := s.deps.OpenPortal.Handle(r.Context(), commands.OpenPortal{Actor: p.actor(r), ReturnURL: ret})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"url": link})
	return nil
}

// stripeWebhook receives Stripe's events. The signature is the only
// credential: without a valid one nothing is read, written or revealed.
func (s *Server) stripeWebhook(w http.ResponseWriter, r *http.Request, _ *principal) error {
	if s.deps.StripeWebhook == nil {
		return domain.Errorf(domain.ErrNotEnabled, "Stripe webhooks are not configured on this server (--stripe-secret-key and --stripe-webhook-secret)")
	}
	payload, err := readOpaqueBody(r)
	if err != nil {
		return err
	}
	ev, ok, err := s.deps.StripeWebhook.ParseWebhook(payload, r.Header.Get("Stripe-Signature"))
	if err != nil {
		s.deps.Log.Warn("Stripe webhook refused", "err", err, "request_id", requestID(r))
		if domain.ErrorCode(err) == domain.ErrNotEnabled {
			return err
		}
		return badRequest("Stripe webhook refused: %s", err.Error())
	}
	if !ok {
		writeJSON(w, http.StatusOK, map[string]any{"received": true, "applied": false, "note": "event type " + ev.Type + " is not used"})
		return nil
	}
	res, err := s.deps.ApplyProviderEvent.Handle(r.Context(), commands.ApplyProviderEvent{Event: ev})
	if err != nil {
		s.deps.Log.Warn("Stripe event not applied", "event", ev.ID, "type", ev.Type, "err", err)
		return err
	}
	s.settle(r, res.Position)
	applied := res.Position != (domain.Position{})
	s.deps.Log.Info("Stripe event", "event", ev.ID, "type", ev.Type, "account_id", res.AccountID, "applied", applied, "note", res.Note)
	out := map[string]any{"received": true, "applied": applied}
	if res.AccountID != 0 {
		out["account_id"] = res.AccountID
	}
	if res.Note != "" {
		out["note"] = res.Note
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// billingEnabled reports whether Checkout and the portal work: main wires
// their commands only when a payment provider is configured.
func (s *Server) billingEnabled() bool {
	return s.deps.StartCheckout != nil && s.deps.OpenPortal != nil
}
