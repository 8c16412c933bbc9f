package probe_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"github.com/medialuna/medialuna/adapters/probe"
	"github.com/medialuna/medialuna/domain"
)

// testZone is what the test DNS server knows. Names not in it are NXDOMAIN.
var testZone = map[string][]string{
	"example.test.": {
		"example.test. 60 IN A 192.0.2.1",
		"example.test. 60 IN A 192.0.2.2",
		"example.test. 60 IN AAAA 2001:db8::1",
		"example.test. 60 IN MX 10 mail.example.test.",
		"example.test. 60 IN MX 20 backup.example.test.",
		`example.test. 60 IN TXT "v=spf1 " "-all"`,
		"example.test. 60 IN NS ns1.example.test.",
	},
	"www.example.test.":   {"www.example.test. 60 IN CNAME example.test."},
	"empty.example.test.": {"empty.example.test. 60 IN A 192.0.2.3"},
	"app.example.test.":   {"app.example.test. 60 IN A 127.0.0.1"},
	"nat64.example.test.": {"nat64.example.test. 60 IN AAAA 64:ff9b::7f00:1"},
	"big.example.test.":   bigTXT(),
}

// bigTXT is an answer too large for UDP; the server truncates it there.
func bigTXT() []string {
	var rrs []string
	for i := 0; i < 40; i++ {
		rrs = append(rrs, `big.example.test. 60 IN TXT "`+strings.Repeat("x", 60)+`"`)
	}
	return rrs
}

// serveDNS answers from testZone; "broken.example.test." gets SERVFAIL and
// big.example.test. is truncated over UDP.
func serveDNS(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	q := r.Question[0]
	records, known := testZone[strings.ToLower(q.Name)]
	switch {
	case q.Name == "broken.example.test.":
		m.Rcode = dns.RcodeServerFailure
	case !known:
		m.Rcode = dns.RcodeNameError
	case q.Name == "big.example.test." && w.LocalAddr().Network() == "udp":
		m.Truncated = true
	default:
		m.Authoritative = true
		m.Answer = lookupZone(records, q.Qtype)
	}
	_ = w.WriteMsg(m)
}

// lookupZone returns the records of type qtype, following a CNAME.
func lookupZone(records []string, qtype uint16) []dns.RR {
	var answer []dns.RR
	for _, s := range records {
		rr, err := dns.NewRR(s)
		if err != nil {
			panic(err)
		}
		switch {
		case rr.Header().Rrtype == qtype:
			answer = append(answer, rr)
		case rr.Header().Rrtype == dns.TypeCNAME:
			answer = append(answer, rr)
			answer = append(answer, lookupZone(testZone[rr.(*dns.CNAME).Target], qtype)...)
		}
	}
	return answer
}

// startDNS runs the test DNS server over UDP and TCP on one loopback port
// and returns its address.
func startDNS(t *testing.T) string {
	t.Helper()
	var (
		pc  net.PacketConn
		ln  net.Listener
		err error
	)
	for range 20 { // the TCP port may be taken; try another
		if pc, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		if ln, err = net.Listen("tcp", pc.LocalAddr().String()); err == nil {
			break
		}
		_ = pc.Close()
	}
	if err != nil {
		t.Fatalf("TCP on the DNS server's port: %v", err)
	}
	addr := pc.LocalAddr().String()
	for _, srv := range []*dns.Server{
		{PacketConn: pc, Handler: dns.HandlerFunc(serveDNS)},
		{Listener: ln, Handler: dns.HandlerFunc(serveDNS)},
	} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go func() { _ = srv.ActivateAndServe() }()
		<-started
		t.Cleanup(func() { _ = srv.Shutdown() })
	}
	return addr
}

// testResolver resolves host names through the test DNS server only, so
// lookups never leave the machine.
func testResolver(dnsAddr string) *net.Resolver {
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, dnsAddr)
		},
	}
}

func TestDNS(t *testing.T) {
	server := startDNS(t)
	c := probe.New(probe.Config{})
	tests := []struct {
		name, host, recordType string
		want                   domain.CheckOutcome
	}{
		{"A by default", "example.test", "", domain.CheckOutcome{Up: true, Detail: "192.0.2.1, 192.0.2.2"}},
		{"A", "example.test", "A", domain.CheckOutcome{Up: true, Detail: "192.0.2.1, 192.0.2.2"}},
		{"lower-case type", "example.test", "a", domain.CheckOutcome{Up: true, Detail: "192.0.2.1, 192.0.2.2"}},
		{"AAAA", "example.test", "AAAA", domain.CheckOutcome{Up: true, Detail: "2001:db8::1"}},
		{"MX", "example.test", "MX", domain.CheckOutcome{Up: true, Detail: "10 mail.example.test., 20 backup.example.test."}},
		{"TXT", "example.test", "TXT", domain.CheckOutcome{Up: true, Detail: "v=spf1 -all"}},
		{"NS", "example.test", "NS", domain.CheckOutcome{Up: true, Detail: "ns1.example.test."}},
		{"CNAME", "www.example.test", "CNAME", domain.CheckOutcome{Up: true, Detail: "example.test."}},
		{"fully qualified name", "example.test.", "AAAA", domain.CheckOutcome{Up: true, Detail: "2001:db8::1"}},
		{"host in a URL", "https://example.test/path", "AAAA", domain.CheckOutcome{Up: true, Detail: "2001:db8::1"}},
		{"A through a CNAME", "www.example.test", "A", domain.CheckOutcome{Up: true, Detail: "192.0.2.1, 192.0.2.2"}},
		{"no records of the type", "empty.example.test", "MX", domain.CheckOutcome{Error: "no MX records for empty.example.test"}},
		{"CNAME asked of a name without one", "example.test", "CNAME", domain.CheckOutcome{Error: "no CNAME records for example.test"}},
		{"NXDOMAIN", "missing.example.test", "A", domain.CheckOutcome{Error: "DNS lookup failed: NXDOMAIN"}},
		{"SERVFAIL", "broken.example.test", "A", domain.CheckOutcome{Error: "DNS lookup failed: SERVFAIL"}},
		{"unsupported type", "example.test", "SRV", domain.CheckOutcome{Error: `unsupported DNS record type "SRV" (expected A, AAAA, CNAME, MX, NS or TXT)`}},
		{"no host", "", "A", domain.CheckOutcome{Error: "no target host given"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := check(t, c, domain.CheckSpec{
				Type: domain.TypeDNS, URL: tt.host, DNSRecordType: tt.recordType,
				DNSResolver: server, Timeout: 5 * time.Second,
			})
			if d := cmp.Diff(tt.want, got, ignoreTiming); d != "" {
				t.Errorf("outcome (-want +got):\n%s", d)
			}
		})
	}
}

// A truncated UDP answer is asked again over TCP.
func TestDNSTruncatedRetriesOverTCP(t *testing.T) {
	server := startDNS(t)
	got := check(t, probe.New(probe.Config{}), domain.CheckSpec{
		Type: domain.TypeDNS, URL: "big.example.test", DNSRecordType: "TXT",
		DNSResolver: server, Timeout: 5 * time.Second,
	})
	if !got.Up {
		t.Fatalf("want up, got %+v", got)
	}
	if len(got.Detail) > 200 || !strings.HasPrefix(got.Detail, strings.Repeat("x", 60)+", ") || !strings.HasSuffix(got.Detail, "…") {
		t.Errorf("Detail = %q, want the first answers cut at 200 bytes", got.Detail)
	}
}

// The checker's Resolver is used when the spec names none.
func TestDNSDefaultResolver(t *testing.T) {
	server := startDNS(t)
	got := check(t, probe.New(probe.Config{Resolver: server}), domain.CheckSpec{
		Type: domain.TypeDNS, URL: "example.test", DNSRecordType: "NS", Timeout: 5 * time.Second,
	})
	want := domain.CheckOutcome{Up: true, Detail: "ns1.example.test."}
	if d := cmp.Diff(want, got, ignoreTiming); d != "" {
		t.Errorf("outcome (-want +got):\n%s", d)
	}
}

func TestDNSResolverFailures(t *testing.T) {
	// A UDP socket that reads queries and never answers.
	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = silent.Close() })
	go func() {
		buf := make([]byte, 512)
		for {
			if _, _, err := silent.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	closed := closedUDPPort(t)

	tests := []struct {
		name, resolver string
		want           string
	}{
		{"no answer", silent.LocalAddr().String(), "DNS query to " + silent.LocalAddr().String() + " failed: timed out after 1s"},
		{"nothing listening", closed, "DNS query to " + closed + " failed: connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			got := check(t, probe.New(probe.Config{}), domain.CheckSpec{
				Type: domain.TypeDNS, URL: "example.test", DNSResolver: tt.resolver, Timeout: time.Second,
			})
			assertPrompt(t, start)
			if d := cmp.Diff(domain.CheckOutcome{Error: tt.want}, got, ignoreTiming); d != "" {
				t.Errorf("outcome (-want +got):\n%s", d)
			}
		})
	}
}

func closedUDPPort(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	_ = pc.Close()
	return addr
}

func TestSystemResolver(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, path, want string
	}{
		{"first nameserver", write("two", "search example.test\nnameserver 127.0.0.53\nnameserver 127.0.0.54\n"), "127.0.0.53:53"},
		{"IPv6 nameserver", write("v6", "nameserver ::1\n"), "[::1]:53"},
		{"no nameserver", write("none", "search example.test\n"), "127.0.0.1:53"},
		{"no file", filepath.Join(dir, "missing"), "127.0.0.1:53"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := probe.SystemResolver(tt.path); got != tt.want {
				t.Errorf("SystemResolver = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"a longer text", 10, "a longe…"},
		{"ééééé", 8, "éé…"},
	}
	for _, tt := range tests {
		if got := probe.Truncate(tt.in, tt.n); got != tt.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}
