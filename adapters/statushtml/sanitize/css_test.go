package sanitize

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// Benign stylesheets come back normalised (comments gone, whitespace
// collapsed, one rule per line) with the same meaning.
func TestCSSKeepsBenignCSS(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"simple rule", `body { color: #333; background: white }`, `body{color:#333;background:white}`},
		{"selectors and combinators",
			`.monitor > .name, ul li + li ~ p, a:hover, a::before, #main .x[data-state="up"] { margin: 0 auto }`,
			`.monitor > .name, ul li + li ~ p, a:hover, a::before, #main .x[data-state="up"]{margin:0 auto}`},
		{"attribute operators", `a[href^="https"], a[class~=x i], a[lang|=en], [title$='.pdf'], [x*=y] {}`,
			`a[href^="https"], a[class~=x i], a[lang|=en], [title$=".pdf"], [x*=y]{}`},
		{"selector functions", `li:nth-child(2n+1), li:nth-child(2n-1), p:not(.a, .b), div:has(> img), :is(h1,h2):where(.x), li:nth-of-type(odd) { color: red }`,
			`li:nth-child(2n +1), li:nth-child(2n-1), p:not(.a, .b), div:has(> img), :is(h1,h2):where(.x), li:nth-of-type(odd){color:red}`},
		{"font stack and important", `h1 { font: italic bold 12px/30px Georgia, "Times New Roman", serif !important; }`,
			`h1{font:italic bold 12px/30px Georgia, "Times New Roman", serif !important}`},
		{"colours", `a { color: rgb(10 20 30 / 50%); border-color: hsl(120deg 100% 25%); outline-color: #ABCDEF80; accent-color: oklch(70% 0.1 200) }`,
			`a{color:rgb(10 20 30 / 50%);border-color:hsl(120deg 100% 25%);outline-color:#ABCDEF80;accent-color:oklch(70% 0.1 200)}`},
		{"gradient and calc", `.bar { background: linear-gradient(90deg, #0a0 0%, #0c0 100%); width: calc(100% - 2 * 1.5rem) }`,
			`.bar{background:linear-gradient(90deg, #0a0 0%, #0c0 100%);width:calc(100% - 2 * 1.5rem)}`},
		{"custom properties", `:root { --Brand-Color: #1e90ff; --gap: 4px } a { color: var(--Brand-Color, blue) }`,
			":root{--Brand-Color:#1e90ff;--gap:4px}\na{color:var(--Brand-Color, blue)}"},
		{"transform and transition", `.x { transform: translateX(-50%) rotate(45deg) scale(1.1); transition: opacity .3s cubic-bezier(.4,0,.2,1) }`,
			`.x{transform:translatex(-50%) rotate(45deg) scale(1.1);transition:opacity .3s cubic-bezier(.4,0,.2,1)}`},
		{"grid", `.g { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); grid-template-areas: "a b" "c d"; grid-area: 1 / 2 / 3 }`,
			`.g{display:grid;grid-template-columns:repeat(auto-fill, minmax(200px, 1fr));grid-template-areas:"a b" "c d";grid-area:1 / 2 / 3}`},
		{"content string", `.up::after { content: "\2713  up \"now\""; }`, `.up::after{content:"✓ up \"now\""}`},
		{"media", `@media screen and (max-width: 600px) { .monitor .name { display: none } }`,
			`@media screen and (max-width: 600px){.monitor .name{display:none}}`},
		{"media ranges without <", `@media (width >= 600px), print and (min-aspect-ratio: 16/9) { a { b: c } }`,
			`@media (width >= 600px), print and (min-aspect-ratio: 16/9){a{b:c}}`},
		{"supports", `@supports (display: grid) and (not (display: inline-grid)) { .g { display: grid } }`,
			`@supports (display: grid) and (not (display: inline-grid)){.g{display:grid}}`},
		{"keyframes", `@keyframes pulse { from { opacity: 1 } 50% { opacity: .5 } to { opacity: 1 } } .dot { animation: pulse 2s infinite }`,
			"@keyframes pulse{from{opacity:1}50%{opacity:.5}to{opacity:1}}\n.dot{animation:pulse 2s infinite}"},
		{"scroll behaviour", `html { scroll-behavior: smooth; overscroll-behavior-y: contain }`,
			`html{scroll-behavior:smooth;overscroll-behavior-y:contain}`},
		{"vendor prefix", `.x { -webkit-font-smoothing: antialiased; -moz-osx-font-smoothing: grayscale }`,
			`.x{-webkit-font-smoothing:antialiased;-moz-osx-font-smoothing:grayscale}`},
		{"comments and blank lines", "/* brand */\n\n.a{color:red}/* x */\r\n.b { color : blue ; ; }",
			".a{color:red}\n.b{color:blue}"},
		{"non-ASCII class", `.café { color: red }`, `.café{color:red}`},
		{"escaped class", `.sm\:hidden { display: none }`, `.sm\:hidden{display:none}`},
		{"leading digit class", `.\31 0 { x: y }`, `.\31 0{x:y}`},
		{"empty", ``, ``},
		{"filter", `img { filter: grayscale(100%) drop-shadow(0 0 2px #000) }`, `img{filter:grayscale(100%) drop-shadow(0 0 2px #000)}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := CSS(tc.in)
			if got != tc.want {
				t.Errorf("CSS(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
			if again := CSS(got); again != got {
				t.Errorf("not idempotent: CSS(CSS(x)) = %q", again)
			}
			if !sameTokens(tc.in, got) {
				t.Errorf("meaning changed: tokens of %q and %q differ", tc.in, got)
			}
		})
	}
}

// sameTokens compares two stylesheets' tokens, ignoring whitespace, comments,
// empty declarations and the case of function names.
func sameTokens(a, b string) bool {
	norm := func(s string) []token {
		var out []token
		toks := tokenize(s)
		for i, t := range toks {
			switch t.typ {
			case tSemicolon: // an empty declaration, or the optional last ";"
				j := i + 1
				for toks[j].typ == tWhitespace {
					j++
				}
				if n := toks[j].typ; n == tSemicolon || n == tCloseCurly || n == tEOF {
					continue
				}
			case tWhitespace, tEOF:
				continue
			case tFunction:
				t.value = strings.ToLower(t.value)
			case tString:
				t.value = strings.ReplaceAll(t.value, "  ", " ")
			}
			out = append(out, t)
		}
		return out
	}
	x, y := norm(a), norm(b)
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if x[i] != y[i] {
			return false
		}
	}
	return true
}

// Hostile input: what survives is listed in want (often nothing); the
// forbidden words never do.
func TestCSSRemovesHostileCSS(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"close style element", `</style><script>alert(1)</script>`, ``},
		{"close style inside rule", `a { color: red } </style><script>alert(1)</script> b { color: blue }`, `a{color:red}`},
		{"lt in string", `a { content: "</style><script>alert(1)</script>" } b{c:d}`, "a{}\nb{c:d}"},
		{"escaped lt in string", `a { content: "\3c/style>" }`, `a{}`},
		{"escaped lt in ident", `a { font-family: \3c script }`, `a{}`},
		{"lt delim in selector", `a<b { x: y } c{d:e}`, `c{d:e}`},
		{"CDO CDC", `<!-- a { color: red } -->`, `a{color:red}`},
		{"expression", `a { width: expression(alert(1)) ; color: red }`, `a{color:red}`},
		{"expression hex escape", `a { width: \65 xpression(alert(1)) }`, `a{}`},
		{"expression char escape", `a { width: e\x\p\r\e\s\s\i\o\n(alert(1)) }`, `a{}`},
		{"expression comment split", `a { width: ex/**/pression(alert(1)) }`, `a{}`},
		{"expression upper case", `a { width: EXPRESSION(alert(1)) }`, `a{}`},
		{"expression as ident", `a { font-family: expression }`, `a{}`},
		{"javascript url", `a { background: url(javascript:alert(1)) }`, `a{}`},
		{"javascript quoted url", `a { background: url("javascript:alert(1)") }`, `a{}`},
		{"javascript escaped url", `a { background: \75 rl(javascript:alert(1)) }`, `a{}`},
		{"javascript in string", `a { content: "javascript:alert(1)" }`, `a{}`},
		{"javascript escaped in string", `a { content: "j\61vascript:x" }`, `a{}`},
		{"vbscript", `a { background: url(vbscript:msgbox) }`, `a{}`},
		{"https url dropped too", `body { background: url(https://example.com/bg.png) no-repeat; color: red }`, `body{color:red}`},
		{"url with spaces", `a { background: url( 'x.png' ) }`, `a{}`},
		{"bad url", `a { background: url(x y); color: red }`, `a{color:red}`},
		{"image-set string loads", `a { background-image: image-set("https://example.com/x.png" 1x) }`, `a{}`},
		{"webkit image-set", `a { background-image: -webkit-image-set("x.png" 1x) }`, `a{}`},
		{"cross-fade", `a { background: cross-fade(url(a.png), url(b.png), 50%) }`, `a{}`},
		{"element()", `a { background: element(#secret) }`, `a{}`},
		{"attr()", `a::after { content: attr(data-token) }`, `a::after{}`},
		{"behavior", `a { behavior: url(x.htc); color: red }`, `a{color:red}`},
		{"behavior escaped", `a { beh\61vior: url(x.htc) }`, `a{}`},
		{"ms behavior", `a { -ms-behavior: x }`, `a{}`},
		{"moz binding", `a { -moz-binding: url("http://x/xbl.xml#xss") }`, `a{}`},
		{"moz binding escaped", `a { -moz-b\69 nding: x }`, `a{}`},
		{"import", `@import url(https://evil.example/x.css); a { color: red }`, `a{color:red}`},
		{"import string", `@import "evil.css"; a{b:c}`, `a{b:c}`},
		{"import escaped", `@\69mport "evil.css"; a{b:c}`, `a{b:c}`},
		{"import comment split", `@im/**/port "x.css"; a{b:c}`, `a{b:c}`},
		{"charset", `@charset "UTF-7"; a{b:c}`, `a{b:c}`},
		{"namespace", `@namespace svg url(http://www.w3.org/2000/svg); a{b:c}`, `a{b:c}`},
		{"font-face", `@font-face { font-family: x; src: url(https://evil.example/f.woff) } a{b:c}`, `a{b:c}`},
		{"page", `@page { margin: 0 } a{b:c}`, `a{b:c}`},
		{"moz document", `@-moz-document url-prefix() { a { b: c } } d{e:f}`, `d{e:f}`},
		{"layer", `@layer x { a { b: c } } d{e:f}`, `d{e:f}`},
		{"media with lt", `@media (width < 600px) { a { b: c } }`, ``},
		{"media with url", `@media url(x) { a { b: c } }`, ``},
		{"import inside media", `@media screen { @import "x.css"; a { b: c } }`, `@media screen{a{b:c}}`},
		{"keyframes holding at-rule", `@keyframes k { @import "x"; from { a: b } }`, `@keyframes k{from{a:b}}`},
		{"nested rule in declarations", `a { color: red; b { background: url(x) } margin: 0 }`, `a{color:red;margin:0}`},
		{"declaration smuggling brace", `a { color: red; } } b { c: d }`, `a{color:red}`},
		{"unterminated block", `a { color: red`, `a{color:red}`},
		{"rule without block", `a b c`, ``},
		{"bad string", "a { content: \"abc\n; color: red } b{c:d}", "a{color:red}\nb{c:d}"},
		{"property with colon in value (IE filter)", `a { filter: progid:DXImageTransform.Microsoft.Alpha(opacity=50) }`, `a{}`},
		{"nul byte", "a { color: r\x00ed }", `a{}`},
		{"control in ident", `a { font-family: \1 x }`, `a{}`},
		{"curly in value", `a { --x: { color: red } }`, `a{}`},
		{"at-keyword in value", `a { b: @import }`, `a{}`},
		{"script tag with entity", `a { content: "&lt;script&gt;" }`, `a{content:"&lt;script&gt;"}`},
		{"selector spelling javascript:", `javascript:hover { a: b }`, ``},
		{"property named javascript", `a { javascript: x }`, `a{}`},
		{"backslash delim", "a { b: \\\n }", `a{}`},
		{"escaped space is an ident", `a { b: \ }`, `a{b:\ }`},
		{"deep nesting", strings.Repeat("(", 5000) + strings.Repeat(")", 5000), ``},
		{"deep functions", `a { width: ` + strings.Repeat("calc(", 100) + "1px" + strings.Repeat(")", 100) + `; color: red }`, `a{color:red}`},
		{"deep media", strings.Repeat("@media screen{", 6) + "a{b:c}" + strings.Repeat("}", 6), ``},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := CSS(tc.in)
			if got != tc.want {
				t.Errorf("CSS(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
			assertSafe(t, tc.in, got)
		})
	}
}

func TestCSSLengthCap(t *testing.T) {
	rule := ".monitor-name { color: #123456; margin: 0 auto }\n"
	in := strings.Repeat(rule, 2*MaxLen/len(rule))
	got := CSS(in)
	if len(got) > MaxLen {
		t.Fatalf("output is %d bytes, over MaxLen %d", len(got), MaxLen)
	}
	if n := strings.Count(got, "\n") + 1; n < 300 {
		t.Errorf("kept %d rules of a long benign stylesheet, want the first ~%d", n, MaxLen/len(rule))
	}
	if !strings.HasSuffix(got, "}") {
		t.Errorf("the last rule kept is not whole: %q", got[len(got)-40:])
	}
	// A multi-byte character on the cut does not leave invalid UTF-8.
	in = strings.Repeat("é", MaxLen)
	if got := CSS("a{content:\"" + in + "\"}"); !utf8.ValidString(got) {
		t.Error("invalid UTF-8 in the output")
	}
}

// assertSafe is the property every output has, whatever the input.
func assertSafe(t *testing.T, in, out string) {
	t.Helper()
	u := strings.ToLower(unescape(out))
	for _, f := range []string{"<", "expression", "javascript:", "vbscript:", "@import", "@charset", "-moz-binding", "url(", "</style"} {
		if strings.Contains(u, f) || strings.Contains(strings.ToLower(out), f) {
			t.Fatalf("CSS(%q) = %q contains %q", in, out, f)
		}
	}
	if outsideStrings(out, "/*") {
		t.Fatalf("CSS(%q) = %q contains a comment", in, out)
	}
	if len(out) > MaxLen {
		t.Fatalf("CSS(%q) is %d bytes", in, len(out))
	}
	if !utf8.ValidString(out) {
		t.Fatalf("CSS(%q) = %q is not valid UTF-8", in, out)
	}
	if strings.ContainsRune(out, 0) {
		t.Fatalf("CSS(%q) = %q holds NUL", in, out)
	}
}

func FuzzCSS(f *testing.F) {
	for _, s := range []string{
		`a{color:red}`,
		`</style><script>alert(1)</script>`,
		`a{width:\65 xpression(alert(1))}`,
		`a{width:ex/**/pression(1)}`,
		`a{background:url(javascript:alert(1))}`,
		`@import "x.css";`,
		`@media (max-width:600px){a{b:c}}`,
		`a{content:"\3c/style>"}`,
		`li:nth-child(2n-1){x:1e3em}`,
		`a{b:1e/**/+/**/5}`,
		`.x{transform:translateX(-50%)}`,
		`a{--x:calc(1px/**/*2)}`,
		"a{b:\"\\\n\"}",
		`@keyframes k{from{a:b}}`,
		`@supports (display:grid){a{b:c}}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := CSS(in)
		assertSafe(t, in, out)
		if again := CSS(out); again != out {
			t.Fatalf("not idempotent:\n in  %q\n out %q\n again %q", in, out, again)
		}
	})
}

// outsideStrings reports whether sub occurs in css outside its strings.
func outsideStrings(css, sub string) bool {
	var quote byte
	for i := 0; i < len(css); i++ {
		c := css[i]
		switch {
		case quote != 0 && c == '\\':
			i++
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
		case c == '"' || c == '\'':
			quote = c
		case c == '\\':
			i++
		case strings.HasPrefix(css[i:], sub):
			return true
		}
	}
	return false
}
