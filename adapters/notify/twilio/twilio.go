// Package twilio delivers notifications as SMS through Twilio's Messages
// API. The account (SID, auth token, sending number) belongs to the Media
// Luna installation, not to channels: channels only name the recipient.
package twilio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/medialuna/medialuna/adapters/notify/notifyerr"
	"github.com/medialuna/medialuna/domain"
)

// DefaultBaseURL is the Twilio REST API's address.
const DefaultBaseURL = "https://api.twilio.com"

// MaxBody is the longest SMS body sent, in characters: two GSM-7 segments,
// enough for the subject and the incident, short enough not to be billed as
// a long multi-part message.
const MaxBody = 320

// Config configures a Sender. Without AccountSID, AuthToken and From, every
// Send fails permanently: SMS is not configured.
type Config struct {
	BaseURL    string // replaces DefaultBaseURL (tests)
	AccountSID string // AC...
	AuthToken  string
	From       string // a Twilio number in E.164 form, e.g. +15005550006
	// Client sends the requests; nil means a client with a 10 s timeout.
	Client *http.Client
}

// Sender sends SMS through one Twilio account.
type Sender struct{ cfg Config }

// New returns a Sender for cfg.
func New(cfg Config) *Sender {
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	return &Sender{cfg: cfg}
}

// Send texts n to the channel's phone number. Twilio answers 201 Created
// with the queued message; its 4xx errors (an invalid or unverified
// number, bad credentials) are permanent.
func (s *Sender) Send(ctx context.Context, ch domain.ChannelConfig, _ string, n domain.Notification) error {
	if s.cfg.AccountSID == "" || s.cfg.AuthToken == "" || s.cfg.From == "" {
		return notifyerr.Permanent(errors.New("sms: SMS is not configured on this server: set --twilio-account-sid, --twilio-auth-token and --twilio-from"))
	}
	if ch.PhoneNumber == "" {
		return notifyerr.Permanent(errors.New("sms: the channel has no phone number"))
	}
	form := url.Values{"To": {ch.PhoneNumber}, "From": {s.cfg.From}, "Body": {Body(n)}}
	endpoint := s.cfg.BaseURL + "/2010-04-01/Accounts/" + url.PathEscape(s.cfg.AccountSID) + "/Messages.json"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return notifyerr.Permanent(fmt.Errorf("twilio: %w", err))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(s.cfg.AccountSID, s.cfg.AuthToken)
	return notifyerr.Redact(s.do(req), s.cfg.AuthToken)
}

func (s *Sender) do(req *http.Request) error {
	status, answer, err := notifyerr.Do(s.cfg.Client, req, "twilio")
	if err != nil {
		return err
	}
	// 201 is the documented success; any 2xx means Twilio took the
	// message, and a retry would text the recipient twice.
	if status/100 == 2 {
		return nil
	}
	// Twilio's error body ({"code": 21211, "message": ..., "more_info":
	// ...}) is quoted by its useful part: the code and the message.
	var e struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(answer, &e) == nil && e.Message != "" {
		answer = fmt.Appendf(nil, "error %d: %s", e.Code, e.Message)
	}
	return notifyerr.FromStatus("twilio", status, answer)
}

// Body is the SMS text for n: the plain-text notification, cut to MaxBody
// characters. The cut is marked with "..." rather than an ellipsis
// character, which is not in the GSM-7 alphabet and would make the whole
// message UCS-2, at 70 characters a segment.
func Body(n domain.Notification) string {
	s := strings.TrimSpace(n.Text())
	if utf8.RuneCountInString(s) <= MaxBody {
		return s
	}
	// Spaces before the mark are trimmed, so the cut is made without it.
	return strings.TrimSpace(domain.Truncate(s, MaxBody-3, "")) + "..."
}
