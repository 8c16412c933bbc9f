package domain_test

import (
	"testing"
	"unicode/utf8"

	"github.com/medialuna/medialuna/domain"
)

func TestCheckText(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    string
		kind domain.TextKind
		want string
	}{
		{"plain name", "Checkout API — prod ✓", domain.SingleLine, ""},
		{"NUL in a name", "a\x00b", domain.SingleLine, domain.TextNUL},
		{"NUL in a request body", "a\x00b", domain.MultiLine, domain.TextNUL},
		{"NUL in a header value", "a\x00b", domain.HeaderValue, domain.TextNUL},
		{"invalid UTF-8", "a\xffb", domain.MultiLine, domain.TextUTF8},
		{"truncated sequence", "caf\xc3", domain.SingleLine, domain.TextUTF8},
		{"newline in a name", "a\nb", domain.SingleLine, domain.TextControl},
		{"tab in a name", "a\tb", domain.SingleLine, domain.TextControl},
		{"escape in a name", "a\x1b[31mred", domain.SingleLine, domain.TextControl},
		{"DEL in a name", "a\x7f", domain.SingleLine, domain.TextControl},
		{"C1 in a name", "a\u0085b", domain.SingleLine, domain.TextControl},
		{"lines in a description", "line one\r\nline two\tindented", domain.MultiLine, ""},
		{"bell in a description", "ding\x07", domain.MultiLine, domain.TextControl},
		{"C1 in a request body", "a\u0085b", domain.MultiLine, ""},
		{"tab in a header value", "a\tb", domain.HeaderValue, ""},
		{"line break in a header value", "a\r\nX-Injected: 1", domain.HeaderValue, domain.TextControl},
		{"empty", "", domain.SingleLine, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, msg := domain.CheckText(tc.s, tc.kind)
			if got != tc.want {
				t.Errorf("CheckText(%q) = %q (%s), want %q", tc.s, got, msg, tc.want)
			}
			if (got == "") != (msg == "") {
				t.Errorf("problem %q with message %q", got, msg)
			}
		})
	}
}

func TestCheckOutcomeStorable(t *testing.T) {
	o := domain.CheckOutcome{Error: "refused\x00 by \xff peer", Detail: "SSH-2.0-banner\r\n", StatusCode: 500}
	got := o.Storable()
	if got.Error != "refused\uFFFD by \uFFFD peer" || got.Detail != "SSH-2.0-banner\r\n" || got.StatusCode != 500 {
		t.Errorf("Storable() = %+v", got)
	}
}

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		s    string
		max  int
		mark string
		want string
	}{
		{"short", 10, "...", "short"},
		{"exactly10!", 10, "...", "exactly10!"},
		{"a longer text", 10, "...", "a longe..."},
		{"a longer text", 10, "…", "a longer …"},
		{"a longer text", 10, "", "a longer t"},
		{"ééééééé", 5, "...", "éé..."}, // characters, not bytes
		{"日本語のテキスト", 4, "…", "日本語…"},
		{"👍👍👍👍", 3, "", "👍👍👍"},
		{"abcdef", 2, "...", "ab"}, // no room for the mark
		{"abcdef", 0, "...", ""},
		{"", 0, "...", ""},
		{"abc", -1, "", ""},
	} {
		got := domain.Truncate(tc.s, tc.max, tc.mark)
		if got != tc.want {
			t.Errorf("Truncate(%q, %d, %q) = %q, want %q", tc.s, tc.max, tc.mark, got, tc.want)
		}
		if n := utf8.RuneCountInString(got); n > max(tc.max, 0) || !utf8.ValidString(got) {
			t.Errorf("Truncate(%q, %d, %q) = %q: %d characters, valid %v", tc.s, tc.max, tc.mark, got, n, utf8.ValidString(got))
		}
	}
}

func TestTruncateBytes(t *testing.T) {
	for _, tc := range []struct {
		s    string
		max  int
		mark string
		want string
	}{
		{"short", 10, "…", "short"},
		{"exactly10!", 10, "…", "exactly10!"},
		{"a longer text", 10, "…", "a longe…"}, // "…" is 3 bytes
		{"ééééé", 8, "…", "éé…"},
		{"ééééé", 5, "", "éé"}, // never half an é
		{"aé", 2, "", "a"},
		{"€€", 4, "", "€"},
		{"👍👍", 7, "", "👍"},
		{"abcdef", 2, "...", "ab"}, // no room for the mark
		{"abc", 0, "", ""},
		{"abc", -1, "", ""},
	} {
		got := domain.TruncateBytes(tc.s, tc.max, tc.mark)
		if got != tc.want {
			t.Errorf("TruncateBytes(%q, %d, %q) = %q, want %q", tc.s, tc.max, tc.mark, got, tc.want)
		}
		if len(got) > max(tc.max, 0) || !utf8.ValidString(got) {
			t.Errorf("TruncateBytes(%q, %d, %q) = %q: %d bytes, valid %v", tc.s, tc.max, tc.mark, got, len(got), utf8.ValidString(got))
		}
	}
}
