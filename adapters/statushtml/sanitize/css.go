// Package sanitize makes user-supplied custom CSS for a status page safe to
// put inside the page's <style> element.
//
// CSS(in) tokenizes the input the way a browser does (CSS Syntax Level 3:
// escapes decoded, comments dropped), parses it into rules and declarations,
// and rebuilds the stylesheet from what an allow-list accepts. Everything
// else is dropped, never repaired: deny by default.
//
// What survives:
//   - style rules whose selectors use type, class, id, attribute and
//     pseudo-class/element selectors, combinators (space > + ~), and the
//     functions :not :is :where :has :nth-*() :lang :dir;
//   - declarations `name: value [!important]` with a plain property name (or a
//     custom property --x) whose value holds only idents, numbers,
//     percentages, dimensions with a letters-only unit, hex colours, strings,
//     commas, / + - * !, parentheses and brackets, and functions from an
//     allow-list (colours, calc/min/max/clamp, var, gradients, transforms,
//     filters, timing functions, grid helpers, counters, basic shapes);
//   - @media (without the range syntax that needs "<"), @supports and
//     @keyframes, holding the rules above, nested at most 4 deep.
//
// What goes, with the whole declaration, rule or at-rule that holds it:
//   - url() in every form, and every function that can load a resource
//     (image-set, image, cross-fade, element, src, paint, ...). Decision: the
//     custom CSS of a status page loads nothing, not even from https:. A
//     status page makes no request off its own origin (no tracking pixel, no
//     CSS keylogger through attribute selectors plus background images), and
//     a stylesheet without URLs is simple to check. Images belong in the
//     page's own settings (its logo), not in custom CSS;
//   - expression(), javascript:, vbscript:, behavior, -moz-binding (and any
//     property named like binding/behavior other than the scroll ones),
//     @import, @charset, @namespace, @font-face, @page, @document, @layer and
//     every other at-rule not named above;
//   - "<" anywhere, so `</style` can never close the element; CDO/CDC (<!--
//     -->); bad strings and bad URLs; rules nested inside declaration blocks;
//   - anything that, after CSS escapes are decoded, spells one of the words
//     above, such as `\65 xpression`, `e\x pression` or `j\61vascript:`.
//     Comments that split a keyword (`ex/**/pression`) leave two words, which
//     are written back with a space between them.
//
// Layout stays the page owner's choice: position, z-index, display, content
// strings and the like are allowed, so custom CSS can restyle or hide parts
// of its own status page, but cannot run script, load anything or leave the
// <style> element.
//
// Input beyond MaxLen bytes is cut off before parsing (a rule cut in half is
// dropped), and the output is never longer than MaxLen either.
//
// The output is normalised: comments removed, whitespace collapsed, one rule
// per line, function and property names in lower case (custom properties
// keep their case). Benign CSS keeps its meaning. The output contains no
// "<", so it is safe inside <style>...</style> (as html/template's
// template.CSS) and CSS(CSS(x)) == CSS(x).
package sanitize

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxLen is the largest input read, and the largest output written, in bytes.
const MaxLen = 20 << 10

// maxDepth bounds the nesting of at-rules (@media inside @supports ...) and
// of blocks and functions inside one rule.
const (
	maxRuleDepth  = 4
	maxBlockDepth = 32
)

// CSS returns the part of the user's stylesheet in that is safe to serve;
// see the package documentation for what that is.
func CSS(in string) string {
	if len(in) > MaxLen {
		cut := MaxLen
		for cut > 0 && !utf8.RuneStart(in[cut]) {
			cut--
		}
		in = in[:cut]
	}
	p := &parser{toks: tokenize(in)}
	nodes := p.values(0, tEOF)
	var out strings.Builder
	for _, r := range parseRules(nodes, true) {
		s, ok := rule(r, 0)
		if !ok || hostile(s) {
			continue
		}
		if out.Len()+len(s)+1 > MaxLen {
			break
		}
		if out.Len() > 0 {
			out.WriteByte('\n')
		}
		out.WriteString(s)
	}
	if hostile(out.String()) { // cannot happen: every rule was checked
		return ""
	}
	return out.String()
}

// ---- parsing into component values (§5.4.7) ----

type nodeKind int

const (
	nToken nodeKind = iota
	nBlock          // tok is the opening token: ( [ {
	nFunc           // tok is the function token
)

type node struct {
	kind   nodeKind
	tok    token
	kids   []node
	broken bool // nested too deep: never valid
}

type parser struct {
	toks []token
	pos  int
}

// values consumes component values up to the closing token close (or EOF).
func (p *parser) values(depth int, close tokenType) []node {
	var out []node
	for {
		t := p.toks[p.pos]
		if t.typ == tEOF {
			return out
		}
		p.pos++
		if t.typ == close {
			return out
		}
		out = append(out, p.value(t, depth))
	}
}

func (p *parser) value(t token, depth int) node {
	var close tokenType
	kind := nBlock
	switch t.typ {
	case tOpenCurly:
		close = tCloseCurly
	case tOpenSquare:
		close = tCloseSquare
	case tOpenParen:
		close = tCloseParen
	case tFunction:
		close, kind = tCloseParen, nFunc
	default:
		return node{kind: nToken, tok: t}
	}
	n := node{kind: kind, tok: t}
	n.kids = p.values(depth+1, close)
	if depth+1 > maxBlockDepth {
		n.kids, n.broken = nil, true
	}
	return n
}

// ---- rules (§5.4.1–5.4.3) ----

type cssRule struct {
	at      string // lower-case at-rule name; "" for a style rule
	prelude []node
	block   *node // the {} block; nil for a statement at-rule
}

func isTok(n node, typ tokenType) bool { return n.kind == nToken && n.tok.typ == typ }
func isCurly(n node) bool              { return n.kind == nBlock && n.tok.typ == tOpenCurly }

// parseRules splits component values into rules. A style rule without a
// block (cut off at the end) is dropped.
func parseRules(nodes []node, top bool) []cssRule {
	var out []cssRule
	for i := 0; i < len(nodes); {
		n := nodes[i]
		if isTok(n, tWhitespace) || (top && (isTok(n, tCDO) || isTok(n, tCDC))) {
			i++
			continue
		}
		r := cssRule{}
		if isTok(n, tAtKeyword) {
			r.at = strings.ToLower(n.tok.value)
			i++
			for ; i < len(nodes); i++ {
				if isTok(nodes[i], tSemicolon) {
					i++
					break
				}
				if isCurly(nodes[i]) {
					r.block = &nodes[i]
					i++
					break
				}
				r.prelude = append(r.prelude, nodes[i])
			}
			out = append(out, r)
			continue
		}
		for ; i < len(nodes); i++ {
			if isCurly(nodes[i]) {
				r.block = &nodes[i]
				i++
				break
			}
			r.prelude = append(r.prelude, nodes[i])
		}
		if r.block != nil {
			out = append(out, r)
		}
	}
	return out
}

// rule serialises a rule that the allow-list accepts.
func rule(r cssRule, depth int) (string, bool) {
	if r.block == nil || r.block.broken {
		return "", false
	}
	switch r.at {
	case "":
		sel, ok := selector(r.prelude)
		if !ok {
			return "", false
		}
		return sel + "{" + declarations(r.block.kids) + "}", true
	case "media", "supports", "keyframes", "-webkit-keyframes":
	default:
		return "", false
	}
	if depth+1 > maxRuleDepth {
		return "", false
	}
	var prelude string
	var ok bool
	switch r.at {
	case "media":
		prelude, ok = checked(r.prelude, mediaTokens)
	case "supports":
		prelude, ok = checked(r.prelude, supportsTokens)
	default:
		prelude, ok = keyframesName(r.prelude)
	}
	if !ok || prelude == "" || hostile(prelude) {
		return "", false
	}
	var body []string
	for _, inner := range parseRules(r.block.kids, false) {
		if r.at != "media" && r.at != "supports" && inner.at != "" {
			continue // @keyframes holds keyframe blocks only
		}
		if s, ok := rule(inner, depth+1); ok && !hostile(s) {
			body = append(body, s)
		}
	}
	if len(body) == 0 {
		return "", false // nothing to apply: drop the shell too
	}
	return "@" + r.at + " " + prelude + "{" + strings.Join(body, "") + "}", true
}

func keyframesName(prelude []node) (string, bool) {
	prelude = trim(prelude)
	if len(prelude) != 1 || prelude[0].kind != nToken {
		return "", false
	}
	switch t := prelude[0].tok; t.typ {
	case tIdent:
		return ident(t.value)
	case tString:
		return quote(t.value)
	}
	return "", false
}

// declarations serialises the acceptable declarations of a style rule's
// block, joined by ";". Nested rules and at-rules are dropped.
func declarations(nodes []node) string {
	var out []string
	var cur []node
	flush := func() {
		if s, ok := declaration(cur); ok && !hostile(s) {
			out = append(out, s)
		}
		cur = nil
	}
	for _, n := range nodes {
		switch {
		case isTok(n, tSemicolon):
			flush()
		case isCurly(n): // a nested rule: it and what led to it go
			cur = nil
		default:
			cur = append(cur, n)
		}
	}
	flush()
	return strings.Join(out, ";")
}

func declaration(nodes []node) (string, bool) {
	nodes = trim(nodes)
	if len(nodes) < 2 || !isTok(nodes[0], tIdent) {
		return "", false
	}
	name, ok := propertyName(nodes[0].tok.value)
	if !ok {
		return "", false
	}
	rest := trim(nodes[1:])
	if len(rest) == 0 || !isTok(rest[0], tColon) {
		return "", false
	}
	value, ok := checked(rest[1:], valueTokens)
	if !ok || value == "" {
		return "", false
	}
	return name + ":" + value, true
}

// propertyName accepts a-z, digits and hyphens (lower-cased; a vendor prefix
// is fine), or a custom property --name (case kept). Properties that bind
// behaviour to elements are refused.
func propertyName(name string) (string, bool) {
	if strings.HasPrefix(name, "--") {
		if len(name) == 2 {
			return "", false
		}
		for _, r := range name[2:] {
			if !isLetter(r) && !isDigit(r) && r != '-' && r != '_' {
				return "", false
			}
		}
		return name, true
	}
	name = strings.ToLower(name)
	body := strings.TrimPrefix(name, "-")
	if body == "" || !isLetter(rune(body[0])) {
		return "", false
	}
	for _, r := range body {
		if !isLetter(r) && !isDigit(r) && r != '-' {
			return "", false
		}
	}
	if strings.Contains(name, "binding") {
		return "", false
	}
	if strings.Contains(name, "behavior") && name != "scroll-behavior" && !strings.HasPrefix(name, "overscroll-behavior") {
		return "", false
	}
	return name, true
}

// ---- allow-lists ----

// context says which tokens and functions may appear where.
type context struct {
	delims  string          // delim characters allowed
	funcs   map[string]bool // function names allowed (lower case)
	colon   bool            // ':' allowed at this level
	inner   *context        // context inside () and [] blocks; nil: no blocks
	square  *context        // context inside [] blocks, if not inner
	strings bool
	hash    bool
	numbers bool
	anb     bool // dimensions like 2n-1 (:nth-child)
}

func lettersOnly(s string) bool {
	for _, r := range s {
		if !isLetter(r) {
			return false
		}
	}
	return true
}

// anbUnit accepts the unit of an An+B dimension such as 2n-1: n, n-, n-1.
func anbUnit(u string) bool {
	if u == "" || (u[0] != 'n' && u[0] != 'N') {
		return false
	}
	rest := u[1:]
	if rest == "" {
		return true
	}
	if rest[0] != '-' {
		return false
	}
	for _, r := range rest[1:] {
		if !isDigit(r) {
			return false
		}
	}
	return true
}

var valueFuncs = setOf(
	// colours
	"rgb", "rgba", "hsl", "hsla", "hwb", "lab", "lch", "oklab", "oklch", "color", "color-mix", "light-dark",
	// maths and variables
	"calc", "min", "max", "clamp", "round", "mod", "rem", "abs", "sign", "var",
	// gradients
	"linear-gradient", "radial-gradient", "conic-gradient",
	"repeating-linear-gradient", "repeating-radial-gradient", "repeating-conic-gradient",
	// transforms
	"translate", "translatex", "translatey", "translatez", "translate3d",
	"rotate", "rotatex", "rotatey", "rotatez", "rotate3d",
	"scale", "scalex", "scaley", "scalez", "scale3d",
	"skew", "skewx", "skewy", "matrix", "matrix3d", "perspective",
	// filters
	"blur", "brightness", "contrast", "drop-shadow", "grayscale", "hue-rotate", "invert", "opacity", "saturate", "sepia",
	// timing, grid, counters, shapes
	"cubic-bezier", "steps", "linear", "minmax", "repeat", "fit-content",
	"counter", "counters", "inset", "circle", "ellipse", "polygon",
)

var selectorFuncs = setOf(
	"not", "is", "where", "has", "nth-child", "nth-last-child", "nth-of-type", "nth-last-of-type", "lang", "dir",
)

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

var (
	valueTokens = &context{delims: "/+-*!", funcs: valueFuncs, strings: true, hash: true, numbers: true}

	attrTokens     = &context{delims: "=~|^$*", strings: true}
	selectorTokens = &context{delims: ".*>+~|", funcs: selectorFuncs, colon: true, hash: true, numbers: true, anb: true, square: attrTokens}

	mediaParen  = &context{delims: ">=/", colon: true, numbers: true}
	mediaTokens = &context{delims: "/", numbers: true, inner: mediaParen}

	supportsParen  = &context{delims: "/+-*!", funcs: valueFuncs, colon: true, strings: true, hash: true, numbers: true}
	supportsTokens = &context{}
)

func init() {
	valueTokens.inner = valueTokens
	selectorTokens.inner = selectorTokens
	mediaParen.inner = mediaParen
	supportsParen.inner = supportsParen
	supportsTokens.inner = supportsParen
}

func selector(nodes []node) (string, bool) {
	s, ok := checked(nodes, selectorTokens)
	if !ok || s == "" || hostile(s) {
		return "", false
	}
	return s, true
}

// ---- serialisation ----

// checked serialises nodes if every one is allowed in ctx: whitespace
// collapsed to one space and trimmed, a space put between two tokens that
// would otherwise read as one (§9.2).
func checked(nodes []node, ctx *context) (string, bool) {
	var w writer
	if !w.nodes(trim(nodes), ctx) {
		return "", false
	}
	return w.b.String(), true
}

type writer struct {
	b    strings.Builder
	prev token // last token written, tEOF at the start of a sequence
}

func (w *writer) nodes(nodes []node, ctx *context) bool {
	for i, n := range nodes {
		if isTok(n, tWhitespace) {
			if i > 0 && !isTok(nodes[i-1], tWhitespace) && i < len(nodes)-1 {
				w.raw(token{typ: tWhitespace}, " ")
			}
			continue
		}
		if !w.node(n, ctx) {
			return false
		}
	}
	return true
}

func (w *writer) node(n node, ctx *context) bool {
	if n.broken {
		return false
	}
	switch n.kind {
	case nFunc:
		name := strings.ToLower(n.tok.value)
		if !ctx.funcs[name] {
			return false
		}
		s, ok := ident(name)
		if !ok {
			return false
		}
		w.raw(token{typ: tFunction, value: name}, s+"(")
		inner := ctx
		if ctx.inner != nil {
			inner = ctx.inner
		}
		w.prev = token{typ: tEOF}
		if !w.nodes(trim(n.kids), inner) {
			return false
		}
		w.raw(token{typ: tCloseParen}, ")")
		return true
	case nBlock:
		inner := ctx.inner
		if n.tok.typ == tOpenSquare && ctx.square != nil {
			inner = ctx.square
		}
		if inner == nil || n.tok.typ == tOpenCurly {
			return false
		}
		open, close := "(", ")"
		if n.tok.typ == tOpenSquare {
			open, close = "[", "]"
		}
		w.raw(token{typ: n.tok.typ}, open)
		w.prev = token{typ: tEOF}
		if !w.nodes(trim(n.kids), inner) {
			return false
		}
		w.raw(token{typ: tCloseParen}, close)
		return true
	}
	t := n.tok
	switch t.typ {
	case tIdent:
		s, ok := ident(t.value)
		return ok && w.raw(t, s)
	case tHash:
		s, ok := name(t.value)
		return ctx.hash && ok && w.raw(t, "#"+s)
	case tString:
		s, ok := quote(t.value)
		return ctx.strings && ok && w.raw(t, s)
	case tNumber:
		return ctx.numbers && w.raw(t, t.repr)
	case tPercentage:
		return ctx.numbers && w.raw(t, t.repr+"%")
	case tDimension:
		if !ctx.numbers || t.unit == "" {
			return false
		}
		if !lettersOnly(t.unit) && !(ctx.anb && anbUnit(t.unit)) {
			return false
		}
		return w.raw(t, t.repr+t.unit)
	case tComma:
		return w.raw(t, ",")
	case tColon:
		return ctx.colon && w.raw(t, ":")
	case tDelim:
		return strings.Contains(ctx.delims, t.value) && t.value != "" && w.raw(t, t.value)
	}
	// url, bad-url, bad-string, at-keyword, CDO, CDC, ;, stray closers
	return false
}

// raw writes s for token t, first a space if t would join the previous
// token (the table in §9.2; "-" and "+"/"." before numbers included).
func (w *writer) raw(t token, s string) bool {
	if needsSpace(w.prev, t) {
		w.b.WriteByte(' ')
	}
	w.b.WriteString(s)
	w.prev = t
	return true
}

func needsSpace(a, b token) bool {
	word := func(t token) bool {
		switch t.typ {
		case tIdent, tFunction, tNumber, tPercentage, tDimension:
			return true
		}
		return t.typ == tDelim && t.value == "-"
	}
	isDelim := func(t token, c string) bool { return t.typ == tDelim && t.value == c }
	number := b.typ == tNumber || b.typ == tPercentage || b.typ == tDimension
	switch {
	case a.typ == tIdent:
		return word(b) || b.typ == tOpenParen
	case a.typ == tHash || a.typ == tDimension:
		return word(b)
	case isDelim(a, "-") || isDelim(a, "#"):
		return word(b)
	case a.typ == tNumber:
		return word(b) && !isDelim(b, "-") || isDelim(b, "%")
	case isDelim(a, ".") || isDelim(a, "+"):
		return number
	case isDelim(a, "/"):
		return isDelim(b, "*")
	case isDelim(a, "*"):
		return isDelim(b, "/") // keep "*/" from appearing at all
	}
	return false
}

func trim(nodes []node) []node {
	for len(nodes) > 0 && isTok(nodes[0], tWhitespace) {
		nodes = nodes[1:]
	}
	for len(nodes) > 0 && isTok(nodes[len(nodes)-1], tWhitespace) {
		nodes = nodes[:len(nodes)-1]
	}
	return nodes
}

// ident serialises an identifier (CSSOM "serialize an identifier"): code
// points that cannot appear raw are escaped, so the result reads back as the
// same single ident. Control characters and U+FFFD are refused.
func ident(v string) (string, bool) {
	if v == "" {
		return "", false
	}
	var b strings.Builder
	first := []rune(v)
	for i, r := range first {
		switch {
		case r < 0x20 || r == 0x7F || r == utf8.RuneError:
			return "", false
		case isDigit(r) && (i == 0 || (i == 1 && first[0] == '-')):
			b.WriteString(`\` + strconv.FormatInt(int64(r), 16) + " ")
		case r == '-' && i == 0 && len(first) == 1:
			b.WriteString(`\-`)
		case isName(r):
			b.WriteRune(r)
		case r == '<':
			return "", false
		default:
			b.WriteString(`\`)
			b.WriteRune(r)
		}
	}
	return b.String(), true
}

// name serialises the name of a hash token (no rule for its first
// character).
func name(v string) (string, bool) {
	var b strings.Builder
	for _, r := range v {
		switch {
		case r < 0x20 || r == 0x7F || r == utf8.RuneError || r == '<':
			return "", false
		case isName(r):
			b.WriteRune(r)
		default:
			b.WriteString(`\`)
			b.WriteRune(r)
		}
	}
	return b.String(), true
}

// quote serialises a string in double quotes. "<" is refused (it would be
// "<" again once unescaped); control characters are hex-escaped.
func quote(v string) (string, bool) {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range v {
		switch {
		case r == '<' || r == utf8.RuneError:
			return "", false
		case r == '"' || r == '\\':
			b.WriteString(`\`)
			b.WriteRune(r)
		case r < 0x20 || r == 0x7F:
			b.WriteString(`\` + strconv.FormatInt(int64(r), 16) + " ")
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String(), true
}

// ---- the last word ----

// forbidden are the words that must not appear in the output, checked in
// lower case after CSS escapes are decoded.
var forbidden = []string{
	"<", "expression", "javascript:", "vbscript:", "livescript:", "@import", "@charset", "@namespace",
	"-moz-binding", "url(", "image-set(", "image(", "src(", "</style",
}

// hostile reports whether s, with its CSS escapes decoded, contains a
// forbidden word, or "behavior" followed by ":" (scroll-behavior and
// overscroll-behavior are fine). s is this package's output, which has no
// comments: the tokenizer dropped them, and the writer keeps "/" and "*"
// apart.
func hostile(s string) bool {
	u := strings.ToLower(unescape(s))
	for _, f := range forbidden {
		if strings.Contains(u, f) {
			return true
		}
	}
	for i := 0; ; {
		j := strings.Index(u[i:], "behavior")
		if j < 0 {
			return false
		}
		j += i
		i = j + len("behavior")
		if !strings.HasPrefix(strings.TrimLeft(u[i:], " \t\n"), ":") {
			continue
		}
		if !strings.HasSuffix(u[:j], "scroll-") {
			return true
		}
	}
}

// unescape decodes CSS escapes (`\65 `, `\e`, a backslash before a newline),
// giving the text that a browser's tokenizer reads.
func unescape(s string) string {
	in := preprocess(s)
	z := &tokenizer{in: in}
	var b strings.Builder
	for z.pos < len(in) {
		r := z.next()
		if r == '\\' {
			if z.peek(0) == '\n' {
				z.next() // a line continuation inside a string
				continue
			}
			b.WriteRune(z.escape())
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
