package probe_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medialuna/medialuna/adapters/probe"
	"github.com/medialuna/medialuna/domain"
)

// statusServer answers /status/N with N, redirects /redirect to /final,
// /loop to itself and /ftp to an ftp:// URL.
func statusServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var loops atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("/status/{code}", func(w http.ResponseWriter, r *http.Request) {
		var code int
		for _, ch := range r.PathValue("code") {
			code = code*10 + int(ch-'0')
		}
		w.WriteHeader(code)
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/final", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/final", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "you made it")
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		loops.Add(1)
		http.Redirect(w, r, "/loop", http.StatusFound)
	})
	mux.HandleFunc("/ftp", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "ftp://127.0.0.1/file", http.StatusFound)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, &loops
}

func TestHTTPStatus(t *testing.T) {
	srv, _ := statusServer(t)
	c := probe.New(probe.Config{})
	tests := []struct {
		name string
		spec domain.CheckSpec
		want domain.CheckOutcome
	}{
		{
			name: "200 is up",
			spec: domain.CheckSpec{URL: srv.URL + "/status/200"},
			want: domain.CheckOutcome{Up: true, StatusCode: 200},
		},
		{
			name: "204 is up by default",
			spec: domain.CheckSpec{URL: srv.URL + "/status/204"},
			want: domain.CheckOutcome{Up: true, StatusCode: 204},
		},
		{
			name: "500 is down",
			spec: domain.CheckSpec{URL: srv.URL + "/status/500"},
			want: domain.CheckOutcome{StatusCode: 500, Error: "unexpected status code 500 (expected 200-299)"},
		},
		{
			name: "expected 201 gets 201",
			spec: domain.CheckSpec{URL: srv.URL + "/status/201", ExpectedStatusCodes: []int{201}},
			want: domain.CheckOutcome{Up: true, StatusCode: 201},
		},
		{
			name: "expected 201 gets 200",
			spec: domain.CheckSpec{URL: srv.URL + "/status/200", ExpectedStatusCodes: []int{201, 202}},
			want: domain.CheckOutcome{StatusCode: 200, Error: "unexpected status code 200 (expected 201-202)"},
		},
		{
			name: "expected 404 gets 404",
			spec: domain.CheckSpec{URL: srv.URL + "/status/404", ExpectedStatusCodes: []int{404}},
			want: domain.CheckOutcome{Up: true, StatusCode: 404},
		},
		{
			name: "redirect followed",
			spec: domain.CheckSpec{URL: srv.URL + "/redirect", FollowRedirects: true},
			want: domain.CheckOutcome{Up: true, StatusCode: 200, Detail: srv.URL + "/final"},
		},
		{
			name: "redirect not followed is judged",
			spec: domain.CheckSpec{URL: srv.URL + "/redirect"},
			want: domain.CheckOutcome{StatusCode: 301, Error: "unexpected status code 301 (expected 200-299)"},
		},
		{
			name: "redirect not followed, 301 expected",
			spec: domain.CheckSpec{URL: srv.URL + "/redirect", ExpectedStatusCodes: []int{301}},
			want: domain.CheckOutcome{Up: true, StatusCode: 301},
		},
		{
			name: "redirect to another scheme",
			spec: domain.CheckSpec{URL: srv.URL + "/ftp", FollowRedirects: true},
			want: domain.CheckOutcome{Error: `redirect to unsupported scheme "ftp"`},
		},
		{
			name: "invalid URL",
			spec: domain.CheckSpec{URL: "http://[::1"},
			want: domain.CheckOutcome{Error: `invalid URL "http://[::1": missing ']' in host`},
		},
		{
			name: "URL without scheme",
			spec: domain.CheckSpec{URL: "example.test/health"},
			want: domain.CheckOutcome{Error: `invalid URL "example.test/health": must start with http:// or https://`},
		},
		{
			name: "URL without host",
			spec: domain.CheckSpec{URL: "http:///health"},
			want: domain.CheckOutcome{Error: `invalid URL "http:///health": no host`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.spec.Type = domain.TypeHTTP
			tt.spec.Timeout = 5 * time.Second
			got := check(t, c, tt.spec)
			if d := cmp.Diff(tt.want, got, ignoreTiming); d != "" {
				t.Errorf("outcome (-want +got):\n%s", d)
			}
		})
	}
}

func TestHTTPRedirectLimit(t *testing.T) {
	srv, loops := statusServer(t)
	got := check(t, probe.New(probe.Config{}), domain.CheckSpec{
		Type: domain.TypeHTTP, URL: srv.URL + "/loop", FollowRedirects: true, Timeout: 5 * time.Second,
	})
	want := domain.CheckOutcome{Error: "stopped after 10 redirects"}
	if d := cmp.Diff(want, got, ignoreTiming); d != "" {
		t.Errorf("outcome (-want +got):\n%s", d)
	}
	if n := loops.Load(); n != 11 {
		t.Errorf("server saw %d requests, want 11 (the first and 10 redirects)", n)
	}
}

// seen is what the server received.
type seen struct {
	Method, Body, UserAgent, Token, Host string
}

func TestHTTPRequest(t *testing.T) {
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- seen{Method: r.Method, Body: string(body), UserAgent: r.UserAgent(), Token: r.Header.Get("X-Token"), Host: r.Host}
	}))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")

	tests := []struct {
		name string
		spec domain.CheckSpec
		cfg  probe.Config
		want seen
	}{
		{
			name: "defaults",
			want: seen{Method: "GET", UserAgent: "MediaLuna/1.0 (+uptime monitor)", Host: host},
		},
		{
			name: "configured user agent",
			cfg:  probe.Config{UserAgent: "Acme/2"},
			want: seen{Method: "GET", UserAgent: "Acme/2", Host: host},
		},
		{
			name: "method, headers and body",
			spec: domain.CheckSpec{Method: "put", Body: `{"a":1}`, Headers: map[string]string{"X-Token": "abc", "user-agent": "custom/1"}},
			want: seen{Method: "PUT", Body: `{"a":1}`, UserAgent: "custom/1", Token: "abc", Host: host},
		},
		{
			name: "a body means POST",
			spec: domain.CheckSpec{Body: "ping"},
			want: seen{Method: "POST", Body: "ping", UserAgent: "MediaLuna/1.0 (+uptime monitor)", Host: host},
		},
		{
			name: "Host header",
			spec: domain.CheckSpec{Method: "DELETE", Headers: map[string]string{"Host": "status.example.test"}},
			want: seen{Method: "DELETE", UserAgent: "MediaLuna/1.0 (+uptime monitor)", Host: "status.example.test"},
		},
		{
			name: "HEAD type",
			spec: domain.CheckSpec{Type: domain.TypeHEAD, Method: "GET"},
			want: seen{Method: "HEAD", UserAgent: "MediaLuna/1.0 (+uptime monitor)", Host: host},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.spec.Type == "" {
				tt.spec.Type = domain.TypeHTTP
			}
			tt.spec.URL = srv.URL + "/check"
			tt.spec.Timeout = 5 * time.Second
			out := check(t, probe.New(tt.cfg), tt.spec)
			if !out.Up {
				t.Fatalf("want up, got %+v", out)
			}
			if d := cmp.Diff(tt.want, <-got); d != "" {
				t.Errorf("server saw (-want +got):\n%s", d)
			}
		})
	}
}

func TestHEAD(t *testing.T) {
	methods := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		methods <- r.Method
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	got := check(t, probe.New(probe.Config{}), domain.CheckSpec{Type: domain.TypeHEAD, URL: srv.URL, Timeout: 5 * time.Second})
	if d := cmp.Diff(domain.CheckOutcome{Up: true, StatusCode: 204}, got, ignoreTiming); d != "" {
		t.Errorf("outcome (-want +got):\n%s", d)
	}
	if m := <-methods; m != http.MethodHead {
		t.Errorf("server saw method %s, want HEAD", m)
	}
}

// The check reads up to 1 MiB of the body and no more.
func TestHTTPLargeBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := []byte(strings.Repeat("x", 64<<10))
		for i := 0; i < 64; i++ { // 4 MiB
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	got := check(t, probe.New(probe.Config{}), domain.CheckSpec{Type: domain.TypeHTTP, URL: srv.URL, Timeout: 5 * time.Second})
	if d := cmp.Diff(domain.CheckOutcome{Up: true, StatusCode: 200}, got, ignoreTiming); d != "" {
		t.Errorf("outcome (-want +got):\n%s", d)
	}
}

func TestHTTPTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow-body" {
			_, _ = io.WriteString(w, "first part")
			w.(http.Flusher).Flush()
		}
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	t.Cleanup(srv.Close)
	tests := []struct {
		name, path string
		want       domain.CheckOutcome
	}{
		{"waiting for headers", "/slow", domain.CheckOutcome{Error: "timed out after 1s"}},
		{"reading the body", "/slow-body", domain.CheckOutcome{StatusCode: 200, Error: "reading response body: timed out after 1s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			got := check(t, probe.New(probe.Config{}), domain.CheckSpec{Type: domain.TypeHTTP, URL: srv.URL + tt.path, Timeout: time.Second})
			assertPrompt(t, start)
			if d := cmp.Diff(tt.want, got, ignoreTiming); d != "" {
				t.Errorf("outcome (-want +got):\n%s", d)
			}
			if got.ResponseTimeMs < 900 {
				t.Errorf("ResponseTimeMs = %v, want about the 1s timeout", got.ResponseTimeMs)
			}
		})
	}
}

func TestHTTPConnectionFailures(t *testing.T) {
	dnsServer := startDNS(t)
	// The server reads the request and hangs up without answering.
	hangUp := serveTCP(t, "tcp", "127.0.0.1:0", func(conn net.Conn) {
		for {
			if line, err := readLine(conn); line == "" || err != nil {
				return
			}
		}
	})
	plain := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(plain.Close)

	c := probe.New(probe.Config{HostResolver: testResolver(dnsServer)})
	tests := []struct {
		name, url, want string
	}{
		{"connection refused", "http://" + closedPort(t) + "/", "connection refused"},
		{"unresolvable host", "http://nonexistent.invalid/", "DNS lookup failed for nonexistent.invalid: no such host"},
		{"closed without answer", "http://" + hangUp + "/", "connection closed by server"},
		{"TLS to a plain HTTP server", strings.Replace(plain.URL, "http://", "https://", 1), "http: server gave HTTP response to HTTPS client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := check(t, c, domain.CheckSpec{Type: domain.TypeHTTP, URL: tt.url, Timeout: 5 * time.Second})
			if d := cmp.Diff(domain.CheckOutcome{Error: tt.want}, got, ignoreTiming); d != "" {
				t.Errorf("outcome (-want +got):\n%s", d)
			}
		})
	}
}

// A host name resolved through the checker's host resolver is checked.
func TestHTTPResolvedName(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(srv.Close)
	c := probe.New(probe.Config{HostResolver: testResolver(startDNS(t))})
	url := strings.Replace(srv.URL, "127.0.0.1", "app.example.test", 1)
	got := check(t, c, domain.CheckSpec{Type: domain.TypeHTTP, URL: url, Timeout: 5 * time.Second})
	if d := cmp.Diff(domain.CheckOutcome{Up: true, StatusCode: 200}, got, ignoreTiming); d != "" {
		t.Errorf("outcome (-want +got):\n%s", d)
	}
}

func TestHTTPS(t *testing.T) {
	srv := quietTLSServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/down" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}), nil)
	notAfter := srv.Certificate().NotAfter
	c := probe.New(probe.Config{})
	tests := []struct {
		name   string
		path   string
		verify bool
		want   domain.CheckOutcome
	}{
		{"verified self-signed", "/", true, domain.CheckOutcome{
			Error: "TLS certificate verification failed: x509: certificate signed by unknown authority", CertExpiresAt: &notAfter,
		}},
		{"unverified self-signed", "/", false, domain.CheckOutcome{Up: true, StatusCode: 200, CertExpiresAt: &notAfter}},
		{"unexpected status", "/down", false, domain.CheckOutcome{
			StatusCode: 503, Error: "unexpected status code 503 (expected 200-299)", CertExpiresAt: &notAfter,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := check(t, c, domain.CheckSpec{Type: domain.TypeHTTP, URL: srv.URL + tt.path, VerifySSL: tt.verify, Timeout: 5 * time.Second})
			if d := cmp.Diff(tt.want, got, ignoreTiming); d != "" {
				t.Errorf("outcome (-want +got):\n%s", d)
			}
		})
	}
}

// The certificate of the monitored URL is reported even when it redirects
// to a plain HTTP server.
func TestHTTPSRedirectKeepsFirstCertificate(t *testing.T) {
	plain := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(plain.Close)
	srv := httptest.NewTLSServer(http.RedirectHandler(plain.URL+"/moved", http.StatusFound))
	t.Cleanup(srv.Close)
	notAfter := srv.Certificate().NotAfter
	got := check(t, probe.New(probe.Config{}), domain.CheckSpec{
		Type: domain.TypeHTTP, URL: srv.URL, FollowRedirects: true, Timeout: 5 * time.Second,
	})
	want := domain.CheckOutcome{Up: true, StatusCode: 200, Detail: plain.URL + "/moved", CertExpiresAt: &notAfter}
	if d := cmp.Diff(want, got, ignoreTiming); d != "" {
		t.Errorf("outcome (-want +got):\n%s", d)
	}
}

func TestHTTPSExpiringCertificate(t *testing.T) {
	cert, notAfter := selfSigned(t, 72*time.Hour)
	srv := quietTLSServer(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), &cert)

	for _, verify := range []bool{false, true} {
		got := check(t, probe.New(probe.Config{}), domain.CheckSpec{Type: domain.TypeHTTP, URL: srv.URL, VerifySSL: verify, Timeout: 5 * time.Second})
		if got.Up == verify {
			t.Errorf("verify_ssl %v: Up = %v (%s)", verify, got.Up, got.Error)
		}
		if got.CertExpiresAt == nil {
			t.Fatalf("verify_ssl %v: no CertExpiresAt", verify)
		}
		if d := got.CertExpiresAt.Sub(notAfter); d < -time.Minute || d > time.Minute {
			t.Errorf("verify_ssl %v: CertExpiresAt = %v, want about %v", verify, got.CertExpiresAt, notAfter)
		}
	}
}

// quietTLSServer starts an HTTPS server with cert, or httptest's own, that
// does not log the handshakes failed by verifying clients.
func quietTLSServer(t *testing.T, h http.Handler, cert *tls.Certificate) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if cert != nil {
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{*cert}}
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// selfSigned makes a certificate for 127.0.0.1 that expires after validFor.
func selfSigned(t *testing.T, validFor time.Duration) (tls.Certificate, time.Time) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	notAfter := time.Now().Add(validFor)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "expiring.example.test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, notAfter
}
