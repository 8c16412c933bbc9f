package commands_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/medialuna/medialuna/adapters/postgres"
	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/test/testdb"
)

// TestAcknowledgeRacingTheAutomaticResolve runs people acknowledging and
// the detector resolving the same incidents at the same moment, many
// times, and checks every history is one of the two consistent orders.
func TestAcknowledgeRacingTheAutomaticResolve(t *testing.T) {
	db := testdb.New(t)
	store := postgres.NewEventStore(db.DB, db.URL, testdb.Logger(t))
	openIncident := commands.NewOpenIncidentHandler(store, postgres.NewIDs(db.DB), time.Now)
	acknowledge := commands.NewAcknowledgeIncidentHandler(store, time.Now)
	resolve := commands.NewCloseIncidentHandler(store, time.Now)
	ctx := context.Background()
	user := commands.Actor{Type: domain.ActorUser, ID: 5, AccountID: 1}
	for monitor := int64(1); monitor <= 20; monitor++ {
		id, _, err := openIncident.Handle(ctx, commands.OpenIncident{AccountID: 1, MonitorID: monitor, Type: domain.IncidentDown, Message: "down", StartedAt: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		// Opening again (a detector retry) finds the same incident.
		if again, _, err := openIncident.Handle(ctx, commands.OpenIncident{AccountID: 1, MonitorID: monitor, Type: domain.IncidentDown, Message: "down", StartedAt: time.Now()}); err != nil || again != id {
			t.Fatalf("second open: %d, %v; want %d", again, err, id)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 3)
		start := make(chan struct{})
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, err := acknowledge.Handle(ctx, commands.AcknowledgeIncident{Actor: user, IncidentID: id, Message: "on it"})
				if domain.ErrorCode(err) == domain.ErrConflict {
					err = nil // resolved first: refused, as it should be
				}
				errs <- err
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := resolve.Handle(ctx, commands.CloseIncident{AccountID: 1, MonitorID: monitor, Type: domain.IncidentDown, Reason: "recovered", Message: "up again"})
			errs <- err
		}()
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("monitor %d: %v", monitor, err)
			}
		}
		recs, err := store.ReadStream(ctx, domain.IncidentStream(id))
		if err != nil {
			t.Fatal(err)
		}
		var types []string
		for _, r := range recs {
			types = append(types, r.Type)
		}
		got := ""
		for _, ty := range types {
			got += ty + " "
		}
		switch got {
		case "IncidentTriggered IncidentAcknowledged IncidentResolved ", "IncidentTriggered IncidentResolved ":
		default:
			t.Errorf("monitor %d: inconsistent history %q", monitor, got)
		}
		var tracker domain.IncidentTracker
		trecs, _ := store.ReadStream(ctx, domain.MonitorIncidentsStream(monitor))
		for _, r := range trecs {
			ev, _ := domain.DecodeRecorded(r)
			tracker.Apply(ev)
		}
		if len(tracker.Open) != 0 || len(trecs) != 2 {
			t.Errorf("monitor %d: tracker %v after %d events; want closed after open+close", monitor, tracker.Open, len(trecs))
		}
	}
}
