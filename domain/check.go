package domain

import (
	"crypto/sha1"
	"fmt"
	"hash"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// MonitorType names what a monitor checks.
type MonitorType string

const (
	TypeHTTP MonitorType = "HTTP"
	TypeHEAD MonitorType = "HEAD"
	TypeTCP  MonitorType = "TCP"
	TypeDNS  MonitorType = "DNS"
	TypeSMTP MonitorType = "SMTP"
	TypeSSH  MonitorType = "SSH"
	TypePING MonitorType = "PING"
	TypePUSH MonitorType = "PUSH"
)

// MonitorTypes lists every type, in the reference's order.
func MonitorTypes() []MonitorType {
	return []MonitorType{TypeHTTP, TypeHEAD, TypeTCP, TypeDNS, TypeSMTP, TypeSSH, TypePING, TypePUSH}
}

// CheckSpec is everything a probe needs to run one check of a monitor.
type CheckSpec struct {
	Type    MonitorType   `json:"type"`
	URL     string        `json:"url"` // a URL for HTTP/HEAD, a host name or address otherwise
	Port    int           `json:"port,omitempty"`
	Timeout time.Duration `json:"timeout"`

	// HTTP and HEAD.
	Method              string            `json:"http_method,omitempty"`
	Headers             map[string]string `json:"request_headers,omitempty"`
	Body                string            `json:"request_body,omitempty"`
	ExpectedStatusCodes []int             `json:"expected_status_codes,omitempty"` // empty: 200-299
	FollowRedirects     bool              `json:"follow_redirects"`
	VerifySSL           bool              `json:"verify_ssl"`

	// DNS.
	DNSRecordType string `json:"dns_record_type,omitempty"` // A, AAAA, CNAME, MX, NS, TXT
	DNSResolver   string `json:"dns_resolver,omitempty"`    // host:port; empty: the system resolver
}

// CheckOutcome is what one check found.
type CheckOutcome struct {
	Up             bool       `json:"up"`
	ResponseTimeMs float64    `json:"response_time_ms"`
	StatusCode     int        `json:"status_code,omitempty"`
	Error          string     `json:"error,omitempty"`
	CertExpiresAt  *time.Time `json:"cert_expires_at,omitempty"` // HTTPS: the leaf certificate's NotAfter
	// Detail is a short type-specific summary: the SMTP or SSH banner, the
	// DNS answers, the final URL after redirects.
	Detail string `json:"detail,omitempty"`
}

// Storable returns the outcome with text every reader can store: Error and
// Detail come from the monitored target (a banner, an answer, a TLS error),
// so a hostile target could put U+0000 or invalid UTF-8 there. Both become
// U+FFFD; line breaks and other characters are kept as the target sent them.
func (o CheckOutcome) Storable() CheckOutcome {
	o.Error, o.Detail = storableText(o.Error), storableText(o.Detail)
	return o
}

func storableText(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// CheckAssignment is one monitor a region's probe must check.
type CheckAssignment struct {
	MonitorID int64 `json:"monitor_id"`
	// AccountID owns the monitor: a probe caps the checks one account has
	// in flight, so one account's hanging targets cannot starve the others.
	AccountID int64     `json:"account_id,omitempty"`
	Interval  int       `json:"check_interval"`
	Spec      CheckSpec `json:"spec"`
}

// CheckResult is one finished check as a probe reports it.
type CheckResult struct {
	MonitorID   int64        `json:"monitor_id"`
	ScheduledAt time.Time    `json:"scheduled_at"`
	CheckedAt   time.Time    `json:"checked_at"`
	Outcome     CheckOutcome `json:"outcome"`
}

// checkNamespace makes check event ids deterministic: the same check of the
// same monitor from the same region at the same scheduled time always gets
// the same id, so a result a probe retries after a network fault is
// recorded once.
var checkNamespace = uuid.NewHash(sha1New(), uuid.NameSpaceURL, []byte("https://medialuna/checks"), 5)

// CheckEventID is the id of one scheduled check's result. It lives in the
// domain because the event store derives it too: a check event stored in
// compact form keeps no id, only the monitor, region and scheduled time it
// is computed from (see docs/architecture.md, "Check retention").
func CheckEventID(monitorID, regionID int64, scheduledAt time.Time) string {
	return uuid.NewSHA1(checkNamespace, fmt.Appendf(nil, "%d/%d/%d", monitorID, regionID, scheduledAt.UnixNano())).String()
}

func sha1New() hash.Hash { return sha1.New() }
