package probe_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medialuna/medialuna/adapters/probe"
	"github.com/medialuna/medialuna/domain"
)

func TestPing(t *testing.T) {
	c := probe.New(probe.Config{HostResolver: testResolver(startDNS(t))})
	tests := []struct {
		name, host string
	}{
		{"IPv4 loopback", "127.0.0.1"},
		{"another IPv4 loopback address", "127.0.0.2"},
		{"IPv6 loopback", "::1"},
		{"name", "app.example.test"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := check(t, c, domain.CheckSpec{Type: domain.TypePING, URL: tt.host, Timeout: 3 * time.Second})
			if strings.HasPrefix(got.Error, "ICMP not permitted") || strings.HasPrefix(got.Error, "cannot open an ICMP socket") {
				t.Skip(got.Error)
			}
			if d := cmp.Diff(domain.CheckOutcome{Up: true}, got, ignoreTiming); d != "" {
				t.Errorf("outcome (-want +got):\n%s", d)
			}
			if got.ResponseTimeMs > 1000 {
				t.Errorf("ResponseTimeMs = %v, want a loopback round trip", got.ResponseTimeMs)
			}
		})
	}
}

func TestPingUnresolvable(t *testing.T) {
	c := probe.New(probe.Config{HostResolver: testResolver(startDNS(t))})
	got := check(t, c, domain.CheckSpec{Type: domain.TypePING, URL: "nonexistent.invalid", Timeout: 3 * time.Second})
	want := domain.CheckOutcome{Error: "DNS lookup failed for nonexistent.invalid: no such host"}
	if d := cmp.Diff(want, got, ignoreTiming); d != "" {
		t.Errorf("outcome (-want +got):\n%s", d)
	}
}
