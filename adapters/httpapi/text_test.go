package httpapi

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestBodyNestingIsBounded(t *testing.T) {
	ok := strings.Repeat("[", maxBodyDepth) + strings.Repeat("]", maxBodyDepth)
	if err := checkBodyText([]byte(ok)); err != nil {
		t.Errorf("%d levels: %v", maxBodyDepth, err)
	}
	deep := strings.Repeat(`{"a":`, maxBodyDepth+1) + "1" + strings.Repeat("}", maxBodyDepth+1)
	var reqErr *requestError
	if err := checkBodyText([]byte(deep)); !errors.As(err, &reqErr) || reqErr.status != 400 {
		t.Errorf("%d levels: %v, want a 400", maxBodyDepth+1, err)
	}
}

func TestBodyTextLocNamesNestedPlaces(t *testing.T) {
	err := checkBodyText([]byte(`{"ok":"x","conditions":[{"value":"fine"},{"value":"a\u0000"}],"request_headers":{"X-A":"b\r\n"}}`))
	var textErr *bodyTextError
	if !errors.As(err, &textErr) || len(textErr.items) != 2 {
		t.Fatalf("err %v, want two problems", err)
	}
	for i, want := range []string{"[body conditions 1 value]", "[body request_headers X-A]"} {
		if got := fmt.Sprint(textErr.items[i].Loc); got != want {
			t.Errorf("problem %d at %s, want %s", i, got, want)
		}
	}
}

// BenchmarkCheckBodyText walks 1 MiB bodies of the shapes that cost a
// naive walker most: wide arrays, many keys, and nesting at the limit. The
// cost must follow the body's size (a few milliseconds a MiB), whatever its
// shape.
func BenchmarkCheckBodyText(b *testing.B) {
	wide := "[" + strings.Repeat("12345,", 1<<20/6) + "1]"
	var keys strings.Builder
	keys.WriteString("{")
	for i := 0; keys.Len() < 1<<20; i++ {
		if i > 0 {
			keys.WriteString(",")
		}
		keys.WriteString(`"k` + strings.Repeat("x", 8) + string(rune('a'+i%26)) + `":"value"`)
	}
	keys.WriteString("}")
	nested := strings.Repeat("[", maxBodyDepth-1) + "[" + strings.Repeat(`"s",`, (1<<20)/4) + `"s"]` + strings.Repeat("]", maxBodyDepth-1)
	for _, c := range []struct{ name, body string }{{"wide_array", wide}, {"many_keys", keys.String()}, {"deep_and_wide", nested}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.body)))
			for b.Loop() {
				if err := checkBodyText([]byte(c.body)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
