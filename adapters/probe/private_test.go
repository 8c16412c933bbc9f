package probe_test

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medialuna/medialuna/adapters/probe"
	"github.com/medialuna/medialuna/domain"
)

func TestBlockPrivateTargets(t *testing.T) {
	web := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(web.Close)
	tcp := serveTCP(t, "tcp", "127.0.0.1:0", drain)
	dnsServer := startDNS(t)
	refused := func(addr string) domain.CheckOutcome {
		return domain.CheckOutcome{Error: "target address " + addr + " is private; this server refuses private targets"}
	}
	tests := []struct {
		name string
		spec domain.CheckSpec
		// blocked is the outcome with BlockPrivateTargets; without it the
		// check is up.
		blocked domain.CheckOutcome
	}{
		{"HTTP", domain.CheckSpec{Type: domain.TypeHTTP, URL: web.URL}, refused("127.0.0.1")},
		{"HTTP by name", domain.CheckSpec{Type: domain.TypeHTTP, URL: strings.Replace(web.URL, "127.0.0.1", "app.example.test", 1)}, refused("127.0.0.1")},
		{"HEAD", domain.CheckSpec{Type: domain.TypeHEAD, URL: web.URL}, refused("127.0.0.1")},
		{"TCP", domain.CheckSpec{Type: domain.TypeTCP, URL: tcp}, refused("127.0.0.1")},
		{"TCP by name", domain.CheckSpec{Type: domain.TypeTCP, URL: "app.example.test", Port: port(t, tcp)}, refused("127.0.0.1")},
		{"SMTP", domain.CheckSpec{Type: domain.TypeSMTP, URL: startSMTP(t)}, refused("127.0.0.1")},
		{"SSH", domain.CheckSpec{Type: domain.TypeSSH, URL: startSSH(t)}, refused("127.0.0.1")},
		{"PING", domain.CheckSpec{Type: domain.TypePING, URL: "127.0.0.1"}, refused("127.0.0.1")},
		{"DNS resolver named in the spec", domain.CheckSpec{Type: domain.TypeDNS, URL: "example.test", DNSResolver: dnsServer}, domain.CheckOutcome{
			Error: "DNS query to " + dnsServer + " failed: target address 127.0.0.1 is private; this server refuses private targets",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.spec.Timeout = 5 * time.Second
			resolver := testResolver(dnsServer)
			got := check(t, probe.New(probe.Config{BlockPrivateTargets: true, HostResolver: resolver}), tt.spec)
			if d := cmp.Diff(tt.blocked, got, ignoreTiming); d != "" {
				t.Errorf("blocked outcome (-want +got):\n%s", d)
			}
			allowed := check(t, probe.New(probe.Config{HostResolver: resolver}), tt.spec)
			if strings.HasPrefix(allowed.Error, "ICMP not permitted") {
				t.Skip(allowed.Error)
			}
			if !allowed.Up {
				t.Errorf("without BlockPrivateTargets: want up, got %+v", allowed)
			}
		})
	}
}

// The operator's own resolver may be private even when targets may not.
func TestBlockPrivateTargetsTrustsConfiguredResolver(t *testing.T) {
	c := probe.New(probe.Config{BlockPrivateTargets: true, Resolver: startDNS(t)})
	got := check(t, c, domain.CheckSpec{Type: domain.TypeDNS, URL: "example.test", DNSRecordType: "AAAA", Timeout: 5 * time.Second})
	if d := cmp.Diff(domain.CheckOutcome{Up: true, Detail: "2001:db8::1"}, got, ignoreTiming); d != "" {
		t.Errorf("outcome (-want +got):\n%s", d)
	}
}

// The addresses only feed the classification; nothing is sent to them.
func TestCheckPublic(t *testing.T) {
	tests := []struct {
		addr    string
		private bool
	}{
		{"127.0.0.1", true},
		{"127.8.9.10", true},
		{"10.1.2.3", true},
		{"172.16.0.1", true},
		{"172.31.255.255", true},
		{"192.168.1.1", true},
		{"100.64.0.1", true},
		{"100.127.255.254", true},
		{"169.254.169.254", true},
		{"0.0.0.0", true},
		{"0.1.2.3", true},
		{"::", true},
		{"::1", true},
		{"fe80::1", true},
		{"fe80::1%eth0", true},
		{"fc00::1", true},
		{"fd12:3456::1", true},
		{"::ffff:127.0.0.1", true},
		{"::ffff:10.0.0.1", true},
		{"ff02::1", true},
		{"8.8.8.8", false},
		{"172.32.0.1", false},
		{"100.128.0.1", false},
		{"192.0.2.1", false},
		{"2001:4860:4860::8888", false},
		{"::ffff:8.8.8.8", false},
	}
	for _, tt := range tests {
		err := probe.CheckPublic(netip.MustParseAddr(tt.addr))
		if got := err != nil; got != tt.private {
			t.Errorf("CheckPublic(%s) = %v, want private %v", tt.addr, err, tt.private)
		}
	}
	err := probe.CheckPublic(netip.MustParseAddr("::ffff:192.168.0.1"))
	if want := "target address 192.168.0.1 is private; this server refuses private targets"; err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
}
