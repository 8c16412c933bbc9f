package projections_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/projections"
)

// TestIncidentsPageOpenFirst: the dashboard's list puts open incidents
// (triggered or acknowledged) before resolved ones, newest first within
// each group, filters several statuses, a monitor, a type and a date
// range, pages with the total, and never shows another account's.
func TestIncidentsPageOpenFirst(t *testing.T) {
	f := newFixture(t)
	f.run(t, projections.Incidents{})
	ctx := context.Background()
	day := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	// The events go straight into the log: this is about the read model,
	// not about who decides them. Incident i's monitor is i; it starts on
	// day+i; 1, 3 and 5 resolve, 2 is acknowledged, 4 and 6 stay
	// triggered; 6 is a PERFORMANCE incident and 7 another account's.
	names := map[int64]string{1: "r1", 2: "a2", 3: "r3", 4: "t4", 5: "r5", 6: "t6", 7: "other account"}
	var last domain.Position
	write := func(id int64, at time.Time, evs ...domain.Event) {
		t.Helper()
		var data []domain.EventData
		for _, ev := range evs {
			d, err := domain.Encode(ev, domain.Metadata{ActorType: domain.ActorSystem, OccurredAt: at}, uuid.NewString())
			if err != nil {
				t.Fatal(err)
			}
			data = append(data, d)
		}
		res, err := f.store.Append(ctx, domain.IncidentStream(id), domain.AnyVersion, data...)
		if err != nil {
			t.Fatal(err)
		}
		last = res.Position
	}
	for id := int64(1); id <= 7; id++ {
		account, typ := int64(1), domain.IncidentDown
		if id == 6 {
			typ = domain.IncidentPerformance
		}
		if id == 7 {
			account = 2
		}
		started := day.AddDate(0, 0, int(id))
		write(id, started, &domain.IncidentTriggered{IncidentID: id, MonitorID: id, AccountID: account, Type: typ, Message: "down", StartedAt: started})
	}
	for _, id := range []int64{1, 3, 5} {
		write(id, day.AddDate(0, 0, 10), &domain.IncidentResolved{Reason: "recovered", Message: "up again"})
	}
	write(2, day.AddDate(0, 0, 10), &domain.IncidentAcknowledged{UserID: 9, Message: "on it"})
	f.wait(t, []string{"incidents"}, last)

	list := func(filter projections.IncidentPageFilter, skip, limit int) ([]string, int) {
		t.Helper()
		page, err := f.queries.IncidentsPage(ctx, 1, filter, skip, limit)
		if err != nil {
			t.Fatal(err)
		}
		out := []string{}
		for _, r := range page.Rows {
			out = append(out, names[r.ID])
		}
		return out, page.Total
	}
	cases := []struct {
		name        string
		filter      projections.IncidentPageFilter
		skip, limit int
		want        []string
		total       int
	}{
		{"all, open first", projections.IncidentPageFilter{}, 0, 100, []string{"t6", "t4", "a2", "r5", "r3", "r1"}, 6},
		{"open", projections.IncidentPageFilter{Statuses: []string{"TRIGGERED", "ACKNOWLEDGED"}}, 0, 100, []string{"t6", "t4", "a2"}, 3},
		{"acknowledged", projections.IncidentPageFilter{Statuses: []string{"ACKNOWLEDGED"}}, 0, 100, []string{"a2"}, 1},
		{"resolved", projections.IncidentPageFilter{Statuses: []string{"RESOLVED"}}, 0, 100, []string{"r5", "r3", "r1"}, 3},
		{"a type", projections.IncidentPageFilter{Type: "PERFORMANCE"}, 0, 100, []string{"t6"}, 1},
		{"a monitor", projections.IncidentPageFilter{MonitorID: 3}, 0, 100, []string{"r3"}, 1},
		{"dates", projections.IncidentPageFilter{Start: day.AddDate(0, 0, 2), End: day.AddDate(0, 0, 5)}, 0, 100, []string{"t4", "a2", "r3"}, 3},
		{"second page", projections.IncidentPageFilter{}, 2, 2, []string{"a2", "r5"}, 6},
		{"past the end", projections.IncidentPageFilter{}, 10, 2, []string{}, 6},
	}
	for _, c := range cases {
		got, total := list(c.filter, c.skip, c.limit)
		if diff := cmp.Diff(c.want, got); diff != "" || total != c.total {
			t.Errorf("%s: total %d (want %d), rows (-want +got):\n%s", c.name, total, c.total, diff)
		}
	}
}
