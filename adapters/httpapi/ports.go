package httpapi

import (
	"context"
	"time"

	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/projections"
)

// The API reads the read models and runs commands through the interfaces
// below, declared here where they are used; main passes
// *projections.Queries and the commands package's handlers, tests may pass
// in-memory doubles. Unless a comment says otherwise, a read returns
// ErrNotFound for what is missing or another account's, and a command the
// error codes of its domain decision (ErrInvalid, ErrNotFound, ErrConflict,
// ErrLimit, ErrForbidden).

// Queries is every read the API makes.
type Queries interface {
	AccountReads
	MonitorReads
	MetricsReads
	ProbeReads
	IncidentReads
	MaintenanceReads
	NotificationReads
	StatusPageReads
	ProjectionReads
}

var _ Queries = (*projections.Queries)(nil)

// AccountReads are accounts, users, invites, API keys and billing.
type AccountReads interface {
	Account(ctx context.Context, id int64) (projections.AccountRow, error)
	User(ctx context.Context, accountID, id int64) (projections.UserRow, error)
	// UserByEmail finds a user by normalised email address, in any account.
	UserByEmail(ctx context.Context, email string) (projections.UserRow, error)
	Users(ctx context.Context, accountID int64) ([]projections.UserRow, error)
	PendingInvites(ctx context.Context, accountID int64, now time.Time) ([]projections.InviteRow, error)
	// Invite returns an invitation in any state. Errors: ErrNotFound.
	Invite(ctx context.Context, accountID, id int64) (projections.InviteRow, error)
	APIKey(ctx context.Context, accountID, id int64) (projections.APIKeyRow, error)
	// APIKeyByHash finds a key by the hash of its secret (commands.HashAPIKey).
	APIKeyByHash(ctx context.Context, hash string) (projections.APIKeyRow, error)
	APIKeys(ctx context.Context, accountID int64, userID int64) ([]projections.APIKeyRow, error)
	Usage(ctx context.Context, accountID int64, now time.Time) (projections.Usage, error)
	Subscription(ctx context.Context, accountID int64) (projections.SubscriptionRow, error)
}

// MonitorReads are monitors, their tags and their check history.
type MonitorReads interface {
	Monitor(ctx context.Context, accountID, id int64) (projections.MonitorView, error)
	Monitors(ctx context.Context, accountID int64, f projections.MonitorFilter, skip, limit int) ([]projections.MonitorView, error)
	// MonitorsByID returns the account's monitors among ids, lowest id first.
	MonitorsByID(ctx context.Context, accountID int64, ids []int64) ([]projections.MonitorView, error)
	// MonitorByPushToken finds a push monitor by its token, in any account.
	MonitorByPushToken(ctx context.Context, token string) (projections.PushMonitor, error)
	Tags(ctx context.Context, accountID int64) ([]projections.TagRow, error)
	// MonitorNames returns the names of the account's monitors among ids.
	MonitorNames(ctx context.Context, accountID int64, ids []int64) (map[int64]string, error)
	History(ctx context.Context, monitorID int64, since time.Time, skip, limit int) ([]projections.CheckRow, error)
	// HistoryBefore pages back through a monitor's results: those older
	// than the check at (before, beforeRegion), newest first; a zero
	// before starts from the newest.
	HistoryBefore(ctx context.Context, monitorID int64, before time.Time, beforeRegion int64, limit int) ([]projections.CheckRow, error)
	// MonitorChoices lists the account's monitors' ids and names, by name.
	MonitorChoices(ctx context.Context, accountID int64) ([]projections.MonitorChoice, error)
	// DashboardMonitors is a page of the dashboard's list with its total.
	DashboardMonitors(ctx context.Context, accountID int64, f projections.DashboardFilter, skip, limit int) (projections.DashboardPage, error)
}

// MetricsReads are the figures computed from check results.
type MetricsReads interface {
	Summary(ctx context.Context, monitorID int64, start, end, now time.Time) (projections.Summary, error)
	Timeseries(ctx context.Context, monitorID int64, start, end, now time.Time, bucket time.Duration) ([]projections.Point, error)
	RegionLatencies(ctx context.Context, monitorID int64, since, until time.Time) ([]projections.RegionLatency, error)
	// LatencySeries is p50 and p95 per bucket and region on one x axis;
	// ErrInvalid for an empty range or too many buckets.
	LatencySeries(ctx context.Context, monitorID int64, start, end, now time.Time, bucket time.Duration) (projections.LatencySeries, error)
	Overview(ctx context.Context, accountID int64, now time.Time) (projections.Overview, error)
	Regions(ctx context.Context) ([]projections.RegionRow, error)
}

// ProbeReads are what remote probe agents ask for.
type ProbeReads interface {
	// ActiveRegions returns the ids of active regions, lowest first.
	ActiveRegions(ctx context.Context) ([]int64, error)
	// Assignments are the checks a region's probe runs.
	Assignments(ctx context.Context, regionID int64) ([]domain.CheckAssignment, error)
	// AssignmentsVersion changes whenever the region's assignments do (the ETag).
	AssignmentsVersion(ctx context.Context, regionID int64) (string, error)
}

// IncidentReads are incidents and their timelines.
type IncidentReads interface {
	Incident(ctx context.Context, accountID, id int64) (projections.IncidentRow, []projections.TimelineRow, error)
	IncidentsList(ctx context.Context, accountID int64, f projections.IncidentFilter, skip, limit int) ([]projections.IncidentRow, error)
	CountIncidents(ctx context.Context, accountID int64) (projections.IncidentCounts, error)
	// IncidentsPage is the dashboard's list: open incidents first, then newest.
	IncidentsPage(ctx context.Context, accountID int64, f projections.IncidentPageFilter, skip, limit int) (projections.IncidentPage, error)
}

// MaintenanceReads are maintenance windows, as in effect at now.
type MaintenanceReads interface {
	MaintenanceWindow(ctx context.Context, accountID, id int64, now time.Time) (projections.WindowView, error)
	MaintenanceWindows(ctx context.Context, accountID int64, now time.Time) ([]projections.WindowView, error)
}

// NotificationReads are channels, rules and deliveries.
type NotificationReads interface {
	// Channels returns the account's channels, or only channel id when id > 0.
	Channels(ctx context.Context, accountID int64, id int64) ([]projections.ChannelView, error)
	// Rules returns the account's rules, or only rule id when id > 0.
	Rules(ctx context.Context, accountID, id int64) ([]projections.RuleView, error)
	Deliveries(ctx context.Context, accountID, channelID int64, skip, limit int) ([]projections.DeliveryRow, error)
	// ChannelForDelivery returns a channel's config and opened secret, and
	// whether it is enabled.
	ChannelForDelivery(ctx context.Context, id int64) (domain.ChannelConfig, string, bool, error)
}

// StatusPageReads are the account's status pages.
type StatusPageReads interface {
	StatusPage(ctx context.Context, accountID, id int64) (projections.StatusPageView, error)
	StatusPages(ctx context.Context, accountID int64) ([]projections.StatusPageView, error)
}

// ProjectionReads say how far the projectors are.
type ProjectionReads interface {
	// WaitFor returns once every projector named has applied the event at
	// pos, or ctx's error.
	WaitFor(ctx context.Context, names []string, pos domain.Position) error
	ProjectorStatuses(ctx context.Context, names []string) ([]projections.ProjectorStatus, error)
	RegionActivity(ctx context.Context, now time.Time) ([]projections.RegionActivity, error)
	HasAccounts(ctx context.Context) (bool, error)
}

// Commands the API runs, one interface per command (commands.NewXHandler
// returns each).
type (
	Signup interface {
		Handle(ctx context.Context, cmd commands.Signup) (commands.SignupResult, error)
	}
	// A user's own profile and second factor (commands/profile.go,
	// commands/twofactor.go).
	RenameUser interface {
		Handle(ctx context.Context, cmd commands.RenameUser) (domain.Position, error)
	}
	ChangePassword interface {
		Handle(ctx context.Context, cmd commands.ChangePassword) (domain.Position, error)
	}
	StartTwoFactor interface {
		Handle(ctx context.Context, cmd commands.StartTwoFactor) (commands.TwoFactorEnrolment, error)
	}
	ConfirmTwoFactor interface {
		Handle(ctx context.Context, cmd commands.ConfirmTwoFactor) (commands.RecoveryCodes, error)
	}
	DisableTwoFactor interface {
		Handle(ctx context.Context, cmd commands.DisableTwoFactor) (domain.Position, error)
	}
	UseSecondFactor interface {
		// Handle spends a TOTP or recovery code; a wrong one is ErrUnauthorized.
		Handle(ctx context.Context, cmd commands.UseSecondFactor) (domain.Position, error)
	}
	InviteMember interface {
		Handle(ctx context.Context, cmd commands.InviteMember) (int64, domain.Position, error)
	}
	AcceptInvite interface {
		Handle(ctx context.Context, cmd commands.AcceptInvite) (commands.AcceptInviteResult, error)
	}
	CreateAPIKey interface {
		Handle(ctx context.Context, cmd commands.CreateAPIKey) (commands.CreatedAPIKey, error)
	}
	RevokeAPIKey interface {
		Handle(ctx context.Context, cmd commands.RevokeAPIKey) (domain.Position, error)
	}
	CreateMonitor interface {
		Handle(ctx context.Context, cmd commands.CreateMonitor) (int64, domain.Position, error)
	}
	UpdateMonitor interface {
		Handle(ctx context.Context, cmd commands.UpdateMonitor) (domain.Position, error)
	}
	SetMonitorState interface {
		Handle(ctx context.Context, cmd commands.SetMonitorState) (domain.Position, error)
	}
	CreateTag interface {
		Handle(ctx context.Context, cmd commands.CreateTag) (int64, domain.Position, error)
	}
	CreateMonitors interface {
		Handle(ctx context.Context, cmd commands.CreateMonitors) ([]commands.CreatedMonitor, domain.Position, error)
	}
	ImportMonitors interface {
		Handle(ctx context.Context, cmd commands.ImportMonitors) (commands.ImportResult, error)
	}
	// ImportFiles reads the files monitors are imported from
	// (adapters/importfile.Files).
	ImportFiles interface {
		// Format picks the format a ?format= value names or, when it is
		// empty, the one a Content-Type names; false when they name none.
		Format(name, contentType string) (string, bool)
		// Parse reads a file. Errors: ErrInvalid, naming the line, for a
		// file that does not parse, holds nothing or holds too much.
		Parse(format string, data []byte) ([]commands.ImportEntry, error)
	}
	DeleteTag interface {
		Handle(ctx context.Context, cmd commands.DeleteTag) (domain.Position, error)
	}
	UpdateAccount interface {
		Handle(ctx context.Context, cmd commands.UpdateAccount) (domain.Position, error)
	}
	RegisterRegion interface {
		// Handle registers a probe's region, or returns the one of that code.
		Handle(ctx context.Context, cmd commands.RegisterRegion) (int64, domain.Position, error)
	}
	RecordChecks interface {
		// Handle appends check results (region 0: push heartbeats) and
		// returns how many were new.
		Handle(ctx context.Context, cmd commands.RecordChecks) (int, domain.Position, error)
	}
	Heartbeats interface {
		// Record records a push monitor's heartbeat and returns once it
		// is durable in the log.
		Record(ctx context.Context, monitorID int64, at time.Time) error
	}
	PushTokens interface {
		// MonitorByPushToken finds a push monitor by its token, perhaps
		// from memory a moment old.
		MonitorByPushToken(ctx context.Context, token string) (projections.PushMonitor, error)
	}
	AcknowledgeIncident interface {
		Handle(ctx context.Context, cmd commands.AcknowledgeIncident) (domain.Position, error)
	}
	SnoozeIncident interface {
		Handle(ctx context.Context, cmd commands.SnoozeIncident) (domain.Position, error)
	}
	CommentIncident interface {
		Handle(ctx context.Context, cmd commands.CommentIncident) (domain.Position, error)
	}
	ScheduleMaintenance interface {
		Handle(ctx context.Context, cmd commands.ScheduleMaintenance) (int64, domain.Position, error)
	}
	UpdateMaintenance interface {
		Handle(ctx context.Context, cmd commands.UpdateMaintenance) (domain.Position, error)
	}
	ToggleMaintenance interface {
		Handle(ctx context.Context, cmd commands.ToggleMaintenance) (domain.Position, error)
	}
	DeleteMaintenance interface {
		Handle(ctx context.Context, cmd commands.DeleteMaintenance) (domain.Position, error)
	}
	CreateChannel interface {
		// Handle returns the new channel's id and its signing secret, if any.
		Handle(ctx context.Context, cmd commands.CreateChannel) (int64, string, domain.Position, error)
	}
	UpdateChannel interface {
		Handle(ctx context.Context, cmd commands.UpdateChannel) (domain.Position, error)
	}
	DeleteChannel interface {
		Handle(ctx context.Context, cmd commands.DeleteChannel) (domain.Position, error)
	}
	CreateRule interface {
		Handle(ctx context.Context, cmd commands.CreateRule) (int64, domain.Position, error)
	}
	UpdateRule interface {
		Handle(ctx context.Context, cmd commands.UpdateRule) (domain.Position, error)
	}
	DeleteRule interface {
		Handle(ctx context.Context, cmd commands.DeleteRule) (domain.Position, error)
	}
	StartCheckout interface {
		// Handle returns the provider's checkout page; ErrNotEnabled
		// without a payment provider.
		Handle(ctx context.Context, cmd commands.StartCheckout) (string, domain.Position, error)
	}
	OpenPortal interface {
		// Handle returns the provider's billing portal page; ErrNotEnabled
		// without a payment provider.
		Handle(ctx context.Context, cmd commands.OpenPortal) (string, error)
	}
	ApplyProviderEvent interface {
		Handle(ctx context.Context, cmd commands.ApplyProviderEvent) (commands.BillingResult, error)
	}
	CreateStatusPage interface {
		Handle(ctx context.Context, cmd commands.CreateStatusPage) (int64, domain.Position, error)
	}
	UpdateStatusPage interface {
		Handle(ctx context.Context, cmd commands.UpdateStatusPage) (domain.Position, error)
	}
	DeleteStatusPage interface {
		Handle(ctx context.Context, cmd commands.DeleteStatusPage) (domain.Position, error)
	}
)
