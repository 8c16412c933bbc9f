package badge_test

import (
	"bytes"
	"encoding/xml"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/medialuna/medialuna/adapters/statushtml/badge"
)

// svg is what the tests read back from a badge.
type svg struct {
	XMLName xml.Name `xml:"svg"`
	Width   string   `xml:"width,attr"`
	Height  string   `xml:"height,attr"`
	Label   string   `xml:"aria-label,attr"`
	Title   string   `xml:"title"`
	Rects   []struct {
		X     string `xml:"x,attr"`
		Width string `xml:"width,attr"`
		Fill  string `xml:"fill,attr"`
	} `xml:"g>rect"`
	Texts []struct {
		Hidden string `xml:"aria-hidden,attr"`
		Text   string `xml:",chardata"`
	} `xml:"g>text"`
}

func parse(t *testing.T, b []byte) svg {
	t.Helper()
	var s svg
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	if err := d.Decode(&s); err != nil {
		t.Fatalf("not valid XML: %v\n%s", err, b)
	}
	// Nothing may follow the root element.
	if _, err := d.Token(); err == nil {
		t.Fatalf("content after </svg>:\n%s", b)
	}
	return s
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return n
}

// visible returns the texts drawn (not the shadows).
func visible(s svg) []string {
	var out []string
	for _, t := range s.Texts {
		if t.Hidden == "" {
			out = append(out, t.Text)
		}
	}
	return out
}

func TestRenderIsAValidBadge(t *testing.T) {
	s := parse(t, badge.Render("status", "operational", "brightgreen"))
	if s.Height != "20" {
		t.Errorf("height = %s, want 20", s.Height)
	}
	if s.Label != "status: operational" || s.Title != "status: operational" {
		t.Errorf("aria-label %q, title %q", s.Label, s.Title)
	}
	// Two coloured parts and the gloss, side by side, filling the width.
	if len(s.Rects) != 3 {
		t.Fatalf("rects = %+v, want label, value, gloss", s.Rects)
	}
	l, v := s.Rects[0], s.Rects[1]
	if l.Fill != "#555" || v.Fill != "#4c1" {
		t.Errorf("fills = %s, %s", l.Fill, v.Fill)
	}
	if atoi(t, v.X) != atoi(t, l.Width) || atoi(t, l.Width)+atoi(t, v.Width) != atoi(t, s.Width) {
		t.Errorf("parts %+v do not tile width %s", s.Rects, s.Width)
	}
	if got := visible(s); len(got) != 2 || got[0] != "status" || got[1] != "operational" {
		t.Errorf("texts = %q", got)
	}
	// In the range of shields.io's own badge for this text (both estimate).
	if w := atoi(t, s.Width); w < 104 || w > 120 {
		t.Errorf("width = %d, want about 112", w)
	}
}

func TestRenderEscapesHostileText(t *testing.T) {
	for _, tc := range []struct{ label, value, wantLabel, wantValue string }{
		{`<script>alert(1)</script>`, `"><svg onload=alert(1)>`, `<script>alert(1)</script>`, `"><svg onload=alert(1)>`},
		{`a & b`, `it's "up"`, `a & b`, `it's "up"`},
		{"]]><x/>", "<!-- c -->", "]]><x/>", "<!-- c -->"},
		{"tab\tand\nnewline\r\n  spaces", "nul\x00 bell\a esc\x1b", "tab and newline spaces", "nul bell esc"},
		{"bidi\u202eevil", "bad utf8 \xff\xfe", "bidievil", "bad utf8"},
		{"&amp; &#60;", "&lt;b&gt;", "&amp; &#60;", "&lt;b&gt;"},
	} {
		out := badge.Render(tc.label, tc.value, "red")
		s := parse(t, out)
		if got := visible(s); len(got) != 2 || got[0] != tc.wantLabel || got[1] != tc.wantValue {
			t.Errorf("Render(%q, %q): texts %q, want %q and %q", tc.label, tc.value, got, tc.wantLabel, tc.wantValue)
		}
		if want := tc.wantLabel + ": " + tc.wantValue; s.Label != want || s.Title != want {
			t.Errorf("aria-label %q / title %q, want %q", s.Label, s.Title, want)
		}
		for _, bad := range []string{"<script", "<svg onload", "<x/>", "<!--", "\x00", "\u202e"} {
			if bytes.Contains(out, []byte(bad)) {
				t.Errorf("Render(%q, %q) holds %q raw:\n%s", tc.label, tc.value, bad, out)
			}
		}
		if !utf8.Valid(out) {
			t.Errorf("Render(%q, %q) is not valid UTF-8", tc.label, tc.value)
		}
	}
}

func TestRenderWidthGrowsWithText(t *testing.T) {
	width := func(label, value string) int {
		return atoi(t, parse(t, badge.Render(label, value, "blue")).Width)
	}
	prev := 0
	for _, v := range []string{"", "u", "up", "up!", "operational", "partial outage", "major outage in eu-west"} {
		w := width("status", v)
		if w <= prev {
			t.Errorf("width(%q) = %d, not more than the shorter value's %d", v, w, prev)
		}
		prev = w
	}
	if width("iiii", "x") >= width("WWWW", "x") {
		t.Error("narrow letters take as much room as wide ones: the width table is not used")
	}
	if width("api", "up") <= width("", "up") {
		t.Error("a label adds no width")
	}
	if badge.Width("m") <= badge.Width("i") || badge.Width("状态") <= badge.Width("ab") {
		t.Error("Width ignores the characters")
	}
	// Long text is cut, so the badge stays bounded.
	long := strings.Repeat("W", 10*badge.MaxRunes)
	s := parse(t, badge.Render(long, long, "red"))
	if got := visible(s)[0]; utf8.RuneCountInString(got) != badge.MaxRunes || !strings.HasSuffix(got, "…") {
		t.Errorf("long label drawn as %d runes", utf8.RuneCountInString(got))
	}
	if w := atoi(t, s.Width); w > 2*(badge.MaxRunes*13+12) {
		t.Errorf("width %d for cut text", w)
	}
}

func TestRenderEmptyLabelDrawsValueOnly(t *testing.T) {
	s := parse(t, badge.Render("  ", "up", "green"))
	if len(s.Rects) != 2 || s.Rects[0].Fill != "#97ca00" || s.Rects[0].Width != s.Width {
		t.Errorf("rects = %+v, want the value part alone and the gloss", s.Rects)
	}
	if s.Label != "up" {
		t.Errorf("aria-label = %q", s.Label)
	}
}

func TestColor(t *testing.T) {
	for in, want := range map[string]string{
		"brightgreen":                 "#4c1",
		"RED":                         "#e05d44",
		" yellow ":                    "#dfb317",
		"lightgray":                   "#9f9f9f",
		"#ABC":                        "#abc",
		"#00ff7f":                     "#00ff7f",
		"":                            badge.Fallback,
		"#12345":                      badge.Fallback,
		"#1234567":                    badge.Fallback,
		"#ggg":                        badge.Fallback,
		"00ff7f":                      badge.Fallback,
		"pink":                        badge.Fallback,
		`red" onload="alert(1)`:       badge.Fallback,
		"url(javascript:alert(1))":    badge.Fallback,
		"rgb(1,2,3)":                  badge.Fallback,
		"#fff\" /><script>x</script>": badge.Fallback,
	} {
		if got := badge.Color(in); got != want {
			t.Errorf("Color(%q) = %q, want %q", in, got, want)
		}
		s := parse(t, badge.Render("a", "b", in))
		if s.Rects[1].Fill != want {
			t.Errorf("Render with %q fills %q, want %q", in, s.Rects[1].Fill, want)
		}
	}
}

func TestRenderIsDeterministic(t *testing.T) {
	a := badge.Render("status", "degraded", "orange")
	b := badge.Render("status", "degraded", "orange")
	if !bytes.Equal(a, b) {
		t.Error("two renders differ")
	}
}
