package httpapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestPendingLoginCookie: the cookie between the password and the code
// steps is read back only as written, by the server that signed it, before
// it ends; its next page stays on this site.
func TestPendingLoginCookie(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	s := &Server{deps: Deps{JWTSecret: []byte("one secret"), Now: func() time.Time { return now }}}
	other := &Server{deps: Deps{JWTSecret: []byte("another secret"), Now: s.deps.Now}}
	good := s.pendingLogin(42, 7, "/settings/profile")
	read := func(srv *Server, value string) (uiPendingLogin, bool) {
		r := httptest.NewRequest("GET", "/login/2fa", nil)
		r.AddCookie(&http.Cookie{Name: pendingLoginCookie, Value: value})
		return srv.readPendingLogin(r)
	}
	if got, ok := read(s, good); !ok || got != (uiPendingLogin{UserID: 42, AccountID: 7, Next: "/settings/profile"}) {
		t.Errorf("the cookie as written: %+v %v", got, ok)
	}
	dot := strings.Index(good, ".")
	for name, value := range map[string]string{
		"another user":        "43" + good[dot:],
		"another signature":   good[:len(good)-2] + "xx",
		"no signature":        good[:strings.LastIndex(good, ".")],
		"another server's":    other.pendingLogin(42, 7, "/"),
		"empty":               "",
		"too long":            strings.Repeat("a", 600),
		"signed but too many": s.pendingLogin(42, 7, "/") + ".1",
	} {
		if got, ok := read(s, value); ok {
			t.Errorf("%s: accepted as %+v", name, got)
		}
	}
	now = now.Add(pendingLoginTTL)
	if _, ok := read(s, good); ok {
		t.Error("accepted after it ended")
	}
	if got, ok := read(s, s.pendingLogin(1, 1, "//evil.example/")); !ok || got.Next != "/" {
		t.Errorf("an off-site next: %+v %v", got, ok)
	}
}
