package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/medialuna/medialuna/adapters/notify/email"
	"github.com/medialuna/medialuna/adapters/notify/notifyerr"
	"github.com/medialuna/medialuna/adapters/notify/pagerduty"
	"github.com/medialuna/medialuna/adapters/notify/slack"
	"github.com/medialuna/medialuna/adapters/notify/telegram"
	"github.com/medialuna/medialuna/adapters/notify/twilio"
	"github.com/medialuna/medialuna/adapters/notify/webhook"
	"github.com/medialuna/medialuna/adapters/probe"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/processes"
)

// notifyConfig locates the notification services; every base URL can be
// pointed elsewhere (a regional endpoint, a test server).
type notifyConfig struct {
	PagerDutyURL     string
	TelegramURL      string
	TwilioURL        string
	TwilioAccountSID string
	TwilioAuthToken  string
	TwilioFrom       string
}

func (c *notifyConfig) register(fs *flag.FlagSet) {
	fs.StringVar(&c.PagerDutyURL, "pagerduty-url", env("MEDIALUNA_PAGERDUTY_URL", pagerduty.DefaultBaseURL), "PagerDuty Events API base URL (env MEDIALUNA_PAGERDUTY_URL)")
	fs.StringVar(&c.TelegramURL, "telegram-url", env("MEDIALUNA_TELEGRAM_URL", telegram.DefaultBaseURL), "Telegram Bot API base URL (env MEDIALUNA_TELEGRAM_URL)")
	fs.StringVar(&c.TwilioURL, "twilio-url", env("MEDIALUNA_TWILIO_URL", twilio.DefaultBaseURL), "Twilio API base URL (env MEDIALUNA_TWILIO_URL)")
	fs.StringVar(&c.TwilioAccountSID, "twilio-account-sid", env("MEDIALUNA_TWILIO_ACCOUNT_SID", ""), "Twilio account SID for SMS channels (env MEDIALUNA_TWILIO_ACCOUNT_SID)")
	fs.StringVar(&c.TwilioAuthToken, "twilio-auth-token", env("MEDIALUNA_TWILIO_AUTH_TOKEN", ""), "Twilio auth token (env MEDIALUNA_TWILIO_AUTH_TOKEN)")
	fs.StringVar(&c.TwilioFrom, "twilio-from", env("MEDIALUNA_TWILIO_FROM", ""), "Twilio sender number, E.164 (env MEDIALUNA_TWILIO_FROM)")
}

func registerDispatch(fs *flag.FlagSet, c *processes.DispatcherConfig) {
	fs.DurationVar(&c.Timeout, "notify-timeout", envDuration("MEDIALUNA_NOTIFY_TIMEOUT", 10*time.Second), "how long one notification attempt may take (env MEDIALUNA_NOTIFY_TIMEOUT); the HTTP services' own clients stop at 10 s, so only shorter values change them")
	fs.DurationVar(&c.Backoff, "notify-backoff", envDuration("MEDIALUNA_NOTIFY_BACKOFF", time.Second), "wait before the first retry of a failed notification; doubled for each next one (env MEDIALUNA_NOTIFY_BACKOFF)")
	fs.Func("notify-retries", "retries after a failed notification attempt, 0 for none (env MEDIALUNA_NOTIFY_RETRIES; default 3)", func(v string) error {
		return setRetries(c, v)
	})
	if v := env("MEDIALUNA_NOTIFY_RETRIES", ""); v != "" {
		_ = setRetries(c, v) // a bad value is reported when given as a flag
	}
}

func setRetries(c *processes.DispatcherConfig, v string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 10 {
		return fmt.Errorf("notify-retries must be a number from 0 to 10")
	}
	c.MaxRetries = n
	if n == 0 {
		c.MaxRetries = -1 // none, not the default
	}
	return nil
}

// envDuration returns the duration in the environment variable key, or def.
func envDuration(key string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(env(key, "")); err == nil {
		return d
	}
	return def
}

// senders returns one sender per channel type. With blockPrivate, the
// URLs users type (webhooks, Slack) may not lead to an address that is not
// globally reachable, with the rule the probe applies to checks
// (probe.PublicOnlyDialer). The other channels reach addresses the operator
// configured (PagerDuty, Telegram, Twilio base URLs; the SMTP server), which
// users cannot change, so the setting does not apply to them.
func (c notifyConfig) senders(mailer email.Mailer, blockPrivate bool) map[domain.ChannelType]processes.Sender {
	var userURLs *http.Client // nil: each sender's default
	if blockPrivate {
		userURLs = publicOnlyClient(probe.PublicOnlyDialer())
	}
	return c.sendersWith(mailer, userURLs)
}

// publicOnlyClient is the HTTP client for user-given URLs: it dials through
// dialer only, with no proxy (a proxy would dial the private address for
// us), and turns the dialer's refusal into a permanent error, since no retry
// reaches the address either.
func publicOnlyClient(dialer *net.Dialer) *http.Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.Proxy = nil
	transport.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dialer.DialContext(ctx, network, addr)
		var private *probe.PrivateTargetError
		if errors.As(err, &private) {
			return nil, notifyerr.Permanent(err)
		}
		return conn, err
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: transport}
}

// sendersWith is senders with userURLs (nil for each sender's default) for
// the channels whose URL the user gives.
func (c notifyConfig) sendersWith(mailer email.Mailer, userURLs *http.Client) map[domain.ChannelType]processes.Sender {
	return map[domain.ChannelType]processes.Sender{
		domain.ChannelEmail:     email.New(email.Config{Mailer: mailer}),
		domain.ChannelSlack:     slack.New(slack.Config{Client: userURLs}),
		domain.ChannelPagerDuty: pagerduty.New(pagerduty.Config{BaseURL: c.PagerDutyURL}),
		domain.ChannelWebhook:   webhook.New(webhook.Config{Client: userURLs}),
		domain.ChannelTelegram:  telegram.New(telegram.Config{BaseURL: c.TelegramURL}),
		domain.ChannelSMS: twilio.New(twilio.Config{BaseURL: c.TwilioURL, AccountSID: c.TwilioAccountSID,
			AuthToken: c.TwilioAuthToken, From: c.TwilioFrom}),
	}
}
