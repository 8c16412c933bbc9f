package main

import (
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/medialuna/medialuna/adapters/eventstoredb"
	"github.com/medialuna/medialuna/adapters/httpapi"
	"github.com/medialuna/medialuna/adapters/importfile"
	"github.com/medialuna/medialuna/adapters/mail"
	"github.com/medialuna/medialuna/adapters/metrics"
	"github.com/medialuna/medialuna/adapters/postgres"
	"github.com/medialuna/medialuna/adapters/probe"
	"github.com/medialuna/medialuna/adapters/probeagent"
	"github.com/medialuna/medialuna/adapters/statushtml"
	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/processes"
	"github.com/medialuna/medialuna/projections"
)

type serveConfig struct {
	commonConfig
	Addr                string
	BaseURL             string
	JWTSecret           string
	SMTP                mail.Config
	MinCheckInterval    int
	BlockPrivateTargets bool
	ProbeToken          string
	OperatorToken       string
	Region              regionConfig
	EmbeddedProbe       bool
	ProbeWorkers        int // deprecated: ProbeMaxInFlight
	ProbeMaxInFlight    int
	ProbeAccountMax     int
	TrustProxyHeaders   bool
	LoginFailures       int
	LoginFailureWindow  time.Duration
	Notify              notifyConfig
	Dispatch            processes.DispatcherConfig
	Billing             billingConfig
	StatusDomain        string
	StatusCacheTTL      time.Duration
	MetricsAddr         string
	MetricsMaxMonitors  int
	Signup              domain.SignupPolicy
	CheckRetention      time.Duration
	SummaryGrace        time.Duration
}

// regionConfig names the region a probe checks from.
type regionConfig struct {
	Code     string
	Name     string
	Lat, Lng float64
}

func (r *regionConfig) register(fs *flag.FlagSet, code, name string) {
	fs.StringVar(&r.Code, "region", env("MEDIALUNA_REGION", code), "region code this probe checks from, e.g. eu-west (env MEDIALUNA_REGION)")
	fs.StringVar(&r.Name, "name", env("MEDIALUNA_REGION_NAME", name), "region display name (env MEDIALUNA_REGION_NAME)")
	fs.Float64Var(&r.Lat, "lat", envFloat("MEDIALUNA_REGION_LAT"), "region latitude (env MEDIALUNA_REGION_LAT)")
	fs.Float64Var(&r.Lng, "lng", envFloat("MEDIALUNA_REGION_LNG"), "region longitude (env MEDIALUNA_REGION_LNG)")
}

// serveMain is 'medialuna serve': parseFlags reads the configuration, open
// connects the data layer and builds the commands, run starts the workers
// and serves the API until ctx ends, and close drains and releases
// everything (the shape of benbjohnson/wtf's cmd/wtfd Main). It only wires:
// every policy lives in the packages it calls.
type serveMain struct {
	config         serveConfig
	stdout, stderr io.Writer
	log            *slog.Logger

	// Set by open.
	app       *app
	ln        net.Listener
	baseURL   string
	jwtSecret string
	queries   *projections.Queries
	mailer    processes.Mailer
	senders   map[domain.ChannelType]processes.Sender
	tokens    commands.InviteTokens
	limiter   *postgres.RateLimiter
	sessions  *postgres.Sessions
	cmds      serveCommands
	metrics   *metrics.Registry
	metricsLn net.Listener // --metrics-addr, or nil

	// stopWakeups closes the LISTEN connection that wakes the writes
	// waiting for their read models (Queries.ListenForCheckpoints).
	stopWakeups func()

	// Set by run.
	srv            *http.Server
	bgCtx          context.Context
	stopBackground context.CancelFunc
	background     sync.WaitGroup
}

// serveCommands are the command handlers the API and the workers share.
type serveCommands struct {
	registerRegion *commands.RegisterRegionHandler
	recordChecks   metrics.ChecksRecorder
	payments       commands.Payments
	webhooks       httpapi.BillingWebhook
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	m := &serveMain{stdout: stdout, stderr: stderr}
	if err := m.parseFlags(args); err != nil {
		return err
	}
	defer m.close()
	if err := m.open(ctx); err != nil {
		return err
	}
	return m.run(ctx)
}

// parseFlags reads the flags, with their environment fallbacks, and checks
// them.
func (m *serveMain) parseFlags(args []string) error {
	c := &m.config
	fs := newFlagSet("serve", "Runs the API, the projectors, the incident detector, the mailer, the push watchdog and an embedded probe.\nReady when GET /healthz answers 200; SIGTERM drains and exits 0.", m.stderr)
	c.register(fs)
	fs.StringVar(&c.Addr, "addr", env("MEDIALUNA_ADDR", "127.0.0.1:8080"), "address to listen on (env MEDIALUNA_ADDR)")
	fs.StringVar(&c.BaseURL, "base-url", env("MEDIALUNA_BASE_URL", ""), "public URL of this server, used in emails (env MEDIALUNA_BASE_URL; default http://ADDR)")
	fs.StringVar(&c.JWTSecret, "jwt-secret", env("MEDIALUNA_JWT_SECRET", ""), "HS256 secret for access tokens (env MEDIALUNA_JWT_SECRET; generated and stored in the database when empty)")
	fs.StringVar(&c.SMTP.Addr, "smtp-addr", env("MEDIALUNA_SMTP_ADDR", ""), "SMTP server host:port for outgoing mail (env MEDIALUNA_SMTP_ADDR; empty logs emails instead)")
	fs.StringVar(&c.SMTP.From, "smtp-from", env("MEDIALUNA_SMTP_FROM", "Media Luna <noreply@localhost>"), "From address (env MEDIALUNA_SMTP_FROM)")
	fs.StringVar(&c.SMTP.Username, "smtp-username", env("MEDIALUNA_SMTP_USERNAME", ""), "SMTP username (env MEDIALUNA_SMTP_USERNAME)")
	fs.StringVar(&c.SMTP.Password, "smtp-password", env("MEDIALUNA_SMTP_PASSWORD", ""), "SMTP password (env MEDIALUNA_SMTP_PASSWORD)")
	fs.StringVar(&c.SMTP.TLS, "smtp-tls", env("MEDIALUNA_SMTP_TLS", "starttls"), "none, starttls or tls (env MEDIALUNA_SMTP_TLS)")
	fs.IntVar(&c.MinCheckInterval, "min-check-interval", envInt("MEDIALUNA_MIN_CHECK_INTERVAL"), "seconds: lowers every plan's minimum check_interval to this floor (env MEDIALUNA_MIN_CHECK_INTERVAL)")
	fs.BoolVar(&c.BlockPrivateTargets, "block-private-targets", env("MEDIALUNA_BLOCK_PRIVATE_TARGETS", "") == "true", "refuse targets that are not globally reachable (loopback, private networks, IANA special-purpose ranges), for multi-tenant hosting (env MEDIALUNA_BLOCK_PRIVATE_TARGETS=true)")
	fs.StringVar(&c.ProbeToken, "probe-token", env("MEDIALUNA_PROBE_TOKEN", ""), "shared secret remote probe agents present; empty disables remote probes (env MEDIALUNA_PROBE_TOKEN)")
	fs.StringVar(&c.OperatorToken, "operator-token", env("MEDIALUNA_OPERATOR_TOKEN", ""), "secret the server's operator presents on GET /api/admin/projections (at least 16 characters); empty disables that endpoint (env MEDIALUNA_OPERATOR_TOKEN)")
	fs.BoolVar(&c.EmbeddedProbe, "embedded-probe", env("MEDIALUNA_EMBEDDED_PROBE", "true") != "false", "run a probe for the server's own region (env MEDIALUNA_EMBEDDED_PROBE=false to disable)")
	fs.IntVar(&c.ProbeMaxInFlight, "probe-max-in-flight", max(envInt("MEDIALUNA_PROBE_MAX_IN_FLIGHT"), 0),
		fmt.Sprintf("checks the embedded probe has in flight at once, over all accounts (env MEDIALUNA_PROBE_MAX_IN_FLIGHT; default %d)", probeagent.DefaultMaxInFlight))
	fs.IntVar(&c.ProbeAccountMax, "probe-account-max-in-flight", max(envInt("MEDIALUNA_PROBE_ACCOUNT_MAX_IN_FLIGHT"), 0),
		fmt.Sprintf("checks of one account the embedded probe has in flight at once (env MEDIALUNA_PROBE_ACCOUNT_MAX_IN_FLIGHT; default %d, or a quarter of the ceiling when that is less)", probeagent.DefaultAccountMaxInFlight))
	fs.IntVar(&c.ProbeWorkers, "probe-workers", max(envInt("MEDIALUNA_PROBE_WORKERS"), 0), "deprecated: the same as --probe-max-in-flight (env MEDIALUNA_PROBE_WORKERS)")
	fs.BoolVar(&c.TrustProxyHeaders, "trust-proxy-headers", env("MEDIALUNA_TRUST_PROXY_HEADERS", "") == "true", "take client addresses from X-Forwarded-For / X-Real-IP, behind a reverse proxy only (env MEDIALUNA_TRUST_PROXY_HEADERS=true)")
	fs.IntVar(&c.LoginFailures, "login-failure-limit", max(envInt("MEDIALUNA_LOGIN_FAILURE_LIMIT"), 0), "failed logins for one email address, from any client addresses, after which its logins are refused (429) until the window ends (env MEDIALUNA_LOGIN_FAILURE_LIMIT; default 10)")
	loginWindow, _ := time.ParseDuration(env("MEDIALUNA_LOGIN_FAILURE_WINDOW", "15m"))
	fs.DurationVar(&c.LoginFailureWindow, "login-failure-window", loginWindow, "how long the failed-login window of an email address lasts, from its first failure, at most 24h (env MEDIALUNA_LOGIN_FAILURE_WINDOW)")
	fs.StringVar(&c.StatusDomain, "status-domain", env("MEDIALUNA_STATUS_DOMAIN", ""), "serve status page NAME at NAME.<this domain> too, e.g. status.example.com (env MEDIALUNA_STATUS_DOMAIN; empty: only under /status/NAME)")
	ttl, _ := time.ParseDuration(env("MEDIALUNA_STATUS_CACHE_TTL", "5s"))
	fs.DurationVar(&c.StatusCacheTTL, "status-cache-ttl", ttl, "how long a rendered public status page is served before it is rebuilt (env MEDIALUNA_STATUS_CACHE_TTL)")
	fs.Func("signup", "who may open an account by signing up: open (anyone), invite (the first person, then by invitation) or closed (nobody; medialuna accounts create) (env MEDIALUNA_SIGNUP; default invite)",
		func(v string) (err error) { c.Signup, err = domain.ParseSignupPolicy(v); return err })
	fs.StringVar(&c.MetricsAddr, "metrics-addr", env("MEDIALUNA_METRICS_ADDR", ""), "also serve the Prometheus metrics at /metrics on this address, without a token, e.g. 127.0.0.1:9464 (env MEDIALUNA_METRICS_ADDR; empty: only GET /metrics on --addr, with the operator token)")
	fs.IntVar(&c.MetricsMaxMonitors, "metrics-max-monitors", envIntOr("MEDIALUNA_METRICS_MAX_MONITORS", metrics.DefaultMaxMonitors),
		"monitors with series of their own in /metrics, lowest ids first (env MEDIALUNA_METRICS_MAX_MONITORS; -1: none)")
	c.Notify.register(fs)
	registerDispatch(fs, &c.Dispatch)
	c.Billing.register(fs)
	c.Region.register(fs, "local", "Local")
	retention, _ := time.ParseDuration(env("MEDIALUNA_CHECK_RETENTION", "720h"))
	fs.DurationVar(&c.CheckRetention, "check-retention", retention, "how long raw check results stay in the event log (and the raw-results read model), in whole days of scheduled time; older days are dropped, their hourly summaries stay; 0 keeps them forever (env MEDIALUNA_CHECK_RETENTION; default 720h, 30 days)")
	grace, _ := time.ParseDuration(env("MEDIALUNA_SUMMARY_GRACE", "1h"))
	fs.DurationVar(&c.SummaryGrace, "summary-grace", grace, "how long after an hour ends its check results are summarized; results arriving later stay raw but no longer count in the hour's rollup (env MEDIALUNA_SUMMARY_GRACE)")
	if c.Signup == "" {
		policy, err := domain.ParseSignupPolicy(env("MEDIALUNA_SIGNUP", string(domain.SignupInvite)))
		if err != nil {
			return fmt.Errorf("MEDIALUNA_SIGNUP: %w", err)
		}
		c.Signup = policy
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	c.Billing.resolve()
	if c.LoginFailureWindow < 0 || c.LoginFailureWindow > postgres.MaxLoginWindow {
		return fmt.Errorf("--login-failure-window must be between 0 (default 15m) and 24h")
	}
	// A day is dropped only once its hours are summarized: the retention
	// must outlast the summary grace by a day.
	if c.CheckRetention != 0 && c.CheckRetention < 24*time.Hour {
		return fmt.Errorf("--check-retention must be 0 (keep every check) or at least 24h")
	}
	if c.SummaryGrace < 0 || c.SummaryGrace > 6*time.Hour {
		return fmt.Errorf("--summary-grace must be between 0 and 6h")
	}
	if c.OperatorToken != "" && len(c.OperatorToken) < 16 {
		return fmt.Errorf("--operator-token must be at least 16 characters: it guards server-wide figures and is not rate limited")
	}
	return nil
}

// open connects to the database and the event log, loads the server's
// secrets, listens, and builds the queries and the shared commands.
func (m *serveMain) open(ctx context.Context) error {
	c := &m.config
	m.log = c.logger(m.stderr)
	log := m.log
	a, err := openApp(ctx, c.commonConfig, log, true)
	if err != nil {
		return err
	}
	m.app = a
	if err := a.box.Check(ctx); err != nil {
		return err
	}
	if _, sealed, err := postgres.Setting(ctx, a.db, "secrets_log_sealed"); err != nil {
		return err
	} else if !sealed {
		log.Warn("the event log may hold credentials in plaintext, written before they were sealed: run 'medialuna secrets seal-log' once (docs/operations.md, Secrets)")
	}
	m.jwtSecret = c.JWTSecret
	if m.jwtSecret == "" {
		if m.jwtSecret, err = postgres.Secret(ctx, a.db, "jwt_secret"); err != nil {
			return fmt.Errorf("load JWT secret: %w", err)
		}
	}
	if m.ln, err = net.Listen("tcp", c.Addr); err != nil {
		return fmt.Errorf("listen on %s: %w", c.Addr, err)
	}
	if c.MetricsAddr != "" {
		if m.metricsLn, err = net.Listen("tcp", c.MetricsAddr); err != nil {
			return fmt.Errorf("listen on --metrics-addr %s: %w", c.MetricsAddr, err)
		}
	}
	m.baseURL = c.BaseURL
	if m.baseURL == "" {
		m.baseURL = "http://" + m.ln.Addr().String()
	}
	m.mailer = mail.NewLog(log)
	if c.SMTP.Addr != "" {
		m.mailer = mail.NewSMTP(c.SMTP)
	}
	inviteKey, err := postgres.Secret(ctx, a.db, "invite_secret")
	if err != nil {
		return err
	}
	inviteKeyBytes, _ := hex.DecodeString(inviteKey)
	m.tokens = commands.NewInviteTokens(inviteKeyBytes)
	m.queries = projections.NewQueries(a.db)
	m.stopWakeups = m.queries.ListenForCheckpoints(c.DatabaseURL, log)
	m.metrics = metrics.New(m.queries, metrics.Config{MaxMonitors: c.MetricsMaxMonitors, Log: log.With("component", "metrics")})
	m.senders = c.Notify.senders(m.mailer, c.BlockPrivateTargets)
	for typ, sender := range m.senders {
		m.senders[typ] = metrics.CountingSender{Next: sender, Type: typ, Registry: m.metrics}
	}
	m.limiter = postgres.NewRateLimiter(a.db, utcNow)
	m.sessions = postgres.NewSessions(a.db, utcNow)
	ids := postgres.NewIDs(a.db)
	m.cmds = serveCommands{
		registerRegion: commands.NewRegisterRegionHandler(a.store, ids, utcNow),
		recordChecks:   metrics.CountingRecorder{Next: commands.NewRecordChecksHandler(a.store, m.queries, m.queries), Registry: m.metrics},
	}
	if c.Billing.SecretKey != "" {
		installation, err := postgres.Secret(ctx, a.db, "installation_id")
		if err != nil {
			return err
		}
		client, err := c.Billing.client(installation[:16])
		if err != nil {
			return err
		}
		m.cmds.payments, m.cmds.webhooks = client, client
		log.Info("Stripe billing enabled", "api_url", c.Billing.APIURL, "webhooks", c.Billing.WebhookSecret != "")
	} else if c.Billing.WebhookSecret != "" {
		log.Warn("--stripe-webhook-secret is set without --stripe-secret-key: Stripe billing stays off")
	}
	return nil
}

// api builds the HTTP API; projectors names every projector running, for
// the operator's status page.
func (m *serveMain) api(projectors []string) *httpapi.Server {
	c, a, queries := &m.config, m.app, m.queries
	ids := postgres.NewIDs(a.db)
	// One handler for both forms: they share its queue on each account's
	// monitor quota stream.
	createMonitor := commands.NewCreateMonitorHandler(a.store, ids, utcNow, queries, c.MinCheckInterval)
	billingReturn := c.Billing.ReturnURL
	if billingReturn == "" {
		billingReturn = strings.TrimRight(m.baseURL, "/") + "/"
	}
	site := statushtml.New(statushtml.Config{Reader: queries, Log: m.log.With("component", "statuspages"), Now: utcNow,
		BaseURL: m.baseURL, StatusDomain: c.StatusDomain, TTL: c.StatusCacheTTL})
	deps := httpapi.Deps{
		// The log as stored: audit exports and replays show sealed
		// envelopes, never the credentials in them.
		Log: m.log.With("component", "http"), Store: a.raw, Queries: queries,
		ReadModels: settling(readModels()), Projectors: projectors,
		CreateMonitor:       createMonitor,
		CreateMonitors:      createMonitor.Batch(),
		UpdateMonitor:       commands.NewUpdateMonitorHandler(a.store, utcNow, queries, c.MinCheckInterval),
		SetMonitorState:     commands.NewSetMonitorStateHandler(a.store, utcNow, queries),
		CreateTag:           commands.NewCreateTagHandler(a.store, ids, utcNow, queries),
		DeleteTag:           commands.NewDeleteTagHandler(a.store, utcNow),
		ImportMonitors:      commands.NewImportMonitorsHandler(a.store, ids, utcNow, queries, c.MinCheckInterval),
		ImportFiles:         importfile.Files{},
		RegisterRegion:      m.cmds.registerRegion,
		RecordChecks:        m.cmds.recordChecks,
		Heartbeats:          commands.NewHeartbeatRecorder(m.cmds.recordChecks),
		PushTokens:          projections.NewPushTokens(queries.MonitorByPushToken, utcNow, time.Second),
		AcknowledgeIncident: commands.NewAcknowledgeIncidentHandler(a.store, utcNow),
		SnoozeIncident:      commands.NewSnoozeIncidentHandler(a.store, utcNow),
		CommentIncident:     commands.NewCommentIncidentHandler(a.store, utcNow),
		ScheduleMaintenance: commands.NewScheduleMaintenanceHandler(a.store, ids, utcNow, queries),
		UpdateMaintenance:   commands.NewUpdateMaintenanceHandler(a.store, ids, utcNow, queries),
		ToggleMaintenance:   commands.NewToggleMaintenanceHandler(a.store, ids, utcNow, queries),
		DeleteMaintenance:   commands.NewDeleteMaintenanceHandler(a.store, ids, utcNow, queries),
		CreateChannel:       commands.NewCreateChannelHandler(a.store, ids, utcNow, queries),
		UpdateChannel:       commands.NewUpdateChannelHandler(a.store, ids, utcNow, queries),
		DeleteChannel:       commands.NewDeleteChannelHandler(a.store, ids, utcNow, queries),
		CreateRule:          commands.NewCreateRuleHandler(a.store, ids, utcNow, queries),
		UpdateRule:          commands.NewUpdateRuleHandler(a.store, ids, utcNow, queries),
		DeleteRule:          commands.NewDeleteRuleHandler(a.store, ids, utcNow, queries),
		ApplyProviderEvent:  commands.NewApplyProviderEventHandler(a.store, utcNow, queries),
		StripeWebhook:       m.cmds.webhooks,
		CreateStatusPage:    commands.NewCreateStatusPageHandler(a.store, ids, utcNow, queries),
		UpdateStatusPage:    commands.NewUpdateStatusPageHandler(a.store, utcNow, queries),
		DeleteStatusPage:    commands.NewDeleteStatusPageHandler(a.store, utcNow),
		StatusSite:          site,
		Senders:             m.senders,
		ProbeToken:          c.ProbeToken, TrustProxyHeaders: c.TrustProxyHeaders, OperatorToken: c.OperatorToken,
		Metrics: m.metrics.Handler(), ObserveRequest: m.metrics.ObserveRequest,
		Signup: commands.NewSignupHandler(a.store, ids, utcNow).WithPolicy(c.Signup), SignupPolicy: c.Signup, MinCheckInterval: c.MinCheckInterval,
		Invite:        commands.NewInviteMemberHandler(a.store, ids, utcNow),
		AcceptInvite:  commands.NewAcceptInviteHandler(a.store, ids, utcNow, m.tokens),
		CreateAPIKey:  commands.NewCreateAPIKeyHandler(a.store, ids, utcNow, queries),
		RevokeAPIKey:  commands.NewRevokeAPIKeyHandler(a.store, utcNow),
		UpdateAccount: commands.NewUpdateAccountHandler(a.store, utcNow),
		RateLimiter:   m.limiter, JWTSecret: []byte(m.jwtSecret), Now: utcNow,
		BillingReturnURL: billingReturn, LoginFailuresPerWindow: c.LoginFailures, LoginFailureWindow: c.LoginFailureWindow,
		Sessions: m.sessions, InviteTokens: m.tokens,
		SecureCookies: strings.HasPrefix(m.baseURL, "https://"), BaseURL: strings.TrimRight(m.baseURL, "/"),
	}
	// The team's commands, and API keys' last use.
	deps.ChangeMemberRole = commands.NewChangeMemberRoleHandler(a.store, utcNow)
	deps.RemoveMember = commands.NewRemoveMemberHandler(a.store, utcNow, queries)
	deps.RevokeInvite = commands.NewRevokeInviteHandler(a.store, utcNow)
	deps.ResendInvite = commands.NewResendInviteHandler(a.store, ids, utcNow)
	deps.KeyUse = postgres.NewAPIKeyUse(a.db)

	// A user's own profile and second factor.
	deps.RenameUser = commands.NewRenameUserHandler(a.store, utcNow)
	deps.ChangePassword = commands.NewChangePasswordHandler(a.store, utcNow)
	deps.StartTwoFactor = commands.NewStartTwoFactorHandler(a.store, utcNow)
	deps.ConfirmTwoFactor = commands.NewConfirmTwoFactorHandler(a.store, utcNow)
	deps.DisableTwoFactor = commands.NewDisableTwoFactorHandler(a.store, utcNow)
	deps.UseSecondFactor = commands.NewUseSecondFactorHandler(a.store, utcNow)
	// Without a payment provider the API answers checkouts and portals
	// itself: plans are the operator's (accounts set-plan).
	if m.cmds.payments != nil {
		deps.StartCheckout = commands.NewStartCheckoutHandler(a.store, utcNow, m.cmds.payments)
		deps.OpenPortal = commands.NewOpenPortalHandler(a.store, m.cmds.payments)
	}
	return httpapi.New(deps)
}

// startWorkers starts, in the background until close, the projection
// runner over the read models and the projectors that act (invite mailer,
// incident detector, notifier), the dispatcher, the push watchdog, the
// pruning loop and the embedded probe. It returns the names of the
// projectors it runs.
func (m *serveMain) startWorkers(ctx context.Context) ([]string, error) {
	c, a, log, queries := &m.config, m.app, m.log, m.queries
	m.bgCtx, m.stopBackground = context.WithCancel(context.WithoutCancel(ctx))
	goBackground := m.goBackground

	notifier := processes.NewNotifier(a.db, queries, commands.NewQueueNotificationsHandler(a.store, utcNow), utcNow)
	detector := processes.NewIncidentDetector(commands.NewOpenIncidentHandler(a.store, postgres.NewIDs(a.db), utcNow),
		commands.NewCloseIncidentHandler(a.store, utcNow), utcNow)
	all := append(projectors(readModels()), processes.NewInviteMailer(m.mailer, m.tokens.Sign, strings.TrimRight(m.baseURL, "/")),
		detector, notifier)
	dispatcher := processes.NewDispatcher(a.db, a.store, queries, commands.NewRecordDeliveryHandler(a.store, utcNow), m.senders,
		log.With("component", "dispatcher"), utcNow, c.Dispatch)
	runner := projections.NewRunner(a.db, a.store, all, log.With("component", "projections"), projections.RunnerConfig{})
	watchdog := processes.NewPushWatchdog(queries, m.cmds.recordChecks, utcNow, log.With("component", "push"))

	if c.EmbeddedProbe {
		regionID, _, err := m.cmds.registerRegion.Handle(ctx, commands.RegisterRegion{Code: c.Region.Code, Name: c.Region.Name, Lat: c.Region.Lat, Lng: c.Region.Lng})
		if err != nil {
			return nil, fmt.Errorf("register the embedded probe's region %q: %w", c.Region.Code, err)
		}
		checker := probe.New(probe.Config{BlockPrivateTargets: c.BlockPrivateTargets, UserAgent: probeUserAgent(c.Region.Code)})
		agent := probeagent.New(probeagent.NewLocalSource(queries, regionID), probeagent.NewLocalSink(m.cmds.recordChecks, regionID), checker,
			log.With("component", "probe", "region", c.Region.Code), probeagent.Config{RegionID: regionID, StatsCallback: probeMetrics(m.metrics, c.Region.Code),
				MaxInFlight:        deprecatedWorkers(log, c.ProbeMaxInFlight, c.ProbeWorkers, "--probe-workers", "--probe-max-in-flight"),
				AccountMaxInFlight: c.ProbeAccountMax})
		goBackground(func(ctx context.Context) {
			// Its assignments come from the monitors read model: on a
			// fresh database, wait until it exists instead of warning
			// that it does not.
			if err := queries.WaitUntilBuilt(ctx, []string{projections.Monitors{}.Name()}); err != nil {
				return
			}
			agent.Run(ctx)
		})
		log.Info("embedded probe running", "region", c.Region.Code, "region_id", regionID)
	}
	goBackground(func(ctx context.Context) { notifier.RunTicks(ctx, 5*time.Second, log.With("component", "notifier")) })
	goBackground(watchdog.Run)
	goBackground(dispatcher.Run)
	goBackground(func(ctx context.Context) {
		if err := runner.Run(ctx); err != nil && ctx.Err() == nil {
			log.Error("projections stopped", "err", err)
		}
	})
	pruner := processes.NewPruner(m.queries, utcNow, log, m.limiter, m.sessions)
	if pg, ok := m.app.raw.(*postgres.EventStore); ok {
		// Check retention and summaries are the PostgreSQL log's; on
		// EventStoreDB the checks streams' $maxAge does it (eventstoredb.New).
		pruner.WithCheckRetention(pg, c.CheckRetention)
		summarize := commands.NewSummarizeChecksHandler(m.app.store, m.queries)
		goBackground(processes.NewSummarizer(m.queries, summarize, c.SummaryGrace, utcNow, log.With("component", "summarizer")).Run)
	} else if es, ok := m.app.raw.(*eventstoredb.EventStore); ok {
		es.SetCheckRetention(c.CheckRetention)
	}
	goBackground(pruner.Run)
	return projectorNames(all), nil
}

// goBackground runs run until close, in the background.
func (m *serveMain) goBackground(run func(ctx context.Context)) {
	m.background.Add(1)
	go func() {
		defer m.background.Done()
		run(m.bgCtx)
	}()
}

// run starts the workers, waits until the read models are built, and
// serves the API until ctx ends; then it drains in-flight requests.
func (m *serveMain) run(ctx context.Context) error {
	names, err := m.startWorkers(ctx)
	if err != nil {
		return err
	}
	m.metrics.SetProjectors(names)
	stopPprof, err := servePprof(m.log)
	if err != nil {
		return err
	}
	defer stopPprof()
	api := m.api(names)
	waitCtx, cancelWait := context.WithTimeout(ctx, 5*time.Minute)
	err = m.queries.WaitUntilBuilt(waitCtx, projectorNames(projectors(readModels())))
	cancelWait()
	if err != nil {
		return fmt.Errorf("read models were not built: %w", err)
	}
	m.goBackground(func(ctx context.Context) {
		if err := api.RunLive(ctx); err != nil {
			m.log.Error("dashboard live updates stopped", "err", err)
		}
	})
	m.srv = &http.Server{Handler: api.Handler(), ReadHeaderTimeout: 10 * time.Second}
	// Shutdown waits for open requests; the dashboards' event streams
	// never end by themselves.
	m.srv.RegisterOnShutdown(api.CloseLive)
	serveErr := make(chan error, 1)
	go func() { serveErr <- m.srv.Serve(m.ln) }()
	if m.metricsLn != nil {
		metricsSrv := &http.Server{Handler: metricsOnly(m.metrics.Handler()), ReadHeaderTimeout: 10 * time.Second}
		go metricsSrv.Serve(m.metricsLn)
		defer metricsSrv.Close()
		m.log.Info("serving metrics", "addr", m.metricsLn.Addr().String(), "path", "/metrics")
	}
	m.log.Info("Media Luna is serving", "addr", m.ln.Addr().String(), "event_store", m.config.EventStore)
	fmt.Fprintf(m.stdout, "Media Luna is listening on %s\nOpen %s/ in a browser to sign up, or with curl: curl -X POST %s/api/auth/signup -H 'Content-Type: application/json' -d '{\"email\":\"you@example.com\",\"password\":\"a long password\",\"account_name\":\"My team\"}'\n", m.baseURL, m.baseURL, m.baseURL)

	select {
	case err := <-serveErr:
		return err
	case <-ctx.Done():
	}
	m.log.Info("shutting down: draining in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	err = m.srv.Shutdown(shutdownCtx)
	m.stopWorkers()
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	m.log.Info("stopped")
	return nil
}

// stopWorkers stops what startWorkers started and waits for it to end.
func (m *serveMain) stopWorkers() {
	if m.stopBackground != nil {
		m.stopBackground()
		m.background.Wait()
	}
}

// close stops the background work, waits for it, and releases the
// listener and the data layer. It is safe after a failed open.
func (m *serveMain) close() {
	m.stopWorkers()
	if m.ln != nil && m.srv == nil {
		m.ln.Close()
	}
	if m.metricsLn != nil && m.srv == nil {
		m.metricsLn.Close()
	}
	if m.stopWakeups != nil {
		m.stopWakeups()
	}
	if m.app != nil {
		m.app.close()
	}
}

func runMigrate(ctx context.Context, args []string, stderr io.Writer) error {
	var c commonConfig
	fs := newFlagSet("migrate", "Applies pending database migrations and exits.", stderr)
	c.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	a, err := openApp(ctx, c, c.logger(stderr), true)
	if err != nil {
		return err
	}
	a.close()
	return nil
}
