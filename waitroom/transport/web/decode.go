package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"unicode/utf8"
)

// DecodeJSON reads one JSON object from r's body into dst. Unknown fields
// are refused when strict (the admin API: a typo must not silently do
// nothing) and ignored otherwise (the public API: AWS clients may send more
// than we read). Every failure is a 400 that says what is wrong.
func DecodeJSON(r *http.Request, dst any, strict bool) error {
	raw, err := ReadBody(r)
	if err != nil {
		return err
	}
	return UnmarshalJSON(raw, dst, strict)
}

// ReadBody reads a request's whole body; an empty or oversized body is a
// 400 that says so.
func ReadBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, Invalid("request body is empty: want a JSON object")
	}
	raw, err := io.ReadAll(r.Body)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, Invalid(fmt.Sprintf("request body too large: at most %d bytes", tooBig.Limit))
	}
	if err != nil {
		return nil, Invalid("request body could not be read")
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, Invalid("request body is empty: want a JSON object")
	}
	return raw, nil
}

// UnmarshalJSON decodes one JSON object from raw into dst (see DecodeJSON).
// A body that is not UTF-8 or has a NUL character in a string (\u0000) is
// refused before it is decoded: encoding/json would quietly turn the first
// into U+FFFD and pass the second on to a store.
func UnmarshalJSON(raw []byte, dst any, strict bool) error {
	if !cleanJSON(raw) {
		return Invalid("malformed JSON: the body must be UTF-8, and strings must not hold NUL (\\u0000)")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(dst); err != nil {
		return Invalid(describeJSONError(err))
	}
	if dec.More() {
		return Invalid("malformed JSON: unexpected data after the object")
	}
	return nil
}

// cleanJSON reports whether raw is UTF-8 with no NUL byte and no \u0000
// escape. A backslash is legal only inside a string, where it escapes the
// next character, so the scan needs no notion of where strings are.
func cleanJSON(raw []byte) bool {
	if !utf8.Valid(raw) || bytes.IndexByte(raw, 0) >= 0 {
		return false
	}
	for i := bytes.IndexByte(raw, '\\'); i >= 0 && i+1 < len(raw); {
		if raw[i+1] == 'u' && bytes.HasPrefix(raw[i+2:], []byte("0000")) {
			return false
		}
		next := bytes.IndexByte(raw[i+2:], '\\')
		if next < 0 {
			break
		}
		i += 2 + next
	}
	return true
}

// describeJSONError says what is wrong in the caller's terms: the field by
// its JSON name and the kind of value it takes, never a Go type.
func describeJSONError(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("malformed JSON at byte %d", syntax.Offset)
	case errors.As(err, &typ) && typ.Field != "":
		return fmt.Sprintf("%s must be %s, not %s", typ.Field, jsonKind(typ.Type), jsonValue(typ.Value))
	case errors.As(err, &typ):
		return fmt.Sprintf("want %s, got %s", strings.Replace(jsonKind(typ.Type), "an object", "a JSON object", 1), jsonValue(typ.Value))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "malformed JSON: unexpected end of input"
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if strings.Contains(msg, "Go ") {
		// A type's own UnmarshalJSON passed on an encoding/json error,
		// which names Go types: say no more than that the value is wrong.
		return "malformed JSON: a value has the wrong type"
	}
	// Unknown fields and errors of our types' own UnmarshalJSON
	// (durations) are phrased for the caller already.
	return "malformed JSON: " + msg
}

// jsonKind names what a value of Go type t looks like in JSON.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number, 0 or more"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "an array of " + plural(t.Elem())
	case reflect.Map:
		return "an object of " + plural(t.Elem())
	}
	return "an object"
}

// plural names the elements of an array or object.
func plural(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "strings"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integers"
	case reflect.Float32, reflect.Float64:
		return "numbers"
	case reflect.Bool:
		return "true or false values"
	case reflect.Slice, reflect.Array:
		return "arrays"
	case reflect.Interface:
		return "values"
	}
	return "objects"
}

// jsonValue names the JSON value encoding/json found ("string", "number
// 1.5", "array"): with an article, for a sentence.
func jsonValue(v string) string {
	switch {
	case v == "array" || v == "object":
		return "an " + v
	case v == "bool":
		return "true or false"
	case v == "":
		return "another value"
	}
	return "a " + v
}
