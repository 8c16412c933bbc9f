package main

import (
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/medialuna/medialuna/adapters/httpapi"
	"github.com/medialuna/medialuna/adapters/mail"
	"github.com/medialuna/medialuna/adapters/postgres"
	"github.com/medialuna/medialuna/adapters/probe"
	"github.com/medialuna/medialuna/adapters/probeagent"
	"github.com/medialuna/medialuna/adapters/statushtml"
	"github.com/medialuna/medialuna/commands"
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

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c serveConfig
	fs := newFlagSet("serve", "Runs the API, the projectors, the incident detector, the mailer, the push watchdog and an embedded probe.\nReady when GET /healthz answers 200; SIGTERM drains and exits 0.", stderr)
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
	c.Notify.register(fs)
	registerDispatch(fs, &c.Dispatch)
	c.Billing.register(fs)
	c.Region.register(fs, "local", "Local")
	if err := fs.Parse(args); err != nil {
		return err
	}
	c.Billing.resolve()
	if c.LoginFailureWindow < 0 || c.LoginFailureWindow > postgres.MaxLoginWindow {
		return fmt.Errorf("--login-failure-window must be between 0 (default 15m) and 24h")
	}
	if c.OperatorToken != "" && len(c.OperatorToken) < 16 {
		return fmt.Errorf("--operator-token must be at least 16 characters: it guards server-wide figures and is not rate limited")
	}
	log := c.logger(stderr)
	a, err := openApp(ctx, c.commonConfig, log, true)
	if err != nil {
		return err
	}
	defer a.close()
	if err := a.box.Check(ctx); err != nil {
		return err
	}
	if _, sealed, err := postgres.Setting(ctx, a.db, "secrets_log_sealed"); err != nil {
		return err
	} else if !sealed {
		log.Warn("the event log may hold credentials in plaintext, written before they were sealed: run 'medialuna secrets seal-log' once (docs/operations.md, Secrets)")
	}

	secret := c.JWTSecret
	if secret == "" {
		if secret, err = postgres.Secret(ctx, a.db, "jwt_secret"); err != nil {
			return fmt.Errorf("load JWT secret: %w", err)
		}
	}
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.Addr, err)
	}
	baseURL := c.BaseURL
	if baseURL == "" {
		baseURL = "http://" + ln.Addr().String()
	}
	var mailer processes.Mailer = mail.NewLog(log)
	if c.SMTP.Addr != "" {
		mailer = mail.NewSMTP(c.SMTP)
	}
	inviteKey, err := postgres.Secret(ctx, a.db, "invite_secret")
	if err != nil {
		return err
	}
	inviteKeyBytes, _ := hex.DecodeString(inviteKey)
	tokens := commands.NewInviteTokens(inviteKeyBytes)

	models := readModels()
	ids := postgres.NewIDs(a.db)
	incidents := commands.NewIncidentHandler(a.store, ids, utcNow)
	queries := projections.NewQueries(a.db)
	senders := c.Notify.senders(mailer, c.BlockPrivateTargets)
	notifier := processes.NewNotifier(a.db, queries, commands.NewQueueNotificationsHandler(a.store, utcNow), utcNow)
	all := append(models, processes.NewInviteMailer(mailer, tokens.Sign, strings.TrimRight(baseURL, "/")),
		processes.NewIncidentDetector(incidents, utcNow), notifier)
	dispatcher := processes.NewDispatcher(a.db, a.store, queries, commands.NewRecordDeliveryHandler(a.store, utcNow), senders,
		log.With("component", "dispatcher"), utcNow, c.Dispatch)
	runner := projections.NewRunner(a.db, a.store, all, log.With("component", "projections"), projections.RunnerConfig{})
	limiter := postgres.NewRateLimiter(a.db, utcNow)
	regions := commands.NewRegionHandler(a.store, ids, utcNow)
	recordChecks := commands.NewRecordChecksHandler(a.store, queries, queries)
	var (
		payments commands.Payments
		webhooks httpapi.BillingWebhook
	)
	if c.Billing.SecretKey != "" {
		installation, err := postgres.Secret(ctx, a.db, "installation_id")
		if err != nil {
			return err
		}
		client, err := c.Billing.client(installation[:16])
		if err != nil {
			return err
		}
		payments, webhooks = client, client
		log.Info("Stripe billing enabled", "api_url", c.Billing.APIURL, "webhooks", c.Billing.WebhookSecret != "")
	} else if c.Billing.WebhookSecret != "" {
		log.Warn("--stripe-webhook-secret is set without --stripe-secret-key: Stripe billing stays off")
	}
	billingReturn := c.Billing.ReturnURL
	if billingReturn == "" {
		billingReturn = strings.TrimRight(baseURL, "/") + "/"
	}
	site := statushtml.New(statushtml.Config{Reader: queries, Log: log.With("component", "statuspages"), Now: utcNow,
		BaseURL: baseURL, StatusDomain: c.StatusDomain, TTL: c.StatusCacheTTL})
	api := httpapi.New(httpapi.Deps{
		// The log as stored: audit exports and replays show sealed
		// envelopes, never the credentials in them.
		Log: log.With("component", "http"), Store: a.raw, Queries: queries,
		ReadModels: settleModels(), Projectors: projectorNames(all),
		Monitors:      commands.NewMonitorHandler(a.store, ids, utcNow, queries, c.MinCheckInterval),
		Tags:          commands.NewTagHandler(a.store, ids, utcNow, queries),
		Regions:       regions,
		RecordChecks:  recordChecks,
		Incidents:     incidents,
		Maintenance:   commands.NewMaintenanceHandler(a.store, ids, utcNow, queries),
		Notifications: commands.NewNotificationHandler(a.store, ids, utcNow, queries),
		Billing:       commands.NewBillingHandler(a.store, utcNow, payments, queries),
		StripeWebhook: webhooks,
		StatusPages:   commands.NewStatusPageHandler(a.store, ids, utcNow, queries),
		StatusSite:    site,
		Senders:       senders,
		ProbeToken:    c.ProbeToken, TrustProxyHeaders: c.TrustProxyHeaders, OperatorToken: c.OperatorToken,
		Signup:       commands.NewSignupHandler(a.store, ids, utcNow),
		Invite:       commands.NewInviteMemberHandler(a.store, ids, utcNow),
		AcceptInvite: commands.NewAcceptInviteHandler(a.store, ids, utcNow, tokens),
		CreateAPIKey: commands.NewCreateAPIKeyHandler(a.store, ids, utcNow, queries),
		RevokeAPIKey: commands.NewRevokeAPIKeyHandler(a.store, utcNow),
		Account:      commands.NewAccountHandler(a.store, utcNow),
		RateLimiter:  limiter, JWTSecret: []byte(secret), Now: utcNow,
		BillingReturnURL: billingReturn, LoginFailuresPerWindow: c.LoginFailures, LoginFailureWindow: c.LoginFailureWindow,
	})

	bgCtx, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	var bg sync.WaitGroup
	if c.EmbeddedProbe {
		regionID, pos, err := regions.Register(ctx, c.Region.Code, c.Region.Name, c.Region.Lat, c.Region.Lng)
		if err != nil {
			stopBackground()
			return fmt.Errorf("register the embedded probe's region %q: %w", c.Region.Code, err)
		}
		_ = pos
		checker := probe.New(probe.Config{BlockPrivateTargets: c.BlockPrivateTargets, UserAgent: probeUserAgent(c.Region.Code)})
		agent := probeagent.New(probeagent.NewLocalSource(queries, regionID), probeagent.NewLocalSink(recordChecks, regionID), checker,
			log.With("component", "probe", "region", c.Region.Code), probeagent.Config{RegionID: regionID,
				MaxInFlight:        deprecatedWorkers(log, c.ProbeMaxInFlight, c.ProbeWorkers, "--probe-workers", "--probe-max-in-flight"),
				AccountMaxInFlight: c.ProbeAccountMax})
		bg.Add(1)
		go func() {
			defer bg.Done()
			agent.Run(bgCtx)
		}()
		log.Info("embedded probe running", "region", c.Region.Code, "region_id", regionID)
	}
	watchdog := processes.NewPushWatchdog(queries, recordChecks, utcNow, log.With("component", "push"))
	pruner := processes.NewPruner(limiter, queries, utcNow, log)
	bg.Add(5)
	go func() {
		defer bg.Done()
		notifier.RunTicks(bgCtx, 5*time.Second, log.With("component", "notifier"))
	}()
	go func() {
		defer bg.Done()
		watchdog.Run(bgCtx)
	}()
	go func() {
		defer bg.Done()
		dispatcher.Run(bgCtx)
	}()
	go func() {
		defer bg.Done()
		if err := runner.Run(bgCtx); err != nil && bgCtx.Err() == nil {
			log.Error("projections stopped", "err", err)
		}
	}()
	go func() {
		defer bg.Done()
		pruner.Run(bgCtx)
	}()

	waitCtx, cancelWait := context.WithTimeout(ctx, 5*time.Minute)
	err = queries.WaitUntilBuilt(waitCtx, projectorNames(models))
	cancelWait()
	if err != nil {
		stopBackground()
		bg.Wait()
		return fmt.Errorf("read models were not built: %w", err)
	}
	srv := &http.Server{Handler: api.Handler(), ReadHeaderTimeout: 10 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info("Media Luna is serving", "addr", ln.Addr().String(), "event_store", c.EventStore)
	fmt.Fprintf(stdout, "Media Luna is listening on %s\nSign up: curl -X POST %s/api/auth/signup -H 'Content-Type: application/json' -d '{\"email\":\"you@example.com\",\"password\":\"a long password\",\"account_name\":\"My team\"}'\n", baseURL, baseURL)

	select {
	case err := <-serveErr:
		stopBackground()
		bg.Wait()
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: draining in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	stopBackground()
	bg.Wait()
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
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
