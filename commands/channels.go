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

// NotificationHandler handles channel and rule commands.
type NotificationHandler struct {
	store domain.EventStore
	ids   IDs
	now   Clock
	facts NotificationFacts
}

// NewNotificationHandler returns a handler.
func NewNotificationHandler(store domain.EventStore, ids IDs, now Clock, facts NotificationFacts) *NotificationHandler {
	return &NotificationHandler{store: store, ids: ids, now: now, facts: facts}
}

// CreateChannel creates a channel. WEBHOOK channels get a signing secret,
// shown once in the creation response.
func (h *NotificationHandler) CreateChannel(ctx context.Context, actor Actor, cfg domain.ChannelConfig) (int64, string, domain.Position, error) {
	if err := cfg.Validate(); err != nil {
		return 0, "", domain.Position{}, err
	}
	id, err := h.ids.Next(ctx, "channel")
	if err != nil {
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
	res, err := save(ctx, h.store, domain.ChannelStream(id), domain.NoStream, actor.metadata(h.now(), 0),
		[]domain.Event{&domain.ChannelCreated{ChannelID: id, AccountID: actor.AccountID, Config: cfg, WebhookSecret: secret}})
	return id, secret, res.Position, err
}

// UpdateChannel applies a partial change. The channel type cannot change:
// its secrets would not fit another type.
func (h *NotificationHandler) UpdateChannel(ctx context.Context, actor Actor, id int64, change func(domain.ChannelConfig) (domain.ChannelConfig, error)) (domain.Position, error) {
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
func (h *NotificationHandler) DeleteChannel(ctx context.Context, actor Actor, id int64) (domain.Position, error) {
	return h.decideChannel(ctx, actor, id, func(*domain.Channel) ([]domain.Event, error) {
		return []domain.Event{&domain.ChannelDeleted{}}, nil
	})
}

func (h *NotificationHandler) decideChannel(ctx context.Context, actor Actor, id int64, fn func(*domain.Channel) ([]domain.Event, error)) (domain.Position, error) {
	return decideOwned(ctx, h.store, h.now, actor, actor.AccountID, domain.ChannelStream(id), fmt.Sprintf("notification channel %d", id),
		func() *domain.Channel { return &domain.Channel{} }, fn)
}

func (h *NotificationHandler) validateRule(ctx context.Context, accountID int64, cfg *domain.RuleConfig) error {
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

// CreateRule creates a rule.
func (h *NotificationHandler) CreateRule(ctx context.Context, actor Actor, cfg domain.RuleConfig) (int64, domain.Position, error) {
	if err := h.validateRule(ctx, actor.AccountID, &cfg); err != nil {
		return 0, domain.Position{}, err
	}
	id, err := h.ids.Next(ctx, "rule")
	if err != nil {
		return 0, domain.Position{}, err
	}
	res, err := save(ctx, h.store, domain.RuleStream(id), domain.NoStream, actor.metadata(h.now(), 0),
		[]domain.Event{&domain.RuleCreated{RuleID: id, AccountID: actor.AccountID, Config: cfg}})
	return id, res.Position, err
}

// UpdateRule applies a partial change (PATCH).
func (h *NotificationHandler) UpdateRule(ctx context.Context, actor Actor, id int64, change func(domain.RuleConfig) (domain.RuleConfig, error)) (domain.Position, error) {
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
func (h *NotificationHandler) DeleteRule(ctx context.Context, actor Actor, id int64) (domain.Position, error) {
	return h.decideRule(ctx, actor, id, func(*domain.Rule) ([]domain.Event, error) {
		return []domain.Event{&domain.RuleDeleted{}}, nil
	})
}

func (h *NotificationHandler) decideRule(ctx context.Context, actor Actor, id int64, fn func(*domain.Rule) ([]domain.Event, error)) (domain.Position, error) {
	return decideOwned(ctx, h.store, h.now, actor, actor.AccountID, domain.RuleStream(id), fmt.Sprintf("notification rule %d", id),
		func() *domain.Rule { return &domain.Rule{} }, fn)
}
