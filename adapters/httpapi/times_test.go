package httpapi

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestNormalizeTimes: body times in the accepted forms become RFC 3339 in
// UTC, other fields keep their exact text (large numbers, nested objects),
// a body that is not an object is left alone, and a time whose UTC year
// RFC 3339 cannot write is refused naming its field instead of turning
// into null.
func TestNormalizeTimes(t *testing.T) {
	out, err := normalizeTimes([]byte(`{"start_time":"2027-02-01","n":12345678901234567890,"o":{"end_time":"x"}}`))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	if string(got["start_time"]) != `"2027-02-01T00:00:00Z"` || string(got["n"]) != `12345678901234567890` || string(got["o"]) != `{"end_time":"x"}` {
		t.Errorf("rewritten as %s", out)
	}
	if out, err := normalizeTimes([]byte(`[{"start_time":"2027-02-01"}]`)); err != nil || string(out) != `[{"start_time":"2027-02-01"}]` {
		t.Errorf("an array: %s, %v", out, err)
	}
	for _, bad := range []string{"9999-12-31T23:00:00-23:00", "0000-01-01T00:00:00+01:00", "next Tuesday"} {
		out, err := normalizeTimes([]byte(`{"expires_at":"` + bad + `"}`))
		if err == nil || !strings.Contains(err.Error(), "(expires_at:") {
			t.Errorf("%s: %s, %v", bad, out, err)
		}
	}
}
