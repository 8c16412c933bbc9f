// Package webhook delivers notifications to users' own HTTP endpoints: a
// POST of the documented JSON payload (event, occurred_at, monitor,
// incident, account_id), signed with the channel's secret.
//
// # Headers
//
//	Content-Type:           application/json
//	User-Agent:             MediaLuna-Webhook/1.0
//	X-Media-Luna-Event:     the payload's event, e.g. incident.triggered
//	X-Media-Luna-Delivery:  an id that stays the same across retries of one
//	                        delivery: receivers deduplicate on it
//	X-Media-Luna-Timestamp: when this attempt was signed, in Unix seconds
//	X-Media-Luna-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>
//
// # Signature
//
// v1 is the lowercase hex HMAC-SHA256, keyed with the channel's webhook
// secret (as shown once when the channel was created), of the timestamp,
// a period and the raw request body:
//
//	v1 = hex(HMAC-SHA256(secret, "<t>.<body>"))
//
// The timestamp is signed with the body so that a captured request cannot be
// replayed later with a fresh timestamp: receivers recompute v1 over the
// body exactly as received (before parsing it), compare in constant time,
// and reject requests whose t is more than a few minutes (5 by default) away
// from their clock. Verify does all of this. The header may carry several
// v1 values (key rotation); one matching is enough.
//
// # Delivery
//
// Any 2xx answer within the timeout (10 s) confirms delivery. Anything else,
// including a redirect, is a failure: 4xx other than 408 and 429 are
// permanent, other failures are retried with the same delivery id.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/medialuna/medialuna/adapters/notify/notifyerr"
	"github.com/medialuna/medialuna/domain"
)

// Header names, for receivers.
const (
	HeaderEvent     = "X-Media-Luna-Event"
	HeaderDelivery  = "X-Media-Luna-Delivery"
	HeaderTimestamp = "X-Media-Luna-Timestamp"
	HeaderSignature = "X-Media-Luna-Signature"
)

// UserAgent identifies webhook requests.
const UserAgent = "MediaLuna-Webhook/1.0"

// DefaultTolerance is how far from the receiver's clock a signature's
// timestamp may be; Verify uses it when given no tolerance.
const DefaultTolerance = 5 * time.Minute

// Config configures a Sender. The zero value is usable.
type Config struct {
	// Client sends the requests; nil means a client with a 10 s timeout
	// (the documented time receivers have to answer). Redirects are never
	// followed, whatever the client's policy: see Send.
	Client *http.Client
	// Now is the clock signatures are timestamped with; nil means time.Now.
	Now func() time.Time
}

// Sender posts signed notifications to webhook endpoints.
type Sender struct {
	client *http.Client
	now    func() time.Time
}

// New returns a Sender for cfg.
func New(cfg Config) *Sender {
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	// A copy, so the caller's client keeps its own policy. Go's client
	// turns a POST into a body-less GET on 301, 302 and 303: a 2xx from
	// that GET would confirm a delivery that never reached the receiver.
	client := *cfg.Client
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Sender{client: &client, now: cfg.Now}
}

// Send posts n to the channel's URL, signed with secret (the channel's
// webhook secret). A channel without a secret is a permanent error:
// receivers that verify signatures would reject every delivery.
func (s *Sender) Send(ctx context.Context, ch domain.ChannelConfig, secret string, n domain.Notification) error {
	u, err := url.Parse(ch.WebhookURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return notifyerr.Permanent(errors.New("webhook: the channel has no valid http(s) URL"))
	}
	if secret == "" {
		return notifyerr.Permanent(errors.New("webhook: the channel has no signing secret"))
	}
	body, err := json.Marshal(n)
	if err != nil {
		return notifyerr.Permanent(fmt.Errorf("webhook: encode payload: %w", err))
	}
	ts := strconv.FormatInt(s.now().Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ch.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return notifyerr.Permanent(fmt.Errorf("webhook: %w", err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set(HeaderEvent, n.Event)
	req.Header.Set(HeaderDelivery, n.DeliveryID)
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, "t="+ts+",v1="+sign(secret, ts, body))
	// Users put tokens in webhook URLs (basic auth, query strings); errors
	// quoting the URL must not show them.
	var secrets []string
	if pw, ok := u.User.Password(); ok {
		secrets = append(secrets, pw)
	}
	if u.RawQuery != "" {
		secrets = append(secrets, u.RawQuery)
	}
	return notifyerr.Redact(s.do(req), secrets...)
}

func (s *Sender) do(req *http.Request) error {
	status, answer, err := notifyerr.Do(s.client, req, "webhook")
	if err != nil {
		return err
	}
	return notifyerr.Expect2xx("webhook endpoint", status, answer)
}

func sign(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Errors Verify returns.
var (
	ErrMalformedSignature = errors.New("webhook signature header malformed: want t=<unix seconds>,v1=<hex>")
	ErrSignatureMismatch  = errors.New("webhook signature does not match the body")
	ErrTimestampTooOld    = errors.New("webhook signature timestamp outside the tolerance")
)

// Verify checks an X-Media-Luna-Signature header against the raw body, the
// channel's secret and the receiver's clock now. tolerance bounds how far
// the signed timestamp may be from now, in either direction (0 means
// DefaultTolerance); the check is what stops replays.
func Verify(secret string, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	var ts string
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			if b, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, b)
			}
		}
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return ErrMalformedSignature
	}
	if secret == "" {
		// Anyone can compute an HMAC with an empty key.
		return errors.New("webhook: no secret to verify the signature with")
	}
	// The signature first: only a genuine request deserves to hear that
	// it came too late.
	want, _ := hex.DecodeString(sign(secret, ts, body))
	match := false
	for _, sig := range sigs {
		match = match || hmac.Equal(sig, want)
	}
	if !match {
		return ErrSignatureMismatch
	}
	if d := now.Sub(time.Unix(unix, 0)); d > tolerance || d < -tolerance {
		return ErrTimestampTooOld
	}
	return nil
}
