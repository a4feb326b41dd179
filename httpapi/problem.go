package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"standing"
)

// statusOf maps each error code to its one HTTP status.
var statusOf = map[string]int{
	standing.EINVALID:      http.StatusUnprocessableEntity,
	standing.EMALFORMED:    http.StatusBadRequest,
	standing.ENOTFOUND:     http.StatusNotFound,
	standing.ECONFLICT:     http.StatusConflict,
	standing.EGONE:         http.StatusGone,
	standing.EFORBIDDEN:    http.StatusForbidden,
	standing.EUNAUTHORIZED: http.StatusUnauthorized,
	standing.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	standing.ERATELIMITED:  http.StatusTooManyRequests,
	standing.EINTERNAL:     http.StatusInternalServerError,
}

var titleOf = map[string]string{
	standing.EINVALID:      "The input is not valid",
	standing.EMALFORMED:    "The request body could not be read",
	standing.ENOTFOUND:     "Not found",
	standing.ECONFLICT:     "Conflict with the current state",
	standing.EGONE:         "Gone for good",
	standing.EFORBIDDEN:    "Not allowed",
	standing.EUNAUTHORIZED: "Authentication required",
	standing.ETOOLARGE:     "Too large",
	standing.ERATELIMITED:  "Too many requests",
	standing.EINTERNAL:     "Internal error",
}

// Problem is an RFC 9457 problem document with Standing's stable code and the offending
// field.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail"`
	Code     string `json:"code"`
	Field    string `json:"field,omitempty"`
	Instance string `json:"instance,omitempty"`
}

// ProblemFor returns the problem document for err. Internal errors show no internals.
func ProblemFor(err error, instance string) Problem {
	code := standing.ErrorCode(err)
	status, ok := statusOf[code]
	if !ok {
		code, status = standing.EINTERNAL, http.StatusInternalServerError
	}
	return Problem{
		Type:     "https://standing.dev/problems/" + code,
		Title:    titleOf[code],
		Status:   status,
		Detail:   standing.ErrorMessage(err),
		Code:     code,
		Field:    standing.ErrorField(err),
		Instance: instance,
	}
}

// writeError writes err as application/problem+json; internal errors are logged.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	p := ProblemFor(err, r.URL.Path)
	if p.Status >= 500 {
		log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if p.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="standing"`)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, err = w.Write(append(b, '\n'))
	return err
}

// Body size limits.
const (
	maxBody      = 1 << 20
	maxBatchBody = 16 << 20
)

// decode reads one JSON value from the body into v (whatever the Content-Type says, so
// that curl -d works): unknown fields, trailing data, wrong
// types and oversized bodies are errors that name the problem and the field.
func decode(w http.ResponseWriter, r *http.Request, v any, limit int64) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err, limit)
	}
	if dec.More() {
		return standing.Errorf(standing.EMALFORMED, "the body holds more than one JSON value")
	}
	if _, err := dec.Token(); err != io.EOF {
		return standing.Errorf(standing.EMALFORMED, "the body holds data after the JSON value")
	}
	return nil
}

func decodeError(err error, limit int64) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tooBig *http.MaxBytesError
	var se *standing.Error
	switch {
	case errors.Is(err, io.EOF):
		return standing.Errorf(standing.EMALFORMED, "the body is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return standing.Errorf(standing.EMALFORMED, "the body ends in the middle of the JSON value")
	case errors.As(err, &syntax):
		return standing.Errorf(standing.EMALFORMED, "the body is not valid JSON at byte %d: %s", syntax.Offset, strings.TrimPrefix(syntax.Error(), "json: "))
	case errors.As(err, &typ):
		field := jsonPath(typ.Field)
		if field == "" {
			return standing.Errorf(standing.EMALFORMED, "the body must be a JSON object, not %s", typ.Value)
		}
		return standing.FieldErrorf(standing.EINVALID, field, "%s must be %s, not %s", field, jsonType(typ.Type.String()), typ.Value)
	case errors.As(err, &tooBig):
		return standing.Errorf(standing.ETOOLARGE, "the body is larger than %d bytes", limit)
	case errors.As(err, &se):
		return se
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return standing.FieldErrorf(standing.EINVALID, field, "unknown field %q", field)
	case strings.Contains(err.Error(), "parsing time"):
		return standing.Errorf(standing.EINVALID, "a time is not in RFC 3339 form (2026-11-23T15:04:05Z): %s", strings.TrimPrefix(err.Error(), "parsing time "))
	}
	return standing.Errorf(standing.EMALFORMED, "the body could not be read: %s", strings.TrimPrefix(err.Error(), "json: "))
}

func jsonType(goType string) string {
	switch {
	case goType == "string" || strings.HasSuffix(goType, "Role") || strings.HasSuffix(goType, "Lifecycle") || strings.HasSuffix(goType, "Source"):
		return "a string"
	case strings.HasPrefix(goType, "int") || strings.HasPrefix(goType, "uint") || strings.HasPrefix(goType, "float"):
		return "a number"
	case goType == "bool":
		return "true or false"
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	case strings.HasPrefix(goType, "map") || strings.Contains(goType, "."):
		return "an object"
	}
	return fmt.Sprintf("of type %s", goType)
}

// jsonPath drops the Go names of embedded structs from a decoder's field path
// ("NewAccount.email" is "email" to the client).
func jsonPath(p string) string {
	var keep []string
	for _, part := range strings.Split(p, ".") {
		if part != "" && !(part[0] >= 'A' && part[0] <= 'Z') {
			keep = append(keep, part)
		}
	}
	return strings.Join(keep, ".")
}
