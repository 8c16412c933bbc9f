package probe

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/medialuna/medialuna/domain"
)

// maxBodyBytes is how much of a response body an HTTP check reads; the
// response time runs to the end of it.
const maxBodyBytes = 1 << 20

// maxRedirects is how many redirects an HTTP check follows.
const maxRedirects = 10

// newTransport returns the shared transport for checks with the given
// verify_ssl setting. Per-check limits come from the request's context; the
// timeouts here are only a safety net.
func (c *Checker) newTransport(verify bool) *http.Transport {
	return &http.Transport{
		Proxy:                  nil, // a monitor checks the target itself, never through a proxy
		DialContext:            c.dialer.DialContext,
		TLSClientConfig:        &tls.Config{InsecureSkipVerify: !verify}, //nolint:gosec // the monitor's verify_ssl asks for it
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           100,
		MaxIdleConnsPerHost:    2,
		IdleConnTimeout:        30 * time.Second,
		TLSHandshakeTimeout:    maxTimeout,
		ResponseHeaderTimeout:  maxTimeout,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 256 << 10,
	}
}

// checkHTTP runs HTTP and HEAD checks.
func (c *Checker) checkHTTP(a *attempt) domain.CheckOutcome {
	spec := a.spec
	u, err := url.Parse(strings.TrimSpace(spec.URL))
	if err != nil {
		return downf("invalid URL %q: %v", spec.URL, errors.Unwrap(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return downf("invalid URL %q: must start with http:// or https://", spec.URL)
	}
	if u.Host == "" {
		return downf("invalid URL %q: no host", spec.URL)
	}

	method := strings.ToUpper(strings.TrimSpace(spec.Method))
	var body io.Reader
	switch {
	case spec.Type == domain.TypeHEAD:
		method = http.MethodHead
	case spec.Body != "":
		body = strings.NewReader(spec.Body)
		if method == "" {
			method = http.MethodPost
		}
	case method == "":
		method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(a.ctx, method, u.String(), body)
	if err != nil {
		return downf("invalid request: %v", err)
	}
	for k, v := range spec.Headers {
		if strings.EqualFold(k, "Host") {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", c.userAgent)
	}

	// The certificate of the first HTTPS response in the chain, so a redirect
	// elsewhere does not hide the expiry of the monitored URL's certificate.
	var cert *time.Time
	noteCert := func(state *tls.ConnectionState) {
		if cert == nil && state != nil && len(state.PeerCertificates) > 0 {
			t := state.PeerCertificates[0].NotAfter
			cert = &t
		}
	}
	transport := c.verifying
	if !spec.VerifySSL {
		transport = c.insecure
	}
	client := &http.Client{
		Transport: transport,
		CheckRedirect: func(next *http.Request, via []*http.Request) error {
			if next.Response != nil {
				noteCert(next.Response.TLS)
			}
			if !spec.FollowRedirects {
				return http.ErrUseLastResponse
			}
			if len(via) > maxRedirects {
				return fmt.Errorf("stopped after %d redirects", maxRedirects)
			}
			if next.URL.Scheme != "http" && next.URL.Scheme != "https" {
				return fmt.Errorf("redirect to unsupported scheme %q", next.URL.Scheme)
			}
			return nil
		},
	}

	resp, err := client.Do(req)
	if err != nil {
		out := a.down(err)
		var verr *tls.CertificateVerificationError
		if errors.As(err, &verr) && len(verr.UnverifiedCertificates) > 0 {
			t := verr.UnverifiedCertificates[0].NotAfter
			cert = &t
		}
		out.CertExpiresAt = cert
		return out
	}
	defer func() { _ = resp.Body.Close() }()
	noteCert(resp.TLS)
	out := domain.CheckOutcome{StatusCode: resp.StatusCode, CertExpiresAt: cert}
	// Redacted: the detail is recorded in the log, and a URL's password
	// must never be.
	if final := resp.Request.URL.Redacted(); final != u.Redacted() {
		out.Detail = final
	}
	if _, err := io.CopyN(io.Discard, resp.Body, maxBodyBytes); err != nil && !errors.Is(err, io.EOF) {
		out.Error = "reading response body: " + a.describe(err)
		return out
	}
	if !expected(resp.StatusCode, spec.ExpectedStatusCodes) {
		out.Error = fmt.Sprintf("unexpected status code %d (expected %s)", resp.StatusCode, expectedText(spec.ExpectedStatusCodes))
		return out
	}
	out.Up = true
	return out
}

// expected reports whether code is one of codes, or 2xx when codes is empty.
func expected(code int, codes []int) bool {
	if len(codes) == 0 {
		return code >= 200 && code <= 299
	}
	for _, c := range codes {
		if c == code {
			return true
		}
	}
	return false
}

func expectedText(codes []int) string { return domain.FormatStatusCodes(codes) }
