package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medialuna/medialuna/adapters/notify/notifyerr"
	"github.com/medialuna/medialuna/adapters/notify/webhook"
	"github.com/medialuna/medialuna/domain"
)

const secret = "whsec_0123456789abcdef"

var (
	at  = time.Date(2026, 3, 1, 12, 30, 0, 0, time.UTC)
	now = time.Date(2026, 3, 1, 12, 30, 5, 0, time.UTC) // the sender's clock
)

func notification() domain.Notification {
	return domain.Notification{
		DeliveryID: "delivery-9",
		Event:      domain.EventIncidentTriggered,
		OccurredAt: at,
		Monitor:    domain.NotificationMonitor{ID: 7, Name: "API", URL: "https://api.example.com/health", Type: domain.TypeHTTP},
		Incident:   &domain.NotificationIncident{ID: 42, Type: domain.IncidentDown, Message: "connection refused", Status: domain.StatusTriggered, SentAt: at},
		AccountID:  3,
	}
}

type request struct {
	header http.Header
	body   []byte
}

// receiver records what it is sent and answers status.
type receiver struct {
	mu     sync.Mutex
	got    []request
	status atomic.Int64
	srv    *httptest.Server
}

func newReceiver(t *testing.T, status int) *receiver {
	rc := &receiver{}
	rc.status.Store(int64(status))
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/hooks/medialuna" {
			t.Errorf("request %s %s", r.Method, r.URL.Path)
		}
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, request{r.Header.Clone(), body})
		rc.mu.Unlock()
		status := int(rc.status.Load())
		w.WriteHeader(status)
		_, _ = io.WriteString(w, "receiver says "+http.StatusText(status))
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) channel() domain.ChannelConfig {
	return domain.ChannelConfig{Type: domain.ChannelWebhook, WebhookURL: rc.srv.URL + "/hooks/medialuna"}
}

func sender(client *http.Client) *webhook.Sender {
	return webhook.New(webhook.Config{Client: client, Now: func() time.Time { return now }})
}

// signature computes the documented v1 the way a receiver in another
// language would: HMAC-SHA256 keyed with the secret over "<t>.<body>".
func signature(key, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(ts + "." + string(body)))
	return hex.EncodeToString(m.Sum(nil))
}

func TestSendPostsTheDocumentedPayload(t *testing.T) {
	rc := newReceiver(t, http.StatusNoContent)
	if err := sender(nil).Send(context.Background(), rc.channel(), secret, notification()); err != nil {
		t.Fatal(err)
	}
	if len(rc.got) != 1 {
		t.Fatalf("%d requests", len(rc.got))
	}
	got := rc.got[0]
	ts := strconv.FormatInt(now.Unix(), 10)
	wantHeaders := map[string]string{
		"Content-Type":           "application/json",
		"User-Agent":             "MediaLuna-Webhook/1.0",
		"X-Media-Luna-Event":     "incident.triggered",
		"X-Media-Luna-Delivery":  "delivery-9",
		"X-Media-Luna-Timestamp": ts,
		"X-Media-Luna-Signature": "t=" + ts + ",v1=" + signature(secret, ts, got.body),
	}
	gotHeaders := map[string]string{}
	for k := range wantHeaders {
		gotHeaders[k] = got.header.Get(k)
	}
	if d := cmp.Diff(wantHeaders, gotHeaders); d != "" {
		t.Errorf("headers (-want +got):\n%s", d)
	}
	var payload map[string]any
	if err := json.Unmarshal(got.body, &payload); err != nil {
		t.Fatal(err)
	}
	wantPayload := map[string]any{
		"event":       "incident.triggered",
		"occurred_at": "2026-03-01T12:30:00Z",
		"monitor":     map[string]any{"id": float64(7), "name": "API", "url": "https://api.example.com/health", "type": "HTTP"},
		"incident": map[string]any{"id": float64(42), "incident_type": "DOWN", "message": "connection refused",
			"status": "TRIGGERED", "sent_at": "2026-03-01T12:30:00Z"},
		"account_id": float64(3),
	}
	if d := cmp.Diff(wantPayload, payload); d != "" {
		t.Errorf("payload (-want +got):\n%s", d)
	}
}

func TestVerify(t *testing.T) {
	rc := newReceiver(t, http.StatusOK)
	if err := sender(nil).Send(context.Background(), rc.channel(), secret, notification()); err != nil {
		t.Fatal(err)
	}
	header, body := rc.got[0].header.Get("X-Media-Luna-Signature"), rc.got[0].body
	tampered := []byte(strings.Replace(string(body), `"account_id":3`, `"account_id":4`, 1))
	if string(tampered) == string(body) {
		t.Fatal("tampering changed nothing")
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	tests := []struct {
		name   string
		secret string
		header string
		body   []byte
		now    time.Time
		want   error
	}{
		{"as sent", secret, header, body, now.Add(2 * time.Second), nil},
		{"receiver clock a little behind", secret, header, body, now.Add(-time.Minute), nil},
		{"rotated secret among several v1", secret, "t=" + ts + ",v1=" + signature("old", ts, body) + ",v1=" + signature(secret, ts, body), body, now, nil},
		{"tampered body", secret, header, tampered, now, webhook.ErrSignatureMismatch},
		{"wrong secret", "whsec_other", header, body, now, webhook.ErrSignatureMismatch},
		{"replayed after the tolerance", secret, header, body, now.Add(5*time.Minute + time.Second), webhook.ErrTimestampTooOld},
		{"timestamp swapped for a fresh one", secret, strings.Replace(header, "t="+ts, "t="+strconv.FormatInt(now.Unix()+600, 10), 1), body, now.Add(10 * time.Minute), webhook.ErrSignatureMismatch},
		{"no header", secret, "", body, now, webhook.ErrMalformedSignature},
		{"no v1", secret, "t=" + ts, body, now, webhook.ErrMalformedSignature},
		{"no t", secret, "v1=" + signature(secret, ts, body), body, now, webhook.ErrMalformedSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := webhook.Verify(tt.secret, tt.header, tt.body, tt.now, 5*time.Minute); !errors.Is(err, tt.want) {
				t.Errorf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
	if err := webhook.Verify("", header, body, now, 0); err == nil {
		t.Error("Verify accepted an empty secret")
	}
}

func TestSendClassifiesAnswers(t *testing.T) {
	tests := []struct {
		status    int
		wantErr   bool
		permanent bool
	}{
		{200, false, false},
		{202, false, false},
		{204, false, false},
		{400, true, true},
		{401, true, true},
		{404, true, true},
		{408, true, false},
		{429, true, false},
		{500, true, false},
		{503, true, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			rc := newReceiver(t, tt.status)
			err := sender(nil).Send(context.Background(), rc.channel(), secret, notification())
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			if err == nil {
				return
			}
			if got := notifyerr.IsPermanent(err); got != tt.permanent {
				t.Errorf("permanent = %v, want %v (%v)", got, tt.permanent, err)
			}
			if !strings.Contains(err.Error(), "receiver says") {
				t.Errorf("error %q does not quote the receiver's answer", err)
			}
		})
	}
}

func TestRetriesKeepTheDeliveryID(t *testing.T) {
	rc := newReceiver(t, http.StatusInternalServerError)
	s := sender(nil)
	if err := s.Send(context.Background(), rc.channel(), secret, notification()); err == nil {
		t.Fatal("500 accepted")
	}
	rc.status.Store(http.StatusOK)
	if err := s.Send(context.Background(), rc.channel(), secret, notification()); err != nil {
		t.Fatal(err)
	}
	if a, b := rc.got[0].header.Get("X-Media-Luna-Delivery"), rc.got[1].header.Get("X-Media-Luna-Delivery"); a != "delivery-9" || a != b {
		t.Errorf("delivery ids %q, %q", a, b)
	}
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	var landed atomic.Bool
	mux := http.NewServeMux()
	mux.HandleFunc("/old", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/new", http.StatusFound) })
	mux.HandleFunc("/new", func(w http.ResponseWriter, r *http.Request) { landed.Store(true) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	// The caller's client follows redirects; the sender must not.
	err := sender(&http.Client{Timeout: 5 * time.Second}).Send(context.Background(), domain.ChannelConfig{WebhookURL: srv.URL + "/old"}, secret, notification())
	if !notifyerr.IsPermanent(err) {
		t.Errorf("err = %v, want permanent", err)
	}
	if landed.Load() {
		t.Error("the redirect was followed (as a body-less GET)")
	}
}

func TestMisconfiguredChannelsArePermanent(t *testing.T) {
	rc := newReceiver(t, http.StatusOK)
	for name, tc := range map[string]struct {
		url, secret string
	}{
		"no secret": {rc.srv.URL + "/hooks/medialuna", ""},
		"no url":    {"", secret},
		"bad url":   {"mailto:ops@example.com", secret},
	} {
		if err := sender(nil).Send(context.Background(), domain.ChannelConfig{WebhookURL: tc.url}, tc.secret, notification()); !notifyerr.IsPermanent(err) {
			t.Errorf("%s: err = %v, want permanent", name, err)
		}
	}
	if len(rc.got) != 0 {
		t.Errorf("%d requests sent", len(rc.got))
	}
}

func TestSendTimesOutPromptly(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	start := time.Now()
	err := sender(&http.Client{Timeout: 100 * time.Millisecond}).Send(context.Background(),
		domain.ChannelConfig{WebhookURL: srv.URL + "/hook?token=query-secret"}, secret, notification())
	if err == nil || notifyerr.IsPermanent(err) {
		t.Fatalf("err = %v, want a temporary error", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %s", d)
	}
	if strings.Contains(err.Error(), "query-secret") {
		t.Errorf("query string in error: %v", err)
	}
}
