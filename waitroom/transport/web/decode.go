package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
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
func UnmarshalJSON(raw []byte, dst any, strict bool) error {
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

func describeJSONError(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("malformed JSON at byte %d", syntax.Offset)
	case errors.As(err, &typ) && typ.Field != "":
		return fmt.Sprintf("%s: want %s, got %s", typ.Field, jsonKind(typ.Type.Kind().String()), typ.Value)
	case errors.As(err, &typ):
		return fmt.Sprintf("want a JSON object, got %s", typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "malformed JSON: unexpected end of input"
	}
	// Unknown fields and errors from a type's own UnmarshalJSON (durations)
	// are already phrased for the caller by encoding/json.
	return "malformed JSON: " + strings.TrimPrefix(err.Error(), "json: ")
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "an integer"
	case "float32", "float64":
		return "a number"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "an array"
	default:
		return "an object"
	}
}
