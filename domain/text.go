package domain

import (
	"unicode/utf8"
)

// TextKind says which characters a string field may hold.
type TextKind int

const (
	// SingleLine is a name, title, address or identifier: no control
	// characters at all (C0, DEL and C1), so it prints on one line and
	// sorts, searches and renders as written.
	SingleLine TextKind = iota
	// MultiLine is prose or a payload a person writes (a description, a
	// comment, a request body, custom CSS): tabs and line breaks are its
	// own, other control characters are not.
	MultiLine
	// HeaderValue is an HTTP header value: a tab is allowed, line breaks
	// and other control characters would split or corrupt the header.
	HeaderValue
)

// Text problems, as the 422 body's type names them.
const (
	TextNUL     = "string_nul"
	TextControl = "string_control_character"
	TextUTF8    = "string_unicode"
)

// CheckText reports what is wrong with s for a field of kind, as a
// validation type (TextNUL, TextControl, TextUTF8) and a message, or "" when
// s may be stored. No field may hold U+0000 (no PostgreSQL text can) or
// invalid UTF-8.
func CheckText(s string, kind TextKind) (problem, message string) {
	if !utf8.ValidString(s) {
		return TextUTF8, "must be valid UTF-8"
	}
	for _, r := range s {
		switch {
		case r == 0:
			return TextNUL, "must not contain the NUL character (U+0000)"
		case r == '\t' && kind != SingleLine:
		case (r == '\n' || r == '\r') && kind == MultiLine:
		case r < 0x20 || r == 0x7f:
			return TextControl, "must not contain control characters such as U+" + hex4(r)
		case r >= 0x80 && r <= 0x9f && kind != MultiLine:
			return TextControl, "must not contain control characters such as U+" + hex4(r)
		}
	}
	return "", ""
}

func hex4(r rune) string {
	const digits = "0123456789ABCDEF"
	return string([]byte{digits[r>>12&0xf], digits[r>>8&0xf], digits[r>>4&0xf], digits[r&0xf]})
}

// Truncate cuts s to at most max characters (runes), never inside one,
// ending a cut with mark, which counts toward max ("…", or "..." where the
// ellipsis character would cost more, as in SMS). A max too small for the
// mark cuts without it. Limits that count characters (Slack, PagerDuty,
// Telegram, SMS) use it.
func Truncate(s string, max int, mark string) string {
	if max < 0 {
		max = 0
	}
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	keep := max - utf8.RuneCountInString(mark)
	if keep < 0 {
		keep, mark = max, ""
	}
	n := 0
	for i := range s {
		if n == keep {
			return s[:i] + mark
		}
		n++
	}
	return s // not reached: s has more than max runes, and keep ≤ max
}

// TruncateBytes cuts s to at most max bytes, never inside a UTF-8
// character, ending a cut with mark, which counts toward max. A max too
// small for the mark cuts without it. Limits that count bytes (a check's
// stored detail) use it.
func TruncateBytes(s string, max int, mark string) string {
	if max < 0 {
		max = 0
	}
	if len(s) <= max {
		return s
	}
	cut := max - len(mark)
	if cut < 0 {
		cut, mark = max, ""
	}
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}
