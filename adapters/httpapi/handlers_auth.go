package httpapi

import (
	"net/http"
	"time"

	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/projections"
)

func (s *Server) healthz(w http.ResponseWriter, r *http.Request, _ *principal) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// planView shows unlimited limits as null.
type planView struct {
	Name              string `json:"name"`
	DisplayName       string `json:"display_name"`
	PriceMonthlyCents int    `json:"price_monthly_cents"`
	RequestsPerMinute *int   `json:"requests_per_minute"`
	MinCheckInterval  int    `json:"min_check_interval"`
	MaxRegions        *int   `json:"max_regions"`
	MaxMonitors       *int   `json:"max_monitors"`
	MaxUsers          *int   `json:"max_users"`
	MaxStatusPages    *int   `json:"max_status_pages"`
	MaxAPIKeys        *int   `json:"max_api_keys"`
}

func limitOrNull(n int) *int {
	if n == domain.Unlimited {
		return nil
	}
	return &n
}

func viewPlan(p domain.PlanLimits) planView {
	return planView{Name: string(p.Plan), DisplayName: p.DisplayName, PriceMonthlyCents: p.PriceMonthlyCents,
		RequestsPerMinute: limitOrNull(p.RequestsPerMinute), MinCheckInterval: p.MinCheckIntervalSecs,
		MaxRegions: limitOrNull(p.MaxRegions), MaxMonitors: limitOrNull(p.MaxMonitors), MaxUsers: limitOrNull(p.MaxUsers),
		MaxStatusPages: limitOrNull(p.MaxStatusPages), MaxAPIKeys: limitOrNull(p.MaxAPIKeys)}
}

func (s *Server) listPlans(w http.ResponseWriter, r *http.Request, _ *principal) error {
	out := []planView{}
	for _, p := range domain.Plans() {
		out = append(out, viewPlan(p.WithIntervalFloor(s.deps.MinCheckInterval)))
	}
	return writePaged(w, r, out)
}

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
}

func (s *Server) token(userID, accountID int64) (tokenResponse, error) {
	t, err := s.issueToken(userID, accountID)
	return tokenResponse{AccessToken: t, TokenType: "bearer", ExpiresIn: int(tokenTTL.Seconds())}, err
}

// required records a missing-field failure when v is nil.
func required[T any](v *domain.Validation, field string, p *T) {
	if p == nil {
		v.Add(field, "missing", "field required")
	}
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func (s *Server) signup(w http.ResponseWriter, r *http.Request, _ *principal) error {
	if !s.limitByAddress(w, r) {
		return nil
	}
	var body struct {
		Email       *string `json:"email"`
		Password    *string `json:"password"`
		AccountName *string `json:"account_name"`
		FullName    *string `json:"full_name"`
	}
	if err := decode(r, &body); err != nil {
		return err
	}
	var v domain.Validation
	required(&v, "email", body.Email)
	required(&v, "password", body.Password)
	required(&v, "account_name", body.AccountName)
	if err := v.Err(); err != nil {
		return err
	}
	res, err := s.deps.Signup.Handle(r.Context(), commands.Signup{CorrelationID: requestID(r), Email: *body.Email, Password: *body.Password,
		AccountName: *body.AccountName, FullName: deref(body.FullName)})
	if err != nil {
		return err
	}
	tok, err := s.token(res.UserID, res.AccountID)
	if err != nil {
		return err
	}
	if err := s.visible(r, res.Position, "access_token", tok.AccessToken, "token_type", tok.TokenType, "expires_in", tok.ExpiresIn,
		"user_id", res.UserID, "account_id", res.AccountID); err != nil {
		return err
	}
	user, err := s.deps.Queries.User(r.Context(), res.AccountID, res.UserID)
	if err != nil {
		return err
	}
	acc, err := s.deps.Queries.Account(r.Context(), res.AccountID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"access_token": tok.AccessToken, "token_type": tok.TokenType,
		"expires_in": tok.ExpiresIn, "user": user, "account": acc})
	return nil
}

func (s *Server) login(w http.ResponseWriter, r *http.Request, _ *principal) error {
	if !s.limitByAddress(w, r) {
		return nil
	}
	var body struct {
		Email    *string `json:"email"`
		Password *string `json:"password"`
		// TOTPCode is the second factor of a user with two-factor
		// sign-in: a code from their authenticator app or a recovery code.
		TOTPCode *string `json:"totp_code"`
	}
	if err := decode(r, &body); err != nil {
		return err
	}
	var v domain.Validation
	required(&v, "email", body.Email)
	required(&v, "password", body.Password)
	if err := v.Err(); err != nil {
		return err
	}
	login, loginErr := domain.NormalizeEmail(*body.Email)
	if loginErr == nil && !s.limitLogin(w, r, login) {
		return nil
	}
	u, err := s.checkPassword(r.Context(), *body.Email, *body.Password)
	if err != nil {
		return err
	}
	// With two-factor sign-in the password alone is not a login: the
	// attempt stays counted against the email until a right code comes.
	if u.TwoFactor {
		if deref(body.TOTPCode) == "" {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"two_factor_required": true,
				"detail": "this user has two-factor sign-in: send the same request again with totp_code, the 6-digit code of their authenticator app (or one of their recovery codes)"})
			return nil
		}
		_, err := s.deps.UseSecondFactor.Handle(r.Context(), commands.UseSecondFactor{CorrelationID: requestID(r),
			UserID: u.ID, AccountID: u.AccountID, Code: *body.TOTPCode})
		if domain.ErrorCode(err) == domain.ErrUnauthorized {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"two_factor_required": true,
				"detail": "wrong totp_code: " + domain.ErrorMessage(err)})
			return nil
		}
		if err != nil {
			return err
		}
	}
	if loginErr == nil && s.deps.LoginLimiter != nil {
		if err := s.deps.LoginLimiter.ClearLogin(r.Context(), login); err != nil {
			s.deps.Log.Warn("clear failed logins", "err", err)
		}
	}
	tok, err := s.token(u.ID, u.AccountID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, tok)
	return nil
}

func (s *Server) acceptInvite(w http.ResponseWriter, r *http.Request, _ *principal) error {
	if !s.limitByAddress(w, r) {
		return nil
	}
	var body struct {
		Token    *string `json:"token"`
		Password *string `json:"password"`
		FullName *string `json:"full_name"`
	}
	if err := decode(r, &body); err != nil {
		return err
	}
	var v domain.Validation
	required(&v, "token", body.Token)
	required(&v, "password", body.Password)
	if err := v.Err(); err != nil {
		return err
	}
	res, err := s.deps.AcceptInvite.Handle(r.Context(), commands.AcceptInvite{CorrelationID: requestID(r), Token: *body.Token, Password: *body.Password, FullName: deref(body.FullName)})
	if err != nil {
		return err
	}
	s.settle(r, res.Position)
	tok, err := s.token(res.UserID, res.AccountID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, tok)
	return nil
}

func (s *Server) me(w http.ResponseWriter, r *http.Request, p *principal) error {
	u, err := s.deps.Queries.User(r.Context(), p.AccountID, p.UserID)
	if err != nil {
		return err
	}
	acc, err := s.deps.Queries.Account(r.Context(), p.AccountID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": u.ID, "email": u.Email, "full_name": u.FullName, "role": u.Role,
		"account_id": u.AccountID, "created_at": u.CreatedAt, "two_factor_enabled": u.TwoFactor, "account": acc})
	return nil
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, p *principal) error {
	skip, limit, err := paging(r)
	if err != nil {
		return err
	}
	users, err := s.deps.Queries.Users(r.Context(), p.AccountID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, window(users, skip, limit))
	return nil
}

func (s *Server) listInvites(w http.ResponseWriter, r *http.Request, p *principal) error {
	invites, err := s.deps.Queries.PendingInvites(r.Context(), p.AccountID, s.deps.Now())
	if err != nil {
		return err
	}
	return writePaged(w, r, invites)
}

func (s *Server) inviteUser(w http.ResponseWriter, r *http.Request, p *principal) error {
	var body struct {
		Email *string `json:"email"`
		Role  *string `json:"role"`
	}
	if err := decode(r, &body); err != nil {
		return err
	}
	var v domain.Validation
	required(&v, "email", body.Email)
	required(&v, "role", body.Role)
	if err := v.Err(); err != nil {
		return err
	}
	id, pos, err := s.deps.Invite.Handle(r.Context(), commands.InviteMember{Actor: p.actor(r), Email: *body.Email, Role: *body.Role})
	if err != nil {
		return err
	}
	s.settle(r, pos)
	email, _ := domain.NormalizeEmail(*body.Email)
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "email": email, "role": *body.Role, "status": "pending",
		"expires_at": s.deps.Now().Add(domain.InviteTTL).UTC().Truncate(time.Second),
		"detail":     "Invitation sent to " + email})
	return nil
}

type apiKeyView struct {
	projections.APIKeyRow
	Key string `json:"key,omitempty"`
}

func (s *Server) listAPIKeys(w http.ResponseWriter, r *http.Request, p *principal) error {
	keys, err := s.deps.Queries.APIKeys(r.Context(), p.AccountID, p.UserID)
	if err != nil {
		return err
	}
	return writePaged(w, r, keys)
}

func (s *Server) createAPIKey(w http.ResponseWriter, r *http.Request, p *principal) error {
	var body struct {
		Name      *string    `json:"name"`
		Scopes    *[]string  `json:"scopes"`
		ExpiresAt *time.Time `json:"expires_at"`
	}
	if err := decode(r, &body); err != nil {
		return err
	}
	var v domain.Validation
	required(&v, "name", body.Name)
	required(&v, "scopes", body.Scopes)
	if err := v.Err(); err != nil {
		return err
	}
	res, err := s.deps.CreateAPIKey.Handle(r.Context(), commands.CreateAPIKey{Actor: p.actor(r), Role: p.Role, Plan: p.Plan,
		Name: *body.Name, Scopes: *body.Scopes, ExpiresAt: body.ExpiresAt})
	if err != nil {
		return err
	}
	// The key is shown once: a 202 carries it too.
	if err := s.visible(r, res.Position, "id", res.ID, "key", res.Key); err != nil {
		return err
	}
	row, err := s.deps.Queries.APIKey(r.Context(), p.AccountID, res.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, apiKeyView{APIKeyRow: row, Key: res.Key})
	return nil
}

func (s *Server) revokeAPIKey(w http.ResponseWriter, r *http.Request, p *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	pos, err := s.deps.RevokeAPIKey.Handle(r.Context(), commands.RevokeAPIKey{Actor: p.actor(r), Role: p.Role, KeyID: id})
	if err != nil {
		return err
	}
	s.settle(r, pos)
	writeJSON(w, http.StatusNoContent, nil)
	return nil
}
