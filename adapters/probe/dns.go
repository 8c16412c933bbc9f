package probe

import (
	"context"
	"net"
	"strconv"
	"strings"

	"github.com/miekg/dns"

	"github.com/medialuna/medialuna/domain"
)

// resolvConf is where the system's DNS servers are listed.
const resolvConf = "/etc/resolv.conf"

// maxDetail bounds the length of a DNS check's Detail.
const maxDetail = 200

// dnsTypes are the record types a DNS check can query.
var dnsTypes = map[string]uint16{
	"A":     dns.TypeA,
	"AAAA":  dns.TypeAAAA,
	"CNAME": dns.TypeCNAME,
	"MX":    dns.TypeMX,
	"NS":    dns.TypeNS,
	"TXT":   dns.TypeTXT,
}

// checkDNS queries the record type of the spec for the host in its URL and is
// up when the answer holds at least one record of that type. It asks over UDP
// and again over TCP when the answer is truncated.
func (c *Checker) checkDNS(a *attempt) domain.CheckOutcome {
	spec := a.spec
	name := strings.ToUpper(strings.TrimSpace(spec.DNSRecordType))
	if name == "" {
		name = "A"
	}
	qtype, ok := dnsTypes[name]
	if !ok {
		return downf("unsupported DNS record type %q (expected A, AAAA, CNAME, MX, NS or TXT)", spec.DNSRecordType)
	}
	host, _, err := parseHost(spec.URL)
	if err != nil {
		return downf("%v", err)
	}
	host = strings.TrimSuffix(host, ".")

	server, trusted := spec.DNSResolver, false
	if strings.TrimSpace(server) == "" {
		server, trusted = c.resolver, true
		if server == "" {
			server = systemResolver(resolvConf)
		}
	}
	server = withPort(strings.TrimSpace(server), "53")

	dialer := c.dialer
	if trusted {
		dialer = &net.Dialer{} // the operator's resolver may well be private
	}
	msg := new(dns.Msg)
	msg.SetQuestion(dns.Fqdn(host), qtype)
	msg.SetEdns0(1232, false)

	resp, err := exchange(a, dialer, "udp", msg, server)
	if err == nil && resp.Truncated {
		resp, err = exchange(a, dialer, "tcp", msg, server)
	}
	if err != nil {
		return downf("DNS query to %s failed: %s", server, a.describe(err))
	}
	if resp.Rcode != dns.RcodeSuccess {
		return downf("DNS lookup failed: %s", dns.RcodeToString[resp.Rcode])
	}
	var answers []string
	for _, rr := range resp.Answer {
		if rr.Header().Rrtype == qtype {
			answers = append(answers, rdata(rr))
		}
	}
	if len(answers) == 0 {
		return downf("no %s records for %s", name, host)
	}
	return domain.CheckOutcome{Up: true, Detail: domain.TruncateBytes(strings.Join(answers, ", "), maxDetail, "…")}
}

// exchange sends msg to server over network, bounded by the attempt's
// context and abandoned when it is canceled.
func exchange(a *attempt, dialer *net.Dialer, network string, msg *dns.Msg, server string) (*dns.Msg, error) {
	client := &dns.Client{Net: network, Dialer: dialer, Timeout: a.timeout}
	conn, err := client.DialContext(a.ctx, server)
	if err != nil {
		return nil, err
	}
	defer func() { _ = conn.Close() }()
	stop := context.AfterFunc(a.ctx, func() { _ = conn.Close() })
	defer stop()
	resp, _, err := client.ExchangeWithConnContext(a.ctx, msg, conn)
	return resp, err
}

// rdata writes the data of one answer record: an address, a name, "10
// mail.example.com." for MX, the joined strings of a TXT record.
func rdata(rr dns.RR) string {
	switch rr := rr.(type) {
	case *dns.A:
		return rr.A.String()
	case *dns.AAAA:
		return rr.AAAA.String()
	case *dns.CNAME:
		return rr.Target
	case *dns.MX:
		return strconv.Itoa(int(rr.Preference)) + " " + rr.Mx
	case *dns.NS:
		return rr.Ns
	case *dns.TXT:
		return strings.Join(rr.Txt, "")
	}
	hdr := rr.Header().String()
	return strings.TrimSpace(strings.TrimPrefix(rr.String(), hdr))
}

// systemResolver returns the first nameserver listed in the resolv.conf file
// at path, or 127.0.0.1:53.
func systemResolver(path string) string {
	conf, err := dns.ClientConfigFromFile(path)
	if err != nil || len(conf.Servers) == 0 {
		return "127.0.0.1:53"
	}
	port := conf.Port
	if port == "" {
		port = "53"
	}
	return net.JoinHostPort(conf.Servers[0], port)
}

// withPort adds port to addr when it has none; addr may be an IPv6 address.
func withPort(addr, port string) string {
	if _, _, err := net.SplitHostPort(addr); err == nil {
		return addr
	}
	return net.JoinHostPort(strings.TrimSuffix(strings.TrimPrefix(addr, "["), "]"), port)
}
