package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/medialuna/medialuna/adapters/notify/notifyerr"
	"github.com/medialuna/medialuna/adapters/probe"
	"github.com/medialuna/medialuna/domain"
)

// countingServer is a loopback HTTP server answering 200 {"ok":true} (what
// every sender takes for success) that counts the connections it accepts
// and the requests it answers.
func countingServer(t *testing.T) (srv *httptest.Server, conns, requests *atomic.Int64) {
	t.Helper()
	conns, requests = new(atomic.Int64), new(atomic.Int64)
	srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		requests.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, conns, requests
}

// userURLChannel is a channel of typ (webhook or Slack) whose URL, given by
// the user, is base plus a path.
func userURLChannel(typ domain.ChannelType, base string) domain.ChannelConfig {
	ch := domain.ChannelConfig{Name: "internal", Type: typ, Enabled: true}
	switch typ {
	case domain.ChannelWebhook:
		ch.WebhookURL = base + "/medialuna"
	case domain.ChannelSlack:
		ch.SlackWebhookURL = base + "/services/T000/B000/XXXX"
	}
	return ch
}

var userURLChannels = []domain.ChannelType{domain.ChannelWebhook, domain.ChannelSlack}

// TestPrivateNotificationTargetsRefused: with --block-private-targets a
// webhook or Slack channel whose URL leads to loopback fails at once, as a
// permanent error (so it is not retried), and the endpoint never sees a
// connection; without it, the same channel is delivered.
func TestPrivateNotificationTargetsRefused(t *testing.T) {
	n := domain.Notification{DeliveryID: "d1", Event: domain.EventTest}
	for _, typ := range userURLChannels {
		for _, host := range []string{"127.0.0.1", "[::ffff:127.0.0.1]"} {
			t.Run(string(typ)+" "+host, func(t *testing.T) {
				srv, conns, _ := countingServer(t)
				ch := userURLChannel(typ, strings.Replace(srv.URL, "127.0.0.1", host, 1))

				err := notifyConfig{}.senders(nil, true)[typ].Send(context.Background(), ch, "secret", n)
				if err == nil || !notifyerr.IsPermanent(err) || !strings.Contains(err.Error(), "target address 127.0.0.1 is private") {
					t.Fatalf("refused private target: err = %v, permanent = %v; want a permanent refusal", err, notifyerr.IsPermanent(err))
				}
				if c := conns.Load(); c != 0 {
					t.Fatalf("the private endpoint saw %d connections", c)
				}
				if err := (notifyConfig{}).senders(nil, false)[typ].Send(context.Background(), ch, "secret", n); err != nil || conns.Load() != 1 {
					t.Fatalf("without blocking: err = %v, connections = %d", err, conns.Load())
				}
			})
		}
	}
}

// TestNotificationTargetsRefusedBeforeConnecting aims webhook and Slack
// channels at addresses off this machine that the rule must refuse, and at
// public ones it must allow. Nothing is sent to any of them: the public-only
// dialer is tripwired, so an address the rule lets through is recorded and
// refused right there, before connect(2).
func TestNotificationTargetsRefusedBeforeConnecting(t *testing.T) {
	errTripwire := errors.New("tripwire: the rule allowed this address")
	tripwired := func(t *testing.T) (map[domain.ChannelType]func(context.Context, domain.ChannelConfig) error, func() []netip.Addr) {
		d := probe.PublicOnlyDialer()
		rule := d.Control
		var mu sync.Mutex
		var passed []netip.Addr
		d.Control = func(network, address string, c syscall.RawConn) error {
			if err := rule(network, address, c); err != nil {
				return err
			}
			mu.Lock()
			passed = append(passed, netip.MustParseAddrPort(address).Addr())
			mu.Unlock()
			return errTripwire
		}
		senders := notifyConfig{}.sendersWith(nil, publicOnlyClient(d))
		send := map[domain.ChannelType]func(context.Context, domain.ChannelConfig) error{}
		for _, typ := range userURLChannels {
			send[typ] = func(ctx context.Context, ch domain.ChannelConfig) error {
				return senders[typ].Send(ctx, ch, "secret", domain.Notification{DeliveryID: "d1", Event: domain.EventTest})
			}
		}
		return send, func() []netip.Addr { mu.Lock(); defer mu.Unlock(); return passed }
	}
	blocked := []string{
		"64:ff9b::7f00:1",    // NAT64 of 127.0.0.1
		"64:ff9b::a9fe:a9fe", // NAT64 of 169.254.169.254
		"2002:7f00:1::1",     // 6to4 of 127.0.0.1
		"fec0::1",            // site-local
		"::127.0.0.1",        // IPv4-compatible loopback
		"198.18.0.1",         // benchmarking
		"169.254.169.254",    // cloud metadata
		"100.64.0.1",
		"192.168.1.1",
		"fd00::1",
		"fe80::1",
		"192.0.2.1",
		"240.0.0.1",
	}
	for _, typ := range userURLChannels {
		for _, addr := range blocked {
			t.Run(string(typ)+" "+addr, func(t *testing.T) {
				send, passed := tripwired(t)
				ip := netip.MustParseAddr(addr)
				err := send[typ](context.Background(), userURLChannel(typ, "http://"+netip.AddrPortFrom(ip, 8080).String()))
				want := "target address " + ip.String() + " is private; this server refuses private targets"
				if err == nil || !notifyerr.IsPermanent(err) || !strings.Contains(err.Error(), want) {
					t.Errorf("err = %v (permanent %v), want a permanent error saying %q", err, notifyerr.IsPermanent(err), want)
				}
				if p := passed(); len(p) != 0 {
					t.Errorf("the rule let %v through", p)
				}
			})
		}
		for _, addr := range []string{"8.8.8.8", "64:ff9b::808:808", "2001:4860:4860::8888"} {
			t.Run(string(typ)+" public "+addr, func(t *testing.T) {
				send, passed := tripwired(t)
				ip := netip.MustParseAddr(addr)
				err := send[typ](context.Background(), userURLChannel(typ, "https://"+netip.AddrPortFrom(ip, 443).String()))
				if err == nil || !errors.Is(err, errTripwire) {
					t.Errorf("err = %v, want the tripwire's", err)
				}
				if p := passed(); len(p) != 1 || p[0] != ip {
					t.Errorf("the rule let %v through, want %s", p, ip)
				}
			})
		}
	}
}

// TestOperatorServicesIgnoreBlockPrivate: PagerDuty, Telegram and Twilio
// are reached at the base URLs the operator configured (users only give a
// routing key, bot token and chat id, or phone number, which domain
// validation keeps out of the host), so --block-private-targets does not
// apply to them: a test server on loopback is still delivered to.
func TestOperatorServicesIgnoreBlockPrivate(t *testing.T) {
	srv, _, requests := countingServer(t)
	cfg := notifyConfig{PagerDutyURL: srv.URL, TelegramURL: srv.URL, TwilioURL: srv.URL,
		TwilioAccountSID: "AC123", TwilioAuthToken: "token", TwilioFrom: "+15005550006"}
	n := domain.Notification{DeliveryID: "d1", Event: domain.EventTest}
	for _, ch := range []domain.ChannelConfig{
		{Name: "pd", Type: domain.ChannelPagerDuty, PagerDutyRoutingKey: strings.Repeat("a", 32), Enabled: true},
		{Name: "tg", Type: domain.ChannelTelegram, TelegramBotToken: "123456:" + strings.Repeat("A", 35), TelegramChatID: "42", Enabled: true},
		{Name: "sms", Type: domain.ChannelSMS, PhoneNumber: "+15005550009", Enabled: true},
	} {
		before := requests.Load()
		if err := cfg.senders(nil, true)[ch.Type].Send(context.Background(), ch, "secret", n); err != nil {
			t.Errorf("%s: %v", ch.Type, err)
		}
		if requests.Load() != before+1 {
			t.Errorf("%s: the operator's endpoint saw %d requests, want 1", ch.Type, requests.Load()-before)
		}
	}
}
