package e2e

// Every request the tests make to a test server's /api/* and the response
// it gets are checked against docs/openapi.yaml (kin-openapi's
// openapi3filter): a test whose traffic disagrees with the document fails,
// with each disagreement once.
//
// The check sits in http.DefaultTransport, which http.Get, http.DefaultClient
// and every http.Client without a Transport of its own use, so the tests'
// URLs, Host headers and raw connections reach the binary as before, and
// streamed bodies still stream: a response's body is copied as the test
// reads it and checked when the test has read it to the end (a body closed
// before its end has its status and headers checked, not its content). The
// dashboard's pages, the public status site's HTML and anything asked of
// a status page's own host are not the API's and are not checked;
// /api/public/status-pages/* on the server's address is.
//
// A request the document refuses (a test sending a bad body or parameter
// on purpose) is no disagreement when the server refused it too (4xx);
// it is one when the server accepted it. Either way the response must be
// one the document describes for its status.
//
// The check is on by default; MEDIALUNA_VALIDATE_OPENAPI=0 turns it off.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/medialuna/medialuna/docs"
)

// validateOpenAPI is whether the check is on: it is unless
// MEDIALUNA_VALIDATE_OPENAPI=0.
var validateOpenAPI = os.Getenv("MEDIALUNA_VALIDATE_OPENAPI") != "0"

// maxCheckedBody bounds the copy of a response body kept for the check;
// a longer body has its status and headers checked only.
const maxCheckedBody = 32 << 20

// apiChecker checks traffic against the document. Servers register their
// address (host:port) with the test that started them.
type apiChecker struct {
	router routers.Router

	mu      sync.Mutex
	servers map[string]*apiFindings
}

var checker *apiChecker

// installAPIChecker loads the document and puts the check in front of
// http.DefaultTransport; TestMain calls it once.
func installAPIChecker() error {
	if !validateOpenAPI {
		return nil
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(docs.OpenAPI)
	if err != nil {
		return fmt.Errorf("load docs/openapi.yaml: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return fmt.Errorf("validate docs/openapi.yaml: %w", err)
	}
	// Any host: the test servers listen on free ports.
	doc.Servers = nil
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return err
	}
	openapi3filter.RegisterBodyDecoder("application/x-ndjson", ndjsonDecoder)
	checker = &apiChecker{router: router, servers: map[string]*apiFindings{}}
	http.DefaultTransport = &checkingTransport{base: http.DefaultTransport}
	return nil
}

// ndjsonDecoder reads newline-delimited JSON as the array of its lines'
// values, which is how the document describes the audit export.
func ndjsonDecoder(body io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
	out := []any{}
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			return nil, errors.New("an empty line in NDJSON")
		}
		var v any
		if err := json.Unmarshal(line, &v); err != nil {
			return nil, fmt.Errorf("NDJSON line %d: %w", len(out)+1, err)
		}
		out = append(out, v)
	}
	return out, sc.Err()
}

// apiFindings are one server's disagreements with the document, for the
// test that started it.
type apiFindings struct {
	mu   sync.Mutex
	seen map[string]bool
	list []string
}

// arrayIndex is an index in a JSON pointer, which deduplication forgets.
var arrayIndex = regexp.MustCompile(`/[0-9]+\b`)

// add records a disagreement once per key (method, route, status and
// problem): the first request that showed it is the one reported.
func (f *apiFindings) add(key, msg string) {
	key = arrayIndex.ReplaceAllString(key, "/#")
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.seen[key] {
		f.seen[key] = true
		f.list = append(f.list, msg)
	}
}

// watchServer checks the traffic to addr (host:port) until t ends, then
// fails t with what disagreed.
func watchServer(t testing.TB, addr string) {
	if checker == nil {
		return
	}
	f := &apiFindings{seen: map[string]bool{}}
	checker.mu.Lock()
	checker.servers[addr] = f
	checker.mu.Unlock()
	t.Cleanup(func() {
		checker.mu.Lock()
		delete(checker.servers, addr)
		checker.mu.Unlock()
		f.mu.Lock()
		defer f.mu.Unlock()
		list := append([]string(nil), f.list...)
		sort.Strings(list)
		for _, msg := range list {
			t.Errorf("OpenAPI: %s", msg)
		}
	})
}

// uncheckedByOpenAPI stops checking s's traffic against the document, for
// a test that writes to the log directly what the API would refuse (its
// reads answer what the log holds, not what the document promises); the
// reason says so where it is called.
func uncheckedByOpenAPI(s *server, reason string) {
	if checker == nil || reason == "" {
		return
	}
	checker.mu.Lock()
	delete(checker.servers, strings.TrimPrefix(s.URL, "http://"))
	checker.mu.Unlock()
}

func (c *apiChecker) findings(host string) *apiFindings {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.servers[host]
}

type checkingTransport struct{ base http.RoundTripper }

func (tr *checkingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	f := checker.findings(req.URL.Host)
	// A request for another Host is for a status page's own host
	// (--status-domain), the status site's, not the API's.
	if f == nil || !strings.HasPrefix(req.URL.Path, "/api/") || (req.Host != "" && req.Host != req.URL.Host) {
		return tr.base.RoundTrip(req)
	}
	var reqBody []byte
	out := req
	if req.Body != nil && req.Body != http.NoBody {
		var err error
		reqBody, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		out = req.Clone(req.Context())
		out.Body = io.NopCloser(bytes.NewReader(reqBody))
		out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(reqBody)), nil }
	}
	resp, err := tr.base.RoundTrip(out)
	if err != nil {
		return resp, err
	}
	ex := &exchange{findings: f, req: req, reqBody: reqBody, resp: resp}
	resp.Body = &copyingBody{rc: resp.Body, done: ex.check}
	return resp, nil
}

// copyingBody copies a response body as it is read and calls done once,
// at its end or when closed, with what was read and whether that is all.
type copyingBody struct {
	rc       io.ReadCloser
	buf      bytes.Buffer
	overflow bool
	once     sync.Once
	done     func(body []byte, complete bool)
}

func (b *copyingBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 && !b.overflow {
		if b.buf.Len()+n > maxCheckedBody {
			b.overflow = true
		} else {
			b.buf.Write(p[:n])
		}
	}
	if err == io.EOF {
		b.finish(!b.overflow)
	}
	return n, err
}

func (b *copyingBody) Close() error {
	b.finish(false)
	return b.rc.Close()
}

func (b *copyingBody) finish(complete bool) {
	b.once.Do(func() { b.done(b.buf.Bytes(), complete) })
}

// exchange is one request and its response.
type exchange struct {
	findings *apiFindings
	req      *http.Request
	reqBody  []byte
	resp     *http.Response
}

func (ex *exchange) check(respBody []byte, complete bool) {
	status := ex.resp.StatusCode
	req := ex.req.Clone(context.Background())
	req.Body = io.NopCloser(bytes.NewReader(ex.reqBody))
	route, params, err := checker.router.FindRoute(req)
	if err != nil {
		// Tests ask for endpoints that do not exist, on purpose.
		if status != http.StatusNotFound && status != http.StatusMethodNotAllowed {
			ex.findings.add(fmt.Sprintf("%s %s %d", req.Method, req.URL.Path, status),
				fmt.Sprintf("%s %s → %d: not in the document (%v)", req.Method, req.URL.Path, status, err))
		}
		return
	}
	where := fmt.Sprintf("%s %s → %d", req.Method, req.URL.RequestURI(), status)
	if route.Path != req.URL.Path {
		where = fmt.Sprintf("%s %s (%s) → %d", req.Method, req.URL.RequestURI(), route.Path, status)
	}
	report := func(what string, err error) {
		for _, msg := range summarise(err) {
			ex.findings.add(fmt.Sprintf("%s %s %d %s %s", req.Method, route.Path, status, what, msg), where+": "+what+msg)
		}
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true}}
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil && status < 400 {
		report("the server accepted a request the document refuses: ", err)
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: status, Header: ex.resp.Header,
		Body:    io.NopCloser(bytes.NewReader(respBody)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true, ExcludeResponseBody: !complete}}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		report("response: ", err)
	}
}

// summarise turns a validation error into one short line per problem,
// without the schemas and values kin-openapi appends.
func summarise(err error) []string {
	switch e := err.(type) {
	case openapi3.MultiError:
		var out []string
		for _, one := range e {
			out = append(out, summarise(one)...)
		}
		return out
	case *openapi3filter.RequestError:
		prefix := e.Reason
		switch {
		case e.Parameter != nil:
			prefix = strings.TrimSuffix(fmt.Sprintf("parameter %q in %s: %s", e.Parameter.Name, e.Parameter.In, e.Reason), ": ")
		case e.RequestBody != nil:
			prefix = strings.TrimSuffix("request body: "+e.Reason, ": ")
		}
		return within(prefix, e.Err)
	case *openapi3filter.ResponseError:
		return within(e.Reason, e.Err)
	}
	msg := err.Error()
	for _, cut := range []string{"\nSchema:", "\nValue:"} {
		if i := strings.Index(msg, cut); i >= 0 {
			msg = msg[:i]
		}
	}
	msg = strings.Join(strings.Fields(msg), " ")
	if len(msg) > 400 {
		msg = msg[:400] + "…"
	}
	return []string{msg}
}

func within(prefix string, err error) []string {
	if err == nil {
		return []string{prefix}
	}
	out := summarise(err)
	if prefix != "" {
		for i := range out {
			if !strings.HasPrefix(out[i], prefix) {
				out[i] = prefix + ": " + out[i]
			}
		}
	}
	return out
}
