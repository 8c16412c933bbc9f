package importfile

import (
	"os"
	"testing"
)

// FuzzParse: no file makes a parser panic, and every entry it returns
// either has a reason to be refused or a config to judge.
func FuzzParse(f *testing.F) {
	gatus, _ := os.ReadFile("testdata/gatus-config.yaml")
	f.Add(0, gatus)
	f.Add(0, []byte("endpoints:\n  - name: a\n    url: tcp://h:1\n    conditions: [\"[STATUS] == any(1,\"]\nexternal-endpoints:\n  - name: x\n"))
	f.Add(1, []byte(`[{"name":"a","type":"HTTP","url":"https://x","tags":["t"]}, 3, null]`))
	f.Add(2, []byte("name,type,url,tags\na,HTTP,https://x,t;u\n\"b\n"))
	f.Fuzz(func(t *testing.T, kind int, data []byte) {
		format := Formats()[(kind%3+3)%3]
		entries, err := Parse(format, data)
		if err != nil {
			return
		}
		for _, e := range entries {
			if e.Refused == "" && e.Config.RequestHeaders == nil {
				t.Fatalf("an entry without its defaults: %+v", e)
			}
		}
	})
}
