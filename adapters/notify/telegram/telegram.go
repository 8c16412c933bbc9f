// Package telegram delivers notifications through the Telegram Bot API's
// sendMessage, with the bot token and chat id of the channel. The token is
// part of every request URL and grants full control of the bot, so it is
// redacted from every error.
package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/medialuna/medialuna/adapters/notify/notifyerr"
	"github.com/medialuna/medialuna/domain"
)

// DefaultBaseURL is the Bot API's address.
const DefaultBaseURL = "https://api.telegram.org"

// maxText is sendMessage's limit on text, in characters.
const maxText = 4096

// Config configures a Sender. The zero value is usable.
type Config struct {
	// BaseURL replaces DefaultBaseURL (tests, or a local Bot API server).
	BaseURL string
	// Client sends the requests; nil means a client with a 10 s timeout.
	Client *http.Client
}

// Sender sends Telegram messages.
type Sender struct {
	base   string
	client *http.Client
}

// New returns a Sender for cfg.
func New(cfg Config) *Sender {
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	return &Sender{base: strings.TrimRight(cfg.BaseURL, "/"), client: cfg.Client}
}

type sendMessage struct {
	ChatID                string `json:"chat_id"`
	Text                  string `json:"text"`
	DisableWebPagePreview bool   `json:"disable_web_page_preview"`
}

// answer is the Bot API's response envelope.
type answer struct {
	OK          bool   `json:"ok"`
	ErrorCode   int    `json:"error_code"`
	Description string `json:"description"`
}

// Send posts n as plain text (no parse_mode, so names and messages need no
// escaping) to the channel's chat. Telegram answers 200 {"ok": true};
// errors carry error_code and description, e.g. 400 "Bad Request: chat not
// found", 401 for a revoked token, 403 when the bot was blocked.
func (s *Sender) Send(ctx context.Context, ch domain.ChannelConfig, _ string, n domain.Notification) error {
	if ch.TelegramBotToken == "" || ch.TelegramChatID == "" {
		return notifyerr.Permanent(errors.New("telegram: the channel needs a bot token and a chat id"))
	}
	text := n.Text()
	text = domain.Truncate(text, maxText, "...")
	body, err := json.Marshal(sendMessage{ChatID: ch.TelegramChatID, Text: text, DisableWebPagePreview: true})
	if err != nil {
		return notifyerr.Permanent(fmt.Errorf("telegram: encode message: %w", err))
	}
	return notifyerr.Redact(s.post(ctx, ch.TelegramBotToken, body), ch.TelegramBotToken)
}

func (s *Sender) post(ctx context.Context, token string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.base+"/bot"+token+"/sendMessage", bytes.NewReader(body))
	if err != nil {
		return notifyerr.Permanent(fmt.Errorf("telegram: %w", err))
	}
	req.Header.Set("Content-Type", "application/json")
	status, raw, err := notifyerr.Do(s.client, req, "telegram")
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return notifyerr.FromStatus("telegram", status, raw)
	}
	var a answer
	if err := json.Unmarshal(raw, &a); err != nil {
		// Not the Bot API talking (a proxy's page?): try again later.
		return notifyerr.Temporary(fmt.Errorf("telegram answered HTTP 200 without a Bot API response: %s", notifyerr.Excerpt(raw)))
	}
	if !a.OK {
		if a.ErrorCode != 0 {
			return notifyerr.FromStatus("telegram", a.ErrorCode, raw)
		}
		return notifyerr.Temporary(fmt.Errorf("telegram answered ok=false: %s", notifyerr.Excerpt(raw)))
	}
	return nil
}
