// Package httpapi is the REST API: routing, authentication (API keys and
// JWTs), scopes and roles, rate limits, and the mapping of domain errors to
// the contract's HTTP statuses and bodies.
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"hash/fnv"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/processes"
)

// RateLimiter counts requests in shared fixed windows.
type RateLimiter interface {
	// Take counts one request for key and returns the window's count so far
	// and when the window resets.
	Take(ctx context.Context, key int64) (count int, reset time.Time, err error)
}

// LoginLimiter counts login attempts per login name (the normalised email
// address) in windows shared by every replica, whatever the client address.
type LoginLimiter interface {
	// TakeLoginAttempt counts one attempt for login and returns the count
	// in the current window and when that window ends.
	TakeLoginAttempt(ctx context.Context, login string, window time.Duration) (count int, reset time.Time, err error)
	// ClearLogin forgets login's counted attempts, after a successful login.
	ClearLogin(ctx context.Context, login string) error
}

// Deps is everything the API needs, passed in explicitly by main.
type Deps struct {
	Log           *slog.Logger
	Store         domain.EventStore
	Queries       Queries
	ReadModels    []string // projectors a write waits for, so the next read sees it
	Projectors    []string // every projector, for the admin status page
	Signup        Signup
	Invite        InviteMember
	AcceptInvite  AcceptInvite
	CreateAPIKey  CreateAPIKey
	RevokeAPIKey  RevokeAPIKey
	UpdateAccount UpdateAccount
	// A user's own profile and second factor.
	RenameUser       RenameUser
	ChangePassword   ChangePassword
	StartTwoFactor   StartTwoFactor
	ConfirmTwoFactor ConfirmTwoFactor
	DisableTwoFactor DisableTwoFactor
	UseSecondFactor  UseSecondFactor
	// CreateMonitor, UpdateMonitor, SetMonitorState: commands.New...Handler.
	CreateMonitor   CreateMonitor
	CreateMonitors  CreateMonitors // POST /api/monitors/batch
	UpdateMonitor   UpdateMonitor
	SetMonitorState SetMonitorState
	CreateTag       CreateTag
	DeleteTag       DeleteTag
	ImportMonitors  ImportMonitors // with ImportFiles, POST /api/monitors/import
	ImportFiles     ImportFiles
	RegisterRegion  RegisterRegion
	RecordChecks    RecordChecks
	// Heartbeats and PushTokens serve POST /api/push/{token}; by
	// default a group committer over RecordChecks and the Queries.
	Heartbeats Heartbeats
	PushTokens PushTokens
	// What people do with incidents; the detector opens and resolves them.
	AcknowledgeIncident AcknowledgeIncident
	SnoozeIncident      SnoozeIncident
	CommentIncident     CommentIncident
	// The maintenance window, channel and rule commands.
	ScheduleMaintenance ScheduleMaintenance
	UpdateMaintenance   UpdateMaintenance
	ToggleMaintenance   ToggleMaintenance
	DeleteMaintenance   DeleteMaintenance
	CreateChannel       CreateChannel
	UpdateChannel       UpdateChannel
	DeleteChannel       DeleteChannel
	CreateRule          CreateRule
	UpdateRule          UpdateRule
	DeleteRule          DeleteRule
	// StartCheckout and OpenPortal are nil when the server has no payment
	// provider: plans are then the operator's (commands.ErrBillingByOperator).
	StartCheckout StartCheckout
	OpenPortal    OpenPortal
	// ApplyProviderEvent records the provider's verified webhooks.
	ApplyProviderEvent ApplyProviderEvent
	// StripeWebhook verifies Stripe's webhooks; nil when Stripe is not
	// configured.
	StripeWebhook BillingWebhook
	// BillingReturnURL is where Checkout and the billing portal send users
	// back to when the request names no URL.
	BillingReturnURL string
	CreateStatusPage CreateStatusPage
	UpdateStatusPage UpdateStatusPage
	DeleteStatusPage DeleteStatusPage
	// StatusSite serves the public status pages; nil serves none.
	StatusSite PublicSite
	// Senders deliver test notifications, by channel type.
	Senders map[domain.ChannelType]processes.Sender
	// ProbeToken authenticates remote probe agents; empty disables them.
	ProbeToken  string
	RateLimiter RateLimiter
	JWTSecret   []byte
	Now         func() time.Time
	// AuthRequestsPerMinute limits sign-up, login and invite acceptance per
	// client address (default 30).
	AuthRequestsPerMinute int
	// TrustProxyHeaders takes the client address from X-Forwarded-For (its
	// first entry) or X-Real-IP: set it only behind a reverse proxy that
	// sets them, or clients could choose their own address.
	TrustProxyHeaders bool
	// SettleTimeout bounds how long a write waits for the read models behind
	// its answer (default 3 s); past it the write answers 202 (see visible).
	SettleTimeout time.Duration
	// OperatorToken authenticates the server's operator on the server-wide
	// endpoints (GET /api/admin/projections); account users, ADMINs
	// included, never reach them. Empty disables those endpoints.
	OperatorToken string
	// LoginLimiter counts login attempts per email address; nil takes
	// RateLimiter when it is one (the PostgreSQL limiter is).
	LoginLimiter LoginLimiter
	// LoginFailuresPerWindow failed logins for one email address, from any
	// addresses, refuse its further logins with 429 until
	// LoginFailureWindow after the first of them (defaults 10 and 15 min).
	LoginFailuresPerWindow int
	LoginFailureWindow     time.Duration
	// MinCheckInterval is serve --min-check-interval: a floor that lowers
	// every plan's minimum check interval, shown wherever plans are.
	MinCheckInterval int
	// SignupPolicy is who may sign up (the Signup command decides; the
	// dashboard uses it to offer the form or say why not).
	SignupPolicy domain.SignupPolicy
	// Metrics serves GET /metrics (Prometheus) to the operator token; nil
	// answers 404.
	Metrics http.Handler
	// ObserveRequest, when set, hears of every request once it is served,
	// with its route's pattern ("/api/v1/monitors/{id}", never the path).
	ObserveRequest func(route, method string, status int, took time.Duration)

	// The dashboard's.
	// Sessions keeps signed-in dashboard sessions.
	Sessions Sessions
	// KeyUse records when API keys were last used; nil records nothing.
	KeyUse APIKeyUse
	// The team commands (commands.New...Handler).
	ChangeMemberRole ChangeMemberRole
	RemoveMember     RemoveMember
	RevokeInvite     RevokeInvite
	ResendInvite     ResendInvite
	// InviteTokens checks the token of an invitation link before its page
	// asks for a password.
	InviteTokens InviteTokenVerifier
	// SecureCookies marks the dashboard's cookies Secure (set it when the
	// server is reached over HTTPS, as behind a TLS-terminating proxy;
	// a request over TLS gets them anyway).
	SecureCookies bool
	// BaseURL is the server's public address, for the URLs the dashboard
	// shows to copy (push URLs).
	BaseURL string
}

// InviteTokenVerifier checks invitation tokens (commands.InviteTokens).
type InviteTokenVerifier interface {
	Verify(token string) (accountID, inviteID int64, err error)
}

// Server serves the API.
type Server struct {
	deps   Deps
	router *mux.Router
	ui     *ui
}

// New builds the API's routes.
func New(deps Deps) *Server {
	if deps.AuthRequestsPerMinute == 0 {
		deps.AuthRequestsPerMinute = 30
	}
	if deps.SettleTimeout <= 0 {
		deps.SettleTimeout = 3 * time.Second
	}
	if deps.LoginLimiter == nil {
		deps.LoginLimiter, _ = deps.RateLimiter.(LoginLimiter)
	}
	if deps.LoginFailuresPerWindow == 0 {
		deps.LoginFailuresPerWindow = 10
	}
	if deps.LoginFailureWindow == 0 {
		deps.LoginFailureWindow = 15 * time.Minute
	}
	if deps.Heartbeats == nil && deps.RecordChecks != nil {
		deps.Heartbeats = commands.NewHeartbeatRecorder(deps.RecordChecks)
	}
	if deps.PushTokens == nil {
		deps.PushTokens = deps.Queries
	}
	s := &Server{deps: deps, router: mux.NewRouter()}
	ui, err := newUI(s)
	if err != nil {
		// The templates are embedded: a parse error is a bug in this
		// build, caught by every test that starts a server.
		panic("dashboard templates: " + err.Error())
	}
	s.ui = ui
	s.router.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if cur := mux.CurrentRoute(r); cur != nil {
				if pattern, err := cur.GetPathTemplate(); err == nil {
					setRoutePattern(r, pattern)
				}
			}
			next.ServeHTTP(w, r)
		})
	})
	s.routes()
	s.uiRoutes()
	return s
}

// matchedRoute carries the pattern of the route a request matched, from
// the router (which knows it) out to the middleware around it (which
// counts the request), for metrics that have a series per route rather
// than per path.
type matchedRoute struct{ pattern string }

const matchedRouteKey ctxKey = 1

func setRoutePattern(r *http.Request, pattern string) {
	if m, ok := r.Context().Value(matchedRouteKey).(*matchedRoute); ok {
		m.pattern = pattern
	}
}

// Handler returns the root handler with logging, request ids, body limits
// and panic recovery around every route.
func (s *Server) Handler() http.Handler {
	return s.middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := checkRequestText(r); err != nil {
			writeError(w, r, s.deps.Log, err)
			return
		}
		if s.deps.StatusSite != nil && s.deps.StatusSite.Owns(r) {
			setRoutePattern(r, "status page")
			s.deps.StatusSite.ServeHTTP(w, r)
			return
		}
		s.router.ServeHTTP(w, r)
	}))
}

// handlerFunc is an endpoint: it returns an error instead of writing one.
type handlerFunc func(w http.ResponseWriter, r *http.Request, p *principal) error

func (s *Server) handle(method, path string, a access, h handlerFunc) {
	s.router.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		var p *principal
		switch {
		case a.operator:
			if err := s.operatorAuth(r); err != nil {
				writeError(w, r, s.deps.Log, err)
				return
			}
		case a.probe:
			if err := s.probeAuth(r); err != nil {
				writeError(w, r, s.deps.Log, err)
				return
			}
		case !a.public:
			var err error
			p, err = s.authenticate(r.Context(), r, a)
			if p != nil && !s.rateLimit(w, r, p) {
				return
			}
			if err != nil {
				writeError(w, r, s.deps.Log, err)
				return
			}
		}
		if err := h(w, r, p); err != nil {
			writeError(w, r, s.deps.Log, err)
		}
	}).Methods(method)
}

// rateLimit counts the request against the account's plan and writes the
// X-RateLimit headers; it answers 429 and returns false past the limit.
func (s *Server) rateLimit(w http.ResponseWriter, r *http.Request, p *principal) bool {
	limits, _ := domain.LimitsOf(p.Plan)
	return s.limit(w, r, p.AccountID, limits.RequestsPerMinute)
}

// limitByAddress protects the unauthenticated endpoints that check
// passwords or create accounts from brute force, per client address.
func (s *Server) limitByAddress(w http.ResponseWriter, r *http.Request) bool {
	return s.limit(w, r, s.addressKey(r), s.deps.AuthRequestsPerMinute)
}

// addressKey is the rate-limit key of the request's client address.
func (s *Server) addressKey(r *http.Request) int64 {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if s.deps.TrustProxyHeaders {
		if fwd := r.Header.Get("X-Forwarded-For"); fwd != "" {
			first, _, _ := strings.Cut(fwd, ",")
			host = strings.TrimSpace(first)
		} else if real := r.Header.Get("X-Real-IP"); real != "" {
			host = strings.TrimSpace(real)
		}
	}
	h := fnv.New64a()
	h.Write([]byte("addr:" + host))
	// Negative keys never collide with account ids.
	return -int64(h.Sum64()>>1) - 1
}

// limitLogin counts a login attempt for the email address and answers 429
// with Retry-After once the address has had LoginFailuresPerWindow failed
// logins in its window, from whatever client addresses: the password is
// then not checked at all. Unknown addresses are counted the same way, so
// the answer does not tell which exist.
func (s *Server) limitLogin(w http.ResponseWriter, r *http.Request, login string) bool {
	if s.deps.LoginLimiter == nil {
		return true
	}
	count, reset, err := s.deps.LoginLimiter.TakeLoginAttempt(r.Context(), login, s.deps.LoginFailureWindow)
	if err != nil {
		s.deps.Log.Warn("login limiter unavailable", "err", err)
		return true
	}
	if count <= s.deps.LoginFailuresPerWindow {
		return true
	}
	retry := max(int(reset.Sub(s.deps.Now()).Seconds()+0.999), 1)
	w.Header().Set("Retry-After", strconv.Itoa(retry))
	writeJSON(w, http.StatusTooManyRequests, map[string]string{
		"detail": "too many failed logins for this email address (" + strconv.Itoa(s.deps.LoginFailuresPerWindow) +
			"); logins for it are refused for " + strconv.Itoa(retry) + " s"})
	return false
}

// unlimitedRateLimit is the X-RateLimit-Limit of a plan without a limit.
const unlimitedRateLimit = math.MaxInt32

func (s *Server) limit(w http.ResponseWriter, r *http.Request, key int64, perMinute int) bool {
	count, reset, err := s.deps.RateLimiter.Take(r.Context(), key)
	if err != nil {
		// Failing open: a rate-limit store hiccup should not take the API down.
		s.deps.Log.Warn("rate limiter unavailable", "err", err)
		return true
	}
	hdr := w.Header()
	hdr.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	if perMinute == domain.Unlimited {
		// Integers on every plan, as clients parse them: an unlimited plan
		// sends the largest 32-bit integer as its limit, and what is left
		// of it this minute.
		hdr.Set("X-RateLimit-Limit", strconv.Itoa(unlimitedRateLimit))
		hdr.Set("X-RateLimit-Remaining", strconv.Itoa(max(unlimitedRateLimit-count, 0)))
		return true
	}
	hdr.Set("X-RateLimit-Limit", strconv.Itoa(perMinute))
	hdr.Set("X-RateLimit-Remaining", strconv.Itoa(max(perMinute-count, 0)))
	if count > perMinute {
		retry := max(int(time.Until(reset).Seconds()+0.999), 1)
		hdr.Set("Retry-After", strconv.Itoa(retry))
		writeJSON(w, http.StatusTooManyRequests, map[string]string{
			"detail": "rate limit of " + strconv.Itoa(perMinute) + " requests per minute exceeded; retry in " + strconv.Itoa(retry) + " s"})
		return false
	}
	return true
}

// settle waits until the read models have applied a write, so the caller's
// next read sees it, for answers built without them. The write is durable
// whether or not this finishes.
func (s *Server) settle(r *http.Request, pos domain.Position) {
	_ = s.visible(r, pos)
}

// visible waits, at most SettleTimeout, until the read models have applied a
// write whose answer reads them. When they have not (a model is behind or
// failing), it returns a *recordedError instead of letting the answer read
// stale rows or miss the new one: the client hears 202 with the decided
// facts (fields: key/value pairs such as "id", 42), never a 404 for what it
// just created.
func (s *Server) visible(r *http.Request, pos domain.Position, fields ...any) error {
	if pos == (domain.Position{}) {
		return nil
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.deps.SettleTimeout)
	defer cancel()
	err := s.deps.Queries.WaitFor(ctx, s.deps.ReadModels, pos)
	if err == nil {
		return nil
	}
	s.deps.Log.Warn("read models did not catch up in time; answering 202", "err", err, "request_id", requestID(r))
	rec := &recordedError{fields: map[string]any{}}
	for i := 0; i+1 < len(fields); i += 2 {
		rec.fields[fields[i].(string)] = fields[i+1]
	}
	return rec
}

// recordedError is a write that was appended to the log but is not yet in
// the read models the answer is built from.
type recordedError struct{ fields map[string]any }

func (e *recordedError) Error() string { return "the change was recorded but is not visible yet" }

type ctxKey int

const requestIDKey ctxKey = 0

func requestID(r *http.Request) string {
	id, _ := r.Context().Value(requestIDKey).(string)
	return id
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-ID")
		if problem, _ := domain.CheckText(id, domain.SingleLine); id == "" || len(id) > 100 || problem != "" {
			var b [8]byte
			rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-ID", id)
		route := &matchedRoute{pattern: "unmatched"}
		r = r.WithContext(context.WithValue(context.WithValue(r.Context(), requestIDKey, id), matchedRouteKey, route))
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if s.deps.ObserveRequest != nil && rec.status != 0 {
				s.deps.ObserveRequest(route.pattern, r.Method, rec.status, time.Since(start))
			}
		}()
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.deps.Log.Error("panic serving request", "path", r.URL.Path, "panic", v)
				if rec.status == 0 {
					writeJSON(rec, http.StatusInternalServerError, map[string]string{"detail": "Internal error."})
				}
			}
			s.deps.Log.Log(r.Context(), requestLogLevel(rec.status), "request", "method", r.Method, "path", logPath(r), "status", rec.status,
				"duration_ms", time.Since(start).Milliseconds(), "request_id", id)
		}()
		next.ServeHTTP(rec, r)
	})
}

// requestLogLevel is the level of a request's log line. Requests that
// succeed are debug: a server at info would otherwise write a line for
// every probe report, push ping and dashboard refresh. A refused request
// is info (what a client got wrong is worth a line); a failure is warn
// (its cause is logged at error where it happened).
func requestLogLevel(status int) slog.Level {
	switch {
	case status >= 500:
		return slog.LevelWarn
	case status >= 400:
		return slog.LevelInfo
	}
	return slog.LevelDebug
}
