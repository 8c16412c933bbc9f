package httpapi

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestOperatorCookie: the cookie the operator login sets opens the view
// until it expires; one with its expiry moved, its signature changed or
// made under another operator token or server secret does not, nor does
// any cookie on a server without an operator token.
func TestOperatorCookie(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	server := func(token, secret string) *Server {
		return &Server{deps: Deps{OperatorToken: token, JWTSecret: []byte(secret), Now: func() time.Time { return now }}}
	}
	s := server("operator-token-one", "server secret")
	// The value uiOperatorLogin sets.
	valid := func(s *Server, expires time.Time) string {
		e := strconv.FormatInt(expires.Unix(), 10)
		return e + "." + s.operatorSignature(e)
	}
	good := valid(s, now.Add(operatorViewFor))
	later := strconv.FormatInt(now.Add(30*24*time.Hour).Unix(), 10)
	_, sig, _ := strings.Cut(good, ".")
	flipped := good[:len(good)-1] + "A"
	if good[len(good)-1] == 'A' {
		flipped = good[:len(good)-1] + "B"
	}
	for _, c := range []struct {
		name   string
		s      *Server
		cookie string
		want   bool
	}{
		{"as set by the login", s, good, true},
		{"expired", s, valid(s, now.Add(-time.Second)), false},
		{"expiring now", s, valid(s, now), false},
		{"expiry moved, signature kept", s, later + "." + sig, false},
		{"signature changed", s, flipped, false},
		{"no signature", s, strconv.FormatInt(now.Add(time.Hour).Unix(), 10), false},
		{"empty", s, "", false},
		{"under another operator token", server("operator-token-two", "server secret"), good, false},
		{"under another server secret", server("operator-token-one", "another secret"), good, false},
		{"on a server without an operator token", server("", "server secret"), valid(server("", "server secret"), now.Add(time.Hour)), false},
	} {
		r := httptest.NewRequest("GET", "/operator", nil)
		if c.cookie != "" {
			r.AddCookie(&http.Cookie{Name: operatorCookie, Value: c.cookie})
		}
		if got := c.s.isOperator(r); got != c.want {
			t.Errorf("%s: isOperator = %v, want %v", c.name, got, c.want)
		}
	}
}
