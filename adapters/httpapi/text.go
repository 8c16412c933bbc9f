package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/medialuna/medialuna/domain"
)

// This file is the one place where the text a client sends is checked:
// every string of every JSON body (keys too) and every query parameter and
// path. A NUL (U+0000), invalid UTF-8, or a control character in a field
// where it makes no sense is refused here, before any handler runs a
// command, so nothing is appended for it. Which characters a field may hold
// is domain.CheckText's rule; the field's name picks the kind.

// multiLineFields are the body fields that hold prose or payloads a person
// writes, where tabs and line breaks belong. Every other string field is a
// name, title, address or identifier and gets no control characters.
var multiLineFields = map[string]bool{
	"description":      true, // maintenance windows, status pages
	"custom_css":       true,
	"request_body":     true,
	"message":          true, // incident acknowledgements and comments
	"reason":           true, // snoozes
	"password":         true, // whatever a password manager made of it
	"new_password":     true,
	"current_password": true,
}

// headerFields hold maps of HTTP header names to values.
var headerFields = map[string]bool{"request_headers": true}

// textKind picks the rule for a string by the field holding it: key is the
// nearest object key above the string, parent the key above that.
func textKind(key, parent string) domain.TextKind {
	switch {
	case headerFields[parent]:
		return domain.HeaderValue
	case multiLineFields[key]:
		return domain.MultiLine
	}
	return domain.SingleLine
}

// bodyTextError lists the strings of a body that may not be stored, each
// with its place in the body (the 422's loc).
type bodyTextError struct{ items []validationItem }

func (e *bodyTextError) Error() string {
	return "request body holds text that cannot be stored: " + e.items[0].Msg
}

// checkBodyText checks every string of a JSON body. It reads the raw bytes
// rather than decoded values: Go's decoder quietly turns invalid UTF-8 and
// lone surrogates into U+FFFD, which would hide exactly what must be
// refused. A body that is not JSON passes, for decoding to refuse with a
// 400; the walker below relies on well-formed input.
func checkBodyText(data []byte) error {
	if !json.Valid(data) {
		return nil
	}
	w := textWalker{data: data}
	w.value("", "", 0)
	if w.tooDeep {
		return badRequest("request body nests deeper than %d levels", maxBodyDepth)
	}
	if len(w.items) == 0 {
		return nil
	}
	return &bodyTextError{items: w.items}
}

type textWalker struct {
	data    []byte
	i       int
	path    []any // where the walker is: keys and array indexes, a stack
	items   []validationItem
	tooDeep bool
}

// maxTextProblems caps how many problems one answer lists.
const maxTextProblems = 20

// maxBodyDepth caps how deeply a body may nest; no endpoint takes more than
// a few levels, and the walk stops there.
const maxBodyDepth = 32

func (w *textWalker) report(s string, kind domain.TextKind) {
	problem, msg := domain.CheckText(s, kind)
	if problem == "" || len(w.items) >= maxTextProblems {
		return
	}
	loc := append([]any{"body"}, w.path...) // a copy: the stack moves on
	w.items = append(w.items, validationItem{Loc: loc, Msg: msg, Type: problem})
}

func (w *textWalker) space() {
	for w.i < len(w.data) {
		switch w.data[w.i] {
		case ' ', '\t', '\n', '\r':
			w.i++
		default:
			return
		}
	}
}

// value walks one JSON value at w.path, depth levels down; key and parent
// name the fields around it, for textKind.
func (w *textWalker) value(key, parent string, depth int) {
	w.space()
	if w.i >= len(w.data) || w.tooDeep {
		return
	}
	if c := w.data[w.i]; (c == '{' || c == '[') && depth >= maxBodyDepth {
		w.tooDeep = true
		return
	}
	switch w.data[w.i] {
	case '{':
		w.i++
		for !w.tooDeep {
			w.space()
			if w.i >= len(w.data) || w.data[w.i] == '}' {
				w.i++
				return
			}
			if w.data[w.i] == ',' {
				w.i++
				continue
			}
			name, ok := w.str()
			if !ok {
				return
			}
			w.path = append(w.path, name)
			// A key is an identifier (a field or header name): one line.
			w.report(name, domain.SingleLine)
			w.space()
			if w.i < len(w.data) && w.data[w.i] == ':' {
				w.i++
			}
			w.value(name, key, depth+1)
			w.path = w.path[:len(w.path)-1]
		}
	case '[':
		w.i++
		for n := 0; !w.tooDeep; {
			w.space()
			if w.i >= len(w.data) || w.data[w.i] == ']' {
				w.i++
				return
			}
			if w.data[w.i] == ',' {
				w.i++
				continue
			}
			w.path = append(w.path, n)
			w.value(key, parent, depth+1)
			w.path = w.path[:len(w.path)-1]
			n++
		}
	case '"':
		s, ok := w.str()
		if ok {
			w.report(s, textKind(key, parent))
		}
	default: // a number, true, false or null
		for w.i < len(w.data) {
			switch w.data[w.i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return
			}
			w.i++
		}
	}
}

// str reads the string at w.i with its escapes resolved. Raw bytes are kept
// as they are, so invalid UTF-8 stays invalid, and a lone surrogate escape
// becomes an invalid byte for the same reason.
func (w *textWalker) str() (string, bool) {
	if w.i >= len(w.data) || w.data[w.i] != '"' {
		return "", false
	}
	w.i++
	var out []byte
	for w.i < len(w.data) {
		c := w.data[w.i]
		switch {
		case c == '"':
			w.i++
			return string(out), true
		case c != '\\':
			out = append(out, c)
			w.i++
			continue
		}
		if w.i+1 >= len(w.data) {
			return "", false
		}
		esc := w.data[w.i+1]
		w.i += 2
		switch esc {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := w.hex4()
			if !ok {
				return "", false
			}
			if utf16.IsSurrogate(r) {
				if w.i+1 < len(w.data) && w.data[w.i] == '\\' && w.data[w.i+1] == 'u' {
					save := w.i
					w.i += 2
					if low, ok := w.hex4(); ok {
						if pair := utf16.DecodeRune(r, low); pair != utf8.RuneError {
							out = utf8.AppendRune(out, pair)
							continue
						}
					}
					w.i = save
				}
				out = append(out, 0xff) // a lone surrogate: not a character
				continue
			}
			out = utf8.AppendRune(out, r)
		default: // \" \\ \/
			out = append(out, esc)
		}
	}
	return "", false
}

func (w *textWalker) hex4() (rune, bool) {
	if w.i+4 > len(w.data) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(w.data[w.i:w.i+4]), 16, 16)
	if err != nil {
		return 0, false
	}
	w.i += 4
	return rune(n), true
}

// checkRequestText refuses a request whose path or query string holds text
// no field may store, with a 400 naming the parameter. Every query
// parameter is a name, identifier, number or search term: one line each.
// The query is read as handlers read it (r.URL.Query), so what they ignore
// (a pair that does not parse, a ';' separator) stays ignored.
func checkRequestText(r *http.Request) error {
	if problem, _ := domain.CheckText(r.URL.Path, domain.SingleLine); problem != "" {
		return badRequest("the path must be valid UTF-8 without control characters")
	}
	for name, values := range r.URL.Query() {
		if problem, _ := domain.CheckText(name, domain.SingleLine); problem != "" {
			return badRequest("query parameter names must be valid UTF-8 without control characters")
		}
		for _, v := range values {
			if problem, msg := domain.CheckText(v, domain.SingleLine); problem != "" {
				return badRequest("query parameter %s %s", name, msg)
			}
		}
	}
	return nil
}
