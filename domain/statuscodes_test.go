package domain

import (
	"slices"
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
	for _, bad := range []string{"ok", "299-200", "200-", "100-999"} {
		if _, ok := ParseStatusCodes(bad); ok {
			t.Errorf("ParseStatusCodes(%q) accepted", bad)
		}
	}
	if len(DefaultStatusCodes()) != 100 {
		t.Error("the default is 200 to 299")
	}
}
