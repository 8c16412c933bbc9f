package httpapi

import (
	"encoding/base64"
	"testing"
)

// The cookie that carries a new key to the page showing it opens only in
// the session that sealed it, and only unaltered.
func TestAPIKeyOnceSeal(t *testing.T) {
	s := &Server{deps: Deps{JWTSecret: []byte("test secret")}}
	mine, theirs := &viewer{sessionHash: "session-a"}, &viewer{sessionHash: "session-b"}
	sealed, err := s.sealForSession(mine, "api key", "7:sk_live_abc")
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := s.openForSession(mine, "api key", sealed); !ok || got != "7:sk_live_abc" {
		t.Errorf("opened in its session: %q %v", got, ok)
	}
	if _, ok := s.openForSession(theirs, "api key", sealed); ok {
		t.Error("opened in another session")
	}
	raw, _ := base64.RawURLEncoding.DecodeString(sealed)
	raw[len(raw)-1] ^= 1
	if _, ok := s.openForSession(mine, "api key", base64.RawURLEncoding.EncodeToString(raw)); ok {
		t.Error("a tampered cookie opened")
	}
	if _, ok := s.openForSession(mine, "api key", "not base64!"); ok {
		t.Error("garbage opened")
	}
	other := &Server{deps: Deps{JWTSecret: []byte("another server")}}
	if _, ok := other.openForSession(mine, "api key", sealed); ok {
		t.Error("opened with another server's secret")
	}
}
