package web

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// NoStore is the Cache-Control of every answer that must not be cached:
// errors (a cached "not served yet" would keep a visitor waiting after
// their turn came), tokens, anything personal.
const NoStore = "no-store"

var (
	jsonContentType = []string{"application/json"}
	nosniff         = []string{"nosniff"}
	noStoreValue    = []string{NoStore}
	internalBody    = []byte(`{"error":"internal","code":"internal","message":"internal error"}` + "\n")
)

// cacheControlValues holds the header value of every Cache-Control string
// used so far (a handful: the few max-ages configured, and no-store).
var cacheControlValues sync.Map

func cacheControlValue(cc string) []string {
	if cc == NoStore {
		return noStoreValue
	}
	if v, ok := cacheControlValues.Load(cc); ok {
		return v.([]string)
	}
	v, _ := cacheControlValues.LoadOrStore(cc, []string{cc})
	return v.([]string)
}

// JSON is the one writer of JSON answers. It encodes v first, then writes
// the headers and the body, so that an encoding failure still becomes a
// clean 500 and never a half-written success.
func JSON(w http.ResponseWriter, status int, cacheControl string, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, cacheControl, body = http.StatusInternalServerError, NoStore, internalBody
	} else {
		body = append(body, '\n')
	}
	RawJSON(w, status, cacheControl, body)
}

// RawJSON writes an already encoded JSON body.
func RawJSON(w http.ResponseWriter, status int, cacheControl string, body []byte) {
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

// MaxAge formats a public Cache-Control for d, in whole seconds (no-store
// below one second).
func MaxAge(d time.Duration) string {
	seconds := int(d / time.Second)
	if seconds <= 0 {
		return NoStore
	}
	return "public, max-age=" + strconv.Itoa(seconds)
}
