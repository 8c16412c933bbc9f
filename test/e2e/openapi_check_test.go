package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// recordingTB stands in for a test that watchServer reports to.
type recordingTB struct {
	testing.TB
	errors   []string
	cleanups []func()
}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
func (r *recordingTB) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }

// TestOpenAPICheckFindsDisagreements: the traffic check reports a response
// that breaks its schema, an undocumented status and a request the
// document refuses that the server accepted, each once, and nothing for a
// refused bad request or an unknown endpoint's 404.
func TestOpenAPICheckFindsDisagreements(t *testing.T) {
	if checker == nil {
		t.Skip("MEDIALUNA_VALIDATE_OPENAPI=0")
	}
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.Method + " " + r.URL.Path {
		case "GET /api/users/me":
			w.Write([]byte(`{"id": "not a number"}`))
		case "GET /api/plans":
			w.WriteHeader(500)
			w.Write([]byte(`{"detail": "boom"}`))
		case "POST /api/tags":
			if strings.Contains(r.URL.RawQuery, "refuse") {
				w.WriteHeader(400)
				w.Write([]byte(`{"detail": "bad"}`))
				return
			}
			w.WriteHeader(201)
			w.Write([]byte(`{"id": 1, "name": "x", "color": "#22c55e", "created_at": "2026-11-26T12:10:56Z"}`))
		default:
			w.WriteHeader(404)
			w.Write([]byte(`{"detail": "no such endpoint"}`))
		}
	}))
	defer fake.Close()
	rec := &recordingTB{TB: t}
	watchServer(rec, strings.TrimPrefix(fake.URL, "http://"))
	do := func(method, path, body string) {
		t.Helper()
		req, _ := http.NewRequest(method, fake.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var buf [512]byte
		for {
			if _, err := resp.Body.Read(buf[:]); err != nil {
				break
			}
		}
		resp.Body.Close()
	}
	do("GET", "/api/users/me", "")
	do("GET", "/api/users/me", "")
	do("GET", "/api/plans", "")
	do("POST", "/api/tags", `{"color": 5}`)
	do("POST", "/api/tags?refuse", `{"color": 5}`)
	do("GET", "/api/no-such-thing", "")
	for i := len(rec.cleanups) - 1; i >= 0; i-- {
		rec.cleanups[i]()
	}

	// Once each, though /api/users/me was asked twice.
	want := []string{`GET /api/users/me → 200: response: response body doesn't match schema #/components/schemas/Me: Error at "/id"`,
		"GET /api/plans → 500: response: status is not supported",
		"POST /api/tags → 201: the server accepted a request the document refuses"}
	for _, w := range want {
		n := 0
		for _, e := range rec.errors {
			if strings.Contains(e, w) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d reports containing %q, want 1; reports:\n%s", n, w, strings.Join(rec.errors, "\n"))
		}
	}
	for _, e := range rec.errors {
		if strings.Contains(e, "refuse →") || strings.Contains(e, "no-such-thing") {
			t.Errorf("reported: %s", e)
		}
	}
}
