package domain

import "strings"

// Secrets in the log. The log is permanent, exported (audit export,
// `medialuna events export`) and backed up; a credential written into it
// in plaintext could never be taken back. Events that carry credentials
// name their secret fields through SecretBearer, and the event store the
// application writes through (adapters/secretbox) replaces each value by
// an envelope sealed with a data key of the stream, kept outside the log.
// Deleting the channel or monitor destroys that key (ShredsSecrets), so
// the old events can no longer be opened by anyone, from any backup of
// the log.

// EnvelopePrefix starts every sealed value: "enc:v1:" + base64url(nonce ||
// AES-256-GCM ciphertext), with the stream id as additional data.
const EnvelopePrefix = "enc:v1:"

// IsEnvelope reports whether s is a sealed value.
func IsEnvelope(s string) bool { return strings.HasPrefix(s, EnvelopePrefix) }

// SecretBearer is an event with credentials in it. MapSecrets replaces
// each secret value v (never an empty one) by f(v): sealing on the way
// into the log, opening on the way out. It stops at f's first error.
type SecretBearer interface {
	Event
	MapSecrets(f func(string) (string, error)) error
}

// BearsSecrets reports whether events of type typ carry credentials,
// without decoding them (the event store asks it of every event).
func BearsSecrets(typ string) bool {
	switch typ {
	case EvNotificationChannelCreated, EvNotificationChannelUpdated, EvMonitorCreated, EvMonitorUpdated,
		EvTwoFactorEnrolmentStarted, EvTwoFactorEnabled:
		return true
	}
	return false
}

// ShredsSecrets reports whether an event of type typ ends its stream's
// life, so that the stream's data key is destroyed once it is appended.
func ShredsSecrets(typ string) bool {
	return typ == EvNotificationChannelDeleted || typ == EvMonitorDeleted
}

func mapString(s *string, f func(string) (string, error)) error {
	if *s == "" {
		return nil
	}
	v, err := f(*s)
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// mapSecrets covers every credential a channel holds: the Slack and
// webhook URLs (their paths are the credential), the PagerDuty routing
// key and the Telegram bot token. Names, e-mail addresses, phone numbers
// and chat ids stay readable.
func (c *ChannelConfig) mapSecrets(f func(string) (string, error)) error {
	for _, s := range []*string{&c.SlackWebhookURL, &c.WebhookURL, &c.PagerDutyRoutingKey, &c.TelegramBotToken} {
		if err := mapString(s, f); err != nil {
			return err
		}
	}
	return nil
}

// MapSecrets implements SecretBearer: the channel's credentials and the
// webhook signing secret.
func (e *ChannelCreated) MapSecrets(f func(string) (string, error)) error {
	if err := e.Config.mapSecrets(f); err != nil {
		return err
	}
	return mapString(&e.WebhookSecret, f)
}

// MapSecrets implements SecretBearer.
func (e *ChannelUpdated) MapSecrets(f func(string) (string, error)) error {
	return e.Config.mapSecrets(f)
}

// mapSecrets covers every request header value (which of them carry
// credentials — Authorization, Cookie, X-API-Key, a vendor's own — is not
// for us to guess, so all are sealed; names stay readable) and the
// password of a URL's user:password@.
func (c *MonitorConfig) mapSecrets(f func(string) (string, error)) error {
	for name, v := range c.RequestHeaders {
		if err := mapString(&v, f); err != nil {
			return err
		}
		c.RequestHeaders[name] = v
	}
	pre, pass, post, ok := urlPassword(c.URL)
	if !ok {
		return nil
	}
	if err := mapString(&pass, f); err != nil {
		return err
	}
	c.URL = pre + pass + post
	return nil
}

// urlPassword splits s around the password of its userinfo, as written
// (still percent-encoded), so that it can be replaced without touching
// the rest of the URL. ok is false when s has no password.
func urlPassword(s string) (pre, pass, post string, ok bool) {
	i := strings.Index(s, "://")
	if i < 0 {
		return "", "", "", false
	}
	start := i + 3
	end := len(s)
	if j := strings.IndexAny(s[start:], "/?#"); j >= 0 {
		end = start + j
	}
	at := strings.LastIndex(s[start:end], "@")
	if at < 0 {
		return "", "", "", false
	}
	userinfo := s[start : start+at]
	colon := strings.Index(userinfo, ":")
	if colon < 0 || colon == len(userinfo)-1 {
		return "", "", "", false
	}
	return s[:start+colon+1], userinfo[colon+1:], s[start+at:], true
}

// MapSecrets implements SecretBearer. A monitor's headers map is replaced,
// never changed in place, so that the caller's copy stays as it was.
// The push token of a PUSH monitor is sealed too: it lets anyone report
// heartbeats.
func (e *MonitorCreated) MapSecrets(f func(string) (string, error)) error {
	e.Config.RequestHeaders = cloneHeaders(e.Config.RequestHeaders)
	if err := mapString(&e.PushToken, f); err != nil {
		return err
	}
	return e.Config.mapSecrets(f)
}

// MapSecrets implements SecretBearer.
func (e *MonitorUpdated) MapSecrets(f func(string) (string, error)) error {
	e.Config.RequestHeaders = cloneHeaders(e.Config.RequestHeaders)
	return e.Config.mapSecrets(f)
}

func cloneHeaders(h map[string]string) map[string]string {
	if h == nil {
		return nil
	}
	out := make(map[string]string, len(h))
	for k, v := range h {
		out[k] = v
	}
	return out
}

// StreamKey is a stream's data key as stored, wrapped (AES-256-GCM) with
// the master key whose id it names.
type StreamKey struct {
	Stream      string
	Wrapped     []byte
	MasterKeyID string
}

// RedactedURL is s with the password of its user:password@ replaced by
// "xxxxx" (as net/url's Redacted writes it): what notifications, check
// details and messages may show of a monitor's URL.
func RedactedURL(s string) string {
	pre, _, post, ok := urlPassword(s)
	if !ok {
		return s
	}
	return pre + "xxxxx" + post
}
