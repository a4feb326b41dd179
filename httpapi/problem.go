package httpapi

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"time"

	"standing"
)

// titleOf is the problem title of each error code; standing.HTTPStatus gives its status.
var titleOf = map[string]string{
	standing.EINVALID:      "The input is not valid",
	standing.EMALFORMED:    "The request body could not be read",
	standing.EMEDIATYPE:    "Unsupported media type",
	standing.EMETHOD:       "Method not allowed",
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
	code, detail := standing.ErrorCode(err), standing.ErrorMessage(err)
	if _, known := titleOf[code]; !known {
		code, detail = standing.EINTERNAL, standing.ErrorMessage(errors.New(code))
	}
	return Problem{
		Type:     "https://standing.dev/problems/" + code,
		Title:    titleOf[code],
		Status:   standing.HTTPStatus(code),
		Detail:   detail,
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
	b, err := readBody(w, r, limit)
	if err != nil {
		return err
	}
	return decodeBytes(b, v, limit, "body")
}

// decodeOptional is decode for a body that may be left out: an empty body, also an empty
// chunked one (no Content-Length), leaves v as it is, at its defaults.
func decodeOptional(w http.ResponseWriter, r *http.Request, v any, limit int64) error {
	b, err := readBody(w, r, limit)
	if err != nil || len(bytes.TrimSpace(b)) == 0 {
		return err
	}
	return decodeBytes(b, v, limit, "body")
}

// prefixField returns err with its field under prefix ("events[3]." + "ip"); an error
// that names no field names the prefix itself ("events[3]").
func prefixField(err error, prefix string) error {
	field := prefix + standing.ErrorField(err)
	if standing.ErrorField(err) == "" {
		field = strings.TrimSuffix(prefix, ".")
	}
	return standing.FieldErrorf(standing.ErrorCode(err), field, "%s", standing.ErrorMessage(err))
}

// readBody reads the whole body, refusing one over limit bytes. The JSON decoder holds a
// value whole before decoding it anyway; having the bytes lets an error be traced to its
// field.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	buf := bytes.NewBuffer(make([]byte, 0, min(max(r.ContentLength, 0), limit)+bytes.MinRead))
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, limit)); err != nil {
		return nil, decodeError(err, limit)
	}
	return buf.Bytes(), nil
}

// decodeBytes decodes the one JSON value of b into v strictly; what names b in errors
// ("body", "item").
func decodeBytes(b []byte, v any, limit int64, what string) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if isTimeError(err) {
			if field := badTimeField(b, reflect.TypeOf(v)); field != "" {
				return standing.FieldErrorf(standing.EINVALID, field, "%s must be an RFC 3339 time, like 2026-11-23T15:04:05Z", field)
			}
		}
		return decodeError(err, limit)
	}
	if dec.More() {
		return standing.Errorf(standing.EMALFORMED, "the %s holds more than one JSON value", what)
	}
	if _, err := dec.Token(); err != io.EOF {
		return standing.Errorf(standing.EMALFORMED, "the %s holds data after the JSON value", what)
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
		return standing.FieldErrorf(standing.EINVALID, field, "%s must be %s, not %s", field, jsonType(typ.Type), typ.Value)
	case errors.As(err, &tooBig):
		return standing.Errorf(standing.ETOOLARGE, "the body is larger than %d bytes", limit)
	case errors.As(err, &se):
		return se
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return standing.FieldErrorf(standing.EINVALID, field, "unknown field %q", field)
	case isTimeError(err):
		return standing.Errorf(standing.EINVALID, "a time is not in RFC 3339 form (2026-11-23T15:04:05Z): %s", strings.TrimPrefix(err.Error(), "parsing time "))
	}
	return standing.Errorf(standing.EMALFORMED, "the body could not be read: %s", strings.TrimPrefix(err.Error(), "json: "))
}

var (
	timeType            = reflect.TypeFor[time.Time]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// jsonType says in JSON's words what a Go type takes: a string, an integer, a number,
// true or false, an array, an object, or an RFC 3339 time.
func jsonType(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == timeType {
		return "an RFC 3339 time"
	}
	if reflect.PointerTo(t).Implements(textUnmarshalerType) {
		return "a string" // durations ("7d"), and other types written as text
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return "a string" // []byte is base64 text
		}
		return "an array"
	case reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "a JSON value"
}

// isTimeError reports whether err is time.Time's refusal of a JSON value.
func isTimeError(err error) bool {
	var pe *time.ParseError
	return errors.As(err, &pe) || strings.HasPrefix(err.Error(), "Time.UnmarshalJSON") || strings.Contains(err.Error(), "parsing time")
}

// badTimeField finds the first time in the JSON body b, decoded into a value of type t,
// that is not an RFC 3339 string, and returns its path ("events[2].time"); "" if none.
// The decoder says that a time was wrong but not where.
func badTimeField(b []byte, t reflect.Type) string {
	var v any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if dec.Decode(&v) != nil {
		return ""
	}
	path, _ := findBadTime(v, t, "")
	return path
}

func findBadTime(v any, t reflect.Type, path string) (string, bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if v == nil {
		return "", false // null leaves a time zero
	}
	if t == timeType {
		s, ok := v.(string)
		if !ok {
			return path, true
		}
		if _, err := time.Parse(time.RFC3339, s); err != nil {
			return path, true
		}
		return "", false
	}
	join := func(name string) string {
		if path == "" {
			return name
		}
		return path + "." + name
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return "", false
		}
		for _, f := range jsonFields(t) {
			for k, fv := range m {
				if k == f.name || strings.EqualFold(k, f.name) {
					if p, bad := findBadTime(fv, f.typ, join(k)); bad {
						return p, true
					}
				}
			}
		}
	case reflect.Slice, reflect.Array:
		list, ok := v.([]any)
		if !ok {
			return "", false
		}
		for i, e := range list {
			if p, bad := findBadTime(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); bad {
				return p, true
			}
		}
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			return "", false
		}
		for k, e := range m {
			if p, bad := findBadTime(e, t.Elem(), join(k)); bad {
				return p, true
			}
		}
	}
	return "", false
}

type jsonField struct {
	name string
	typ  reflect.Type
}

// jsonFields lists the JSON names of a struct's fields, with those of embedded structs
// without a name of their own, as encoding/json sees them.
func jsonFields(t reflect.Type) []jsonField {
	var out []jsonField
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if f.Anonymous && name == "" && ft.Kind() == reflect.Struct {
			out = append(out, jsonFields(ft)...)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, jsonField{name, f.Type})
	}
	return out
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
