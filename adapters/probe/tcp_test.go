package probe_test

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medialuna/medialuna/adapters/probe"
	"github.com/medialuna/medialuna/domain"
)

func TestTCP(t *testing.T) {
	addr := serveTCP(t, "tcp", "127.0.0.1:0", drain)
	p := port(t, addr)
	closed := closedPort(t)
	up := domain.CheckOutcome{Up: true}
	tests := []struct {
		name string
		url  string
		port int
		want domain.CheckOutcome
	}{
		{"host:port", addr, 0, up},
		{"tcp URL", "tcp://" + addr, 0, up},
		{"host and port field", "127.0.0.1", p, up},
		{"port field wins", "127.0.0.1:1", p, up},
		{"connection refused", closed, 0, domain.CheckOutcome{Error: "connection refused"}},
		{"no port", "127.0.0.1", 0, domain.CheckOutcome{Error: "no port given for 127.0.0.1"}},
		{"port out of range", "127.0.0.1", 70000, domain.CheckOutcome{Error: "invalid port 70000: must be 1-65535"}},
		{"no host", " ", 80, domain.CheckOutcome{Error: "no target host given"}},
		{"not a target", "tcp://", 80, domain.CheckOutcome{Error: `invalid target "tcp://": expected a host, host:port or URL`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := check(t, probe.New(probe.Config{}), domain.CheckSpec{Type: domain.TypeTCP, URL: tt.url, Port: tt.port, Timeout: 5 * time.Second})
			if d := cmp.Diff(tt.want, got, ignoreTiming); d != "" {
				t.Errorf("outcome (-want +got):\n%s", d)
			}
		})
	}
}

func TestTCPIPv6(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	_ = ln.Close()
	addr := serveTCP(t, "tcp", "[::1]:0", drain)
	p := port(t, addr)
	for _, url := range []string{addr, "::1", "[::1]", "tcp://" + addr} {
		got := check(t, probe.New(probe.Config{}), domain.CheckSpec{Type: domain.TypeTCP, URL: url, Port: p, Timeout: 5 * time.Second})
		if !got.Up {
			t.Errorf("%s: want up, got %+v", url, got)
		}
	}
}

func TestTCPResolvedName(t *testing.T) {
	addr := serveTCP(t, "tcp", "127.0.0.1:0", drain)
	c := probe.New(probe.Config{HostResolver: testResolver(startDNS(t))})
	tests := []struct {
		name, url string
		want      domain.CheckOutcome
	}{
		{"resolves", "app.example.test:" + strconv.Itoa(port(t, addr)), domain.CheckOutcome{Up: true}},
		{"does not resolve", "nonexistent.invalid:80", domain.CheckOutcome{Error: "DNS lookup failed for nonexistent.invalid: no such host"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := check(t, c, domain.CheckSpec{Type: domain.TypeTCP, URL: tt.url, Timeout: 5 * time.Second})
			if d := cmp.Diff(tt.want, got, ignoreTiming); d != "" {
				t.Errorf("outcome (-want +got):\n%s", d)
			}
		})
	}
}

// A check whose context is already canceled says so at once.
func TestCanceledCheck(t *testing.T) {
	tcp := serveTCP(t, "tcp", "127.0.0.1:0", drain)
	dnsServer := startDNS(t)
	tests := []struct {
		typ  domain.MonitorType
		url  string
		want string
	}{
		{domain.TypeHTTP, "http://" + tcp, "check canceled"},
		{domain.TypeTCP, tcp, "check canceled"},
		{domain.TypeSMTP, tcp, "check canceled"},
		{domain.TypeSSH, tcp, "check canceled"},
		{domain.TypePING, "127.0.0.1", "check canceled"},
		{domain.TypeDNS, "example.test", "DNS query to " + dnsServer + " failed: check canceled"},
	}
	for _, tt := range tests {
		t.Run(string(tt.typ), func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			got := probe.New(probe.Config{}).Check(ctx, domain.CheckSpec{Type: tt.typ, URL: tt.url, DNSResolver: dnsServer, Timeout: 5 * time.Second})
			if strings.HasPrefix(got.Error, "ICMP not permitted") {
				t.Skip(got.Error)
			}
			if d := cmp.Diff(domain.CheckOutcome{Error: tt.want}, got, ignoreTiming); d != "" {
				t.Errorf("outcome (-want +got):\n%s", d)
			}
		})
	}
}
