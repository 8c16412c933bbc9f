package sanitize

import (
	"strings"
	"unicode/utf8"
)

// A tokenizer after CSS Syntax Module Level 3, §4 (https://www.w3.org/TR/css-syntax-3/#tokenization):
// the same algorithm browsers run, so that what this package sees is what a
// browser would see. Escapes are decoded into token values and comments are
// dropped, so `e\78 pression` is the ident "expression" and `ex/**/pression`
// is the two idents "ex" and "pression".

type tokenType int

const (
	tEOF tokenType = iota
	tIdent
	tFunction
	tAtKeyword
	tHash
	tString
	tBadString
	tURL
	tBadURL
	tDelim
	tNumber
	tPercentage
	tDimension
	tWhitespace
	tCDO
	tCDC
	tColon
	tSemicolon
	tComma
	tOpenSquare
	tCloseSquare
	tOpenParen
	tCloseParen
	tOpenCurly
	tCloseCurly
)

type token struct {
	typ   tokenType
	value string // ident, function, at-keyword and hash name; string and url contents; delim rune
	repr  string // number, percentage and dimension: the number as written
	unit  string // dimension
}

type tokenizer struct {
	in  []rune
	pos int
}

// preprocess applies §3.3: CR LF, CR and FF become LF, NUL becomes U+FFFD
// (as does invalid UTF-8, through the range loop).
func preprocess(s string) []rune {
	out := make([]rune, 0, utf8.RuneCountInString(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch r {
		case '\r':
			if i < len(s) && s[i] == '\n' {
				i++
			}
			r = '\n'
		case '\f':
			r = '\n'
		case 0:
			r = utf8.RuneError
		}
		out = append(out, r)
	}
	return out
}

const eof = -1

func (z *tokenizer) peek(n int) rune {
	if z.pos+n < len(z.in) {
		return z.in[z.pos+n]
	}
	return eof
}

func (z *tokenizer) next() rune {
	r := z.peek(0)
	if r != eof {
		z.pos++
	}
	return r
}

func isDigit(r rune) bool     { return r >= '0' && r <= '9' }
func isHex(r rune) bool       { return isDigit(r) || (r >= 'a' && r <= 'f') || (r >= 'A' && r <= 'F') }
func isLetter(r rune) bool    { return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') }
func isSpace(r rune) bool     { return r == '\n' || r == '\t' || r == ' ' }
func isNameStart(r rune) bool { return isLetter(r) || r >= 0x80 || r == '_' }
func isName(r rune) bool      { return isNameStart(r) || isDigit(r) || r == '-' }
func isNonPrintable(r rune) bool {
	return (r >= 0 && r <= 8) || r == 0xB || (r >= 0xE && r <= 0x1F) || r == 0x7F
}

func validEscape(a, b rune) bool { return a == '\\' && b != '\n' }

func startsIdent(a, b, c rune) bool {
	switch {
	case a == '-':
		return isNameStart(b) || b == '-' || validEscape(b, c)
	case isNameStart(a):
		return true
	case a == '\\':
		return validEscape(a, b)
	}
	return false
}

func startsNumber(a, b, c rune) bool {
	switch {
	case a == '+' || a == '-':
		return isDigit(b) || (b == '.' && isDigit(c))
	case a == '.':
		return isDigit(b)
	}
	return isDigit(a)
}

func (z *tokenizer) token() token {
	z.skipComments()
	r := z.next()
	switch {
	case r == eof:
		return token{typ: tEOF}
	case isSpace(r):
		for isSpace(z.peek(0)) {
			z.pos++
		}
		return token{typ: tWhitespace}
	case r == '"' || r == '\'':
		return z.string(r)
	case r == '#':
		if isName(z.peek(0)) || validEscape(z.peek(0), z.peek(1)) {
			return token{typ: tHash, value: z.name()}
		}
		return delim(r)
	case r == '(':
		return token{typ: tOpenParen}
	case r == ')':
		return token{typ: tCloseParen}
	case r == '[':
		return token{typ: tOpenSquare}
	case r == ']':
		return token{typ: tCloseSquare}
	case r == '{':
		return token{typ: tOpenCurly}
	case r == '}':
		return token{typ: tCloseCurly}
	case r == ',':
		return token{typ: tComma}
	case r == ':':
		return token{typ: tColon}
	case r == ';':
		return token{typ: tSemicolon}
	case r == '+' || r == '.':
		if startsNumber(r, z.peek(0), z.peek(1)) {
			z.pos--
			return z.numeric()
		}
		return delim(r)
	case r == '-':
		if startsNumber(r, z.peek(0), z.peek(1)) {
			z.pos--
			return z.numeric()
		}
		if z.peek(0) == '-' && z.peek(1) == '>' {
			z.pos += 2
			return token{typ: tCDC}
		}
		if startsIdent(r, z.peek(0), z.peek(1)) {
			z.pos--
			return z.identLike()
		}
		return delim(r)
	case r == '<':
		if z.peek(0) == '!' && z.peek(1) == '-' && z.peek(2) == '-' {
			z.pos += 3
			return token{typ: tCDO}
		}
		return delim(r)
	case r == '@':
		if startsIdent(z.peek(0), z.peek(1), z.peek(2)) {
			return token{typ: tAtKeyword, value: z.name()}
		}
		return delim(r)
	case r == '\\':
		if validEscape(r, z.peek(0)) {
			z.pos--
			return z.identLike()
		}
		return delim(r)
	case isDigit(r):
		z.pos--
		return z.numeric()
	case isNameStart(r):
		z.pos--
		return z.identLike()
	}
	return delim(r)
}

func delim(r rune) token { return token{typ: tDelim, value: string(r)} }

func (z *tokenizer) skipComments() {
	for z.peek(0) == '/' && z.peek(1) == '*' {
		z.pos += 2
		for {
			if z.peek(0) == eof {
				return
			}
			if z.peek(0) == '*' && z.peek(1) == '/' {
				z.pos += 2
				break
			}
			z.pos++
		}
	}
}

// escape consumes an escape after its backslash (§4.3.7).
func (z *tokenizer) escape() rune {
	r := z.next()
	switch {
	case r == eof:
		return utf8.RuneError
	case isHex(r):
		v := hexVal(r)
		for i := 0; i < 5 && isHex(z.peek(0)); i++ {
			v = v*16 + hexVal(z.next())
		}
		if isSpace(z.peek(0)) {
			z.pos++
		}
		if v == 0 || (v >= 0xD800 && v <= 0xDFFF) || v > 0x10FFFF {
			return utf8.RuneError
		}
		return rune(v)
	}
	return r
}

func hexVal(r rune) int {
	switch {
	case isDigit(r):
		return int(r - '0')
	case r >= 'a' && r <= 'f':
		return int(r-'a') + 10
	}
	return int(r-'A') + 10
}

// name consumes an ident sequence (§4.3.11).
func (z *tokenizer) name() string {
	var b strings.Builder
	for {
		r := z.peek(0)
		switch {
		case isName(r):
			z.pos++
			b.WriteRune(r)
		case validEscape(r, z.peek(1)):
			z.pos++
			b.WriteRune(z.escape())
		default:
			return b.String()
		}
	}
}

func (z *tokenizer) numeric() token {
	start := z.pos
	if r := z.peek(0); r == '+' || r == '-' {
		z.pos++
	}
	for isDigit(z.peek(0)) {
		z.pos++
	}
	if z.peek(0) == '.' && isDigit(z.peek(1)) {
		z.pos += 2
		for isDigit(z.peek(0)) {
			z.pos++
		}
	}
	if r := z.peek(0); r == 'e' || r == 'E' {
		if isDigit(z.peek(1)) {
			z.pos += 2
		} else if (z.peek(1) == '+' || z.peek(1) == '-') && isDigit(z.peek(2)) {
			z.pos += 3
		}
		for isDigit(z.peek(0)) {
			z.pos++
		}
	}
	repr := string(z.in[start:z.pos])
	if startsIdent(z.peek(0), z.peek(1), z.peek(2)) {
		return token{typ: tDimension, repr: repr, unit: z.name()}
	}
	if z.peek(0) == '%' {
		z.pos++
		return token{typ: tPercentage, repr: repr}
	}
	return token{typ: tNumber, repr: repr}
}

func (z *tokenizer) identLike() token {
	name := z.name()
	if strings.EqualFold(name, "url") && z.peek(0) == '(' {
		z.pos++
		for isSpace(z.peek(0)) && isSpace(z.peek(1)) {
			z.pos++
		}
		q := z.peek(0)
		if isSpace(q) {
			q = z.peek(1)
		}
		if q == '"' || q == '\'' {
			return token{typ: tFunction, value: name}
		}
		return z.url()
	}
	if z.peek(0) == '(' {
		z.pos++
		return token{typ: tFunction, value: name}
	}
	return token{typ: tIdent, value: name}
}

func (z *tokenizer) url() token {
	var b strings.Builder
	for isSpace(z.peek(0)) {
		z.pos++
	}
	for {
		r := z.next()
		switch {
		case r == ')' || r == eof:
			return token{typ: tURL, value: b.String()}
		case isSpace(r):
			for isSpace(z.peek(0)) {
				z.pos++
			}
			if z.peek(0) == ')' || z.peek(0) == eof {
				z.next()
				return token{typ: tURL, value: b.String()}
			}
			z.badURLRemnants()
			return token{typ: tBadURL}
		case r == '"' || r == '\'' || r == '(' || isNonPrintable(r):
			z.badURLRemnants()
			return token{typ: tBadURL}
		case r == '\\':
			if validEscape(r, z.peek(0)) {
				b.WriteRune(z.escape())
				continue
			}
			z.badURLRemnants()
			return token{typ: tBadURL}
		default:
			b.WriteRune(r)
		}
	}
}

func (z *tokenizer) badURLRemnants() {
	for {
		r := z.next()
		switch {
		case r == ')' || r == eof:
			return
		case validEscape(r, z.peek(0)):
			z.escape()
		}
	}
}

func (z *tokenizer) string(quote rune) token {
	var b strings.Builder
	for {
		r := z.next()
		switch {
		case r == quote || r == eof:
			return token{typ: tString, value: b.String()}
		case r == '\n':
			z.pos-- // not consumed
			return token{typ: tBadString}
		case r == '\\':
			switch z.peek(0) {
			case eof:
			case '\n':
				z.pos++
			default:
				b.WriteRune(z.escape())
			}
		default:
			b.WriteRune(r)
		}
	}
}

// tokenize returns every token of s, ending with tEOF.
func tokenize(s string) []token {
	z := &tokenizer{in: preprocess(s)}
	var out []token
	for {
		t := z.token()
		out = append(out, t)
		if t.typ == tEOF {
			return out
		}
	}
}
