package commands_test

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/medialuna/medialuna/adapters/postgres"
	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/test/testdb"
)

// fakePayments is a provider whose customer creation is idempotent per
// account, as Stripe's is with an idempotency key.
type fakePayments struct {
	customers atomic.Int64
	checkouts atomic.Int64
}

func (f *fakePayments) Provider() string { return domain.ProviderStripe }
func (f *fakePayments) Sells(plan domain.Plan) error {
	if plan == domain.PlanEnterprise {
		return domain.Invalid("plan", "value_error", "plan ENTERPRISE is not sold here")
	}
	return nil
}
func (f *fakePayments) CreateCustomer(ctx context.Context, c commands.NewCustomer) (string, error) {
	f.customers.Add(1)
	time.Sleep(5 * time.Millisecond) // let concurrent checkouts overlap
	return "cus_" + itoa(c.AccountID), nil
}
func (f *fakePayments) CreateCheckout(ctx context.Context, c commands.NewCheckout) (string, error) {
	f.checkouts.Add(1)
	return "https://checkout.test/" + c.CustomerID + "/" + string(c.Plan), nil
}
func (f *fakePayments) CreatePortal(ctx context.Context, customerID, returnURL string) (string, error) {
	return "https://portal.test/" + customerID, nil
}

type noDirectory struct{}

func (noDirectory) AccountByCustomer(ctx context.Context, customerID string) (int64, error) {
	return 0, domain.Errorf(domain.ErrNotFound, "customer not found")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestConcurrentCheckoutsLinkOneCustomer starts several checkouts for one
// account at once: every one gets a checkout for the same customer, and
// the account's stream links it once.
func TestConcurrentCheckoutsLinkOneCustomer(t *testing.T) {
	db := testdb.New(t)
	store := postgres.NewEventStore(db.DB, db.URL, testdb.Logger(t))
	ctx := context.Background()
	signup := commands.NewSignupHandler(store, postgres.NewIDs(db.DB), time.Now)
	res, err := signup.Handle(ctx, commands.Signup{Email: "o@example.com", Password: "correct horse battery", AccountName: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	actor := commands.Actor{Type: domain.ActorUser, ID: res.UserID, AccountID: res.AccountID}

	pay := &fakePayments{}
	checkout := commands.NewStartCheckoutHandler(store, time.Now, pay)
	portal := commands.NewOpenPortalHandler(store, pay)
	// A plan the server does not sell is refused before anything is
	// created: no customer at the provider, no event on the account.
	if _, _, err := checkout.Handle(ctx, commands.StartCheckout{Actor: actor, Email: "o@example.com", Plan: "ENTERPRISE"}); domain.ErrorCode(err) != domain.ErrInvalid {
		t.Fatalf("checkout of an unsold plan: %v, want invalid", err)
	}
	if before, _ := store.ReadStream(ctx, domain.AccountStream(res.AccountID)); pay.customers.Load() != 0 || len(before) != 2 {
		t.Fatalf("a refused checkout created %d customers and left %d events on the account", pay.customers.Load(), len(before))
	}
	var wg sync.WaitGroup
	urls := make(chan string, 5)
	for range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u, _, err := checkout.Handle(ctx, commands.StartCheckout{Actor: actor, Email: "o@example.com", Plan: "PRO"})
			if err != nil {
				t.Error(err)
			}
			urls <- u
		}()
	}
	wg.Wait()
	close(urls)
	want := "https://checkout.test/cus_" + itoa(res.AccountID) + "/PRO"
	for u := range urls {
		if u != want {
			t.Errorf("checkout url %q, want %q", u, want)
		}
	}
	recs, err := store.ReadStream(ctx, domain.AccountStream(res.AccountID))
	if err != nil {
		t.Fatal(err)
	}
	links := 0
	for _, r := range recs {
		if r.Type == "BillingCustomerLinked" {
			links++
		}
	}
	if links != 1 || pay.checkouts.Load() != 5 {
		t.Errorf("%d customer links (want 1), %d checkouts (want 5), %d customer calls", links, pay.checkouts.Load(), pay.customers.Load())
	}

	// Without a provider, checkout and portal name the operator's command.
	offCheckout, offPortal := commands.NewStartCheckoutHandler(store, time.Now, nil), commands.NewOpenPortalHandler(store, nil)
	if _, _, err := offCheckout.Handle(ctx, commands.StartCheckout{Actor: actor, Plan: "PRO"}); domain.ErrorCode(err) != domain.ErrNotEnabled {
		t.Errorf("checkout without a provider: %v", err)
	}
	if _, err := offPortal.Handle(ctx, commands.OpenPortal{Actor: actor}); domain.ErrorCode(err) != domain.ErrNotEnabled {
		t.Errorf("portal without a provider: %v", err)
	}
	if u, err := portal.Handle(ctx, commands.OpenPortal{Actor: actor}); err != nil || u != "https://portal.test/cus_"+itoa(res.AccountID) {
		t.Errorf("portal: %q %v", u, err)
	}
}

// TestConcurrentRedeliveriesApplyOnce delivers the same provider event
// from several goroutines at once, as Stripe may after a timeout: one
// SubscriptionChanged and one PlanChanged are written.
func TestConcurrentRedeliveriesApplyOnce(t *testing.T) {
	db := testdb.New(t)
	store := postgres.NewEventStore(db.DB, db.URL, testdb.Logger(t))
	ctx := context.Background()
	signup := commands.NewSignupHandler(store, postgres.NewIDs(db.DB), time.Now)
	res, err := signup.Handle(ctx, commands.Signup{Email: "o@example.com", Password: "correct horse battery", AccountName: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	h := commands.NewApplyProviderEventHandler(store, time.Now, noDirectory{})
	end := time.Now().AddDate(0, 1, 0)
	ev := domain.ProviderEvent{Provider: domain.ProviderStripe, ID: "evt_1", Type: "customer.subscription.created", Created: time.Now(),
		Kind: domain.BillingSubscription, AccountID: res.AccountID, CustomerID: "cus_1", SubscriptionID: "sub_1", Status: "active",
		Plan: domain.PlanPro, PriceID: "price_pro", PeriodEnd: &end}
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := h.Handle(ctx, commands.ApplyProviderEvent{Event: ev}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	recs, err := store.ReadStream(ctx, domain.AccountStream(res.AccountID))
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, r := range recs {
		counts[r.Type]++
	}
	if counts["SubscriptionChanged"] != 1 || counts["PlanChanged"] != 1 || counts["BillingCustomerLinked"] != 1 {
		t.Errorf("events written: %v", counts)
	}
	// An event naming no known account changes nothing.
	if r, err := h.Handle(ctx, commands.ApplyProviderEvent{Event: domain.ProviderEvent{Provider: "stripe", ID: "evt_2", Kind: domain.BillingSubscription, CustomerID: "cus_x"}}); err != nil || r.Note == "" {
		t.Errorf("unknown account: %+v %v", r, err)
	}
	if r, err := h.Handle(ctx, commands.ApplyProviderEvent{Event: domain.ProviderEvent{Provider: "stripe", ID: "evt_3", Kind: domain.BillingSubscription, AccountID: 999999, SubscriptionID: "s"}}); err != nil || r.Note == "" {
		t.Errorf("missing account: %+v %v", r, err)
	}
}
