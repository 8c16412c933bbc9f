package domain

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// ChannelStream names a notification channel's stream.
func ChannelStream(id int64) string { return "channel-" + itoa(id) }

// RuleStream names a notification rule's stream.
func RuleStream(id int64) string { return "rule-" + itoa(id) }

// ChannelType is how a channel delivers.
type ChannelType string

const (
	ChannelEmail     ChannelType = "EMAIL"
	ChannelSMS       ChannelType = "SMS"
	ChannelSlack     ChannelType = "SLACK"
	ChannelPagerDuty ChannelType = "PAGERDUTY"
	ChannelWebhook   ChannelType = "WEBHOOK"
	ChannelTelegram  ChannelType = "TELEGRAM"
)

// ChannelConfig is a notification channel as users set it. Field names
// follow the public API; phone_number (SMS) and pagerduty_routing_key are
// the fields the reference leaves out but its channel types need.
type ChannelConfig struct {
	Name                string      `json:"name"`
	Type                ChannelType `json:"channel_type"`
	EmailRecipient      string      `json:"email_recipient,omitempty"`
	PhoneNumber         string      `json:"phone_number,omitempty"`
	SlackWebhookURL     string      `json:"slack_webhook_url,omitempty"`
	WebhookURL          string      `json:"webhook_url,omitempty"`
	PagerDutyRoutingKey string      `json:"pagerduty_routing_key,omitempty"`
	TelegramBotToken    string      `json:"telegram_bot_token,omitempty"`
	TelegramChatID      string      `json:"telegram_chat_id,omitempty"`
	Enabled             bool        `json:"enabled"`
}

var (
	e164          = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	telegramToken = regexp.MustCompile(`^[0-9]{3,12}:[A-Za-z0-9_-]{30,60}$`)
	telegramChat  = regexp.MustCompile(`^(-?[0-9]{1,20}|@[A-Za-z][A-Za-z0-9_]{4,31})$`)
	routingKey    = regexp.MustCompile(`^[A-Za-z0-9]{32}$`)
)

func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && len(s) <= 2000
}

// Validate checks a channel; each type's required field is named when
// missing or malformed.
func (c *ChannelConfig) Validate() error {
	var v Validation
	c.Name = strings.TrimSpace(c.Name)
	if n := utf8.RuneCountInString(c.Name); n < 1 || n > 200 {
		v.Add("name", "value_error", "name must be 1 to 200 characters")
	}
	c.Type = ChannelType(strings.ToUpper(string(c.Type)))
	switch c.Type {
	case ChannelEmail:
		email, err := NormalizeEmail(c.EmailRecipient)
		if err != nil {
			v.Add("email_recipient", "value_error", "email_recipient is required for EMAIL channels and must be a valid address")
		}
		c.EmailRecipient = email
	case ChannelSMS:
		if c.PhoneNumber = strings.ReplaceAll(c.PhoneNumber, " ", ""); !e164.MatchString(c.PhoneNumber) {
			v.Add("phone_number", "value_error", "phone_number is required for SMS channels, in E.164 form such as +34600111222")
		}
	case ChannelSlack:
		if !httpURL(c.SlackWebhookURL) || !strings.HasPrefix(c.SlackWebhookURL, "https://") && !strings.HasPrefix(c.SlackWebhookURL, "http://") {
			v.Add("slack_webhook_url", "value_error", "slack_webhook_url is required for SLACK channels: the incoming webhook URL Slack gave you")
		}
	case ChannelPagerDuty:
		if !routingKey.MatchString(c.PagerDutyRoutingKey) {
			v.Add("pagerduty_routing_key", "value_error", "pagerduty_routing_key is required for PAGERDUTY channels: the 32-character integration key of an Events API v2 integration")
		}
	case ChannelWebhook:
		if !httpURL(c.WebhookURL) {
			v.Add("webhook_url", "value_error", "webhook_url is required for WEBHOOK channels and must be an http(s) URL")
		}
	case ChannelTelegram:
		if !telegramToken.MatchString(c.TelegramBotToken) {
			v.Add("telegram_bot_token", "value_error", "telegram_bot_token is required for TELEGRAM channels, as BotFather gave it (123456789:AA...)")
		}
		if !telegramChat.MatchString(c.TelegramChatID) {
			v.Add("telegram_chat_id", "value_error", "telegram_chat_id is required for TELEGRAM channels: a numeric chat id or @channelname")
		}
	default:
		v.Add("channel_type", "enum", "channel_type must be one of EMAIL, SMS, SLACK, PAGERDUTY, WEBHOOK, TELEGRAM")
	}
	return v.Err()
}

// mask hides all but the last few characters of a secret.
func mask(s string, keep int) string {
	if s == "" {
		return ""
	}
	if len(s) <= keep {
		return strings.Repeat("*", 8)
	}
	return strings.Repeat("*", 8) + s[len(s)-keep:]
}

// Masked returns the channel as responses show it after creation: tokens,
// routing keys and the secret path of Slack webhooks are hidden.
func (c ChannelConfig) Masked() ChannelConfig {
	out := c
	if c.SlackWebhookURL != "" {
		if u, err := url.Parse(c.SlackWebhookURL); err == nil {
			out.SlackWebhookURL = u.Scheme + "://" + u.Host + "/" + mask(strings.TrimPrefix(u.Path, "/"), 4)
		} else {
			out.SlackWebhookURL = mask(c.SlackWebhookURL, 4)
		}
	}
	if c.TelegramBotToken != "" {
		id, _, _ := strings.Cut(c.TelegramBotToken, ":")
		out.TelegramBotToken = id + ":" + strings.Repeat("*", 8)
	}
	out.PagerDutyRoutingKey = mask(c.PagerDutyRoutingKey, 4)
	return out
}

// ChannelCreated creates a channel; WebhookSecret signs WEBHOOK deliveries.
type ChannelCreated struct {
	ChannelID     int64         `json:"channel_id"`
	AccountID     int64         `json:"account_id"`
	Config        ChannelConfig `json:"config"`
	WebhookSecret string        `json:"webhook_secret,omitempty"`
}

// ChannelUpdated records the channel's whole new configuration.
type ChannelUpdated struct {
	Config ChannelConfig `json:"config"`
}

// ChannelDeleted removes a channel (and takes it off every rule).
type ChannelDeleted struct{}

func (ChannelCreated) EventType() string { return EvNotificationChannelCreated }
func (ChannelCreated) EventVersion() int { return 1 }
func (ChannelUpdated) EventType() string { return EvNotificationChannelUpdated }
func (ChannelUpdated) EventVersion() int { return 1 }
func (ChannelDeleted) EventType() string { return EvNotificationChannelDeleted }
func (ChannelDeleted) EventVersion() int { return 1 }

// Channel is the channel aggregate.
type Channel struct {
	ID        int64
	AccountID int64
	Config    ChannelConfig
	Deleted   bool
}

// Apply folds one event.
func (ch *Channel) Apply(e Event) {
	switch e := e.(type) {
	case *ChannelCreated:
		ch.ID, ch.AccountID, ch.Config = e.ChannelID, e.AccountID, e.Config
	case *ChannelUpdated:
		ch.Config = e.Config
	case *ChannelDeleted:
		ch.Deleted = true
	}
}

// Exists reports whether the channel was created and not deleted.
func (ch *Channel) Exists() bool { return ch.ID != 0 && !ch.Deleted }

// Owner is the account the channel belongs to.
func (ch *Channel) Owner() int64 { return ch.AccountID }

// Condition is one test a rule applies to a check.
type Condition struct {
	Type     string `json:"type"`     // STATUS or RESPONSE_TIME
	Operator string `json:"operator"` // eq, gt, lt, gte, lte
	Value    any    `json:"value"`    // "down"/"up" for STATUS, milliseconds for RESPONSE_TIME
}

// RuleConfig is a notification rule.
type RuleConfig struct {
	Name              string      `json:"name"`
	Conditions        []Condition `json:"conditions"`
	ChannelIDs        []int64     `json:"channel_ids"`
	MonitorIDs        []int64     `json:"monitor_ids"`
	ConsecutiveChecks int         `json:"consecutive_checks"`
	Enabled           bool        `json:"enabled"`
	// RenotifyMinutes repeats incident.triggered this often while the
	// incident stays open and unacknowledged; 0 never repeats.
	RenotifyMinutes int `json:"renotify_minutes"`
}

// Rule limits on re-notification.
const (
	MinRenotifyMinutes = 5
	MaxRenotifyMinutes = 10080
)

// Matches reports whether the rule routes a notification event about an
// incident of type typ on a monitor. STATUS "down" covers the whole life
// of DOWN and SSL_EXPIRY incidents; STATUS "up" only their end
// (incident.resolved, monitor.recovered); RESPONSE_TIME covers PERFORMANCE
// incidents, whose threshold is the monitor's performance_threshold_ms.
func (r RuleConfig) Matches(monitorID int64, typ IncidentType, event string) bool {
	if !r.Enabled || (len(r.MonitorIDs) > 0 && !slices.Contains(r.MonitorIDs, monitorID)) {
		return false
	}
	for _, c := range r.Conditions {
		switch {
		case c.Type == "STATUS" && c.Value == "down" && (typ == IncidentDown || typ == IncidentSSLExpiry):
			return true
		case c.Type == "STATUS" && c.Value == "up" && typ == IncidentDown &&
			(event == EventIncidentResolved || event == EventMonitorRecovered):
			return true
		case c.Type == "RESPONSE_TIME" && typ == IncidentPerformance:
			return true
		}
	}
	return false
}

// Validate checks a rule against the account's channels and monitors.
func (r *RuleConfig) Validate(ownChannel, ownMonitor func(int64) bool) error {
	var v Validation
	r.Name = strings.TrimSpace(r.Name)
	if n := utf8.RuneCountInString(r.Name); n < 1 || n > 200 {
		v.Add("name", "value_error", "name must be 1 to 200 characters")
	}
	if len(r.Conditions) == 0 {
		v.Add("conditions", "value_error", "conditions must hold at least one condition")
	}
	for i := range r.Conditions {
		c := &r.Conditions[i]
		c.Type, c.Operator = strings.ToUpper(c.Type), strings.ToLower(c.Operator)
		if !slices.Contains([]string{"eq", "gt", "lt", "gte", "lte"}, c.Operator) {
			v.Add("conditions", "enum", "condition %d: operator must be one of eq, gt, lt, gte, lte", i)
			continue
		}
		switch c.Type {
		case "STATUS":
			s, ok := c.Value.(string)
			s = strings.ToLower(s)
			if !ok || (s != "down" && s != "up") || c.Operator != "eq" {
				v.Add("conditions", "value_error", "condition %d: STATUS takes operator eq and value \"down\" or \"up\"", i)
			}
			c.Value = s
		case "RESPONSE_TIME":
			ms, ok := c.Value.(float64)
			if !ok || ms <= 0 || ms > 600000 {
				v.Add("conditions", "value_error", "condition %d: RESPONSE_TIME takes a value in milliseconds (1 to 600000)", i)
			}
		default:
			v.Add("conditions", "enum", "condition %d: type must be STATUS or RESPONSE_TIME", i)
		}
	}
	r.ChannelIDs = dedupe(r.ChannelIDs)
	if len(r.ChannelIDs) == 0 {
		v.Add("channel_ids", "value_error", "channel_ids must name at least one notification channel")
	}
	for _, id := range r.ChannelIDs {
		if !ownChannel(id) {
			v.Add("channel_ids", "value_error", "notification channel %d not found", id)
			break
		}
	}
	r.MonitorIDs = dedupe(r.MonitorIDs)
	for _, id := range r.MonitorIDs {
		if !ownMonitor(id) {
			v.Add("monitor_ids", "value_error", "monitor %d not found", id)
			break
		}
	}
	// No coercion: 0 is refused as -1 is (the API's default of 1 is set
	// before the body is read, where an absent field is told apart).
	if r.ConsecutiveChecks < 1 || r.ConsecutiveChecks > 100 {
		v.Add("consecutive_checks", "value_error", "consecutive_checks must be between 1 and 100")
	}
	if r.RenotifyMinutes != 0 && (r.RenotifyMinutes < MinRenotifyMinutes || r.RenotifyMinutes > MaxRenotifyMinutes) {
		v.Add("renotify_minutes", "value_error", "renotify_minutes must be 0 (never) or between %d and %d", MinRenotifyMinutes, MaxRenotifyMinutes)
	}
	return v.Err()
}

// RuleCreated creates a rule.
type RuleCreated struct {
	RuleID    int64      `json:"rule_id"`
	AccountID int64      `json:"account_id"`
	Config    RuleConfig `json:"config"`
}

// RuleUpdated records the rule's whole new configuration.
type RuleUpdated struct {
	Config RuleConfig `json:"config"`
}

// RuleDeleted removes a rule.
type RuleDeleted struct{}

func (RuleCreated) EventType() string { return EvNotificationRuleCreated }
func (RuleCreated) EventVersion() int { return 1 }
func (RuleUpdated) EventType() string { return EvNotificationRuleUpdated }
func (RuleUpdated) EventVersion() int { return 1 }
func (RuleDeleted) EventType() string { return EvNotificationRuleDeleted }
func (RuleDeleted) EventVersion() int { return 1 }

// Rule is the rule aggregate.
type Rule struct {
	ID        int64
	AccountID int64
	Config    RuleConfig
	Deleted   bool
}

// Apply folds one event.
func (r *Rule) Apply(e Event) {
	switch e := e.(type) {
	case *RuleCreated:
		r.ID, r.AccountID, r.Config = e.RuleID, e.AccountID, e.Config
	case *RuleUpdated:
		r.Config = e.Config
	case *RuleDeleted:
		r.Deleted = true
	}
}

// Exists reports whether the rule was created and not deleted.
func (r *Rule) Exists() bool { return r.ID != 0 && !r.Deleted }

// Owner is the account the rule belongs to.
func (r *Rule) Owner() int64 { return r.AccountID }
