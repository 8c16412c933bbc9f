package projections_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medialuna/medialuna/commands"
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
	h := commands.NewIncidentHandler(f.store, f.ids, func() time.Time { return time.Now().UTC() })
	user := commands.Actor{Type: domain.ActorUser, ID: 9, AccountID: 1}
	day := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	names := map[int64]string{}
	// Monitor m's incident starts on day+m; 1, 3 and 5 resolve, 2 is
	// acknowledged, 4 and 6 stay triggered; 6 is a PERFORMANCE incident
	// and 7 belongs to another account.
	var last domain.Position
	open := func(account, monitor int64, typ domain.IncidentType) int64 {
		id, pos, err := h.Open(ctx, account, monitor, typ, "down", day.AddDate(0, 0, int(monitor)))
		if err != nil {
			t.Fatal(err)
		}
		last = pos
		return id
	}
	for m := int64(1); m <= 6; m++ {
		typ := domain.IncidentDown
		if m == 6 {
			typ = domain.IncidentPerformance
		}
		names[open(1, m, typ)] = map[int64]string{1: "r1", 2: "a2", 3: "r3", 4: "t4", 5: "r5", 6: "t6"}[m]
	}
	names[open(2, 7, domain.IncidentDown)] = "other account"
	for _, m := range []int64{1, 3, 5} {
		pos, err := h.Close(ctx, 1, m, domain.IncidentDown, "recovered", "up again")
		if err != nil {
			t.Fatal(err)
		}
		last = pos
	}
	var ackID int64
	for id, n := range names {
		if n == "a2" {
			ackID = id
		}
	}
	// The acknowledgement is the last write: once it shows, all do.
	last, err := h.Acknowledge(ctx, user, ackID, "on it")
	if err != nil {
		t.Fatal(err)
	}
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
