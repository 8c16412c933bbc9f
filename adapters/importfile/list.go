package importfile

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
)

// parseJSON reads an array of objects in the create-monitor body format,
// each with an optional "tags": [names].
func parseJSON(data []byte) ([]commands.ImportEntry, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, jsonError(data, dec, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, fileError(JSON, 1, "a JSON list is an array of monitors, [{...}, ...]")
	}
	var out []commands.ImportEntry
	for dec.More() {
		line := lineAt(data, int(dec.InputOffset()))
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, jsonError(data, dec, err)
		}
		out = append(out, jsonEntry(raw, line))
		if len(out) > commands.MaxImportEntries {
			break // Parse refuses the file; reading on costs for nothing
		}
	}
	if len(out) <= commands.MaxImportEntries {
		if _, err := dec.Token(); err != nil {
			return nil, jsonError(data, dec, err)
		}
		if _, err := dec.Token(); err != io.EOF {
			return nil, fileError(JSON, lineAt(data, int(dec.InputOffset())), "nothing may follow the array")
		}
	}
	return out, nil
}

func jsonEntry(raw json.RawMessage, line int) commands.ImportEntry {
	e := commands.ImportEntry{Line: line, Config: domain.DefaultMonitorConfig()}
	// Go's decoder turns invalid UTF-8 and lone surrogate escapes into
	// U+FFFD without a word; the API refuses them (httpapi's text check),
	// so an entry holding them is refused here before decoding hides them.
	if !utf8.Valid(raw) {
		e.Refused = "the entry holds text that is not valid UTF-8"
		return e
	}
	if loneSurrogate(raw) {
		e.Refused = `the entry holds a lone UTF-16 surrogate escape (\ud800 to \udfff), which is not text`
		return e
	}
	var given struct {
		Name *string  `json:"name"`
		Type *string  `json:"type"`
		URL  *string  `json:"url"`
		Tags []string `json:"tags"`
	}
	if err := json.Unmarshal(raw, &given); err != nil {
		e.Refused = jsonFieldError(err)
		return e
	}
	if given.Name != nil {
		e.Name = *given.Name
	}
	if err := json.Unmarshal(raw, &e.Config); err != nil {
		e.Refused = jsonFieldError(err)
		return e
	}
	e.Given = domain.MonitorGiven{Name: given.Name != nil, Type: given.Type != nil, URL: given.URL != nil}
	e.Tags = given.Tags
	return e
}

// loneSurrogate reports whether raw JSON (already known to be valid) holds
// a \uD800-\uDFFF escape that is not half of a surrogate pair. In valid
// JSON a backslash only ever starts an escape inside a string.
func loneSurrogate(raw []byte) bool {
	hex4 := func(i int) (int, bool) {
		if i+6 > len(raw) || raw[i] != '\\' || raw[i+1] != 'u' {
			return 0, false
		}
		n, err := strconv.ParseUint(string(raw[i+2:i+6]), 16, 32)
		return int(n), err == nil
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		code, ok := hex4(i)
		if !ok {
			i++ // \\, \", \n, ...: skip the escaped character
			continue
		}
		switch {
		case code >= 0xDC00 && code <= 0xDFFF:
			return true
		case code >= 0xD800 && code < 0xDC00:
			low, ok := hex4(i + 6)
			if !ok || low < 0xDC00 || low > 0xDFFF {
				return true
			}
			i += 11
		default:
			i += 5
		}
	}
	return false
}

// jsonFieldError says what the create endpoint's 400 says of a wrong type.
func jsonFieldError(err error) string {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		if typeErr.Field == "" {
			return "an entry must be a JSON object"
		}
		t := typeErr.Type.String()
		kind := "string"
		switch {
		case strings.Contains(t, "int"), strings.Contains(t, "float"):
			kind = "number"
		case strings.Contains(t, "bool"):
			kind = "boolean"
		case strings.HasPrefix(t, "[]"):
			kind = "array"
		case strings.HasPrefix(t, "map"), strings.HasPrefix(t, "struct"):
			kind = "object"
		}
		return fmt.Sprintf("field %q must be of type %s", typeErr.Field, kind)
	}
	return "the entry cannot be read: " + err.Error()
}

func jsonError(data []byte, dec *json.Decoder, err error) error {
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		return fileError(JSON, lineAt(data, int(syntax.Offset)), syntax.Error())
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fileError(JSON, lineAt(data, len(data)), "the file ends before the array does")
	}
	return fileError(JSON, lineAt(data, int(dec.InputOffset())), err.Error())
}

// lineAt is the line of the first non-blank byte at or after offset.
func lineAt(data []byte, offset int) int {
	offset = min(max(offset, 0), len(data))
	for offset < len(data) && strings.ContainsRune(" \t\r\n,", rune(data[offset])) {
		offset++
	}
	if offset >= len(data) {
		offset = len(data) - 1
	}
	return bytes.Count(data[:max(offset, 0)], []byte("\n")) + 1
}

// csvColumns are the columns a CSV list may have.
var csvColumns = []string{"name", "type", "url", "check_interval", "timeout", "http_method", "expected_status_codes", "tags"}

// parseCSV reads a header row naming columns among csvColumns, then one
// monitor a row; tags and status codes are separated by ";".
func parseCSV(data []byte) ([]commands.ImportEntry, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a spreadsheet's byte order mark
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	header, err := r.Read()
	if err != nil {
		return nil, csvError(err)
	}
	col := map[string]int{}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		if !slices.Contains(csvColumns, name) {
			return nil, fileError(CSV, 1, fmt.Sprintf("unknown column %q; the columns are %s", h, strings.Join(csvColumns, ", ")))
		}
		if _, dup := col[name]; dup {
			return nil, fileError(CSV, 1, fmt.Sprintf("column %q appears twice", name))
		}
		col[name] = i
	}
	var out []commands.ImportEntry
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvError(err)
		}
		line, _ := r.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line
		}
		out = append(out, csvEntry(rec, col, line))
		if len(out) > commands.MaxImportEntries {
			break
		}
	}
	return out, nil
}

func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fileError(CSV, pe.Line, pe.Err.Error())
	}
	if errors.Is(err, io.EOF) {
		return fileError(CSV, 0, "the file is empty; the first row names the columns")
	}
	return fileError(CSV, 0, err.Error())
}

func csvEntry(rec []string, col map[string]int, line int) commands.ImportEntry {
	e := commands.ImportEntry{Line: line, Config: domain.DefaultMonitorConfig()}
	if len(rec) > len(col) {
		e.Refused = fmt.Sprintf("the row has %d cells for %d columns", len(rec), len(col))
	}
	cell := func(name string) (string, bool) {
		i, ok := col[name]
		if !ok || i >= len(rec) {
			return "", false
		}
		v := strings.TrimSpace(rec[i])
		return v, v != ""
	}
	c := &e.Config
	var given domain.MonitorGiven
	if v, ok := cell("name"); ok {
		e.Name, c.Name, given.Name = v, v, true
	}
	if v, ok := cell("type"); ok {
		c.Type, given.Type = domain.MonitorType(v), true
	}
	if v, ok := cell("url"); ok {
		c.URL, given.URL = v, true
	}
	e.Given = given
	var bad []string
	number := func(name string, into *int) {
		if v, ok := cell(name); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				bad = append(bad, fmt.Sprintf("%s must be a whole number, got %q", name, v))
				return
			}
			*into = n
		}
	}
	number("check_interval", &c.CheckInterval)
	number("timeout", &c.Timeout)
	if v, ok := cell("http_method"); ok {
		c.HTTPMethod = v
	}
	if v, ok := cell("expected_status_codes"); ok {
		for _, part := range splitList(v) {
			n, err := strconv.Atoi(part)
			if err != nil {
				bad = append(bad, fmt.Sprintf("expected_status_codes must be numbers separated by ';', got %q", part))
				break
			}
			c.ExpectedStatusCodes = append(c.ExpectedStatusCodes, n)
		}
	}
	if v, ok := cell("tags"); ok {
		e.Tags = splitList(v)
	}
	if len(bad) > 0 && e.Refused == "" {
		e.Refused = strings.Join(bad, "; ")
	}
	return e
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ";") {
		if p := strings.TrimSpace(part); p != "" {
			out = append(out, p)
		}
	}
	return out
}
