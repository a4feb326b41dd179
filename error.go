package standing

import (
	"errors"
	"fmt"
	"net/http"
)

// Error codes. Each maps to one HTTP status, given by HTTPStatus.
const (
	EINVALID      = "invalid"                // the input is wrong; the message says how
	ENOTFOUND     = "not_found"              // missing, or not the caller's to see
	ECONFLICT     = "conflict"               // the state does not allow it (duplicate, already lifted)
	EGONE         = "gone"                   // it existed but can never come back (erased)
	EFORBIDDEN    = "forbidden"              // the caller may not do this
	EUNAUTHORIZED = "unauthorized"           // no or bad credentials
	ETOOLARGE     = "too_large"              // a body or file over its limit
	ERATELIMITED  = "rate_limited"           // slow down; the message says until when
	EMALFORMED    = "malformed"              // the body cannot be parsed at all
	EMEDIATYPE    = "unsupported_media_type" // the body is not of the type the route reads
	EMETHOD       = "method_not_allowed"     // the path has routes, for other methods
	EINTERNAL     = "internal"               // our fault; details are logged, never shown
)

// httpStatus is the one table from error code to HTTP status, for the API and the pages.
var httpStatus = map[string]int{
	EINVALID:      http.StatusUnprocessableEntity,
	EMALFORMED:    http.StatusBadRequest,
	EMEDIATYPE:    http.StatusUnsupportedMediaType,
	EMETHOD:       http.StatusMethodNotAllowed,
	ENOTFOUND:     http.StatusNotFound,
	ECONFLICT:     http.StatusConflict,
	EGONE:         http.StatusGone,
	EFORBIDDEN:    http.StatusForbidden,
	EUNAUTHORIZED: http.StatusUnauthorized,
	ETOOLARGE:     http.StatusRequestEntityTooLarge,
	ERATELIMITED:  http.StatusTooManyRequests,
	EINTERNAL:     http.StatusInternalServerError,
}

// HTTPStatus returns the HTTP status of an error code (one of the E* constants, as
// ErrorCode returns it): 500 for EINTERNAL and for any code it does not know.
func HTTPStatus(code string) int {
	if s, ok := httpStatus[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Error is the one error type of Standing's domain. Code is one of the E* constants,
// Field names the offending input where there is one, Message is safe to show.
type Error struct {
	Code    string
	Field   string
	Message string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("standing: %s: %s (%s)", e.Code, e.Message, e.Field)
	}
	return fmt.Sprintf("standing: %s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldErrorf returns an *Error that names the offending field.
func FieldErrorf(code, field, format string, args ...any) *Error {
	return &Error{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err: EINTERNAL for anything that is not an *Error.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of err safe to show: a generic one for internal errors.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "An internal error occurred; it has been logged."
}

// ErrorField returns the field an *Error names, or "".
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}
