package domain_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medialuna/medialuna/domain"
)

func quotaOf(kind domain.QuotaKind, events ...domain.Event) *domain.Quota {
	q := domain.NewQuota(kind)
	for _, e := range events {
		q.Apply(e)
	}
	return q
}

func slots(ids ...int64) []domain.Slot {
	out := []domain.Slot{}
	for _, id := range ids {
		out = append(out, domain.Slot{ID: id})
	}
	return out
}

// TestQuotaReserve: the pure decision behind every create's slot — counts
// against the plan, expired keys and gone resources freed in the same
// decision, tag names unique trimmed and case-insensitively, a retried
// reservation kept.
func TestQuotaReserve(t *testing.T) {
	free, _ := domain.LimitsOf(domain.PlanFree)
	ent, _ := domain.LimitsOf(domain.PlanEnterprise)
	past, future := now.Add(-time.Minute), now.Add(time.Hour)
	nine := &domain.QuotaSeeded{Kind: domain.QuotaMonitors, Slots: slots(1, 2, 3, 4, 5, 6, 7, 8, 9)}
	released := func(kind domain.QuotaKind, id int64) domain.Event {
		return &domain.QuotaSlotReleased{Kind: kind, ID: id}
	}
	reserved := func(kind domain.QuotaKind, s domain.Slot) domain.Event {
		s.ReservedAt = now
		return &domain.QuotaSlotReserved{Kind: kind, Slot: s}
	}
	cases := []struct {
		name   string
		quota  *domain.Quota
		slot   domain.Slot
		limits domain.PlanLimits
		gone   map[int64]bool
		want   []domain.Event
		code   string
	}{
		{"first monitor", quotaOf(domain.QuotaMonitors), domain.Slot{ID: 1}, free, nil,
			[]domain.Event{reserved(domain.QuotaMonitors, domain.Slot{ID: 1})}, ""},
		{"tenth monitor", quotaOf(domain.QuotaMonitors, nine), domain.Slot{ID: 10}, free, nil,
			[]domain.Event{reserved(domain.QuotaMonitors, domain.Slot{ID: 10})}, ""},
		{"eleventh monitor", quotaOf(domain.QuotaMonitors, nine, &domain.QuotaSlotReserved{Kind: domain.QuotaMonitors, Slot: domain.Slot{ID: 10}}),
			domain.Slot{ID: 11}, free, nil, nil, domain.ErrLimit},
		{"a released slot is free", quotaOf(domain.QuotaMonitors, nine, &domain.QuotaSlotReserved{Kind: domain.QuotaMonitors, Slot: domain.Slot{ID: 10}},
			released(domain.QuotaMonitors, 4)), domain.Slot{ID: 11}, free, nil,
			[]domain.Event{reserved(domain.QuotaMonitors, domain.Slot{ID: 11})}, ""},
		{"a gone monitor's slot is freed with the reservation", quotaOf(domain.QuotaMonitors, nine, &domain.QuotaSlotReserved{Kind: domain.QuotaMonitors, Slot: domain.Slot{ID: 10}}),
			domain.Slot{ID: 11}, free, map[int64]bool{3: true},
			[]domain.Event{released(domain.QuotaMonitors, 3), reserved(domain.QuotaMonitors, domain.Slot{ID: 11})}, ""},
		{"unlimited plan", quotaOf(domain.QuotaMonitors, nine), domain.Slot{ID: 10}, ent, nil,
			[]domain.Event{reserved(domain.QuotaMonitors, domain.Slot{ID: 10})}, ""},
		{"a retried reservation is kept", quotaOf(domain.QuotaMonitors, nine), domain.Slot{ID: 9}, free, nil, nil, ""},
		{"one status page on FREE", quotaOf(domain.QuotaStatusPages, &domain.QuotaSeeded{Kind: domain.QuotaStatusPages, Slots: slots(1)}),
			domain.Slot{ID: 2}, free, nil, nil, domain.ErrLimit},
		{"an expired key frees its slot", quotaOf(domain.QuotaAPIKeys, &domain.QuotaSeeded{Kind: domain.QuotaAPIKeys, Slots: []domain.Slot{
			{ID: 1}, {ID: 2}, {ID: 3}, {ID: 4}, {ID: 5, ExpiresAt: &past}}}), domain.Slot{ID: 6, ExpiresAt: &future}, free, nil,
			[]domain.Event{released(domain.QuotaAPIKeys, 5), reserved(domain.QuotaAPIKeys, domain.Slot{ID: 6, ExpiresAt: &future})}, ""},
		{"five live keys", quotaOf(domain.QuotaAPIKeys, &domain.QuotaSeeded{Kind: domain.QuotaAPIKeys, Slots: []domain.Slot{
			{ID: 1}, {ID: 2}, {ID: 3}, {ID: 4}, {ID: 5, ExpiresAt: &future}}}), domain.Slot{ID: 6}, free, nil, nil, domain.ErrLimit},
		{"a tag name", quotaOf(domain.QuotaTags), domain.Slot{ID: 1, Name: "prod"}, free, nil,
			[]domain.Event{reserved(domain.QuotaTags, domain.Slot{ID: 1, Name: "prod"})}, ""},
		{"a tag name in another case", quotaOf(domain.QuotaTags, &domain.QuotaSeeded{Kind: domain.QuotaTags, Slots: []domain.Slot{{ID: 1, Name: "Prod"}}}),
			domain.Slot{ID: 2, Name: " PROD "}, free, nil, nil, domain.ErrConflict},
		{"a deleted tag's name", quotaOf(domain.QuotaTags, &domain.QuotaSeeded{Kind: domain.QuotaTags, Slots: []domain.Slot{{ID: 1, Name: "Prod"}}},
			released(domain.QuotaTags, 1)), domain.Slot{ID: 2, Name: "prod"}, free, nil,
			[]domain.Event{reserved(domain.QuotaTags, domain.Slot{ID: 2, Name: "prod"})}, ""},
		{"a gone tag's name", quotaOf(domain.QuotaTags, &domain.QuotaSeeded{Kind: domain.QuotaTags, Slots: []domain.Slot{{ID: 1, Name: "Prod"}}}),
			domain.Slot{ID: 2, Name: "prod"}, free, map[int64]bool{1: true},
			[]domain.Event{released(domain.QuotaTags, 1), reserved(domain.QuotaTags, domain.Slot{ID: 2, Name: "prod"})}, ""},
		{"tags have no count limit", quotaOf(domain.QuotaTags, &domain.QuotaSeeded{Kind: domain.QuotaTags, Slots: []domain.Slot{
			{ID: 1, Name: "a"}, {ID: 2, Name: "b"}}}), domain.Slot{ID: 3, Name: "c"}, domain.PlanLimits{}, nil,
			[]domain.Event{reserved(domain.QuotaTags, domain.Slot{ID: 3, Name: "c"})}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := c.slot
			s.ReservedAt = now
			got, err := c.quota.Reserve(s, c.limits, c.gone, now)
			if code := domain.ErrorCode(err); code != c.code {
				t.Fatalf("code %q (%v), want %q", code, err, c.code)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}

// TestQuotaMessages: refusals keep the documented wording.
func TestQuotaMessages(t *testing.T) {
	free, _ := domain.LimitsOf(domain.PlanFree)
	full := func(kind domain.QuotaKind, n int64) *domain.Quota {
		var ss []domain.Slot
		for id := int64(1); id <= n; id++ {
			ss = append(ss, domain.Slot{ID: id})
		}
		return quotaOf(kind, &domain.QuotaSeeded{Kind: kind, Slots: ss})
	}
	for _, c := range []struct {
		quota *domain.Quota
		slot  domain.Slot
		want  string
	}{
		{full(domain.QuotaMonitors, 10), domain.Slot{}, "plan FREE allows 10 monitors; delete one or upgrade"},
		{full(domain.QuotaAPIKeys, 5), domain.Slot{}, "plan FREE allows 5 API keys; revoke one or upgrade"},
		{full(domain.QuotaStatusPages, 1), domain.Slot{}, "plan FREE allows 1 status page (max_status_pages); delete one or upgrade"},
		{quotaOf(domain.QuotaTags, &domain.QuotaSeeded{Kind: domain.QuotaTags, Slots: []domain.Slot{{ID: 1, Name: "dup"}}}), domain.Slot{Name: " Dup"},
			`a tag named "Dup" already exists`},
	} {
		_, err := c.quota.Reserve(c.slot, free, nil, now)
		if got := domain.ErrorMessage(err); got != c.want {
			t.Errorf("%s: %q, want %q", c.quota.Kind, got, c.want)
		}
	}
}

// TestQuotaFold: seeding, reserving and releasing fold into the held
// slots; Suspects names the slot holding a name, or every held slot.
func TestQuotaFold(t *testing.T) {
	past := now.Add(-time.Second)
	q := quotaOf(domain.QuotaTags,
		&domain.QuotaSeeded{Kind: domain.QuotaTags, Slots: []domain.Slot{{ID: 3, Name: "b"}, {ID: 1, Name: "a"}}},
		&domain.QuotaSlotReserved{Kind: domain.QuotaTags, Slot: domain.Slot{ID: 5, Name: "c"}},
		&domain.QuotaSlotReserved{Kind: domain.QuotaTags, Slot: domain.Slot{ID: 6, Name: "old", ExpiresAt: &past}},
		&domain.QuotaSlotReleased{Kind: domain.QuotaTags, ID: 3},
		&domain.QuotaSlotReleased{Kind: domain.QuotaTags, ID: 99})
	if !q.Seeded {
		t.Error("not seeded")
	}
	want := []domain.Slot{{ID: 1, Name: "a"}, {ID: 5, Name: "c"}}
	if diff := cmp.Diff(want, q.Held(now)); diff != "" {
		t.Errorf("held (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]domain.Slot{{ID: 5, Name: "c"}}, q.Suspects(domain.Slot{Name: "C"}, now)); diff != "" {
		t.Errorf("suspects of a taken name (-want +got):\n%s", diff)
	}
	if got := q.Release(3); got != nil {
		t.Errorf("releasing a free slot: %v", got)
	}
	if quotaOf(domain.QuotaMonitors).Seeded {
		t.Error("an empty stream counts as seeded")
	}
}

// TestQuotaReserveCounted: the count alone grants only what fits entirely,
// numbering each reservation with the count after it; anything else falls
// back to the whole stream.
func TestQuotaReserveCounted(t *testing.T) {
	free, _ := domain.LimitsOf(domain.PlanFree) // 10 monitors
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		held   int
		n      int
		limits domain.PlanLimits
		ok     bool
	}{
		{"fits", 3, 7, free, true},
		{"one over", 3, 8, free, false},
		{"full", 10, 1, free, false},
		{"unlimited", 5000, 1000, domain.PlanLimits{Plan: domain.PlanEnterprise, MaxMonitors: domain.Unlimited}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			events, ok := domain.ReserveCounted(domain.QuotaMonitors, tc.held, tc.limits, make([]int64, tc.n), now)
			if ok != tc.ok {
				t.Fatalf("ok %v, want %v", ok, tc.ok)
			}
			if !ok {
				if events != nil {
					t.Errorf("refused with events %v", events)
				}
				return
			}
			if len(events) != tc.n {
				t.Fatalf("%d events, want %d", len(events), tc.n)
			}
			for i, e := range events {
				if n, ok := domain.QuotaHeld(e); !ok || n != tc.held+i+1 {
					t.Errorf("event %d records %d, want %d", i, n, tc.held+i+1)
				}
			}
		})
	}
}

// TestQuotaCount: Count records in each event the slots held after it.
func TestQuotaCount(t *testing.T) {
	q := domain.NewQuota(domain.QuotaMonitors)
	events := []domain.Event{
		&domain.QuotaSeeded{Kind: domain.QuotaMonitors, Slots: []domain.Slot{{ID: 1}, {ID: 2}}},
		&domain.QuotaSlotReserved{Kind: domain.QuotaMonitors, Slot: domain.Slot{ID: 3}},
		&domain.QuotaSlotReleased{Kind: domain.QuotaMonitors, ID: 1},
		&domain.QuotaSlotReleased{Kind: domain.QuotaMonitors, ID: 1}, // already free
	}
	q.Count(events)
	for i, want := range []int{2, 3, 2, 2} {
		if n, ok := domain.QuotaHeld(events[i]); !ok || n != want {
			t.Errorf("event %d records %d (%v), want %d", i, n, ok, want)
		}
	}
	if _, ok := domain.QuotaHeld(&domain.QuotaSlotReserved{}); ok {
		t.Error("an event written before counts were kept records one")
	}
}
