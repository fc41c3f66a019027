package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Cache-Control values. Error answers (4xx, 5xx, and the 202 "not yet"
// answers) are always noStore: a cached "not served yet" would keep a
// visitor waiting after their turn came.
const noStore = "no-store"

var (
	jsonContentType = []string{"application/json"}
	nosniff         = []string{"nosniff"}
	noStoreValue    = []string{noStore}
)

// cacheControlValues holds the header value of every Cache-Control string
// used so far (a handful: the few max-ages configured, and no-store).
var cacheControlValues sync.Map

func cacheControlValue(cc string) []string {
	if cc == noStore {
		return noStoreValue
	}
	if v, ok := cacheControlValues.Load(cc); ok {
		return v.([]string)
	}
	v, _ := cacheControlValues.LoadOrStore(cc, []string{cc})
	return v.([]string)
}

// writeJSON encodes v first, then writes headers and body, so that an
// encoding failure can still become a clean 500.
func writeJSON(w http.ResponseWriter, status int, cacheControl string, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, cacheControl = http.StatusInternalServerError, noStore
		body = []byte(`{"error":"internal","code":"internal","message":"internal error"}`)
	}
	body = append(body, '\n')
	h := w.Header()
	// Constant values are shared slices: this runs on every poll, and a
	// Header.Set per value would allocate each time. (Header.Add appends to
	// a full slice, so it copies rather than writes into the shared one.)
	h["Content-Type"] = jsonContentType
	h["X-Content-Type-Options"] = nosniff
	h["Cache-Control"] = cacheControlValue(cacheControl)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// maxAge formats a public Cache-Control for d, in whole seconds (no-store
// below one second).
func maxAge(d time.Duration) string {
	seconds := int(d / time.Second)
	if seconds <= 0 {
		return noStore
	}
	return "public, max-age=" + strconv.Itoa(seconds)
}

// decodeJSON reads one JSON object from r's body into dst. Unknown fields
// are refused when strict (the admin API: a typo must not silently do
// nothing) and ignored otherwise (the public API: AWS clients may send more
// than we read). Every failure is a 400 that says what is wrong.
func decodeJSON(r *http.Request, dst any, strict bool) error {
	raw, err := readBody(r)
	if err != nil {
		return err
	}
	return unmarshalJSON(raw, dst, strict)
}

func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, invalid("request body is empty: want a JSON object")
	}
	raw, err := io.ReadAll(r.Body)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, invalid(fmt.Sprintf("request body too large: at most %d bytes", tooBig.Limit))
	}
	if err != nil {
		return nil, invalid("request body could not be read")
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, invalid("request body is empty: want a JSON object")
	}
	return raw, nil
}

func unmarshalJSON(raw []byte, dst any, strict bool) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(dst); err != nil {
		return invalid(describeJSONError(err))
	}
	if dec.More() {
		return invalid("malformed JSON: unexpected data after the object")
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
