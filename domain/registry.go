package domain

import (
	"fmt"
	"slices"
)

// The names of the event types, as the log stores them. Read models and
// workers name the types they handle with these constants, never with a
// string literal, so a misspelt type is a compile error instead of a
// silently skipped event. Each event struct's EventType returns its
// constant; a name is never reused or changed once events carry it.
const (
	EvAccountOpened              = "AccountOpened"
	EvAccountUpdated             = "AccountUpdated"
	EvPlanChanged                = "PlanChanged"
	EvMemberInvited              = "MemberInvited"
	EvMemberJoined               = "MemberJoined"
	EvMemberRoleChanged          = "MemberRoleChanged"
	EvMemberRemoved              = "MemberRemoved"
	EvInviteRevoked              = "InviteRevoked"
	EvInviteResent               = "InviteResent"
	EvBillingCustomerLinked      = "BillingCustomerLinked"
	EvSubscriptionChanged        = "SubscriptionChanged"
	EvUserRegistered             = "UserRegistered"
	EvEmailClaimed               = "EmailClaimed"
	EvEmailReleased              = "EmailReleased"
	EvAPIKeyCreated              = "APIKeyCreated"
	EvAPIKeyRevoked              = "APIKeyRevoked"
	EvMonitorCreated             = "MonitorCreated"
	EvMonitorUpdated             = "MonitorUpdated"
	EvMonitorPaused              = "MonitorPaused"
	EvMonitorResumed             = "MonitorResumed"
	EvMonitorDeleted             = "MonitorDeleted"
	EvCheckRecorded              = "CheckRecorded"
	EvChecksSummarized           = "ChecksSummarized"
	EvRegionRegistered           = "RegionRegistered"
	EvRegionDeactivated          = "RegionDeactivated"
	EvTagCreated                 = "TagCreated"
	EvTagDeleted                 = "TagDeleted"
	EvMaintenanceScheduled       = "MaintenanceScheduled"
	EvMaintenanceUpdated         = "MaintenanceUpdated"
	EvMaintenanceToggled         = "MaintenanceToggled"
	EvMaintenanceDeleted         = "MaintenanceDeleted"
	EvNotificationChannelCreated = "NotificationChannelCreated"
	EvNotificationChannelUpdated = "NotificationChannelUpdated"
	EvNotificationChannelDeleted = "NotificationChannelDeleted"
	EvNotificationRuleCreated    = "NotificationRuleCreated"
	EvNotificationRuleUpdated    = "NotificationRuleUpdated"
	EvNotificationRuleDeleted    = "NotificationRuleDeleted"
	EvNotificationQueued         = "NotificationQueued"
	EvNotificationAttempted      = "NotificationAttempted"
	EvNotificationSuppressed     = "NotificationSuppressed"
	EvNotificationRetrying       = "NotificationRetrying"
	EvIncidentTriggered          = "IncidentTriggered"
	EvIncidentAcknowledged       = "IncidentAcknowledged"
	EvIncidentSnoozed            = "IncidentSnoozed"
	EvIncidentCommented          = "IncidentCommented"
	EvIncidentResolved           = "IncidentResolved"
	EvIncidentOpened             = "IncidentOpened"
	EvIncidentClosed             = "IncidentClosed"
	EvStatusPageCreated          = "StatusPageCreated"
	EvStatusPageUpdated          = "StatusPageUpdated"
	EvStatusPageDeleted          = "StatusPageDeleted"
	EvSubdomainClaimed           = "SubdomainClaimed"
	EvSubdomainReleased          = "SubdomainReleased"
	EvQuotaSeeded                = "QuotaSeeded"
	EvQuotaSlotReserved          = "QuotaSlotReserved"
	EvQuotaSlotReleased          = "QuotaSlotReleased"
	// A user's own profile and second factor (domain/user.go, twofactor.go).
	EvUserRenamed               = "UserRenamed"
	EvPasswordChanged           = "PasswordChanged"
	EvTwoFactorEnrolmentStarted = "TwoFactorEnrolmentStarted"
	EvTwoFactorEnabled          = "TwoFactorEnabled"
	EvTwoFactorDisabled         = "TwoFactorDisabled"
	EvTwoFactorCodeUsed         = "TwoFactorCodeUsed"
	EvRecoveryCodeUsed          = "RecoveryCodeUsed"
)

// eventFactories is the one list of event types this build knows: each
// entry makes a zero value to decode a payload into. Decode, EventTypes and
// IsEventType all read the table built from it; a type missing here is
// skipped by every reader, as an unknown type from a newer writer is.
var eventFactories = [...]func() Event{
	func() Event { return &AccountOpened{} },
	func() Event { return &AccountUpdated{} },
	func() Event { return &PlanChanged{} },
	func() Event { return &MemberInvited{} },
	func() Event { return &MemberJoined{} },
	func() Event { return &MemberRoleChanged{} },
	func() Event { return &MemberRemoved{} },
	func() Event { return &InviteRevoked{} },
	func() Event { return &InviteResent{} },
	func() Event { return &BillingCustomerLinked{} },
	func() Event { return &SubscriptionChanged{} },
	func() Event { return &UserRegistered{} },
	func() Event { return &EmailClaimed{} },
	func() Event { return &EmailReleased{} },
	func() Event { return &APIKeyCreated{} },
	func() Event { return &APIKeyRevoked{} },
	func() Event { return &MonitorCreated{} },
	func() Event { return &MonitorUpdated{} },
	func() Event { return &MonitorPaused{} },
	func() Event { return &MonitorResumed{} },
	func() Event { return &MonitorDeleted{} },
	func() Event { return &CheckRecorded{} },
	func() Event { return &ChecksSummarized{} },
	func() Event { return &RegionRegistered{} },
	func() Event { return &RegionDeactivated{} },
	func() Event { return &TagCreated{} },
	func() Event { return &TagDeleted{} },
	func() Event { return &MaintenanceScheduled{} },
	func() Event { return &MaintenanceUpdated{} },
	func() Event { return &MaintenanceToggled{} },
	func() Event { return &MaintenanceDeleted{} },
	func() Event { return &ChannelCreated{} },
	func() Event { return &ChannelUpdated{} },
	func() Event { return &ChannelDeleted{} },
	func() Event { return &RuleCreated{} },
	func() Event { return &RuleUpdated{} },
	func() Event { return &RuleDeleted{} },
	func() Event { return &NotificationQueued{} },
	func() Event { return &NotificationAttempted{} },
	func() Event { return &NotificationSuppressed{} },
	func() Event { return &NotificationRetrying{} },
	func() Event { return &IncidentTriggered{} },
	func() Event { return &IncidentAcknowledged{} },
	func() Event { return &IncidentSnoozed{} },
	func() Event { return &IncidentCommented{} },
	func() Event { return &IncidentResolved{} },
	func() Event { return &IncidentOpened{} },
	func() Event { return &IncidentClosed{} },
	func() Event { return &StatusPageCreated{} },
	func() Event { return &StatusPageUpdated{} },
	func() Event { return &StatusPageDeleted{} },
	func() Event { return &SubdomainClaimed{} },
	func() Event { return &SubdomainReleased{} },
	func() Event { return &QuotaSeeded{} },
	func() Event { return &QuotaSlotReserved{} },
	func() Event { return &QuotaSlotReleased{} },
	func() Event { return &UserRenamed{} },
	func() Event { return &PasswordChanged{} },
	func() Event { return &TwoFactorEnrolmentStarted{} },
	func() Event { return &TwoFactorEnabled{} },
	func() Event { return &TwoFactorDisabled{} },
	func() Event { return &TwoFactorCodeUsed{} },
	func() Event { return &RecoveryCodeUsed{} },
}

// eventTable maps each registered type name to its factory. It is built
// once from eventFactories and never written afterwards.
var eventTable = buildEventTable()

func buildEventTable() map[string]func() Event {
	t := make(map[string]func() Event, len(eventFactories))
	for _, f := range eventFactories {
		typ := f().EventType()
		if _, dup := t[typ]; dup {
			panic(fmt.Sprintf("domain: event type %s registered twice", typ))
		}
		t[typ] = f
	}
	return t
}

// newEvent returns a zero value of the event named typ, or nil.
func newEvent(typ string) Event {
	if f, ok := eventTable[typ]; ok {
		return f()
	}
	return nil
}

// EventTypes returns the name of every registered event type, sorted.
func EventTypes() []string {
	out := make([]string, 0, len(eventTable))
	for typ := range eventTable {
		out = append(out, typ)
	}
	slices.Sort(out)
	return out
}

// IsEventType reports whether typ names a registered event type.
func IsEventType(typ string) bool {
	_, ok := eventTable[typ]
	return ok
}
