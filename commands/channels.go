package commands

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"

	"github.com/medialuna/medialuna/domain"
)

// NotificationFacts are the read-model facts rule validation needs.
type NotificationFacts interface {
	ChannelIDs(ctx context.Context, accountID int64) ([]int64, error)
	MonitorIDs(ctx context.Context, accountID int64) ([]int64, error)
}

// notificationSettings is what the channel and rule commands share.
type notificationSettings struct {
	store domain.EventStore
	ids   IDs
	now   Clock
	facts NotificationFacts
}

// CreateChannel creates a notification channel of the actor's account.
type CreateChannel struct {
	Actor  Actor
	Config domain.ChannelConfig
}

// CreateChannelHandler handles CreateChannel.
type CreateChannelHandler struct{ notificationSettings }

// NewCreateChannelHandler returns a handler.
func NewCreateChannelHandler(store domain.EventStore, ids IDs, now Clock, facts NotificationFacts) *CreateChannelHandler {
	return &CreateChannelHandler{notificationSettings{store: store, ids: ids, now: now, facts: facts}}
}

// Handle creates a channel. WEBHOOK channels get a signing secret,
// shown once in the creation response.
func (h *CreateChannelHandler) Handle(ctx context.Context, cmd CreateChannel) (int64, string, domain.Position, error) {
	actor, cfg := cmd.Actor, cmd.Config
	if err := cfg.Validate(); err != nil {
		return 0, "", domain.Position{}, err
	}
	secret := ""
	if cfg.Type == domain.ChannelWebhook {
		var b [32]byte
		if _, err := rand.Read(b[:]); err != nil {
			return 0, "", domain.Position{}, err
		}
		secret = "whsec_" + hex.EncodeToString(b[:])
	}
	id, pos, err := createOwned(ctx, h.store, h.ids, h.now, actor, "channel", domain.ChannelStream, func(id int64) domain.Event {
		return &domain.ChannelCreated{ChannelID: id, AccountID: actor.AccountID, Config: cfg, WebhookSecret: secret}
	})
	return id, secret, pos, err
}

// UpdateChannel changes a channel: Change maps its config, as loaded from
// its stream, to the new one.
type UpdateChannel struct {
	Actor     Actor
	ChannelID int64
	Change    func(domain.ChannelConfig) (domain.ChannelConfig, error)
}

// UpdateChannelHandler handles UpdateChannel.
type UpdateChannelHandler struct{ notificationSettings }

// NewUpdateChannelHandler returns a handler.
func NewUpdateChannelHandler(store domain.EventStore, ids IDs, now Clock, facts NotificationFacts) *UpdateChannelHandler {
	return &UpdateChannelHandler{notificationSettings{store: store, ids: ids, now: now, facts: facts}}
}

// Handle applies a partial change. The channel type cannot change:
// its secrets would not fit another type.
func (h *UpdateChannelHandler) Handle(ctx context.Context, cmd UpdateChannel) (domain.Position, error) {
	actor, id, change := cmd.Actor, cmd.ChannelID, cmd.Change
	return h.decideChannel(ctx, actor, id, func(ch *domain.Channel) ([]domain.Event, error) {
		cfg := ch.Config
		cfg, err := change(cfg)
		if err != nil {
			return nil, err
		}
		if err := cfg.Validate(); err != nil {
			return nil, err
		}
		if cfg.Type != ch.Config.Type {
			return nil, domain.Invalid("channel_type", "value_error", "a channel's type cannot change; create a new channel")
		}
		return []domain.Event{&domain.ChannelUpdated{Config: cfg}}, nil
	})
}

// DeleteChannel deletes a channel.
type DeleteChannel struct {
	Actor     Actor
	ChannelID int64
}

// DeleteChannelHandler handles DeleteChannel.
type DeleteChannelHandler struct{ notificationSettings }

// NewDeleteChannelHandler returns a handler.
func NewDeleteChannelHandler(store domain.EventStore, ids IDs, now Clock, facts NotificationFacts) *DeleteChannelHandler {
	return &DeleteChannelHandler{notificationSettings{store: store, ids: ids, now: now, facts: facts}}
}

// Handle deletes a channel.
func (h *DeleteChannelHandler) Handle(ctx context.Context, cmd DeleteChannel) (domain.Position, error) {
	actor, id := cmd.Actor, cmd.ChannelID
	return h.decideChannel(ctx, actor, id, func(*domain.Channel) ([]domain.Event, error) {
		return []domain.Event{&domain.ChannelDeleted{}}, nil
	})
}

func (h *notificationSettings) decideChannel(ctx context.Context, actor Actor, id int64, fn func(*domain.Channel) ([]domain.Event, error)) (domain.Position, error) {
	return decideOwned(ctx, h.store, h.now, actor, actor.AccountID, domain.ChannelStream(id), fmt.Sprintf("notification channel %d", id),
		func() *domain.Channel { return &domain.Channel{} }, fn)
}

func (h *notificationSettings) validateRule(ctx context.Context, accountID int64, cfg *domain.RuleConfig) error {
	channels, err := h.facts.ChannelIDs(ctx, accountID)
	if err != nil {
		return err
	}
	monitors, err := h.facts.MonitorIDs(ctx, accountID)
	if err != nil {
		return err
	}
	return cfg.Validate(func(id int64) bool { return slices.Contains(channels, id) }, func(id int64) bool { return slices.Contains(monitors, id) })
}

// CreateRule creates a notification rule of the actor's account.
type CreateRule struct {
	Actor  Actor
	Config domain.RuleConfig
}

// CreateRuleHandler handles CreateRule.
type CreateRuleHandler struct{ notificationSettings }

// NewCreateRuleHandler returns a handler.
func NewCreateRuleHandler(store domain.EventStore, ids IDs, now Clock, facts NotificationFacts) *CreateRuleHandler {
	return &CreateRuleHandler{notificationSettings{store: store, ids: ids, now: now, facts: facts}}
}

// Handle creates a rule.
func (h *CreateRuleHandler) Handle(ctx context.Context, cmd CreateRule) (int64, domain.Position, error) {
	actor, cfg := cmd.Actor, cmd.Config
	if err := h.validateRule(ctx, actor.AccountID, &cfg); err != nil {
		return 0, domain.Position{}, err
	}
	return createOwned(ctx, h.store, h.ids, h.now, actor, "rule", domain.RuleStream, func(id int64) domain.Event {
		return &domain.RuleCreated{RuleID: id, AccountID: actor.AccountID, Config: cfg}
	})
}

// UpdateRule changes a rule: Change maps its config, as loaded from its
// stream, to the new one.
type UpdateRule struct {
	Actor  Actor
	RuleID int64
	Change func(domain.RuleConfig) (domain.RuleConfig, error)
}

// UpdateRuleHandler handles UpdateRule.
type UpdateRuleHandler struct{ notificationSettings }

// NewUpdateRuleHandler returns a handler.
func NewUpdateRuleHandler(store domain.EventStore, ids IDs, now Clock, facts NotificationFacts) *UpdateRuleHandler {
	return &UpdateRuleHandler{notificationSettings{store: store, ids: ids, now: now, facts: facts}}
}

// Handle applies a partial change (PATCH).
func (h *UpdateRuleHandler) Handle(ctx context.Context, cmd UpdateRule) (domain.Position, error) {
	actor, id, change := cmd.Actor, cmd.RuleID, cmd.Change
	return h.decideRule(ctx, actor, id, func(r *domain.Rule) ([]domain.Event, error) {
		cfg := r.Config
		// Channels and monitors deleted since the rule was written are
		// dropped, not errors; a rule whose monitors are all gone is
		// disabled, as the read model shows it, rather than widened to every
		// monitor (an empty monitor_ids).
		channels, err := h.facts.ChannelIDs(ctx, actor.AccountID)
		if err != nil {
			return nil, err
		}
		monitors, err := h.facts.MonitorIDs(ctx, actor.AccountID)
		if err != nil {
			return nil, err
		}
		cfg.ChannelIDs = slices.DeleteFunc(slices.Clone(r.Config.ChannelIDs), func(id int64) bool { return !slices.Contains(channels, id) })
		cfg.MonitorIDs = slices.DeleteFunc(slices.Clone(r.Config.MonitorIDs), func(id int64) bool { return !slices.Contains(monitors, id) })
		if len(r.Config.MonitorIDs) > 0 && len(cfg.MonitorIDs) == 0 {
			cfg.Enabled = false
		}
		cfg, err = change(cfg)
		if err != nil {
			return nil, err
		}
		if err := h.validateRule(ctx, actor.AccountID, &cfg); err != nil {
			return nil, err
		}
		return []domain.Event{&domain.RuleUpdated{Config: cfg}}, nil
	})
}

// DeleteRule deletes a rule.
type DeleteRule struct {
	Actor  Actor
	RuleID int64
}

// DeleteRuleHandler handles DeleteRule.
type DeleteRuleHandler struct{ notificationSettings }

// NewDeleteRuleHandler returns a handler.
func NewDeleteRuleHandler(store domain.EventStore, ids IDs, now Clock, facts NotificationFacts) *DeleteRuleHandler {
	return &DeleteRuleHandler{notificationSettings{store: store, ids: ids, now: now, facts: facts}}
}

// Handle deletes a rule.
func (h *DeleteRuleHandler) Handle(ctx context.Context, cmd DeleteRule) (domain.Position, error) {
	actor, id := cmd.Actor, cmd.RuleID
	return h.decideRule(ctx, actor, id, func(*domain.Rule) ([]domain.Event, error) {
		return []domain.Event{&domain.RuleDeleted{}}, nil
	})
}

func (h *notificationSettings) decideRule(ctx context.Context, actor Actor, id int64, fn func(*domain.Rule) ([]domain.Event, error)) (domain.Position, error) {
	return decideOwned(ctx, h.store, h.now, actor, actor.AccountID, domain.RuleStream(id), fmt.Sprintf("notification rule %d", id),
		func() *domain.Rule { return &domain.Rule{} }, fn)
}
