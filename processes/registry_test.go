package processes_test

import (
	"testing"

	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/processes"
	"github.com/medialuna/medialuna/test/registrytest"
)

// The workers name the event types they follow through the registry: a
// misspelt type would silently never reach them.
func TestWorkersHandleRegisteredTypes(t *testing.T) {
	registrytest.Handles(t, processes.NewIncidentDetector(nil, nil, nil),
		domain.EvMonitorCreated, domain.EvMonitorUpdated, domain.EvMonitorPaused, domain.EvMonitorResumed, domain.EvMonitorDeleted, domain.EvCheckRecorded)
	registrytest.Handles(t, processes.NewNotifier(nil, nil, nil, nil),
		domain.EvIncidentTriggered, domain.EvIncidentAcknowledged, domain.EvIncidentSnoozed, domain.EvIncidentResolved,
		domain.EvNotificationQueued, domain.EvNotificationSuppressed)
	registrytest.Handles(t, processes.NewInviteMailer(nil, nil, ""), domain.EvMemberInvited, domain.EvInviteResent)
}

func TestNoEventTypeLiterals(t *testing.T) {
	registrytest.NoEventTypeLiterals(t, ".")
}
