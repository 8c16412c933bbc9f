package commands

import (
	"context"
	"time"

	"github.com/medialuna/medialuna/domain"
)

// UpdateAccount changes account settings; nil fields stay as they are.
type UpdateAccount struct {
	Actor    Actor
	Name     *string
	Timezone *string
}

// ChangePlan moves an account to another plan (operators, billing).
type ChangePlan struct {
	Actor     Actor
	AccountID int64
	Plan      string
	Reason    string
}

// accounts is what the account commands share.
type accounts struct {
	store domain.EventStore
	now   Clock
}

// UpdateAccountHandler handles UpdateAccount.
type UpdateAccountHandler struct{ accounts }

// NewUpdateAccountHandler returns a handler.
func NewUpdateAccountHandler(store domain.EventStore, now Clock) *UpdateAccountHandler {
	return &UpdateAccountHandler{accounts{store: store, now: now}}
}

// Handle changes the actor's account. Errors: ErrInvalid for a name or a
// time zone the account refuses.
func (h *UpdateAccountHandler) Handle(ctx context.Context, cmd UpdateAccount) (domain.Position, error) {
	return decideAccount(ctx, h.store, h.now, cmd.Actor, cmd.Actor.AccountID, func(acc *domain.Account) ([]domain.Event, error) {
		return acc.Update(cmd.Name, cmd.Timezone, func(z string) bool {
			_, err := time.LoadLocation(z)
			return err == nil && z != "" && z != "Local"
		})
	})
}

// ChangePlanHandler handles ChangePlan.
type ChangePlanHandler struct{ accounts }

// NewChangePlanHandler returns a handler.
func NewChangePlanHandler(store domain.EventStore, now Clock) *ChangePlanHandler {
	return &ChangePlanHandler{accounts{store: store, now: now}}
}

// Handle moves the account to the plan. Errors: ErrInvalid for an unknown
// plan, ErrNotFound for an unknown account.
func (h *ChangePlanHandler) Handle(ctx context.Context, cmd ChangePlan) (domain.Position, error) {
	plan, err := domain.ParsePlan(cmd.Plan)
	if err != nil {
		return domain.Position{}, err
	}
	return decideAccount(ctx, h.store, h.now, cmd.Actor, cmd.AccountID, func(acc *domain.Account) ([]domain.Event, error) {
		return acc.ChangePlan(plan, cmd.Reason)
	})
}

// decideAccount runs load-decide-append on an account, deciding again when
// a concurrent change wins the race.
func decideAccount(ctx context.Context, store domain.EventStore, now Clock, actor Actor, accountID int64, fn func(*domain.Account) ([]domain.Event, error)) (domain.Position, error) {
	res, err := retryOnConflict(ctx, func() (domain.AppendResult, error) {
		acc := domain.NewAccount()
		version, err := load(ctx, store, domain.AccountStream(accountID), acc)
		if err != nil {
			return domain.AppendResult{}, err
		}
		if !acc.Exists() {
			return domain.AppendResult{}, domain.Errorf(domain.ErrNotFound, "account %d not found", accountID)
		}
		events, err := fn(acc)
		if err != nil {
			return domain.AppendResult{}, err
		}
		return save(ctx, store, domain.AccountStream(accountID), version, actor.metadata(now(), accountID), events)
	})
	return res.Position, err
}
