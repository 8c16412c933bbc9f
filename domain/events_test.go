package domain_test

import (
	"testing"

	"github.com/medialuna/medialuna/domain"
)

func TestScrubNUL(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"no escape", `{"name":"plain"}`, `{"name":"plain"}`},
		{"one NUL", `{"name":"a\u0000b"}`, `{"name":"a\ufffdb"}`},
		{"several", `{"a":"\u0000","b":["x\u0000\u0000"]}`, `{"a":"\ufffd","b":["x\ufffd\ufffd"]}`},
		{"escaped backslash before u0000 text", `{"name":"a\\u0000"}`, `{"name":"a\\u0000"}`},
		{"escaped backslash then NUL", `{"name":"\\\u0000"}`, `{"name":"\\\ufffd"}`},
		{"other escapes kept", `{"name":"\u0001\n\"\u00e9"}`, `{"name":"\u0001\n\"\u00e9"}`},
		{"trailing backslash", `\`, `\`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(domain.ScrubNUL([]byte(tc.in))); got != tc.want {
				t.Errorf("ScrubNUL(%s) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}

func TestDecodeStoresNoNUL(t *testing.T) {
	ev, err := domain.Decode("TagCreated", 1, []byte(`{"tag_id":1,"account_id":2,"name":"t\u0000g","color":"#fff"}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := ev.(*domain.TagCreated).Name; got != "t\uFFFDg" {
		t.Errorf("name %q, want the NUL replaced by U+FFFD", got)
	}
}
