package domain_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medialuna/medialuna/domain"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func fold(events ...domain.Event) *domain.Account {
	a := domain.NewAccount()
	for _, e := range events {
		a.Apply(e)
	}
	return a
}

func opened(t *testing.T) *domain.Account {
	t.Helper()
	evs, err := domain.OpenAccount(1, 10, "  Acme  ", "owner@example.com")
	if err != nil {
		t.Fatal(err)
	}
	return fold(evs...)
}

func TestOpenAccount(t *testing.T) {
	a := opened(t)
	want := &domain.Account{ID: 1, Name: "Acme", Timezone: "UTC", Plan: domain.PlanFree,
		Members: map[int64]domain.Role{10: domain.RoleAdmin}, Emails: map[string]int64{"owner@example.com": 10}, Invites: map[int64]*domain.Invite{}}
	if diff := cmp.Diff(want, a); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, name := range []string{"", "   ", string(make([]byte, 101)), "tab\tname"} {
		if _, err := domain.OpenAccount(1, 10, name, "o@example.com"); domain.ErrorCode(err) != domain.ErrInvalid {
			t.Errorf("name %q: err = %v, want invalid", name, err)
		}
	}
}

func TestInviteRules(t *testing.T) {
	cases := []struct {
		name  string
		setup func(*domain.Account)
		email string
		role  domain.Role
		code  string
	}{
		{"ok", nil, "new@example.com", domain.RoleEditor, ""},
		{"upper-case email is normalised", nil, "NEW@Example.com", domain.RoleViewer, ""},
		{"bad email", nil, "not-an-email", domain.RoleViewer, domain.ErrInvalid},
		{"bad role", nil, "new@example.com", domain.Role("OWNER"), domain.ErrInvalid},
		{"already a member", nil, "owner@example.com", domain.RoleViewer, domain.ErrConflict},
		{"plan limit counts pending invites", func(a *domain.Account) {
			a.Apply(&domain.MemberInvited{InviteID: 1, Email: "a@example.com", Role: domain.RoleViewer, ExpiresAt: now.Add(time.Hour)})
			a.Apply(&domain.MemberInvited{InviteID: 2, Email: "b@example.com", Role: domain.RoleViewer, ExpiresAt: now.Add(time.Hour)})
		}, "c@example.com", domain.RoleViewer, domain.ErrLimit},
		{"expired invites free their seat", func(a *domain.Account) {
			a.Apply(&domain.MemberInvited{InviteID: 1, Email: "a@example.com", Role: domain.RoleViewer, ExpiresAt: now.Add(-time.Hour)})
			a.Apply(&domain.MemberInvited{InviteID: 2, Email: "b@example.com", Role: domain.RoleViewer, ExpiresAt: now.Add(-time.Hour)})
		}, "c@example.com", domain.RoleViewer, ""},
		{"higher plan allows more", func(a *domain.Account) {
			a.Apply(&domain.PlanChanged{From: domain.PlanFree, To: domain.PlanPro})
			for i := range 5 {
				a.Apply(&domain.MemberInvited{InviteID: int64(i + 1), Email: "x@example.com", Role: domain.RoleViewer, ExpiresAt: now.Add(time.Hour)})
			}
		}, "c@example.com", domain.RoleViewer, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := opened(t)
			if c.setup != nil {
				c.setup(a)
			}
			evs, err := a.Invite(99, 10, c.email, c.role, now)
			if got := domain.ErrorCode(err); got != c.code {
				t.Fatalf("code = %q (%v), want %q", got, err, c.code)
			}
			if c.code == "" {
				inv := evs[0].(*domain.MemberInvited)
				if inv.ExpiresAt != now.Add(domain.InviteTTL) || inv.InviteID != 99 || inv.InvitedBy != 10 {
					t.Errorf("event = %+v", inv)
				}
			}
		})
	}
}

func TestAcceptInvite(t *testing.T) {
	a := opened(t)
	evs, err := a.Invite(5, 10, "new@example.com", domain.RoleEditor, now)
	if err != nil {
		t.Fatal(err)
	}
	a.Apply(evs[0])
	if _, err := a.AcceptInvite(6, 20, now); domain.ErrorCode(err) != domain.ErrNotFound {
		t.Errorf("unknown invite: %v", err)
	}
	if _, err := a.AcceptInvite(5, 20, now.Add(domain.InviteTTL)); domain.ErrorCode(err) != domain.ErrInvalid {
		t.Errorf("expired invite: %v", err)
	}
	joined, err := a.AcceptInvite(5, 20, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := &domain.MemberJoined{UserID: 20, Email: "new@example.com", Role: domain.RoleEditor, InviteID: 5}
	if diff := cmp.Diff(want, joined[0]); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	a.Apply(joined[0])
	if _, err := a.AcceptInvite(5, 21, now.Add(time.Hour)); domain.ErrorCode(err) != domain.ErrConflict {
		t.Errorf("second acceptance: %v", err)
	}
	if a.Members[20] != domain.RoleEditor {
		t.Errorf("members = %v", a.Members)
	}
}

func TestUpdateAndPlan(t *testing.T) {
	a := opened(t)
	valid := func(z string) bool { return z == "Europe/Madrid" || z == "UTC" }
	name, zone, bad := "New", "Europe/Madrid", "Mars/Base"
	evs, err := a.Update(&name, &zone, valid)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]domain.Event{&domain.AccountUpdated{Name: "New", Timezone: "Europe/Madrid"}}, evs); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := a.Update(nil, &bad, valid); domain.ErrorCode(err) != domain.ErrInvalid {
		t.Errorf("bad zone: %v", err)
	}
	same := "Acme"
	if evs, err := a.Update(&same, nil, valid); err != nil || evs != nil {
		t.Errorf("no-op update: %v %v", evs, err)
	}
	if _, err := a.ChangePlan("GOLD", ""); domain.ErrorCode(err) != domain.ErrInvalid {
		t.Errorf("unknown plan: %v", err)
	}
	if evs, _ := a.ChangePlan(domain.PlanFree, ""); evs != nil {
		t.Errorf("same plan: %v", evs)
	}
}

func TestCreateAPIKey(t *testing.T) {
	future := now.Add(time.Hour)
	past := now.Add(-time.Hour)
	cases := []struct {
		name   string
		role   domain.Role
		req    domain.NewAPIKeyRequest
		code   string
		scopes []domain.Scope
	}{
		{"viewer reads", domain.RoleViewer, domain.NewAPIKeyRequest{Name: "k", Scopes: []string{"read:monitors", "read:monitors", "read:metrics"}}, "", []domain.Scope{"read:monitors", "read:metrics"}},
		{"viewer cannot write", domain.RoleViewer, domain.NewAPIKeyRequest{Name: "k", Scopes: []string{"write:monitors"}}, domain.ErrInvalid, nil},
		{"editor cannot change the account", domain.RoleEditor, domain.NewAPIKeyRequest{Name: "k", Scopes: []string{"write:account"}}, domain.ErrInvalid, nil},
		{"admin can", domain.RoleAdmin, domain.NewAPIKeyRequest{Name: "k", Scopes: []string{"write:account"}, ExpiresAt: &future}, "", []domain.Scope{"write:account"}},
		{"unknown scope", domain.RoleAdmin, domain.NewAPIKeyRequest{Name: "k", Scopes: []string{"admin:*"}}, domain.ErrInvalid, nil},
		{"no scopes", domain.RoleAdmin, domain.NewAPIKeyRequest{Name: "k"}, domain.ErrInvalid, nil},
		{"no name", domain.RoleAdmin, domain.NewAPIKeyRequest{Name: " ", Scopes: []string{"read:account"}}, domain.ErrInvalid, nil},
		{"past expiry", domain.RoleAdmin, domain.NewAPIKeyRequest{Name: "k", Scopes: []string{"read:account"}, ExpiresAt: &past}, domain.ErrInvalid, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			evs, err := domain.CreateAPIKey(7, 1, 10, c.role, c.req, "hash", "sk_live_abcd", now)
			if got := domain.ErrorCode(err); got != c.code {
				t.Fatalf("code %q (%v), want %q", got, err, c.code)
			}
			if c.code == "" {
				if diff := cmp.Diff(c.scopes, evs[0].(*domain.APIKeyCreated).Scopes); diff != "" {
					t.Errorf("scopes (-want +got):\n%s", diff)
				}
			}
		})
	}
	var k domain.APIKey
	if _, err := k.Revoke(1); domain.ErrorCode(err) != domain.ErrNotFound {
		t.Errorf("revoking a missing key: %v", err)
	}
	k.Apply(&domain.APIKeyCreated{KeyID: 7, AccountID: 1, UserID: 10})
	evs, err := k.Revoke(10)
	if err != nil || len(evs) != 1 {
		t.Fatalf("revoke: %v %v", evs, err)
	}
	k.Apply(evs[0])
	if evs, err := k.Revoke(10); err != nil || evs != nil {
		t.Errorf("second revoke should be a no-op: %v %v", evs, err)
	}
}

func TestRoles(t *testing.T) {
	cases := []struct {
		have, need domain.Role
		ok         bool
	}{
		{domain.RoleAdmin, domain.RoleEditor, true}, {domain.RoleEditor, domain.RoleEditor, true},
		{domain.RoleViewer, domain.RoleEditor, false}, {domain.RoleEditor, domain.RoleAdmin, false},
		{domain.Role("ROOT"), domain.RoleViewer, false}, {domain.RoleAdmin, domain.Role(""), false},
	}
	for _, c := range cases {
		if got := c.have.Includes(c.need); got != c.ok {
			t.Errorf("%s includes %s = %v", c.have, c.need, got)
		}
	}
}

func TestEmailNormalisation(t *testing.T) {
	for in, want := range map[string]string{" Ana@Example.COM ": "ana@example.com", "a.b+c@sub.example.org": "a.b+c@sub.example.org"} {
		if got, err := domain.NormalizeEmail(in); err != nil || got != want {
			t.Errorf("%q -> %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "a", "a@b", "Ana <a@b.co>", "a@@b.co", "a b@c.co"} {
		if _, err := domain.NormalizeEmail(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestDecodeUpcastsOldVersions(t *testing.T) {
	// An AccountOpened written by a v1 build has no plan field.
	v1 := []byte(`{"account_id": 3, "name": "Old", "owner_user_id": 4}`)
	ev, err := domain.Decode("AccountOpened", 1, v1)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&domain.AccountOpened{AccountID: 3, Name: "Old", Plan: domain.PlanFree, OwnerUserID: 4}, ev); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := domain.Decode("AccountOpened", 9, v1); err == nil {
		t.Error("a version from the future decoded without error")
	}
	if ev, err := domain.Decode("SomethingNew", 1, []byte(`{}`)); ev != nil || err != nil {
		t.Errorf("unknown type: %v %v; want skipped", ev, err)
	}
	if _, err := domain.Decode("PlanChanged", 1, []byte(`{"to": 5}`)); err == nil {
		t.Error("corrupt payload decoded")
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	in := &domain.MemberInvited{InviteID: 1, Email: "a@example.com", Role: domain.RoleViewer, InvitedBy: 2, ExpiresAt: now}
	meta := domain.Metadata{ActorType: domain.ActorUser, ActorID: 2, AccountID: 1, CorrelationID: "c", OccurredAt: now}
	d, err := domain.Encode(in, meta, "id-1")
	if err != nil {
		t.Fatal(err)
	}
	if d.Type != "MemberInvited" || d.Version != 1 || d.ID != "id-1" || d.Metadata != meta || !json.Valid(d.Data) {
		t.Errorf("encoded = %+v", d)
	}
	out, err := domain.Decode(d.Type, d.Version, d.Data)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(in, out); diff != "" {
		t.Errorf("(-in +out):\n%s", diff)
	}
}

func TestPlansPublishEveryLimit(t *testing.T) {
	plans := domain.Plans()
	var names []domain.Plan
	for _, p := range plans {
		names = append(names, p.Plan)
	}
	if diff := cmp.Diff([]domain.Plan{"FREE", "STARTER", "PRO", "ENTERPRISE"}, names); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	want := map[domain.Plan][3]int{"FREE": {60, 300, 1}, "STARTER": {300, 120, 2}, "PRO": {600, 60, 5}, "ENTERPRISE": {domain.Unlimited, 30, domain.Unlimited}}
	for _, p := range plans {
		if got := [3]int{p.RequestsPerMinute, p.MinCheckIntervalSecs, p.MaxRegions}; got != want[p.Plan] {
			t.Errorf("%s: rpm/interval/regions = %v, want %v (the contract's table)", p.Plan, got, want[p.Plan])
		}
	}
	if !domain.WithinLimit(domain.Unlimited, 1<<30) || domain.WithinLimit(1, 1) || !domain.WithinLimit(2, 1) {
		t.Error("WithinLimit")
	}
}

func TestPositionOrder(t *testing.T) {
	a, b, c := domain.Position{Commit: 5, Prepare: 9}, domain.Position{Commit: 6, Prepare: 1}, domain.Position{Commit: 6, Prepare: 2}
	if !a.Less(b) || !b.Less(c) || c.Less(a) || a.Less(a) || !a.AtLeast(a) {
		t.Error("position order is not (commit, prepare)")
	}
}

func TestMonitorStatusWithStaleRegions(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	r := func(id int64, up bool, age time.Duration) domain.RegionResult {
		return domain.RegionResult{RegionID: id, Up: up, CheckedAt: now.Add(-age)}
	}
	cases := []struct {
		name    string
		confirm int
		results []domain.RegionResult
		want    domain.Status
	}{
		{"no results", 1, nil, domain.StatusPending},
		{"one of two failing, confirm 2", 2, []domain.RegionResult{r(1, false, 0), r(2, true, 0)}, domain.StatusUp},
		{"two of two failing, confirm 2", 2, []domain.RegionResult{r(1, false, 0), r(2, false, time.Second)}, domain.StatusDown},
		{"a dead region's stale up does not hide the outage", 2, []domain.RegionResult{r(1, false, 0), r(2, true, 10*time.Minute)}, domain.StatusDown},
		{"a dead region's stale down does not keep it down", 1, []domain.RegionResult{r(1, true, 0), r(2, false, 10*time.Minute)}, domain.StatusUp},
		{"recent enough results all count", 2, []domain.RegionResult{r(1, false, 0), r(2, true, 2*time.Minute)}, domain.StatusUp},
	}
	for _, c := range cases {
		got := domain.MonitorStatus(false, c.confirm, domain.FreshResults(c.results, 30))
		if got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
	if domain.MonitorStatus(true, 1, nil) != domain.StatusPaused {
		t.Error("paused")
	}
}
