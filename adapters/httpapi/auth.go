package httpapi

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/projections"
)

// tokenTTL is how long a login lasts.
const tokenTTL = 24 * time.Hour

// principal is who is calling.
type principal struct {
	UserID    int64
	AccountID int64
	Role      domain.Role
	Plan      domain.Plan
	APIKeyID  int64 // set when the call uses an API key
	Scopes    []string
}

func (p *principal) actor(r *http.Request) commands.Actor {
	a := commands.Actor{Type: domain.ActorUser, ID: p.UserID, AccountID: p.AccountID, CorrelationID: requestID(r)}
	if p.APIKeyID != 0 {
		a.Type, a.ID = domain.ActorAPIKey, p.APIKeyID
	}
	return a
}

// access says who may call an endpoint.
type access struct {
	public bool
	// scope is what an API key needs; empty means API keys are refused.
	scope domain.Scope
	// role is the least role a user's JWT needs.
	role domain.Role
	// operator: only the operator token (Deps.OperatorToken) gets in.
	operator bool
	// probe: only a remote probe agent's token (Deps.ProbeToken) gets in.
	probe bool
}

// probeOnly is for the remote probe agents' endpoints: the probe token,
// never a user's credentials.
var probeOnly = access{probe: true}

// operatorOnly is for server-wide endpoints: the operator token, never a
// user's credentials.
var operatorOnly = access{operator: true}

func jwtOnly(role domain.Role) access { return access{role: role} }

func keyOrJWT(scope domain.Scope, role domain.Role) access { return access{scope: scope, role: role} }

type claims struct {
	AccountID int64 `json:"acc"`
	jwt.RegisteredClaims
}

func (s *Server) issueToken(userID, accountID int64) (string, error) {
	now := s.deps.Now()
	c := claims{AccountID: accountID, RegisteredClaims: jwt.RegisteredClaims{
		Subject:   strconv.FormatInt(userID, 10),
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(tokenTTL)),
		Issuer:    "medialuna",
	}}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(s.deps.JWTSecret)
}

var errUnauthorized = domain.Errorf(domain.ErrUnauthorized, "missing or invalid credentials: send Authorization: Bearer <API key or access token>")

// authenticate resolves the Authorization header into a principal and
// checks it against the endpoint's access rule.
func (s *Server) authenticate(ctx context.Context, r *http.Request, a access) (*principal, error) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return nil, errUnauthorized
	}
	token = strings.TrimSpace(token)
	var p *principal
	var err error
	if strings.HasPrefix(token, "sk_") {
		if a.scope == "" {
			return nil, domain.Errorf(domain.ErrUnauthorized, "this endpoint takes a user's access token (JWT), not an API key")
		}
		p, err = s.apiKeyPrincipal(ctx, token)
	} else {
		p, err = s.jwtPrincipal(ctx, token)
	}
	if err != nil {
		return nil, err
	}
	acc, err := s.deps.Queries.Account(ctx, p.AccountID)
	if err != nil {
		return nil, errUnauthorized
	}
	p.Plan = domain.Plan(acc.Plan)
	if p.APIKeyID != 0 {
		// A key acts with its owner's role as it is now, not as it was
		// when the key was made: a member demoted since keeps only what
		// the new role may do (their key's other scopes stop working).
		if !p.Role.Includes(a.role) {
			return p, domain.Errorf(domain.ErrForbidden, "this API key's owner is now %s; this needs role %s or higher", p.Role, a.role)
		}
		for _, sc := range p.Scopes {
			if sc == string(a.scope) {
				return p, nil
			}
		}
		return p, domain.Errorf(domain.ErrForbidden, "this API key lacks the %s scope", a.scope)
	}
	if !p.Role.Includes(a.role) {
		return p, domain.Errorf(domain.ErrForbidden, "this needs role %s or higher; you are %s", a.role, p.Role)
	}
	return p, nil
}

// operatorAuth checks the operator token. A user's valid credentials get
// 403 (they are someone, not the operator); anything else 401.
func (s *Server) operatorAuth(r *http.Request) error {
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if s.deps.OperatorToken != "" && strings.EqualFold(scheme, "Bearer") &&
		subtle.ConstantTimeCompare([]byte(token), []byte(s.deps.OperatorToken)) == 1 {
		return nil
	}
	hint := "send Authorization: Bearer <operator token>, the server's --operator-token"
	if s.deps.OperatorToken == "" {
		hint = "operator endpoints are disabled: start the server with --operator-token, or run `medialuna projections status`"
	}
	if _, err := s.authenticate(r.Context(), r, access{role: domain.RoleViewer}); err == nil {
		return domain.Errorf(domain.ErrForbidden, "this endpoint is for the server's operator, not an account's users; %s", hint)
	}
	return domain.Errorf(domain.ErrUnauthorized, "missing or invalid operator token; %s", hint)
}

func (s *Server) jwtPrincipal(ctx context.Context, token string) (*principal, error) {
	var c claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return s.deps.JWTSecret, nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired(), jwt.WithTimeFunc(s.deps.Now))
	if err != nil {
		return nil, errUnauthorized
	}
	userID, err := strconv.ParseInt(c.Subject, 10, 64)
	if err != nil {
		return nil, errUnauthorized
	}
	u, err := s.deps.Queries.User(ctx, c.AccountID, userID)
	if err != nil || u.Role == "" {
		return nil, errUnauthorized
	}
	// A password change ends the tokens issued before it. iat has whole
	// seconds: a token issued in the second of the change still works.
	if u.TokensValidAfter != nil && (c.IssuedAt == nil || c.IssuedAt.Time.Before(u.TokensValidAfter.Truncate(time.Second))) {
		return nil, domain.Errorf(domain.ErrUnauthorized, "this access token was issued before the password was changed; log in again")
	}
	return &principal{UserID: u.ID, AccountID: u.AccountID, Role: domain.Role(u.Role)}, nil
}

func (s *Server) apiKeyPrincipal(ctx context.Context, key string) (*principal, error) {
	k, err := s.deps.Queries.APIKeyByHash(ctx, commands.HashAPIKey(key))
	if err != nil {
		if domain.ErrorCode(err) == domain.ErrNotFound {
			return nil, errUnauthorized
		}
		return nil, err
	}
	if k.RevokedAt != nil {
		return nil, domain.Errorf(domain.ErrUnauthorized, "this API key was revoked")
	}
	if k.ExpiresAt != nil && !s.deps.Now().Before(*k.ExpiresAt) {
		return nil, domain.Errorf(domain.ErrUnauthorized, "this API key expired at %s", k.ExpiresAt.UTC().Format(time.RFC3339))
	}
	u, err := s.deps.Queries.User(ctx, k.AccountID, k.UserID)
	if err != nil || u.Role == "" {
		return nil, domain.Errorf(domain.ErrUnauthorized, "the user who created this API key is no longer a member")
	}
	if s.deps.KeyUse != nil {
		// Telemetry for the key's "last use": never fails the request.
		if err := s.deps.KeyUse.Touch(ctx, k.ID, s.deps.Now()); err != nil {
			s.deps.Log.Warn("record API key use", "err", err, "key_id", k.ID)
		}
	}
	return &principal{UserID: k.UserID, AccountID: k.AccountID, Role: domain.Role(u.Role), APIKeyID: k.ID, Scopes: k.Scopes}, nil
}

// checkPassword verifies a login; every failure looks the same to the caller.
func (s *Server) checkPassword(ctx context.Context, email, password string) (projections.UserRow, error) {
	bad := domain.Errorf(domain.ErrUnauthorized, "wrong email or password")
	norm, err := domain.NormalizeEmail(email)
	if err != nil {
		return projections.UserRow{}, bad
	}
	u, err := s.deps.Queries.UserByEmail(ctx, norm)
	if err != nil {
		if domain.ErrorCode(err) == domain.ErrNotFound {
			// Spend the same time as a real comparison so timing does not
			// reveal which addresses exist.
			bcrypt.CompareHashAndPassword([]byte(dummyHash), []byte(password))
			return projections.UserRow{}, bad
		}
		return projections.UserRow{}, err
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)) != nil {
		return projections.UserRow{}, bad
	}
	return u, nil
}

// dummyHash is a bcrypt hash of a random password, compared against when
// the address is unknown.
const dummyHash = "$2a$10$7EqJtq98hPqEX7fNZaFWoOhi5BWX4Z5Zs1pE8b3KEnjm3kAAm3XuG"
