package sanitize

import (
	"strings"
	"testing"
)

func BenchmarkCSSWorstSelector(b *testing.B) {
	in := strings.Repeat("a ", MaxLen/2) + "{}"
	for b.Loop() {
		CSS(in)
	}
}
