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
	sealed, err := s.sealAPIKeyOnce(mine, "7:sk_live_abc")
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := s.openAPIKeyOnce(mine, sealed); !ok || got != "7:sk_live_abc" {
		t.Errorf("opened in its session: %q %v", got, ok)
	}
	if _, ok := s.openAPIKeyOnce(theirs, sealed); ok {
		t.Error("opened in another session")
	}
	raw, _ := base64.RawURLEncoding.DecodeString(sealed)
	raw[len(raw)-1] ^= 1
	if _, ok := s.openAPIKeyOnce(mine, base64.RawURLEncoding.EncodeToString(raw)); ok {
		t.Error("a tampered cookie opened")
	}
	if _, ok := s.openAPIKeyOnce(mine, "not base64!"); ok {
		t.Error("garbage opened")
	}
	other := &Server{deps: Deps{JWTSecret: []byte("another server")}}
	if _, ok := other.openAPIKeyOnce(mine, sealed); ok {
		t.Error("opened with another server's secret")
	}
}
