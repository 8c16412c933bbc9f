package domain

import (
	"slices"
	"strings"
	"testing"
)

func TestStatusCodesRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		codes []int
		text  string
	}{
		{nil, "200-299"},
		{DefaultStatusCodes(), "200-299"},
		{[]int{204, 200, 200}, "200, 204"},
		{[]int{200, 201, 202, 301, 302, 404}, "200-202, 301-302, 404"},
	} {
		if got := FormatStatusCodes(tc.codes); got != tc.text {
			t.Errorf("FormatStatusCodes(%v) = %q, want %q", tc.codes, got, tc.text)
		}
	}
	if got, ok := ParseStatusCodes("200-202, 301 404"); !ok || !slices.Equal(got, []int{200, 201, 202, 301, 404}) {
		t.Errorf("ParseStatusCodes: %v %v", got, ok)
	}
	// Repeated ranges expand to each code once; a range outside the
	// codes HTTP has is refused (each would otherwise add 500 codes).
	if got, ok := ParseStatusCodes(strings.Repeat("100-599, ", 10000) + "200"); !ok || len(got) != 500 {
		t.Errorf("repeated ranges: %d codes, %v", len(got), ok)
	}
	if got, ok := ParseStatusCodes("200, 700"); !ok || !slices.Equal(got, []int{200, 700}) {
		t.Errorf("a single code outside HTTP's is kept for Validate to name: %v %v", got, ok)
	}
	for _, bad := range []string{"ok", "299-200", "200-", "100-999", "1000-1499", "0-99"} {
		if _, ok := ParseStatusCodes(bad); ok {
			t.Errorf("ParseStatusCodes(%q) accepted", bad)
		}
	}
	if len(DefaultStatusCodes()) != 100 {
		t.Error("the default is 200 to 299")
	}
}
