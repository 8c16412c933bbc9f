package projections_test

import (
	"testing"

	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/projections"
	"github.com/medialuna/medialuna/test/registrytest"
)

// Every read model applies registered types only, exactly those listed
// here: a type dropped from a Handles switch, or one added, shows up as a
// difference with this table.
func TestReadModelsHandleRegisteredTypes(t *testing.T) {
	for _, tc := range []struct {
		p    projections.Projector
		want []string
	}{
		{projections.Accounts{}, []string{domain.EvAccountOpened, domain.EvAccountUpdated, domain.EvPlanChanged,
			domain.EvMemberInvited, domain.EvMemberJoined, domain.EvUserRegistered,
			domain.EvMemberRoleChanged, domain.EvMemberRemoved, domain.EvInviteRevoked, domain.EvInviteResent,
			domain.EvUserRenamed, domain.EvPasswordChanged, domain.EvTwoFactorEnabled, domain.EvTwoFactorDisabled}},
		{projections.APIKeys{}, []string{domain.EvAPIKeyCreated, domain.EvAPIKeyRevoked}},
		{projections.Billing{}, []string{domain.EvBillingCustomerLinked, domain.EvSubscriptionChanged}},
		{projections.Incidents{}, []string{domain.EvIncidentTriggered, domain.EvIncidentAcknowledged, domain.EvIncidentSnoozed,
			domain.EvIncidentCommented, domain.EvIncidentResolved, domain.EvMonitorDeleted,
			domain.EvNotificationAttempted, domain.EvNotificationSuppressed, domain.EvNotificationRetrying}},
		{projections.Maintenance{}, []string{domain.EvMaintenanceScheduled, domain.EvMaintenanceUpdated,
			domain.EvMaintenanceToggled, domain.EvMaintenanceDeleted, domain.EvMonitorDeleted}},
		{projections.Metrics{}, []string{domain.EvCheckRecorded, domain.EvChecksSummarized, domain.EvMonitorDeleted}},
		{projections.Monitors{}, []string{domain.EvMonitorCreated, domain.EvMonitorUpdated, domain.EvMonitorPaused,
			domain.EvMonitorResumed, domain.EvMonitorDeleted, domain.EvCheckRecorded, domain.EvTagCreated,
			domain.EvTagDeleted, domain.EvRegionRegistered, domain.EvRegionDeactivated}},
		{projections.Notifications{}, []string{domain.EvNotificationChannelCreated, domain.EvNotificationChannelUpdated,
			domain.EvNotificationChannelDeleted, domain.EvNotificationRuleCreated, domain.EvNotificationRuleUpdated,
			domain.EvNotificationRuleDeleted, domain.EvMonitorDeleted, domain.EvNotificationQueued,
			domain.EvNotificationAttempted, domain.EvNotificationRetrying}},
		{projections.StatusPages{}, []string{domain.EvStatusPageCreated, domain.EvStatusPageUpdated,
			domain.EvStatusPageDeleted, domain.EvMonitorDeleted}},
	} {
		t.Run(tc.p.Name(), func(t *testing.T) { registrytest.Handles(t, tc.p, tc.want...) })
	}
}

// No source file of the package names an event type with a string literal,
// and no Handles method holds a string literal at all: types are named by
// the domain.Ev* constants, so a typo does not compile.
func TestNoEventTypeLiterals(t *testing.T) {
	registrytest.NoEventTypeLiterals(t, ".")
}
