package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/medialuna/medialuna/adapters/notify/notifyerr"
	"github.com/medialuna/medialuna/domain"
)

// TestPrivateWebhookRefusalIsPermanent: with --block-private-targets a
// webhook to a loopback address fails at once, as a permanent error, so it
// is not retried; without it, the same webhook is delivered.
func TestPrivateWebhookRefusalIsPermanent(t *testing.T) {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls++ }))
	defer srv.Close()
	ch := domain.ChannelConfig{Name: "internal", Type: domain.ChannelWebhook, WebhookURL: srv.URL, Enabled: true}
	n := domain.Notification{DeliveryID: "d1", Event: domain.EventTest}

	err := notifyConfig{}.senders(nil, true)[domain.ChannelWebhook].Send(context.Background(), ch, "secret", n)
	if err == nil || !notifyerr.IsPermanent(err) {
		t.Fatalf("refused private target: err = %v, permanent = %v; want a permanent error", err, notifyerr.IsPermanent(err))
	}
	if calls != 0 {
		t.Fatalf("the private endpoint was called %d times", calls)
	}
	if err := (notifyConfig{}).senders(nil, false)[domain.ChannelWebhook].Send(context.Background(), ch, "secret", n); err != nil || calls != 1 {
		t.Fatalf("without blocking: err = %v, calls = %d", err, calls)
	}
}
