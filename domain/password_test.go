package domain_test

import (
	"strings"
	"testing"

	"github.com/medialuna/medialuna/domain"
)

func TestPasswordRules(t *testing.T) {
	for _, c := range []struct {
		password string
		refusal  string // "" when accepted
	}{
		{"long enough", ""},
		{"  padded password  ", ""},
		{"пароль-длинный", ""},
		{"short", "at least 8"},
		{strings.Repeat("x", 73), "at most 72"},
		{"        ", "only whitespace"},
		{"\t\t\t\t\n\n\n\n", "only whitespace"},
		{"\u00a0\u2003\u3000\u00a0\u2003\u3000\u00a0\u2003", "only whitespace"},
		{"\x00\x01\x02\x03\x04\x05\x06\x07", "only whitespace"},
		{"\u200b\u200b\u200b\u200b\ufeff\ufeff\ufeff\ufeff", "only whitespace"},
		{" \t \x7f \u200b \u0085 ", "only whitespace"},
		{"       .", ""},
	} {
		err := domain.ValidatePassword(c.password)
		switch {
		case c.refusal == "" && err != nil:
			t.Errorf("%q refused: %v", c.password, err)
		case c.refusal != "" && (err == nil || !strings.Contains(domain.ErrorMessage(err), c.refusal)):
			t.Errorf("%q: %v, want a refusal mentioning %q", c.password, err, c.refusal)
		}
	}
}
