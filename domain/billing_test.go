package domain_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medialuna/medialuna/domain"
)

// sub is a Stripe subscription event for account 1's customer.
func sub(id string, at int64, status string, plan domain.Plan) domain.ProviderEvent {
	start, end := time.Unix(at, 0).UTC(), time.Unix(at, 0).UTC().AddDate(0, 1, 0)
	return domain.ProviderEvent{Provider: domain.ProviderStripe, ID: id, Type: "customer.subscription.updated", Created: time.Unix(at, 0),
		Kind: domain.BillingSubscription, CustomerID: "cus_1", SubscriptionID: "sub_1", Status: status, Plan: plan,
		PriceID: "price_" + string(plan), PeriodStart: &start, PeriodEnd: &end}
}

// deliver decides ev on a and folds what it decided back into a.
func deliver(t *testing.T, a *domain.Account, ev domain.ProviderEvent) []domain.Event {
	t.Helper()
	evs, _, err := a.ApplyBilling(ev)
	if err != nil {
		t.Fatalf("%s: %v", ev.ID, err)
	}
	for _, e := range evs {
		a.Apply(e)
	}
	return evs
}

func types(evs []domain.Event) []string {
	out := []string{}
	for _, e := range evs {
		out = append(out, e.EventType())
	}
	return out
}

func TestBillingUpgradeDowngradeAndCancel(t *testing.T) {
	a := opened(t)
	a.Apply(a.LinkCustomer(domain.ProviderStripe, "cus_1")[0])

	evs := deliver(t, a, sub("evt_1", 1000, "active", domain.PlanPro))
	if diff := cmp.Diff([]string{"SubscriptionChanged", "PlanChanged"}, types(evs)); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	pc := evs[1].(*domain.PlanChanged)
	if pc.From != domain.PlanFree || pc.To != domain.PlanPro || pc.Reason != "stripe subscription sub_1 is active (evt_1)" {
		t.Errorf("plan change = %+v", pc)
	}
	sc := evs[0].(*domain.SubscriptionChanged)
	if sc.Status != domain.SubscriptionActive || sc.EventID != "evt_1" || sc.PeriodEnd == nil || sc.PeriodEnd.Location() != time.UTC {
		t.Errorf("subscription = %+v", sc)
	}
	if a.Plan != domain.PlanPro || !a.Billing.Live() {
		t.Fatalf("after upgrade: plan %s, billing %+v", a.Plan, a.Billing)
	}

	// A downgrade to STARTER at the next event.
	evs = deliver(t, a, sub("evt_2", 2000, "active", domain.PlanStarter))
	if a.Plan != domain.PlanStarter || len(evs) != 2 {
		t.Errorf("downgrade: plan %s, events %v", a.Plan, types(evs))
	}
	// Past due keeps the plan while Stripe retries.
	evs = deliver(t, a, sub("evt_3", 3000, "past_due", domain.PlanStarter))
	if a.Plan != domain.PlanStarter || a.Billing.Status != domain.SubscriptionPastDue || len(evs) != 1 {
		t.Errorf("past_due: plan %s, status %s, events %v", a.Plan, a.Billing.Status, types(evs))
	}
	// Deleted: back to FREE.
	ev := sub("evt_4", 4000, "canceled", domain.PlanStarter)
	ev.Type = "customer.subscription.deleted"
	deliver(t, a, ev)
	if a.Plan != domain.PlanFree || a.Billing.Status != domain.SubscriptionCanceled || a.Billing.Live() {
		t.Errorf("canceled: plan %s, billing %+v", a.Plan, a.Billing)
	}
}

func TestBillingIsIdempotentAndOrdered(t *testing.T) {
	a := opened(t)
	deliver(t, a, sub("evt_1", 1000, "active", domain.PlanPro))
	if a.Billing.CustomerID != "cus_1" {
		t.Errorf("the first event links the customer: %+v", a.Billing)
	}

	// The same event again: nothing.
	if evs, note, err := a.ApplyBilling(sub("evt_1", 1000, "active", domain.PlanPro)); evs != nil || err != nil || note != "already processed" {
		t.Errorf("redelivery: %v %q %v", types(evs), note, err)
	}
	// An older event delivered late: nothing.
	if evs, note, err := a.ApplyBilling(sub("evt_0", 999, "incomplete", domain.PlanPro)); evs != nil || err != nil || note == "" {
		t.Errorf("stale event: %v %q %v", types(evs), note, err)
	}
	// Same second, earlier stage: nothing.
	if evs, _, _ := a.ApplyBilling(sub("evt_0b", 1000, "incomplete", domain.PlanPro)); evs != nil {
		t.Errorf("same-second earlier stage: %v", types(evs))
	}
	// Same second, same stage (e.g. two updates): applied.
	if evs := deliver(t, a, sub("evt_1b", 1000, "active", domain.PlanStarter)); len(evs) != 2 || a.Plan != domain.PlanStarter {
		t.Errorf("same-second update: %v, plan %s", types(evs), a.Plan)
	}
	// Another customer's event naming this account: nothing.
	other := sub("evt_x", 5000, "canceled", domain.PlanPro)
	other.CustomerID = "cus_other"
	if evs, note, _ := a.ApplyBilling(other); evs != nil || note == "" {
		t.Errorf("foreign customer: %v %q", types(evs), note)
	}
	// An ended subscription that is not the current one: nothing.
	old := sub("evt_y", 6000, "canceled", domain.PlanPro)
	old.SubscriptionID = "sub_old"
	if evs, _, _ := a.ApplyBilling(old); evs != nil {
		t.Errorf("old subscription's end: %v", types(evs))
	}
	// A live price nobody configured: refused, so Stripe retries.
	unknown := sub("evt_z", 7000, "active", "")
	if _, _, err := a.ApplyBilling(unknown); domain.ErrorCode(err) != domain.ErrInvalid {
		t.Errorf("unknown price: %v", err)
	}
	// ...but a cancellation needs no price.
	unknown.Status = "canceled"
	if evs := deliver(t, a, unknown); len(evs) != 2 || a.Plan != domain.PlanFree {
		t.Errorf("cancel with unknown price: %v, plan %s", types(evs), a.Plan)
	}
}

func TestBillingCheckoutAndPaymentFailure(t *testing.T) {
	a := opened(t)
	checkout := domain.ProviderEvent{Provider: domain.ProviderStripe, ID: "evt_c", Type: "checkout.session.completed", Created: time.Unix(1001, 0),
		Kind: domain.BillingCheckoutCompleted, AccountID: 1, CustomerID: "cus_1", SubscriptionID: "sub_1", Status: "paid", Plan: domain.PlanStarter}
	evs := deliver(t, a, checkout)
	if diff := cmp.Diff([]string{"BillingCustomerLinked", "SubscriptionChanged", "PlanChanged"}, types(evs)); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	if a.Plan != domain.PlanStarter || a.Billing.Status != domain.SubscriptionActive || !a.Billing.LastEventAt.IsZero() {
		t.Errorf("after checkout: plan %s, billing %+v", a.Plan, a.Billing)
	}
	// The subscription's own event, stamped a second earlier, still applies:
	// the checkout's state was provisional.
	created := sub("evt_s", 1000, "trialing", domain.PlanStarter)
	evs = deliver(t, a, created)
	if a.Billing.Status != domain.SubscriptionTrialing || len(evs) != 1 {
		t.Errorf("subscription after checkout: status %s, events %v", a.Billing.Status, types(evs))
	}
	// A checkout completion arriving after the subscription's events only
	// links what is already linked: nothing.
	checkout.ID = "evt_c2"
	if evs, _, _ := a.ApplyBilling(checkout); evs != nil {
		t.Errorf("late checkout: %v", types(evs))
	}

	failed := domain.ProviderEvent{Provider: domain.ProviderStripe, ID: "evt_f", Type: "invoice.payment_failed", Created: time.Unix(2000, 0),
		Kind: domain.BillingPaymentFailed, CustomerID: "cus_1", SubscriptionID: "sub_1"}
	evs = deliver(t, a, failed)
	if len(evs) != 1 || a.Billing.Status != domain.SubscriptionPastDue || a.Plan != domain.PlanStarter || a.Billing.PeriodEnd == nil {
		t.Errorf("payment failed: %v, billing %+v, plan %s", types(evs), a.Billing, a.Plan)
	}
	// Failing again while past due changes nothing more.
	failed.ID = "evt_f2"
	if evs, _, _ := a.ApplyBilling(failed); evs != nil {
		t.Errorf("second failure: %v", types(evs))
	}
	// A failure for another subscription: nothing.
	failed.ID, failed.SubscriptionID = "evt_f3", "sub_other"
	if evs, _, _ := a.ApplyBilling(failed); evs != nil {
		t.Errorf("other subscription's failure: %v", types(evs))
	}
	// Unpaid (Stripe gave up) revokes the paid plan.
	deliver(t, a, sub("evt_u", 3000, "unpaid", domain.PlanStarter))
	if a.Plan != domain.PlanFree || a.Billing.Status != domain.SubscriptionPastDue || !a.Billing.Live() {
		t.Errorf("unpaid: plan %s, billing %+v", a.Plan, a.Billing)
	}
}

func TestCheckoutRules(t *testing.T) {
	a := opened(t)
	if err := a.CanCheckout(domain.PlanFree); domain.ErrorCode(err) != domain.ErrInvalid {
		t.Errorf("FREE: %v", err)
	}
	if err := a.CanCheckout("GOLD"); domain.ErrorCode(err) != domain.ErrInvalid {
		t.Errorf("GOLD: %v", err)
	}
	if err := a.CanCheckout(domain.PlanPro); err != nil {
		t.Errorf("PRO: %v", err)
	}
	deliver(t, a, sub("evt_1", 1000, "active", domain.PlanStarter))
	if err := a.CanCheckout(domain.PlanPro); domain.ErrorCode(err) != domain.ErrConflict {
		t.Errorf("second subscription: %v", err)
	}
	if evs := a.LinkCustomer(domain.ProviderStripe, "cus_2"); evs != nil {
		t.Errorf("a second customer: %v", evs)
	}
	deliver(t, a, sub("evt_2", 2000, "canceled", domain.PlanStarter))
	if err := a.CanCheckout(domain.PlanPro); err != nil {
		t.Errorf("after cancellation: %v", err)
	}
}

func TestBillingEventsRoundTrip(t *testing.T) {
	end := now.Add(time.Hour)
	for _, in := range []domain.Event{
		&domain.BillingCustomerLinked{Provider: "stripe", CustomerID: "cus_1", EventID: "evt_1"},
		&domain.SubscriptionChanged{Provider: "stripe", EventID: "evt_2", ProviderType: "customer.subscription.updated", EventCreated: now,
			CustomerID: "cus_1", SubscriptionID: "sub_1", ProviderStatus: "active", Status: domain.SubscriptionActive, Plan: domain.PlanPro,
			PriceID: "price_1", PeriodStart: &now, PeriodEnd: &end, CancelAtPeriodEnd: true},
	} {
		d, err := domain.Encode(in, domain.Metadata{}, "x")
		if err != nil {
			t.Fatal(err)
		}
		out, err := domain.Decode(d.Type, d.Version, d.Data)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(in, out); diff != "" {
			t.Errorf("(-in +out):\n%s", diff)
		}
	}
}

func TestDowngradeKeepsMonitorsAsTheyAre(t *testing.T) {
	free, _ := domain.LimitsOf(domain.PlanFree)
	rules := domain.MonitorRules{Limits: free}
	old := domain.MonitorConfig{RegionIDs: []int64{1, 2, 3}, CheckInterval: 60}
	kept := rules.Keeping(old)
	if kept.Limits.MaxRegions != 3 || kept.MinInterval() != 60 {
		t.Errorf("kept rules: regions %d, interval %d", kept.Limits.MaxRegions, kept.MinInterval())
	}
	// A monitor within the limits gets the plan's own rules.
	if k := rules.Keeping(domain.MonitorConfig{RegionIDs: []int64{1}, CheckInterval: 600}); k.Limits.MaxRegions != 1 || k.MinInterval() != 300 {
		t.Errorf("within limits: regions %d, interval %d", k.Limits.MaxRegions, k.MinInterval())
	}
	ent, _ := domain.LimitsOf(domain.PlanEnterprise)
	if k := (domain.MonitorRules{Limits: ent}).Keeping(old); k.Limits.MaxRegions != domain.Unlimited {
		t.Errorf("unlimited stays unlimited: %d", k.Limits.MaxRegions)
	}
}
