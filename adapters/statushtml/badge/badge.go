// Package badge draws shields.io-style "flat" SVG badges: a dark-grey label
// on the left, a coloured value on the right, white Verdana 11px text.
//
//	svg := badge.Render("api", "up", "brightgreen")
//
// Text widths are estimated from a per-character table of Verdana's advance
// widths at 11px (no font is read at run time), and each text also carries
// textLength, so a viewer without Verdana squeezes or stretches its fallback
// font to the same width instead of overflowing the badge.
//
// Label and value are user data (a status page's or monitor's name): they
// are XML-escaped, control characters are dropped, runs of whitespace become
// one space, and each is cut to MaxRunes. The colour is either a name from
// namedColors or #rgb / #rrggbb; anything else is drawn in lightgrey, so nothing
// the caller passes can reach an attribute unescaped.
package badge

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxRunes is the longest label or value drawn; longer ones are cut and end
// with "…".
const MaxRunes = 64

// namedColors are the named colours Render accepts (shields.io's names).
var namedColors = map[string]string{
	"brightgreen":   "#4c1",
	"green":         "#97ca00",
	"yellowgreen":   "#a4a61d",
	"yellow":        "#dfb317",
	"orange":        "#fe7d37",
	"red":           "#e05d44",
	"blue":          "#007ec6",
	"grey":          "#555",
	"gray":          "#555",
	"lightgrey":     "#9f9f9f",
	"lightgray":     "#9f9f9f",
	"success":       "#4c1",
	"important":     "#fe7d37",
	"critical":      "#e05d44",
	"informational": "#007ec6",
	"inactive":      "#9f9f9f",
}

// Fallback is the colour of a value whose colour Render does not accept.
const Fallback = "#9f9f9f" // lightgrey

const (
	labelColor = "#555"
	height     = 20
	padding    = 5 // px left and right of each text
	fontFamily = "Verdana,Geneva,DejaVu Sans,sans-serif"
)

// Render returns the SVG of a badge reading "label | value" with the value
// on color. An empty label draws the value alone.
func Render(label, value, color string) []byte {
	label, value = clean(label), clean(value)
	fill := Color(color)

	var parts []part
	if label != "" {
		parts = append(parts, part{text: label, fill: labelColor})
	}
	parts = append(parts, part{text: value, fill: fill})
	x := 0
	for i := range parts {
		p := &parts[i]
		p.textWidth = preferredWidth(p.text)
		p.x = x
		p.width = p.textWidth + 2*padding
		if p.text == "" {
			p.width = 2 * padding
		}
		x += p.width
	}
	total := x

	title := value
	if label != "" {
		title = label + ": " + value
	}

	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" role="img" aria-label="%s">`, total, height, esc(title))
	fmt.Fprintf(&b, `<title>%s</title>`, esc(title))
	b.WriteString(`<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>`)
	fmt.Fprintf(&b, `<clipPath id="r"><rect width="%d" height="%d" rx="3" fill="#fff"/></clipPath>`, total, height)
	b.WriteString(`<g clip-path="url(#r)">`)
	for _, p := range parts {
		fmt.Fprintf(&b, `<rect x="%d" width="%d" height="%d" fill="%s"/>`, p.x, p.width, height, p.fill)
	}
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="url(#s)"/></g>`, total, height)
	fmt.Fprintf(&b, `<g fill="#fff" text-anchor="middle" font-family="%s" text-rendering="geometricPrecision" font-size="110">`, fontFamily)
	for _, p := range parts {
		if p.text == "" {
			continue
		}
		textFill, shadowFill := "#fff", "#010101"
		if light(p.fill) {
			textFill, shadowFill = "#333", "#ccc"
		}
		// Drawn at 10x and scaled down, as shields.io does, for
		// sub-pixel positions.
		cx := p.x*10 + p.width*5
		fmt.Fprintf(&b, `<text aria-hidden="true" x="%d" y="150" fill="%s" fill-opacity=".3" transform="scale(.1)" textLength="%d">%s</text>`,
			cx, shadowFill, p.textWidth*10, esc(p.text))
		fmt.Fprintf(&b, `<text x="%d" y="140" transform="scale(.1)" fill="%s" textLength="%d">%s</text>`,
			cx, textFill, p.textWidth*10, esc(p.text))
	}
	b.WriteString(`</g></svg>`)
	return b.Bytes()
}

type part struct {
	text      string
	fill      string
	x, width  int
	textWidth int
}

// Color returns the fill for a colour name or #hex, or Fallback.
func Color(c string) string {
	c = strings.TrimSpace(c)
	if v, ok := namedColors[strings.ToLower(c)]; ok {
		return v
	}
	if h, ok := strings.CutPrefix(c, "#"); ok && (len(h) == 3 || len(h) == 6) {
		for _, r := range h {
			if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
				return Fallback
			}
		}
		return "#" + strings.ToLower(h)
	}
	return Fallback
}

// light reports whether a #hex fill is bright enough to need dark text
// (shields.io's threshold on the YIQ brightness).
func light(fill string) bool {
	h := strings.TrimPrefix(fill, "#")
	if len(h) == 3 {
		h = string([]byte{h[0], h[0], h[1], h[1], h[2], h[2]})
	}
	var r, g, bl int
	if _, err := fmt.Sscanf(h, "%02x%02x%02x", &r, &g, &bl); err != nil {
		return false
	}
	return float64(r*299+g*587+bl*114)/255000 >= 0.69
}

// clean drops control and invalid characters, folds whitespace to single
// spaces, trims, and cuts to MaxRunes.
func clean(s string) string {
	var b strings.Builder
	space := false
	n := 0
	for _, r := range strings.TrimSpace(s) {
		switch {
		case r == utf8.RuneError || r == '\uFFFE' || r == '\uFFFF':
			continue
		case unicode.IsSpace(r):
			space = true
			continue
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			continue // includes bidi overrides
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
			n++
		}
		space = false
		if n == MaxRunes-1 {
			b.WriteRune('…')
			break
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // never fails on a strings.Builder
	return b.String()
}

// Width returns the estimated width of s in Verdana 11px, in pixels.
func Width(s string) float64 {
	units := 0
	for _, r := range s {
		units += advance(r)
	}
	return float64(units) * 11 / 2048
}

// preferredWidth rounds Width up to an odd number of pixels, which centres
// the text on a whole pixel.
func preferredWidth(s string) int {
	w := int(math.Ceil(Width(s)))
	if w%2 == 0 {
		w++
	}
	return w
}

// advance is Verdana's advance width of r in font units (2048 to the em).
// Printable ASCII comes from the table; other characters are estimated:
// wide East Asian characters a full em, combining marks nothing, the rest
// as wide as "o".
func advance(r rune) int {
	switch {
	case r >= 0x20 && r < 0x7F:
		return asciiAdvance[r-0x20]
	case unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r):
		return 0
	case wide(r):
		return 2048
	}
	return 1243
}

func wide(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul) ||
		(r >= 0xFF00 && r <= 0xFF60) || (r >= 0x1F300 && r <= 0x1FAFF)
}

// asciiAdvance holds Verdana's advance widths for U+0020 to U+007E.
var asciiAdvance = [95]int{
	// space ! " # $ % & ' ( ) * + , - . /
	720, 817, 1015, 1831, 1303, 2212, 1481, 555, 909, 909, 1303, 1831, 745, 862, 745, 1294,
	// 0-9
	1303, 1303, 1303, 1303, 1303, 1303, 1303, 1303, 1303, 1303,
	// : ; < = > ? @
	909, 909, 1831, 1831, 1831, 1117, 2048,
	// A-Z
	1401, 1405, 1430, 1577, 1294, 1178, 1587, 1540, 862, 941, 1415, 1141, 1730,
	1532, 1612, 1235, 1612, 1424, 1400, 1254, 1499, 1401, 2025, 1403, 1256, 1400,
	// [ \ ] ^ _ `
	909, 1294, 909, 1831, 1303, 1303,
	// a-z
	1229, 1276, 1067, 1276, 1220, 720, 1276, 1296, 562, 677, 1198, 562, 1992,
	1296, 1243, 1276, 1276, 874, 1067, 807, 1296, 1198, 1665, 1198, 1198, 1051,
	// { | } ~
	1300, 909, 1300, 1831,
}
