package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
)

func (s *Server) listChannels(w http.ResponseWriter, r *http.Request, p *principal) error {
	skip, limit, err := paging(r)
	if err != nil {
		return err
	}
	list, err := s.deps.Queries.Channels(r.Context(), p.AccountID, 0)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, window(list, skip, limit))
	return nil
}

func (s *Server) getChannel(w http.ResponseWriter, r *http.Request, p *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	list, err := s.deps.Queries.Channels(r.Context(), p.AccountID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list[0])
	return nil
}

func (s *Server) createChannel(w http.ResponseWriter, r *http.Request, p *principal) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	var required struct {
		Name *string `json:"name"`
		Type *string `json:"channel_type"`
	}
	if err := decodeBytes(body, &required); err != nil {
		return err
	}
	cfg := domain.ChannelConfig{Enabled: true}
	if err := decodeBytes(body, &cfg); err != nil {
		return err
	}
	var v domain.Validation
	if required.Name == nil {
		v.Add("name", "missing", "field required")
	}
	if required.Type == nil {
		v.Add("channel_type", "missing", "field required")
	}
	if v.Err() != nil {
		probe := cfg // every failing field at once
		v.Join(probe.Validate())
		return v.Err()
	}
	id, secret, pos, err := s.deps.CreateChannel.Handle(r.Context(), commands.CreateChannel{Actor: p.actor(r), Config: cfg})
	if err != nil {
		return err
	}
	// The webhook secret is shown once: a 202 carries it too.
	if err := s.visible(r, pos, "id", id, "webhook_secret", secret); err != nil {
		return err
	}
	list, err := s.deps.Queries.Channels(r.Context(), p.AccountID, id)
	if err != nil {
		return err
	}
	view := list[0]
	view.WebhookSecret = secret // shown once: sign and verify deliveries with it
	writeJSON(w, http.StatusCreated, view)
	return nil
}

func (s *Server) updateChannel(w http.ResponseWriter, r *http.Request, p *principal) error {
	return s.patch(w, r, p, &domain.ChannelConfig{}, func(id int64, patch json.RawMessage) (domain.Position, error) {
		return s.deps.UpdateChannel.Handle(r.Context(), commands.UpdateChannel{Actor: p.actor(r), ChannelID: id, Change: overlay[domain.ChannelConfig](patch)})
	}, s.getChannel)
}

func (s *Server) deleteChannel(w http.ResponseWriter, r *http.Request, p *principal) error {
	return s.remove(w, r, func(id int64) (domain.Position, error) {
		return s.deps.DeleteChannel.Handle(r.Context(), commands.DeleteChannel{Actor: p.actor(r), ChannelID: id})
	})
}

func (s *Server) listRules(w http.ResponseWriter, r *http.Request, p *principal) error {
	skip, limit, err := paging(r)
	if err != nil {
		return err
	}
	list, err := s.deps.Queries.Rules(r.Context(), p.AccountID, 0)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, window(list, skip, limit))
	return nil
}

func (s *Server) getRule(w http.ResponseWriter, r *http.Request, p *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	list, err := s.deps.Queries.Rules(r.Context(), p.AccountID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list[0])
	return nil
}

func (s *Server) createRule(w http.ResponseWriter, r *http.Request, p *principal) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	var required struct {
		Name       *string          `json:"name"`
		Conditions *json.RawMessage `json:"conditions"`
		ChannelIDs *[]int64         `json:"channel_ids"`
	}
	if err := decodeBytes(body, &required); err != nil {
		return err
	}
	cfg := domain.RuleConfig{Enabled: true, ConsecutiveChecks: 1, MonitorIDs: []int64{}}
	if err := decodeBytes(body, &cfg); err != nil {
		return err
	}
	var v domain.Validation
	if required.Name == nil {
		v.Add("name", "missing", "field required")
	}
	if required.Conditions == nil {
		v.Add("conditions", "missing", "field required")
	}
	if required.ChannelIDs == nil {
		v.Add("channel_ids", "missing", "field required")
	}
	if v.Err() != nil {
		// Every failing field at once, the account's channels and
		// monitors taken as its own (the command checks them).
		probe := cfg
		own := func(int64) bool { return true }
		v.Join(probe.Validate(own, own))
		return v.Err()
	}
	id, pos, err := s.deps.CreateRule.Handle(r.Context(), commands.CreateRule{Actor: p.actor(r), Config: cfg})
	if err != nil {
		return err
	}
	if err := s.visible(r, pos, "id", id); err != nil {
		return err
	}
	list, err := s.deps.Queries.Rules(r.Context(), p.AccountID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, list[0])
	return nil
}

func (s *Server) updateRule(w http.ResponseWriter, r *http.Request, p *principal) error {
	return s.patch(w, r, p, &domain.RuleConfig{}, func(id int64, patch json.RawMessage) (domain.Position, error) {
		return s.deps.UpdateRule.Handle(r.Context(), commands.UpdateRule{Actor: p.actor(r), RuleID: id, Change: overlay[domain.RuleConfig](patch)})
	}, s.getRule)
}

func (s *Server) deleteRule(w http.ResponseWriter, r *http.Request, p *principal) error {
	return s.remove(w, r, func(id int64) (domain.Position, error) {
		return s.deps.DeleteRule.Handle(r.Context(), commands.DeleteRule{Actor: p.actor(r), RuleID: id})
	})
}

func (s *Server) channelDeliveries(w http.ResponseWriter, r *http.Request, p *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := s.deps.Queries.Channels(r.Context(), p.AccountID, id); err != nil {
		return err
	}
	skip, limit, err := paging(r)
	if err != nil {
		return err
	}
	list, err := s.deps.Queries.Deliveries(r.Context(), p.AccountID, id, skip, limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

// testChannel sends a test notification through the channel right away
// and says whether it arrived.
func (s *Server) testChannel(w http.ResponseWriter, r *http.Request, p *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.sendTestNotification(r.Context(), p.AccountID, id, "test-"+requestID(r)); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"detail": "Test notification sent", "channel_id": id, "delivered": true})
	return nil
}

// sendTestNotification sends a test notification through channel id of
// the account now, for the API and the dashboard alike. Errors:
// ErrNotFound for another account's or a missing channel; ErrInvalid,
// saying why, when the channel's service refused or could not be reached.
func (s *Server) sendTestNotification(ctx context.Context, accountID, id int64, deliveryID string) error {
	if _, err := s.deps.Queries.Channels(ctx, accountID, id); err != nil {
		return err
	}
	ch, secret, _, err := s.deps.Queries.ChannelForDelivery(ctx, id)
	if err != nil {
		return err
	}
	sender := s.deps.Senders[ch.Type]
	if sender == nil {
		return domain.Errorf(domain.ErrInvalid, "no sender for %s channels", ch.Type)
	}
	n := domain.Notification{DeliveryID: deliveryID, Event: domain.EventTest, OccurredAt: s.deps.Now(), AccountID: accountID,
		Monitor: domain.NotificationMonitor{Name: "Media Luna test notification"}}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := sender.Send(ctx, ch, secret, n); err != nil {
		return domain.Errorf(domain.ErrInvalid, "the test notification through %q failed: %v", ch.Name, err)
	}
	return nil
}
