// Package static holds the CSS, JavaScript and images of the web pages,
// embedded in the binary. There is no build step: the files are served as
// they are written.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"strings"
)

// FS holds every static file.
//
//go:embed css js
var FS embed.FS

var files = FS

// Version is a short hash of every embedded file. Pages append it to asset
// URLs (?v=...) so browsers may cache assets for long and still pick up a
// new release at once.
var Version = hashFiles()

func hashFiles() string {
	h := sha256.New()
	_ = fs.WalkDir(files, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := files.ReadFile(path)
		h.Write([]byte(path))
		h.Write(b)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// Handler serves the files under prefix (for example "/static/"). Assets
// requested with the current ?v= are cacheable for a day; others for five
// minutes.
func Handler(prefix string) http.Handler {
	fileServer := http.StripPrefix(prefix, http.FileServerFS(files))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		if r.URL.Query().Get("v") == Version {
			w.Header().Set("Cache-Control", "public, max-age=86400, immutable")
		} else {
			w.Header().Set("Cache-Control", "public, max-age=300")
		}
		fileServer.ServeHTTP(w, r)
	})
}
