package httpapi

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
)

// Account and billing: the account's name and time zone (ADMINs change
// them through UpdateAccount, as PATCH /api/v1/account does), the plan
// and the usage of every limit (usageOf, GET /api/billing/usage's
// source), the subscription (subscriptionOf), and Upgrade and Manage
// billing through the commands behind /api/billing/checkout and
// /api/billing/portal; without a payment provider, the operator's
// instruction instead.

func (s *Server) uiAccountRoutes() {
	s.uiRoute("GET", "/settings/account", domain.RoleViewer, s.uiAccount)
	s.uiRoute("POST", "/settings/account", domain.RoleAdmin, s.uiUpdateAccount)
	s.uiRoute("POST", "/settings/account/checkout", domain.RoleAdmin, s.uiCheckout)
	s.uiRoute("POST", "/settings/account/portal", domain.RoleAdmin, s.uiPortal)
}

// uiLimitBar is one limit and how much of it is used.
type uiLimitBar struct {
	ID, Label string
	Used      int
	Limit     int // 0 with Unlimited
	Unlimited bool
	Over      bool
	Note      string
}

type uiPlanChoice struct {
	Plan  string
	Label string // "Pro, $49.00 a month"
}

type uiAccountData struct {
	ID             int64
	Name, Timezone string // as typed, after a refusal
	Plan           domain.PlanLimits
	Price          string // "$49.00", "" for free
	Bars           []uiLimitBar
	Rates          []string // the plan's limits that are not counts
	Sub            subscriptionView
	SubState       string // a sentence on the subscription
	BillingEnabled bool
	Operator       string // the operator's instruction, without billing
	Choices        []uiPlanChoice
	Chosen         string
	HasCustomer    bool
	Zones          []string
}

// commonZones are suggested in the time zone field (any IANA name works).
var commonZones = []string{"UTC", "Europe/London", "Europe/Madrid", "Europe/Berlin", "Europe/Paris", "America/New_York",
	"America/Chicago", "America/Denver", "America/Los_Angeles", "America/Sao_Paulo", "Asia/Tokyo", "Asia/Kolkata",
	"Asia/Singapore", "Australia/Sydney", "Africa/Johannesburg"}

func limitBar(id, label string, it usageItem, note string) uiLimitBar {
	b := uiLimitBar{ID: id, Label: label, Used: it.Used, Unlimited: it.Limit == nil, Over: it.OverLimit, Note: note}
	if it.Limit != nil {
		b.Limit = *it.Limit
	}
	return b
}

func money(cents int) string {
	return "$" + strconv.Itoa(cents/100) + "." + strconv.Itoa(cents%100/10) + strconv.Itoa(cents%10)
}

func (s *Server) accountData(r *http.Request, v *viewer) (uiAccountData, error) {
	acc, err := s.deps.Queries.Account(r.Context(), v.AccountID)
	if err != nil {
		return uiAccountData{}, err
	}
	u, err := s.usageOf(r.Context(), v.AccountID)
	if err != nil {
		return uiAccountData{}, err
	}
	sub, err := s.subscriptionOf(r.Context(), v.AccountID)
	if err != nil {
		return uiAccountData{}, err
	}
	plan, _ := domain.LimitsOf(domain.Plan(u.Plan))
	d := uiAccountData{ID: acc.ID, Name: acc.Name, Timezone: acc.Timezone, Plan: plan, Sub: sub, BillingEnabled: sub.BillingEnabled,
		HasCustomer: sub.CustomerID != nil, Zones: commonZones}
	if plan.PriceMonthlyCents > 0 {
		d.Price = money(plan.PriceMonthlyCents)
	}
	invites := ""
	if u.Users.PendingInvites > 0 {
		invites = plural(u.Users.PendingInvites, "pending invitation") + " also holding a seat"
	}
	d.Bars = []uiLimitBar{
		limitBar("monitors", "Monitors", u.Monitors, ""),
		limitBar("users", "Team members", u.Users.usageItem, invites),
		limitBar("status-pages", "Status pages", u.StatusPages, ""),
		limitBar("api-keys", "API keys", u.APIKeys, "active keys"),
		limitBar("regions", "Regions per monitor", u.Regions, "the most any one monitor uses"),
	}
	d.Rates = append(d.Rates, "Checks at most every "+strconv.Itoa(u.MinCheckInterval)+" s")
	if u.RequestsPerMinute == nil {
		d.Rates = append(d.Rates, "No limit on API requests per minute")
	} else {
		d.Rates = append(d.Rates, strconv.Itoa(*u.RequestsPerMinute)+" API requests per minute")
	}
	d.SubState = subscriptionSentence(sub)
	if !d.BillingEnabled {
		msg := domain.ErrorMessage(commands.ErrBillingByOperator)
		d.Operator = strings.ToUpper(msg[:1]) + msg[1:]
	}
	for _, p := range domain.Plans() {
		if p.Plan != domain.PlanFree && p.Plan != domain.Plan(u.Plan) {
			d.Choices = append(d.Choices, uiPlanChoice{Plan: string(p.Plan), Label: p.DisplayName + ", " + money(p.PriceMonthlyCents) + " a month"})
		}
	}
	return d, nil
}

func day(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format("2 January 2006")
}

// subscriptionSentence says the subscription's state in words.
func subscriptionSentence(sub subscriptionView) string {
	if sub.Provider == domain.ProviderManual {
		if sub.Status == string(domain.SubscriptionNone) {
			return "No subscription: the account is on the free plan."
		}
		return "The plan was set by this server's operator; there is no subscription to manage."
	}
	s := "Subscription " + strings.ReplaceAll(sub.Status, "_", " ")
	if sub.ProviderStatus != nil && *sub.ProviderStatus != sub.Status {
		s += " (" + sub.Provider + ": " + strings.ReplaceAll(*sub.ProviderStatus, "_", " ") + ")"
	}
	switch {
	case sub.CancelAtPeriodEnd && sub.CurrentPeriodEnd != nil:
		s += "; it ends on " + day(sub.CurrentPeriodEnd) + " and is not renewed"
	case sub.RenewsAt != nil:
		s += "; it renews on " + day(sub.RenewsAt)
	}
	if sub.TrialEnd != nil && sub.Status == string(domain.SubscriptionTrialing) {
		s += "; the trial ends on " + day(sub.TrialEnd)
	}
	return s + "."
}

func (s *Server) renderAccount(w http.ResponseWriter, r *http.Request, v *viewer, status int, errs map[string]string, typed func(*uiAccountData)) error {
	d, err := s.accountData(r, v)
	if err != nil {
		return err
	}
	if typed != nil {
		typed(&d)
	}
	return s.render(w, r, status, "account", uiPage{Title: "Account and billing", Nav: "settings", Sub: "account", Viewer: v, Errors: errs, Data: d})
}

func (s *Server) uiAccount(w http.ResponseWriter, r *http.Request, v *viewer) error {
	var errs map[string]string
	switch r.URL.Query().Get("checkout") {
	case "canceled":
		errs = map[string]string{"": "Checkout was canceled; your plan did not change."}
	}
	return s.renderAccount(w, r, v, http.StatusOK, errs, nil)
}

func (s *Server) uiUpdateAccount(w http.ResponseWriter, r *http.Request, v *viewer) error {
	name, zone := r.PostForm.Get("name"), strings.TrimSpace(r.PostForm.Get("timezone"))
	pos, err := s.deps.UpdateAccount.Handle(r.Context(), commands.UpdateAccount{Actor: v.actor(r), Name: &name, Timezone: &zone})
	if err != nil {
		errs, ok := formErrors(err)
		if !ok {
			return err
		}
		if errs[""] == "" {
			errs[""] = "The account was not saved: correct the fields marked below."
		}
		return s.renderAccount(w, r, v, statusOf(domain.ErrorCode(err)), errs, func(d *uiAccountData) { d.Name, d.Timezone = name, zone })
	}
	s.settleUI(w, r, pos, "Account saved.")
	return redirect(w, r, "/settings/account")
}

// billingRefused shows the account page with a billing command's refusal.
func (s *Server) billingRefused(w http.ResponseWriter, r *http.Request, v *viewer, chosen string, err error) error {
	status := statusOf(domain.ErrorCode(err))
	if status == http.StatusInternalServerError {
		return err
	}
	msg := domain.ErrorMessage(err)
	if status == http.StatusBadGateway {
		msg = "The payment provider could not be reached or refused the request; try again in a moment."
	}
	errs := map[string]string{"": msg}
	if domain.ErrorCode(err) == domain.ErrInvalid {
		errs = map[string]string{"": "The plan was not changed.", "plan": msg}
		if f, ok := formErrors(err); ok && f["plan"] != "" {
			errs["plan"] = f["plan"]
		}
	}
	return s.renderAccount(w, r, v, status, errs, func(d *uiAccountData) { d.Chosen = chosen })
}

// accountReturn is the account page's address, for Stripe to send the
// browser back to.
func (s *Server) accountReturn(result string) string {
	base := strings.TrimRight(s.deps.BaseURL, "/")
	if base == "" {
		base = strings.TrimRight(s.deps.BillingReturnURL, "/")
		if i := strings.Index(base, "://"); i > 0 {
			if j := strings.Index(base[i+3:], "/"); j >= 0 {
				base = base[:i+3+j]
			}
		}
	}
	u := base + "/settings/account"
	if result != "" {
		u += "?checkout=" + result
	}
	return u
}

// uiFollow is the page that sends the browser on to the payment
// provider: a form's redirect to another site would break the
// dashboard's form-action 'self', so the page follows a link (app.js),
// and without script the person does.
type uiFollow struct {
	URL, Heading, Link string
}

// providerLink checks the address a billing command returned before the
// page hands the browser to it: only an absolute https URL, as Stripe's
// are, is followed; anything else is the provider failing (502).
func providerLink(link string) (string, error) {
	u, err := url.Parse(link)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
		return "", domain.Errorf(domain.ErrUpstream, "the payment provider returned an address that is not an https URL")
	}
	return u.String(), nil
}

func (s *Server) uiCheckout(w http.ResponseWriter, r *http.Request, v *viewer) error {
	plan := strings.ToUpper(strings.TrimSpace(r.PostForm.Get("plan")))
	if !s.billingEnabled() {
		return s.billingRefused(w, r, v, plan, commands.ErrBillingByOperator)
	}
	if plan == "" {
		return s.billingRefused(w, r, v, plan, domain.Invalid("plan", "missing", "choose a plan"))
	}
	u, err := s.deps.Queries.User(r.Context(), v.AccountID, v.UserID)
	if err != nil {
		return err
	}
	link, pos, err := s.deps.StartCheckout.Handle(r.Context(), commands.StartCheckout{Actor: v.actor(r), Email: u.Email, Plan: plan,
		SuccessURL: s.accountReturn("success"), CancelURL: s.accountReturn("canceled")})
	// As the API does: the new customer's link must be in the read models
	// before Stripe's first webhook asks whose it is.
	s.settle(r, pos)
	if err == nil {
		link, err = providerLink(link)
	}
	if err != nil {
		return s.billingRefused(w, r, v, plan, err)
	}
	return s.render(w, r, http.StatusOK, "account_follow", uiPage{Title: "Checkout", Nav: "settings", Sub: "account", Viewer: v,
		Data: uiFollow{URL: link, Heading: "Taking you to Stripe Checkout", Link: "Continue to Stripe Checkout"}})
}

func (s *Server) uiPortal(w http.ResponseWriter, r *http.Request, v *viewer) error {
	if !s.billingEnabled() {
		return s.billingRefused(w, r, v, "", commands.ErrBillingByOperator)
	}
	link, err := s.deps.OpenPortal.Handle(r.Context(), commands.OpenPortal{Actor: v.actor(r), ReturnURL: s.accountReturn("")})
	if err == nil {
		link, err = providerLink(link)
	}
	if err != nil {
		return s.billingRefused(w, r, v, "", err)
	}
	return s.render(w, r, http.StatusOK, "account_follow", uiPage{Title: "Billing", Nav: "settings", Sub: "account", Viewer: v,
		Data: uiFollow{URL: link, Heading: "Taking you to the billing portal", Link: "Continue to the billing portal"}})
}
