// Package importfile reads the files people bring monitors in with: a Gatus
// configuration (YAML), a JSON array of create-monitor bodies, or a CSV
// list. It only parses the bytes it is given, into entries that
// commands.ImportMonitors judges and creates exactly as the create endpoint
// would; what a file says that a Media Luna monitor cannot carry becomes a
// warning on the entry, and what cannot be a monitor at all (a Gatus gRPC
// endpoint) a refused entry with the reason. A file that does not parse at
// all is an ErrInvalid naming the line.
package importfile

import (
	"fmt"
	"mime"
	"strings"

	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
)

// Format is a kind of file.
type Format string

// The formats Parse reads.
const (
	Gatus Format = "gatus"
	JSON  Format = "json"
	CSV   Format = "csv"
)

// Formats lists the formats, for help texts and errors.
func Formats() []Format { return []Format{Gatus, JSON, CSV} }

// ParseFormat reads a format's name (gatus, yaml and yml name Gatus).
// Errors: ErrInvalid for another name.
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "gatus", "yaml", "yml":
		return Gatus, nil
	case "json":
		return JSON, nil
	case "csv":
		return CSV, nil
	}
	return "", domain.Invalid("format", "enum", "format must be one of gatus, json, csv; got %q", s)
}

// FormatOfContentType picks the format a request's Content-Type names
// (application/yaml, text/yaml and the x- forms: Gatus; text/csv: CSV;
// application/json: JSON), and false for any other.
func FormatOfContentType(contentType string) (Format, bool) {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return "", false
	}
	switch mt {
	case "application/yaml", "text/yaml", "application/x-yaml", "text/x-yaml":
		return Gatus, true
	case "text/csv":
		return CSV, true
	case "application/json":
		return JSON, true
	}
	return "", false
}

// FormatOfFileName guesses a file's format by its extension: .yaml and
// .yml Gatus, .json JSON, .csv CSV.
func FormatOfFileName(name string) (Format, bool) {
	lower := strings.ToLower(name)
	switch {
	case strings.HasSuffix(lower, ".yaml"), strings.HasSuffix(lower, ".yml"):
		return Gatus, true
	case strings.HasSuffix(lower, ".json"):
		return JSON, true
	case strings.HasSuffix(lower, ".csv"):
		return CSV, true
	}
	return "", false
}

// Files reads import files for the API and the CLI (httpapi.ImportFiles).
type Files struct{}

// Format picks the format a ?format= value names (gatus, yaml, yml, json,
// csv) or, when it is empty, the one a Content-Type names; false when they
// name none.
func (Files) Format(name, contentType string) (string, bool) {
	if name != "" {
		f, err := ParseFormat(name)
		return string(f), err == nil
	}
	f, ok := FormatOfContentType(contentType)
	return string(f), ok
}

// Parse reads data as format; see the package's Parse.
func (Files) Parse(format string, data []byte) ([]commands.ImportEntry, error) {
	return Parse(Format(format), data)
}

// Parse reads data as format. Errors: ErrInvalid when the file does not
// parse at all (naming the line), holds no entries, or holds more than
// commands.MaxImportEntries.
func Parse(format Format, data []byte) ([]commands.ImportEntry, error) {
	var (
		entries []commands.ImportEntry
		err     error
	)
	switch format {
	case Gatus:
		entries, err = parseGatus(data)
	case JSON:
		entries, err = parseJSON(data)
	case CSV:
		entries, err = parseCSV(data)
	default:
		return nil, domain.Invalid("format", "enum", "format must be one of gatus, json, csv; got %q", string(format))
	}
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		return nil, fileError(format, 0, "the file holds no monitors")
	}
	if len(entries) > commands.MaxImportEntries {
		return nil, fileError(format, 0, fmt.Sprintf("an import holds at most %d monitors; this file holds %d: split it", commands.MaxImportEntries, len(entries)))
	}
	return entries, nil
}

// fileError is a file that cannot be read at all, at line (0: unknown).
func fileError(format Format, line int, msg string) error {
	what := map[Format]string{Gatus: "Gatus configuration", JSON: "JSON list", CSV: "CSV list"}[format]
	if line > 0 {
		return domain.Errorf(domain.ErrInvalid, "the %s cannot be read: line %d: %s", what, line, msg)
	}
	return domain.Errorf(domain.ErrInvalid, "the %s cannot be read: %s", what, msg)
}
