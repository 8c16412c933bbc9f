package domain

import (
	"errors"
	"fmt"
)

// Error codes are the only failure vocabulary the rest of the system needs;
// the HTTP adapter maps each one to a status in a single place.
const (
	ErrInvalid      = "invalid"      // the request is well-formed but breaks a rule
	ErrNotFound     = "not_found"    // the thing does not exist, or belongs to another account
	ErrConflict     = "conflict"     // a concurrent change or a uniqueness clash
	ErrForbidden    = "forbidden"    // authenticated, but not allowed
	ErrUnauthorized = "unauthorized" // no valid credentials
	ErrLimit        = "limit"        // a plan limit stops the change
	ErrNotEnabled   = "not_enabled"  // the operator has not configured this feature on this server
	ErrUpstream     = "upstream"     // a service this one depends on (the payment provider) failed
	ErrInternal     = "internal"     // anything unexpected; details stay in the logs
)

// Error is a domain failure with a code and a message a person can act on.
type Error struct {
	Code    string
	Message string
	// Fields holds per-field validation failures, keyed by the JSON field
	// name, when Code is ErrInvalid.
	Fields []FieldError
}

// FieldError names one field that failed validation and why.
type FieldError struct {
	Field   string
	Message string
	Type    string
}

func (e *Error) Error() string {
	if len(e.Fields) > 0 {
		return fmt.Sprintf("%s: %s (%s: %s)", e.Code, e.Message, e.Fields[0].Field, e.Fields[0].Message)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf builds an *Error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid builds a validation error naming one field.
func Invalid(field, typ, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	return &Error{Code: ErrInvalid, Message: msg, Fields: []FieldError{{Field: field, Message: msg, Type: typ}}}
}

// ErrorCode returns the code of err, ErrInternal for foreign errors and ""
// for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return ErrInternal
}

// ErrorMessage returns the human message of err; foreign errors get a generic
// message so internals never leak to clients.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// Validation collects field errors so a request reports every problem at once.
type Validation struct{ fields []FieldError }

// Add records a failure for field.
func (v *Validation) Add(field, typ, format string, args ...any) {
	v.fields = append(v.fields, FieldError{Field: field, Message: fmt.Sprintf(format, args...), Type: typ})
}

// Join adds the fields an ErrInvalid error names that have not failed
// here yet (other errors add nothing): a request's refusal names every
// failing field once.
func (v *Validation) Join(err error) {
	var e *Error
	if !errors.As(err, &e) || e.Code != ErrInvalid {
		return
	}
	for _, f := range e.Fields {
		if !v.has(f.Field) {
			v.fields = append(v.fields, f)
		}
	}
}

// has reports whether field already failed.
func (v *Validation) has(field string) bool {
	for _, f := range v.fields {
		if f.Field == field {
			return true
		}
	}
	return false
}

// Err returns nil when nothing failed, otherwise an ErrInvalid *Error.
func (v *Validation) Err() error {
	if len(v.fields) == 0 {
		return nil
	}
	return &Error{Code: ErrInvalid, Message: v.fields[0].Message, Fields: v.fields}
}
