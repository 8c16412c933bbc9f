package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/medialuna/medialuna/domain"
)

// requestError is a transport-level failure (bad JSON, bad query string,
// body too large) that never reaches the domain.
type requestError struct {
	status int
	detail string
}

func (e *requestError) Error() string { return e.detail }

func badRequest(format string, args ...any) error {
	return &requestError{status: http.StatusBadRequest, detail: fmt.Sprintf(format, args...)}
}

// statusOf is the one place where domain error codes become HTTP statuses.
func statusOf(code string) int {
	switch code {
	case domain.ErrInvalid:
		return http.StatusUnprocessableEntity
	case domain.ErrNotFound:
		return http.StatusNotFound
	case domain.ErrConflict:
		return http.StatusConflict
	case domain.ErrForbidden, domain.ErrLimit:
		return http.StatusForbidden
	case domain.ErrUnauthorized:
		return http.StatusUnauthorized
	case domain.ErrNotEnabled:
		return http.StatusNotImplemented
	case domain.ErrUpstream:
		return http.StatusBadGateway
	}
	return http.StatusInternalServerError
}

type validationItem struct {
	Loc  []any  `json:"loc"`
	Msg  string `json:"msg"`
	Type string `json:"type"`
}

// writeError renders err as the contract's {"detail": ...} body.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	status, detail := errorBody(err)
	if status == http.StatusInternalServerError || status == http.StatusBadGateway {
		log.Error("request failed", "method", r.Method, "path", logPath(r), "err", err)
	}
	body := map[string]any{"detail": detail}
	var recorded *recordedError
	if errors.As(err, &recorded) {
		body["recorded"] = true
		for k, v := range recorded.fields {
			body[k] = v
		}
	}
	writeJSON(w, status, body)
}

// errorBody is the status and the detail (a message, or a list of
// validationItem) that err is answered with: writeError's, and a batch
// entry's refusal.
func errorBody(err error) (int, any) {
	var reqErr *requestError
	if errors.As(err, &reqErr) {
		return reqErr.status, reqErr.detail
	}
	var recorded *recordedError
	if errors.As(err, &recorded) {
		return http.StatusAccepted, "Your change was recorded, but the server's read models are behind, " +
			"so it does not show yet; read it again in a moment. Do not repeat the request."
	}
	var textErr *bodyTextError
	if errors.As(err, &textErr) {
		return http.StatusUnprocessableEntity, textErr.items
	}
	var domErr *domain.Error
	if errors.As(err, &domErr) && domErr.Code == domain.ErrInvalid && len(domErr.Fields) > 0 {
		items := make([]validationItem, len(domErr.Fields))
		for i, f := range domErr.Fields {
			typ := f.Type
			if typ == "" {
				typ = "value_error"
			}
			items[i] = validationItem{Loc: []any{"body", f.Field}, Msg: f.Message, Type: typ}
		}
		return http.StatusUnprocessableEntity, items
	}
	code := domain.ErrorCode(err)
	status := statusOf(code)
	if code == domain.ErrInvalid {
		return status, []validationItem{{Loc: []any{"body"}, Msg: domain.ErrorMessage(err), Type: "value_error"}}
	}
	return status, domain.ErrorMessage(err)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	if status == http.StatusNoContent {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// maxBody is the largest request body accepted.
const maxBody = 1 << 20

// decode reads a JSON object body into v: malformed JSON or a wrong type is
// a 400, a body over 1 MiB a 413, text no field may hold a 422.
func decode(r *http.Request, v any) error {
	data, err := readBody(r)
	if err != nil {
		return err
	}
	return decodeBytes(data, v)
}

// readBody reads the whole body (bounded by the middleware's 1 MiB limit)
// and checks its text (checkBodyText), for handlers that decode it more
// than once. A body that is not JSON is left for decoding to refuse with a
// 400.
func readBody(r *http.Request) ([]byte, error) {
	data, err := readOpaqueBody(r)
	if err != nil {
		return nil, err
	}
	if err := checkBodyText(data); err != nil {
		return nil, err
	}
	return normalizeTimes(data)
}

// bodyTimeFields are the body fields that hold times, on every endpoint.
var bodyTimeFields = []string{"start_time", "end_time", "recurrence_end_date", "expires_at"}

// normalizeTimes rewrites the times a body carries (bodyTimeFields, at its
// top level) in RFC 3339, the one form the decoders read, from any of the
// ISO 8601 forms the query parameters take (parseISOTime); a time in none
// of them is a 422 naming its field, all such fields at once, where the
// decoder would have called the whole body malformed JSON. Anything else
// (not an object, a time of another JSON type) is left to the decoder.
func normalizeTimes(data []byte) ([]byte, error) {
	present := false
	for _, f := range bodyTimeFields {
		if bytes.Contains(data, []byte(`"`+f+`"`)) {
			present = true
		}
	}
	if !present {
		return data, nil
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(data, &obj) != nil {
		return data, nil
	}
	var v domain.Validation
	changed := false
	var err error
	for _, f := range bodyTimeFields {
		raw, ok := obj[f]
		if !ok {
			continue
		}
		var text string
		if json.Unmarshal(raw, &text) != nil {
			continue // null, or a type the decoder refuses by name
		}
		t, ok := parseISOTime(text)
		var utc []byte
		if ok {
			// An offset can carry a year-9999 or year-0000 time out of the
			// years RFC 3339 writes; such a time would be written as null
			// (an API key's expires_at: none) if its error were dropped.
			utc, err = json.Marshal(t)
		}
		if !ok || err != nil {
			v.Add(f, "datetime_parsing", "%s must be an ISO 8601 time such as 2027-02-01T09:00:00Z, or a date such as 2027-02-01 (midnight UTC)", f)
			continue
		}
		obj[f] = utc
		changed = true
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if !changed {
		return data, nil
	}
	return json.Marshal(obj)
}

// parseISOTime reads the ISO 8601 forms the API takes: RFC 3339 (with a
// "T" or a space), a date and time without an offset (UTC), to the minute
// or second, and a date alone (midnight UTC).
func parseISOTime(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02T15:04:05.999999999",
		"2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// readOpaqueBody reads the whole body without checking its text: only for
// bodies no tenant writes (Stripe's signed webhooks, probe agents' results,
// whose target-sent text the commands make storable).
func readOpaqueBody(r *http.Request) ([]byte, error) {
	data, err := io.ReadAll(r.Body)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, &requestError{status: http.StatusRequestEntityTooLarge, detail: "request body is larger than 1 MiB"}
	}
	return data, err
}

func decodeBytes(data []byte, v any) error { return decodeFrom(bytes.NewReader(data), v) }

func decodeFrom(body io.Reader, v any) error {
	dec := json.NewDecoder(body)
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		var typeErr *json.UnmarshalTypeError
		var syntaxErr *json.SyntaxError
		switch {
		case errors.As(err, &tooBig):
			return &requestError{status: http.StatusRequestEntityTooLarge, detail: "request body is larger than 1 MiB"}
		case errors.Is(err, io.EOF):
			return badRequest("request body must be a JSON object")
		case errors.As(err, &typeErr):
			field := typeErr.Field
			if field == "" {
				return badRequest("request body must be a JSON object")
			}
			return badRequest("field %q must be of type %s", field, jsonType(typeErr.Type.String()))
		case errors.As(err, &syntaxErr):
			return badRequest("malformed JSON at byte %d: %v", syntaxErr.Offset, syntaxErr)
		default:
			return badRequest("malformed JSON: %v", err)
		}
	}
	if dec.More() {
		return badRequest("request body must hold a single JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &requestError{status: http.StatusRequestEntityTooLarge, detail: "request body is larger than 1 MiB"}
		}
		return badRequest("request body must hold a single JSON object")
	}
	return nil
}

func jsonType(goType string) string {
	switch {
	case strings.Contains(goType, "int"), strings.Contains(goType, "float"):
		return "number"
	case strings.Contains(goType, "bool"):
		return "boolean"
	case strings.HasPrefix(goType, "[]"):
		return "array"
	case strings.Contains(goType, "string"), strings.Contains(goType, "Time"):
		return "string"
	}
	return "object"
}

// writePaged writes the page of a whole list that the request's skip and
// limit select (paging's rules), for lists read whole: the same rules on
// every list endpoint, as the reference promises.
func writePaged[T any](w http.ResponseWriter, r *http.Request, list []T) error {
	skip, limit, err := paging(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, window(list, skip, limit))
	return nil
}

// paging reads skip and limit: limit defaults to 100, at most 1000.
func paging(r *http.Request) (skip, limit int, err error) {
	skip, err = intParam(r, "skip", 0, 0, 1<<31-1)
	if err != nil {
		return 0, 0, err
	}
	limit, err = intParam(r, "limit", 100, 1, 1000)
	return skip, limit, err
}

func intParam(r *http.Request, name string, def, min, max int) (int, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, badRequest("query parameter %s must be an integer", name)
	}
	if n < min || n > max {
		return 0, badRequest("query parameter %s must be between %d and %d", name, min, max)
	}
	return n, nil
}

func timeParam(r *http.Request, name string) (time.Time, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return time.Time{}, nil
	}
	if t, ok := parseISOTime(s); ok {
		return t, nil
	}
	return time.Time{}, badRequest("query parameter %s must be an ISO 8601 time such as 2026-01-02T15:04:05Z", name)
}

func pathID(r *http.Request, name string) (int64, error) {
	s := mux.Vars(r)[name]
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, domain.Errorf(domain.ErrNotFound, "not found")
	}
	return id, nil
}

func window[T any](items []T, skip, limit int) []T {
	if skip >= len(items) {
		return []T{}
	}
	items = items[skip:]
	if len(items) > limit {
		items = items[:limit]
	}
	return items
}

// patch runs a partial update: the body's JSON types are checked against
// shape (a 400 before anything is loaded), apply gets the raw object, and
// show answers with the updated resource once the read models have it.
func (s *Server) patch(w http.ResponseWriter, r *http.Request, p *principal, shape any,
	apply func(id int64, patch json.RawMessage) (domain.Position, error), show handlerFunc) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	if err := decodeBytes(body, shape); err != nil {
		return err
	}
	pos, err := apply(id, json.RawMessage(body))
	if err != nil {
		return err
	}
	if err := s.visible(r, pos, "id", id); err != nil {
		return err
	}
	return show(w, r, p)
}

// remove runs a delete and answers 204 once the read models have it.
func (s *Server) remove(w http.ResponseWriter, r *http.Request, del func(id int64) (domain.Position, error)) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	pos, err := del(id)
	if err != nil {
		return err
	}
	s.settle(r, pos)
	writeJSON(w, http.StatusNoContent, nil)
	return nil
}

// logPath is the request path as logs show it: a push monitor's token,
// which lets anyone report heartbeats, is left out.
func logPath(r *http.Request) string {
	if strings.HasPrefix(r.URL.Path, "/api/push/") {
		return "/api/push/[redacted]"
	}
	return r.URL.Path
}
