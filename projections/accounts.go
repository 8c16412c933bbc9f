package projections

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/medialuna/medialuna/domain"
)

// Accounts projects accounts, their members and invitations.
type Accounts struct{}

// SettlesWrites is true: a write waits until this model has applied it,
// so the writer's next read sees it.
func (Accounts) SettlesWrites() bool { return true }

func (Accounts) Name() string { return "accounts" }

// Version 2: users gain two_factor and tokens_valid_after. Version 3:
// withdrawn and replaced invitations stay, with revoked_at and replaced_by,
// so an invitation link can say why it no longer works.
func (Accounts) Version() int { return 3 }

// Handles implements EventFilter.
func (Accounts) Handles(t string) bool {
	switch t {
	case domain.EvAccountOpened, domain.EvAccountUpdated, domain.EvPlanChanged, domain.EvMemberInvited, domain.EvMemberJoined, domain.EvUserRegistered:
		return true
	case domain.EvMemberRoleChanged, domain.EvMemberRemoved, domain.EvInviteRevoked, domain.EvInviteResent,
		domain.EvUserRenamed, domain.EvPasswordChanged, domain.EvTwoFactorEnabled, domain.EvTwoFactorDisabled:
		return true
	}
	return false
}

func (Accounts) Tables() []string { return []string{"accounts", "users", "invites"} }

func (Accounts) Setup(ctx context.Context, tx *sqlx.Tx) error {
	_, err := tx.ExecContext(ctx, `
		CREATE TABLE accounts (
			id            BIGINT PRIMARY KEY,
			name          TEXT NOT NULL,
			plan          TEXT NOT NULL,
			timezone      TEXT NOT NULL DEFAULT 'UTC',
			owner_user_id BIGINT NOT NULL,
			created_at    TIMESTAMPTZ NOT NULL,
			updated_at    TIMESTAMPTZ NOT NULL);
		CREATE TABLE users (
			id            BIGINT PRIMARY KEY,
			account_id    BIGINT NOT NULL,
			email         TEXT NOT NULL DEFAULT '',
			full_name     TEXT NOT NULL DEFAULT '',
			password_hash TEXT NOT NULL DEFAULT '',
			role          TEXT,
			created_at    TIMESTAMPTZ NOT NULL,
			two_factor    BOOLEAN NOT NULL DEFAULT false,
			tokens_valid_after TIMESTAMPTZ);
		CREATE INDEX users_account ON users (account_id, id);
		CREATE INDEX users_email ON users (email);
		CREATE TABLE invites (
			id          BIGINT PRIMARY KEY,
			account_id  BIGINT NOT NULL,
			email       TEXT NOT NULL,
			role        TEXT NOT NULL,
			invited_by  BIGINT NOT NULL,
			expires_at  TIMESTAMPTZ NOT NULL,
			accepted_by BIGINT,
			created_at  TIMESTAMPTZ NOT NULL,
			accepted_at TIMESTAMPTZ,
			revoked_at  TIMESTAMPTZ,
			replaced_by BIGINT);
		CREATE INDEX invites_account ON invites (account_id, id);`)
	return err
}

func accountOf(rec domain.RecordedEvent) int64 { return rec.Metadata.AccountID }

func (Accounts) Apply(ctx context.Context, tx Exec, rec domain.RecordedEvent, ev domain.Event) error {
	at := rec.Metadata.OccurredAt
	var err error
	switch e := ev.(type) {
	case *domain.AccountOpened:
		_, err = tx.ExecContext(ctx, `INSERT INTO accounts (id, name, plan, owner_user_id, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (id) DO NOTHING`, e.AccountID, e.Name, e.Plan, e.OwnerUserID, at)
	case *domain.AccountUpdated:
		_, err = tx.ExecContext(ctx, `UPDATE accounts SET name = $2, timezone = $3, updated_at = $4 WHERE id = $1`,
			accountOf(rec), e.Name, e.Timezone, at)
	case *domain.PlanChanged:
		_, err = tx.ExecContext(ctx, `UPDATE accounts SET plan = $2, updated_at = $3 WHERE id = $1`, accountOf(rec), e.To, at)
	case *domain.MemberInvited:
		_, err = tx.ExecContext(ctx, `INSERT INTO invites (id, account_id, email, role, invited_by, expires_at, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING`,
			e.InviteID, accountOf(rec), e.Email, e.Role, e.InvitedBy, e.ExpiresAt, at)
	case *domain.MemberJoined:
		// UserRegistered and MemberJoined live on different streams; either
		// may be applied first, so both upsert.
		_, err = tx.ExecContext(ctx, `INSERT INTO users (id, account_id, email, role, created_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (id) DO UPDATE SET role = EXCLUDED.role`, e.UserID, accountOf(rec), e.Email, e.Role, at)
		if err == nil && e.InviteID != 0 {
			_, err = tx.ExecContext(ctx, `UPDATE invites SET accepted_by = $2, accepted_at = $3 WHERE id = $1`, e.InviteID, e.UserID, at)
		}
	// The team's changes. A removed member keeps their row with no role:
	// authentication, the member list and the plan's count all skip
	// users without one. Withdrawn and replaced invitations stay, marked
	// (revoked_at, and replaced_by for a resend), so that their link can
	// say why it no longer works; the pending list skips them.
	case *domain.MemberRoleChanged:
		_, err = tx.ExecContext(ctx, `UPDATE users SET role = $3 WHERE id = $1 AND account_id = $2`, e.UserID, accountOf(rec), e.To)
	case *domain.MemberRemoved:
		_, err = tx.ExecContext(ctx, `UPDATE users SET role = NULL WHERE id = $1 AND account_id = $2`, e.UserID, accountOf(rec))
	case *domain.InviteRevoked:
		_, err = tx.ExecContext(ctx, `UPDATE invites SET revoked_at = $3 WHERE id = $1 AND account_id = $2`, e.InviteID, accountOf(rec), at)
	case *domain.InviteResent:
		_, err = tx.ExecContext(ctx, `UPDATE invites SET revoked_at = $3, replaced_by = $4 WHERE id = $1 AND account_id = $2`,
			e.InviteID, accountOf(rec), at, e.NewInviteID)
		if err == nil {
			_, err = tx.ExecContext(ctx, `INSERT INTO invites (id, account_id, email, role, invited_by, expires_at, created_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING`,
				e.NewInviteID, accountOf(rec), e.Email, e.Role, e.ResentBy, e.ExpiresAt, at)
		}
	case *domain.UserRegistered:
		_, err = tx.ExecContext(ctx, `INSERT INTO users (id, account_id, email, full_name, password_hash, created_at)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (id) DO UPDATE SET email = EXCLUDED.email, full_name = EXCLUDED.full_name,
				password_hash = EXCLUDED.password_hash, created_at = EXCLUDED.created_at`,
			e.UserID, e.AccountID, e.Email, e.FullName, e.PasswordHash, at)
	case *domain.UserRenamed:
		_, err = tx.ExecContext(ctx, `UPDATE users SET full_name = $2 WHERE id = $1`, e.UserID, e.FullName)
	case *domain.PasswordChanged:
		// Access tokens issued before the change stop working (auth.go).
		_, err = tx.ExecContext(ctx, `UPDATE users SET password_hash = $2, tokens_valid_after = $3 WHERE id = $1`, e.UserID, e.PasswordHash, at)
	case *domain.TwoFactorEnabled:
		_, err = tx.ExecContext(ctx, `UPDATE users SET two_factor = true WHERE id = $1`, e.UserID)
	case *domain.TwoFactorDisabled:
		_, err = tx.ExecContext(ctx, `UPDATE users SET two_factor = false WHERE id = $1`, e.UserID)
	}
	return err
}

// AccountRow is an account as the API shows it.
type AccountRow struct {
	ID          int64     `db:"id" json:"id"`
	Name        string    `db:"name" json:"name"`
	Plan        string    `db:"plan" json:"plan"`
	Timezone    string    `db:"timezone" json:"timezone"`
	OwnerUserID int64     `db:"owner_user_id" json:"owner_user_id"`
	CreatedAt   time.Time `db:"created_at" json:"created_at"`
	UpdatedAt   time.Time `db:"updated_at" json:"updated_at"`
}

// UserRow is a member as the API shows it.
type UserRow struct {
	ID           int64     `db:"id" json:"id"`
	AccountID    int64     `db:"account_id" json:"account_id"`
	Email        string    `db:"email" json:"email"`
	FullName     string    `db:"full_name" json:"full_name"`
	Role         string    `db:"role" json:"role"`
	PasswordHash string    `db:"password_hash" json:"-"`
	CreatedAt    time.Time `db:"created_at" json:"created_at"`
	// TwoFactor: sign-in asks for a TOTP or recovery code after the password.
	TwoFactor bool `db:"two_factor" json:"two_factor_enabled"`
	// TokensValidAfter is the last password change: access tokens issued
	// before it are refused.
	TokensValidAfter *time.Time `db:"tokens_valid_after" json:"-"`
}

// InviteRow is an invitation.
type InviteRow struct {
	ID         int64      `db:"id" json:"id"`
	AccountID  int64      `db:"account_id" json:"account_id"`
	Email      string     `db:"email" json:"email"`
	Role       string     `db:"role" json:"role"`
	InvitedBy  int64      `db:"invited_by" json:"invited_by"`
	ExpiresAt  time.Time  `db:"expires_at" json:"expires_at"`
	AcceptedBy *int64     `db:"accepted_by" json:"accepted_by"`
	CreatedAt  time.Time  `db:"created_at" json:"created_at"`
	AcceptedAt *time.Time `db:"accepted_at" json:"accepted_at"`
	// RevokedAt is when the invitation was withdrawn or replaced;
	// ReplacedBy the invitation a resend replaced it with. Neither is
	// listed as pending.
	RevokedAt  *time.Time `db:"revoked_at" json:"-"`
	ReplacedBy *int64     `db:"replaced_by" json:"-"`
}
