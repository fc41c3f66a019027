package middleware

import (
	"bytes"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"
)

// CleanInput refuses, with 400 before any handler runs, a request whose
// path, query string or form body holds a NUL byte or bytes that are not
// UTF-8 once percent-decoded: no parameter can carry either into a store
// (PostgreSQL refuses both in text, as an error that would otherwise be a
// 500) or a page. JSON bodies are checked by the JSON decoder
// (web.DecodeJSON), which sees the strings after their \u escapes.
//
// It runs after Limits: a form body it reads is already bounded, and is
// handed on unchanged.
func CleanInput(onError ErrorWriter) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if where := uncleanPart(r); where != "" {
				onError(w, r, &Error{Status: http.StatusBadRequest, Code: "invalid_argument",
					Message: "the " + where + " holds a NUL byte or bytes that are not UTF-8"})
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// uncleanPart names the first part of r that is not clean text, "" when
// all are.
func uncleanPart(r *http.Request) string {
	switch {
	case !CleanText(r.URL.Path):
		return "path"
	case !CleanEscaped(r.URL.RawQuery):
		return "query string"
	case !cleanForm(r):
		return "form body"
	}
	return ""
}

// CleanText reports whether s is UTF-8 without a NUL byte.
func CleanText(s string) bool {
	return strings.IndexByte(s, 0) < 0 && utf8.ValidString(s)
}

// CleanEscaped reports whether the URL-encoded s (a query string or a form
// body) decodes to clean text. '&', '=' and '+' are ASCII, so checking the
// whole decoded string checks every name and value in it. A malformed
// escape ("%zz") is kept as it is, as url.ParseQuery drops that pair: it
// cannot smuggle anything through.
func CleanEscaped(s string) bool {
	if strings.IndexByte(s, '%') < 0 {
		return CleanText(s)
	}
	decoded := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			c = unhex(s[i+1])<<4 | unhex(s[i+2])
			i += 2
		}
		decoded = append(decoded, c)
	}
	return bytes.IndexByte(decoded, 0) < 0 && utf8.Valid(decoded)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// cleanForm reads a URL-encoded form body, checks it and puts it back for
// the handler. A body that cannot be read is handed on as its error, for
// the handler to answer as it would have.
func cleanForm(r *http.Request) bool {
	if r.Body == nil || r.Body == http.NoBody {
		return true
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/x-www-form-urlencoded" {
		return true
	}
	raw, err := io.ReadAll(r.Body)
	r.Body.Close()
	r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(raw), errorReader{err}))
	return err != nil || CleanEscaped(string(raw))
}

// errorReader returns err, or io.EOF when err is nil.
type errorReader struct{ err error }

func (e errorReader) Read([]byte) (int, error) {
	if e.err == nil {
		return 0, io.EOF
	}
	return 0, e.err
}
